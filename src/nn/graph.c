/* graph.c: the parameter store, graph building with shape inference, the
 * memory plan (liveness over a forward+backward timeline, greedy placement
 * in one arena of activations, gradients, re-computed norm outputs and each
 * conv call's scratch; ReLU folding and reshape aliasing), and the forward
 * and backward passes (one switch each). Nodes can only refer to nodes added
 * before them, so insertion order is a topological order. */
#include "nn/graph.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "nn/conv.h"
#include "nn/ops.h"
#include "nn/optim.h"

struct nn_graph {
	struct nn_store *store;
	struct nn_node *nodes;
	int n, cap;
	float **inputs;        /* per node: an input's own buffer, else NULL */
	int train, profile, check;
	/* the plan in force */
	int planned, plan_train;
	unsigned plan_generation;
	float *arena, *aux;
	size_t arena_cap, aux_cap; /* floats */
	struct nn_graph_stats stats;
};

static const char *const op_names[NN_OP_COUNT] = {
	[NN_OP_INPUT] = "input", [NN_OP_PARAM] = "param", [NN_OP_CONV2D] = "conv2d",
	[NN_OP_BATCHNORM] = "batchnorm", [NN_OP_GROUPNORM] = "groupnorm", [NN_OP_RELU] = "relu",
	[NN_OP_LEAKY_RELU] = "leaky_relu", [NN_OP_SILU] = "silu", [NN_OP_SIGMOID] = "sigmoid",
	[NN_OP_HARDSWISH] = "hardswish", [NN_OP_MISH] = "mish", [NN_OP_TANH] = "tanh",
	[NN_OP_RELU6] = "relu6", [NN_OP_RECIPROCAL] = "reciprocal",
	[NN_OP_MAXPOOL] = "maxpool", [NN_OP_AVGPOOL] = "avgpool",
	[NN_OP_GLOBAL_AVGPOOL] = "global_avgpool", [NN_OP_RESIZE_NEAREST] = "resize_nearest",
	[NN_OP_RESIZE_BILINEAR] = "resize_bilinear", [NN_OP_ADD] = "add", [NN_OP_MUL] = "mul",
	[NN_OP_SCALE] = "scale", [NN_OP_CONCAT] = "concat", [NN_OP_SLICE] = "slice",
	[NN_OP_RESHAPE] = "reshape", [NN_OP_PERMUTE] = "permute", [NN_OP_SUM] = "sum",
	[NN_OP_MEAN] = "mean", [NN_OP_SOFTMAX] = "softmax", [NN_OP_LOG_SOFTMAX] = "log_softmax",
};

const char *nn_op_name(enum nn_op op)
{
	return op >= 0 && op < NN_OP_COUNT ? op_names[op] : "?";
}

/* ---- the parameter store ---- */

struct nn_store *nn_store_new(uint64_t seed)
{
	struct nn_store *s = calloc(1, sizeof(*s));

	if (!s) {
		det_error_set(DET_ENOMEM, "parameter store: out of memory");
		return NULL;
	}
	s->seed = seed;
	s->refs = 1;
	return s;
}

void nn_store_free(struct nn_store *s)
{
	if (!s || --s->refs > 0)
		return;
	for (int i = 0; i < s->nparams; i++)
		free(s->params[i].name);
	for (int i = 0; i < s->nbuffers; i++)
		free(s->buffers[i].name);
	free(s->params);
	free(s->buffers);
	free(s->data);
	free(s->grad);
	free(s->state);
	free(s);
}

int nn_store_find(const struct nn_store *s, const char *name)
{
	for (int i = 0; i < s->nparams; i++)
		if (!strcmp(s->params[i].name, name))
			return i;
	return -1;
}

int nn_store_find_buffer(const struct nn_store *s, const char *name)
{
	for (int i = 0; i < s->nbuffers; i++)
		if (!strcmp(s->buffers[i].name, name))
			return i;
	return -1;
}

static int prefix_match(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return n == 0 || (!strncmp(name, prefix, n) && (name[n] == 0 || name[n] == '.'));
}

int nn_store_freeze(struct nn_store *s, const char *prefix, int frozen)
{
	int count = 0;

	for (int i = 0; i < s->nparams; i++) {
		struct nn_param *p = &s->params[i];
		if (!prefix_match(p->name, prefix))
			continue;
		p->frozen = frozen;
		if (frozen)
			memset(s->grad + p->offset, 0, sizeof(float) * p->count);
		count++;
	}
	s->generation++;
	return count;
}

int nn_store_bind_optim(struct nn_store *s, struct optim *opt)
{
	struct optim_segment *segs = calloc((size_t)s->nparams + 1, sizeof(*segs));
	int rc;

	if (!segs)
		return det_error_set(DET_ENOMEM, "bind: out of memory");
	for (int i = 0; i < s->nparams; i++) {
		const struct nn_param *p = &s->params[i];
		segs[i].name = p->name;
		segs[i].offset = p->offset;
		segs[i].count = p->count;
		segs[i].flags = ((p->flags & NN_PARAM_NORM) ? OPTIM_NORM : 0) |
			((p->flags & NN_PARAM_BIAS) ? OPTIM_BIAS : 0) | (p->frozen ? OPTIM_FROZEN : 0);
	}
	rc = optim_bind(opt, s->data, s->grad, s->count, segs, (size_t)s->nparams);
	free(segs);
	return rc;
}

/* Grows a float slab to hold need floats (capacity doubles). */
static int slab_reserve(float **slab, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 1024;
	float *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*slab, c * sizeof(float));
	if (!p)
		return det_error_set(DET_ENOMEM, "parameter store: out of memory for %zu floats", need);
	*slab = p;
	*cap = c;
	return 0;
}

/* Appends an entry to params or buffers. */
static struct nn_param *entry_add(struct nn_param **list, int *n, int *cap, const char *name)
{
	struct nn_param *e;

	if (*n == *cap) {
		int c = *cap ? *cap * 2 : 32;
		struct nn_param *p = realloc(*list, sizeof(*p) * (size_t)c);
		if (!p)
			return NULL;
		*list = p;
		*cap = c;
	}
	e = &(*list)[*n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(name)))
		return NULL;
	(*n)++;
	return e;
}

/* Adds a parameter and initialises it from (seed, its index). Returns its index. */
static int store_add_param(struct nn_store *s, const char *name, int ndim, const int64_t *shape,
	const struct tensor_init_spec *init, unsigned flags)
{
	int64_t count = 1;
	struct nn_param *p;
	struct rng r;
	size_t cap_grad = s->cap;

	for (int d = 0; d < ndim; d++)
		count *= shape[d];
	if (slab_reserve(&s->data, &s->cap, s->count + (size_t)count))
		return DET_ENOMEM;
	if (slab_reserve(&s->grad, &cap_grad, s->cap) || cap_grad != s->cap) {
		/* keep data and grad the same capacity */
		float *g = realloc(s->grad, s->cap * sizeof(float));
		if (!g)
			return det_error_set(DET_ENOMEM, "parameter store: out of memory");
		s->grad = g;
	}
	if (!(p = entry_add(&s->params, &s->nparams, &s->pcap, name)))
		return det_error_set(DET_ENOMEM, "parameter store: out of memory");
	p->ndim = ndim;
	memcpy(p->shape, shape, sizeof(*shape) * (size_t)ndim);
	p->offset = s->count;
	p->count = (size_t)count;
	p->flags = flags;
	rng_init(&r, s->seed, (uint64_t)(s->nparams - 1));
	tensor_init_array(s->data + p->offset, ndim, shape, init, &r);
	memset(s->grad + p->offset, 0, sizeof(float) * p->count);
	s->count += (size_t)count;
	s->generation++;
	return s->nparams - 1;
}

static int store_add_buffer(struct nn_store *s, const char *name, int64_t count, float value)
{
	struct nn_param *b;
	int i = nn_store_find_buffer(s, name);

	if (i >= 0)
		return (int64_t)s->buffers[i].count == count ? i :
			det_error_set(DET_EINVAL, "buffer %s exists with %zu values, not %lld", name,
				s->buffers[i].count, (long long)count);
	if (slab_reserve(&s->state, &s->state_cap, s->nstate + (size_t)count))
		return DET_ENOMEM;
	if (!(b = entry_add(&s->buffers, &s->nbuffers, &s->bcap, name)))
		return det_error_set(DET_ENOMEM, "parameter store: out of memory");
	b->ndim = 1;
	b->shape[0] = count;
	b->offset = s->nstate;
	b->count = (size_t)count;
	for (int64_t k = 0; k < count; k++)
		s->state[s->nstate + (size_t)k] = value;
	s->nstate += (size_t)count;
	s->generation++;
	return s->nbuffers - 1;
}

/* ---- graph objects ---- */

struct nn_graph *nn_graph_new(struct nn_store *store, uint64_t seed)
{
	struct nn_graph *g = calloc(1, sizeof(*g));

	if (!g) {
		det_error_set(DET_ENOMEM, "graph: out of memory");
		return NULL;
	}
	if (store) {
		store->refs++;
		g->store = store;
	} else if (!(g->store = nn_store_new(seed))) {
		free(g);
		return NULL;
	}
	g->train = 1;
	return g;
}

void nn_graph_free(struct nn_graph *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n; i++) {
		free(g->nodes[i].name);
		free(g->inputs[i]);
	}
	free(g->nodes);
	free(g->inputs);
	free(g->arena);
	free(g->aux);
	nn_store_free(g->store);
	free(g);
}

struct nn_store *nn_graph_store(struct nn_graph *g)
{
	return g->store;
}

int nn_graph_node_count(const struct nn_graph *g)
{
	return g->n;
}

const struct nn_node *nn_graph_node(const struct nn_graph *g, int id)
{
	return id >= 0 && id < g->n ? &g->nodes[id] : NULL;
}

int nn_graph_find(const struct nn_graph *g, const char *name)
{
	for (int i = g->n - 1; i >= 0; i--)
		if (!strcmp(g->nodes[i].name, name))
			return i;
	return -1;
}

int nn_graph_rename(struct nn_graph *g, int node, const char *name)
{
	char *s;

	if (node < 0 || node >= g->n)
		return det_error_set(DET_EINVAL, "rename: %d is not a node of this graph", node);
	if (!(s = strdup(name)))
		return det_error_set(DET_ENOMEM, "rename: out of memory");
	free(g->nodes[node].name);
	g->nodes[node].name = s;
	return 0;
}

static const char *nm(const struct nn_graph *g, int id)
{
	return g->nodes[id].name;
}

static char *shp(const struct nn_node *nd, char *buf)
{
	return tensor_shape_str(nd->ndim, nd->shape, buf, 96);
}

/* Appends a node (srcs already checked); returns its id. */
static int node_push(struct nn_graph *g, const struct nn_node *nd, const char *name)
{
	struct nn_node *x;
	char auto_name[48];

	if (g->n == g->cap) {
		int c = g->cap ? g->cap * 2 : 64;
		struct nn_node *p = realloc(g->nodes, sizeof(*p) * (size_t)c);
		float **in;
		if (!p)
			return det_error_set(DET_ENOMEM, "graph: out of memory");
		g->nodes = p;
		in = realloc(g->inputs, sizeof(*in) * (size_t)c);
		if (!in)
			return det_error_set(DET_ENOMEM, "graph: out of memory");
		g->inputs = in;
		g->cap = c;
	}
	if (!name || !*name) {
		snprintf(auto_name, sizeof(auto_name), "%s_%d", nn_op_name(nd->op), g->n);
		name = auto_name;
	}
	x = &g->nodes[g->n];
	*x = *nd;
	x->numel = 1;
	for (int d = 0; d < x->ndim; d++)
		x->numel *= x->shape[d];
	x->alias = -1;
	if (!(x->name = strdup(name)))
		return det_error_set(DET_ENOMEM, "graph: out of memory");
	g->inputs[g->n] = NULL;
	g->planned = 0;
	return g->n++;
}

