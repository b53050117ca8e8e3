/* optim.c: SGD, Adam(W) and RMSprop over the engine's parameter and
 * gradient slabs, with per-group overrides, gradient-norm clipping, an EMA
 * of the weights and a versioned, checksummed state format.
 *
 * Layout: the state is one slab of nbuf*n floats, buffer k of element i at
 * state[k*n + i], in the parameters' layout; the EMA is one more slab of n.
 * Work is cut into items of at most ITEM elements inside one segment, each
 * item carrying its group's hyper-parameters; items run under OpenMP. */
#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/threads.h"

#define ITEM 8192
#define STATE_MAGIC "DETOPTIM"
#define STATE_VERSION 1u
#define NCONFIG 16

struct hp;

struct item {
	size_t offset, count;
	int group;           /* -1: the optimiser's own values */
};

struct optim {
	enum optim_kind kind;
	struct optim_config cfg;
	struct optim_group *groups;
	size_t ngroups;

	float *params, *grads;
	size_t n;
	struct optim_segment *segs;
	int *seg_group;
	size_t nseg;
	struct item *items;
	double *partial;     /* one gradient sum of squares per item */
	size_t nitems;

	struct hp *hps;      /* per-step scalars: [0] defaults, [1 + g] group g */
	float *state;        /* nbuf * n */
	size_t nbuf;
	float *ema;          /* n, or NULL */
	uint64_t step, ema_updates;
	double grad_norm, ema_decay_last;
};

static const char *const kind_names[OPTIM_NKINDS] = { "sgd", "adam", "adamw", "rmsprop" };

static const char *const keys_sgd[] = { "lr", "momentum", "dampening", "nesterov",
	"weight_decay", "decoupled", "l1", "clip", "ema", "ema_warmup", NULL };
static const char *const keys_adam[] = { "lr", "beta1", "beta2", "amsgrad", "eps",
	"weight_decay", "decoupled", "l1", "clip", "ema", "ema_warmup", NULL };
static const char *const keys_rmsprop[] = { "lr", "alpha", "eps", "momentum", "centered",
	"weight_decay", "decoupled", "l1", "clip", "ema", "ema_warmup", NULL };

const char *optim_kind_name(enum optim_kind kind)
{
	return (unsigned)kind < OPTIM_NKINDS ? kind_names[kind] : "?";
}

