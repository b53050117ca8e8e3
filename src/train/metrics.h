/* metrics.h: the metrics store of a training run. The trainer thread writes
 * it; the screen's panels, `detbench watch`, the run command and Lua read
 * it. It holds named per-step series (loss parts, lr, grad_norm, images/s,
 * data_wait) in ring buffers, one record per evaluation (pycocotools' 12
 * figures and per-class AP/AP50/AP75 with GT and detection counts), events
 * (a hyper-parameter changed live, a checkpoint saved, a NaN caught, an
 * evaluation done), and the run's progress (state, step, epoch, ETA).
 *
 * One mutex guards everything; every reader copies (snapshot functions),
 * so no pointer into the store escapes it. `metrics_version` bumps on every
 * change: a panel polls it (cheap) and copies only when it moved.
 *
 * When a log is open, every write is also appended to the log file (in
 * runs/<name>/metrics.jsonl) as one JSON object per line, flushed:
 *   {"type":"step","step":12,"epoch":0.31,"t":4.2,"loss":1.7,"cls":0.9,...}
 *   {"type":"eval","step":400,"epoch":2,"t":91.0,"stats":[12 numbers],
 *    "classes":[{"name":"Shirt","ap":..,"ap50":..,"ap75":..,"ngt":..,"ndet":..},...]}
 *   {"type":"event","kind":"set","step":120,"epoch":..,"t":..,"key":"lr",
 *    "old":0.01,"new":0.003,"text":"lr 0.01 -> 0.003"}
 *   {"type":"state","state":"training","step":..,"total_steps":..,"epoch":..,
 *    "epochs":..,"t":..,"eta":..,"text":".."}
 *   {"type":"plan","step":..,"steps":[0,4,8,..],"lr":[1e-4,..]}  (the schedule's lr
 *    per step as planned at "step": at train start, after a live schedule or
 *    lr change, and when a budget in minutes re-plans; the latest wins)
 * (NaN figures are written as null.) A follower (metrics_follow_*) reads a
 * growing file back into a store, for `detbench watch RUN_DIR`. */
#ifndef DET_TRAIN_METRICS_H
#define DET_TRAIN_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_NAME_MAX 48   /* series, class and key names (longer ones are cut) */
#define METRICS_TEXT_MAX 256  /* an event's or the state's text */
#define METRICS_MAX_SERIES 64

/* The run's state. */
enum metrics_state {
	METRICS_IDLE,        /* built, not started */
	METRICS_TRAINING,
	METRICS_PAUSED,
	METRICS_EVALUATING,
	METRICS_DONE,        /* finished: steps, epochs, budget or early stop */
	METRICS_STOPPED,     /* stopped by a command or a signal */
	METRICS_FAILED,      /* an error (the text says which) */
	METRICS_NSTATES
};
extern const char *const metrics_state_names[METRICS_NSTATES]; /* "idle", "training", ... */

/* One point of a series. */
struct metrics_point {
	int64_t step;   /* optimiser steps taken when it was recorded */
	double epoch;   /* fractional epoch */
	double t;       /* seconds since the run started (resumes continue it) */
	double value;
};

enum metrics_event_kind {
	METRICS_EV_INFO,        /* a note (started, resumed, ...) */
	METRICS_EV_SET,         /* a hyper-parameter / loss weight / schedule changed live */
	METRICS_EV_CHECKPOINT,  /* a checkpoint was written (text: the path) */
	METRICS_EV_NAN,         /* a non-finite loss was caught (text: part and node) */
	METRICS_EV_EVAL,        /* an evaluation finished (value: its AP) */
	METRICS_EV_EARLY_STOP,  /* early stopping ended the run */
	METRICS_EV_STATE,       /* the run's state changed (paused, resumed, stopped) */
	METRICS_EV_ERROR,       /* something failed (text: the message) */
	METRICS_NEVENTS
};
extern const char *const metrics_event_names[METRICS_NEVENTS]; /* "info", "set", "checkpoint", ... */

struct metrics_event {
	int kind;                         /* enum metrics_event_kind */
	int64_t step;
	double epoch, t;
	char key[METRICS_NAME_MAX];       /* SET: what changed ("lr", "loss.cls", "schedule") */
	double old_value, new_value;      /* SET: before and after (NaN when not numeric);
	                                     EVAL: new_value = AP */
	char text[METRICS_TEXT_MAX];      /* a line a person reads */
};

/* One class of an evaluation. NaN AP where the class has no GT. */
struct metrics_class_ap {
	char name[METRICS_NAME_MAX];
	double ap, ap50, ap75;
	size_t ngt, ndet;
};

/* One evaluation. stats[] are pycocotools' COCOeval.stats in its order
 * (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; see
 * eval_stat_names); cls[ncats] is owned by the record (metrics_eval_fini). */
struct metrics_eval {
	int64_t step;
	double epoch, t;
	double stats[12];
	int ncats;
	struct metrics_class_ap *cls;
};
void metrics_eval_fini(struct metrics_eval *e);

/* The run's progress, as the status bar and the progress line show it. */
struct metrics_progress {
	int state;                        /* enum metrics_state */
	char name[METRICS_NAME_MAX];      /* the experiment's name */
	int64_t step, total_steps;        /* total_steps 0: unknown */
	double epoch;                     /* fractional */
	int64_t epochs;                   /* planned epochs (0: unknown) */
	double elapsed_s;                 /* run time, resumes included */
	double eta_s;                     /* NaN when unknown */
	double images_per_s;              /* recent throughput */
	double budget_s;                  /* wall-clock budget (0: none) */
	size_t nevals;                    /* evaluations so far */
	double best;                      /* best value of the early-stop metric (NaN: none) */
	int64_t best_step;
	char text[METRICS_TEXT_MAX];      /* the latest state message ("" when none) */
};

