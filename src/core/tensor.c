/* tensor.c: tensor storage, views, copies, initialisers and printing. */
#include "core/tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct tensor_buf {
	float *data;
	int refs;
};

static int64_t shape_numel(int ndim, const int64_t *shape)
{
	int64_t n = 1;

	for (int d = 0; d < ndim; d++)
		n *= shape[d];
	return n;
}

static void set_contiguous_strides(struct tensor *t)
{
	int64_t s = 1;

	for (int d = t->ndim - 1; d >= 0; d--) {
		t->stride[d] = s;
		s *= t->shape[d];
	}
	t->numel = s;
}

char *tensor_shape_str(int ndim, const int64_t *shape, char *buf, size_t size)
{
	size_t len = 0;

	len += (size_t)snprintf(buf, size, "(");
	for (int d = 0; d < ndim && len < size; d++)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "", (long long)shape[d]);
	if (len < size)
		snprintf(buf + len, size - len, ")");
	return buf;
}

static int check_shape(int ndim, const int64_t *shape)
{
	if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
		return det_error_set(DET_EINVAL, "tensor: %d dimensions (at most %d)", ndim, TENSOR_MAX_DIMS);
	for (int d = 0; d < ndim; d++)
		if (shape[d] < 0)
			return det_error_set(DET_EINVAL, "tensor: negative size %lld in dimension %d",
				(long long)shape[d], d);
	return 0;
}

struct tensor *tensor_new(int ndim, const int64_t *shape)
{
	struct tensor *t;
	int64_t n;

	if (check_shape(ndim, shape))
		return NULL;
	n = shape_numel(ndim, shape);
	t = calloc(1, sizeof(*t));
	if (t)
		t->buf = malloc(sizeof(*t->buf));
	if (t && t->buf)
		t->buf->data = calloc((size_t)(n ? n : 1), sizeof(float));
	if (!t || !t->buf || !t->buf->data) {
		if (t)
			free(t->buf);
		free(t);
		det_error_set(DET_ENOMEM, "tensor: out of memory for %lld floats", (long long)n);
		return NULL;
	}
	t->buf->refs = 1;
	t->data = t->buf->data;
	t->ndim = ndim;
	memcpy(t->shape, shape, sizeof(*shape) * (size_t)ndim);
	set_contiguous_strides(t);
	return t;
}

struct tensor *tensor_wrap(float *data, int ndim, const int64_t *shape)
{
	struct tensor *t;

	if (check_shape(ndim, shape))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		det_error_set(DET_ENOMEM, "tensor: out of memory");
		return NULL;
	}
	t->data = data;
	t->ndim = ndim;
	memcpy(t->shape, shape, sizeof(*shape) * (size_t)ndim);
	set_contiguous_strides(t);
	return t;
}

void tensor_free(struct tensor *t)
{
	if (!t)
		return;
	if (t->buf && --t->buf->refs == 0) {
		free(t->buf->data);
		free(t->buf);
	}
	free(t);
}

/* A new handle on the same storage, shape and strides as t. */
static struct tensor *view_of(const struct tensor *t)
{
	struct tensor *v = malloc(sizeof(*v));

	if (!v) {
		det_error_set(DET_ENOMEM, "tensor: out of memory");
		return NULL;
	}
	*v = *t;
	if (v->buf)
		v->buf->refs++;
	return v;
}

int tensor_is_contiguous(const struct tensor *t)
{
	int64_t s = 1;

	for (int d = t->ndim - 1; d >= 0; d--) {
		if (t->shape[d] != 1 && t->stride[d] != s)
			return 0;
		s *= t->shape[d];
	}
	return 1;
}

struct tensor *tensor_reshape(const struct tensor *t, int ndim, const int64_t *shape)
{
	int64_t sh[TENSOR_MAX_DIMS], known = 1;
	int infer = -1;
	char a[96], b[96];
	struct tensor *v;

	if (ndim < 0 || ndim > TENSOR_MAX_DIMS) {
		det_error_set(DET_EINVAL, "reshape: %d dimensions (at most %d)", ndim, TENSOR_MAX_DIMS);
		return NULL;
	}
	for (int d = 0; d < ndim; d++) {
		sh[d] = shape[d];
		if (sh[d] == -1 && infer < 0)
			infer = d;
		else if (sh[d] < 0) {
			det_error_set(DET_EINVAL, "reshape: bad size %lld in dimension %d", (long long)sh[d], d);
			return NULL;
		} else
			known *= sh[d];
	}
	if (infer >= 0 && known > 0 && t->numel % known == 0)
		sh[infer] = t->numel / known;
	if (shape_numel(ndim, sh) != t->numel || (infer >= 0 && sh[infer] < 0)) {
		det_error_set(DET_EINVAL, "reshape: cannot view %s (%lld elements) as %s",
			tensor_shape_str(t->ndim, t->shape, a, sizeof(a)), (long long)t->numel,
			tensor_shape_str(ndim, shape, b, sizeof(b)));
		return NULL;
	}
	if (!tensor_is_contiguous(t)) {
		det_error_set(DET_EINVAL, "reshape: %s is a strided view; make it contiguous first",
			tensor_shape_str(t->ndim, t->shape, a, sizeof(a)));
		return NULL;
	}
	if (!(v = view_of(t)))
		return NULL;
	v->ndim = ndim;
	memcpy(v->shape, sh, sizeof(*sh) * (size_t)ndim);
	set_contiguous_strides(v);
	return v;
}

