/* sched.h: learning-rate schedules as pure functions lr(step, epoch) of
 * their configuration. Nothing is stepped or accumulated, so a resumed run
 * gets the same lr at the same step, and the whole future of a curve can be
 * drawn before training starts (det.sched.plot).
 *
 * Formulas follow torch.optim.lr_scheduler's (1.13) where PyTorch has the
 * schedule; the step t is the number of optimiser steps taken (PyTorch's
 * last_epoch when scheduler.step() runs once per iteration), or the epoch
 * (possibly fractional) when the schedule counts epochs (per = "epoch"). */
#ifndef DET_TRAIN_SCHED_H
#define DET_TRAIN_SCHED_H

#include <stddef.h>
#include <stdio.h>

enum sched_kind {
	SCHED_CONSTANT,        /* lr */
	SCHED_STEP,            /* lr * gamma^floor(t / step_size) */
	SCHED_MULTISTEP,       /* lr * gamma^(number of milestones <= t) */
	SCHED_EXPONENTIAL,     /* lr * gamma^t */
	SCHED_POLYNOMIAL,      /* (lr - min_lr) * (1 - min(t, steps)/steps)^power + min_lr */
	SCHED_COSINE,          /* min_lr + (lr - min_lr)(1 + cos(pi min(t, steps)/steps))/2 */
	SCHED_COSINE_RESTARTS, /* SGDR: the cosine over periods T_0, T_0 T_mult, ... */
	SCHED_CYCLIC,          /* CLR: triangular, triangular2, exp_range */
	SCHED_ONECYCLE,        /* one-cycle: up to max_lr then down, cos or linear */
	SCHED_WARMUP,          /* inner(t) * (start + (1 - start) min(t, steps)/steps) */
	SCHED_FUNCTION,        /* a callback of (step, epoch) */
	SCHED_NKINDS,
};

enum sched_cyclic_mode { SCHED_TRIANGULAR, SCHED_TRIANGULAR2, SCHED_EXP_RANGE };
enum sched_anneal { SCHED_ANNEAL_COS, SCHED_ANNEAL_LINEAR };

/* A schedule. Create with sched_new (defaults filled), configure with
 * sched_set / sched_set_str / sched_set_milestones, or write the fields.
 * NaN in lr or steps means "not set yet": sched_bind fills them from the
 * optimiser and the experiment. */
struct sched {
	enum sched_kind kind;
	int per_epoch;          /* t = epoch instead of step */
	double lr;              /* base lr; cyclic: base_lr; onecycle: max_lr */
	double steps;           /* polynomial, cosine, onecycle: total length; warmup: its length */
	double gamma;           /* step, multistep (0.1), exponential, cyclic exp_range (1) */
	double step_size;       /* step */
	double power;           /* polynomial (1) */
	double min_lr;          /* polynomial, cosine, cosine_restarts: the floor (0) */
	double T_0, T_mult;     /* cosine_restarts: first period, its growth (1) */
	double max_lr;          /* cyclic: the top of the cycle */
	double step_size_up;    /* cyclic: rising half-cycle (2000) */
	double step_size_down;  /* cyclic: falling half-cycle (NaN: = step_size_up) */
	int mode;               /* cyclic: enum sched_cyclic_mode */
	double pct_start;       /* onecycle: fraction of steps rising (0.3) */
	double div_factor;      /* onecycle: initial lr = max_lr / div_factor (25) */
	double final_div_factor;/* onecycle: final lr = initial lr / final_div_factor (1e4) */
	int anneal;             /* onecycle: enum sched_anneal */
	double start;           /* warmup: the factor at step 0 (0.001) */
	double cycle_momentum;  /* cyclic, onecycle: 1 = also schedule the momentum (PyTorch's default) */
	double base_momentum;   /* cyclic 0.8, onecycle 0.85: the momentum at the lr's peak */
	double max_momentum;    /* cyclic 0.9, onecycle 0.95: the momentum at the lr's floor */
	double *milestones;     /* multistep: ascending, owned */
	size_t nmilestones;
	struct sched *inner;    /* warmup: the wrapped schedule, owned */
	/* function: fn(ud, step, epoch); fn_retain(ud) runs in sched_clone,
	 * fn_free(ud) in sched_free (both may be NULL) */
	double (*fn)(void *ud, double step, double epoch);
	void (*fn_retain)(void *ud);
	void (*fn_free)(void *ud);
	void *ud;
};