int nn_graph_input(struct nn_graph *g, const char *name, int ndim, const int64_t *shape)
{
	struct nn_node nd = { .op = NN_OP_INPUT, .ndim = ndim, .param = -1, .state = -1 };
	int64_t n = 1;
	int id;

	if (ndim < 1 || ndim > NN_MAX_DIMS)
		return det_error_set(DET_EINVAL, "input %s: %d dimensions (1 to %d)", name, ndim, NN_MAX_DIMS);
	for (int d = 0; d < ndim; d++) {
		if (shape[d] < 1)
			return det_error_set(DET_EINVAL, "input %s: size %lld in dimension %d",
				name, (long long)shape[d], d);
		nd.shape[d] = shape[d];
		n *= shape[d];
	}
	if ((id = node_push(g, &nd, name)) < 0)
		return id;
	if (!(g->inputs[id] = calloc((size_t)n, sizeof(float)))) {
		free(g->nodes[id].name);
		g->n--;
		return det_error_set(DET_ENOMEM, "input %s: out of memory", name);
	}
	return id;
}

int nn_graph_param(struct nn_graph *g, const char *name, int ndim, const int64_t *shape,
	const struct tensor_init_spec *init, unsigned flags)
{
	struct nn_node nd = { .op = NN_OP_PARAM, .ndim = ndim, .state = -1 };
	struct tensor_init_spec zero = { TENSOR_INIT_CONSTANT, 0, 0 };
	int i = nn_store_find(g->store, name);
	char a[96], b[96];

	if (ndim < 1 || ndim > NN_MAX_DIMS)
		return det_error_set(DET_EINVAL, "parameter %s: %d dimensions (1 to %d)", name, ndim, NN_MAX_DIMS);
	memcpy(nd.shape, shape, sizeof(*shape) * (size_t)ndim);
	if (i >= 0) {
		const struct nn_param *p = &g->store->params[i];
		int same = p->ndim == ndim;
		for (int d = 0; same && d < ndim; d++)
			same = p->shape[d] == shape[d];
		if (!same)
			return det_error_set(DET_EINVAL, "parameter %s exists with shape %s, not %s", name,
				tensor_shape_str(p->ndim, p->shape, a, sizeof(a)),
				tensor_shape_str(ndim, shape, b, sizeof(b)));
	} else if ((i = store_add_param(g->store, name, ndim, shape, init ? init : &zero, flags)) < 0)
		return i;
	nd.param = i;
	return node_push(g, &nd, name);
}

/* Broadcast check: b's shape, aligned right, is 1 or equal to a's in each dim. */
static int broadcastable(const struct nn_node *a, const struct nn_node *b)
{
	if (b->ndim == 1 && a->ndim >= 3 && b->shape[0] == a->shape[1])
		return 1; /* a per-channel vector */
	if (b->ndim > a->ndim)
		return 0;
	for (int d = 0; d < b->ndim; d++) {
		int64_t sb = b->shape[b->ndim - 1 - d], sa = a->shape[a->ndim - 1 - d];
		if (sb != 1 && sb != sa)
			return 0;
	}
	return 1;
}

