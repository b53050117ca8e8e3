/* trainer.h: the training loop on its own thread. Per step: batches from
 * the loader (data/loader.h) → the training graph's forward → the task's
 * loss (the detector's, or any function that writes the output gradients)
 * → a finiteness check → backward → (gradient accumulation) → the
 * optimiser's step (clipping, weight decay, EMA inside nn/optim) with the lr
 * of the schedule → the metrics store (train/metrics.h). Evaluation on the
 * validation set every N epochs or minutes (eval graph on the same store,
 * the task's decode, eval_coco_run), early stopping, a wall-clock budget,
 * checkpoints (train/checkpoint.h) that resume bit for bit.
 *
 * The trainer thread never touches Lua. The main thread talks to it with
 * commands (pause, resume, stop, save, set a hyper-parameter, a loss weight
 * or the schedule; applied at the next step boundary and logged as events)
 * and reads events back (trainer_event_poll) to run Lua callbacks and
 * redraw. Everything is seeded: the same configuration and thread count
 * give the same losses, and a run resumed from a checkpoint continues them
 * exactly. */
#ifndef DET_TRAIN_TRAINER_H
#define DET_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "train/metrics.h"

struct nn_graph;
struct optim;
struct sched;
struct dataset;
struct sampler;
struct aug_list;
struct loader_batch;
struct eval_gt;
struct eval_dets;
struct eval_result;

#define TRAINER_MAX_PARTS 8

/* The loss parts of one batch (unweighted, as the task names them), the
 * total that backward differentiates, and the positives. */
struct trainer_losses {
	int n;
	const char *names[TRAINER_MAX_PARTS]; /* static strings: "cls", "box", ... */
	double values[TRAINER_MAX_PARTS];
	double total;
	double num_pos;
};

/* What the trainer needs from a model family. The detector's adapter is
 * trainer_task_detector (train/task_detector.h); tests plug in their own. */
struct trainer_task {
	void *ud;
	/* After forward of g on b (b->n images, the graph's batch may be larger):
	 * fills out and writes d total / d output into every output gradient.
	 * 0 or a negative status with a message. */
	int (*loss)(void *ud, struct nn_graph *g, const struct loader_batch *b, struct trainer_losses *out);
	/* After forward of the evaluation graph on b: appends b's detections to
	 * dets (img / cat as indices of gt; b->indices[i] is the dataset image
	 * index of batch position i, ds the dataset). NULL: the task cannot be
	 * evaluated. */
	int (*decode)(void *ud, struct nn_graph *g, const struct loader_batch *b, const struct dataset *ds,
		const struct eval_gt *gt, struct eval_dets *dets);
	/* Gets (value NaN) or sets a loss weight by part name; *old gets the
	 * previous value. DET_EINVAL naming the part when unknown. NULL: none. */
	int (*weight)(void *ud, const char *part, double value, double *old);
	/* After forward of the evaluation graph on b: the loss of each of b's
	 * boxes into out (image by image, NaN: no anchor assigned). NULL: none. */
	int (*gt_losses)(void *ud, struct nn_graph *g, const struct loader_batch *b, float *out);
};

enum trainer_es_mode { TRAINER_ES_MAX, TRAINER_ES_MIN };
enum trainer_nan_policy { TRAINER_NAN_STOP, TRAINER_NAN_SKIP };

struct trainer_config {
	char name[64];
	char run_dir[512];        /* "" : no files (metrics, checkpoints) */
	int64_t epochs;           /* planned epochs (used when steps is 0) */
	int64_t steps;            /* optimiser steps; 0: epochs decide */
	double minutes;           /* wall-clock budget; 0: none */
	int accumulate;           /* micro-batches per optimiser step (>= 1) */
	size_t batch;             /* images per micro-batch (the train graph's N) */
	int size;                 /* training image side */
	int workers;              /* loader threads */
	uint64_t seed;
	float mean[3], std[3];    /* normalisation (ImageNet's by default) */
	int letterbox;            /* 1: keep aspect (default) */
	/* evaluation: every eval_epochs epochs and/or every eval_minutes (0: off);
	 * always at the end when a validation set and a decoder are given */
	int eval_epochs;
	double eval_minutes;
	size_t eval_batch;        /* the eval graph's N */
	int eval_size;
	int eval_ema;             /* evaluate with the EMA weights when there are some (1) */
	/* early stopping on an evaluation figure ("AP", "AP50", ..., or "loss") */
	char es_metric[16];       /* "" : off */
	int es_patience;          /* evaluations without improvement */
	double es_min_delta;
	int es_mode;              /* enum trainer_es_mode */
	int save_epochs;          /* an epoch_N.ckpt every N epochs (0: only last/best) */
	int nan_policy;           /* enum trainer_nan_policy */
	int log_every;            /* step events / progress every N steps (1) */
};

