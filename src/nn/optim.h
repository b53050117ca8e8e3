/* optim.h: optimisers (SGD, Adam, AdamW, RMSprop) over flat float slabs.
 *
 * The engine keeps every parameter in one contiguous float slab, the
 * gradients in a second slab of the same layout, and a list of named
 * segments. An optimiser is bound to that pair of slabs once; its own state
 * (momentum, moments, EMA weights) lives in one more slab of the same layout
 * per buffer. Updates follow PyTorch 1.13's formulas to the operation, run
 * element-wise under OpenMP, and are bit-identical run to run (and across
 * thread counts: no element depends on another except the gradient norm,
 * which is summed in fixed blocks in a fixed order).
 *
 * Hyper-parameters are plain fields of struct optim_config, readable and
 * writable between steps, by name too (optim_get/optim_set) for the Lua
 * binding and the trainer's command queue. None of this is thread-safe:
 * change a hyper-parameter between steps, on the thread that steps. */
#ifndef DET_NN_OPTIM_H
#define DET_NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum optim_kind {
	OPTIM_SGD,
	OPTIM_ADAM,
	OPTIM_ADAMW,   /* Adam with decoupled weight decay on by default */
	OPTIM_RMSPROP,
	OPTIM_NKINDS,
};

/* Segment flags. Group rules can match OPTIM_NORM ("norm") and OPTIM_BIAS
 * ("bias") segments; OPTIM_FROZEN segments are never updated, never count in
 * the gradient norm and never change their EMA. */
enum {
	OPTIM_NORM = 1u << 0,
	OPTIM_BIAS = 1u << 1,
	OPTIM_FROZEN = 1u << 2,
};

/* One named tensor inside the slabs: elements [offset, offset + count). */
struct optim_segment {
	const char *name;
	size_t offset, count;
	unsigned flags;
};

/* The hyper-parameters. Every field applies to every kind that uses it;
 * optim_config_default() fills PyTorch's defaults for a kind. */
struct optim_config {
	double lr;            /* learning rate */
	double momentum;      /* SGD, RMSprop: heavy-ball momentum (0 = off) */
	double dampening;     /* SGD: dampening of the momentum (PyTorch's) */
	int nesterov;         /* SGD: Nesterov momentum */
	double beta1, beta2;  /* Adam(W): moment decay rates */
	int amsgrad;          /* Adam(W): keep the maximum second moment */
	double alpha;         /* RMSprop: decay of the squared-gradient average */
	int centered;         /* RMSprop: divide by the centred variance */
	double eps;           /* Adam(W), RMSprop: added to the denominator */
	double weight_decay;  /* L2 strength (coupled or decoupled, see below) */
	int decoupled;        /* 1: p *= 1 - lr*wd before the update (AdamW);
	                         0: g += wd*p (classic L2) */
	double l1;            /* L1 penalty: g += l1*sign(p) */
	double clip;          /* > 0: clip the global gradient L2 norm to this */
	double ema;           /* > 0: keep an EMA of the weights with this decay */
	double ema_warmup;    /* > 0: the decay ramps as ema*(1-exp(-n/ema_warmup))
	                         with n the update count (YOLOv5's ModelEMA, which
	                         uses 2000); 0: constant decay */
};

/* A per-group override: segments whose name or flags match `match` use these
 * values instead of the optimiser's. `match` is a list of alternatives
 * separated by '|'; an alternative matches a segment when it is a substring
 * of the segment's name, or when it is the word "norm" or "bias" and the
 * segment carries that flag. The first matching group wins. */
struct optim_group {
	char *match;
	double lr_mult;       /* this group's lr = config.lr * lr_mult (1 = same) */
	int has_weight_decay;
	double weight_decay;
	int has_l1;
	double l1;
};

struct optim;

/* Fills *cfg with PyTorch 1.13's defaults for kind (SGD lr 0.01 — PyTorch
 * has no default there —, Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8,
 * AdamW weight_decay 0.01 decoupled, RMSprop lr 0.01, alpha 0.99, eps 1e-8). */
void optim_config_default(enum optim_kind kind, struct optim_config *cfg);

/* A new optimiser of kind with a copy of *cfg (NULL: the defaults). Returns
 * NULL with det_error_message() set when the configuration is invalid
 * (negative lr, Nesterov without momentum, betas outside [0, 1), ...). */
struct optim *optim_new(enum optim_kind kind, const struct optim_config *cfg);
void optim_free(struct optim *opt);

/* Adds a per-group override (copied; match is copied). Groups must be added
 * before optim_bind; returns DET_EINVAL for an empty match or a negative
 * lr_mult / weight decay. */
int optim_group_add(struct optim *opt, const struct optim_group *group);
size_t optim_group_count(const struct optim *opt);
const struct optim_group *optim_group_get(const struct optim *opt, size_t i);

/* Binds the optimiser to the engine's slabs: params[n] and grads[n] are
 * borrowed (the engine owns them and must keep them alive while bound);
 * segs[nseg] is copied, each segment is matched to its group here, and
 * segments must lie inside [0, n) without overlapping. The first bind
 * allocates the state slab (zeroed) and copies params into the EMA.
 * Binding again to slabs of the same n and the same segment layout keeps
 * all state (the engine may move its slabs); any other layout resets state
 * and the step count. Fails with DET_EINVAL (bad segment) or DET_ENOMEM. */
