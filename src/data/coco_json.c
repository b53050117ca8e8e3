/* coco_json.c: a top-level JSON scanner over a file held in memory, with
 * cJSON parsing one element at a time (see coco_json.h for why). */
#include "data/coco_json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Reads a stream of unknown size (a pipe) to the end. */
static int read_stream(FILE *f, const char *path, char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	char *b = malloc(cap + 1);

	if (b == NULL)
		return det_error_set(DET_ENOMEM, "out of memory reading %s", path);
	while ((got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *q = realloc(b, 2 * cap + 1);

			if (q == NULL) {
				free(b);
				return det_error_set(DET_ENOMEM, "out of memory reading %s", path);
			}
			b = q;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(b);
		return det_error_set(DET_EIO, "can't read %s (%s)", path, strerror(errno));
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int json_file_read(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *b;
	long n;
	int rc;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return det_error_set(DET_EIO, "can't open %s (%s)", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		clearerr(f);
		rc = read_stream(f, path, buf, len); /* a pipe */
		if (f != stdin)
			fclose(f);
		return rc;
	}
	b = malloc((size_t)n + 1);
	if (b == NULL) {
		if (f != stdin)
			fclose(f);
		return det_error_set(DET_ENOMEM, "out of memory reading %s (%ld bytes)", path, n);
	}
	if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
		rc = det_error_set(DET_EIO, "can't read %s (%s)", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		free(b);
		return rc;
	}
	if (f != stdin)
		fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
}

void json_linecol(const char *buf, size_t len, size_t off, int *line, int *col)
{
	int l = 1;
	size_t last = 0;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++)
		if (buf[i] == '\n') {
			l++;
			last = i + 1;
		}
	*line = l;
	*col = (int)(off - last) + 1;
}

void json_where(char *out, size_t outsz, const char *name, const char *buf, size_t len, size_t off)
{
	int line, col;

	json_linecol(buf, len, off, &line, &col);
	snprintf(out, outsz, "%s:%d:%d: ", name, line, col);
}

static int json_syntax(const char *name, const char *buf, size_t len, size_t off, const char *what)
{
	char where[600];

	json_where(where, sizeof where, name, buf, len, off);
	return det_error_set(DET_EFORMAT, "%sJSON syntax error: %s", where, what);
}

static size_t skip_ws(const char *buf, size_t len, size_t p)
{
	while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
		p++;
	return p;
}

/* Skips a string starting at buf[p] == '"'; returns the offset after the
 * closing quote or (size_t)-1 when it is unterminated. */
static size_t skip_string(const char *buf, size_t len, size_t p)
{
	for (p++; p < len; p++) {
		if (buf[p] == '\\')
			p++;
		else if (buf[p] == '"')
			return p + 1;
	}
	return (size_t)-1;
}

/* Skips one value starting at p (no leading space); stores its end in *end.
 * Nesting is only counted here: cJSON checks each value's inside. */
static int skip_value(const char *name, const char *buf, size_t len, size_t p, size_t *end)
{
	size_t start = p;
	int depth = 0;

	if (p >= len)
		return json_syntax(name, buf, len, p, "unexpected end of file, expected a value");
	if (buf[p] == '"') {
		size_t e = skip_string(buf, len, p);

		if (e == (size_t)-1)
			return json_syntax(name, buf, len, start, "unterminated string");
		*end = e;
		return 0;
	}
	if (buf[p] == '{' || buf[p] == '[') {
		for (; p < len; p++) {
			char c = buf[p];

			if (c == '"') {
				size_t e = skip_string(buf, len, p);

				if (e == (size_t)-1)
					return json_syntax(name, buf, len, p, "unterminated string");
				p = e - 1;
			} else if (c == '{' || c == '[') {
				depth++;
			} else if (c == '}' || c == ']') {
				if (--depth == 0) {
					*end = p + 1;
					return 0;
				}
			}
		}
		return json_syntax(name, buf, len, start,
			buf[start] == '{' ? "unterminated object (missing '}')" : "unterminated array (missing ']')");
	}
	while (p < len && !strchr(",]} \t\r\n", buf[p]))
		p++;
	if (p == start)
		return json_syntax(name, buf, len, start, "expected a value");
	*end = p;
	return 0;
}

int json_root_span(const char *name, const char *buf, size_t len, struct json_span *root)
{
	size_t p = 0, end;
	int rc;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p = 3; /* a UTF-8 byte order mark */
	p = skip_ws(buf, len, p);
	if (p >= len)
		return json_syntax(name, buf, len, p, "the file is empty, expected a JSON value");
	if ((rc = skip_value(name, buf, len, p, &end)) < 0)
		return rc;
	root->off = p;
	root->len = end - p;
	p = skip_ws(buf, len, end);
	if (p < len)
		return json_syntax(name, buf, len, p, "unexpected characters after the end of the JSON value");
	return 0;
}

int json_object_walk(const char *name, const char *buf, size_t len, json_member_fn fn, void *ctx)
{
	struct json_span root;
	size_t p, end;
	int rc;

	if ((rc = json_root_span(name, buf, len, &root)) < 0)
		return rc;
	p = root.off;
	if (buf[p] != '{')
		return json_syntax(name, buf, len, p, "expected a JSON object ('{') at the top level");
	p = skip_ws(buf, len, p + 1);
	if (p < len && buf[p] == '}')
		return 0;
	for (;;) {
		size_t key, keyend;

		if (p >= len || buf[p] != '"')
			return json_syntax(name, buf, len, p, "expected a quoted key");
		key = p + 1;
		keyend = skip_string(buf, len, p);
		if (keyend == (size_t)-1)
			return json_syntax(name, buf, len, p, "unterminated string");
		p = skip_ws(buf, len, keyend);
		if (p >= len || buf[p] != ':')
			return json_syntax(name, buf, len, p, "expected ':' after a key");
		p = skip_ws(buf, len, p + 1);
		if ((rc = skip_value(name, buf, len, p, &end)) < 0)
			return rc;
		rc = fn(ctx, buf + key, keyend - 1 - key, (struct json_span){ p, end - p });
		if (rc != 0)
			return rc;
		p = skip_ws(buf, len, end);
		if (p < len && buf[p] == ',') {
			p = skip_ws(buf, len, p + 1);
			continue;
		}
		if (p < len && buf[p] == '}')
			return 0;
		return json_syntax(name, buf, len, p, "expected ',' or '}' after an object member");
	}
}

int json_array_split(const char *name, const char *buf, size_t len, struct json_span array,
	const char *what, struct json_span **items, size_t *n)
{
	size_t p = array.off, stop = array.off + array.len, cap = 0, cnt = 0, end;
	struct json_span *v = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	if (buf[p] != '[') {
		char where[600];

		json_where(where, sizeof where, name, buf, len, p);
		return det_error_set(DET_EFORMAT, "%s\"%s\" must be an array", where, what);
	}
	p = skip_ws(buf, stop, p + 1);
	if (p < stop && buf[p] == ']')
		return 0;
	for (;;) {
		if ((rc = skip_value(name, buf, stop, p, &end)) < 0) {
			free(v);
			return rc;
		}
		if (cnt == cap) {
			struct json_span *q;

			cap = cap ? 2 * cap : 1024;
			q = realloc(v, cap * sizeof *q);
			if (q == NULL) {
				free(v);
				return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
			}
			v = q;
		}
		v[cnt++] = (struct json_span){ p, end - p };
		p = skip_ws(buf, stop, end);
		if (p < stop && buf[p] == ',') {
			p = skip_ws(buf, stop, p + 1);
			continue;
		}
		if (p < stop && buf[p] == ']')
			break;
		free(v);
		return json_syntax(name, buf, len, p, "expected ',' or ']' after an array element");
	}
	*items = v;
	*n = cnt;
	return 0;
}

cJSON *json_span_parse(const char *buf, struct json_span sp, size_t *err_off)
{
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(buf + sp.off, sp.len, &end, 0);

	if (v == NULL) {
		*err_off = end ? (size_t)(end - buf) : sp.off;
		return NULL;
	}
	if ((size_t)(end - (buf + sp.off)) < sp.len) {
		/* cJSON stopped early: something after the value in this span */
		cJSON_Delete(v);
		*err_off = (size_t)(end - buf);
		return NULL;
	}
	return v;
}

int json_get_number(const cJSON *obj, const char *key, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsBool(it)) {
		*v = cJSON_IsTrue(it) ? 1 : 0;
		return 1;
	}
	if (!cJSON_IsNumber(it))
		return -1;
	*v = it->valuedouble;
	return 1;
}

int json_get_string(const cJSON *obj, const char *key, const char **v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it))
		return -1;
	*v = it->valuestring;
	return 1;
}

