/* graph.h: the static compute graph (ggml-style): nodes are an op, sources
 * and parameters; shapes are inferred as each node is added; a memory plan
 * places every activation, gradient and conv scratch in one arena by
 * lifetime, once (re-computing norm outputs for the backward); then
 * forward runs the nodes in order and backward runs them in reverse (one
 * switch). Parameters live in a parameter store (struct nn_store): one
 * contiguous slab of values, one of gradients, one of running statistics,
 * with hierarchical names ("backbone.layer1.0.conv1.weight"). Several graphs
 * (e.g. a training and an evaluation input size) may share one store.
 *
 * Building: every nn_graph_<op>() returns the new node's id (>= 0) or a
 * negative DET_E* status with a message naming both nodes involved
 * ("neck.lateral3 expects 128 input channels, got 256 from backbone.layer3").
 * Failed builder calls leave the graph as it was. */
#ifndef DET_NN_GRAPH_H
#define DET_NN_GRAPH_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "core/tensor.h"

#define NN_MAX_DIMS TENSOR_MAX_DIMS
#define NN_MAX_SRC 16

enum nn_op {
	NN_OP_INPUT,       /* data the caller writes before forward */
	NN_OP_PARAM,       /* a tensor of the store's parameter slab */
	NN_OP_CONV2D,      /* src: x, w[, b]        i: stride h,w pad h,w dil h,w groups */
	NN_OP_BATCHNORM,   /* src: x, gamma, beta   f: eps, momentum; i[0]: fused ReLU */
	NN_OP_GROUPNORM,   /* src: x, gamma, beta   i[1]: groups; f: eps; i[0]: fused ReLU */
	NN_OP_RELU,
	NN_OP_LEAKY_RELU,  /* f[0]: negative slope */
	NN_OP_SILU,
	NN_OP_SIGMOID,
	NN_OP_HARDSWISH,
	NN_OP_MISH,
	NN_OP_TANH,
	NN_OP_MAXPOOL,     /* i: k h,w stride h,w pad h,w */
	NN_OP_AVGPOOL,     /* i: k h,w stride h,w pad h,w (padding counts, like PyTorch) */
	NN_OP_GLOBAL_AVGPOOL, /* (N,C,H,W) -> (N,C,1,1) */
	NN_OP_RESIZE_NEAREST,  /* i: out h, w */
	NN_OP_RESIZE_BILINEAR, /* i: out h, w; align_corners = False */
	NN_OP_ADD,         /* a + b, b broadcast to a's shape (numpy rules, and a 1-D b
	                      of length C is per channel for a of 3+ dims) */
	NN_OP_MUL,         /* a * b, b broadcast to a's shape */
	NN_OP_SCALE,       /* f[0] * x + f[1] */
	NN_OP_CONCAT,      /* i[0]: axis; any number of sources */
	NN_OP_SLICE,       /* i: axis, start, end */
	NN_OP_RESHAPE,     /* the node's shape */
	NN_OP_PERMUTE,     /* i: perm[ndim] */
	NN_OP_SUM,         /* i[0]: bit mask of reduced axes (kept as size 1) */
	NN_OP_MEAN,
	NN_OP_SOFTMAX,     /* i[0]: axis */
	NN_OP_LOG_SOFTMAX, /* i[0]: axis */
	NN_OP_RELU6,       /* min(max(x, 0), 6) (MobileNetV2) */
	NN_OP_RECIPROCAL,  /* 1 / x (BiFPN's normalised fusion weights) */
	NN_OP_COUNT
};

/* The op's name ("conv2d", "batchnorm", ...). */
const char *nn_op_name(enum nn_op op);

struct nn_op_params {
	int i[10];
	float f[4];
};

