/* checkpoint.c: parameter stores to and from files (see checkpoint.h). */
#include "nn/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/error.h"

#define MAGIC "detbench-params 1"

static int write_entries(FILE *f, const struct nn_store *s)
{
	fprintf(f, "%s\n%d %d\n", MAGIC, s->nparams, s->nbuffers);
	for (int i = 0; i < s->nparams; i++) {
		const struct nn_param *p = &s->params[i];
		fprintf(f, "p %s %d", p->name, p->ndim);
		for (int d = 0; d < p->ndim; d++)
			fprintf(f, " %lld", (long long)p->shape[d]);
		fputc('\n', f);
	}
	for (int i = 0; i < s->nbuffers; i++)
		fprintf(f, "b %s %zu\n", s->buffers[i].name, s->buffers[i].count);
	fputs("data\n", f);
	for (int i = 0; i < s->nparams; i++)
		if (fwrite(s->data + s->params[i].offset, sizeof(float), s->params[i].count, f) != s->params[i].count)
			return -1;
	for (int i = 0; i < s->nbuffers; i++)
		if (fwrite(s->state + s->buffers[i].offset, sizeof(float), s->buffers[i].count, f) !=
			s->buffers[i].count)
			return -1;
	return ferror(f) ? -1 : 0;
}

int nn_store_save(const struct nn_store *s, const char *path)
{
	struct atomic_file af;
	int rc = atomic_file_open(&af, path);

	if (rc)
		return rc;
	if (write_entries(af.f, s)) {
		rc = det_error_set(DET_EIO, "can't write %s (%s)", af.path, strerror(errno));
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

struct entry {
	char name[512];
	int is_buffer, ndim;
	int64_t shape[NN_MAX_DIMS], count;
	int target; /* index in the store, -1 when absent */
};

int nn_store_load(struct nn_store *s, const char *path, int strict, struct nn_load_report *report)
{
	FILE *f = fopen(path, "rb");
	char line[1024];
	struct entry *e = NULL;
	int np, nb, n, rc = 0, lineno = 2;
	struct nn_load_report rep = { 0 };
	char *seen = NULL;

	if (!f)
		return det_error_set(DET_EIO, "can't open %s (%s)", path, strerror(errno));
	if (!fgets(line, sizeof(line), f) || strncmp(line, MAGIC, strlen(MAGIC))) {
		fclose(f);
		return det_error_set(DET_EFORMAT, "%s:1: not a detbench parameter file (expected \"%s\")", path, MAGIC);
	}
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%d %d", &np, &nb) != 2 || np < 0 || nb < 0 ||
		np > 1000000 || nb > 1000000) {
		fclose(f);
		return det_error_set(DET_EFORMAT, "%s:2: expected the parameter and buffer counts", path);
	}
	n = np + nb;
	e = calloc((size_t)n + 1, sizeof(*e));
	seen = calloc((size_t)s->nparams + (size_t)s->nbuffers + 1, 1);
	if (!e || !seen) {
		rc = det_error_set(DET_ENOMEM, "load %s: out of memory", path);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char kind;
		int off = 0, consumed;
		lineno++;
		if (!fgets(line, sizeof(line), f) || sscanf(line, "%c %511s %n", &kind, e[i].name, &off) < 2 ||
			kind != (i < np ? 'p' : 'b')) {
			rc = det_error_set(DET_EFORMAT, "%s:%d: expected a '%c <name> ...' line", path, lineno,
				i < np ? 'p' : 'b');
			goto out;
		}
		e[i].is_buffer = i >= np;
		if (!e[i].is_buffer) {
			if (sscanf(line + off, "%d%n", &e[i].ndim, &consumed) != 1 || e[i].ndim < 1 ||
				e[i].ndim > NN_MAX_DIMS) {
				rc = det_error_set(DET_EFORMAT, "%s:%d: bad dimension count for %s", path, lineno, e[i].name);
				goto out;
			}
			off += consumed;
			e[i].count = 1;
			for (int d = 0; d < e[i].ndim; d++) {
				long long v;
				if (sscanf(line + off, "%lld%n", &v, &consumed) != 1 || v < 0) {
					rc = det_error_set(DET_EFORMAT, "%s:%d: bad shape for %s", path, lineno, e[i].name);
					goto out;
				}
				off += consumed;
				e[i].shape[d] = v;
				e[i].count *= v;
			}
			e[i].target = nn_store_find(s, e[i].name);
		} else {
			long long v;
			if (sscanf(line + off, "%lld", &v) != 1 || v < 0) {
				rc = det_error_set(DET_EFORMAT, "%s:%d: bad count for buffer %s", path, lineno, e[i].name);
				goto out;
			}
			e[i].count = v;
			e[i].ndim = 1;
			e[i].shape[0] = v;
			e[i].target = nn_store_find_buffer(s, e[i].name);
		}
		if (e[i].target >= 0) {
			const struct nn_param *t = e[i].is_buffer ? &s->buffers[e[i].target] : &s->params[e[i].target];
			int same = (int64_t)t->count == e[i].count && (e[i].is_buffer || t->ndim == e[i].ndim);
			char a[96], b[96];
			for (int d = 0; same && !e[i].is_buffer && d < t->ndim; d++)
				same = t->shape[d] == e[i].shape[d];
			if (!same) {
				rc = det_error_set(DET_EFORMAT, "%s:%d: %s has shape %s in the file but %s in the model", path,
					lineno, e[i].name, tensor_shape_str(e[i].ndim, e[i].shape, a, sizeof(a)),
					tensor_shape_str(t->ndim, t->shape, b, sizeof(b)));
				goto out;
			}
			seen[(e[i].is_buffer ? s->nparams : 0) + e[i].target] = 1;
		} else
			rep.unexpected++;
	}
	for (int i = 0; i < s->nparams + s->nbuffers; i++)
		rep.missing += !seen[i];
	if (strict && (rep.missing || rep.unexpected)) {
		rc = det_error_set(DET_EFORMAT, "%s: %d parameters of the model are not in the file and %d in the "
			"file are not in the model", path, rep.missing, rep.unexpected);
		goto out;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, "data\n")) {
		rc = det_error_set(DET_EFORMAT, "%s:%d: expected \"data\"", path, lineno + 1);
		goto out;
	}
	/* read everything first into place: entries are disjoint, and a short
	 * file is detected before the store is touched by checking the size */
	{
		long here = ftell(f), end;
		int64_t want = 0;
		for (int i = 0; i < n; i++)
			want += e[i].count;
		fseek(f, 0, SEEK_END);
		end = ftell(f);
		fseek(f, here, SEEK_SET);
		if (end - here != want * (int64_t)sizeof(float)) {
			rc = det_error_set(DET_EFORMAT, "%s: %ld bytes of data, expected %lld", path, end - here,
				(long long)(want * (int64_t)sizeof(float)));
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		float *dst = NULL;
		if (e[i].target >= 0)
			dst = e[i].is_buffer ? s->state + s->buffers[e[i].target].offset :
				s->data + s->params[e[i].target].offset;
		if (dst) {
			if (fread(dst, sizeof(float), (size_t)e[i].count, f) != (size_t)e[i].count) {
				rc = det_error_set(DET_EIO, "can't read %s (%s)", path, strerror(errno));
				goto out;
			}
			rep.loaded++;
		} else if (fseek(f, (long)(e[i].count * (int64_t)sizeof(float)), SEEK_CUR)) {
			rc = det_error_set(DET_EIO, "can't read %s (%s)", path, strerror(errno));
			goto out;
		}
	}
out:
	if (report)
		*report = rep;
	free(e);
	free(seen);
	fclose(f);
	return rc;
}