struct tensor *tensor_slice(const struct tensor *t, int dim, int64_t start, int64_t end, int64_t step)
{
	struct tensor *v;

	if (dim < 0 || dim >= t->ndim || step < 1 || start < 0 || end > t->shape[dim] || start > end) {
		det_error_set(DET_EINVAL, "slice: [%lld:%lld:%lld] out of range for dimension %d of size %lld",
			(long long)start, (long long)end, (long long)step, dim,
			dim >= 0 && dim < t->ndim ? (long long)t->shape[dim] : -1LL);
		return NULL;
	}
	if (!(v = view_of(t)))
		return NULL;
	v->data = t->data + start * t->stride[dim];
	v->shape[dim] = (end - start + step - 1) / step;
	v->stride[dim] = t->stride[dim] * step;
	v->numel = shape_numel(v->ndim, v->shape);
	return v;
}

struct tensor *tensor_select(const struct tensor *t, int dim, int64_t i)
{
	struct tensor *v;

	if (dim < 0 || dim >= t->ndim || i < 0 || i >= t->shape[dim]) {
		det_error_set(DET_EINVAL, "select: index %lld out of range for dimension %d", (long long)i, dim);
		return NULL;
	}
	if (!(v = view_of(t)))
		return NULL;
	v->data = t->data + i * t->stride[dim];
	for (int d = dim; d + 1 < t->ndim; d++) {
		v->shape[d] = t->shape[d + 1];
		v->stride[d] = t->stride[d + 1];
	}
	v->ndim--;
	v->numel = shape_numel(v->ndim, v->shape);
	return v;
}

struct tensor *tensor_permute(const struct tensor *t, const int *perm)
{
	int seen = 0;
	struct tensor *v;

	for (int d = 0; d < t->ndim; d++) {
		if (perm[d] < 0 || perm[d] >= t->ndim || (seen & (1 << perm[d]))) {
			det_error_set(DET_EINVAL, "permute: not a permutation of %d dimensions", t->ndim);
			return NULL;
		}
		seen |= 1 << perm[d];
	}
	if (!(v = view_of(t)))
		return NULL;
	for (int d = 0; d < t->ndim; d++) {
		v->shape[d] = t->shape[perm[d]];
		v->stride[d] = t->stride[perm[d]];
	}
	return v;
}

int64_t tensor_offset(const struct tensor *t, const int64_t *idx)
{
	int64_t off = 0;

	for (int d = 0; d < t->ndim; d++)
		off += idx[d] * t->stride[d];
	return off;
}

float tensor_get(const struct tensor *t, const int64_t *idx)
{
	return t->data[tensor_offset(t, idx)];
}

void tensor_set(struct tensor *t, const int64_t *idx, float v)
{
	t->data[tensor_offset(t, idx)] = v;
}

/* Advances a row-major multi-index; returns 0 after the last element. */
static int next_index(int ndim, const int64_t *shape, int64_t *idx)
{
	for (int d = ndim - 1; d >= 0; d--) {
		if (++idx[d] < shape[d])
			return 1;
		idx[d] = 0;
	}
	return 0;
}

void tensor_apply(struct tensor *t, float (*fn)(float v, void *ctx), void *ctx)
{
	int64_t idx[TENSOR_MAX_DIMS] = { 0 };

	if (t->numel == 0)
		return;
	if (tensor_is_contiguous(t)) {
		for (int64_t i = 0; i < t->numel; i++)
			t->data[i] = fn(t->data[i], ctx);
		return;
	}
	do {
		float *p = t->data + tensor_offset(t, idx);
		*p = fn(*p, ctx);
	} while (next_index(t->ndim, t->shape, idx));
}

int tensor_same_shape(const struct tensor *a, const struct tensor *b)
{
	if (a->ndim != b->ndim)
		return 0;
	for (int d = 0; d < a->ndim; d++)
		if (a->shape[d] != b->shape[d])
			return 0;
	return 1;
}

