/* yolo.c: the YOLO txt reader. Lists the images (a folder, sorted by name,
 * or a .txt list), reads each image's size from its header with stbi_info,
 * and parses the label file of the same stem line by line; class names come
 * from a names file or a data YAML read with libyaml's document API. */
#include "data/yolo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <yaml.h>

#include "core/error.h"
#include "core/file.h"

#define MAX_DISCOVERED 1000

/* Every problem goes through dataset_problem with this reader's warn hook. */
#define problem(ds, opt, ...) \
	dataset_problem((ds), (opt) ? (opt)->warn : NULL, (opt) ? (opt)->warn_ctx : NULL, __VA_ARGS__)

static char *path_join(const char *a, const char *b)
{
	size_t la, lb;
	char *p;

	if (a == NULL || a[0] == '\0' || b[0] == '/')
		return strdup(b);
	la = strlen(a), lb = strlen(b);
	if ((p = malloc(la + lb + 2)) == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* The folder part of path ("." when none); a new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* ---- labels --------------------------------------------------------------- */

/* Ensures classes "0" .. "id" exist (discovery when no names were given). */
static int discover_class(struct dataset *ds, int id)
{
	char name[16];
	int rc;

	while (ds->nclasses <= id) {
		snprintf(name, sizeof name, "%d", ds->nclasses);
		if ((rc = dataset_class_add(ds, name, ds->nclasses)) < 0)
			return rc;
	}
	return 0;
}

/* One label line: tokens already parsed into v[0..n). Returns 0 or DET_ENOMEM. */
static int label_line(struct dataset *ds, const double *v, int n, const char *name,
	unsigned long line, int discover, const struct yolo_options *opt)
{
	const struct dataset_image *im = &ds->images[ds->nimages - 1];
	double nx0, ny0, nx1, ny1, W = im->width, H = im->height;
	struct dataset_box b;
	int rc;

	if (n != 5 && (n < 7 || n % 2 == 0)) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s:%lu: expected 5 numbers (class cx cy w h), got %d", name, line, n);
		return 0;
	}
	for (int k = 0; k < n; k++)
		if (isnan(v[k]) || isinf(v[k])) {
			ds->report.boxes_skipped++;
			problem(ds, opt, "%s:%lu: %s in the box, skipped", name, line,
				isnan(v[k]) ? "NaN" : "infinity");
			return 0;
		}
	if (v[0] != floor(v[0]) || v[0] < 0) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s:%lu: class id %g is not a whole number >= 0", name, line, v[0]);
		return 0;
	}
	if (discover && v[0] < MAX_DISCOVERED) {
		if ((rc = discover_class(ds, (int)v[0])) < 0)
			return rc;
	}
	if (v[0] >= ds->nclasses) {
		ds->report.boxes_skipped++;
		if (discover)
			problem(ds, opt, "%s:%lu: class id %g out of range (at most %d without a names file)",
				name, line, v[0], MAX_DISCOVERED - 1);
		else
			problem(ds, opt, "%s:%lu: class id %g out of range (%d names)", name, line, v[0],
				ds->nclasses);
		return 0;
	}
	if (n == 5) {
		if (!(v[3] > 0) || !(v[4] > 0)) {
			ds->report.boxes_skipped++;
			problem(ds, opt, "%s:%lu: zero or negative size (w %g, h %g)", name, line, v[3], v[4]);
			return 0;
		}
		nx0 = v[1] - v[3] / 2, ny0 = v[2] - v[4] / 2;
		nx1 = v[1] + v[3] / 2, ny1 = v[2] + v[4] / 2;
	} else {
		nx0 = nx1 = v[1], ny0 = ny1 = v[2];
		for (int k = 3; k < n; k += 2) {
			nx0 = fmin(nx0, v[k]), nx1 = fmax(nx1, v[k]);
			ny0 = fmin(ny0, v[k + 1]), ny1 = fmax(ny1, v[k + 1]);
		}
		if (!(nx1 > nx0) || !(ny1 > ny0)) {
			ds->report.boxes_skipped++;
			problem(ds, opt, "%s:%lu: the polygon has zero area", name, line);
			return 0;
		}
	}
	/* a tolerance of 1e-6 keeps rounding in written labels from counting as clipping */
	if (nx0 < -1e-6 || ny0 < -1e-6 || nx1 > 1 + 1e-6 || ny1 > 1 + 1e-6) {
		if (nx1 <= 0 || ny1 <= 0 || nx0 >= 1 || ny0 >= 1) {
			ds->report.boxes_skipped++;
			problem(ds, opt, "%s:%lu: box lies outside the image (x %g..%g, y %g..%g)", name,
				line, nx0, nx1, ny0, ny1);
			return 0;
		}
		ds->report.boxes_clipped++;
		problem(ds, opt, "%s:%lu: box crosses the image border (x %g..%g, y %g..%g), clipped",
			name, line, nx0, nx1, ny0, ny1);
	}
	nx0 = fmax(nx0, 0), ny0 = fmax(ny0, 0), nx1 = fmin(nx1, 1), ny1 = fmin(ny1, 1);
	memset(&b, 0, sizeof b);
	b.x0 = (float)(nx0 * W), b.y0 = (float)(ny0 * H);
	b.x1 = (float)(nx1 * W), b.y1 = (float)(ny1 * H);
	if (!(b.x1 > b.x0) || !(b.y1 > b.y0)) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s:%lu: box is empty at %gx%g pixels", name, line, W, H);
		return 0;
	}
	b.area = (b.x1 - b.x0) * (b.y1 - b.y0);
	b.cls = (int32_t)v[0];
	b.id = (int64_t)ds->nboxes;
	return dataset_box_add(ds, &b);
}