int optim_kind_parse(const char *name)
{
	for (int k = 0; k < OPTIM_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

const char *const *optim_keys(enum optim_kind kind)
{
	switch (kind) {
	case OPTIM_SGD: return keys_sgd;
	case OPTIM_ADAM: case OPTIM_ADAMW: return keys_adam;
	default: return keys_rmsprop;
	}
}

int optim_key_is_flag(const char *key)
{
	return strcmp(key, "nesterov") == 0 || strcmp(key, "amsgrad") == 0 ||
	       strcmp(key, "centered") == 0 || strcmp(key, "decoupled") == 0;
}

static size_t kind_nbuf(enum optim_kind kind)
{
	return kind == OPTIM_SGD ? 1 : 3;
}

void optim_config_default(enum optim_kind kind, struct optim_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->beta1 = 0.9;
	cfg->beta2 = 0.999;
	cfg->alpha = 0.99;
	cfg->eps = 1e-8;
	switch (kind) {
	case OPTIM_SGD: cfg->lr = 0.01; break;
	case OPTIM_ADAM: cfg->lr = 1e-3; break;
	case OPTIM_ADAMW: cfg->lr = 1e-3; cfg->weight_decay = 0.01; cfg->decoupled = 1; break;
	default: cfg->lr = 0.01; break;
	}
}

/* The config as 16 doubles, in the state format's order. */
static double *config_slot(struct optim_config *c, int i)
{
	static double dummy;
	switch (i) {
	case 0: return &c->lr;
	case 1: return &c->momentum;
	case 2: return &c->dampening;
	case 4: return &c->beta1;
	case 5: return &c->beta2;
	case 7: return &c->alpha;
	case 9: return &c->eps;
	case 10: return &c->weight_decay;
	case 12: return &c->l1;
	case 13: return &c->clip;
	case 14: return &c->ema;
	case 15: return &c->ema_warmup;
	default: return &dummy;
	}
}

static int *config_flag(struct optim_config *c, int i)
{
	switch (i) {
	case 3: return &c->nesterov;
	case 6: return &c->amsgrad;
	case 8: return &c->centered;
	case 11: return &c->decoupled;
	default: return NULL;
	}
}

static const char *const config_names[NCONFIG] = { "lr", "momentum", "dampening", "nesterov",
	"beta1", "beta2", "amsgrad", "alpha", "centered", "eps", "weight_decay", "decoupled",
	"l1", "clip", "ema", "ema_warmup" };

static int config_check(enum optim_kind kind, const struct optim_config *c)
{
	if (!(c->lr >= 0) || !isfinite(c->lr))
		return det_error_set(DET_EINVAL, "%s: lr must be >= 0 (got %g)", optim_kind_name(kind), c->lr);
	if (!(c->momentum >= 0 && c->momentum < 1))
		return det_error_set(DET_EINVAL, "%s: momentum must be in [0, 1) (got %g)",
		                     optim_kind_name(kind), c->momentum);
	if (!(c->dampening >= 0 && c->dampening <= 1))
		return det_error_set(DET_EINVAL, "%s: dampening must be in [0, 1] (got %g)",
		                     optim_kind_name(kind), c->dampening);
	if (kind == OPTIM_SGD && c->nesterov && (c->momentum <= 0 || c->dampening != 0))
		return det_error_set(DET_EINVAL, "sgd: nesterov needs momentum > 0 and dampening 0");
	if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
		return det_error_set(DET_EINVAL, "%s: betas must be in [0, 1) (got %g, %g)",
		                     optim_kind_name(kind), c->beta1, c->beta2);
	if (!(c->alpha >= 0 && c->alpha <= 1))
		return det_error_set(DET_EINVAL, "%s: alpha must be in [0, 1] (got %g)", optim_kind_name(kind), c->alpha);
	if (!(c->eps >= 0) || !isfinite(c->eps))
		return det_error_set(DET_EINVAL, "%s: eps must be >= 0 (got %g)", optim_kind_name(kind), c->eps);
	if (!(c->weight_decay >= 0) || !isfinite(c->weight_decay))
		return det_error_set(DET_EINVAL, "%s: weight_decay must be >= 0 (got %g)",
		                     optim_kind_name(kind), c->weight_decay);
	if (!(c->l1 >= 0) || !isfinite(c->l1))
		return det_error_set(DET_EINVAL, "%s: l1 must be >= 0 (got %g)", optim_kind_name(kind), c->l1);
	if (!(c->clip >= 0))
		return det_error_set(DET_EINVAL, "%s: clip must be >= 0 (0 = off; got %g)", optim_kind_name(kind), c->clip);
	if (!(c->ema >= 0 && c->ema < 1))
		return det_error_set(DET_EINVAL, "%s: ema must be in [0, 1) (0 = off; got %g)",
		                     optim_kind_name(kind), c->ema);
	if (!(c->ema_warmup >= 0) || !isfinite(c->ema_warmup))
		return det_error_set(DET_EINVAL, "%s: ema_warmup must be >= 0 (got %g)", optim_kind_name(kind), c->ema_warmup);
	return 0;
}

struct optim *optim_new(enum optim_kind kind, const struct optim_config *cfg)
{
	struct optim *opt;
	struct optim_config c;

	if ((unsigned)kind >= OPTIM_NKINDS) {
		det_error_set(DET_EINVAL, "unknown optimiser kind %d", (int)kind);
		return NULL;
	}
	if (cfg)
		c = *cfg;
	else
		optim_config_default(kind, &c);
	if (config_check(kind, &c))
		return NULL;
	opt = calloc(1, sizeof *opt);
	if (!opt) {
		det_error_set(DET_ENOMEM, "out of memory for an optimiser");
		return NULL;
	}
	opt->kind = kind;
	opt->cfg = c;
	opt->nbuf = kind_nbuf(kind);
	return opt;
}

static void unbind(struct optim *opt)
{
	for (size_t i = 0; i < opt->nseg; i++)
		free((char *)opt->segs[i].name);
	free(opt->segs);
	free(opt->seg_group);
	free(opt->items);
	free(opt->partial);
	opt->segs = NULL;
	opt->seg_group = NULL;
	opt->items = NULL;
	opt->partial = NULL;
	opt->nseg = opt->nitems = 0;
}

void optim_free(struct optim *opt)
{
	if (!opt)
		return;
	unbind(opt);
	for (size_t i = 0; i < opt->ngroups; i++)
		free(opt->groups[i].match);
	free(opt->groups);
	free(opt->hps);
	free(opt->state);
	free(opt->ema);
	free(opt);
}

int optim_group_add(struct optim *opt, const struct optim_group *group)
{
	struct optim_group *g;

	if (!group->match || !group->match[0])
		return det_error_set(DET_EINVAL, "optimiser group: match must be a non-empty string");
	if (!(group->lr_mult >= 0) || !isfinite(group->lr_mult))
		return det_error_set(DET_EINVAL, "optimiser group '%s': lr_mult must be >= 0 (got %g)",
		                     group->match, group->lr_mult);
	if (group->has_weight_decay && !(group->weight_decay >= 0))
		return det_error_set(DET_EINVAL, "optimiser group '%s': weight_decay must be >= 0",
		                     group->match);
	if (group->has_l1 && !(group->l1 >= 0))
		return det_error_set(DET_EINVAL, "optimiser group '%s': l1 must be >= 0", group->match);
	if (opt->segs)
		return det_error_set(DET_EINVAL, "optimiser group '%s': add groups before binding",
		                     group->match);
	g = realloc(opt->groups, (opt->ngroups + 1) * sizeof *g);
	if (!g)
		return det_error_set(DET_ENOMEM, "out of memory for an optimiser group");
	opt->groups = g;
	g += opt->ngroups;
	*g = *group;
	g->match = strdup(group->match);
	if (!g->match)
		return det_error_set(DET_ENOMEM, "out of memory for an optimiser group");
	opt->ngroups++;
	return 0;
}

size_t optim_group_count(const struct optim *opt)
{
	return opt->ngroups;
}

const struct optim_group *optim_group_get(const struct optim *opt, size_t i)
{
	return i < opt->ngroups ? &opt->groups[i] : NULL;
}

/* Does one '|'-separated alternative list match a segment? */
static int group_matches(const char *match, const struct optim_segment *s)
{
	const char *p = match;

	while (*p) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0) {
			if ((len == 4 && strncmp(p, "norm", 4) == 0 && (s->flags & OPTIM_NORM)) ||
			    (len == 4 && strncmp(p, "bias", 4) == 0 && (s->flags & OPTIM_BIAS)))
				return 1;
			if (s->name) {
				for (const char *q = s->name; strlen(q) >= len; q++)
					if (strncmp(q, p, len) == 0)
						return 1;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

static int same_layout(const struct optim *opt, size_t n, const struct optim_segment *segs, size_t nseg)
{
	if (!opt->segs || opt->n != n || opt->nseg != nseg)
		return 0;
	for (size_t i = 0; i < nseg; i++)
		if (segs[i].offset != opt->segs[i].offset || segs[i].count != opt->segs[i].count)
			return 0;
	return 1;
}

int optim_bind(struct optim *opt, float *params, float *grads, size_t n,
               const struct optim_segment *segs, size_t nseg)
{
	int keep;
	size_t nitems = 0, k = 0;
	struct optim_segment *nsegs = NULL;
	int *seg_group = NULL;
	struct item *items = NULL;
	double *partial = NULL;
	float *state = NULL, *ema = NULL;

	if (!params || !grads || n == 0)
		return det_error_set(DET_EINVAL, "optimiser bind: empty parameter slab");
	for (size_t i = 0; i < nseg; i++) {
		const struct optim_segment *s = &segs[i];

		if (s->offset > n || s->count > n - s->offset)
			return det_error_set(DET_EINVAL, "optimiser bind: segment %zu '%s' [%zu, +%zu) lies "
			                     "outside the slab of %zu", i, s->name ? s->name : "?",
			                     s->offset, s->count, n);
		for (size_t j = 0; j < i; j++) {
			const struct optim_segment *t = &segs[j];
			if (s->count && t->count && s->offset < t->offset + t->count &&
			    t->offset < s->offset + s->count)
				return det_error_set(DET_EINVAL, "optimiser bind: segments '%s' and '%s' overlap",
				                     t->name ? t->name : "?", s->name ? s->name : "?");
		}
		nitems += (s->count + ITEM - 1) / ITEM;
	}
	keep = same_layout(opt, n, segs, nseg);

	nsegs = calloc(nseg ? nseg : 1, sizeof *nsegs);
	seg_group = calloc(nseg ? nseg : 1, sizeof *seg_group);
	items = calloc(nitems ? nitems : 1, sizeof *items);
	partial = calloc(nitems ? nitems : 1, sizeof *partial);
	if (!keep) {
		state = calloc(opt->nbuf * n, sizeof *state);
		if (opt->cfg.ema > 0)
			ema = malloc(n * sizeof *ema);
	}
	if (!nsegs || !seg_group || !items || !partial || (!keep && !state) ||
	    (!keep && opt->cfg.ema > 0 && !ema))
		goto nomem;
	for (size_t i = 0; i < nseg; i++) {
		nsegs[i] = segs[i];
		nsegs[i].name = strdup(segs[i].name ? segs[i].name : "");
		if (!nsegs[i].name)
			goto nomem;
		seg_group[i] = -1;
		for (size_t g = 0; g < opt->ngroups; g++)
			if (group_matches(opt->groups[g].match, &segs[i])) {
				seg_group[i] = (int)g;
				break;
			}
		for (size_t off = 0; off < segs[i].count; off += ITEM) {
			items[k].offset = segs[i].offset + off;
			items[k].count = segs[i].count - off < ITEM ? segs[i].count - off : ITEM;
			items[k].group = (segs[i].flags & OPTIM_FROZEN) ? -2 : seg_group[i];
			k++;
		}
	}
	unbind(opt);
	opt->segs = nsegs;
	opt->seg_group = seg_group;
	opt->nseg = nseg;
	opt->items = items;
	opt->partial = partial;
	opt->nitems = nitems;
	opt->params = params;
	opt->grads = grads;
	if (!keep) {
		free(opt->state);
		free(opt->ema);
		opt->state = state;
		opt->ema = ema;
		if (ema)
			memcpy(ema, params, n * sizeof *ema);
		opt->n = n;
		opt->step = opt->ema_updates = 0;
		opt->grad_norm = opt->ema_decay_last = 0;
	}
	return 0;

nomem:
	if (nsegs)
		for (size_t i = 0; i < nseg; i++)
			free((char *)nsegs[i].name);
	free(nsegs);
	free(seg_group);
	free(items);
	free(partial);
	free(state);
	free(ema);
	return det_error_set(DET_ENOMEM, "out of memory binding an optimiser to %zu parameters", n);
}

int optim_is_bound(const struct optim *opt)
{
	return opt->segs != NULL;
}

void optim_unbind(struct optim *opt)
{
	unbind(opt);
	opt->params = opt->grads = NULL;
}

const float *optim_params(const struct optim *opt)
{
	return opt->segs ? opt->params : NULL;
}

size_t optim_size(const struct optim *opt)
{
	return opt->segs ? opt->n : 0;
}

int optim_segment_group(const struct optim *opt, size_t i)
{
	return i < opt->nseg ? opt->seg_group[i] : -1;
}

double optim_grad_norm(const struct optim *opt)
{
	return opt->grad_norm;
}

uint64_t optim_step_count(const struct optim *opt)
{
	return opt->step;
}

struct optim_config *optim_config(struct optim *opt)
{
	return &opt->cfg;
}

enum optim_kind optim_kind(const struct optim *opt)
{
	return opt->kind;
}

/* ---- gradient norm --------------------------------------------------- */

/* sum of g[i]^2 over one item, in double: eight running sums (lane j
 * takes i = j mod 8), added in a fixed order, so the result never depends
 * on where the slab lies in memory and the loop can use vector lanes. */
static double sumsq(const float *g, size_t n)
{
	double acc[8] = { 0 };
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		for (int j = 0; j < 8; j++)
			acc[j] += (double)g[i + j] * g[i + j];
	for (; i < n; i++)
		acc[i % 8] += (double)g[i] * g[i];
	return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The number of values the items cover: a loop's work (core/threads.h). */
static int64_t items_total(const struct item *items, size_t nitems)
{
	int64_t n = 0;

	for (size_t k = 0; k < nitems; k++)
		n += (int64_t)items[k].count;
	return n;
}

/* Total L2 norm over items (frozen ones skipped): partial sums in parallel,
 * added in item order, so the result is independent of the thread count. */
static double items_norm(const float *grads, const struct item *items, size_t nitems, double *partial)
{
	double total = 0;

	#pragma omp parallel for schedule(dynamic, 4) \
		num_threads(det_threads_for(2 * items_total(items, nitems)))
	for (size_t k = 0; k < nitems; k++)
		partial[k] = items[k].group == -2 ? 0 : sumsq(grads + items[k].offset, items[k].count);
	for (size_t k = 0; k < nitems; k++)
		total += partial[k];
	return sqrt(total);
}

static void items_scale(float *grads, const struct item *items, size_t nitems, float c)
{
	#pragma omp parallel for schedule(dynamic, 4) \
		num_threads(det_threads_for(2 * items_total(items, nitems)))
	for (size_t k = 0; k < nitems; k++) {
		float *g = grads + items[k].offset;

		if (items[k].group == -2)
			continue;
		#pragma omp simd
		for (size_t i = 0; i < items[k].count; i++)
			g[i] *= c;
	}
}

/* torch: clip_coef = max_norm / (total + 1e-6), clamped to 1, multiplies
 * every gradient (a no-op multiply by 1.0 when under the limit). */
static float clip_coef(double total, double max_norm)
{
	double c = max_norm / (total + 1e-6);
	return (float)(c < 1.0 ? c : 1.0);
}

double optim_clip_grad_norm(float *grads, const struct optim_segment *segs,
                            size_t nseg, double max_norm)
{
	size_t nitems = 0, k = 0;
	struct item *items;
	double *partial, total;

	for (size_t i = 0; i < nseg; i++)
		nitems += (segs[i].count + ITEM - 1) / ITEM;
	items = calloc(nitems ? nitems : 1, sizeof *items);
	partial = calloc(nitems ? nitems : 1, sizeof *partial);
	if (!items || !partial) {
		free(items);
		free(partial);
		det_error_set(DET_ENOMEM, "out of memory for a gradient norm");
		return NAN;
	}
	for (size_t i = 0; i < nseg; i++)
		for (size_t off = 0; off < segs[i].count; off += ITEM) {
			items[k].offset = segs[i].offset + off;
			items[k].count = segs[i].count - off < ITEM ? segs[i].count - off : ITEM;
			items[k].group = (segs[i].flags & OPTIM_FROZEN) ? -2 : -1;
			k++;
		}
	total = items_norm(grads, items, nitems, partial);
	if (max_norm > 0 && isfinite(total))
		items_scale(grads, items, nitems, clip_coef(total, max_norm));
	free(items);
	free(partial);
	return total;
}

/* ---- updates ----------------------------------------------------------
 * Every kernel works on one item: p, g and the state buffers at the same
 * offset, n elements. Scalars are computed in double and rounded to float
 * once, then every operation runs in float in PyTorch's order. */

struct hp {
	float lr, wd, l1, momentum, dampening, beta1, beta2, alpha, eps;
	float step_size, bc2_sqrt;   /* Adam: lr / (1 - b1^t), sqrt(1 - b2^t) */
	float decay;                 /* decoupled: 1 - lr*wd */
	int nesterov, first, amsgrad, centered, decoupled;
};

/* The coupled and decoupled terms, into d[n] (a copy of g):
 *   decoupled: p = p * (1 - lr*wd)          (before the update, as AdamW)
 *   coupled:   d = g + wd*p
 *   L1:        d = d + l1*sign(p)            (sign(0) = 0)
 * Each case is its own branch-free loop so the compiler vectorises it. */
static void decay_terms(struct hp h, float *restrict p, const float *restrict g, float *restrict d,
                        size_t n)
{
	if (h.decoupled && h.wd != 0) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] * h.decay;
		memcpy(d, g, n * sizeof *d);
	} else if (h.wd != 0) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			d[i] = g[i] + h.wd * p[i];
	} else {
		memcpy(d, g, n * sizeof *d);
	}
	if (h.l1 != 0)
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			d[i] = d[i] + h.l1 * (float)((p[i] > 0) - (p[i] < 0));
}

/* SGD (torch.optim.SGD):
 *   b = mu*b + (1 - dampening)*g   (b = g on the first step)
 *   d = nesterov ? g + mu*b : b     (d = g when mu = 0)
 *   p = p - lr*d */
static void sgd_update(struct hp h, float *restrict p, const float *restrict d, float *restrict b,
                       size_t n)
{
	float mu = h.momentum, keep = 1.0f - h.dampening, lr = h.lr;

	if (mu == 0) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] - lr * d[i];
		return;
	}
	if (h.first)
		memcpy(b, d, n * sizeof *b);
	else
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			b[i] = b[i] * mu + keep * d[i];
	if (h.nesterov)
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] - lr * (d[i] + mu * b[i]);
	else
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] - lr * b[i];
}