int tensor_copy(struct tensor *dst, const struct tensor *src)
{
	int64_t idx[TENSOR_MAX_DIMS] = { 0 };
	char a[96], b[96];

	if (dst->numel != src->numel || (!tensor_same_shape(dst, src) && src->ndim && dst->ndim))
		return det_error_set(DET_EINVAL, "copy: shapes %s and %s differ",
			tensor_shape_str(dst->ndim, dst->shape, a, sizeof(a)),
			tensor_shape_str(src->ndim, src->shape, b, sizeof(b)));
	if (src->numel == 0)
		return 0;
	if (tensor_is_contiguous(dst) && tensor_is_contiguous(src)) {
		memmove(dst->data, src->data, sizeof(float) * (size_t)src->numel);
		return 0;
	}
	do
		dst->data[tensor_offset(dst, idx)] = src->data[tensor_offset(src, idx)];
	while (next_index(src->ndim, src->shape, idx));
	return 0;
}

struct tensor *tensor_contiguous(const struct tensor *t)
{
	struct tensor *c = tensor_new(t->ndim, t->shape);

	if (c)
		tensor_copy(c, t);
	return c;
}

static void fans(int ndim, const int64_t *shape, double *fan_in, double *fan_out)
{
	double rf = 1;

	if (ndim < 2) {
		*fan_in = *fan_out = ndim ? (double)shape[0] : 1;
		return;
	}
	for (int d = 2; d < ndim; d++)
		rf *= (double)shape[d];
	*fan_in = (double)shape[1] * rf;
	*fan_out = (double)shape[0] * rf;
}

/* Draws one value for spec; scale/bound precomputed by the caller. */
static float draw(const struct tensor_init_spec *spec, double scale, struct rng *r)
{
	switch (spec->kind) {
	case TENSOR_INIT_CONSTANT:
		return spec->a;
	case TENSOR_INIT_NORMAL:
		return spec->a + spec->b * rng_normal(r);
	case TENSOR_INIT_UNIFORM:
		return spec->a + (spec->b - spec->a) * rng_uniform(r);
	case TENSOR_INIT_KAIMING_NORMAL:
	case TENSOR_INIT_XAVIER_NORMAL:
		return (float)(scale * rng_normal(r));
	case TENSOR_INIT_KAIMING_UNIFORM:
	case TENSOR_INIT_XAVIER_UNIFORM:
		return (float)(scale * (2.0 * rng_uniform(r) - 1.0));
	}
	return 0;
}

static double init_scale(int ndim, const int64_t *shape, const struct tensor_init_spec *spec)
{
	double fi, fo, fan;

	fans(ndim, shape, &fi, &fo);
	fan = spec->b != 0 ? fo : fi;
	if (fan <= 0)
		fan = 1;
	switch (spec->kind) {
	case TENSOR_INIT_KAIMING_NORMAL:
		return spec->a / sqrt(fan);
	case TENSOR_INIT_KAIMING_UNIFORM:
		return spec->a * sqrt(3.0 / fan);
	case TENSOR_INIT_XAVIER_NORMAL:
		return spec->a * sqrt(2.0 / (fi + fo));
	case TENSOR_INIT_XAVIER_UNIFORM:
		return spec->a * sqrt(6.0 / (fi + fo));
	default:
		return 1;
	}
}

void tensor_init_array(float *data, int ndim, const int64_t *shape,
	const struct tensor_init_spec *spec, struct rng *r)
{
	double scale = init_scale(ndim, shape, spec);
	int64_t n = shape_numel(ndim, shape);

	for (int64_t i = 0; i < n; i++)
		data[i] = draw(spec, scale, r);
}

void tensor_init(struct tensor *t, const struct tensor_init_spec *spec, struct rng *r)
{
	int64_t idx[TENSOR_MAX_DIMS] = { 0 };
	double scale = init_scale(t->ndim, t->shape, spec);

	if (t->numel == 0)
		return;
	do
		t->data[tensor_offset(t, idx)] = draw(spec, scale, r);
	while (next_index(t->ndim, t->shape, idx));
}

