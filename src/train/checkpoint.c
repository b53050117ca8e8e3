/* checkpoint.c: the sectioned, checksummed checkpoint file, its atomic
 * write (temp, fsync, rename, fsync dir) and verified read, and the weights
 * section (an nn_store by name, with missing/unexpected/mismatched names). */
#include "train/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "core/atomic.h"
#include "core/error.h"
#include "nn/graph.h"

static const char MAGIC[8] = { 'D', 'E', 'T', 'C', 'K', 'P', 'T', '1' };
static const char TRAILER[8] = { 'T', 'P', 'K', 'C', 'T', 'E', 'D', '\n' };

void (*ckpt_write_hook)(const char *tmp_path);

struct ckpt *ckpt_new(void)
{
	struct ckpt *c = calloc(1, sizeof *c);
	if (!c)
		det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
	return c;
}

void ckpt_free(struct ckpt *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->sec[i].name);
		free(c->sec[i].data);
	}
	free(c->sec);
	free(c);
}

static struct ckpt_section *find(const struct ckpt *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->sec[i].name, name) == 0)
			return &c->sec[i];
	return NULL;
}

int ckpt_add(struct ckpt *c, const char *name, const void *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	if (!copy)
		return det_error_set(DET_ENOMEM, "out of memory for checkpoint section %s (%zu bytes)", name, size);
	if (size)
		memcpy(copy, data, size);
	struct ckpt_section *s = find(c, name);
	if (s) {
		free(s->data);
		s->data = copy;
		s->size = size;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct ckpt_section *p = realloc(c->sec, cap * sizeof *p);
		if (!p) {
			free(copy);
			return det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
		}
		c->sec = p;
		c->cap = cap;
	}
	s = &c->sec[c->n];
	if (!(s->name = strdup(name))) {
		free(copy);
		return det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
	}
	s->data = copy;
	s->size = size;
	c->n++;
	return 0;
}

const void *ckpt_get(const struct ckpt *c, const char *name, size_t *size)
{
	struct ckpt_section *s = find(c, name);
	if (!s)
		return NULL;
	if (size)
		*size = s->size;
	return s->data;
}

/* ---- writing ---- */

struct wr {
	FILE *f;
	uLong crc;
	size_t written, half;
	const char *tmp;
	int hooked, err;
};

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
	const unsigned char *b = p;
	if (w->err)
		return;
	w->crc = crc32_z(w->crc, b, n);
	while (n) {
		size_t chunk = n;
		if (!w->hooked && ckpt_write_hook && w->written < w->half && w->written + chunk > w->half)
			chunk = w->half - w->written;
		if (fwrite(b, 1, chunk, w->f) != chunk) {
			w->err = errno ? errno : EIO;
			return;
		}
		b += chunk;
		n -= chunk;
		w->written += chunk;
		if (!w->hooked && ckpt_write_hook && w->written >= w->half) {
			/* the hook sees the first half on disk, as a crash would */
			w->hooked = 1;
			fflush(w->f);
			ckpt_write_hook(w->tmp);
		}
	}
}

static void wr_u32(struct wr *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
		(unsigned char)(v >> 24) };
	wr_bytes(w, b, 4);
}

static void wr_u64(struct wr *w, uint64_t v)
{
	wr_u32(w, (uint32_t)v);
	wr_u32(w, (uint32_t)(v >> 32));
}

