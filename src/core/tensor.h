/* tensor.h: float32 tensors of up to 5 dimensions (NCHW for images), with
 * views that share storage (reshape, slice, select), seeded initialisers and
 * a compact printer. A tensor either owns a reference-counted buffer or
 * borrows memory someone else owns (a graph's activation arena, a parameter
 * slab); views keep the buffer alive, borrowed memory must outlive them. */
#ifndef DET_CORE_TENSOR_H
#define DET_CORE_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

#define TENSOR_MAX_DIMS 5

struct tensor_buf; /* reference-counted storage, private to tensor.c */

struct tensor {
	float *data;                      /* first element */
	int ndim;                         /* 0 (scalar) .. TENSOR_MAX_DIMS */
	int64_t shape[TENSOR_MAX_DIMS];
	int64_t stride[TENSOR_MAX_DIMS];  /* in elements */
	int64_t numel;
	struct tensor_buf *buf;           /* NULL when the memory is borrowed */
};

/* A new zero-filled contiguous tensor; NULL (DET_ENOMEM/DET_EINVAL) on failure. */
struct tensor *tensor_new(int ndim, const int64_t *shape);
/* A contiguous tensor over memory the caller owns (it must outlive the tensor). */
struct tensor *tensor_wrap(float *data, int ndim, const int64_t *shape);
/* Drops this handle; the storage goes with its last view. NULL is a no-op. */
void tensor_free(struct tensor *t);

/* A view with a new shape over the same elements; t must be contiguous and
 * the element count equal. One dimension may be -1 (inferred). NULL with
 * DET_EINVAL naming both shapes otherwise. */
struct tensor *tensor_reshape(const struct tensor *t, int ndim, const int64_t *shape);
/* A view of elements start, start+step, ... < end along dim (no copy). */
struct tensor *tensor_slice(const struct tensor *t, int dim, int64_t start, int64_t end, int64_t step);
/* A view with dimension dim removed at index i (no copy). */
struct tensor *tensor_select(const struct tensor *t, int dim, int64_t i);
/* A view with dimensions reordered: view dim d is t's dim perm[d] (no copy). */
struct tensor *tensor_permute(const struct tensor *t, const int *perm);
/* A new contiguous copy of any view. */
struct tensor *tensor_contiguous(const struct tensor *t);

int tensor_is_contiguous(const struct tensor *t);
/* Copies src into dst element by element (same shape; any strides). */
int tensor_copy(struct tensor *dst, const struct tensor *src);
/* Flat offset (in elements) of the element at idx (ndim indices). */
int64_t tensor_offset(const struct tensor *t, const int64_t *idx);
float tensor_get(const struct tensor *t, const int64_t *idx);
void tensor_set(struct tensor *t, const int64_t *idx, float v);
/* Calls fn on every element in row-major order of the view. */
void tensor_apply(struct tensor *t, float (*fn)(float v, void *ctx), void *ctx);
int tensor_same_shape(const struct tensor *a, const struct tensor *b);
/* "(2, 3, 4)" into buf; returns buf. */
char *tensor_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);

/* Initialisers. fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:])
 * (for 1-D tensors both are shape[0]), as torch.nn.init computes them.
 *   kaiming_normal:  N(0, gain^2 / fan)          kaiming_uniform: U(-b, b), b = gain * sqrt(3 / fan)
 *   xavier_normal:   N(0, gain^2 * 2 / (fan_in + fan_out))
 *   xavier_uniform:  U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))
 * He et al. 2015 (gain = sqrt(2) for ReLU); Glorot & Bengio 2010. fan is
 * fan_in when fan_out_mode is 0. Elements are drawn in row-major order. */
enum tensor_init {
	TENSOR_INIT_CONSTANT,
	TENSOR_INIT_NORMAL,          /* N(a, b^2): a = mean, b = std */
	TENSOR_INIT_UNIFORM,         /* U(a, b) */
	TENSOR_INIT_KAIMING_NORMAL,  /* a = gain, b = 1 for fan_out mode */
	TENSOR_INIT_KAIMING_UNIFORM,
	TENSOR_INIT_XAVIER_NORMAL,   /* a = gain */
	TENSOR_INIT_XAVIER_UNIFORM,
};
struct tensor_init_spec {
	enum tensor_init kind;
	float a, b; /* meaning per kind, see above; constant: value a */
};
/* Fills t (any view) from r according to spec. */
void tensor_init(struct tensor *t, const struct tensor_init_spec *spec, struct rng *r);
/* The same on a plain contiguous array of the given shape. */
void tensor_init_array(float *data, int ndim, const int64_t *shape,
	const struct tensor_init_spec *spec, struct rng *r);
/* Parses "kaiming_normal", "xavier_uniform", "normal", "uniform", "constant",
 * "zeros", "ones"; DET_EINVAL for others. a/b keep their defaults otherwise. */
int tensor_init_parse(const char *name, struct tensor_init_spec *spec);

/* PyTorch-like text: "tensor([[ 0.1000, -2.0000],\n        [...]], shape=(2, 2))"
 * aligned columns, long dimensions elided with "...". Returns a malloc'd
 * string the caller frees, or NULL on allocation failure. */
char *tensor_format(const struct tensor *t);

#endif