/* SGD with momentum after the first step, coupled weight decay, no L1 and
 * no Nesterov, the common case, in one pass: decay_terms' and
 * sgd_update's expressions per element in their order (the same bits),
 * p, g and b read once instead of d written and read back twice. */
static void sgd_fused(struct hp h, float *restrict p, const float *restrict g, float *restrict b, size_t n)
{
	const float wd = h.wd, mu = h.momentum, keep = 1.0f - h.dampening, lr = h.lr;

	#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float d = g[i] + wd * p[i];
		b[i] = b[i] * mu + keep * d;
		p[i] = p[i] - lr * b[i];
	}
}

/* Adam (Kingma & Ba 2015; torch.optim.Adam / AdamW):
 *   m = b1*m + (1-b1)*g,  v = b2*v + (1-b2)*g^2,  vmax = max(vmax, v)
 *   p = p - lr/(1-b1^t) * m / (sqrt(v or vmax)/sqrt(1-b2^t) + eps) */
/* (optim.c builds with -fno-math-errno, src/nn/local.mk: sqrtf's argument
 * is never negative but for rounding in the centred variance, where NaN is
 * the answer either way, and without errno the sqrt loops vectorise.) */
static void adam_update(struct hp h, float *restrict p, const float *restrict d, float *restrict m,
                        float *restrict v, float *restrict vmax, size_t n)
{
	float b1 = h.beta1, c1 = 1.0f - h.beta1, b2 = h.beta2, c2 = 1.0f - h.beta2;
	float bc2 = h.bc2_sqrt, eps = h.eps, step = h.step_size;

	#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		m[i] = m[i] * b1 + c1 * d[i];
		v[i] = v[i] * b2 + c2 * d[i] * d[i];
	}
	if (h.amsgrad) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++) {
			vmax[i] = vmax[i] > v[i] ? vmax[i] : v[i];
			p[i] = p[i] - step * (m[i] / (sqrtf(vmax[i]) / bc2 + eps));
		}
	} else {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] - step * (m[i] / (sqrtf(v[i]) / bc2 + eps));
	}
}