int json_get_bbox(const cJSON *obj, const char *key, double v[4])
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key), *e;
	int k = 0;

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 4)
		return -1;
	cJSON_ArrayForEach(e, it) {
		if (!cJSON_IsNumber(e))
			return -1;
		v[k++] = e->valuedouble;
	}
	return 1;
}

static uint64_t id_hash(int64_t k)
{
	uint64_t x = (uint64_t)k;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

int id_map_init(struct id_map *m, size_t expected)
{
	size_t cap = 16;

	while (cap < 2 * expected + 1)
		cap *= 2;
	m->mask = cap - 1;
	m->keys = malloc(cap * sizeof *m->keys);
	m->vals = malloc(cap * sizeof *m->vals);
	if (m->keys == NULL || m->vals == NULL) {
		id_map_fini(m);
		return det_error_set(DET_ENOMEM, "out of memory for an id table of %zu entries", expected);
	}
	for (size_t i = 0; i < cap; i++)
		m->vals[i] = -1;
	return 0;
}

void id_map_fini(struct id_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
}

int id_map_put(struct id_map *m, int64_t key, long val)
{
	size_t i = (size_t)id_hash(key) & m->mask;

	while (m->vals[i] != -1) {
		if (m->keys[i] == key)
			return 1;
		i = (i + 1) & m->mask;
	}
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

long id_map_get(const struct id_map *m, int64_t key)
{
	size_t i = (size_t)id_hash(key) & m->mask;

	while (m->vals[i] != -1) {
		if (m->keys[i] == key)
			return m->vals[i];
		i = (i + 1) & m->mask;
	}
	return -1;
}