int ckpt_write(const struct ckpt *c, const char *path)
{
	struct atomic_file af;
	int rc = atomic_file_open(&af, path);
	if (rc)
		return rc;
	struct wr w = { .f = af.f, .crc = crc32_z(0, NULL, 0), .tmp = af.tmp };
	size_t total = 8 + 4 + 12;
	for (size_t i = 0; i < c->n; i++)
		total += 4 + strlen(c->sec[i].name) + 8 + c->sec[i].size + 4;
	w.half = total / 2;
	wr_bytes(&w, MAGIC, 8);
	wr_u32(&w, CKPT_VERSION);
	for (size_t i = 0; i < c->n; i++) {
		const struct ckpt_section *s = &c->sec[i];
		uint32_t nl = (uint32_t)strlen(s->name);
		wr_u32(&w, nl);
		wr_bytes(&w, s->name, nl);
		wr_u64(&w, s->size);
		wr_bytes(&w, s->data, s->size);
		wr_u32(&w, (uint32_t)crc32_z(crc32_z(0, NULL, 0), s->data, s->size));
	}
	wr_u32(&w, 0);
	wr_u32(&w, (uint32_t)w.crc);
	wr_bytes(&w, TRAILER, 8);
	if (w.err) {
		rc = det_error_set(DET_EIO, "can't write %s (%s)", af.path, strerror(w.err));
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

/* ---- reading ---- */

static uint32_t rd_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const unsigned char *p)
{
	return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

struct ckpt *ckpt_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		det_error_set(DET_EIO, "can't open checkpoint %s (%s)", path, strerror(errno));
		return NULL;
	}
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 20;
			unsigned char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				det_error_set(DET_ENOMEM, "out of memory reading %s", path);
				return NULL;
			}
			buf = p;
		}
		size_t k = fread(buf + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int ioerr = ferror(f);
	fclose(f);
	struct ckpt *c = NULL;
	if (ioerr) {
		det_error_set(DET_EIO, "can't read checkpoint %s", path);
		goto out;
	}
	if (len < 12 || memcmp(buf, MAGIC, 8) != 0) {
		det_error_set(DET_EFORMAT, "%s: not a detbench checkpoint (bad magic)", path);
		goto out;
	}
	uint32_t version = rd_u32(buf + 8);
	if (version != CKPT_VERSION) {
		det_error_set(DET_EFORMAT, "%s: checkpoint version %u, this build reads %d", path, version,
			CKPT_VERSION);
		goto out;
	}
	if (!(c = ckpt_new()))
		goto out;
	size_t off = 12;
	for (;;) {
		if (off + 4 > len) {
			det_error_set(DET_EFORMAT, "%s: truncated at byte %zu (no end record)", path, off);
			goto fail;
		}
		uint32_t nl = rd_u32(buf + off);
		if (nl == 0) {
			if (off + 16 != len) {
				det_error_set(DET_EFORMAT, "%s: %s after the end record at byte %zu", path,
					off + 16 > len ? "truncated" : "extra bytes", off);
				goto fail;
			}
			uint32_t want = rd_u32(buf + off + 4);
			uint32_t got = (uint32_t)crc32_z(crc32_z(0, NULL, 0), buf, off + 4);
			if (want != got || memcmp(buf + off + 8, TRAILER, 8) != 0) {
				det_error_set(DET_EFORMAT, "%s: file checksum mismatch (stored %08x, computed %08x)", path,
					want, got);
				goto fail;
			}
			break;
		}
		if (nl > 256 || off + 4 + nl + 8 > len) {
			det_error_set(DET_EFORMAT, "%s: truncated or corrupt section header at byte %zu", path, off);
			goto fail;
		}
		char name[257];
		memcpy(name, buf + off + 4, nl);
		name[nl] = 0;
		uint64_t size = rd_u64(buf + off + 4 + nl);
		size_t data = off + 4 + nl + 8;
		if (size > len || data + size + 4 > len) {
			det_error_set(DET_EFORMAT, "%s: section '%s' truncated (%llu bytes announced at byte %zu)", path,
				name, (unsigned long long)size, off);
			goto fail;
		}
		uint32_t want = rd_u32(buf + data + size);
		uint32_t got = (uint32_t)crc32_z(crc32_z(0, NULL, 0), buf + data, (size_t)size);
		if (want != got) {
			det_error_set(DET_EFORMAT, "%s: section '%s': checksum mismatch (stored %08x, computed %08x)", path,
				name, want, got);
			goto fail;
		}
		if (ckpt_add(c, name, buf + data, (size_t)size))
			goto fail;
		off = data + (size_t)size + 4;
	}
	goto out;
fail:
	ckpt_free(c);
	c = NULL;
out:
	free(buf);
	return c;
}

/* ---- the weights section ---- */

struct buf {
	unsigned char *p;
	size_t n, cap;
	int err;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q) {
			b->err = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
		(unsigned char)(v >> 24) };
	put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_entry(struct buf *b, char kind, const char *name, int ndim, const int64_t *shape,
	const float *data, size_t count)
{
	put(b, &kind, 1);
	put_u32(b, (uint32_t)strlen(name));
	put(b, name, strlen(name));
	put_u32(b, (uint32_t)ndim);
	for (int d = 0; d < ndim; d++)
		put_u64(b, (uint64_t)shape[d]);
	put_u64(b, count);
	put(b, data, count * sizeof(float)); /* little-endian hosts only, as nn/checkpoint */
}