/* RMSprop (Hinton, Lecture 6e; torch.optim.RMSprop):
 *   s = a*s + (1-a)*g^2;  centred: ga = a*ga + (1-a)*g, s' = s - ga^2
 *   r = sqrt(s') + eps
 *   momentum: b = mu*b + g/r, p = p - lr*b;  else p = p - lr*g/r
 * r[n] is scratch. */
static void rmsprop_update(struct hp h, float *restrict p, const float *restrict d, float *restrict sq,
                           float *restrict b, float *restrict ga, float *restrict r, size_t n)
{
	float a = h.alpha, ca = 1.0f - h.alpha, eps = h.eps, mu = h.momentum, lr = h.lr;

	#pragma omp simd
	for (size_t i = 0; i < n; i++)
		sq[i] = sq[i] * a + ca * d[i] * d[i];
	if (h.centered) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++) {
			ga[i] = ga[i] * a + ca * d[i];
			r[i] = sqrtf(sq[i] - ga[i] * ga[i]) + eps;
		}
	} else {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			r[i] = sqrtf(sq[i]) + eps;
	}
	if (mu > 0) {
		#pragma omp simd
		for (size_t i = 0; i < n; i++) {
			b[i] = b[i] * mu + d[i] / r[i];
			p[i] = p[i] - lr * b[i];
		}
	} else {
		#pragma omp simd
		for (size_t i = 0; i < n; i++)
			p[i] = p[i] - lr * (d[i] / r[i]);
	}
}

