/* sched.c: the learning-rate schedules, each a closed-form function of
 * (step, epoch) and its configuration; the keys each kind accepts, with
 * their checks; warm-up and callback wrappers. */
#include "train/sched.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const kind_names[SCHED_NKINDS] = { "constant", "step", "multistep",
	"exponential", "polynomial", "cosine", "cosine_restarts", "cyclic", "onecycle",
	"warmup", "function" };

#define K(kind) (1u << (kind))
#define ALLK (K(SCHED_NKINDS) - 1)

/* numeric keys: name, field, kinds that accept it, the smallest valid value */
static const struct numkey {
	const char *name;
	size_t off;
	unsigned kinds;
	double min;
	int positive;            /* must be > min, not >= */
} numkeys[] = {
	{ "lr", offsetof(struct sched, lr), K(SCHED_CONSTANT) | K(SCHED_STEP) | K(SCHED_MULTISTEP) |
	  K(SCHED_EXPONENTIAL) | K(SCHED_POLYNOMIAL) | K(SCHED_COSINE) | K(SCHED_COSINE_RESTARTS), 0, 0 },
	{ "base_lr", offsetof(struct sched, lr), K(SCHED_CYCLIC), 0, 0 },
	{ "max_lr", offsetof(struct sched, lr), K(SCHED_ONECYCLE), 0, 0 },
	{ "max_lr", offsetof(struct sched, max_lr), K(SCHED_CYCLIC), 0, 0 },
	{ "steps", offsetof(struct sched, steps), K(SCHED_POLYNOMIAL) | K(SCHED_COSINE) |
	  K(SCHED_ONECYCLE) | K(SCHED_WARMUP), 0, 1 },
	{ "step_size", offsetof(struct sched, step_size), K(SCHED_STEP), 0, 1 },
	{ "gamma", offsetof(struct sched, gamma), K(SCHED_STEP) | K(SCHED_MULTISTEP) |
	  K(SCHED_EXPONENTIAL) | K(SCHED_CYCLIC), 0, 0 },
	{ "power", offsetof(struct sched, power), K(SCHED_POLYNOMIAL), 0, 0 },
	{ "min_lr", offsetof(struct sched, min_lr), K(SCHED_POLYNOMIAL) | K(SCHED_COSINE) |
	  K(SCHED_COSINE_RESTARTS), 0, 0 },
	{ "T_0", offsetof(struct sched, T_0), K(SCHED_COSINE_RESTARTS), 0, 1 },
	{ "T_mult", offsetof(struct sched, T_mult), K(SCHED_COSINE_RESTARTS), 1, 0 },
	{ "step_size_up", offsetof(struct sched, step_size_up), K(SCHED_CYCLIC), 0, 1 },
	{ "step_size_down", offsetof(struct sched, step_size_down), K(SCHED_CYCLIC), 0, 1 },
	{ "pct_start", offsetof(struct sched, pct_start), K(SCHED_ONECYCLE), 0, 1 },
	{ "div_factor", offsetof(struct sched, div_factor), K(SCHED_ONECYCLE), 0, 1 },
	{ "final_div_factor", offsetof(struct sched, final_div_factor), K(SCHED_ONECYCLE), 0, 1 },
	{ "start", offsetof(struct sched, start), K(SCHED_WARMUP), 0, 0 },
	{ "cycle_momentum", offsetof(struct sched, cycle_momentum), K(SCHED_CYCLIC) | K(SCHED_ONECYCLE), 0, 0 },
	{ "base_momentum", offsetof(struct sched, base_momentum), K(SCHED_CYCLIC) | K(SCHED_ONECYCLE), 0, 0 },
	{ "max_momentum", offsetof(struct sched, max_momentum), K(SCHED_CYCLIC) | K(SCHED_ONECYCLE), 0, 0 },
};
#define NNUMKEYS (sizeof numkeys / sizeof numkeys[0])

static const struct strkey {
	const char *name;
	unsigned kinds;
} strkeys[] = {
	{ "milestones", K(SCHED_MULTISTEP) },
	{ "mode", K(SCHED_CYCLIC) },
	{ "anneal", K(SCHED_ONECYCLE) },
	{ "per", ALLK & ~K(SCHED_WARMUP) & ~K(SCHED_FUNCTION) },
};
#define NSTRKEYS (sizeof strkeys / sizeof strkeys[0])