#define MAX_TOKENS 4096

int yolo_labels_parse(struct dataset *ds, const char *text, size_t len, const char *name,
	int discover, const struct yolo_options *opt)
{
	double *v = malloc(MAX_TOKENS * sizeof *v);
	char tok[64];
	size_t i = 0;
	unsigned long line = 0;
	int rc = 0;

	DET_ASSERT(ds->nimages > 0, "yolo_labels_parse before an image was added");
	if (v == NULL)
		return det_error_set(DET_ENOMEM, "out of memory parsing %s", name);
	while (i < len && rc == 0) {
		int n = 0, bad = 0;

		line++;
		while (i < len && text[i] != '\n') {
			size_t t = 0;
			char *end;

			if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
				i++;
				continue;
			}
			while (i < len && text[i] != '\n' && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') {
				if (t < sizeof tok - 1)
					tok[t++] = text[i];
				i++;
			}
			tok[t] = '\0';
			if (bad)
				continue;
			if (t == sizeof tok - 1) {
				bad = 1;
				ds->report.boxes_skipped++;
				problem(ds, opt, "%s:%lu: a number longer than %zu characters", name, line,
					sizeof tok - 2);
				continue;
			}
			if (n == MAX_TOKENS) {
				bad = 1;
				ds->report.boxes_skipped++;
				problem(ds, opt, "%s:%lu: more than %d numbers on one line", name, line, MAX_TOKENS);
				continue;
			}
			v[n] = strtod(tok, &end);
			if (*end != '\0' || end == tok) {
				bad = 1;
				ds->report.boxes_skipped++;
				problem(ds, opt, "%s:%lu: expected a number, got '%.40s'", name, line, tok);
				continue;
			}
			n++;
		}
		if (i < len)
			i++; /* the newline */
		if (!bad && n > 0)
			rc = label_line(ds, v, n, name, line, discover, opt);
	}
	free(v);
	return rc;
}

/* ---- names files and data YAML ------------------------------------------- */