static void hp_fill(const struct optim *opt, int group, struct hp *h)
{
	const struct optim_config *c = &opt->cfg;
	double lr = c->lr, wd = c->weight_decay, l1 = c->l1;
	double t = (double)opt->step;

	if (group >= 0) {
		const struct optim_group *g = &opt->groups[group];
		lr *= g->lr_mult;
		if (g->has_weight_decay)
			wd = g->weight_decay;
		if (g->has_l1)
			l1 = g->l1;
	}
	memset(h, 0, sizeof *h);
	h->lr = (float)lr;
	h->wd = (float)wd;
	h->l1 = (float)l1;
	h->decoupled = c->decoupled;
	h->decay = (float)(1.0 - lr * wd);
	h->momentum = (float)c->momentum;
	h->dampening = (float)c->dampening;
	h->nesterov = c->nesterov;
	h->first = opt->step == 1;
	h->beta1 = (float)c->beta1;
	h->beta2 = (float)c->beta2;
	h->amsgrad = c->amsgrad;
	h->alpha = (float)c->alpha;
	h->centered = c->centered;
	h->eps = (float)c->eps;
	h->step_size = (float)(lr / (1.0 - pow(c->beta1, t)));
	h->bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, t));
}

static int ema_ensure(struct optim *opt)
{
	if (opt->ema || opt->cfg.ema <= 0)
		return 0;
	opt->ema = malloc(opt->n * sizeof *opt->ema);
	if (!opt->ema)
		return det_error_set(DET_ENOMEM, "out of memory for the EMA of %zu weights", opt->n);
	memcpy(opt->ema, opt->params, opt->n * sizeof *opt->ema);
	opt->ema_updates = 0;
	return 0;
}

/* EMA (YOLOv5's ModelEMA when ema_warmup > 0):
 *   n += 1;  d = ema * (1 - exp(-n / ema_warmup))  (or d = ema)
 *   e = d*e + (1 - d)*p */