/* A schedule of kind with PyTorch's defaults; NULL on ENOMEM. */
struct sched *sched_new(enum sched_kind kind);
/* Wraps inner (taking ownership of it) in a linear warm-up of `steps`
 * optimiser steps starting at factor `start`. On failure inner is freed. */
struct sched *sched_warmup_new(struct sched *inner, double steps, double start);
/* A schedule that calls fn(ud, step, epoch); fn_retain (may be NULL) is
 * called on ud by sched_clone, fn_free (may be NULL) by sched_free. */
struct sched *sched_function_new(double (*fn)(void *, double, double), void (*fn_retain)(void *),
                                 void (*fn_free)(void *), void *ud);
/* A deep copy (milestones and inner schedules too), e.g. for a trainer
 * thread that must not share the prompt's object; NULL on ENOMEM. */
struct sched *sched_clone(const struct sched *s);
/* Frees s, its milestones and its inner schedule; NULL is a no-op. */
void sched_free(struct sched *s);

const char *sched_kind_name(enum sched_kind kind);
/* "cosine" -> SCHED_COSINE, ...; -1 when unknown. */
int sched_kind_parse(const char *name);

/* The configuration keys of kind, NULL-terminated (numbers, the strings
 * "mode", "anneal", "per", and "milestones"). */
const char *const *sched_keys(enum sched_kind kind);
/* Sets a numeric key; an unknown key fails with DET_EINVAL, naming it and
 * listing the valid ones, a bad value (negative steps, ...) with DET_EINVAL. */
int sched_set(struct sched *s, const char *key, double value);
int sched_get(const struct sched *s, const char *key, double *value);
/* String keys: mode = "triangular" | "triangular2" | "exp_range",
 * anneal = "cos" | "linear", per = "step" | "epoch". */
int sched_set_str(struct sched *s, const char *key, const char *value);
/* multistep milestones: copied, must be ascending and >= 0. */
int sched_set_milestones(struct sched *s, const double *m, size_t n);

/* Fills what is not set: lr (NaN) from base_lr, steps (NaN) from
 * total_steps (either may be NaN to leave it), recursively. */
void sched_bind(struct sched *s, double base_lr, double total_steps);
/* 0 when s can be evaluated; else DET_EINVAL with a message naming the
 * schedule and the missing or inconsistent key. */
int sched_check(const struct sched *s);
/* Whether s (or a schedule inside it) calls back into a function: such a
 * schedule must be evaluated where the function may run (the Lua thread). */
int sched_has_function(const struct sched *s);

/* The learning rate after `step` optimiser steps, in epoch `epoch`
 * (fractional epochs welcome; only read when per_epoch). NaN when
 * sched_check fails. */
double sched_lr(const struct sched *s, double step, double epoch);

/* The momentum the schedule sets for that step (cyclic and onecycle with
 * cycle_momentum, through a warm-up too), or NaN when it leaves the
 * momentum alone. It moves opposite to the lr, as PyTorch's CyclicLR and
 * OneCycleLR do; set it with optim_momentum_set (momentum for SGD and
 * RMSprop, beta1 for Adam). */
double sched_momentum(const struct sched *s, double step, double epoch);

/* One line: "warmup(300 steps from 0.001) of cosine lr=0.01 steps=1000 min_lr=0". */
int sched_describe(const struct sched *s, char *buf, size_t size);

/* Writes every field of s (and its inner schedules) as "key value" lines,
 * doubles exact; DET_EINVAL for a function schedule (save its table). */
int sched_save(const struct sched *s, FILE *f);
/* The schedule sched_save wrote in text[0..n); NULL with DET_EFORMAT naming
 * the bad line's key, or DET_ENOMEM. Unknown keys are skipped. */
struct sched *sched_load(const char *text, size_t n);

#endif