/* Output shape of pooling/conv along one dimension. */
static int64_t out_size(int64_t in, int k, int stride, int pad, int dil)
{
	return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

/* Infers nd's shape from its sources; a message naming both nodes on error. */
static int infer(struct nn_graph *g, struct nn_node *nd, const char *name)
{
	const struct nn_node *x = nd->nsrc ? &g->nodes[nd->src[0]] : NULL;
	const int *I = nd->p.i;
	char a[96], b[96];

	nd->ndim = x ? x->ndim : 0;
	if (x)
		memcpy(nd->shape, x->shape, sizeof(nd->shape));
	switch (nd->op) {
	case NN_OP_CONV2D: {
		const struct nn_node *w = &g->nodes[nd->src[1]];
		int groups = I[6];
		if (x->ndim != 4)
			return det_error_set(DET_EINVAL, "%s expects a 4-D (N, C, H, W) input, got %s from %s",
				name, shp(x, a), nm(g, nd->src[0]));
		if (w->ndim != 4)
			return det_error_set(DET_EINVAL, "%s: weight %s must be 4-D, is %s", name,
				nm(g, nd->src[1]), shp(w, a));
		if (groups < 1 || w->shape[0] % groups)
			return det_error_set(DET_EINVAL, "%s: %lld output channels not divisible by groups %d",
				name, (long long)w->shape[0], groups);
		if (w->shape[1] * groups != x->shape[1])
			return det_error_set(DET_EINVAL, "%s expects %lld input channels, got %lld from %s",
				name, (long long)(w->shape[1] * groups), (long long)x->shape[1], nm(g, nd->src[0]));
		if (nd->nsrc > 2 && (g->nodes[nd->src[2]].numel != w->shape[0]))
			return det_error_set(DET_EINVAL, "%s: bias %s has %lld values for %lld channels", name,
				nm(g, nd->src[2]), (long long)g->nodes[nd->src[2]].numel, (long long)w->shape[0]);
		if (I[0] < 1 || I[1] < 1 || I[2] < 0 || I[3] < 0 || I[4] < 1 || I[5] < 1)
			return det_error_set(DET_EINVAL, "%s: bad stride, padding or dilation", name);
		nd->shape[1] = w->shape[0];
		nd->shape[2] = out_size(x->shape[2], (int)w->shape[2], I[0], I[2], I[4]);
		nd->shape[3] = out_size(x->shape[3], (int)w->shape[3], I[1], I[3], I[5]);
		if (nd->shape[2] < 1 || nd->shape[3] < 1)
			return det_error_set(DET_EINVAL, "%s: input %s from %s is smaller than the %lldx%lld kernel",
				name, shp(x, a), nm(g, nd->src[0]), (long long)w->shape[2], (long long)w->shape[3]);
		return 0;
	}
	case NN_OP_BATCHNORM:
	case NN_OP_GROUPNORM:
		if (x->ndim < 2)
			return det_error_set(DET_EINVAL, "%s expects an (N, C, ...) input, got %s from %s",
				name, shp(x, a), nm(g, nd->src[0]));
		for (int s = 1; s < 3; s++)
			if (g->nodes[nd->src[s]].numel != x->shape[1])
				return det_error_set(DET_EINVAL, "%s expects %lld channels, got %lld from %s",
					name, (long long)g->nodes[nd->src[s]].numel, (long long)x->shape[1],
					nm(g, nd->src[0]));
		if (nd->op == NN_OP_GROUPNORM && (I[1] < 1 || x->shape[1] % I[1]))
			return det_error_set(DET_EINVAL, "%s: %lld channels from %s not divisible into %d groups",
				name, (long long)x->shape[1], nm(g, nd->src[0]), I[1]);
		return 0;
	case NN_OP_RELU: case NN_OP_LEAKY_RELU: case NN_OP_SILU: case NN_OP_SIGMOID:
	case NN_OP_HARDSWISH: case NN_OP_MISH: case NN_OP_TANH: case NN_OP_SCALE:
	case NN_OP_RELU6: case NN_OP_RECIPROCAL:
		return 0;
	case NN_OP_MAXPOOL:
	case NN_OP_AVGPOOL:
		if (x->ndim != 4)
			return det_error_set(DET_EINVAL, "%s expects a 4-D input, got %s from %s",
				name, shp(x, a), nm(g, nd->src[0]));
		if (I[0] < 1 || I[1] < 1 || I[2] < 1 || I[3] < 1 || I[4] < 0 || I[5] < 0 ||
			2 * I[4] > I[0] || 2 * I[5] > I[1])
			return det_error_set(DET_EINVAL, "%s: bad kernel %dx%d, stride or padding", name, I[0], I[1]);
		nd->shape[2] = out_size(x->shape[2], I[0], I[2], I[4], 1);
		nd->shape[3] = out_size(x->shape[3], I[1], I[3], I[5], 1);
		if (nd->shape[2] < 1 || nd->shape[3] < 1)
			return det_error_set(DET_EINVAL, "%s: input %s from %s is smaller than the window",
				name, shp(x, a), nm(g, nd->src[0]));
		return 0;
	case NN_OP_GLOBAL_AVGPOOL:
		if (x->ndim != 4)
			return det_error_set(DET_EINVAL, "%s expects a 4-D input, got %s from %s",
				name, shp(x, a), nm(g, nd->src[0]));
		nd->shape[2] = nd->shape[3] = 1;
		return 0;
	case NN_OP_RESIZE_NEAREST:
	case NN_OP_RESIZE_BILINEAR:
		if (x->ndim != 4 || I[0] < 1 || I[1] < 1)
			return det_error_set(DET_EINVAL, "%s: cannot resize %s from %s to %dx%d",
				name, shp(x, a), nm(g, nd->src[0]), I[0], I[1]);
		nd->shape[2] = I[0];
		nd->shape[3] = I[1];
		return 0;
	case NN_OP_ADD:
	case NN_OP_MUL:
		if (!broadcastable(x, &g->nodes[nd->src[1]]))
			return det_error_set(DET_EINVAL, "%s: %s from %s does not broadcast to %s from %s",
				name, shp(&g->nodes[nd->src[1]], a), nm(g, nd->src[1]), shp(x, b), nm(g, nd->src[0]));
		return 0;
	case NN_OP_CONCAT: {
		int axis = I[0];
		if (axis < 0 || axis >= x->ndim)
			return det_error_set(DET_EINVAL, "%s: axis %d out of range for %s", name, axis, shp(x, a));
		nd->shape[axis] = 0;
		for (int s = 0; s < nd->nsrc; s++) {
			const struct nn_node *y = &g->nodes[nd->src[s]];
			int same = y->ndim == x->ndim;
			for (int d = 0; same && d < x->ndim; d++)
				same = d == axis || y->shape[d] == x->shape[d];
			if (!same)
				return det_error_set(DET_EINVAL, "%s: cannot concatenate %s from %s with %s from %s "
					"along axis %d", name, shp(y, a), nm(g, nd->src[s]), shp(x, b),
					nm(g, nd->src[0]), axis);
			nd->shape[axis] += y->shape[axis];
		}
		return 0;
	}
	case NN_OP_SLICE:
		if (I[0] < 0 || I[0] >= x->ndim || I[1] < 0 || I[2] > x->shape[I[0]] || I[1] >= I[2])
			return det_error_set(DET_EINVAL, "%s: slice [%d:%d] of axis %d out of range for %s from %s",
				name, I[1], I[2], I[0], shp(x, a), nm(g, nd->src[0]));
		nd->shape[I[0]] = I[2] - I[1];
		return 0;
	case NN_OP_RESHAPE:
		return 0; /* checked by the caller */
	case NN_OP_PERMUTE: {
		int seen = 0;
		for (int d = 0; d < x->ndim; d++) {
			if (I[d] < 0 || I[d] >= x->ndim || (seen & (1 << I[d])))
				return det_error_set(DET_EINVAL, "%s: not a permutation of the %d axes of %s",
					name, x->ndim, nm(g, nd->src[0]));
			seen |= 1 << I[d];
			nd->shape[d] = x->shape[I[d]];
		}
		return 0;
	}
	case NN_OP_SUM:
	case NN_OP_MEAN:
		for (int d = 0; d < x->ndim; d++)
			if ((unsigned)I[0] & (1u << d))
				nd->shape[d] = 1;
		return 0;
	case NN_OP_SOFTMAX:
	case NN_OP_LOG_SOFTMAX:
		if (I[0] < 0 || I[0] >= x->ndim)
			return det_error_set(DET_EINVAL, "%s: axis %d out of range for %s from %s",
				name, I[0], shp(x, a), nm(g, nd->src[0]));
		return 0;
	default:
		return det_error_set(DET_EINVAL, "%s: op %d cannot be built this way", name, nd->op);
	}
}

int nn_graph_op(struct nn_graph *g, enum nn_op op, const char *name, const int *src, int nsrc,
	const struct nn_op_params *p)
{
	struct nn_node nd = { .op = op, .nsrc = nsrc, .param = -1, .state = -1 };
	char auto_name[48];
	int rc;

	if (!name || !*name) {
		snprintf(auto_name, sizeof(auto_name), "%s_%d", nn_op_name(op), g->n);
		name = auto_name;
	}
	if (op <= NN_OP_PARAM || op >= NN_OP_COUNT)
		return det_error_set(DET_EINVAL, "%s: op %d is not a computation", name, op);
	if (nsrc < 1 || nsrc > NN_MAX_SRC)
		return det_error_set(DET_EINVAL, "%s: %d sources (1 to %d)", name, nsrc, NN_MAX_SRC);
	{
		/* sources each op takes: conv2d x, w[, b]; norms x, scale, shift;
		 * binary ops a, b; concat any; the rest one */
		int lo = 1, hi = 1;
		if (op == NN_OP_CONV2D)
			lo = 2, hi = 3;
		else if (op == NN_OP_BATCHNORM || op == NN_OP_GROUPNORM)
			lo = hi = 3;
		else if (op == NN_OP_ADD || op == NN_OP_MUL)
			lo = hi = 2;
		else if (op == NN_OP_CONCAT)
			hi = NN_MAX_SRC;
		if ((nsrc < lo || nsrc > hi) && hi > lo)
			return det_error_set(DET_EINVAL, "%s: %s takes %d to %d sources, got %d", name,
				nn_op_name(op), lo, hi, nsrc);
		if (nsrc < lo || nsrc > hi)
			return det_error_set(DET_EINVAL, "%s: %s takes %d source%s, got %d", name, nn_op_name(op),
				lo, lo > 1 ? "s" : "", nsrc);
	}
	for (int s = 0; s < nsrc; s++) {
		if (src[s] < 0 || src[s] >= g->n)
			return det_error_set(DET_EINVAL, "%s: source %d is not a node of this graph", name, s + 1);
		nd.src[s] = src[s];
	}
	if (p)
		nd.p = *p;
	if ((rc = infer(g, &nd, name)))
		return rc;
	if (op == NN_OP_BATCHNORM) {
		char buf[512];
		int64_t c = g->nodes[src[0]].shape[1];
		snprintf(buf, sizeof(buf), "%s.running_mean", name);
		if ((rc = store_add_buffer(g->store, buf, c, 0.0f)) < 0)
			return rc;
		nd.state = rc;
		snprintf(buf, sizeof(buf), "%s.running_var", name);
		if ((rc = store_add_buffer(g->store, buf, c, 1.0f)) < 0)
			return rc;
		if (rc != nd.state + 1)
			return det_error_set(DET_EINVAL, "%s: running statistics already exist apart", name);
	}
	return node_push(g, &nd, name);
}

/* ---- typed builders ---- */

int nn_graph_conv2d(struct nn_graph *g, const char *name, int x, int w, int b,
	int stride, int pad, int dil, int groups)
{
	struct nn_op_params p = { .i = { stride, stride, pad, pad, dil, dil, groups } };
	int src[3] = { x, w, b };

	return nn_graph_op(g, NN_OP_CONV2D, name, src, b >= 0 ? 3 : 2, &p);
}

int nn_graph_batchnorm(struct nn_graph *g, const char *name, int x, int gamma, int beta,
	float eps, float momentum)
{
	struct nn_op_params p = { .f = { eps, momentum } };
	int src[3] = { x, gamma, beta };

	return nn_graph_op(g, NN_OP_BATCHNORM, name, src, 3, &p);
}

int nn_graph_groupnorm(struct nn_graph *g, const char *name, int x, int gamma, int beta,
	int groups, float eps)
{
	struct nn_op_params p = { .i = { 0, groups }, .f = { eps } };
	int src[3] = { x, gamma, beta };

	return nn_graph_op(g, NN_OP_GROUPNORM, name, src, 3, &p);
}

int nn_graph_unary(struct nn_graph *g, enum nn_op op, const char *name, int x)
{
	return nn_graph_op(g, op, name, &x, 1, NULL);
}

int nn_graph_leaky_relu(struct nn_graph *g, const char *name, int x, float slope)
{
	struct nn_op_params p = { .f = { slope } };

	return nn_graph_op(g, NN_OP_LEAKY_RELU, name, &x, 1, &p);
}

int nn_graph_pool(struct nn_graph *g, enum nn_op op, const char *name, int x, int k, int stride, int pad)
{
	struct nn_op_params p = { .i = { k, k, stride, stride, pad, pad } };

	return nn_graph_op(g, op, name, &x, 1, &p);
}

int nn_graph_resize(struct nn_graph *g, enum nn_op op, const char *name, int x, int out_h, int out_w)
{
	struct nn_op_params p = { .i = { out_h, out_w } };

	return nn_graph_op(g, op, name, &x, 1, &p);
}

int nn_graph_binary(struct nn_graph *g, enum nn_op op, const char *name, int a, int b)
{
	int src[2] = { a, b };

	return nn_graph_op(g, op, name, src, 2, NULL);
}

int nn_graph_scale(struct nn_graph *g, const char *name, int x, float a, float b)
{
	struct nn_op_params p = { .f = { a, b } };

	return nn_graph_op(g, NN_OP_SCALE, name, &x, 1, &p);
}

int nn_graph_concat(struct nn_graph *g, const char *name, const int *xs, int n, int axis)
{
	struct nn_op_params p = { .i = { axis } };

	return nn_graph_op(g, NN_OP_CONCAT, name, xs, n, &p);
}

int nn_graph_slice(struct nn_graph *g, const char *name, int x, int axis, int start, int end)
{
	struct nn_op_params p = { .i = { axis, start, end } };

	return nn_graph_op(g, NN_OP_SLICE, name, &x, 1, &p);
}

int nn_graph_reshape(struct nn_graph *g, const char *name, int x, int ndim, const int64_t *shape)
{
	struct nn_node nd = { .op = NN_OP_RESHAPE, .nsrc = 1, .src = { x }, .ndim = ndim,
		.param = -1, .state = -1 };
	int64_t n = 1, known = 1;
	int infer_at = -1;
	char a[96], b[96];

	if (x < 0 || x >= g->n)
		return det_error_set(DET_EINVAL, "%s: source is not a node of this graph", name ? name : "reshape");
	if (ndim < 1 || ndim > NN_MAX_DIMS)
		return det_error_set(DET_EINVAL, "%s: %d dimensions", name ? name : "reshape", ndim);
	for (int d = 0; d < ndim; d++) {
		nd.shape[d] = shape[d];
		if (shape[d] == -1 && infer_at < 0)
			infer_at = d;
		else
			known *= shape[d];
	}
	if (infer_at >= 0 && known > 0)
		nd.shape[infer_at] = g->nodes[x].numel / known;
	for (int d = 0; d < ndim; d++)
		n *= nd.shape[d];
	if (n != g->nodes[x].numel)
		return det_error_set(DET_EINVAL, "%s: cannot view %s from %s as %s",
			name ? name : "reshape", shp(&g->nodes[x], a), nm(g, x),
			tensor_shape_str(ndim, shape, b, sizeof(b)));
	return node_push(g, &nd, name);
}

int nn_graph_permute(struct nn_graph *g, const char *name, int x, const int *perm)
{
	struct nn_op_params p = { 0 };

	if (x >= 0 && x < g->n)
		for (int d = 0; d < g->nodes[x].ndim; d++)
			p.i[d] = perm[d];
	return nn_graph_op(g, NN_OP_PERMUTE, name, &x, 1, &p);
}

int nn_graph_reduce(struct nn_graph *g, enum nn_op op, const char *name, int x, unsigned mask)
{
	struct nn_op_params p = { .i = { (int)mask } };

	return nn_graph_op(g, op, name, &x, 1, &p);
}

int nn_graph_softmax(struct nn_graph *g, enum nn_op op, const char *name, int x, int axis)
{
	struct nn_op_params p = { .i = { axis } };

	return nn_graph_op(g, op, name, &x, 1, &p);
}

int nn_graph_output(struct nn_graph *g, int node)
{
	if (node < 0 || node >= g->n)
		return det_error_set(DET_EINVAL, "output: %d is not a node of this graph", node);
	g->nodes[node].is_output = 1;
	g->planned = 0;
	return 0;
}

void nn_graph_set_train(struct nn_graph *g, int train)
{
	g->train = train != 0;
}

int nn_graph_is_train(const struct nn_graph *g)
{
	return g->train;
}

/* ---- the memory plan ---- */

/* Whether a norm runs with batch statistics: training, and its scale trainable. */
static int bn_uses_batch(const struct nn_graph *g, const struct nn_node *nd)
{
	const struct nn_node *gm = &g->nodes[nd->src[1]];

	return g->train && !(gm->op == NN_OP_PARAM && g->store->params[gm->param].frozen);
}

/* Whether a max-pool's forward saves its argmax (a byte per output, in its
 * aux) for the backward, which then reads neither x nor the norm it folds. */
static int pool_saves_idx(const struct nn_graph *g, const struct nn_node *nd)
{
	return nd->op == NN_OP_MAXPOOL && g->train && nd->run_backward && nd->p.i[0] * nd->p.i[1] <= 256;
}

/* Whether node j's backward reads the value of its source in slot s. */
static int backward_reads_src(const struct nn_graph *g, const struct nn_node *nd, int s)
{
	switch (nd->op) {
	case NN_OP_CONV2D:
		/* x for dw; w for dx (a parameter lives in the slab anyway, but
		 * weights computed by a node — stacked by a concat — are a buffer) */
		return (s == 0 && g->nodes[nd->src[1]].needs_grad) || (s == 1 && g->nodes[nd->src[0]].needs_grad);
	case NN_OP_BATCHNORM:
	case NN_OP_GROUPNORM:
		return 1; /* x, and gamma and beta for xhat and the ReLU mask */
	case NN_OP_MAXPOOL:
		return s == 0 && !pool_saves_idx(g, nd);
	case NN_OP_MUL:
		return 1;
	case NN_OP_SILU: case NN_OP_HARDSWISH: case NN_OP_MISH:
		return 1;
	default:
		return 0;
	}
}

/* Whether a node's backward reads its own output value. */
static int backward_reads_self(const struct nn_node *nd)
{
	switch (nd->op) {
	case NN_OP_RELU: case NN_OP_LEAKY_RELU: case NN_OP_SIGMOID: case NN_OP_TANH:
	case NN_OP_RELU6: case NN_OP_RECIPROCAL:
	case NN_OP_SOFTMAX: case NN_OP_LOG_SOFTMAX:
		return 1;
	case NN_OP_ADD:
		return nd->fused_relu; /* norms re-compute their ReLU mask from x */
	default:
		return 0;
	}
}

struct interval {
	int64_t size;          /* floats, rounded up to 16 */
	int start, end;        /* inclusive timeline steps */
	int64_t offset;
	int node, grad;        /* whose buffer: value (grad 0), gradient (1), re-computed value (2),
	                          conv scratch for the forward (3) or the backward (4) */
};

static int cmp_interval(const void *pa, const void *pb)
{
	const struct interval *a = pa, *b = pb;

	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->start - b->start;
}

static int cmp_offset(const void *pa, const void *pb)
{
	const struct interval *a = *(const struct interval *const *)pa, *b = *(const struct interval *const *)pb;

	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/* Greedy placement by decreasing size: each buffer takes the lowest offset
 * that no placed buffer alive at an overlapping time occupies. Returns the
 * arena size in floats. */
static int64_t place(struct interval *iv, int n, struct interval **tmp)
{
	int64_t total = 0;

	qsort(iv, (size_t)n, sizeof(*iv), cmp_interval);
	for (int i = 0; i < n; i++) {
		int k = 0;
		int64_t off = 0;
		for (int j = 0; j < i; j++)
			if (iv[j].start <= iv[i].end && iv[i].start <= iv[j].end)
				tmp[k++] = &iv[j];
		qsort(tmp, (size_t)k, sizeof(*tmp), cmp_offset);
		for (int j = 0; j < k; j++) {
			if (tmp[j]->offset >= off + iv[i].size)
				break;
			if (tmp[j]->offset + tmp[j]->size > off)
				off = tmp[j]->offset + tmp[j]->size;
		}
		iv[i].offset = off;
		if (off + iv[i].size > total)
			total = off + iv[i].size;
	}
	return total;
}

/* Grows a scratch slab (never shrinks); counts reallocations. */
static int grow(float **p, size_t *cap, size_t need, int *allocations)
{
	float *q;

	if (need <= *cap)
		return 0;
	free(*p);
	*p = NULL;
	*cap = 0;
	q = aligned_alloc(64, ((need * sizeof(float) + 63) / 64) * 64);
	if (!q)
		return det_error_set(DET_ENOMEM, "graph: out of memory for a %zu MiB arena",
			need * sizeof(float) >> 20);
	*p = q;
	*cap = need;
	(*allocations)++;
	return 0;
}

static int root(const struct nn_graph *g, int i)
{
	while (g->nodes[i].alias >= 0)
		i = g->nodes[i].alias;
	return i;
}

/* Fills param node pointers from the store (slabs move as parameters are added). */
static void bind_params(struct nn_graph *g)
{
	for (int i = 0; i < g->n; i++) {
		struct nn_node *nd = &g->nodes[i];
		if (nd->op != NN_OP_PARAM)
			continue;
		const struct nn_param *p = &g->store->params[nd->param];
		nd->y = g->store->data + p->offset;
		nd->dy = p->frozen ? NULL : g->store->grad + p->offset;
	}
}

/* Whether add j, whose gradient buffer is already source grad_share's
 * (r), may be the other source's (u) too, so its backward copies nothing.
 * The buffer then holds both gradients, so it must not change between the
 * add's backward and the last of r's and u's: r's only reader is the add
 * (no one else writes r's gradient), every other reader k of u adds into
 * it after r's backward has read it (k < r), and u, if an add (which masks
 * its gradient in place), runs its backward after r's (u < r). r itself
 * may not be an add; u only an op whose backward leaves its dy as it is. */
static int grad_alias_ok(const struct nn_graph *g, int j, const int *uses, const int *dyown)
{
	const struct nn_node *nd = &g->nodes[j];
	const int o = 1 - nd->grad_share, r = root(g, nd->src[nd->grad_share]), u = root(g, nd->src[o]);
	const struct nn_node *R = &g->nodes[r], *U = &g->nodes[u];

	if (r == u || uses[r] != 1 || uses[nd->src[nd->grad_share]] != 1 || R->op == NN_OP_ADD ||
		R->op == NN_OP_MUL || nd->acc[o] || U->op == NN_OP_PARAM || U->op == NN_OP_INPUT ||
		!U->needs_grad || !U->run_backward || U->is_output || U->numel != nd->numel || dyown[u] != u)
		return 0;
	switch (U->op) {
	case NN_OP_BATCHNORM: case NN_OP_GROUPNORM: case NN_OP_CONV2D: case NN_OP_MAXPOOL:
	case NN_OP_AVGPOOL: case NN_OP_RESIZE_NEAREST: case NN_OP_RESIZE_BILINEAR:
		break;
	case NN_OP_ADD:
		if (u > r)
			return 0;
		break;
	default:
		return 0;
	}
	for (int k = 0; k < g->n; k++) {
		const struct nn_node *K = &g->nodes[k];
		if (k == j || K->alias >= 0 || !K->run_backward)
			continue;
		for (int s = 0; s < K->nsrc; s++)
			if (root(g, K->src[s]) == u && k > r)
				return 0;
	}
	return 1;
}

static size_t aux_size(const struct nn_graph *g, const struct nn_node *nd)
{
	if (nd->op == NN_OP_BATCHNORM)
		return 2 * (size_t)nd->shape[1];
	if (nd->op == NN_OP_GROUPNORM) /* mean, invstd per (n, g); the backward's partials per (n, c) */
		return 2 * (size_t)nd->shape[0] * (size_t)nd->p.i[1] + 2 * (size_t)nd->shape[0] * (size_t)nd->shape[1];
	if (pool_saves_idx(g, nd)) /* the argmax, uint8 per output */
		return ((size_t)nd->numel + sizeof(float) - 1) / sizeof(float);
	return 0;
}

int nn_graph_plan(struct nn_graph *g)
{
	const int n = g->n, T = 2 * n;
	int *uses = NULL, *first = NULL, *start = NULL, *end = NULL, *gstart = NULL;
	int *param_first = NULL, *dyown = NULL, *gend = NULL, *rstart = NULL, *rend = NULL, *pooled = NULL;
	struct interval *iv = NULL, **tmp = NULL;
	int niv = 0, rc = 0;
	int64_t total;
	size_t ws = 0, aux = 0, naive = 0;

	uses = calloc((size_t)n + 1, sizeof(int));
	first = calloc((size_t)n + 1, sizeof(int));
	start = calloc((size_t)n + 1, sizeof(int));
	end = calloc((size_t)n + 1, sizeof(int));
	gstart = calloc((size_t)n + 1, sizeof(int));
	param_first = calloc((size_t)g->store->nparams + 1, sizeof(int));
	dyown = calloc((size_t)n + 1, sizeof(int));
	gend = calloc((size_t)n + 1, sizeof(int));
	rstart = calloc((size_t)n + 1, sizeof(int));
	rend = calloc((size_t)n + 1, sizeof(int));
	pooled = calloc((size_t)n + 1, sizeof(int));
	iv = calloc(5 * (size_t)n + 1, sizeof(*iv));
	tmp = calloc(5 * (size_t)n + 1, sizeof(*tmp));
	if (!uses || !first || !start || !end || !gstart || !param_first || !dyown || !gend || !rstart ||
		!rend || !pooled || !iv || !tmp) {
		rc = det_error_set(DET_ENOMEM, "graph plan: out of memory");
		goto out;
	}
	bind_params(g);

	/* gradients: who needs one, who runs backward */
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		nd->alias = -1;
		nd->fused_relu = 0;
		nd->run_backward = 0;
		if (nd->op == NN_OP_PARAM)
			nd->needs_grad = g->train && !g->store->params[nd->param].frozen;
		else if (nd->op == NN_OP_INPUT)
			nd->needs_grad = 0;
		else {
			nd->needs_grad = 0;
			for (int s = 0; s < nd->nsrc; s++)
				nd->needs_grad |= g->nodes[nd->src[s]].needs_grad;
		}
		for (int s = 0; s < nd->nsrc; s++)
			uses[nd->src[s]]++;
	}
	/* reach an output (else nobody writes the gradient) */
	for (int i = n - 1; i >= 0; i--) {
		struct nn_node *nd = &g->nodes[i];
		if (nd->is_output)
			nd->run_backward = 1;
		if (!nd->run_backward)
			continue;
		for (int s = 0; s < nd->nsrc; s++)
			g->nodes[nd->src[s]].run_backward = 1;
	}
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		nd->run_backward = nd->run_backward && nd->needs_grad && nd->op != NN_OP_PARAM;
	}

	/* folding: a ReLU that is the only reader of a norm or add runs inside it;
	 * a reshape that is the only reader of its source shares its buffers */
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		struct nn_node *s = nd->nsrc ? &g->nodes[nd->src[0]] : NULL;
		if (!s || uses[nd->src[0]] != 1 || s->is_output || nd->is_output)
			continue;
		if (nd->op == NN_OP_RELU && (s->op == NN_OP_BATCHNORM || s->op == NN_OP_GROUPNORM ||
			s->op == NN_OP_ADD) && !s->fused_relu) {
			s->fused_relu = 1;
			nd->alias = nd->src[0];
		} else if (nd->op == NN_OP_RESHAPE && s->op != NN_OP_PARAM && s->op != NN_OP_INPUT) {
			nd->alias = nd->src[0];
		}
	}

	/* re-computation: a norm that runs backward reads its input x there, so x
	 * lives until then anyway; the norm's output can be made again from x
	 * and the saved statistics (nn_batchnorm_apply) right before its first
	 * backward reader (a conv's dw, a max-pool) instead of living from the
	 * forward through every later activation. Not for outputs, not when
	 * gamma or beta is computed (their values are not kept), and not for
	 * the input of another re-computed norm (it must still be there). */
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		nd->remat = g->train && nd->run_backward && nd->alias < 0 &&
			(nd->op == NN_OP_BATCHNORM || nd->op == NN_OP_GROUPNORM) &&
			g->nodes[nd->src[1]].op == NN_OP_PARAM && g->nodes[nd->src[2]].op == NN_OP_PARAM;
	}
	for (int i = 0; i < n; i++)
		if (g->nodes[i].is_output)
			g->nodes[root(g, i)].remat = 0;
	for (int i = n - 1; i >= 0; i--)
		if (g->nodes[i].remat)
			g->nodes[root(g, g->nodes[i].src[0])].remat = 0;

	/* a batch norm (with its folded ReLU) whose only reader is a max-pool:
	 * the pool applies the norm to each tap of the norm's input, which is
	 * kept until the norm's backward anyway, so the norm's output is never
	 * stored nor re-computed (ResNet's stem: 32 MiB written and read in the
	 * forward, and again for the backward). gamma and beta must be
	 * parameters (the pool's backward reads them), the input not a
	 * re-computed norm (the pool reads it in the backward as it is). */
	for (int i = 0; i < n; i++)
		g->nodes[i].norm_pool = -1;
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		int s0, r;
		nd->pool_norm = -1;
		if (nd->op != NN_OP_MAXPOOL || nd->alias >= 0)
			continue;
		s0 = nd->src[0];
		r = root(g, s0);
		const struct nn_node *R = &g->nodes[r];
		if (R->op != NN_OP_BATCHNORM || uses[r] != 1 || uses[s0] != 1 || R->is_output ||
			g->nodes[s0].is_output || g->nodes[R->src[1]].op != NN_OP_PARAM ||
			g->nodes[R->src[2]].op != NN_OP_PARAM || g->nodes[root(g, R->src[0])].remat)
			continue;
		nd->pool_norm = r;
		g->nodes[r].remat = 0;
		if (pool_saves_idx(g, nd) && g->nodes[r].run_backward)
			g->nodes[r].norm_pool = i;
	}

	/* likewise a batch norm (+ ReLU) whose only reader is an add of two
	 * same-shaped inputs (ResNet's bn2 and downsample norms): the add
	 * applies it to the norm's input as it reads it, so the norm writes
	 * only its statistics and its output is never stored (the add's
	 * backward reads neither input) */
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		nd->add_norm[0] = nd->add_norm[1] = -1;
		if (nd->op != NN_OP_ADD || nd->alias >= 0 || nd->nsrc != 2 ||
			g->nodes[nd->src[0]].numel != nd->numel || g->nodes[nd->src[1]].numel != nd->numel)
			continue;
		for (int s = 0; s < 2; s++) {
			int s0 = nd->src[s], r = root(g, s0);
			const struct nn_node *R = &g->nodes[r];
			if (R->op != NN_OP_BATCHNORM || uses[r] != 1 || uses[s0] != 1 || R->is_output ||
				g->nodes[s0].is_output || g->nodes[R->src[1]].op != NN_OP_PARAM ||
				g->nodes[R->src[2]].op != NN_OP_PARAM || g->nodes[root(g, R->src[0])].remat)
				continue;
			nd->add_norm[s] = r;
			g->nodes[r].remat = 0;
		}
	}

	/* lifetimes on the timeline: forward of i at i, backward of i at T-1-i */
	for (int i = 0; i < n; i++) {
		start[i] = i;
		end[i] = i;
		gstart[i] = T;
		gend[i] = T - 1 - i;
		dyown[i] = i;
		rstart[i] = T;
		rend[i] = -1;
	}
	for (int j = 0; j < n; j++) {
		struct nn_node *nd = &g->nodes[j];
		int rj = root(g, j);
		if (nd->alias >= 0) {
			/* the alias's readers are its root's readers */
			if (end[j] > end[rj])
				end[rj] = end[j];
			continue;
		}
		for (int s = 0; s < nd->nsrc; s++) {
			int u = root(g, nd->src[s]);
			if (end[u] < j)
				end[u] = j;
			if (nd->run_backward && backward_reads_src(g, nd, s)) {
				if (g->nodes[u].remat) {
					if (rstart[u] > T - 1 - j)
						rstart[u] = T - 1 - j;
					if (rend[u] < T - 1 - j)
						rend[u] = T - 1 - j;
				} else if (end[u] < T - 1 - j)
					end[u] = T - 1 - j;
			}
			if (nd->run_backward && g->nodes[nd->src[s]].needs_grad && gstart[u] > T - 1 - j)
				gstart[u] = T - 1 - j;
		}
		if (nd->run_backward && backward_reads_self(nd) && end[rj] < T - 1 - j)
			end[rj] = T - 1 - j;
		for (int s = 0; s < 2; s++)
			if (nd->op == NN_OP_ADD && nd->add_norm[s] >= 0) {
				/* it reads the norm's input in its forward */
				int u = root(g, g->nodes[nd->add_norm[s]].src[0]);
				if (end[u] < j)
					end[u] = j;
			}
		if (nd->pool_norm >= 0) {
			/* it reads the norm's input in its forward, and in its
			 * backward unless it saved the argmax */
			int u = root(g, g->nodes[nd->pool_norm].src[0]);
			if (end[u] < j)
				end[u] = j;
			if (nd->run_backward && !pool_saves_idx(g, nd) && end[u] < T - 1 - j)
				end[u] = T - 1 - j;
		}
	}
	for (int i = 0; i < n; i++) {
		int r = root(g, i);
		if (g->nodes[i].is_output) {
			end[r] = T;
			if (gstart[r] > n)
				gstart[r] = n;
		}
	}
	/* alias readers found after the root was visited */
	for (int i = n - 1; i >= 0; i--)
		if (g->nodes[i].alias >= 0) {
			int r = root(g, i);
			if (end[i] > end[r])
				end[r] = end[i];
		}

	/* accumulate flags: the first writer of a gradient (in backward order)
	 * overwrites it, the others add; an output's gradient is the caller's */
	for (int i = 0; i < n; i++)
		first[i] = g->nodes[root(g, i)].is_output;
	for (int j = n - 1; j >= 0; j--) {
		struct nn_node *nd = &g->nodes[j];
		for (int s = 0; s < nd->nsrc; s++) {
			int u = nd->src[s];
			nd->acc[s] = 0;
			if (!nd->run_backward || nd->alias >= 0 || !g->nodes[u].needs_grad)
				continue;
			if (g->nodes[u].op == NN_OP_PARAM) {
				nd->acc[s] = param_first[g->nodes[u].param];
				param_first[g->nodes[u].param] = 1;
			} else {
				int r = root(g, u);
				nd->acc[s] = first[r];
				first[r] = 1;
			}
		}
	}
	/* gradient sharing: an add passes its gradient to an input unchanged, so
	 * when it is the first writer of that input's gradient (and the shapes
	 * match) the input's gradient buffer is the add's own — no copy, one
	 * buffer less; later writers add into it after the add has run */
	for (int j = n - 1; j >= 0; j--) {
		struct nn_node *nd = &g->nodes[j];
		nd->grad_share = -1;
		nd->grad_alias = 0;
		if (nd->op != NN_OP_ADD || !nd->run_backward || nd->alias >= 0 || nd->is_output)
			continue;
		for (int s = 0; s < 2 && nd->grad_share < 0; s++) {
			int u = nd->src[s], r = root(g, u);
			const struct nn_node *R = &g->nodes[r];
			if (R->op == NN_OP_PARAM || R->op == NN_OP_INPUT || !R->needs_grad || nd->acc[s] ||
				R->numel != nd->numel || R->is_output || !R->run_backward || dyown[r] != r)
				continue;
			nd->grad_share = s;
			dyown[r] = dyown[j];
			if (gend[dyown[j]] < T - 1 - r)
				gend[dyown[j]] = T - 1 - r;
		}
		nd->grad_alias = nd->grad_share >= 0 && grad_alias_ok(g, j, uses, dyown);
		if (nd->grad_alias) {
			int u = root(g, nd->src[1 - nd->grad_share]);
			dyown[u] = dyown[j];
			if (gend[dyown[j]] < T - 1 - u)
				gend[dyown[j]] = T - 1 - u;
		}
	}

	/* a pool whose norm runs its backward: the pool's gradient is read
	 * then, so it lives until the norm's backward */
	for (int i = 0; i < n; i++)
		if (g->nodes[i].norm_pool >= 0) {
			int o = dyown[root(g, g->nodes[i].norm_pool)];
			if (gend[o] < T - 1 - i)
				gend[o] = T - 1 - i;
		}

	for (int i = 0; i < n; i++) {
		const struct nn_node *nd = &g->nodes[i];
		if (nd->pool_norm >= 0)
			pooled[nd->pool_norm] = 1;
		for (int s = 0; s < 2 && nd->op == NN_OP_ADD; s++)
			if (nd->add_norm[s] >= 0)
				pooled[nd->add_norm[s]] = 1;
	}
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		int64_t sz = (nd->numel + 15) / 16 * 16;
		for (int k = 0; k < 3; k++)
			nd->live[k][0] = nd->live[k][1] = -1;
		nd->y_fwd = nd->y_remat = NULL;
		nd->ws[0] = nd->ws[1] = NULL;
		nd->ws_floats = 0;
		if (nd->remat && rend[i] < 0)
			nd->remat = 0; /* no backward reader: nothing to re-compute */
		if (nd->op == NN_OP_PARAM || nd->op == NN_OP_INPUT || nd->alias >= 0)
			continue;
		if (!pooled[i]) {
			iv[niv++] = (struct interval){ sz, start[i], end[i], 0, i, 0 };
			nd->live[0][0] = start[i];
			nd->live[0][1] = end[i];
			naive += (size_t)sz;
		}
		if (nd->remat) {
			iv[niv++] = (struct interval){ sz, rstart[i], rend[i], 0, i, 2 };
			nd->live[2][0] = rstart[i];
			nd->live[2][1] = rend[i];
		}
		if (nd->run_backward) {
			if (dyown[i] == i) {
				iv[niv++] = (struct interval){ sz, gstart[i] < T ? gstart[i] : T - 1 - i, gend[i], 0, i, 1 };
				nd->live[1][0] = iv[niv - 1].start;
				nd->live[1][1] = gend[i];
			}
			naive += (size_t)sz;
		}
		if (nd->op == NN_OP_CONV2D) {
			const struct nn_node *x = &g->nodes[nd->src[0]], *w = &g->nodes[nd->src[1]];
			struct conv2d_shape cs = { (int)x->shape[0], (int)x->shape[1], (int)x->shape[2],
				(int)x->shape[3], (int)w->shape[0], (int)w->shape[2], (int)w->shape[3],
				nd->p.i[0], nd->p.i[1], nd->p.i[2], nd->p.i[3], nd->p.i[4], nd->p.i[5], nd->p.i[6], 0, 0 };
			if ((rc = conv2d_shape_init(&cs)))
				goto out;
			size_t b = conv2d_workspace_size(&cs);
			/* the scratch lives only during the call: one short interval
			 * each for the forward and the backward, placed with the rest */
			nd->ws_floats = ((int64_t)(b / sizeof(float)) + 16 + 15) / 16 * 16;
			iv[niv++] = (struct interval){ nd->ws_floats, i, i, 0, i, 3 };
			naive += (size_t)nd->ws_floats;
			if (nd->run_backward) {
				iv[niv++] = (struct interval){ nd->ws_floats, T - 1 - i, T - 1 - i, 0, i, 4 };
				naive += (size_t)nd->ws_floats;
			}
			if (b > ws)
				ws = b;
		}
		aux += (aux_size(g, nd) + 15) / 16 * 16;
	}
	/* an input's gradient is never computed; its value has its own buffer */
	total = place(iv, niv, tmp);
	if ((rc = grow(&g->arena, &g->arena_cap, (size_t)total + 16, &g->stats.allocations)) ||
		(rc = grow(&g->aux, &g->aux_cap, aux + 16, &g->stats.allocations)))
		goto out;
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		if (nd->op == NN_OP_INPUT) {
			nd->y = g->inputs[i];
			nd->dy = NULL;
		} else if (nd->op != NN_OP_PARAM)
			nd->y = nd->dy = NULL;
	}
	for (int k = 0; k < niv; k++) {
		struct nn_node *nd = &g->nodes[iv[k].node];
		if (iv[k].grad == 1)
			nd->dy = g->arena + iv[k].offset;
		else if (iv[k].grad == 2)
			nd->y_remat = g->arena + iv[k].offset;
		else if (iv[k].grad >= 3)
			nd->ws[iv[k].grad - 3] = g->arena + iv[k].offset;
		else
			nd->y = nd->y_fwd = g->arena + iv[k].offset;
	}
	for (int i = n - 1; i >= 0; i--)
		if (dyown[i] != i)
			g->nodes[i].dy = g->nodes[dyown[i]].dy;
	aux = 0;
	for (int i = 0; i < n; i++) {
		struct nn_node *nd = &g->nodes[i];
		if (nd->alias >= 0) {
			int r = root(g, i);
			nd->y = g->nodes[r].y;
			nd->dy = g->nodes[r].dy;
		}
		nd->aux = NULL;
		if (aux_size(g, nd)) {
			nd->aux = g->aux + aux;
			aux += (aux_size(g, nd) + 15) / 16 * 16;
		}
	}
	g->stats.arena_bytes = (size_t)total * sizeof(float);
	g->stats.naive_bytes = naive * sizeof(float);
	g->stats.workspace_bytes = ws;
	g->stats.plans++;
	g->planned = 1;
	g->plan_train = g->train;
	g->plan_generation = g->store->generation;