static void ema_update(struct optim *opt)
{
	double d = opt->cfg.ema;
	float df, omd;

	opt->ema_updates++;
	if (opt->cfg.ema_warmup > 0)
		d *= 1.0 - exp(-(double)opt->ema_updates / opt->cfg.ema_warmup);
	opt->ema_decay_last = d;
	df = (float)d;
	omd = (float)(1.0 - d);
	#pragma omp parallel for schedule(dynamic, 4) num_threads(det_threads_for(3 * (int64_t)opt->n))
	for (size_t k = 0; k < opt->nitems; k++) {
		const struct item *it = &opt->items[k];
		float *e = opt->ema + it->offset;
		const float *p = opt->params + it->offset;

		if (it->group == -2)
			continue;
		#pragma omp simd
		for (size_t i = 0; i < it->count; i++)
			e[i] = e[i] * df + omd * p[i];
	}
}

int optim_step(struct optim *opt)
{
	struct hp *hps;
	double norm;
	size_t ng;
	int rc;

	if (!opt->segs)
		return det_error_set(DET_EINVAL, "%s: step before binding to parameters", optim_kind_name(opt->kind));
	if ((rc = config_check(opt->kind, &opt->cfg)))
		return rc;
	if ((rc = ema_ensure(opt)))
		return rc;
	norm = items_norm(opt->grads, opt->items, opt->nitems, opt->partial);
	opt->grad_norm = norm;
	if (!isfinite(norm))
		return det_error_set(DET_ENUM, "%s: gradient norm is %g; step skipped, weights unchanged",
		                     optim_kind_name(opt->kind), norm);
	if (opt->cfg.clip > 0)
		items_scale(opt->grads, opt->items, opt->nitems, clip_coef(norm, opt->cfg.clip));

	ng = opt->ngroups + 1;
	if (!opt->hps) {
		opt->hps = malloc(ng * sizeof *opt->hps);
		if (!opt->hps)
			return det_error_set(DET_ENOMEM, "out of memory for an optimiser step");
	}
	hps = opt->hps;
	opt->step++;
	for (size_t g = 0; g < ng; g++)
		hp_fill(opt, (int)g - 1, &hps[g]);

	/* about 16 units a value: p, g and two moments read, three written, a square root */
	#pragma omp parallel for schedule(dynamic, 4) num_threads(det_threads_for(16 * (int64_t)opt->n))
	for (size_t k = 0; k < opt->nitems; k++) {
		const struct item *it = &opt->items[k];
		const struct hp *h;
		size_t o = it->offset, n = opt->n;
		float *p = opt->params + o, *st = opt->state;
		const float *g = opt->grads + o;

		float d[ITEM], r[ITEM];

		if (it->group == -2)
			continue;
		h = &hps[it->group + 1];
		if (opt->kind == OPTIM_SGD && h->momentum != 0 && !h->first && !h->decoupled && h->wd != 0 && !h->nesterov &&
			h->l1 == 0) {
			sgd_fused(*h, p, g, st + o, it->count);
			continue;
		}
		decay_terms(*h, p, g, d, it->count);
		switch (opt->kind) {
		case OPTIM_SGD:
			sgd_update(*h, p, d, st + o, it->count);
			break;
		case OPTIM_ADAM:
		case OPTIM_ADAMW:
			adam_update(*h, p, d, st + o, st + n + o, st + 2 * n + o, it->count);
			break;
		default:
			rmsprop_update(*h, p, d, st + o, st + n + o, st + 2 * n + o, r, it->count);
			break;
		}
	}
	if (opt->ema)
		ema_update(opt);
	return 0;
}

const float *optim_ema_weights(const struct optim *opt)
{
	return opt->ema;
}

int optim_ema_swap(struct optim *opt)
{
	if (!opt->segs || !opt->ema)
		return det_error_set(DET_EINVAL, "%s: no EMA weights to swap (set ema > 0 and bind)",
		                     optim_kind_name(opt->kind));
	#pragma omp parallel for schedule(static) num_threads(det_threads_for(4 * (int64_t)opt->n))
	for (size_t i = 0; i < opt->n; i++) {
		float t = opt->params[i];
		opt->params[i] = opt->ema[i];
		opt->ema[i] = t;
	}
	return 0;
}

double optim_ema_decay(const struct optim *opt)
{
	return opt->ema_decay_last;
}

/* ---- hyper-parameters by name -------------------------------------- */