static int names_add(struct yolo_data *d, const char *s, size_t n)
{
	char **p = realloc(d->names, (size_t)(d->nnames + 1) * sizeof *p);

	if (p == NULL)
		return DET_ENOMEM;
	d->names = p;
	if ((p[d->nnames] = strndup(s, n)) == NULL)
		return DET_ENOMEM;
	d->nnames++;
	return 0;
}

void yolo_data_fini(struct yolo_data *d)
{
	for (int i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	for (int k = 0; k < YOLO_NSPLITS; k++) {
		for (int i = 0; i < d->nsplits[k]; i++)
			free(d->splits[k][i]);
		free(d->splits[k]);
	}
	free(d->path);
	memset(d, 0, sizeof *d);
}

int yolo_names_parse(const char *text, size_t len, const char *name, struct yolo_data *out)
{
	size_t i = 0;

	while (i < len) {
		size_t s = i, e;

		while (i < len && text[i] != '\n')
			i++;
		e = i;
		while (s < e && isspace((unsigned char)text[s]))
			s++;
		while (e > s && isspace((unsigned char)text[e - 1]))
			e--;
		if (e > s && names_add(out, text + s, e - s) < 0)
			return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		i++;
	}
	if (out->nnames == 0)
		return det_error_set(DET_EFORMAT, "%s: no class names (expected one name per line)", name);
	return 0;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Fills d->names from a `names:` node: a sequence, or a mapping {0: a, 1: b}. */
static int yaml_names(yaml_document_t *doc, yaml_node_t *node, const char *name, struct yolo_data *d)
{
	unsigned long line = (unsigned long)node->start_mark.line + 1;

	if (node->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(doc, *it);
			const char *s = scalar(n);

			if (s == NULL)
				return det_error_set(DET_EFORMAT, "%s:%lu: names: expected a list of strings",
					name, n ? (unsigned long)n->start_mark.line + 1 : line);
			if (names_add(d, s, strlen(s)) < 0)
				return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		}
	} else if (node->type == YAML_MAPPING_NODE) {
		long count = node->data.mapping.pairs.top - node->data.mapping.pairs.start;

		if ((d->names = calloc((size_t)(count ? count : 1), sizeof *d->names)) == NULL)
			return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		d->nnames = (int)count;
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
		     p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			yaml_node_t *v = yaml_document_get_node(doc, p->value);
			const char *ks = scalar(k), *vs = scalar(v);
			unsigned long kl = k ? (unsigned long)k->start_mark.line + 1 : line;
			char *end;
			long idx;

			if (ks == NULL || vs == NULL)
				return det_error_set(DET_EFORMAT, "%s:%lu: names: expected 'index: name' pairs",
					name, kl);
			errno = 0;
			idx = strtol(ks, &end, 10);
			if (*ks == '\0' || *end != '\0' || errno || idx < 0 || idx >= count)
				return det_error_set(DET_EFORMAT,
					"%s:%lu: names: key '%.40s' is not a class index from 0 to %ld",
					name, kl, ks, count - 1);
			if (d->names[idx])
				return det_error_set(DET_EFORMAT, "%s:%lu: names: index %ld given twice",
					name, kl, idx);
			if ((d->names[idx] = strdup(vs)) == NULL)
				return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		}
	} else {
		return det_error_set(DET_EFORMAT, "%s:%lu: names: expected a list or a {0: name} map",
			name, line);
	}
	if (d->nnames == 0)
		return det_error_set(DET_EFORMAT, "%s:%lu: names: is empty", name, line);
	return 0;
}

/* A path value from the YAML resolved against base (NULL: as written). */
static int yaml_path(const char *value, const char *base, char **out)
{
	while (value[0] == '.' && value[1] == '/')
		value += 2;
	free(*out);
	if (strcmp(value, ".") == 0 || value[0] == '\0')
		*out = strdup(base ? base : ".");
	else
		*out = base && value[0] != '/' ? path_join(base, value) : strdup(value);
	return *out ? 0 : DET_ENOMEM;
}