out:
	free(uses);
	free(first);
	free(start);
	free(end);
	free(gstart);
	free(param_first);
	free(dyown);
	free(gend);
	free(rstart);
	free(rend);
	free(pooled);
	free(iv);
	free(tmp);
	return rc;
}

static int ensure_plan(struct nn_graph *g)
{
	if (g->planned && g->plan_train == g->train && g->plan_generation == g->store->generation)
		return 0;
	return nn_graph_plan(g);
}

float *nn_graph_value(struct nn_graph *g, int node)
{
	if (node < 0 || node >= g->n)
		return NULL;
	if (g->nodes[node].op == NN_OP_INPUT)
		return g->inputs[node];
	if (!g->planned)
		return NULL;
	return g->nodes[node].y;
}

float *nn_graph_grad(struct nn_graph *g, int node)
{
	if (node < 0 || node >= g->n || !g->planned)
		return NULL;
	return g->nodes[node].dy;
}

void nn_graph_stats(const struct nn_graph *g, struct nn_graph_stats *st)
{
	*st = g->stats;
}

/* ---- forward ---- */

static struct conv2d_shape conv_shape(const struct nn_graph *g, const struct nn_node *nd)
{
	const struct nn_node *x = &g->nodes[nd->src[0]], *w = &g->nodes[nd->src[1]];
	struct conv2d_shape cs = { (int)x->shape[0], (int)x->shape[1], (int)x->shape[2],
		(int)x->shape[3], (int)w->shape[0], (int)w->shape[2], (int)w->shape[3],
		nd->p.i[0], nd->p.i[1], nd->p.i[2], nd->p.i[3], nd->p.i[4], nd->p.i[5], nd->p.i[6], 0, 0 };