int tensor_init_parse(const char *name, struct tensor_init_spec *spec)
{
	static const struct {
		const char *name;
		enum tensor_init kind;
		float a, b;
	} kinds[] = {
		{ "constant", TENSOR_INIT_CONSTANT, 0, 0 },
		{ "zeros", TENSOR_INIT_CONSTANT, 0, 0 },
		{ "ones", TENSOR_INIT_CONSTANT, 1, 0 },
		{ "normal", TENSOR_INIT_NORMAL, 0, 1 },
		{ "uniform", TENSOR_INIT_UNIFORM, 0, 1 },
		{ "kaiming_normal", TENSOR_INIT_KAIMING_NORMAL, 1.41421356f, 0 },
		{ "kaiming_uniform", TENSOR_INIT_KAIMING_UNIFORM, 1.41421356f, 0 },
		{ "xavier_normal", TENSOR_INIT_XAVIER_NORMAL, 1, 0 },
		{ "xavier_uniform", TENSOR_INIT_XAVIER_UNIFORM, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(name, kinds[i].name)) {
			spec->kind = kinds[i].kind;
			spec->a = kinds[i].a;
			spec->b = kinds[i].b;
			return 0;
		}
	return det_error_set(DET_EINVAL, "unknown initialiser '%s' (constant, zeros, ones, normal, "
		"uniform, kaiming_normal, kaiming_uniform, xavier_normal, xavier_uniform)", name);
}

/* ---- printing ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n + 64;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->failed = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

#define EDGE 3      /* elements shown at each end of an elided dimension */
#define ELIDE_NUMEL 1000 /* tensors larger than this are elided, as PyTorch does */

struct fmt_ctx {
	const struct tensor *t;
	int width, prec, sci, ints;
};

static void fmt_value(struct sbuf *b, const struct fmt_ctx *c, float v)
{
	if (!isfinite(v))
		sb_put(b, "%*s", c->width, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
	else if (c->ints)
		sb_put(b, "%*.0f.", c->width - 1, v);
	else if (c->sci)
		sb_put(b, "%*.*e", c->width, c->prec, v);
	else
		sb_put(b, "%*.*f", c->width, c->prec, v);
}

static void fmt_dim(struct sbuf *b, const struct fmt_ctx *c, int d, const float *p, int indent)
{
	const struct tensor *t = c->t;
	int64_t n = t->shape[d];
	int elide = t->numel > ELIDE_NUMEL && n > 2 * EDGE;

	sb_put(b, "[");
	for (int64_t i = 0; i < n; i++) {
		if (elide && i == EDGE) {
			if (d == t->ndim - 1)
				sb_put(b, " ..., "); /* PyTorch's ",  ..., " */
			else
				sb_put(b, "...,\n%*s", indent + 1, "");
			i = n - EDGE;
		}
		if (d == t->ndim - 1)
			fmt_value(b, c, p[i * t->stride[d]]);
		else
			fmt_dim(b, c, d + 1, p + i * t->stride[d], indent + 1);
		if (i + 1 < n) {
			if (d == t->ndim - 1)
				sb_put(b, ", ");
			else {
				sb_put(b, ",");
				for (int k = d; k < t->ndim - 1; k++)
					sb_put(b, "\n");
				sb_put(b, "%*s", indent + 1, "");
			}
		}
	}
	sb_put(b, "]");
}

/* Scans the shown elements to choose one format for all (like PyTorch). */
static void choose_format(struct fmt_ctx *c)
{
	const struct tensor *t = c->t;
	int64_t idx[TENSOR_MAX_DIMS] = { 0 };
	double amax = 0, amin = INFINITY, vmax = -INFINITY, vmin = INFINITY;
	int ints = 1;
	char buf[64];

	if (t->numel > 0)
		do {
			float v = t->data[tensor_offset(t, idx)];
			if (!isfinite(v))
				continue;
			if (v != floorf(v))
				ints = 0;
			amax = fmax(amax, fabsf(v));
			vmax = fmax(vmax, v);
			vmin = fmin(vmin, v);
			if (v != 0)
				amin = fmin(amin, fabsf(v));
		} while (next_index(t->ndim, t->shape, idx));
	if (vmax < vmin)
		vmax = vmin = 0;
	c->ints = ints && amax < 1e8;
	c->sci = !c->ints && (amax >= 1e8 || (amin < 1e-4 && amin != INFINITY) ||
		(amin != INFINITY && amax / amin > 1e5));
	c->prec = 4;
	if (c->ints)
		c->width = (int)fmax(snprintf(buf, sizeof(buf), "%.0f.", vmax), snprintf(buf, sizeof(buf), "%.0f.", vmin));
	else if (c->sci)
		c->width = (int)fmax(snprintf(buf, sizeof(buf), "%.4e", vmax), snprintf(buf, sizeof(buf), "%.4e", vmin));
	else
		c->width = (int)fmax(snprintf(buf, sizeof(buf), "%.4f", vmax), snprintf(buf, sizeof(buf), "%.4f", vmin));
}

char *tensor_format(const struct tensor *t)
{
	struct sbuf b = { 0 };
	struct fmt_ctx c = { .t = t };
	char sh[96];

	choose_format(&c);
	sb_put(&b, "tensor(");
	if (t->ndim == 0)
		fmt_value(&b, &c, t->data[0]);
	else if (t->numel == 0)
		sb_put(&b, "[]");
	else
		fmt_dim(&b, &c, 0, t->data, 7);
	sb_put(&b, ", shape=%s)", tensor_shape_str(t->ndim, t->shape, sh, sizeof(sh)));
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