void trainer_config_default(struct trainer_config *c);

/* What the trainer borrows (all must outlive it; none is freed by it). */
struct trainer_io {
	struct nn_graph *train_graph;  /* training mode, batch N = config.batch */
	int train_input;               /* its input node (N, 3, size, size) */
	struct nn_graph *eval_graph;   /* NULL: no evaluation; shares the store */
	int eval_input;
	struct optim *opt;             /* bound to the store (nn_store_bind_optim) */
	const struct sched *sched;     /* cloned by trainer_new; NULL: constant lr */
	const double *lr_table;        /* instead of sched: lr per step, n_lr entries
	                                  (a Lua function's values); copied */
	size_t n_lr;
	const struct dataset *train;
	const struct sampler *sampler; /* NULL: a shuffle sampler is made */
	const struct aug_list *augs;   /* NULL: none */
	const struct dataset *val;     /* NULL: no evaluation */
	struct trainer_task task;
	struct metrics *metrics;       /* NULL: the trainer makes its own */
	const char *recipe;            /* the recipe's source (stored in checkpoints); may be NULL */
};

/* Commands (trainer_command). Applied at the next step boundary, in order. */
enum trainer_cmd_kind {
	TRAINER_CMD_PAUSE,
	TRAINER_CMD_RESUME,
	TRAINER_CMD_STOP,
	TRAINER_CMD_SAVE,       /* write last.ckpt now */
	TRAINER_CMD_EVAL,       /* evaluate now */
	TRAINER_CMD_OPTIM,      /* key = value: an optimiser hyper-parameter (optim_set) */
	TRAINER_CMD_WEIGHT,     /* key = value: a loss weight (the task's weight) */
	TRAINER_CMD_SCHED,      /* sched (taken) or lr table (taken): the new schedule */
};

struct trainer_cmd {
	int kind;
	char key[48];
	double value;
	struct sched *sched;      /* SCHED: owned by the command */
	double *lr_table;         /* SCHED: malloc'd, owned by the command */
	size_t n_lr;
};

/* What the main thread hears back (trainer_event_poll). */
enum trainer_event_kind {
	TRAINER_EV_STEP,    /* a step was logged (every log_every steps) */
	TRAINER_EV_EPOCH,   /* an epoch ended */
	TRAINER_EV_EVAL,    /* an evaluation finished */
	TRAINER_EV_STATE,   /* paused, resumed, ... (the store's event has the text) */
	TRAINER_EV_DONE,    /* the thread finished (state DONE, STOPPED or FAILED) */
};

struct trainer_event {
	int kind;
	int64_t step;
	double epoch;
	int64_t epoch_index;   /* EPOCH: the epoch that ended */
	int state;             /* enum metrics_state at that moment */
	double loss;           /* STEP: the total; EVAL: AP */
	int nparts;
	const char *names[TRAINER_MAX_PARTS];
	double values[TRAINER_MAX_PARTS];
	double lr;
};

struct trainer;

/* A trainer over io with cfg (both copied; the borrowed objects stay the
 * caller's). NULL with a message (a missing graph, a graph whose batch does
 * not match cfg.batch, a schedule that must run on the Lua thread, ...). */
struct trainer *trainer_new(const struct trainer_config *cfg, const struct trainer_io *io);
/* Waits for the thread (stopping it first) and frees. NULL is a no-op. */
void trainer_free(struct trainer *t);

/* Restores a checkpoint (weights, optimiser and EMA, position, metrics)
 * before the start. 0, or DET_EIO / DET_EFORMAT naming the file and the
 * check that failed (the trainer is then unchanged, weights included). */
int trainer_resume(struct trainer *t, const char *ckpt_path);
/* Picks the checkpoint to resume from in run_dir: last.ckpt when it loads,
 * else the newest other *.ckpt that does; writes its path into out.
 * DET_EIO when none is usable (the message lists why each failed). */