	cs.h_out = (int)nd->shape[2];
	cs.w_out = (int)nd->shape[3];
	return cs;
}

/* Splits shape around axis: outer = prod(shape[:axis]), inner = prod(shape[axis+1:]). */
static void around(const struct nn_node *nd, int axis, int64_t *outer, int64_t *inner)
{
	*outer = *inner = 1;
	for (int d = 0; d < axis; d++)
		*outer *= nd->shape[d];
	for (int d = axis + 1; d < nd->ndim; d++)
		*inner *= nd->shape[d];
}

/* Strides (in elements) of b broadcast over a's shape: 0 on broadcast axes. */
static void bcast_strides(const struct nn_node *a, const struct nn_node *b, int64_t *st)
{
	int64_t s = 1;

	if (b->ndim == 1 && a->ndim >= 3 && b->shape[0] == a->shape[1]) {
		for (int d = 0; d < a->ndim; d++)
			st[d] = d == 1 ? 1 : 0;
		return;
	}

	for (int d = a->ndim - 1; d >= 0; d--) {
		int db = d - (a->ndim - b->ndim);
		int64_t sb = db >= 0 ? b->shape[db] : 1;
		st[d] = sb == 1 ? 0 : s;
		s *= sb;
	}
}

/* Per-channel broadcast: b holds one value per axis-1 index of a (N, C, ...). */
static int per_channel(const struct nn_node *a, const struct nn_node *b)
{
	int64_t st[NN_MAX_DIMS];

	if (a->ndim < 2 || b->numel != a->shape[1])
		return 0;
	bcast_strides(a, b, st);
	for (int d = 0; d < a->ndim; d++)
		if ((d == 1) != (st[d] != 0) && a->shape[d] != 1)
			return 0;
	return 1;
}