static int key_valid(enum optim_kind kind, const char *key)
{
	for (const char *const *k = optim_keys(kind); *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

static int key_error(enum optim_kind kind, const char *key)
{
	char list[256];
	size_t len = 0;

	list[0] = 0;
	for (const char *const *k = optim_keys(kind); *k; k++)
		len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s",
		                        len ? ", " : "", *k);
	return det_error_set(DET_EINVAL, "%s has no hyper-parameter '%s' (valid: %s)",
	                     optim_kind_name(kind), key, list);
}

static int config_index(const char *key)
{
	for (int i = 0; i < NCONFIG; i++)
		if (strcmp(config_names[i], key) == 0)
			return i;
	return -1;
}

int optim_get(const struct optim *opt, const char *key, double *value)
{
	struct optim_config c = opt->cfg;
	int i = config_index(key);
	int *flag;

	if (i < 0 || !key_valid(opt->kind, key))
		return key_error(opt->kind, key);
	flag = config_flag(&c, i);
	*value = flag ? (double)*flag : *config_slot(&c, i);
	return 0;
}

int optim_set(struct optim *opt, const char *key, double value)
{
	struct optim_config c = opt->cfg;
	int i = config_index(key);
	int *flag, rc;

	if (i < 0 || !key_valid(opt->kind, key))
		return key_error(opt->kind, key);
	flag = config_flag(&c, i);
	if (flag)
		*flag = value != 0;
	else
		*config_slot(&c, i) = value;
	if ((rc = config_check(opt->kind, &c)))
		return rc;
	opt->cfg = c;
	return 0;
}

int optim_momentum_set(struct optim *opt, double m)
{
	if (isnan(m))
		return 0;
	if (opt->kind == OPTIM_ADAM || opt->kind == OPTIM_ADAMW)
		return optim_set(opt, "beta1", m);
	return optim_set(opt, "momentum", m);
}

int optim_describe(const struct optim *opt, char *buf, size_t size)
{
	const struct optim_config *c = &opt->cfg;
	char tmp[512];
	size_t len = 0;

#define OUT(...) (len += (size_t)snprintf(tmp + len, len < sizeof tmp ? sizeof tmp - len : 0, __VA_ARGS__))
	OUT("%s lr=%g", optim_kind_name(opt->kind), c->lr);
	switch (opt->kind) {
	case OPTIM_SGD:
		OUT(" momentum=%g", c->momentum);
		if (c->dampening != 0)
			OUT(" dampening=%g", c->dampening);
		if (c->nesterov)
			OUT(" nesterov");
		break;
	case OPTIM_ADAM:
	case OPTIM_ADAMW:
		OUT(" betas=(%g, %g) eps=%g%s", c->beta1, c->beta2, c->eps, c->amsgrad ? " amsgrad" : "");
		break;
	default:
		OUT(" alpha=%g eps=%g momentum=%g%s", c->alpha, c->eps, c->momentum,
		    c->centered ? " centered" : "");
		break;
	}
	OUT(" weight_decay=%g%s", c->weight_decay, c->weight_decay != 0 ? (c->decoupled ? " (decoupled)" : " (L2)") : "");
	if (c->l1 != 0)
		OUT(" l1=%g", c->l1);
	if (c->clip > 0)
		OUT(" clip=%g", c->clip);
	if (c->ema > 0)
		OUT(" ema=%g%s", c->ema, c->ema_warmup > 0 ? " (warm-up)" : "");
	if (opt->ngroups)
		OUT(" groups=%zu", opt->ngroups);
	if (opt->segs)
		OUT(" params=%zu step=%llu", opt->n, (unsigned long long)opt->step);
	else
		OUT(" (unbound)");
#undef OUT
	return snprintf(buf, size, "%s", tmp);
}

/* ---- state ------------------------------------------------------------ */

struct io {
	unsigned char *buf;       /* writing to / reading from memory */
	const unsigned char *in;
	size_t pos, size;
	FILE *f;
	unsigned long crc;
	int err;
};

static void io_bytes_out(struct io *w, const void *p, size_t n)
{
	if (w->err)
		return;
	w->crc = crc32_z(w->crc, p, n);
	if (w->f) {
		if (fwrite(p, 1, n, w->f) != n)
			w->err = 1;
	} else {
		if (n > w->size - w->pos) {
			w->err = 1;
			return;
		}
		memcpy(w->buf + w->pos, p, n);
		w->pos += n;
	}
}

static void io_bytes_in(struct io *r, void *p, size_t n)
{
	if (r->err)
		return;
	if (r->f) {
		if (fread(p, 1, n, r->f) != n) {
			r->err = 1;
			return;
		}
	} else {
		if (n > r->size - r->pos) {
			r->err = 1;
			return;
		}
		memcpy(p, r->in + r->pos, n);
		r->pos += n;
	}
	r->crc = crc32_z(r->crc, p, n);
}

static void put_u32(struct io *w, uint32_t v)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	io_bytes_out(w, b, 4);
}

static void put_u64(struct io *w, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	io_bytes_out(w, b, 8);
}

static void put_f64(struct io *w, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	put_u64(w, v);
}