/* A split's value: one path, or a list of paths; each resolved against base. */
static int yaml_split(yaml_document_t *doc, yaml_node_t *v, const char *name, const char *base,
	struct yolo_data *out, int s)
{
	static const char *const keys[YOLO_NSPLITS] = { "train", "val", "test" };
	unsigned long line = (unsigned long)v->start_mark.line + 1;
	yaml_node_item_t *first = NULL;
	long n = 1;

	if (v->type == YAML_SEQUENCE_NODE) {
		first = v->data.sequence.items.start;
		n = v->data.sequence.items.top - first;
	} else if (v->type != YAML_SCALAR_NODE) {
		return det_error_set(DET_EFORMAT, "%s:%lu: %s: expected a path or a list of paths",
			name, line, keys[s]);
	}
	if ((out->splits[s] = calloc((size_t)(n ? n : 1), sizeof *out->splits[s])) == NULL)
		return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
	for (long i = 0; i < n; i++) {
		yaml_node_t *item = v->type == YAML_SCALAR_NODE ? v : yaml_document_get_node(doc, first[i]);
		const char *value = scalar(item);

		if (value == NULL || value[0] == '\0')
			return det_error_set(DET_EFORMAT, "%s:%lu: %s: expected a path or a list of paths",
				name, item ? (unsigned long)item->start_mark.line + 1 : line, keys[s]);
		if (yaml_path(value, base, &out->splits[s][i]) < 0)
			return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		out->nsplits[s] = (int)i + 1;
	}
	if (n == 0)
		return det_error_set(DET_EFORMAT, "%s:%lu: %s: the list is empty", name, line, keys[s]);
	return 0;
}

int yolo_data_parse(const char *text, size_t len, const char *name, const char *dir,
	struct yolo_data *out)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_t *split_nodes[YOLO_NSPLITS] = { NULL, NULL, NULL };
	const char *path_value = NULL;
	long nc = -1;
	unsigned long nc_line = 0;
	char *base = NULL;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!yaml_parser_initialize(&parser))
		return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = det_error_set(DET_EFORMAT, "%s:%lu:%lu: YAML error: %s%s%s", name,
			(unsigned long)parser.problem_mark.line + 1,
			(unsigned long)parser.problem_mark.column + 1,
			parser.problem ? parser.problem : "malformed",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		rc = det_error_set(DET_EFORMAT, "%s:%lu: expected a mapping with names: (and path:, train:, val:)",
			name, root ? (unsigned long)root->start_mark.line + 1 : 1UL);
		goto done;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top && rc == 0; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *key = scalar(k), *value = scalar(v);
		unsigned long vl = v ? (unsigned long)v->start_mark.line + 1 : 1;
		int split = -1;

		if (key == NULL || v == NULL)
			continue;
		if (strcmp(key, "names") == 0) {
			if (out->names) {
				rc = det_error_set(DET_EFORMAT, "%s:%lu: names: given twice", name, vl);
				break;
			}
			rc = yaml_names(&doc, v, name, out);
			continue;
		}
		if (strcmp(key, "nc") == 0) {
			char *end;

			nc = value ? strtol(value, &end, 10) : -1;
			if (value == NULL || *end != '\0' || nc < 1)
				rc = det_error_set(DET_EFORMAT, "%s:%lu: nc: expected a positive whole number",
					name, vl);
			nc_line = vl;
			continue;
		}
		if (strcmp(key, "path") == 0)
			split = 3;
		else if (strcmp(key, "train") == 0)
			split = 0;
		else if (strcmp(key, "val") == 0)
			split = 1;
		else if (strcmp(key, "test") == 0)
			split = 2;
		if (split < 0)
			continue;
		if (split == 3 && value == NULL) {
			rc = det_error_set(DET_EFORMAT, "%s:%lu: path: expected a folder", name, vl);
			break;
		}
		if (split == 3)
			path_value = value;
		else
			split_nodes[split] = v;
	}
	if (rc == 0 && out->names == NULL)
		rc = det_error_set(DET_EFORMAT, "%s: no names: key (expected a list of class names "
			"or a {0: name} map)", name);
	if (rc == 0 && nc >= 0 && nc != out->nnames)
		rc = det_error_set(DET_EFORMAT, "%s:%lu: nc is %ld but names has %d entries", name,
			nc_line, nc, out->nnames);
	if (rc == 0 && path_value) {
		rc = yaml_path(path_value, dir, &out->path);
		base = out->path;
	} else if (rc == 0 && dir) {
		base = (char *)dir;
	}
	for (int s = 0; s < YOLO_NSPLITS && rc == 0; s++)
		if (split_nodes[s])
			rc = yaml_split(&doc, split_nodes[s], name, base, out, s);
	if (rc == DET_ENOMEM)
		det_error_set(DET_ENOMEM, "out of memory reading %s", name);
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0)
		yolo_data_fini(out);
	return rc;
}