/* y = a op b with b broadcast: same size, per channel, or general. */
static void binary_forward(const struct nn_graph *g, const struct nn_node *nd)
{
	const struct nn_node *A = &g->nodes[nd->src[0]], *B = &g->nodes[nd->src[1]];
	const float *a = A->y, *b = B->y;
	float *y = nd->y;
	const int add = nd->op == NN_OP_ADD, relu = nd->fused_relu;
	const int64_t n = nd->numel;

	if (B->numel == n) {
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (int64_t i = 0; i < n; i++) {
			float v = add ? a[i] + b[i] : a[i] * b[i];
			y[i] = relu && v < 0 ? 0 : v;
		}
	} else if (per_channel(nd, B)) {
		int64_t c = nd->shape[1], outer = nd->shape[0], inner = n / (outer * c);
#pragma omp parallel for schedule(static) num_threads(det_threads_for(2 * n))
		for (int64_t oc = 0; oc < outer * c; oc++) {
			float bv = b[oc % c];
			const float *p = a + oc * inner;
			float *q = y + oc * inner;
			for (int64_t i = 0; i < inner; i++) {
				float v = add ? p[i] + bv : p[i] * bv;
				q[i] = relu && v < 0 ? 0 : v;
			}
		}
	} else {
		int64_t st[NN_MAX_DIMS], idx[NN_MAX_DIMS] = { 0 };
		bcast_strides(nd, B, st);
		for (int64_t i = 0; i < n; i++) {
			int64_t off = 0;
			for (int d = 0; d < nd->ndim; d++)
				off += idx[d] * st[d];
			float v = add ? a[i] + b[off] : a[i] * b[off];
			y[i] = relu && v < 0 ? 0 : v;
			for (int d = nd->ndim - 1; d >= 0 && ++idx[d] == nd->shape[d]; d--)
				idx[d] = 0;
		}
	}
}

/* da = g (add) or g b (mul); db = sum over broadcast axes of g (add) or g a (mul);
 * g = dy masked by y > 0 when a ReLU is folded in. */
static void binary_backward(const struct nn_graph *g, const struct nn_node *nd)
{
	const struct nn_node *A = &g->nodes[nd->src[0]], *B = &g->nodes[nd->src[1]];
	/* an add reads neither input (one folded into it has no value: NULL) */
	const float *a = A->y ? A->y : nd->dy, *b = B->y ? B->y : nd->dy, *dy = nd->dy, *y = nd->y;
	float *da = A->needs_grad ? A->dy : NULL, *db = B->needs_grad ? B->dy : NULL;
	const int add = nd->op == NN_OP_ADD;
	int relu = nd->fused_relu;
	const int acca = nd->acc[0], accb = nd->acc[1];
	const int64_t n = nd->numel;

	if (nd->grad_share >= 0) {
		/* one input's gradient is this node's own buffer: mask it in place
		 * (a folded ReLU) and leave it; the other input reads it masked —
		 * for an add of two same-shaped inputs in the same pass — unless
		 * its gradient is this buffer too (grad_alias) */
		float *g0 = nd->dy, *other = nd->grad_alias ? NULL : nd->grad_share == 0 ? db : da;
		const int acco = nd->grad_share == 0 ? accb : acca;
		if (relu && add && B->numel == n && other) {
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(5 * n))
			for (int64_t i = 0; i < n; i++) {
				float v = y[i] > 0 ? g0[i] : 0.0f;
				g0[i] = v;
				other[i] = acco ? other[i] + v : v;
			}
			return;
		}
		if (relu) {
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
			for (int64_t i = 0; i < n; i++)
				g0[i] = y[i] > 0 ? g0[i] : 0.0f;
			relu = 0;
		}
		if (nd->grad_alias)
			return;
		if (nd->grad_share == 0)
			da = NULL;
		else
			db = NULL;
	}

	if (da && (add || B->numel == n)) {
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(4 * n))
		for (int64_t i = 0; i < n; i++) {
			float gi = relu && y[i] <= 0 ? 0.0f : dy[i];
			float v = add ? gi : gi * b[i];
			if (acca)
				da[i] += v;
			else
				da[i] = v;
		}
	} else if (da) {
		int64_t st[NN_MAX_DIMS];
		bcast_strides(nd, B, st);
#pragma omp parallel for schedule(static) num_threads(det_threads_for(16 * nd->ndim * n))
		for (int64_t i = 0; i < n; i++) {
			int64_t rem = i, off = 0;
			for (int d = nd->ndim - 1; d >= 0; d--) {
				off += (rem % nd->shape[d]) * st[d];
				rem /= nd->shape[d];
			}
			float gi = relu && y[i] <= 0 ? 0.0f : dy[i];
			if (acca)
				da[i] += gi * b[off];
			else
				da[i] = gi * b[off];
		}
	}
	if (!db)
		return;
	if (B->numel == n) {
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(4 * n))
		for (int64_t i = 0; i < n; i++) {
			float gi = relu && y[i] <= 0 ? 0.0f : dy[i];
			float v = add ? gi : gi * a[i];
			if (accb)
				db[i] += v;
			else
				db[i] = v;
		}
	} else if (per_channel(nd, B)) {
		int64_t c = nd->shape[1], outer = nd->shape[0], inner = n / (outer * c);
#pragma omp parallel for schedule(static) num_threads(det_threads_for(3 * n))
		for (int64_t ch = 0; ch < c; ch++) {
			double s = 0;
			for (int64_t o = 0; o < outer; o++) {
				int64_t base = (o * c + ch) * inner;
				float fs = 0;
				for (int64_t i = 0; i < inner; i++) {
					float gi = relu && y[base + i] <= 0 ? 0.0f : dy[base + i];
					fs += add ? gi : gi * a[base + i];
				}
				s += fs;
			}
			if (accb)
				db[ch] += (float)s;
			else
				db[ch] = (float)s;
		}
	} else {
		int64_t st[NN_MAX_DIMS], idx[NN_MAX_DIMS] = { 0 };
		bcast_strides(nd, B, st);
		if (!accb)
			memset(db, 0, sizeof(float) * (size_t)B->numel);
		for (int64_t i = 0; i < n; i++) {
			int64_t off = 0;
			for (int d = 0; d < nd->ndim; d++)
				off += idx[d] * st[d];
			float gi = relu && y[i] <= 0 ? 0.0f : dy[i];
			db[off] += add ? gi : gi * a[i];
			for (int d = nd->ndim - 1; d >= 0 && ++idx[d] == nd->shape[d]; d--)
				idx[d] = 0;
		}
	}
}

/* Sum over the axes in mask: y (kept axes, reduced ones of size 1) from x. */
static void reduce_forward(const struct nn_graph *g, const struct nn_node *nd)
{
	const struct nn_node *X = &g->nodes[nd->src[0]];
	int64_t ost[NN_MAX_DIMS], rsh[NN_MAX_DIMS], rst[NN_MAX_DIMS], s = 1, rn = 1;
	int nr = 0;
	const double scale = nd->op == NN_OP_MEAN ? (double)nd->numel / (double)X->numel : 1.0;

	/* output element o maps to x offset via kept axes; reduced axes enumerate rsh */
	for (int d = X->ndim - 1; d >= 0; d--) {
		ost[d] = s;
		s *= X->shape[d];
	}
	for (int d = 0; d < X->ndim; d++)
		if (nd->shape[d] != X->shape[d]) {
			rsh[nr] = X->shape[d];
			rst[nr++] = ost[d];
			rn *= X->shape[d];
		}
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(X->numel * 4 + 16 * nd->ndim * nd->numel))
	for (int64_t o = 0; o < nd->numel; o++) {
		int64_t rem = o, base = 0, ridx[NN_MAX_DIMS] = { 0 };
		double acc = 0;
		for (int d = nd->ndim - 1; d >= 0; d--) {
			base += (rem % nd->shape[d]) * ost[d];
			rem /= nd->shape[d];
		}
		for (int64_t r = 0; r < rn; r++) {
			int64_t off = base;
			for (int k = 0; k < nr; k++)
				off += ridx[k] * rst[k];
			acc += X->y[off];
			for (int k = nr - 1; k >= 0 && ++ridx[k] == rsh[k]; k--)
				ridx[k] = 0;
		}
		nd->y[o] = (float)(acc * scale);
	}
}

/* dx = dy broadcast back over the reduced axes (times 1/count for mean). */
static void reduce_backward(const struct nn_graph *g, const struct nn_node *nd, float *dx, int acc)
{
	const struct nn_node *X = &g->nodes[nd->src[0]];
	int64_t st[NN_MAX_DIMS];
	const float scale = nd->op == NN_OP_MEAN ? (float)((double)nd->numel / (double)X->numel) : 1.0f;

	bcast_strides(X, nd, st);
#pragma omp parallel for schedule(static) num_threads(det_threads_for(16 * X->ndim * X->numel))
	for (int64_t i = 0; i < X->numel; i++) {
		int64_t rem = i, off = 0;
		for (int d = X->ndim - 1; d >= 0; d--) {
			off += (rem % X->shape[d]) * st[d];
			rem /= X->shape[d];
		}
		float v = nd->dy[off] * scale;
		if (acc)
			dx[i] += v;
		else
			dx[i] = v;
	}
}

/* y[perm order] = x, or dx += dy permuted back when back != 0. */
static void permute_run(const struct nn_graph *g, const struct nn_node *nd, int back, int acc)
{
	const struct nn_node *X = &g->nodes[nd->src[0]];
	int64_t xst[NN_MAX_DIMS], s = 1, st[NN_MAX_DIMS];

	for (int d = X->ndim - 1; d >= 0; d--) {
		xst[d] = s;
		s *= X->shape[d];
	}
	for (int d = 0; d < nd->ndim; d++)
		st[d] = xst[nd->p.i[d]];
#pragma omp parallel for schedule(static) num_threads(det_threads_for(16 * nd->ndim * nd->numel))
	for (int64_t i = 0; i < nd->numel; i++) {
		int64_t rem = i, off = 0;
		for (int d = nd->ndim - 1; d >= 0; d--) {
			off += (rem % nd->shape[d]) * st[d];
			rem /= nd->shape[d];
		}
		if (!back)
			nd->y[i] = X->y[off];
		else if (acc)
			X->dy[off] += nd->dy[i];
		else
			X->dy[off] = nd->dy[i];
	}
}

/* Copies a block of rows: dst[o][dst_off..+len) (+)= src[o][src_off..+len). */
static void copy_rows(float *dst, int64_t dst_row, int64_t dst_off, const float *src, int64_t src_row,
	int64_t src_off, int64_t len, int64_t outer, int acc)
{
#pragma omp parallel for schedule(static) num_threads(det_threads_for((acc ? 3 : 2) * outer * len))
	for (int64_t o = 0; o < outer; o++) {
		float *d = dst + o * dst_row + dst_off;
		const float *s = src + o * src_row + src_off;
		if (acc)
			for (int64_t i = 0; i < len; i++)
				d[i] += s[i];
		else
			memcpy(d, s, sizeof(float) * (size_t)len);
	}
}