/* per kind, the key names in table order (built on first use) */
static const char *keylists[SCHED_NKINDS][NNUMKEYS + NSTRKEYS + 1];

const char *sched_kind_name(enum sched_kind kind)
{
	return (unsigned)kind < SCHED_NKINDS ? kind_names[kind] : "?";
}

int sched_kind_parse(const char *name)
{
	for (int k = 0; k < SCHED_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

static pthread_once_t keylists_once = PTHREAD_ONCE_INIT;

static void keylists_build(void)
{
	for (int kind = 0; kind < SCHED_NKINDS; kind++) {
		size_t n = 0;
		for (size_t i = 0; i < NNUMKEYS; i++)
			if (numkeys[i].kinds & K(kind))
				keylists[kind][n++] = numkeys[i].name;
		for (size_t i = 0; i < NSTRKEYS; i++)
			if (strkeys[i].kinds & K(kind))
				keylists[kind][n++] = strkeys[i].name;
		keylists[kind][n] = NULL;
	}
}

const char *const *sched_keys(enum sched_kind kind)
{
	pthread_once(&keylists_once, keylists_build);
	return keylists[kind];
}

static int key_error(enum sched_kind kind, const char *key)
{
	char list[256];
	size_t len = 0;

	list[0] = 0;
	for (const char *const *k = sched_keys(kind); *k; k++)
		len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s",
		                        len ? ", " : "", *k);
	return det_error_set(DET_EINVAL, "sched.%s has no key '%s' (valid: %s)", sched_kind_name(kind),
	                     key, kind == SCHED_FUNCTION ? "none" : list);
}

static const struct numkey *numkey_find(enum sched_kind kind, const char *key)
{
	for (size_t i = 0; i < NNUMKEYS; i++)
		if ((numkeys[i].kinds & K(kind)) && strcmp(numkeys[i].name, key) == 0)
			return &numkeys[i];
	return NULL;
}

static int strkey_valid(enum sched_kind kind, const char *key)
{
	for (size_t i = 0; i < NSTRKEYS; i++)
		if ((strkeys[i].kinds & K(kind)) && strcmp(strkeys[i].name, key) == 0)
			return 1;
	return 0;
}

int sched_set(struct sched *s, const char *key, double value)
{
	const struct numkey *k = numkey_find(s->kind, key);

	if (!k)
		return strkey_valid(s->kind, key)
			? det_error_set(DET_EINVAL, "sched.%s: %s takes %s, not a number", sched_kind_name(s->kind),
			                key, strcmp(key, "milestones") == 0 ? "a list of numbers" : "a string")
			: key_error(s->kind, key);
	if (!isfinite(value) || value < k->min || (k->positive && value <= k->min))
		return det_error_set(DET_EINVAL, "sched.%s: %s must be %s %g (got %g)", sched_kind_name(s->kind),
		                     key, k->positive ? ">" : ">=", k->min, value);
	if (strcmp(key, "pct_start") == 0 && value >= 1)
		return det_error_set(DET_EINVAL, "sched.onecycle: pct_start must be in (0, 1) (got %g)", value);
	if (strcmp(key, "start") == 0 && value > 1)
		return det_error_set(DET_EINVAL, "sched.warmup: start must be in [0, 1] (got %g)", value);
	if (strcmp(key, "cycle_momentum") == 0 && value != 0 && value != 1)
		return det_error_set(DET_EINVAL, "sched.%s: cycle_momentum is true or false", sched_kind_name(s->kind));
	if (strstr(key, "momentum") && value >= 1)
		return det_error_set(DET_EINVAL, "sched.%s: %s must be in [0, 1) (got %g)", sched_kind_name(s->kind),
		                     key, value);
	*(double *)((char *)s + k->off) = value;
	return 0;
}

int sched_get(const struct sched *s, const char *key, double *value)
{
	const struct numkey *k = numkey_find(s->kind, key);

	if (!k)
		return key_error(s->kind, key);
	*value = *(const double *)((const char *)s + k->off);
	return 0;
}

int sched_set_str(struct sched *s, const char *key, const char *value)
{
	if (!strkey_valid(s->kind, key) || strcmp(key, "milestones") == 0)
		return numkey_find(s->kind, key) || strcmp(key, "milestones") == 0
			? det_error_set(DET_EINVAL, "sched.%s: %s takes %s, not a string", sched_kind_name(s->kind),
			                key, strcmp(key, "milestones") == 0 ? "a list of numbers" : "a number")
			: key_error(s->kind, key);
	if (strcmp(key, "mode") == 0) {
		if (strcmp(value, "triangular") == 0)
			s->mode = SCHED_TRIANGULAR;
		else if (strcmp(value, "triangular2") == 0)
			s->mode = SCHED_TRIANGULAR2;
		else if (strcmp(value, "exp_range") == 0)
			s->mode = SCHED_EXP_RANGE;
		else
			return det_error_set(DET_EINVAL, "sched.cyclic: mode '%s' is not one of triangular, "
			                     "triangular2, exp_range", value);
	} else if (strcmp(key, "anneal") == 0) {
		if (strcmp(value, "cos") == 0)
			s->anneal = SCHED_ANNEAL_COS;
		else if (strcmp(value, "linear") == 0)
			s->anneal = SCHED_ANNEAL_LINEAR;
		else
			return det_error_set(DET_EINVAL, "sched.onecycle: anneal '%s' is not one of cos, linear", value);
	} else {
		if (strcmp(value, "step") == 0)
			s->per_epoch = 0;
		else if (strcmp(value, "epoch") == 0)
			s->per_epoch = 1;
		else
			return det_error_set(DET_EINVAL, "sched.%s: per '%s' is not one of step, epoch",
			                     sched_kind_name(s->kind), value);
	}
	return 0;
}

int sched_set_milestones(struct sched *s, const double *m, size_t n)
{
	double *copy;

	if (s->kind != SCHED_MULTISTEP)
		return key_error(s->kind, "milestones");
	for (size_t i = 0; i < n; i++)
		if (!isfinite(m[i]) || m[i] < 0 || (i > 0 && m[i] < m[i - 1]))
			return det_error_set(DET_EINVAL, "sched.multistep: milestones must be ascending and >= 0 "
			                     "(milestone %zu is %g)", i + 1, m[i]);
	copy = malloc((n ? n : 1) * sizeof *copy);
	if (!copy)
		return det_error_set(DET_ENOMEM, "out of memory for milestones");
	if (n)
		memcpy(copy, m, n * sizeof *copy);
	free(s->milestones);
	s->milestones = copy;
	s->nmilestones = n;
	return 0;
}

struct sched *sched_new(enum sched_kind kind)
{
	struct sched *s;

	if ((unsigned)kind >= SCHED_NKINDS) {
		det_error_set(DET_EINVAL, "unknown schedule kind %d", (int)kind);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		det_error_set(DET_ENOMEM, "out of memory for a schedule");
		return NULL;
	}
	s->kind = kind;
	s->lr = NAN;
	s->steps = NAN;
	s->gamma = kind == SCHED_CYCLIC ? 1.0 : kind == SCHED_EXPONENTIAL ? NAN : 0.1;
	s->step_size = NAN;
	s->power = 1;
	s->T_0 = NAN;
	s->T_mult = 1;
	s->max_lr = NAN;
	s->step_size_up = 2000;
	s->step_size_down = NAN;
	s->pct_start = 0.3;
	s->div_factor = 25;
	s->final_div_factor = 1e4;
	s->start = 0.001;
	s->cycle_momentum = 1;
	s->base_momentum = kind == SCHED_CYCLIC ? 0.8 : 0.85;
	s->max_momentum = kind == SCHED_CYCLIC ? 0.9 : 0.95;
	return s;
}

struct sched *sched_warmup_new(struct sched *inner, double steps, double start)
{
	struct sched *s = sched_new(SCHED_WARMUP);

	if (!s || sched_set(s, "steps", steps) || sched_set(s, "start", start)) {
		sched_free(s);
		sched_free(inner);
		return NULL;
	}
	s->inner = inner;
	return s;
}

struct sched *sched_function_new(double (*fn)(void *, double, double), void (*fn_retain)(void *),
                                 void (*fn_free)(void *), void *ud)
{
	struct sched *s = sched_new(SCHED_FUNCTION);

	if (!s)
		return NULL;
	s->fn = fn;
	s->fn_retain = fn_retain;
	s->fn_free = fn_free;
	s->ud = ud;
	return s;
}

struct sched *sched_clone(const struct sched *s)
{
	struct sched *c = malloc(sizeof *c);

	if (!c)
		goto nomem;
	*c = *s;
	c->milestones = NULL;
	c->inner = NULL;
	if (s->nmilestones) {
		c->milestones = malloc(s->nmilestones * sizeof *c->milestones);
		if (!c->milestones)
			goto nomem;
		memcpy(c->milestones, s->milestones, s->nmilestones * sizeof *c->milestones);
	} else if (s->milestones) {
		c->milestones = malloc(sizeof *c->milestones);
		if (!c->milestones)
			goto nomem;
	}
	if (s->inner && !(c->inner = sched_clone(s->inner)))
		goto nomem_quiet;
	if (c->fn_retain)
		c->fn_retain(c->ud);
	return c;

nomem:
	det_error_set(DET_ENOMEM, "out of memory copying a schedule");
nomem_quiet:
	if (c) {
		c->fn_free = NULL;
		sched_free(c);
	}
	return NULL;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	if (s->fn_free)
		s->fn_free(s->ud);
	sched_free(s->inner);
	free(s->milestones);
	free(s);
}

void sched_bind(struct sched *s, double base_lr, double total_steps)
{
	for (; s; s = s->inner) {
		if (isnan(s->lr) && s->kind != SCHED_WARMUP && s->kind != SCHED_FUNCTION)
			s->lr = base_lr;
		if (isnan(s->steps) && s->kind != SCHED_WARMUP)
			s->steps = total_steps;
	}
}

static int missing(const struct sched *s, const char *key, const char *hint)
{
	return det_error_set(DET_EINVAL, "sched.%s: %s is not set%s", sched_kind_name(s->kind), key, hint);
}

int sched_check(const struct sched *s)
{
	static const char *const bindable = " (pass it, or let the experiment fill it in)";

	switch (s->kind) {
	case SCHED_WARMUP:
		if (!s->inner)
			return det_error_set(DET_EINVAL, "sched.warmup: no schedule to warm up");
		if (isnan(s->steps))
			return missing(s, "steps", "");
		return sched_check(s->inner);
	case SCHED_FUNCTION:
		return s->fn ? 0 : det_error_set(DET_EINVAL, "sched.function: no function");
	case SCHED_CYCLIC:
		if (isnan(s->lr))
			return missing(s, "base_lr", bindable);
		if (isnan(s->max_lr))
			return missing(s, "max_lr", "");
		return 0;
	case SCHED_ONECYCLE:
		if (isnan(s->lr))
			return missing(s, "max_lr", bindable);
		break;
	default:
		if (isnan(s->lr))
			return missing(s, "lr", bindable);
		break;
	}
	if ((s->kind == SCHED_POLYNOMIAL || s->kind == SCHED_COSINE || s->kind == SCHED_ONECYCLE) &&
	    isnan(s->steps))
		return missing(s, "steps", bindable);
	if (s->kind == SCHED_STEP && isnan(s->step_size))
		return missing(s, "step_size", "");
	if (s->kind == SCHED_EXPONENTIAL && isnan(s->gamma))
		return missing(s, "gamma", "");
	if (s->kind == SCHED_COSINE_RESTARTS && isnan(s->T_0))
		return missing(s, "T_0", "");
	if (s->kind == SCHED_MULTISTEP && !s->milestones)
		return missing(s, "milestones", "");
	if (s->kind == SCHED_ONECYCLE && s->pct_start * s->steps < 2)
		return det_error_set(DET_EINVAL, "sched.onecycle: pct_start * steps must be at least 2 "
		                     "(got %g * %g)", s->pct_start, s->steps);
	return 0;
}

int sched_has_function(const struct sched *s)
{
	for (; s; s = s->inner)
		if (s->kind == SCHED_FUNCTION)
			return 1;
	return 0;
}

/* SGDR (Loshchilov & Hutter 2017): find the period T_i holding t and the
 * position T_cur inside it; periods T_0, T_0 T_mult, T_0 T_mult^2, ... */
static double restarts_lr(const struct sched *s, double t)
{
	double Ti = s->T_0, Tcur = t;

	if (s->T_mult == 1) {
		Tcur = fmod(t, Ti);
	} else {
		while (Tcur >= Ti) {
			Tcur -= Ti;
			Ti *= s->T_mult;
		}
	}
	return s->min_lr + (s->lr - s->min_lr) * (1 + cos(M_PI * Tcur / Ti)) / 2;
}

/* CLR (Smith 2017), as torch.optim.lr_scheduler.CyclicLR:
 *   cycle = floor(1 + t/total), x = 1 + t/total - cycle
 *   scale = x <= r ? x/r : (x - 1)/(r - 1)     (r = up/total)
 *   lr = base + (max - base) * scale * f,  f = 1 | 1/2^(cycle-1) | gamma^t */
static double cyclic_height(const struct sched *s, double t)
{
	double up = s->step_size_up;
	double down = isnan(s->step_size_down) ? up : s->step_size_down;
	double total = up + down, ratio = up / total;
	double cycle = floor(1 + t / total), x = 1 + t / total - cycle;
	double scale = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
	double f = 1;

	if (s->mode == SCHED_TRIANGULAR2)
		f = 1 / pow(2, cycle - 1);
	else if (s->mode == SCHED_EXP_RANGE)
		f = pow(s->gamma, t);
	return scale * f;
}

static double cyclic_lr(const struct sched *s, double t)
{
	return s->lr + (s->max_lr - s->lr) * cyclic_height(s, t);
}

static double anneal(int how, double from, double to, double pct)
{
	if (how == SCHED_ANNEAL_LINEAR)
		return (to - from) * pct + from;
	return to + (from - to) / 2 * (cos(M_PI * pct) + 1);
}

/* One-cycle (Smith & Topin 2019), as torch's OneCycleLR, two phases:
 * from max_lr/div to max_lr over steps 0..pct*steps-1, then down to
 * max_lr/div/final_div at step steps-1. */
static double onecycle_lr(const struct sched *s, double t)
{
	double initial = s->lr / s->div_factor, final = initial / s->final_div_factor;
	double end1 = s->pct_start * s->steps - 1, end2 = s->steps - 1;

	if (t <= end1)
		return anneal(s->anneal, initial, s->lr, t / end1);
	return anneal(s->anneal, s->lr, final, (t - end1) / (end2 - end1));
}

/* The momentum runs opposite: max -> base while the lr rises, back after. */
static double onecycle_momentum(const struct sched *s, double t)
{
	double end1 = s->pct_start * s->steps - 1, end2 = s->steps - 1;

	if (t <= end1)
		return anneal(s->anneal, s->max_momentum, s->base_momentum, t / end1);
	return anneal(s->anneal, s->base_momentum, s->max_momentum, (t - end1) / (end2 - end1));
}

double sched_momentum(const struct sched *s, double step, double epoch)
{
	double t;

	while (s->kind == SCHED_WARMUP && s->inner)
		s = s->inner;
	t = s->per_epoch ? epoch : step;
	if ((s->kind != SCHED_CYCLIC && s->kind != SCHED_ONECYCLE) || !s->cycle_momentum ||
	    sched_check(s) || isnan(t) || t < 0)
		return NAN;
	if (s->kind == SCHED_CYCLIC)
		return s->max_momentum - (s->max_momentum - s->base_momentum) * cyclic_height(s, t);
	return onecycle_momentum(s, fmin(t, s->steps - 1));
}

double sched_lr(const struct sched *s, double step, double epoch)
{
	double t = s->per_epoch ? epoch : step;

	if (sched_check(s) || isnan(t) || t < 0)
		return NAN;
	switch (s->kind) {
	case SCHED_CONSTANT:
		return s->lr;
	case SCHED_STEP:
		return s->lr * pow(s->gamma, floor(t / s->step_size));
	case SCHED_MULTISTEP: {
		size_t k = 0;
		while (k < s->nmilestones && s->milestones[k] <= t)
			k++;
		return s->lr * pow(s->gamma, (double)k);
	}
	case SCHED_EXPONENTIAL:
		return s->lr * pow(s->gamma, t);
	case SCHED_POLYNOMIAL:
		return (s->lr - s->min_lr) * pow(1 - fmin(t, s->steps) / s->steps, s->power) + s->min_lr;
	case SCHED_COSINE:
		return s->min_lr + (s->lr - s->min_lr) * (1 + cos(M_PI * fmin(t, s->steps) / s->steps)) / 2;
	case SCHED_COSINE_RESTARTS:
		return restarts_lr(s, t);
	case SCHED_CYCLIC:
		return cyclic_lr(s, t);
	case SCHED_ONECYCLE:
		return onecycle_lr(s, fmin(t, s->steps - 1));
	case SCHED_WARMUP: {
		double f = t < s->steps ? s->start + (1 - s->start) * t / s->steps : 1;
		return f * sched_lr(s->inner, step, epoch);
	}
	case SCHED_FUNCTION:
		return s->fn(s->ud, step, epoch);
	default:
		return NAN;
	}
}

int sched_describe(const struct sched *s, char *buf, size_t size)
{
	char tmp[512];
	size_t len = 0;

#define OUT(...) (len += (size_t)snprintf(tmp + len, len < sizeof tmp ? sizeof tmp - len : 0, __VA_ARGS__))
	if (s->kind == SCHED_WARMUP) {
		char inner[400] = "?";
		if (s->inner)
			sched_describe(s->inner, inner, sizeof inner);
		OUT("warmup(%g steps from %g) of %s", s->steps, s->start, inner);
	} else if (s->kind == SCHED_FUNCTION) {
		OUT("function");
	} else {
		OUT("%s", sched_kind_name(s->kind));
		for (const char *const *k = sched_keys(s->kind); *k; k++) {
			double v;
			if (strcmp(*k, "milestones") == 0) {
				OUT(" milestones={");
				for (size_t i = 0; i < s->nmilestones; i++)
					OUT("%s%g", i ? "," : "", s->milestones[i]);
				OUT("}");
			} else if (strcmp(*k, "mode") == 0) {
				static const char *const modes[] = { "triangular", "triangular2", "exp_range" };
				OUT(" mode=%s", modes[s->mode]);
			} else if (strcmp(*k, "anneal") == 0) {
				OUT(" anneal=%s", s->anneal == SCHED_ANNEAL_LINEAR ? "linear" : "cos");
			} else if (strcmp(*k, "per") == 0) {
				if (s->per_epoch)
					OUT(" per=epoch");
			} else if (sched_get(s, *k, &v) == 0) {
				if (isnan(v) && strcmp(*k, "step_size_down") == 0)
					continue;
				if (isnan(v))
					OUT(" %s=?", *k);
				else
					OUT(" %s=%g", *k, v);
			}
		}
	}
#undef OUT
	return snprintf(buf, size, "%s", tmp);
}

/* ---- saving and loading (a checkpoint keeps a schedule replaced live) ---- */

/* Every field, by name, as written: doubles with %.17g (exact round trip). */
static const struct field {
	const char *name;
	size_t off;
	int is_int;
} fields[] = {
	{ "per_epoch", offsetof(struct sched, per_epoch), 1 }, { "mode", offsetof(struct sched, mode), 1 },
	{ "anneal", offsetof(struct sched, anneal), 1 }, { "lr", offsetof(struct sched, lr), 0 },
	{ "steps", offsetof(struct sched, steps), 0 }, { "gamma", offsetof(struct sched, gamma), 0 },
	{ "step_size", offsetof(struct sched, step_size), 0 }, { "power", offsetof(struct sched, power), 0 },
	{ "min_lr", offsetof(struct sched, min_lr), 0 }, { "T_0", offsetof(struct sched, T_0), 0 },
	{ "T_mult", offsetof(struct sched, T_mult), 0 }, { "max_lr", offsetof(struct sched, max_lr), 0 },
	{ "step_size_up", offsetof(struct sched, step_size_up), 0 },
	{ "step_size_down", offsetof(struct sched, step_size_down), 0 },
	{ "pct_start", offsetof(struct sched, pct_start), 0 }, { "div_factor", offsetof(struct sched, div_factor), 0 },
	{ "final_div_factor", offsetof(struct sched, final_div_factor), 0 },
	{ "start", offsetof(struct sched, start), 0 },
	{ "cycle_momentum", offsetof(struct sched, cycle_momentum), 0 },
	{ "base_momentum", offsetof(struct sched, base_momentum), 0 },
	{ "max_momentum", offsetof(struct sched, max_momentum), 0 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])

int sched_save(const struct sched *s, FILE *f)
{
	for (int depth = 0; s; s = s->inner, depth++) {
		char pre[64] = "";
		for (int d = 0; d < depth && d < 8; d++)
			strcat(pre, "inner.");
		if (s->kind == SCHED_FUNCTION)
			return det_error_set(DET_EINVAL, "a schedule that calls a Lua function can't be saved (save its table)");
		fprintf(f, "%skind %s\n", pre, sched_kind_name(s->kind));
		for (size_t i = 0; i < NFIELDS; i++) {
			const char *p = (const char *)s + fields[i].off;
			if (fields[i].is_int)
				fprintf(f, "%s%s %d\n", pre, fields[i].name, *(const int *)p);
			else
				fprintf(f, "%s%s %.17g\n", pre, fields[i].name, *(const double *)p);
		}
		if (s->nmilestones) {
			fprintf(f, "%smilestones %zu", pre, s->nmilestones);
			for (size_t i = 0; i < s->nmilestones; i++)
				fprintf(f, " %.17g", s->milestones[i]);
			fputc('\n', f);
		}
	}
	return ferror(f) ? det_error_set(DET_EIO, "can't write the schedule") : 0;
}

/* One level of the text sched_save wrote: the lines whose key, after
 * stripping `depth` "inner." prefixes, has no further prefix. */
static struct sched *load_level(const char *text, size_t n, int depth)
{
	struct sched *s = NULL;
	const char *p = text, *end = text + n;
	int kind = -1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[4096];
		const char *key = line;

		if (len >= sizeof line)
			len = sizeof line - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : end;
		int d = 0;
		while (strncmp(key, "inner.", 6) == 0)
			key += 6, d++;
		if (d != depth)
			continue;
		char name[64];
		int used = 0;
		if (sscanf(key, "%63s %n", name, &used) != 1)
			continue;
		const char *val = key + used;
		if (strcmp(name, "kind") == 0) {
			char kn[64] = "";
			sscanf(val, "%63s", kn);
			if ((kind = sched_kind_parse(kn)) < 0 || kind == SCHED_FUNCTION) {
				det_error_set(DET_EFORMAT, "saved schedule: unknown kind '%s'", kn);
				goto fail;
			}
			sched_free(s);
			if (!(s = sched_new((enum sched_kind)kind))) {
				det_error_set(DET_ENOMEM, "out of memory loading a schedule");
				return NULL;
			}
			continue;
		}
		if (!s) {
			det_error_set(DET_EFORMAT, "saved schedule: '%s' before its kind", name);
			return NULL;
		}
		if (strcmp(name, "milestones") == 0) {
			char *q;
			unsigned long long m = strtoull(val, &q, 10);
			double *ms = m ? calloc((size_t)m, sizeof *ms) : NULL;
			if (m && !ms) {
				det_error_set(DET_ENOMEM, "out of memory loading a schedule");
				goto fail;
			}
			for (size_t i = 0; i < m; i++) {
				const char *v = q;
				ms[i] = strtod(v, &q);
				if (q == v) {
					free(ms);
					det_error_set(DET_EFORMAT, "saved schedule: %llu milestones expected", m);
					goto fail;
				}
			}
			free(s->milestones);
			s->milestones = ms;
			s->nmilestones = (size_t)m;
			continue;
		}
		size_t i;
		for (i = 0; i < NFIELDS && strcmp(fields[i].name, name) != 0; i++)
			;
		if (i == NFIELDS)
			continue; /* a field from a newer version: its default stands */
		char *q;
		double v = strtod(val, &q);
		if (q == val) {
			det_error_set(DET_EFORMAT, "saved schedule: '%s' has no number", name);
			goto fail;
		}
		char *fp = (char *)s + fields[i].off;
		if (fields[i].is_int)
			*(int *)fp = (int)v;
		else
			*(double *)fp = v;
	}
	if (!s)
		return NULL;
	if (s->kind == SCHED_WARMUP && !(s->inner = load_level(text, n, depth + 1))) {
		if (det_error_code() == 0)
			det_error_set(DET_EFORMAT, "saved schedule: a warm-up without its inner schedule");
		goto fail;
	}
	return s;
fail:
	sched_free(s);
	return NULL;
}

struct sched *sched_load(const char *text, size_t n)
{
	det_error_clear();
	struct sched *s = load_level(text, n, 0);
	if (!s && det_error_code() == 0)
		det_error_set(DET_EFORMAT, "saved schedule: no kind");
	return s;
}