int ckpt_pack_store(const struct nn_store *s, unsigned char **out, size_t *size)
{
	struct buf b = { 0 };
	put_u32(&b, (uint32_t)(s->nparams + s->nbuffers));
	for (int i = 0; i < s->nparams; i++) {
		const struct nn_param *p = &s->params[i];
		put_entry(&b, 'p', p->name, p->ndim, p->shape, s->data + p->offset, p->count);
	}
	for (int i = 0; i < s->nbuffers; i++) {
		const struct nn_param *p = &s->buffers[i];
		int64_t n = (int64_t)p->count;
		put_entry(&b, 'b', p->name, 1, &n, s->state + p->offset, p->count);
	}
	if (b.err) {
		free(b.p);
		return det_error_set(DET_ENOMEM, "out of memory packing the weights");
	}
	*out = b.p;
	*size = b.n;
	return 0;
}

static void list_add(char *list, size_t size, const char *name)
{
	size_t n = strlen(list);
	if (n + strlen(name) + 8 >= size) {
		if (n + 5 < size && (n < 4 || strcmp(list + n - 3, "...") != 0))
			strcat(list, ", ...");
		return;
	}
	if (n)
		strcat(list, ", ");
	strcat(list, name);
}

static void shape_str(char *out, size_t size, int ndim, const int64_t *shape)
{
	size_t n = 0;
	n += (size_t)snprintf(out + n, size - n, "(");
	for (int d = 0; d < ndim && n < size; d++)
		n += (size_t)snprintf(out + n, size - n, "%s%lld", d ? ", " : "", (long long)shape[d]);
	if (n < size)
		snprintf(out + n, size - n, ")");
}

struct entry {
	char kind;
	char name[512];
	int ndim;
	int64_t shape[NN_MAX_DIMS];
	uint64_t count;
	const unsigned char *data;
};

/* Parses the entry at *off; 0, or DET_EFORMAT when the bytes run out. */
static int next_entry(const unsigned char *p, size_t len, size_t *off, struct entry *e)
{
	size_t o = *off;
	if (o + 5 > len)
		return DET_EFORMAT;
	e->kind = (char)p[o];
	uint32_t nl = rd_u32(p + o + 1);
	o += 5;
	if (nl >= sizeof e->name || o + nl + 4 > len)
		return DET_EFORMAT;
	memcpy(e->name, p + o, nl);
	e->name[nl] = 0;
	o += nl;
	uint32_t nd = rd_u32(p + o);
	o += 4;
	if (nd > NN_MAX_DIMS || o + 8 * (size_t)nd + 8 > len)
		return DET_EFORMAT;
	e->ndim = (int)nd;
	for (uint32_t d = 0; d < nd; d++)
		e->shape[d] = (int64_t)rd_u64(p + o + 8 * d);
	o += 8 * (size_t)nd;
	e->count = rd_u64(p + o);
	o += 8;
	if (e->count > len || o + e->count * 4 > len)
		return DET_EFORMAT;
	e->data = p + o;
	o += e->count * 4;
	*off = o;
	return 0;
}