static void node_forward(struct nn_graph *g, struct nn_node *nd)
{
	const struct nn_node *X = nd->nsrc ? &g->nodes[nd->src[0]] : NULL;
	const int *I = nd->p.i;

	switch (nd->op) {
	case NN_OP_INPUT:
	case NN_OP_PARAM:
		break;
	case NN_OP_CONV2D: {
		struct conv2d_shape cs = conv_shape(g, nd);
		conv2d_forward(&cs, X->y, g->nodes[nd->src[1]].y, nd->nsrc > 2 ? g->nodes[nd->src[2]].y : NULL,
			nd->y, nd->ws[0]);
		break;
	}
	case NN_OP_BATCHNORM: {
		float *st = g->store->state + g->store->buffers[nd->state].offset;
		float *sv = g->store->state + g->store->buffers[nd->state + 1].offset;
		int64_t hw = X->numel / (X->shape[0] * X->shape[1]);
		nn_batchnorm_forward(X->y, g->nodes[nd->src[1]].y, g->nodes[nd->src[2]].y, nd->y,
			(int)X->shape[0], (int)X->shape[1], hw, nd->p.f[0], nd->p.f[1], bn_uses_batch(g, nd),
			st, sv, nd->aux, nd->fused_relu);
		break;
	}
	case NN_OP_GROUPNORM: {
		int64_t hw = X->numel / (X->shape[0] * X->shape[1]);
		nn_groupnorm_forward(X->y, g->nodes[nd->src[1]].y, g->nodes[nd->src[2]].y, nd->y,
			(int)X->shape[0], (int)X->shape[1], hw, I[1], nd->p.f[0], nd->aux, nd->fused_relu);
		break;
	}
	case NN_OP_RELU: case NN_OP_LEAKY_RELU: case NN_OP_SILU: case NN_OP_SIGMOID:
	case NN_OP_HARDSWISH: case NN_OP_MISH: case NN_OP_TANH:
	case NN_OP_RELU6: case NN_OP_RECIPROCAL:
		nn_act_forward(nd->op, nd->p.f[0], X->y, nd->y, nd->numel);
		break;
	case NN_OP_MAXPOOL:
		if (nd->pool_norm >= 0) {
			const struct nn_node *N = &g->nodes[nd->pool_norm], *NX = &g->nodes[N->src[0]];
			nn_maxpool_bn_forward(NX->y, g->nodes[N->src[1]].y, g->nodes[N->src[2]].y, N->aux,
				(int)NX->shape[1], N->fused_relu, nd->y, (uint8_t *)nd->aux, X->shape[0] * X->shape[1],
				(int)X->shape[2], (int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3],
				I[0], I[1], I[2], I[3], I[4], I[5]);
			break;
		}
		nn_maxpool_forward(X->y, nd->y, (uint8_t *)nd->aux, X->shape[0] * X->shape[1], (int)X->shape[2],
			(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], I[0], I[1], I[2], I[3], I[4], I[5]);
		break;
	case NN_OP_AVGPOOL:
		nn_avgpool_forward(X->y, nd->y, X->shape[0] * X->shape[1], (int)X->shape[2], (int)X->shape[3],
			(int)nd->shape[2], (int)nd->shape[3], I[0], I[1], I[2], I[3], I[4], I[5]);
		break;
	case NN_OP_GLOBAL_AVGPOOL: {
		int64_t planes = X->shape[0] * X->shape[1], hw = X->shape[2] * X->shape[3];
#pragma omp parallel for schedule(static) num_threads(det_threads_for(planes * (hw + 1)))
		for (int64_t p = 0; p < planes; p++) {
			float s = 0;
#pragma omp simd reduction(+ : s)
			for (int64_t i = 0; i < hw; i++)
				s += X->y[p * hw + i];
			nd->y[p] = s / (float)hw;
		}
		break;
	}
	case NN_OP_RESIZE_NEAREST:
	case NN_OP_RESIZE_BILINEAR:
		nn_resize_forward(nd->op, X->y, nd->y, X->shape[0] * X->shape[1], (int)X->shape[2],
			(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3]);
		break;
	case NN_OP_ADD:
		if (nd->add_norm[0] >= 0 || nd->add_norm[1] >= 0) {
			struct nn_bn_fold f[2];
			const float *in[2];
			for (int s = 0; s < 2; s++) {
				const struct nn_node *N = nd->add_norm[s] >= 0 ? &g->nodes[nd->add_norm[s]] : NULL;
				in[s] = N ? g->nodes[N->src[0]].y : g->nodes[nd->src[s]].y;
				if (N)
					f[s] = (struct nn_bn_fold){ g->nodes[N->src[1]].y, g->nodes[N->src[2]].y, N->aux,
						N->fused_relu };
			}
			nn_add_bn_forward(in[0], nd->add_norm[0] >= 0 ? &f[0] : NULL, in[1],
				nd->add_norm[1] >= 0 ? &f[1] : NULL, nd->y, nd->shape[0] * nd->shape[1],
				(int)nd->shape[1], nd->numel / (nd->shape[0] * nd->shape[1]), nd->fused_relu);
			break;
		}
		binary_forward(g, nd);
		break;
	case NN_OP_MUL:
		binary_forward(g, nd);
		break;
	case NN_OP_SCALE: {
		const float a = nd->p.f[0], b = nd->p.f[1];
		const int64_t n = nd->numel;
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (int64_t i = 0; i < n; i++)
			nd->y[i] = a * X->y[i] + b;
		break;
	}
	case NN_OP_CONCAT: {
		int64_t outer, inner, at = 0;
		around(nd, I[0], &outer, &inner);
		for (int s = 0; s < nd->nsrc; s++) {
			const struct nn_node *S = &g->nodes[nd->src[s]];
			int64_t len = S->shape[I[0]] * inner;
			copy_rows(nd->y, nd->shape[I[0]] * inner, at, S->y, len, 0, len, outer, 0);
			at += len;
		}
		break;
	}
	case NN_OP_SLICE: {
		int64_t outer, inner;
		around(X, I[0], &outer, &inner);
		copy_rows(nd->y, (I[2] - I[1]) * inner, 0, X->y, X->shape[I[0]] * inner, I[1] * inner,
			(I[2] - I[1]) * inner, outer, 0);
		break;
	}
	case NN_OP_RESHAPE:
		if (nd->alias < 0)
			memcpy(nd->y, X->y, sizeof(float) * (size_t)nd->numel);
		break;
	case NN_OP_PERMUTE:
		permute_run(g, nd, 0, 0);
		break;
	case NN_OP_SUM:
	case NN_OP_MEAN:
		reduce_forward(g, nd);
		break;
	case NN_OP_SOFTMAX:
	case NN_OP_LOG_SOFTMAX: {
		int64_t outer, inner;
		around(X, I[0], &outer, &inner);
		nn_softmax_forward(nd->op == NN_OP_LOG_SOFTMAX, X->y, nd->y, outer, X->shape[I[0]], inner);
		break;
	}
	case NN_OP_COUNT:
		break;
	}
}

void nn_graph_set_check(struct nn_graph *g, int on)
{
	g->check = on;
}

/* Index of the first non-finite value of p[n], or -1. */
static int64_t first_nonfinite(const float *p, int64_t n)
{
	int64_t bad = -1;

	if (!p)
		return -1;
	for (int64_t i = 0; i < n; i++)
		if (!isfinite(p[i])) {
			bad = i;
			break;
		}
	return bad;
}

static int nonfinite_error(const struct nn_graph *g, const struct nn_node *nd, const char *what,
	const float *p, int64_t at)
{
	(void)g;
	return det_error_set(DET_ENUM, "%s (%s): %s has %s at element %lld%s", nd->name, nn_op_name(nd->op),
		what, isnan(p[at]) ? "nan" : p[at] > 0 ? "inf" : "-inf", (long long)at,
		nd->op == NN_OP_INPUT || nd->op == NN_OP_PARAM ? "" : " (its inputs are finite)");
}

void nn_graph_set_profile(struct nn_graph *g, int on)
{
	g->profile = on;
	if (on)
		for (int i = 0; i < g->n; i++)
			g->nodes[i].time_fwd = g->nodes[i].time_bwd = 0;
}

/* Points a node's value, and its aliases', at p. */
static void value_switch(struct nn_graph *g, int u, float *p)
{
	g->nodes[u].y = p;
	for (int i = u + 1; i < g->n; i++)
		if (g->nodes[i].alias >= 0 && root(g, i) == u)
			g->nodes[i].y = p;
}

/* Back to the forward buffers after a backward that re-computed values. */
static void values_forward(struct nn_graph *g)
{
	for (int i = 0; i < g->n; i++)
		if (g->nodes[i].remat == 2) {
			value_switch(g, i, g->nodes[i].y_fwd);
			g->nodes[i].remat = 1;
		}
}

int nn_graph_forward(struct nn_graph *g)
{
	int rc = ensure_plan(g);

	if (rc)
		return rc;
	bind_params(g);
	values_forward(g);
	for (int i = 0; i < g->n; i++) {
		struct nn_node *nd = &g->nodes[i];
		double t0 = g->profile ? omp_get_wtime() : 0;
		int64_t at;
		if (nd->alias >= 0)
			continue;
		node_forward(g, nd);
		if (g->profile)
			nd->time_fwd += omp_get_wtime() - t0;
		if (g->check && (at = first_nonfinite(nd->y, nd->numel)) >= 0)
			return nonfinite_error(g, nd, nd->op == NN_OP_PARAM ? "value" : nd->op == NN_OP_INPUT ?
				"data" : "output", nd->y, at);
	}
	return 0;
}

/* ---- backward ---- */

/* Whether batch norm bn runs its max-pool's backward with its own. Not
 * while checking for non-finite values: the check after the pool's
 * backward reads the gradient it passes on, which would not be there yet. */
static int norm_runs_pool(const struct nn_graph *g, const struct nn_node *bn)
{
	return bn->norm_pool >= 0 && !g->check;
}

/* The gradient buffer of src slot s, or NULL when none is wanted. */
static float *src_grad(struct nn_graph *g, const struct nn_node *nd, int s)
{
	const struct nn_node *S = &g->nodes[nd->src[s]];

	return S->needs_grad ? S->dy : NULL;
}