struct metrics;

/* A new empty store whose series keep the latest ring points each
 * (0: 16384). NULL on ENOMEM. */
struct metrics *metrics_new(size_t ring);
/* Drops a reference; the last one frees the store and closes its log.
 * NULL is a no-op. */
void metrics_free(struct metrics *m);
/* Takes another reference (a panel that keeps the store); returns m. */
struct metrics *metrics_retain(struct metrics *m);

/* The store of the run the screen shows: the experiment that trains last
 * sets it (a reference is held); panels take it with metrics_current_get
 * (a new reference: release it with metrics_free), NULL when no run yet.
 * Thread-safe. */
void metrics_current_set(struct metrics *m);
struct metrics *metrics_current_get(void);
/* Empties every series, evaluation, event and the progress (the log stays). */
void metrics_clear(struct metrics *m);

/* Starts appending every record to path (created, or appended to when it
 * exists). 0 or DET_EIO naming the file. A later write error closes the
 * log and is recorded as an ERROR event. */
int metrics_log_open(struct metrics *m, const char *path);
void metrics_log_close(struct metrics *m);

/* ---- writing (the trainer thread; any thread is safe) ---- */

/* One step's values: n named values recorded at (step, epoch, t), one
 * "step" line in the log. A name not seen before creates its series (at
 * most METRICS_MAX_SERIES; further names are dropped). NaN values are kept
 * (a chart skips them). */
void metrics_step_add(struct metrics *m, int64_t step, double epoch, double t, size_t n,
	const char *const *names, const double *values);
/* Appends a copy of *e (cls copied). 0 or DET_ENOMEM. */
int metrics_eval_add(struct metrics *m, const struct metrics_eval *e);
/* Appends an event; text is printf-style. key may be NULL. */
void metrics_event_add(struct metrics *m, int kind, int64_t step, double epoch, double t,
	const char *key, double old_value, double new_value, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));
/* Replaces the progress record (a "state" log line only when the state or
 * the text changed, so the log does not grow with every step). */
void metrics_progress_set(struct metrics *m, const struct metrics_progress *p);

/* Replaces the lr plan: the schedule's lr at n steps (ascending), as
 * planned at step `at` (copied; n 0 clears it); a "plan" line in the log.
 * 0 or DET_ENOMEM. */
int metrics_plan_set(struct metrics *m, int64_t at, size_t n, const double *steps, const double *lr);

/* ---- reading (any thread: everything is copied) ---- */

/* The plan's size (0: none) and a copy of at most max of its points (steps
 * and lr may be NULL to ask the size only). *serial (may be NULL) gets a
 * number that changes whenever the plan does. */
size_t metrics_plan_copy(struct metrics *m, double *steps, double *lr, size_t max, uint64_t *serial);

/* Bumped by every write; equal values mean nothing changed. */
uint64_t metrics_version(struct metrics *m);
void metrics_progress_get(struct metrics *m, struct metrics_progress *out);
/* Number of series, and the name of series i (copied into name). */
size_t metrics_series_count(struct metrics *m);
int metrics_series_name(struct metrics *m, size_t i, char *name, size_t size);
/* Copies the latest (at most max) points of the series called name, oldest
 * first, into out; returns how many were copied (0 when unknown). *total
 * (may be NULL) gets the number ever recorded (older ones left the ring). */
size_t metrics_series_copy(struct metrics *m, const char *name, struct metrics_point *out, size_t max,
	size_t *total);
/* The latest value of a series; 0 and *v set, or -1 when it has none. */
int metrics_series_last(struct metrics *m, const char *name, double *v);
/* Number of evaluations, and a deep copy of evaluation i (negative i counts
 * from the end: -1 is the latest). 0, or DET_EINVAL when there is none,
 * DET_ENOMEM. Free the copy with metrics_eval_fini. */
size_t metrics_eval_count(struct metrics *m);
int metrics_eval_get(struct metrics *m, long i, struct metrics_eval *out);
/* Number of events ever added, and a copy of those numbered [first,
 * first + max) (event numbers count from 0 over the run; the store keeps
 * the latest 4096). Returns how many were copied. */
size_t metrics_event_count(struct metrics *m);
size_t metrics_events_copy(struct metrics *m, size_t first, struct metrics_event *out, size_t max);

/* ---- serialising and following ---- */

/* Writes the whole store (series points still in the ring, evaluations,
 * events, progress) as JSON lines to f, in the log's format (checkpoints
 * carry this). 0 or DET_EIO. */
int metrics_write_jsonl(struct metrics *m, FILE *f);
/* Reads one JSON line of the log format into the store (no log write).
 * Unknown "type"s are skipped (0); a malformed line gives DET_EFORMAT. */
int metrics_read_line(struct metrics *m, const char *line, size_t len);
/* Reads a whole buffer of JSON lines; DET_EFORMAT names the line number
 * (name is used in messages). */
int metrics_read_jsonl(struct metrics *m, const char *name, const char *buf, size_t len);

/* A follower of a growing metrics.jsonl: metrics_follow_poll reads what
 * was appended since the last poll (complete lines only; a partial last
 * line waits for its newline) into m. The file may not exist yet. */
struct metrics_follower;
struct metrics_follower *metrics_follow_new(const char *path, struct metrics *m);
/* Number of lines read this time (0: nothing new), or DET_EFORMAT naming
 * the line (the follower skips it and goes on at the next poll). A file
 * that shrank (a new run) is read again from the start into a cleared store. */
int metrics_follow_poll(struct metrics_follower *f);
void metrics_follow_free(struct metrics_follower *f);

#endif