int ckpt_unpack_store(struct nn_store *s, const void *data, size_t size, int strict,
	struct ckpt_load_report *report)
{
	struct ckpt_load_report local;
	struct ckpt_load_report *r = report ? report : &local;
	memset(r, 0, sizeof *r);
	const unsigned char *p = data;
	if (size < 4)
		return det_error_set(DET_EFORMAT, "weights section too short");
	uint32_t n = rd_u32(p);
	char *pseen = calloc((size_t)s->nparams + 1, 1), *bseen = calloc((size_t)s->nbuffers + 1, 1);
	if (!pseen || !bseen) {
		free(pseen);
		free(bseen);
		return det_error_set(DET_ENOMEM, "out of memory loading weights");
	}
	int rc = 0;
	/* pass 1: check every entry; pass 2: copy */
	for (int pass = 0; pass < 2 && !rc; pass++) {
		size_t off = 4;
		for (uint32_t k = 0; k < n; k++) {
			struct entry e;
			if (next_entry(p, size, &off, &e)) {
				rc = det_error_set(DET_EFORMAT, "weights section: entry %u is truncated", k);
				break;
			}
			if (e.kind == 'p') {
				int i = nn_store_find(s, e.name);
				if (i < 0) {
					if (!pass) {
						r->unexpected++;
						list_add(r->unexpected_names, sizeof r->unexpected_names, e.name);
					}
					continue;
				}
				const struct nn_param *q = &s->params[i];
				int same = q->ndim == e.ndim && q->count == e.count;
				for (int d = 0; same && d < e.ndim; d++)
					same = q->shape[d] == e.shape[d];
				if (!pass) {
					pseen[i] = 1;
					if (!same) {
						char a[128], b[128], line[1024];
						shape_str(a, sizeof a, e.ndim, e.shape);
						shape_str(b, sizeof b, q->ndim, q->shape);
						snprintf(line, sizeof line, "%.500s: checkpoint %s, model %s", e.name, a, b);
						r->mismatched++;
						list_add(r->mismatched_names, sizeof r->mismatched_names, line);
					}
				} else {
					memcpy(s->data + q->offset, e.data, e.count * 4);
					r->loaded++;
				}
			} else if (e.kind == 'b') {
				int i = nn_store_find_buffer(s, e.name);
				if (i < 0) {
					if (!pass) {
						r->unexpected++;
						list_add(r->unexpected_names, sizeof r->unexpected_names, e.name);
					}
					continue;
				}
				const struct nn_param *q = &s->buffers[i];
				if (!pass) {
					bseen[i] = 1;
					if (q->count != e.count) {
						char line[1024];
						snprintf(line, sizeof line, "%.500s: checkpoint %llu values, model %zu", e.name,
							(unsigned long long)e.count, q->count);
						r->mismatched++;
						list_add(r->mismatched_names, sizeof r->mismatched_names, line);
					}
				} else {
					memcpy(s->state + q->offset, e.data, e.count * 4);
					r->loaded++;
				}
			} else {
				rc = det_error_set(DET_EFORMAT, "weights section: entry %u has kind %d", k, e.kind);
				break;
			}
		}
		if (!pass && !rc) {
			for (int i = 0; i < s->nparams; i++)
				if (!pseen[i]) {
					r->missing++;
					list_add(r->missing_names, sizeof r->missing_names, s->params[i].name);
				}
			for (int i = 0; i < s->nbuffers; i++)
				if (!bseen[i]) {
					r->missing++;
					list_add(r->missing_names, sizeof r->missing_names, s->buffers[i].name);
				}
			if (r->mismatched)
				rc = det_error_set(DET_EFORMAT, "%d tensor%s of another shape: %s", r->mismatched,
					r->mismatched > 1 ? "s" : "", r->mismatched_names);
			else if (strict && (r->missing || r->unexpected))
				rc = det_error_set(DET_EFORMAT, "strict load: %d missing (%s), %d unexpected (%s)", r->missing,
					r->missing ? r->missing_names : "-", r->unexpected,
					r->unexpected ? r->unexpected_names : "-");
		}
	}
	free(pseen);
	free(bseen);
	return rc;
}

/* ---- key = value sections ---- */

static int kv_find(const struct ckpt *c, const char *section, const char *key, const char **val, size_t *vlen)
{
	size_t size;
	const char *p = ckpt_get(c, section, &size);
	if (!p)
		return -1;
	size_t kl = strlen(key);
	for (size_t off = 0; off < size;) {
		const char *nl = memchr(p + off, '\n', size - off);
		size_t end = nl ? (size_t)(nl - p) : size;
		if (end - off > kl && memcmp(p + off, key, kl) == 0 && p[off + kl] == ' ') {
			*val = p + off + kl + 1;
			*vlen = end - off - kl - 1;
			return 0;
		}
		off = end + 1;
	}
	return -1;
}

int ckpt_kv_get(const struct ckpt *c, const char *section, const char *key, double *value)
{
	const char *v;
	size_t n;
	char tmp[64];
	if (kv_find(c, section, key, &v, &n) || n >= sizeof tmp)
		return det_error_set(DET_EFORMAT, "checkpoint has no %s.%s", section, key);
	memcpy(tmp, v, n);
	tmp[n] = 0;
	char *end;
	*value = strtod(tmp, &end);
	if (end == tmp)
		return det_error_set(DET_EFORMAT, "checkpoint %s.%s is not a number ('%s')", section, key, tmp);
	return 0;
}

int ckpt_kv_get_str(const struct ckpt *c, const char *section, const char *key, char *out, size_t size)
{
	const char *v;
	size_t n;
	if (kv_find(c, section, key, &v, &n))
		return det_error_set(DET_EFORMAT, "checkpoint has no %s.%s", section, key);
	if (n >= size)
		n = size - 1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}