int optim_bind(struct optim *opt, float *params, float *grads, size_t n,
               const struct optim_segment *segs, size_t nseg);
int optim_is_bound(const struct optim *opt);
/* Forgets the slabs (the next bind starts from fresh state); a no-op when
 * unbound. */
void optim_unbind(struct optim *opt);
/* The parameter slab the optimiser is bound to (NULL when unbound). */
const float *optim_params(const struct optim *opt);
size_t optim_size(const struct optim *opt);
/* The group index of bound segment i, or -1 for the optimiser's defaults. */
int optim_segment_group(const struct optim *opt, size_t i);

/* One step: clips the gradients when config.clip > 0 (scaling the gradient
 * slab in place, as torch.nn.utils.clip_grad_norm_ does), applies the
 * weight decay and L1 terms, updates every non-frozen segment, advances
 * the step count and updates the EMA. Returns DET_EINVAL when unbound and
 * DET_ENUM (parameters untouched) when the gradient norm is NaN or Inf. */
int optim_step(struct optim *opt);

/* The global L2 norm of the gradients of the last step, before clipping
 * (computed on every step, clipping or not). */
double optim_grad_norm(const struct optim *opt);
/* The number of steps taken. */
uint64_t optim_step_count(const struct optim *opt);

/* torch.nn.utils.clip_grad_norm_ over the non-frozen segments of grads:
 * total = sqrt(sum_s ||g_s||^2); when max_norm > 0, every gradient is scaled
 * by min(1, max_norm / (total + 1e-6)). Returns total (before clipping).
 * Sums run in double over fixed blocks, so the result does not depend on
 * the thread count. */
double optim_clip_grad_norm(float *grads, const struct optim_segment *segs,
                            size_t nseg, double max_norm);

/* The EMA of the weights (n floats, the params' layout), or NULL when
 * config.ema was 0 at bind time. optim_ema_swap exchanges the EMA with the
 * bound parameters (call it twice to evaluate with EMA weights and go back). */
const float *optim_ema_weights(const struct optim *opt);
int optim_ema_swap(struct optim *opt);
/* The decay used by the last EMA update (0 before the first). */
double optim_ema_decay(const struct optim *opt);

/* The configuration in force; writable between steps (a pointer into the
 * optimiser). Changing amsgrad/centered/momentum is allowed: every buffer a
 * kind may need is allocated at bind time. */
struct optim_config *optim_config(struct optim *opt);
enum optim_kind optim_kind(const struct optim *opt);
const char *optim_kind_name(enum optim_kind kind);
/* "sgd", "adam", "adamw", "rmsprop" -> kind; -1 for anything else. */
int optim_kind_parse(const char *name);

/* Hyper-parameters by name: "lr", "momentum", "dampening", "nesterov",
 * "beta1", "beta2", "amsgrad", "alpha", "centered", "eps", "weight_decay",
 * "decoupled", "l1", "clip", "ema", "ema_warmup". A name the kind does not
 * use (e.g. "beta1" for SGD) or a misspelt one fails with DET_EINVAL and a
 * message naming it and listing the valid names; an invalid value fails
 * with DET_EINVAL and leaves the config unchanged. */
int optim_get(const struct optim *opt, const char *key, double *value);
int optim_set(struct optim *opt, const char *key, double value);
/* Sets the momentum a schedule cycles (sched_momentum): "momentum" for SGD
 * and RMSprop, "beta1" for Adam(W), as PyTorch's CyclicLR and OneCycleLR
 * do. NaN is a no-op; an invalid value fails as optim_set does. */
int optim_momentum_set(struct optim *opt, double m);
/* The names valid for kind, NULL-terminated. */
const char *const *optim_keys(enum optim_kind kind);
/* Whether key names a flag (nesterov, amsgrad, centered, decoupled). */
int optim_key_is_flag(const char *key);

/* State: a versioned little-endian byte format holding the kind, the
 * config, the step count, the EMA update count, every state buffer and the
 * EMA weights, closed by a CRC-32 of everything before it:
 *   "DETOPTIM" u32 version u32 kind u64 n u64 nseg u64 step u64 ema_updates
 *   f64 x 16 config | u32 nbuf | nbuf*n f32 | u32 has_ema | [n f32] | u32 crc
 * optim_state_size gives the bytes optim_state_write will produce.
 * Loading requires a bound optimiser of the same kind, n and segment
 * count; it restores the config (so an lr changed by hand resumes too).
 * A size, kind, version or checksum mismatch fails with DET_EFORMAT and a
 * message that says which, leaving the optimiser unchanged. */
size_t optim_state_size(const struct optim *opt);
int optim_state_write(const struct optim *opt, void *buf, size_t size);
int optim_state_read(struct optim *opt, const void *buf, size_t size);
int optim_state_save(const struct optim *opt, FILE *f);
/* Reads exactly one state record from f (it may be followed by other data). */
int optim_state_load(struct optim *opt, FILE *f);

/* One line describing the optimiser ("adamw lr=0.001 betas=(0.9, 0.999)
 * eps=1e-08 weight_decay=0.01 decoupled step=120"), into buf; returns the
 * length snprintf would have written. */
int optim_describe(const struct optim *opt, char *buf, size_t size);

#endif