static void node_backward(struct nn_graph *g, struct nn_node *nd)
{
	const struct nn_node *X = nd->nsrc ? &g->nodes[nd->src[0]] : NULL;
	float *dx = nd->nsrc ? src_grad(g, nd, 0) : NULL;
	const int *I = nd->p.i;

	switch (nd->op) {
	case NN_OP_INPUT:
	case NN_OP_PARAM:
		break;
	case NN_OP_CONV2D: {
		struct conv2d_shape cs = conv_shape(g, nd);
		float *dw = src_grad(g, nd, 1), *db = nd->nsrc > 2 ? src_grad(g, nd, 2) : NULL;
		if (dw && db && nd->acc[1] != nd->acc[2]) {
			/* one flag for both: bring both to "accumulate" */
			if (!nd->acc[1])
				memset(dw, 0, sizeof(float) * (size_t)g->nodes[nd->src[1]].numel);
			if (!nd->acc[2])
				memset(db, 0, sizeof(float) * (size_t)g->nodes[nd->src[2]].numel);
		}
		if (dw)
			conv2d_backward_weights(&cs, X->y, nd->dy, dw, db,
				db ? (nd->acc[1] || nd->acc[2]) : nd->acc[1], nd->ws[1]);
		else if (db) {
			/* db_o = sum_{n,i,j} dy[n,o,i,j] */
			int64_t hw = nd->shape[2] * nd->shape[3];
			for (int o = 0; o < cs.c_out; o++) {
				double s = 0;
				for (int b = 0; b < cs.n; b++)
					for (int64_t i = 0; i < hw; i++)
						s += nd->dy[((int64_t)b * cs.c_out + o) * hw + i];
				db[o] = nd->acc[2] ? db[o] + (float)s : (float)s;
			}
		}
		if (dx)
			conv2d_backward_data(&cs, nd->dy, g->nodes[nd->src[1]].y, dx, nd->acc[0], nd->ws[1]);
		break;
	}
	case NN_OP_BATCHNORM:
	case NN_OP_GROUPNORM: {
		int64_t hw = X->numel / (X->shape[0] * X->shape[1]);
		float *dgm = src_grad(g, nd, 1), *dbt = src_grad(g, nd, 2);
		if (nd->op == NN_OP_BATCHNORM && norm_runs_pool(g, nd)) {
			const struct nn_node *P = &g->nodes[nd->norm_pool];
			const int *J = P->p.i;
			nn_maxpool_idx_bn_backward((const uint8_t *)P->aux, P->dy, nd->dy, (int)X->shape[2],
				(int)X->shape[3], (int)P->shape[2], (int)P->shape[3], J[0], J[1], J[2], J[3], J[4], J[5],
				P->acc[0], X->y, g->nodes[nd->src[1]].y, g->nodes[nd->src[2]].y, nd->aux, dx, dgm, dbt,
				(int)X->shape[0], (int)X->shape[1], bn_uses_batch(g, nd), nd->fused_relu,
				nd->acc[0], nd->acc[1], nd->acc[2]);
		} else if (nd->op == NN_OP_BATCHNORM)
			nn_batchnorm_backward(X->y, nd->dy, g->nodes[nd->src[1]].y, g->nodes[nd->src[2]].y, nd->aux,
				dx, dgm, dbt,
				(int)X->shape[0], (int)X->shape[1], hw, bn_uses_batch(g, nd), nd->fused_relu,
				nd->acc[0], nd->acc[1], nd->acc[2]);
		else
			nn_groupnorm_backward(X->y, nd->dy, g->nodes[nd->src[1]].y, g->nodes[nd->src[2]].y, nd->aux,
				dx, dgm, dbt,
				(int)X->shape[0], (int)X->shape[1], hw, I[1], nd->fused_relu,
				nd->acc[0], nd->acc[1], nd->acc[2], nd->aux + 2 * X->shape[0] * I[1]);
		break;
	}
	case NN_OP_RELU: case NN_OP_LEAKY_RELU: case NN_OP_SILU: case NN_OP_SIGMOID:
	case NN_OP_HARDSWISH: case NN_OP_MISH: case NN_OP_TANH:
	case NN_OP_RELU6: case NN_OP_RECIPROCAL:
		if (dx)
			nn_act_backward(nd->op, nd->p.f[0], X->y, nd->y, nd->dy, dx, nd->numel, nd->acc[0]);
		break;
	case NN_OP_MAXPOOL:
		if (dx && nd->pool_norm >= 0 && norm_runs_pool(g, &g->nodes[nd->pool_norm]))
			; /* the norm's backward runs this one with its own */
		else if (dx && nd->aux)
			nn_maxpool_backward_idx((const uint8_t *)nd->aux, nd->dy, dx, X->shape[0] * X->shape[1],
				(int)X->shape[2], (int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], I[0], I[1],
				I[2], I[3], I[4], I[5], nd->acc[0]);
		else if (dx && nd->pool_norm >= 0) {
			const struct nn_node *N = &g->nodes[nd->pool_norm], *NX = &g->nodes[N->src[0]];
			nn_maxpool_bn_backward(NX->y, g->nodes[N->src[1]].y, g->nodes[N->src[2]].y, N->aux,
				(int)NX->shape[1], N->fused_relu, nd->dy, dx, X->shape[0] * X->shape[1], (int)X->shape[2],
				(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], I[0], I[1], I[2], I[3], I[4], I[5],
				nd->acc[0]);
		} else if (dx)
			nn_maxpool_backward(X->y, nd->dy, dx, X->shape[0] * X->shape[1], (int)X->shape[2],
				(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], I[0], I[1], I[2], I[3],
				I[4], I[5], nd->acc[0]);
		break;
	case NN_OP_AVGPOOL:
		if (dx)
			nn_avgpool_backward(nd->dy, dx, X->shape[0] * X->shape[1], (int)X->shape[2],
				(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], I[0], I[1], I[2], I[3],
				I[4], I[5], nd->acc[0]);
		break;
	case NN_OP_GLOBAL_AVGPOOL:
		if (dx) {
			int64_t planes = X->shape[0] * X->shape[1], hw = X->shape[2] * X->shape[3];
			const int acc = nd->acc[0];
#pragma omp parallel for schedule(static) num_threads(det_threads_for(2 * planes * hw))
			for (int64_t p = 0; p < planes; p++) {
				float v = nd->dy[p] / (float)hw;
				for (int64_t i = 0; i < hw; i++)
					dx[p * hw + i] = acc ? dx[p * hw + i] + v : v;
			}
		}
		break;
	case NN_OP_RESIZE_NEAREST:
	case NN_OP_RESIZE_BILINEAR:
		if (dx)
			nn_resize_backward(nd->op, nd->dy, dx, X->shape[0] * X->shape[1], (int)X->shape[2],
				(int)X->shape[3], (int)nd->shape[2], (int)nd->shape[3], nd->acc[0]);
		break;
	case NN_OP_ADD:
	case NN_OP_MUL:
		binary_backward(g, nd);
		break;
	case NN_OP_SCALE:
		if (dx) {
			const float a = nd->p.f[0];
			const int64_t n = nd->numel;
			const int acc = nd->acc[0];
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
			for (int64_t i = 0; i < n; i++)
				dx[i] = acc ? dx[i] + a * nd->dy[i] : a * nd->dy[i];
		}
		break;
	case NN_OP_CONCAT: {
		int64_t outer, inner, at = 0;
		around(nd, I[0], &outer, &inner);
		for (int s = 0; s < nd->nsrc; s++) {
			const struct nn_node *S = &g->nodes[nd->src[s]];
			int64_t len = S->shape[I[0]] * inner;
			float *ds = src_grad(g, nd, s);
			if (ds)
				copy_rows(ds, len, 0, nd->dy, nd->shape[I[0]] * inner, at, len, outer, nd->acc[s]);
			at += len;
		}
		break;
	}
	case NN_OP_SLICE:
		if (dx) {
			int64_t outer, inner;
			around(X, I[0], &outer, &inner);
			if (!nd->acc[0])
				memset(dx, 0, sizeof(float) * (size_t)X->numel);
			copy_rows(dx, X->shape[I[0]] * inner, I[1] * inner, nd->dy, (I[2] - I[1]) * inner, 0,
				(I[2] - I[1]) * inner, outer, 1);
		}
		break;
	case NN_OP_RESHAPE:
		if (dx && nd->alias < 0) {
			const int acc = nd->acc[0];
			for (int64_t i = 0; i < nd->numel; i++)
				dx[i] = acc ? dx[i] + nd->dy[i] : nd->dy[i];
		}
		break;
	case NN_OP_PERMUTE:
		if (dx)
			permute_run(g, nd, 1, nd->acc[0]);
		break;
	case NN_OP_SUM:
	case NN_OP_MEAN:
		if (dx)
			reduce_backward(g, nd, dx, nd->acc[0]);
		break;
	case NN_OP_SOFTMAX:
	case NN_OP_LOG_SOFTMAX:
		if (dx) {
			int64_t outer, inner;
			around(X, I[0], &outer, &inner);
			nn_softmax_backward(nd->op == NN_OP_LOG_SOFTMAX, nd->y, nd->dy, dx, outer,
				X->shape[I[0]], inner, nd->acc[0]);
		}
		break;
	case NN_OP_COUNT:
		break;
	}
}

/* A norm's output again, from its input and the statistics its forward saved. */
static void node_remat(struct nn_graph *g, int u)
{
	struct nn_node *nd = &g->nodes[u];
	const struct nn_node *X = &g->nodes[nd->src[0]];
	const float *gm = g->nodes[nd->src[1]].y, *bt = g->nodes[nd->src[2]].y;
	int64_t hw = X->numel / (X->shape[0] * X->shape[1]);
	double t0 = g->profile ? omp_get_wtime() : 0;

	if (nd->op == NN_OP_BATCHNORM)
		nn_batchnorm_apply(X->y, gm, bt, nd->aux, nd->y_remat, (int)X->shape[0], (int)X->shape[1], hw,
			nd->fused_relu);
	else
		nn_groupnorm_apply(X->y, gm, bt, nd->aux, nd->y_remat, (int)X->shape[0], (int)X->shape[1], hw,
			nd->p.i[1], nd->fused_relu);
	value_switch(g, u, nd->y_remat);
	nd->remat = 2;
	if (g->profile)
		nd->time_bwd += omp_get_wtime() - t0;
}

int nn_graph_backward(struct nn_graph *g)
{
	if (!g->train)
		return det_error_set(DET_EINVAL, "backward: the graph is in evaluation mode");
	if (!g->planned || g->plan_train != g->train || g->plan_generation != g->store->generation)
		return det_error_set(DET_EINVAL, "backward: run forward first (the plan changed)");
	for (int i = g->n - 1; i >= 0; i--) {
		struct nn_node *nd = &g->nodes[i];
		double t0;
		if (!nd->run_backward || nd->alias >= 0)
			continue;
		for (int s = 0; s < nd->nsrc; s++) {
			int u = root(g, nd->src[s]);
			if (g->nodes[u].remat == 1 && backward_reads_src(g, nd, s))
				node_remat(g, u);
		}
		t0 = g->profile ? omp_get_wtime() : 0;
		node_backward(g, nd);
		if (g->profile)
			nd->time_bwd += omp_get_wtime() - t0;
		for (int s = 0; g->check && s < nd->nsrc; s++) {
			const struct nn_node *S = &g->nodes[nd->src[s]];
			int64_t at;
			if (S->needs_grad && (at = first_nonfinite(S->dy, S->numel)) >= 0)
				return det_error_set(DET_ENUM, "%s (%s): the gradient it passes to %s has %s at element %lld",
					nd->name, nn_op_name(nd->op), S->name, isnan(S->dy[at]) ? "nan" : "inf", (long long)at);
		}
	}
	values_forward(g);
	return 0;
}

/* Floats of node i's buffer q (0 value, 1 gradient, 2 re-computed value,
 * 3 and 4 conv scratch for the forward and the backward) if the plan has it
 * live at step t, else 0; its live steps in *first, *last. */
static int64_t live_size(const struct nn_graph *g, int i, int q, int t, int *first, int *last)
{
	const struct nn_node *nd = &g->nodes[i];
	const int T = 2 * g->n;

	if (q < 3) {
		*first = nd->live[q][0];
		*last = nd->live[q][1];
	} else {
		*first = *last = q == 3 ? i : T - 1 - i;
		if (!nd->ws[q - 3])
			return 0;
	}
	if (*first < 0 || t < *first || t > *last)
		return 0;
	return q < 3 ? (nd->numel + 15) / 16 * 16 : nd->ws_floats;
}

static int cmp_live(const void *pa, const void *pb)
{
	const int64_t *a = pa, *b = pb;

	return a[0] != b[0] ? (a[0] > b[0] ? -1 : 1) : (a[1] > b[1]) - (a[1] < b[1]);
}

int nn_graph_peak(const struct nn_graph *g, int *step, size_t *bytes, FILE *f, int top)
{
	static const char *const kind[5] = { "value", "grad", "remade", "scratch", "scratch" };
	const int T = 2 * g->n;
	int best = 0, k = 0, at, a, b;
	size_t most = 0;
	int64_t (*rows)[2];

	if (!g->planned)
		return det_error_set(DET_EINVAL, "peak: the graph has no plan yet (run forward first)");
	for (int t = 0; t <= T; t++) {
		size_t sum = 0;
		for (int i = 0; i < g->n; i++)
			for (int q = 0; q < 5; q++)
				sum += (size_t)live_size(g, i, q, t, &a, &b) * sizeof(float);
		if (sum > most) {
			most = sum;
			best = t;
		}
	}
	*step = best;
	*bytes = most;
	if (!f || !(rows = calloc(5 * (size_t)g->n + 1, sizeof(*rows))))
		return 0;
	for (int i = 0; i < g->n; i++)
		for (int q = 0; q < 5; q++) {
			int64_t sz = live_size(g, i, q, best, &a, &b);
			if (sz) {
				rows[k][0] = sz;
				rows[k++][1] = 5 * i + q;
			}
		}
	qsort(rows, (size_t)k, sizeof(*rows), cmp_live);
	at = best < g->n ? best : best < T ? T - 1 - best : 0;
	fprintf(f, "plan peak at step %d of %d (the %s of %s): %.1f MiB in %d buffers\n", best, T,
		best < g->n ? "forward" : "backward", g->nodes[at].name, (double)most / 1048576.0, k);
	for (int j = 0; j < k && j < top; j++) {
		int i = (int)(rows[j][1] / 5), q = (int)(rows[j][1] % 5);
		live_size(g, i, q, best, &a, &b);
		fprintf(f, "  %8.2f MiB  %-7s %-14s %-40s live %d..%d\n", (double)rows[j][0] * 4 / 1048576.0,
			kind[q], nn_op_name(g->nodes[i].op), g->nodes[i].name, a, b);
	}
	free(rows);
	return 0;
}

double nn_graph_node_flops(const struct nn_graph *g, int node)
{
	const struct nn_node *nd = &g->nodes[node];

	switch (nd->op) {
	case NN_OP_INPUT:
	case NN_OP_PARAM:
	case NN_OP_RESHAPE:
		return 0;
	case NN_OP_CONV2D: {
		struct conv2d_shape cs = conv_shape(g, nd);
		return conv2d_flops(&cs);
	}
	case NN_OP_BATCHNORM:
	case NN_OP_GROUPNORM:
		return 2.0 * (double)nd->numel;
	case NN_OP_MAXPOOL:
	case NN_OP_AVGPOOL:
		return (double)nd->numel * nd->p.i[0] * nd->p.i[1];
	case NN_OP_GLOBAL_AVGPOOL:
	case NN_OP_SUM:
	case NN_OP_MEAN:
		return (double)g->nodes[nd->src[0]].numel;
	case NN_OP_RESIZE_BILINEAR:
		return 7.0 * (double)nd->numel;
	default:
		return (double)nd->numel;
	}
}