struct nn_node {
	enum nn_op op;
	char *name;
	int src[NN_MAX_SRC], nsrc;
	int ndim;
	int64_t shape[NN_MAX_DIMS];
	int64_t numel;
	struct nn_op_params p;
	int param;       /* PARAM: index in the store's parameters */
	int state;       /* BATCHNORM: index of running_mean in the store's buffers (var is +1) */
	int is_output;
	/* filled by the plan */
	float *y, *dy;   /* value and gradient (dy NULL where none is computed) */
	int needs_grad;  /* some parameter upstream is trainable */
	int run_backward;
	int acc[NN_MAX_SRC]; /* backward adds into src's dy (else overwrites) */
	int alias;       /* >= 0: this node shares that node's buffers and does nothing */
	int fused_relu;  /* the plan folded a following ReLU into this node */
	int pool_norm;   /* MAXPOOL: the batch norm (+ folded ReLU) it applies to each
	                    tap of that norm's input (the norm's output is then never
	                    stored: its value is NULL), or -1 */
	int norm_pool;   /* BATCHNORM with a pool_norm reader that saved its argmax: that
	                    pool, whose backward this norm's runs channel by channel
	                    with its own (nn_maxpool_idx_bn_backward), or -1 */
	int add_norm[2]; /* ADD: the batch norm (+ folded ReLU) it applies to each value
	                    of that norm's input for source slot s (the norm's output is
	                    then never stored, as with pool_norm), or -1 */
	int grad_share;  /* ADD: >= 0, the source whose gradient buffer is this node's dy */
	int grad_alias;  /* ADD with grad_share: the other source's gradient buffer is
	                    this node's dy too (the backward copies nothing) */
	float *aux;      /* saved between forward and backward: a norm's statistics,
	                    a training max-pool's argmax (uint8 per output) */
	int remat;       /* the plan re-computes this norm's output for its backward
	                    readers (from its input and saved statistics) into y_remat,
	                    so y (then y_fwd) dies at its last forward reader; 1 =
	                    planned, 2 = done in the backward under way */
	float *y_fwd, *y_remat;
	float *ws[2];    /* CONV2D: its scratch in the arena for the forward (ws[0])
	                    and the backward (ws[1]), live only during that call */
	int64_t ws_floats;
	int live[3][2];  /* the plan's timeline steps [first, last] of the value
	                    buffer (live[0]), of the gradient buffer it owns
	                    (live[1]) and of the re-computed value (live[2]);
	                    first = -1 where the node has no such buffer of its own
	                    (parameters, inputs, aliases, shared gradients) */
	double time_fwd, time_bwd; /* seconds accumulated while profiling */
};

/* Parameter flags; the same bits as optim.h's OPTIM_NORM and OPTIM_BIAS. */
enum { NN_PARAM_NORM = 1u << 0, NN_PARAM_BIAS = 1u << 1 };

/* One named tensor of a slab. */
struct nn_param {
	char *name;
	int ndim;
	int64_t shape[NN_MAX_DIMS];
	size_t offset, count; /* in floats, within the slab */
	unsigned flags;       /* NN_PARAM_NORM, NN_PARAM_BIAS (the optimiser's group
	                         rules use them, e.g. no weight decay) */
	int frozen;           /* no gradient computed or applied */
};

/* The parameter store: values in data[count], gradients in grad[count]
 * (same offsets), running statistics (BN mean/var) in state[nstate].
 * Slabs move when parameters are added; take pointers after building. */
struct nn_store {
	float *data, *grad, *state;
	size_t count, nstate;
	struct nn_param *params;
	int nparams;
	struct nn_param *buffers; /* running statistics, offsets into state */
	int nbuffers;
	uint64_t seed;            /* initialisers draw from (seed, parameter index) */
	size_t cap, state_cap;
	int pcap, bcap, refs;
	unsigned generation;      /* bumped when parameters are added */
};

/* A new empty store; parameters are initialised from seed. NULL on ENOMEM. */
struct nn_store *nn_store_new(uint64_t seed);
/* Drops a reference (each graph holds one). NULL is a no-op. */
void nn_store_free(struct nn_store *s);
/* Index of the parameter named name, or -1. */
int nn_store_find(const struct nn_store *s, const char *name);
/* Index of the running-statistics buffer named name, or -1. */
int nn_store_find_buffer(const struct nn_store *s, const char *name);
/* Freezes (1) or unfreezes (0) every parameter whose name equals prefix or
 * starts with prefix followed by '.'; "" matches all. Frozen gradients are
 * zeroed. Returns the number matched. Graphs on the store replan. */
int nn_store_freeze(struct nn_store *s, const char *prefix, int frozen);

struct optim;
/* Binds an optimiser (nn/optim.h) to the store's slabs, one segment per
 * parameter flagged NORM/BIAS/FROZEN as the store says. Bind again after
 * adding parameters or freezing (the optimiser keeps its state when the
 * layout is the same). 0 or the optimiser's status. */
int nn_store_bind_optim(struct nn_store *s, struct optim *opt);

struct nn_graph;

/* A new graph on store (shared, a reference is taken) or, when store is
 * NULL, on a new store seeded with seed. NULL on ENOMEM. */
struct nn_graph *nn_graph_new(struct nn_store *store, uint64_t seed);
void nn_graph_free(struct nn_graph *g);
struct nn_store *nn_graph_store(struct nn_graph *g);
int nn_graph_node_count(const struct nn_graph *g);
const struct nn_node *nn_graph_node(const struct nn_graph *g, int id);
/* The id of the node named name (the latest, if several), or -1. */
int nn_graph_find(const struct nn_graph *g, const char *name);
/* Renames a node (blocks name their output after themselves, so messages
 * say "from backbone.layer3"). 0 or DET_ENOMEM/DET_EINVAL. */
int nn_graph_rename(struct nn_graph *g, int node, const char *name);

/* ---- building ---- */

int nn_graph_input(struct nn_graph *g, const char *name, int ndim, const int64_t *shape);
/* A parameter node: the store's parameter called name, created and
 * initialised from init when new (shape must match when it exists). */
int nn_graph_param(struct nn_graph *g, const char *name, int ndim, const int64_t *shape,
	const struct tensor_init_spec *init, unsigned flags);