/* Reads a names file or a data YAML (by extension) into d. */
static int load_names(const char *path, struct yolo_data *d)
{
	char *buf, *dir;
	size_t len;
	size_t n = strlen(path);
	int rc = det_file_read(path, &buf, &len);

	if (rc == DET_ENOMEM)
		return det_error_set(rc, "out of memory reading %s", path);
	if (rc < 0)
		return det_error_set(rc, "%s: can't read (%s)", path, strerror(errno));
	if ((n > 5 && strcasecmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcasecmp(path + n - 4, ".yml") == 0)) {
		if ((dir = dir_of(path)) == NULL)
			rc = det_error_set(DET_ENOMEM, "out of memory reading %s", path);
		else
			rc = yolo_data_parse(buf, len, path, dir, d);
		free(dir);
	} else {
		memset(d, 0, sizeof *d);
		rc = yolo_names_parse(buf, len, path, d);
		if (rc < 0)
			yolo_data_fini(d);
	}
	free(buf);
	return rc;
}

/* ---- images ---------------------------------------------------------------- */

static int is_image_name(const char *name)
{
	static const char *const exts[] = { ".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif", ".pnm", ".ppm", ".pgm" };
	const char *dot = strrchr(name, '.');

	if (dot == NULL || name[0] == '.')
		return 0;
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return 1;
	return 0;
}

struct str_list {
	char **v;
	unsigned long *line; /* line in a list file, 0 when listed from a folder */
	int *src;            /* which source it came from (yolo_read) */
	size_t n, cap;
};

static int list_add(struct str_list *l, const char *s, size_t n, unsigned long line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		char **v = realloc(l->v, cap * sizeof *v);
		unsigned long *ln;
		int *src;

		if (v == NULL)
			return DET_ENOMEM;
		l->v = v;
		if ((ln = realloc(l->line, cap * sizeof *ln)) == NULL)
			return DET_ENOMEM;
		l->line = ln;
		if ((src = realloc(l->src, cap * sizeof *src)) == NULL)
			return DET_ENOMEM;
		l->src = src;
		l->cap = cap;
	}
	if ((l->v[l->n] = strndup(s, n)) == NULL)
		return DET_ENOMEM;
	l->line[l->n] = line;
	l->src[l->n++] = 0;
	return 0;
}