static uint32_t get_u32(struct io *r)
{
	unsigned char b[4] = { 0 };
	uint32_t v = 0;
	io_bytes_in(r, b, 4);
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static uint64_t get_u64(struct io *r)
{
	unsigned char b[8] = { 0 };
	uint64_t v = 0;
	io_bytes_in(r, b, 8);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static double get_f64(struct io *r)
{
	uint64_t v = get_u64(r);
	double d;
	memcpy(&d, &v, 8);
	return d;
}

/* float arrays travel as little-endian IEEE-754 binary32 */
static void put_floats(struct io *w, const float *x, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	io_bytes_out(w, x, n * sizeof *x);
#else
	for (size_t i = 0; i < n; i++) {
		uint32_t v;
		memcpy(&v, &x[i], 4);
		put_u32(w, v);
	}
#endif
}

static void get_floats(struct io *r, float *x, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	io_bytes_in(r, x, n * sizeof *x);
#else
	for (size_t i = 0; i < n; i++) {
		uint32_t v = get_u32(r);
		memcpy(&x[i], &v, 4);
	}
#endif
}

size_t optim_state_size(const struct optim *opt)
{
	size_t n = opt->segs ? opt->n : 0;
	return 8 + 4 + 4 + 8 * 4 + 8 * NCONFIG + 4 + opt->nbuf * n * 4 + 4 +
	       (opt->ema ? n * 4 : 0) + 4;
}

static int state_put(const struct optim *opt, struct io *w)
{
	struct optim_config c = opt->cfg;

	if (!opt->segs)
		return det_error_set(DET_EINVAL, "%s: no state to save before binding", optim_kind_name(opt->kind));
	w->crc = crc32_z(0, NULL, 0);
	io_bytes_out(w, STATE_MAGIC, 8);
	put_u32(w, STATE_VERSION);
	put_u32(w, (uint32_t)opt->kind);
	put_u64(w, opt->n);
	put_u64(w, opt->nseg);
	put_u64(w, opt->step);
	put_u64(w, opt->ema_updates);
	for (int i = 0; i < NCONFIG; i++) {
		int *flag = config_flag(&c, i);
		put_f64(w, flag ? (double)*flag : *config_slot(&c, i));
	}
	put_u32(w, (uint32_t)opt->nbuf);
	put_floats(w, opt->state, opt->nbuf * opt->n);
	put_u32(w, opt->ema != NULL);
	if (opt->ema)
		put_floats(w, opt->ema, opt->n);
	put_u32(w, (uint32_t)w->crc);
	if (w->err)
		return det_error_set(DET_EIO, "%s: could not write the optimiser state (%s)",
		                     optim_kind_name(opt->kind), w->f ? "write failed" : "buffer too small");
	return 0;
}

int optim_state_write(const struct optim *opt, void *buf, size_t size)
{
	struct io w = { .buf = buf, .size = size };
	return state_put(opt, &w);
}

int optim_state_save(const struct optim *opt, FILE *f)
{
	struct io w = { .f = f };
	return state_put(opt, &w);
}

static int state_get(struct optim *opt, struct io *r)
{
	char magic[8];
	uint32_t version, kind, nbuf, has_ema, crc_stored;
	uint64_t n, nseg, step, ema_updates;
	struct optim_config c;
	float *state = NULL, *ema = NULL;
	const char *what = optim_kind_name(opt->kind);
	unsigned long crc;
	int rc;

	if (!opt->segs)
		return det_error_set(DET_EINVAL, "%s: bind the optimiser to its parameters before loading state", what);
	r->crc = crc32_z(0, NULL, 0);
	io_bytes_in(r, magic, 8);
	if (r->err || memcmp(magic, STATE_MAGIC, 8) != 0)
		return det_error_set(DET_EFORMAT, "%s state: not an optimiser state record (bad magic)", what);
	version = get_u32(r);
	kind = get_u32(r);
	n = get_u64(r);
	nseg = get_u64(r);
	step = get_u64(r);
	ema_updates = get_u64(r);
	if (r->err)
		return det_error_set(DET_EFORMAT, "%s state: record cut short in its header", what);
	if (version != STATE_VERSION)
		return det_error_set(DET_EFORMAT, "%s state: format version %u, this build reads version %u",
		                     what, version, STATE_VERSION);
	if (kind != (uint32_t)opt->kind)
		return det_error_set(DET_EFORMAT, "%s state: the record holds %s state, this optimiser is %s",
		                     what, optim_kind_name((enum optim_kind)(kind < OPTIM_NKINDS ? kind : OPTIM_NKINDS)), what);
	if (n != opt->n || nseg != opt->nseg)
		return det_error_set(DET_EFORMAT, "%s state: the record holds %llu parameters in %llu segments, "
		                     "the bound model has %zu in %zu", what, (unsigned long long)n,
		                     (unsigned long long)nseg, opt->n, opt->nseg);
	optim_config_default(opt->kind, &c);
	for (int i = 0; i < NCONFIG; i++) {
		double v = get_f64(r);
		int *flag = config_flag(&c, i);
		if (flag)
			*flag = v != 0;
		else
			*config_slot(&c, i) = v;
	}
	nbuf = get_u32(r);
	if (r->err)
		return det_error_set(DET_EFORMAT, "%s state: record cut short in its configuration", what);
	if (nbuf != opt->nbuf)
		return det_error_set(DET_EFORMAT, "%s state: %u state buffers, expected %zu", what, nbuf, opt->nbuf);
	if ((rc = config_check(opt->kind, &c)))
		return det_error_set(DET_EFORMAT, "%s state: invalid configuration (%s)", what, det_error_message());
	state = malloc(opt->nbuf * opt->n * sizeof *state);
	if (!state)
		return det_error_set(DET_ENOMEM, "%s state: out of memory", what);
	get_floats(r, state, opt->nbuf * opt->n);
	has_ema = get_u32(r);
	if (!r->err && has_ema) {
		ema = malloc(opt->n * sizeof *ema);
		if (!ema) {
			free(state);
			return det_error_set(DET_ENOMEM, "%s state: out of memory", what);
		}
		get_floats(r, ema, opt->n);
	}
	crc = r->crc;
	crc_stored = get_u32(r);
	if (r->err) {
		free(state);
		free(ema);
		return det_error_set(DET_EFORMAT, "%s state: record cut short (expected %zu bytes)", what,
		                     optim_state_size(opt));
	}
	if ((uint32_t)crc != crc_stored) {
		free(state);
		free(ema);
		return det_error_set(DET_EFORMAT, "%s state: checksum mismatch (stored %08x, computed %08x)",
		                     what, crc_stored, (uint32_t)crc);
	}
	free(opt->state);
	free(opt->ema);
	opt->state = state;
	opt->ema = ema;
	opt->cfg = c;
	opt->step = step;
	opt->ema_updates = ema_updates;
	return 0;
}

int optim_state_read(struct optim *opt, const void *buf, size_t size)
{
	struct io r = { .in = buf, .size = size };
	return state_get(opt, &r);
}

int optim_state_load(struct optim *opt, FILE *f)
{
	struct io r = { .f = f };
	return state_get(opt, &r);
}