int trainer_find_checkpoint(const char *run_dir, char *out, size_t size);

/* Starts the thread (once). 0 or DET_EINVAL (already started). */
int trainer_start(struct trainer *t);
/* Runs the loop on the calling thread until it ends (tests; `run` uses
 * the thread so it can poll). Returns as trainer_wait. */
int trainer_run(struct trainer *t);
/* Waits for the thread to finish. 0 when the run completed or was
 * stopped, the failing status otherwise (message in trainer_message). */
int trainer_wait(struct trainer *t);
/* Whether the thread is running (started and not finished). */
int trainer_running(struct trainer *t);

/* Queues a command (copied; SCHED's sched/lr_table are taken). Commands
 * sent when no thread runs are applied at once on the calling thread. 0,
 * or DET_EINVAL for a key the optimiser or the task does not know (checked
 * here, so the caller hears of a misspelling at once). */
int trainer_command(struct trainer *t, const struct trainer_cmd *cmd);
/* Shorthands. */
int trainer_pause(struct trainer *t);
int trainer_resume_run(struct trainer *t);
int trainer_stop(struct trainer *t);
int trainer_save_now(struct trainer *t);

/* Takes the next event for the main thread; 1 when one was taken, 0 when
 * none is waiting. Step events are coalesced when the main thread lags. */
int trainer_event_poll(struct trainer *t, struct trainer_event *ev);

/* The metrics store (owned by the trainer or borrowed from io). */
struct metrics *trainer_metrics(struct trainer *t);
/* The final or failing message ("done: 400 steps", "nan in box loss at
 * step 12; first non-finite node: head.box (conv2d)"). */
const char *trainer_message(struct trainer *t);
/* Steps taken, and the total planned (0: unknown). */
int64_t trainer_step(struct trainer *t);
int64_t trainer_total_steps(struct trainer *t);

/* Evaluates on the validation set now, on the calling thread (only while
 * no thread runs). 0 or a status. The result is kept as the last one. */
int trainer_evaluate(struct trainer *t);
/* Takes ownership of the last evaluation (GT, detections, result; each
 * may be NULL when none happened): the trainer forgets it. */
void trainer_eval_take(struct trainer *t, struct eval_gt **gt, struct eval_dets **dets, struct eval_result **r);
/* A copy of the last evaluation (its detections copied under the lock; the
 * GT rebuilt from the validation set and the result recomputed, both on
 * the calling thread), for a callback that wants one while the trainer
 * keeps its own for trainer_eval_take. 0 with *gt, *dets, *r the caller's;
 * DET_EINVAL when no evaluation is kept; or a status. */
int trainer_eval_copy(struct trainer *t, struct eval_gt **gt, struct eval_dets **dets, struct eval_result **r);
struct train_sample;
/* The first n validation images with their GT and the detections of the
 * last evaluation scoring at least min_score (train/samples.h), for the
 * samples panel; the evaluation stays the trainer's (only the few images'
 * detections are copied, under the lock; the images are rendered after
 * it). Returns the number of samples (*out: train_samples_free), 0 when no
 * evaluation is kept, or a negative status; *step gets the evaluation's
 * step. Any thread. */
int trainer_eval_samples(struct trainer *t, int n, double min_score, struct train_sample **out, int64_t *step);
/* The validation set (borrowed; NULL when none). */
const struct dataset *trainer_val(struct trainer *t);
/* Detections on ds (all its images, in order) with the eval graph, as
 * eval_dets over a GT built from ds (*gt and *dets owned by the caller).
 * Only while no thread runs. */
int trainer_predict(struct trainer *t, const struct dataset *ds, struct eval_gt **gt, struct eval_dets **dets);
/* The loss of every box of ds with the eval graph in evaluation mode (and
 * the EMA weights when evaluations use them), in eval_gt_from_dataset's
 * order (r:ground_truth()'s); *out (*n floats, the caller's to free) is NaN
 * for a box no anchor was assigned to, or that the resize made empty. Only
 * while no thread runs. 0 or a negative status. */
int trainer_gt_losses(struct trainer *t, const struct dataset *ds, float **out, size_t *n);

/* Writes a checkpoint of the current state to path (only while no thread
 * runs, or from the thread itself). 0 or DET_EIO. */
int trainer_save(struct trainer *t, const char *path);

#endif