static void list_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->line);
	free(l->src);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_images_dir(const char *dir, struct str_list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return det_error_set(DET_EIO, "%s: can't open the images folder (%s)", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (is_image_name(e->d_name))
			rc = list_add(l, e->d_name, strlen(e->d_name), 0);
	closedir(d);
	if (rc < 0)
		return det_error_set(rc, "out of memory listing %s", dir);
	qsort(l->v, l->n, sizeof *l->v, cmp_str);
	return 0;
}

static int list_images_file(const char *path, struct str_list *l)
{
	char *buf;
	size_t len, i = 0;
	unsigned long line = 0;
	int rc = det_file_read(path, &buf, &len);

	if (rc == DET_ENOMEM)
		return det_error_set(rc, "out of memory reading %s", path);
	if (rc < 0)
		return det_error_set(rc, "%s: can't read the image list (%s)", path, strerror(errno));
	while (i < len && rc == 0) {
		size_t s = i, e;

		line++;
		while (i < len && buf[i] != '\n')
			i++;
		e = i++;
		while (s < e && isspace((unsigned char)buf[s]))
			s++;
		while (e > s && isspace((unsigned char)buf[e - 1]))
			e--;
		if (e > s + 2 && buf[s] == '.' && buf[s + 1] == '/')
			s += 2;
		if (e > s)
			rc = list_add(l, buf + s, e - s, line);
	}
	free(buf);
	return rc < 0 ? det_error_set(rc, "out of memory reading %s", path) : 0;
}

/* The label file of image path img: labels_dir/<stem>.txt, or img with its
 * last "images" folder replaced by "labels" and its extension by .txt. */
static char *label_path(const char *img, const char *labels_dir)
{
	const char *base = strrchr(img, '/'), *dot;
	size_t stem_len;
	char *p;

	base = base ? base + 1 : img;
	dot = strrchr(base, '.');
	stem_len = dot ? (size_t)(dot - base) : strlen(base);
	if (labels_dir) {
		size_t ld = strlen(labels_dir);

		if ((p = malloc(ld + stem_len + 6)) == NULL)
			return NULL;
		memcpy(p, labels_dir, ld);
		p[ld] = '/';
		memcpy(p + ld + 1, base, stem_len);
		strcpy(p + ld + 1 + stem_len, ".txt");
		return p;
	}
	{
		size_t head = (size_t)(base - img);
		char *q;

		if ((p = malloc(head + stem_len + 8)) == NULL)
			return NULL;
		memcpy(p, img, head);
		p[head] = '\0';
		/* the last "images" component of the folder part */
		for (q = p + head; q > p;) {
			char *start;

			q--; /* at the '/' before the basename or a previous component */
			start = q;
			while (start > p && start[-1] != '/')
				start--;
			if ((size_t)(q - start) == 6 && memcmp(start, "images", 6) == 0) {
				memcpy(start, "labels", 6);
				break;
			}
			q = start;
		}
		memcpy(p + head, base, stem_len);
		strcpy(p + head + stem_len, ".txt");
		return p;
	}
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The images of one source (a folder or a list file), appended to l with
 * file names relative to root; src is the source's index, kept for messages. */
static int list_source(const char *path, const char *root, struct str_list *l, int src)
{
	struct str_list one = { 0 };
	char *dir = NULL;
	size_t skip;
	int rc;

	if (is_dir(path)) {
		rc = list_images_dir(path, &one);
		dir = strdup(path);
	} else {
		rc = list_images_file(path, &one);
		dir = dir_of(path);
	}
	if (rc == 0 && dir == NULL)
		rc = det_error_set(DET_ENOMEM, "out of memory");
	/* the source's folder relative to root: "" when it is root */
	skip = strlen(root);
	if (rc == 0 && !(strncmp(dir, root, skip) == 0 && (dir[skip] == '/' || dir[skip] == '\0')))
		skip = 0; /* not under root: keep the folder as it is */
	else if (rc == 0)
		skip += dir[skip] == '/';
	for (size_t i = 0; rc == 0 && i < one.n; i++) {
		const char *sub = dir + skip;
		char *file = sub[0] && one.v[i][0] != '/' ? path_join(sub, one.v[i]) : strdup(one.v[i]);

		if (file == NULL || list_add(l, file, strlen(file), one.line[i]) < 0)
			rc = det_error_set(DET_ENOMEM, "out of memory");
		else
			l->src[l->n - 1] = src;
		free(file);
	}
	free(dir);
	list_free(&one);
	return rc;
}

int yolo_read(const struct yolo_options *opt, struct dataset **out)
{
	struct yolo_data data = { 0 }, names = { 0 };
	struct str_list images = { 0 };
	struct dataset *ds = NULL;
	const char *const *sources = &opt->images;
	char *root = NULL, dsname[512];
	int rc = 0, discover, nsources = opt->images ? 1 : 0;

	*out = NULL;
	if (opt->data) {
		const char *split = opt->split ? opt->split : "train";
		int s = strcmp(split, "train") == 0 ? YOLO_TRAIN : strcmp(split, "val") == 0 ? YOLO_VAL
			: strcmp(split, "test") == 0 ? YOLO_TEST : -1;

		if ((rc = load_names(opt->data, &data)) < 0)
			goto fail;
		if (opt->images == NULL) {
			if (s < 0 || data.nsplits[s] == 0) {
				rc = det_error_set(DET_EINVAL, "%s: no %s: key (split '%s')", opt->data, split, split);
				goto fail;
			}
			sources = (const char *const *)data.splits[s];
			nsources = data.nsplits[s];
		}
	}
	if (nsources == 0) {
		rc = det_error_set(DET_EINVAL, "yolo: expected images (a folder or a .txt list) or data (a data YAML)");
		goto fail;
	}
	if (opt->names && (rc = load_names(opt->names, &names)) < 0)
		goto fail;
	/* one source: its folder is the root; several: the YAML's path (or folder) */
	if (nsources == 1)
		root = is_dir(sources[0]) ? strdup(sources[0]) : dir_of(sources[0]);
	else
		root = data.path ? strdup(data.path) : dir_of(opt->data);
	if (root == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory");
		goto fail;
	}
	for (int k = 0; k < nsources; k++)
		if ((rc = list_source(sources[k], root, &images, k)) < 0)
			goto fail;
	snprintf(dsname, sizeof dsname, "%s", opt->data ? opt->data : sources[0]);
	if ((ds = dataset_new(dsname, root)) == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory");
		goto fail;
	}
	{
		const struct yolo_data *src = names.nnames ? &names : &data;

		for (int c = 0; c < src->nnames; c++)
			if ((rc = dataset_class_add(ds, src->names[c] ? src->names[c] : "", c)) < 0)
				goto fail;
		discover = src->nnames == 0;
	}
	for (size_t i = 0; i < images.n; i++) {
		char *img = path_join(root, images.v[i]), *lbl = NULL, *buf = NULL;
		int w, h, comp;
		size_t len;

		if (img == NULL || (lbl = label_path(img, opt->labels)) == NULL) {
			free(img);
			rc = det_error_set(DET_ENOMEM, "out of memory");
			goto fail;
		}
		if (!stbi_info(img, &w, &h, &comp)) {
			int exists = access(img, R_OK) == 0;

			ds->report.images_skipped++;
			if (images.line[i] && !exists)
				problem(ds, opt, "%s:%lu: image %s is missing", sources[images.src[i]],
					images.line[i], img);
			else if (!exists)
				problem(ds, opt, "%s: image is missing (%s)", img, strerror(errno));
			else
				problem(ds, opt, "%s: can't read the image header (%s)", img, stbi_failure_reason());
			free(img), free(lbl);
			continue;
		}
		if ((rc = (int)dataset_image_add(ds, (int64_t)i + 1, images.v[i], w, h)) < 0) {
			free(img), free(lbl);
			goto fail;
		}
		rc = det_file_read(lbl, &buf, &len);
		if (rc == 0)
			rc = yolo_labels_parse(ds, buf, len, lbl, discover, opt);
		else if (rc == DET_EIO)
			rc = 0; /* no label file: an image with no objects */
		free(buf), free(img), free(lbl);
		if (rc < 0) {
			det_error_set(rc, "out of memory reading labels");
			goto fail;
		}
	}
	yolo_data_fini(&data);
	yolo_data_fini(&names);
	list_free(&images);
	free(root);
	*out = ds;
	return 0;
fail:
	yolo_data_fini(&data);
	yolo_data_fini(&names);
	list_free(&images);
	free(root);
	dataset_free(ds);
	return rc;
}