/* The generic builder: every op below goes through it. */
int nn_graph_op(struct nn_graph *g, enum nn_op op, const char *name, const int *src, int nsrc,
	const struct nn_op_params *p);

int nn_graph_conv2d(struct nn_graph *g, const char *name, int x, int w, int b,
	int stride, int pad, int dil, int groups);
/* Batch norm over (N, H, W) per channel, PyTorch semantics: training uses the
 * batch's biased variance and updates running = (1-m)*running + m*batch (the
 * variance unbiased); eval uses the running statistics. Creates the buffers
 * "<name>.running_mean" and "<name>.running_var" in the store. */
int nn_graph_batchnorm(struct nn_graph *g, const char *name, int x, int gamma, int beta,
	float eps, float momentum);
int nn_graph_groupnorm(struct nn_graph *g, const char *name, int x, int gamma, int beta,
	int groups, float eps);
int nn_graph_unary(struct nn_graph *g, enum nn_op op, const char *name, int x);
int nn_graph_leaky_relu(struct nn_graph *g, const char *name, int x, float slope);
int nn_graph_pool(struct nn_graph *g, enum nn_op op, const char *name, int x, int k, int stride, int pad);
int nn_graph_resize(struct nn_graph *g, enum nn_op op, const char *name, int x, int out_h, int out_w);
int nn_graph_binary(struct nn_graph *g, enum nn_op op, const char *name, int a, int b);
int nn_graph_scale(struct nn_graph *g, const char *name, int x, float a, float b);
int nn_graph_concat(struct nn_graph *g, const char *name, const int *xs, int n, int axis);
int nn_graph_slice(struct nn_graph *g, const char *name, int x, int axis, int start, int end);
int nn_graph_reshape(struct nn_graph *g, const char *name, int x, int ndim, const int64_t *shape);
int nn_graph_permute(struct nn_graph *g, const char *name, int x, const int *perm);
/* Sum or mean over the axes in mask (bit d = axis d); reduced axes keep size 1. */
int nn_graph_reduce(struct nn_graph *g, enum nn_op op, const char *name, int x, unsigned mask);
int nn_graph_softmax(struct nn_graph *g, enum nn_op op, const char *name, int x, int axis);

/* Marks a node as an output: its value survives forward and the caller
 * sets its gradient before backward. */
int nn_graph_output(struct nn_graph *g, int node);

/* ---- running ---- */

/* Training (1) or evaluation (0) mode; the next forward replans if needed. */
void nn_graph_set_train(struct nn_graph *g, int train);
int nn_graph_is_train(const struct nn_graph *g);
/* Plans memory now (forward does it when needed). 0 or DET_ENOMEM. */
int nn_graph_plan(struct nn_graph *g);
/* The value buffer of a node (inputs: write here before forward; outputs:
 * read after) and its gradient buffer (outputs: write before backward).
 * Valid after a plan, until the next plan. NULL before. */
float *nn_graph_value(struct nn_graph *g, int node);
float *nn_graph_grad(struct nn_graph *g, int node);
/* Runs every node. 0, or a status from planning. */
int nn_graph_forward(struct nn_graph *g);
/* Runs the backward pass (training mode, after forward, with every output's
 * gradient set): parameter gradients are overwritten (frozen ones untouched). */
int nn_graph_backward(struct nn_graph *g);

/* Checking on (1) or off (0): forward then scans each node's output right
 * after computing it (and the inputs first), backward each gradient it
 * writes, and they stop at the first NaN or Inf with DET_ENUM and a
 * message naming the node and op ("layer1.0.bn1 (batchnorm): output has
 * nan at element 17 (inputs finite)"). One extra read pass per node. */
void nn_graph_set_check(struct nn_graph *g, int on);

/* Profiling on (1) or off (0): forward and backward add each node's wall
 * time to its time_fwd / time_bwd (zeroed when profiling is turned on). */
void nn_graph_set_profile(struct nn_graph *g, int on);

/* Statistics: arena bytes (activations, gradients and the convolutions'
 * scratch), one buffer per node's bytes, the largest convolution's scratch
 * (part of the arena), number of plans made, number of arena
 * (re)allocations — steady state adds none. */
struct nn_graph_stats {
	size_t arena_bytes, naive_bytes, workspace_bytes;
	int plans, allocations;
};
void nn_graph_stats(const struct nn_graph *g, struct nn_graph_stats *st);
/* The timeline step (forward of node i at i, its backward at 2n-1-i) where
 * the plan's live buffers add up to the most bytes, and that sum (a lower
 * bound of the arena): *step and *bytes. Prints, when f is not NULL, the
 * buffers live there, largest first, at most top of them. 0 or DET_EINVAL
 * before a plan. */
int nn_graph_peak(const struct nn_graph *g, int *step, size_t *bytes, FILE *f, int top);
/* FLOPs of one forward pass of a node (2 per multiply-add; element-wise ops
 * count one per output element), for summaries. */
double nn_graph_node_flops(const struct nn_graph *g, int node);

#endif
