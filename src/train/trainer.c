/* trainer.c: the training loop (its own thread, no Lua), the command queue
 * it drains at step boundaries, the event queue the main thread polls,
 * evaluation and early stopping, and checkpoints that resume bit for bit
 * (weights and running statistics, optimiser state with its EMA, the
 * loader's position, the schedule's scale, metrics so far). */
#define _GNU_SOURCE /* open_memstream */
#include "train/trainer.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/atomic.h"
#include "core/error.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "eval/coco_eval.h"
#include "nn/graph.h"
#include "nn/optim.h"
#include "train/checkpoint.h"
#include "train/samples.h"
#include "train/sched.h"

#define EVQ 256

struct trainer {
	struct trainer_config cfg;
	struct trainer_io io;
	struct sched *sched;
	double *lr_table;
	size_t n_lr;
	double lr_scale;           /* a live lr change scales the schedule from then on */
	double base_lr;            /* the optimiser's lr when the trainer was made */
	struct sched *sched_proto; /* budget in minutes: the unbound schedule, re-laid over the
	                              steps the budget is measured to hold */
	int64_t planned;           /* that estimate (0: none); what progress shows as the total */
	int64_t plan_end;          /* the last step of the last lr plan published (0: none) */
	int sched_live;            /* the schedule was replaced live: checkpoints keep it */
	int64_t session_step0;     /* step when this session started */
	double t_mark;             /* when this session's 10th step ended */
	struct metrics *metrics;
	int own_metrics;
	struct sampler *own_sampler;
	const struct sampler *sampler;
	char *recipe;

	pthread_t thread;
	int started, finished, status;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct trainer_cmd *cmds;
	size_t ncmd, capcmd;
	struct trainer_event evq[EVQ];
	size_t ev_head, ev_count;
	int paused, stop_req;

	/* position (what a checkpoint restores) */
	int64_t step;              /* optimiser steps taken */
	int64_t epoch;             /* the epoch the next batch comes from */
	size_t epoch_pos;          /* samples of it consumed */
	size_t batch_number;       /* the loader's next batch number */
	double elapsed_prev;       /* seconds of earlier sessions */
	double t0;                 /* monotonic start of this session */
	double best;
	int64_t best_step;
	int bad_evals;
	double last_eval_t;
	int64_t nan_skipped;

	size_t epoch_len;          /* samples per epoch (epoch 0's plan) */
	int64_t batches_per_epoch, total_steps;
	double ips;                /* smoothed images per second */
	float *acc, *state_backup;
	struct loader *loader;
	int64_t last_logged_step;

	struct eval_gt *gt;        /* of the validation set, built once */
	struct eval_gt *last_gt;
	struct eval_dets *last_dets;
	struct eval_result *last_r;
	int64_t last_eval_step;
	char message[1024];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double elapsed(const struct trainer *t)
{
	return t->elapsed_prev + (t->t0 > 0 ? now_s() - t->t0 : 0);
}

void trainer_config_default(struct trainer_config *c)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "run");
	c->epochs = 1;
	c->accumulate = 1;
	c->batch = 16;
	c->size = 128;
	c->workers = 2;
	c->seed = 1;
	memcpy(c->mean, mean, sizeof mean);
	memcpy(c->std, std, sizeof std);
	c->letterbox = 1;
	c->eval_epochs = 1;
	c->eval_batch = 16;
	c->eval_size = 0;
	c->eval_ema = 1;
	c->es_patience = 5;
	c->es_mode = TRAINER_ES_MAX;
	c->log_every = 1;
}

/* ---- events ---- */

static void event_push(struct trainer *t, const struct trainer_event *ev)
{
	pthread_mutex_lock(&t->mu);
	if (t->ev_count == EVQ) {
		if (ev->kind == TRAINER_EV_STEP) {
			/* coalesce: the latest step replaces the newest queued step */
			struct trainer_event *last = &t->evq[(t->ev_head + t->ev_count - 1) % EVQ];
			if (last->kind == TRAINER_EV_STEP)
				*last = *ev;
			pthread_mutex_unlock(&t->mu);
			return;
		}
		t->ev_head = (t->ev_head + 1) % EVQ;
		t->ev_count--;
	}
	t->evq[(t->ev_head + t->ev_count) % EVQ] = *ev;
	t->ev_count++;
	pthread_mutex_unlock(&t->mu);
}

int trainer_event_poll(struct trainer *t, struct trainer_event *ev)
{
	int got = 0;
	pthread_mutex_lock(&t->mu);
	if (t->ev_count) {
		*ev = t->evq[t->ev_head];
		t->ev_head = (t->ev_head + 1) % EVQ;
		t->ev_count--;
		got = 1;
	}
	pthread_mutex_unlock(&t->mu);
	return got;
}

static double frac_epoch(const struct trainer *t)
{
	return (double)t->epoch + (t->epoch_len ? (double)t->epoch_pos / (double)t->epoch_len : 0);
}

static void progress(struct trainer *t, int state, const char *text)
{
	struct metrics_progress p;
	metrics_progress_get(t->metrics, &p);
	p.state = state;
	snprintf(p.name, sizeof p.name, "%.47s", t->cfg.name);
	p.step = t->step;
	p.total_steps = t->planned > 0 ? t->planned : t->total_steps < INT64_MAX / 4 ? t->total_steps : 0;
	p.epoch = frac_epoch(t);
	p.epochs = t->cfg.steps > 0 ? 0 : t->cfg.epochs;
	p.elapsed_s = elapsed(t);
	p.images_per_s = t->ips;
	p.budget_s = t->cfg.minutes * 60;
	double per_step = t->step > 0 && t->ips > 0 ? (double)(t->cfg.batch * (size_t)t->cfg.accumulate) / t->ips : NAN;
	p.eta_s = p.total_steps > 0 ? (double)(p.total_steps - t->step) * per_step : NAN;
	if (p.budget_s > 0) {
		double left = p.budget_s - p.elapsed_s;
		if (left < 0)
			left = 0;
		if (!(p.eta_s <= left))
			p.eta_s = left;
	}
	p.best = t->best;
	p.best_step = t->best_step;
	if (text)
		snprintf(p.text, sizeof p.text, "%s", text);
	metrics_progress_set(t->metrics, &p);
}

static void state_event(struct trainer *t, int state, const char *text)
{
	progress(t, state, text);
	metrics_event_add(t->metrics, METRICS_EV_STATE, t->step, frac_epoch(t), elapsed(t), "state", NAN, NAN, "%s",
		text);
	struct trainer_event ev = { .kind = TRAINER_EV_STATE, .step = t->step, .epoch = frac_epoch(t), .state = state };
	event_push(t, &ev);
}

/* ---- construction ---- */

static int graph_batch(struct nn_graph *g, int input, int64_t *n, int64_t *h, int64_t *w)
{
	const struct nn_node *nd = nn_graph_node(g, input);
	if (!nd || nd->ndim != 4 || nd->shape[1] != 3)
		return det_error_set(DET_EINVAL, "trainer: the graph's input node %d is not (N, 3, H, W)", input);
	*n = nd->shape[0];
	*h = nd->shape[2];
	*w = nd->shape[3];
	return 0;
}

struct trainer *trainer_new(const struct trainer_config *cfg, const struct trainer_io *io)
{
	int64_t n, h, w;
	if (!io->train_graph || !io->opt || !io->train || !io->task.loss) {
		det_error_set(DET_EINVAL, "trainer: a training graph, an optimiser, a training set and a loss are needed");
		return NULL;
	}
	if (graph_batch(io->train_graph, io->train_input, &n, &h, &w))
		return NULL;
	if ((size_t)n != cfg->batch || h != cfg->size || w != cfg->size) {
		det_error_set(DET_EINVAL, "trainer: the training graph takes (%lld, 3, %lld, %lld), the experiment "
			"asks for batch %zu at size %d", (long long)n, (long long)h, (long long)w, cfg->batch, cfg->size);
		return NULL;
	}
	if (io->eval_graph && graph_batch(io->eval_graph, io->eval_input, &n, &h, &w))
		return NULL;
	if (io->sched && sched_has_function(io->sched) && !io->lr_table) {
		det_error_set(DET_EINVAL, "trainer: a schedule that calls a Lua function must be tabulated first");
		return NULL;
	}
	if (cfg->accumulate < 1 || cfg->batch < 1 || cfg->workers < 1) {
		det_error_set(DET_EINVAL, "trainer: accumulate, batch and workers must be >= 1");
		return NULL;
	}
	struct trainer *t = calloc(1, sizeof *t);
	if (!t) {
		det_error_set(DET_ENOMEM, "out of memory for a trainer");
		return NULL;
	}
	t->cfg = *cfg;
	t->io = *io;
	t->lr_scale = 1;
	t->best = NAN;
	t->best_step = -1;
	t->last_logged_step = -1;
	if (t->cfg.log_every < 1)
		t->cfg.log_every = 1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (io->sched && !(t->sched = sched_clone(io->sched)))
		goto nomem;
	if (io->lr_table && io->n_lr) {
		if (!(t->lr_table = malloc(io->n_lr * sizeof *t->lr_table)))
			goto nomem;
		memcpy(t->lr_table, io->lr_table, io->n_lr * sizeof *t->lr_table);
		t->n_lr = io->n_lr;
	}
	if (io->recipe && !(t->recipe = strdup(io->recipe)))
		goto nomem;
	t->metrics = io->metrics;
	if (!t->metrics) {
		if (!(t->metrics = metrics_new(0)))
			goto nomem;
		t->own_metrics = 1;
	}
	t->sampler = io->sampler;
	if (!t->sampler) {
		struct sampler_config sc;
		sampler_config_default(&sc, SAMPLER_SHUFFLE);
		if (!(t->own_sampler = sampler_new(io->train, &sc, NULL)))
			goto fail;
		t->sampler = t->own_sampler;
	}
	size_t *order = NULL;
	if (sampler_epoch(t->sampler, cfg->seed, 0, &order, &t->epoch_len))
		goto fail;
	free(order);
	t->batches_per_epoch = (int64_t)(t->epoch_len / cfg->batch);
	if (t->batches_per_epoch < 1) {
		det_error_set(DET_EINVAL, "trainer: %s has %zu samples per epoch, fewer than a batch (%zu)",
			io->train->name, t->epoch_len, cfg->batch);
		goto fail;
	}
	if (cfg->steps > 0)
		t->total_steps = cfg->steps;
	else if (cfg->epochs > 0)
		t->total_steps = (cfg->epochs * t->batches_per_epoch + cfg->accumulate - 1) / cfg->accumulate;
	else if (cfg->minutes > 0)
		t->total_steps = INT64_MAX / 4; /* only the budget ends it */
	else {
		det_error_set(DET_EINVAL, "trainer: say how long to train (steps, epochs or minutes)");
		goto fail;
	}
	t->base_lr = optim_config(io->opt)->lr;
	if (t->sched && cfg->minutes > 0 && cfg->steps <= 0 && !(t->sched_proto = sched_clone(t->sched)))
		goto nomem;
	if (t->sched) {
		/* fill what the recipe left out: the base lr from the optimiser,
		 * the length from the run */
		sched_bind(t->sched, optim_config(io->opt)->lr, (double)t->total_steps);
		if (sched_check(t->sched))
			goto fail;
	}
	struct nn_store *s = nn_graph_store(io->train_graph);
	if (!(t->state_backup = malloc((s->nstate + 1) * sizeof(float))))
		goto nomem;
	if (cfg->accumulate > 1 && !(t->acc = malloc((s->count + 1) * sizeof(float))))
		goto nomem;
	progress(t, METRICS_IDLE, "");
	return t;
nomem:
	det_error_set(DET_ENOMEM, "out of memory for a trainer");
fail:
	trainer_free(t);
	return NULL;
}

static void cmd_fini(struct trainer_cmd *c)
{
	sched_free(c->sched);
	free(c->lr_table);
	c->sched = NULL;
	c->lr_table = NULL;
}

void trainer_free(struct trainer *t)
{
	if (!t)
		return;
	if (t->started) {
		trainer_stop(t);
		trainer_wait(t);
	}
	for (size_t i = 0; i < t->ncmd; i++)
		cmd_fini(&t->cmds[i]);
	free(t->cmds);
	sched_free(t->sched);
	sched_free(t->sched_proto);
	free(t->lr_table);
	free(t->recipe);
	if (t->own_metrics)
		metrics_free(t->metrics);
	sampler_free(t->own_sampler);
	free(t->acc);
	free(t->state_backup);
	loader_free(t->loader);
	eval_gt_free(t->gt);
	eval_gt_free(t->last_gt);
	eval_dets_free(t->last_dets);
	eval_result_free(t->last_r);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

struct metrics *trainer_metrics(struct trainer *t) { return t->metrics; }
const char *trainer_message(struct trainer *t) { return t->message; }
int64_t trainer_step(struct trainer *t) { return t->step; }
int64_t trainer_total_steps(struct trainer *t) { return t->total_steps; }

/* ---- the learning rate ---- */

static double scheduled_lr(struct trainer *t)
{
	double lr;
	if (t->lr_table)
		lr = t->lr_table[(size_t)t->step < t->n_lr ? (size_t)t->step : t->n_lr - 1];
	else if (t->sched)
		lr = sched_lr(t->sched, (double)t->step, frac_epoch(t));
	else
		return NAN;
	return lr * t->lr_scale;
}

/* The lr the schedule gives at a future step (the live scale applied). */
static double planned_lr(const struct trainer *t, int64_t step)
{
	double lr, epoch = t->batches_per_epoch > 0 ? (double)step * t->cfg.accumulate / (double)t->batches_per_epoch : 0;
	if (t->lr_table)
		lr = t->lr_table[(size_t)step < t->n_lr ? (size_t)step : t->n_lr - 1];
	else if (t->sched)
		lr = sched_lr(t->sched, (double)step, epoch);
	else
		return NAN;
	return lr * t->lr_scale;
}

#define PLAN_POINTS 400

/* Publishes the schedule's lr from step 0 to the planned end (every step,
 * or PLAN_POINTS + 1 evenly spaced ones) into the store and its log, for
 * the lr panel's dashed future and `detbench watch`. Called at the start,
 * after a live schedule or lr change, and when a budget re-plans; nothing
 * while the end is unknown (a budget in minutes before its first estimate;
 * after a live schedule change such a run keeps its last estimate). */
static void publish_plan(struct trainer *t)
{
	int64_t total = t->planned > 0 ? t->planned : t->total_steps;
	if (total >= INT64_MAX / 4 && t->plan_end > t->step)
		total = t->plan_end; /* a budget whose estimate a live schedule dropped: the last one */
	if (total <= 0 || total >= INT64_MAX / 4 || (!t->sched && !t->lr_table))
		return;
	t->plan_end = total;
	size_t n = total < PLAN_POINTS ? (size_t)total + 1 : PLAN_POINTS + 1;
	double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
	if (x && y) {
		for (size_t i = 0; i < n; i++) {
			int64_t step = (int64_t)((double)i * (double)total / (double)(n - 1) + 0.5);
			x[i] = (double)step;
			y[i] = planned_lr(t, step);
		}
		metrics_plan_set(t->metrics, t->step, n, x, y);
	}
	free(x);
	free(y);
}

/* ---- commands ---- */

static int check_cmd(struct trainer *t, const struct trainer_cmd *c)
{
	double v;
	switch (c->kind) {
	case TRAINER_CMD_OPTIM:
		return optim_get(t->io.opt, c->key, &v);
	case TRAINER_CMD_WEIGHT:
		if (!t->io.task.weight)
			return det_error_set(DET_EINVAL, "this model has no loss weights to set");
		return t->io.task.weight(t->io.task.ud, c->key, NAN, &v);
	case TRAINER_CMD_SCHED:
		if (c->sched)
			sched_bind(c->sched, t->base_lr, (double)t->total_steps);
		if (c->sched && sched_has_function(c->sched) && !c->lr_table)
			return det_error_set(DET_EINVAL, "a schedule that calls a Lua function must be tabulated first");
		if (c->sched && sched_check(c->sched))
			return DET_EINVAL;
		return 0;
	default:
		return c->kind >= TRAINER_CMD_PAUSE && c->kind <= TRAINER_CMD_SCHED ? 0 :
			det_error_set(DET_EINVAL, "unknown trainer command %d", c->kind);
	}
}

static int evaluate(struct trainer *t);
static int save_ckpt(struct trainer *t, const char *file);

/* Applies one command on the thread that trains (or on the caller when no
 * thread runs). */
static void apply_cmd(struct trainer *t, struct trainer_cmd *c)
{
	double ep = frac_epoch(t), el = elapsed(t), old = NAN;
	switch (c->kind) {
	case TRAINER_CMD_PAUSE:
		if (!t->paused) {
			t->paused = 1;
			state_event(t, METRICS_PAUSED, "paused");
		}
		break;
	case TRAINER_CMD_RESUME:
		if (t->paused) {
			t->paused = 0;
			state_event(t, METRICS_TRAINING, "resumed");
		}
		break;
	case TRAINER_CMD_STOP:
		t->stop_req = 1;
		break;
	case TRAINER_CMD_SAVE:
		save_ckpt(t, "last.ckpt");
		break;
	case TRAINER_CMD_EVAL:
		evaluate(t);
		break;
	case TRAINER_CMD_OPTIM: {
		optim_get(t->io.opt, c->key, &old);
		if (optim_set(t->io.opt, c->key, c->value)) {
			metrics_event_add(t->metrics, METRICS_EV_ERROR, t->step, ep, el, c->key, old, c->value, "%s",
				det_error_message());
			break;
		}
		if (!strcmp(c->key, "lr")) {
			double s = scheduled_lr(t);
			if (isfinite(s) && s > 0)
				t->lr_scale *= c->value / s;
			publish_plan(t);
		}
		metrics_event_add(t->metrics, METRICS_EV_SET, t->step, ep, el, c->key, old, c->value, "%s %g -> %g", c->key,
			old, c->value);
		break;
	}
	case TRAINER_CMD_WEIGHT:
		if (t->io.task.weight(t->io.task.ud, c->key, c->value, &old)) {
			metrics_event_add(t->metrics, METRICS_EV_ERROR, t->step, ep, el, c->key, NAN, c->value, "%s",
				det_error_message());
			break;
		}
		{
			char key[64];
			snprintf(key, sizeof key, "loss.%s", c->key);
			metrics_event_add(t->metrics, METRICS_EV_SET, t->step, ep, el, key, old, c->value,
				"loss weight %s %g -> %g", c->key, old, c->value);
		}
		break;
	case TRAINER_CMD_SCHED: {
		double before = scheduled_lr(t);
		sched_free(t->sched);
		free(t->lr_table);
		t->sched = c->sched;
		t->lr_table = c->lr_table;
		t->n_lr = c->n_lr;
		c->sched = NULL;
		c->lr_table = NULL;
		t->lr_scale = 1;
		sched_free(t->sched_proto);
		t->sched_proto = NULL;
		t->planned = 0;
		t->sched_live = 1;
		char desc[200] = "an lr table";
		if (t->sched)
			sched_describe(t->sched, desc, sizeof desc);
		metrics_event_add(t->metrics, METRICS_EV_SET, t->step, ep, el, "schedule", before, scheduled_lr(t),
			"schedule: %s", desc);
		publish_plan(t);
		break;
	}
	}
	cmd_fini(c);
}

int trainer_command(struct trainer *t, const struct trainer_cmd *cmd)
{
	int rc = check_cmd(t, cmd);
	if (rc) {
		struct trainer_cmd c = *cmd;
		cmd_fini(&c);
		return rc;
	}
	pthread_mutex_lock(&t->mu);
	int live = t->started && !t->finished;
	if (live) {
		if (t->ncmd == t->capcmd) {
			size_t cap = t->capcmd ? 2 * t->capcmd : 16;
			struct trainer_cmd *p = realloc(t->cmds, cap * sizeof *p);
			if (!p) {
				pthread_mutex_unlock(&t->mu);
				return det_error_set(DET_ENOMEM, "out of memory queueing a command");
			}
			t->cmds = p;
			t->capcmd = cap;
		}
		t->cmds[t->ncmd++] = *cmd;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	if (!live) {
		struct trainer_cmd c = *cmd;
		apply_cmd(t, &c);
	}
	return 0;
}

static int simple_cmd(struct trainer *t, int kind)
{
	struct trainer_cmd c;
	memset(&c, 0, sizeof c);
	c.kind = kind;
	return trainer_command(t, &c);
}

int trainer_pause(struct trainer *t) { return simple_cmd(t, TRAINER_CMD_PAUSE); }
int trainer_resume_run(struct trainer *t) { return simple_cmd(t, TRAINER_CMD_RESUME); }
int trainer_stop(struct trainer *t) { return simple_cmd(t, TRAINER_CMD_STOP); }
int trainer_save_now(struct trainer *t) { return simple_cmd(t, TRAINER_CMD_SAVE); }

/* Drains the queue; while paused, waits for more (100 ms at a time). */
static void drain_commands(struct trainer *t)
{
	for (;;) {
		pthread_mutex_lock(&t->mu);
		while (t->ncmd == 0 && t->paused && !t->stop_req) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&t->cv, &t->mu, &ts);
		}
		if (t->ncmd == 0) {
			pthread_mutex_unlock(&t->mu);
			return;
		}
		struct trainer_cmd c = t->cmds[0];
		memmove(t->cmds, t->cmds + 1, (t->ncmd - 1) * sizeof *t->cmds);
		t->ncmd--;
		pthread_mutex_unlock(&t->mu);
		apply_cmd(t, &c);
	}
}

/* ---- one step ---- */

static void copy_images(float *x, int64_t N, int64_t H, int64_t W, const struct loader_batch *b)
{
	size_t per = 3 * (size_t)H * (size_t)W;
	memcpy(x, b->images, (size_t)b->n * per * sizeof(float));
	if (b->n < N)
		memset(x + (size_t)b->n * per, 0, (size_t)(N - b->n) * per * sizeof(float));
}

static int set_images(struct nn_graph *g, int input, const struct loader_batch *b)
{
	int64_t N, H, W;
	graph_batch(g, input, &N, &H, &W);
	if (b->width != W || b->height != H || b->n > N)
		return det_error_set(DET_EINVAL, "trainer: a batch of %d images of %dx%d does not fit the graph's input "
			"(%lld, 3, %lld, %lld)", b->n, b->width, b->height, (long long)N, (long long)H, (long long)W);
	if (nn_graph_plan(g))
		return DET_ENOMEM;
	copy_images(nn_graph_value(g, input), N, H, W, b);
	return 0;
}

static int losses_finite(const struct trainer_losses *l, const char **bad)
{
	for (int i = 0; i < l->n; i++)
		if (!isfinite(l->values[i])) {
			*bad = l->names[i];
			return 0;
		}
	if (!isfinite(l->total)) {
		*bad = "total";
		return 0;
	}
	return 1;
}

/* A non-finite loss or gradient: find the first node that has one (forward
 * with per-node checking, then backward with it), restore the running
 * statistics, and name both in t->message. */
static int name_nan(struct trainer *t, const struct loader_batch *b, const char *part, int in_grad)
{
	struct nn_graph *g = t->io.train_graph;
	struct nn_store *s = nn_graph_store(g);
	char where[700] = "every value of the graph is finite: the loss computation itself produced it";
	nn_graph_set_check(g, 1);
	int rc = nn_graph_forward(g);
	if (rc == DET_ENUM)
		snprintf(where, sizeof where, "first non-finite node: %s", det_error_message());
	else if (in_grad) {
		struct trainer_losses l;
		memset(&l, 0, sizeof l);
		t->io.task.loss(t->io.task.ud, g, b, &l);
		if (nn_graph_backward(g) == DET_ENUM)
			snprintf(where, sizeof where, "first non-finite gradient: %s", det_error_message());
		else
			snprintf(where, sizeof where, "gradients are finite per node; their norm overflowed");
	}
	nn_graph_set_check(g, 0);
	memcpy(s->state, t->state_backup, s->nstate * sizeof(float));
	snprintf(t->message, sizeof t->message, "%s in %s at step %lld (epoch %lld); %s; weights are as before the step",
		in_grad ? "non-finite gradient" : "non-finite loss", part, (long long)t->step + 1, (long long)t->epoch,
		where);
	metrics_event_add(t->metrics, METRICS_EV_NAN, t->step, frac_epoch(t), elapsed(t), part, NAN, NAN, "%s",
		t->message);
	return det_error_set(DET_ENUM, "%s", t->message);
}

static void consumed(struct trainer *t, const struct loader_batch *b)
{
	t->batch_number = b->number + 1;
	if (b->last_in_epoch) {
		t->epoch = b->epoch + 1;
		t->epoch_pos = 0;
	} else {
		t->epoch = b->epoch;
		t->epoch_pos = b->first + (size_t)b->n + (size_t)b->skipped;
	}
}

static int start_loader(struct trainer *t)
{
	struct loader_config lc;
	loader_config_default(&lc);
	lc.batch = t->cfg.batch;
	lc.size = t->cfg.size;
	lc.workers = t->cfg.workers;
	lc.seed = t->cfg.seed;
	memcpy(lc.mean, t->cfg.mean, sizeof lc.mean);
	memcpy(lc.std, t->cfg.std, sizeof lc.std);
	lc.letterbox = t->cfg.letterbox;
	lc.drop_last = 1;
	lc.start_epoch = t->epoch;
	lc.start_pos = t->epoch_pos;
	lc.start_number = t->batch_number;
	loader_free(t->loader);
	t->loader = loader_new_config(t->io.train, t->sampler, t->io.augs, &lc);
	return t->loader ? 0 : det_error_code() ? det_error_code() : DET_ENOMEM;
}

/* One optimiser step over cfg.accumulate micro-batches. 1 when an epoch
 * ended during it, 0 otherwise, or a negative status. */
static int train_step(struct trainer *t)
{
	struct nn_graph *g = t->io.train_graph;
	struct nn_store *s = nn_graph_store(g);
	const int A = t->cfg.accumulate;
	struct trainer_losses sum;
	memset(&sum, 0, sizeof sum);
	double t_start = now_s(), wait = 0;
	int epoch_ended = 0, images = 0;
	memcpy(t->state_backup, s->state, s->nstate * sizeof(float));
	for (int k = 0; k < A; k++) {
		const struct loader_batch *b;
		double w0 = now_s();
		int rc = loader_next(t->loader, &b);
		wait += now_s() - w0;
		if (rc)
			return rc;
		if ((rc = set_images(g, t->io.train_input, b)) || (rc = nn_graph_forward(g)))
			return rc;
		struct trainer_losses l;
		memset(&l, 0, sizeof l);
		if ((rc = t->io.task.loss(t->io.task.ud, g, b, &l)))
			return rc;
		const char *bad;
		if (!losses_finite(&l, &bad))
			return name_nan(t, b, bad, 0);
		if ((rc = nn_graph_backward(g)))
			return rc;
		if (A > 1) {
			if (k == 0)
				memcpy(t->acc, s->grad, s->count * sizeof(float));
			else
				for (size_t i = 0; i < s->count; i++)
					t->acc[i] += s->grad[i];
		}
		sum.n = l.n;
		for (int i = 0; i < l.n; i++) {
			sum.names[i] = l.names[i];
			sum.values[i] += l.values[i] / A;
		}
		sum.total += l.total / A;
		sum.num_pos += l.num_pos;
		images += b->n;
		consumed(t, b);
		if (b->last_in_epoch)
			epoch_ended = 1;
		if (k == A - 1 || epoch_ended) {
			/* the last micro-batch: keep b for a NaN search below */
			if (A > 1) {
				const float inv = 1.0f / (float)A;
				for (size_t i = 0; i < s->count; i++)
					s->grad[i] = t->acc[i] * inv;
			}
			double lr = scheduled_lr(t);
			struct optim *opt = t->io.opt;
			if (isfinite(lr))
				optim_config(opt)->lr = lr;
			double m = t->sched && !t->lr_table ? sched_momentum(t->sched, (double)t->step, frac_epoch(t)) : NAN;
			if (isfinite(m))
				optim_momentum_set(opt, m);
			rc = optim_step(opt);
			if (rc == DET_ENUM)
				return name_nan(t, b, "gradients", 1);
			if (rc)
				return rc;
			break;
		}
	}
	t->step++;
	double dt = now_s() - t_start;
	double ips = dt > 0 ? images / dt : 0;
	t->ips = t->ips > 0 ? 0.9 * t->ips + 0.1 * ips : ips;
	/* metrics: total, parts, lr, grad norm, throughput, data wait */
	const char *names[TRAINER_MAX_PARTS + 6];
	double vals[TRAINER_MAX_PARTS + 6];
	size_t n = 0;
	names[n] = "loss";
	vals[n++] = sum.total;
	for (int i = 0; i < sum.n; i++) {
		names[n] = sum.names[i];
		vals[n++] = sum.values[i];
	}
	names[n] = "lr";
	vals[n++] = optim_config(t->io.opt)->lr;
	names[n] = "grad_norm";
	vals[n++] = optim_grad_norm(t->io.opt);
	names[n] = "images_per_s";
	vals[n++] = ips;
	names[n] = "data_wait";
	vals[n++] = dt > 0 ? wait / dt : 0;
	names[n] = "num_pos";
	vals[n++] = sum.num_pos;
	metrics_step_add(t->metrics, t->step, frac_epoch(t), elapsed(t), n, names, vals);
	if (t->step % t->cfg.log_every == 0 || t->step == t->total_steps) {
		progress(t, METRICS_TRAINING, NULL);
		struct trainer_event ev = { .kind = TRAINER_EV_STEP, .step = t->step, .epoch = frac_epoch(t),
			.state = METRICS_TRAINING, .loss = sum.total, .nparts = sum.n,
			.lr = optim_config(t->io.opt)->lr };
		for (int i = 0; i < sum.n; i++) {
			ev.names[i] = sum.names[i];
			ev.values[i] = sum.values[i];
		}
		event_push(t, &ev);
	}
	return epoch_ended;
}

/* ---- evaluation ---- */

static double eval_figure(const struct eval_result *r, const char *name)
{
	for (int i = 0; i < 12; i++)
		if (!strcmp(eval_stat_names[i], name))
			return r->stats[i];
	return NAN;
}

static int mkdirs(const char *path);

/* The first validation images with GT and this evaluation's detections,
 * as the run directory's sidecar for `detbench watch` (train/samples.h).
 * A failure is an ERROR event, never the evaluation's. */
static void write_samples(struct trainer *t, const struct eval_dets *dets)
{
	struct train_sample *s = NULL;
	int n = train_samples_from_eval(t->io.val, NULL, TRAIN_SAMPLES_SHOWN, t->gt, dets, TRAIN_SAMPLES_MIN_SCORE, &s);
	if (n < 0 || mkdirs(t->cfg.run_dir) ||
	    train_samples_write(t->cfg.run_dir, t->step, s, n, (const char *const *)t->io.val->class_names,
		    t->io.val->nclasses))
		metrics_event_add(t->metrics, METRICS_EV_ERROR, t->step, frac_epoch(t), elapsed(t), "samples", NAN, NAN,
			"%s", det_error_message());
	train_samples_free(s, n > 0 ? n : 0);
}

/* A loader over ds in order, no augmentation, at the eval graph's size */
static struct loader *eval_loader(struct trainer *t, const struct dataset *ds)
{
	int64_t N, H, W;
	graph_batch(t->io.eval_graph, t->io.eval_input, &N, &H, &W);
	struct loader_config lc;
	loader_config_default(&lc);
	lc.batch = (size_t)N;
	lc.size = (int)H;
	lc.workers = t->cfg.workers;
	lc.seed = t->cfg.seed;
	memcpy(lc.mean, t->cfg.mean, sizeof lc.mean);
	memcpy(lc.std, t->cfg.std, sizeof lc.std);
	lc.letterbox = t->cfg.letterbox;
	return loader_new_config(ds, NULL, NULL, &lc);
}

/* The evaluation graph's detections on every image of ds, in order, against
 * gt's ids (with the EMA weights when cfg.eval_ema and there are some);
 * *detsp is the caller's. */
static int detect(struct trainer *t, const struct dataset *ds, const struct eval_gt *gt, struct eval_dets **detsp)
{
	struct nn_graph *g = t->io.eval_graph;
	struct loader *l = eval_loader(t, ds);
	struct eval_dets *dets = eval_dets_new();
	int rc = 0;
	*detsp = NULL;
	if (!l || !dets) {
		loader_free(l);
		eval_dets_free(dets);
		return det_error_code() ? det_error_code() : DET_ENOMEM;
	}
	int swapped = t->cfg.eval_ema && optim_ema_weights(t->io.opt) && optim_ema_swap(t->io.opt) == 0;
	nn_graph_set_train(g, 0);
	for (;;) {
		const struct loader_batch *b;
		if ((rc = loader_next(l, &b)) || (rc = set_images(g, t->io.eval_input, b)) || (rc = nn_graph_forward(g)) ||
		    (rc = t->io.task.decode(t->io.task.ud, g, b, ds, gt, dets)) || b->last_in_epoch)
			break;
	}
	if (swapped)
		optim_ema_swap(t->io.opt);
	loader_free(l);
	if (rc) {
		eval_dets_free(dets);
		return rc;
	}
	*detsp = dets;
	return 0;
}

static int evaluate(struct trainer *t)
{
	if (!t->io.eval_graph || !t->io.val || !t->io.task.decode)
		return det_error_set(DET_EINVAL, "trainer: no validation set, evaluation graph or decoder to evaluate with");
	int prev_state;
	{
		struct metrics_progress p;
		metrics_progress_get(t->metrics, &p);
		prev_state = p.state;
	}
	progress(t, METRICS_EVALUATING, "evaluating");
	int rc = 0;
	struct eval_dets *dets = NULL;
	if (!t->gt)
		rc = eval_gt_from_dataset(t->io.val, &t->gt);
	if (!rc)
		rc = detect(t, t->io.val, t->gt, &dets);
	struct eval_result *r = NULL;
	if (!rc)
		rc = eval_coco_run(t->gt, dets, &r);
	if (rc) {
		eval_dets_free(dets);
		metrics_event_add(t->metrics, METRICS_EV_ERROR, t->step, frac_epoch(t), elapsed(t), "eval", NAN, NAN,
			"evaluation failed: %s", det_error_message());
		progress(t, prev_state, NULL);
		return rc;
	}
	/* into the store */
	struct metrics_eval me;
	memset(&me, 0, sizeof me);
	me.step = t->step;
	me.epoch = frac_epoch(t);
	me.t = elapsed(t);
	memcpy(me.stats, r->stats, sizeof me.stats);
	me.ncats = r->ncats;
	me.cls = calloc((size_t)r->ncats + 1, sizeof *me.cls);
	for (int k = 0; me.cls && k < r->ncats; k++) {
		snprintf(me.cls[k].name, sizeof me.cls[k].name, "%s", t->gt->cat_names[k]);
		me.cls[k].ap = r->cls[k].ap;
		me.cls[k].ap50 = r->cls[k].ap50;
		me.cls[k].ap75 = r->cls[k].ap75;
		me.cls[k].ngt = r->cls[k].ngt;
		me.cls[k].ndet = r->cls[k].ndet;
	}
	if (!me.cls)
		me.ncats = 0;
	metrics_eval_add(t->metrics, &me);
	free(me.cls);
	t->last_eval_t = elapsed(t);
	metrics_event_add(t->metrics, METRICS_EV_EVAL, t->step, frac_epoch(t), elapsed(t), "AP", NAN, r->stats[0],
		"eval at step %lld: AP %.4f AP50 %.4f", (long long)t->step, r->stats[0], r->stats[1]);
	if (t->cfg.run_dir[0])
		write_samples(t, dets);
	/* keep it; take a copy of the GT for the keeper (the trainer keeps t->gt) */
	/* early stopping and best.ckpt */
	const char *metric = t->cfg.es_metric[0] ? t->cfg.es_metric : "AP";
	double v = eval_figure(r, metric), ap = r->stats[0];
	struct eval_gt *gt_copy = NULL;
	eval_gt_from_dataset(t->io.val, &gt_copy);
	pthread_mutex_lock(&t->mu); /* trainer_eval_take may run on the main thread */
	eval_result_free(t->last_r);
	eval_dets_free(t->last_dets);
	eval_gt_free(t->last_gt);
	t->last_r = r;
	t->last_dets = dets;
	t->last_gt = gt_copy;
	t->last_eval_step = t->step;
	pthread_mutex_unlock(&t->mu);

	int better;
	if (t->cfg.es_mode == TRAINER_ES_MIN)
		better = isfinite(v) && (!isfinite(t->best) || v < t->best - t->cfg.es_min_delta);
	else
		better = isfinite(v) && (!isfinite(t->best) || v > t->best + t->cfg.es_min_delta);
	if (better) {
		t->best = v;
		t->best_step = t->step;
		t->bad_evals = 0;
		if (t->cfg.run_dir[0])
			save_ckpt(t, "best.ckpt");
	} else {
		t->bad_evals++;
	}
	progress(t, prev_state == METRICS_EVALUATING ? METRICS_TRAINING : prev_state, NULL);
	struct trainer_event ev = { .kind = TRAINER_EV_EVAL, .step = t->step, .epoch = frac_epoch(t),
		.state = prev_state, .loss = ap };
	event_push(t, &ev);
	return 0;
}

int trainer_evaluate(struct trainer *t)
{
	if (trainer_running(t))
		return det_error_set(DET_EINVAL, "trainer: evaluate while training runs: send an eval command instead");
	return evaluate(t);
}

void trainer_eval_take(struct trainer *t, struct eval_gt **gt, struct eval_dets **dets, struct eval_result **r)
{
	pthread_mutex_lock(&t->mu);
	*gt = t->last_gt;
	*dets = t->last_dets;
	*r = t->last_r;
	t->last_gt = NULL;
	t->last_dets = NULL;
	t->last_r = NULL;
	pthread_mutex_unlock(&t->mu);
}

int trainer_eval_copy(struct trainer *t, struct eval_gt **gtp, struct eval_dets **detsp, struct eval_result **rp)
{
	struct eval_dets *dets = eval_dets_new();
	struct eval_gt *gt = NULL;
	struct eval_result *r = NULL;
	int rc = 0;
	*gtp = NULL, *detsp = NULL, *rp = NULL;
	if (!dets)
		return det_error_set(DET_ENOMEM, "trainer: out of memory copying an evaluation");
	pthread_mutex_lock(&t->mu);
	if (!t->last_dets || !t->io.val)
		rc = det_error_set(DET_EINVAL, "trainer: no evaluation yet");
	else if (t->last_dets->n && !(dets->boxes = malloc(t->last_dets->n * sizeof *dets->boxes)))
		rc = det_error_set(DET_ENOMEM, "trainer: out of memory copying %zu detections", t->last_dets->n);
	else if (t->last_dets->n) {
		memcpy(dets->boxes, t->last_dets->boxes, t->last_dets->n * sizeof *dets->boxes);
		dets->n = dets->cap = t->last_dets->n;
	}
	pthread_mutex_unlock(&t->mu);
	if (rc || (rc = eval_gt_from_dataset(t->io.val, &gt)) || (rc = eval_coco_run(gt, dets, &r))) {
		eval_gt_free(gt);
		eval_dets_free(dets);
		return rc;
	}
	*gtp = gt, *detsp = dets, *rp = r;
	return 0;
}

const struct dataset *trainer_val(struct trainer *t)
{
	return t->io.val;
}

int trainer_eval_samples(struct trainer *t, int n, double min_score, struct train_sample **out, int64_t *step)
{
	const struct dataset *ds = t->io.val;
	struct eval_dets *few = eval_dets_new();
	int rc = 0, have;
	*out = NULL;
	if (!few)
		return det_error_set(DET_ENOMEM, "trainer: out of memory");
	if (!ds || n <= 0) {
		eval_dets_free(few);
		return 0;
	}
	if ((size_t)n > ds->nimages)
		n = (int)ds->nimages;
	pthread_mutex_lock(&t->mu);
	have = t->last_dets && t->last_gt;
	*step = t->last_eval_step;
	long gidx[TRAIN_SAMPLES_MAX];
	if (n > TRAIN_SAMPLES_MAX)
		n = TRAIN_SAMPLES_MAX;
	for (int j = 0; have && j < n; j++)
		gidx[j] = eval_gt_image_index(t->last_gt, ds->images[j].id);
	for (size_t k = 0; have && k < t->last_dets->n && rc == 0; k++) {
		const struct eval_box *e = &t->last_dets->boxes[k];
		if (e->score < min_score)
			continue;
		for (int j = 0; j < n; j++)
			if (gidx[j] == e->img) {
				double bb[4] = { e->x, e->y, e->w, e->h };
				rc = eval_dets_add(few, e->img, e->cat, bb, e->score);
				break;
			}
	}
	pthread_mutex_unlock(&t->mu);
	if (!have || rc) {
		eval_dets_free(few);
		return rc;
	}
	/* the GT built from the same dataset has the same image and category
	 * indices as the trainer's */
	struct eval_gt *gt = NULL;
	if ((rc = eval_gt_from_dataset(ds, &gt)) == 0)
		rc = train_samples_from_eval(ds, NULL, n, gt, few, min_score, out);
	eval_gt_free(gt);
	eval_dets_free(few);
	return rc;
}

int trainer_predict(struct trainer *t, const struct dataset *ds, struct eval_gt **gtp, struct eval_dets **detsp)
{
	if (trainer_running(t))
		return det_error_set(DET_EINVAL, "trainer: predict while training runs");
	if (!t->io.eval_graph || !t->io.task.decode)
		return det_error_set(DET_EINVAL, "trainer: no evaluation graph or decoder to predict with");
	struct eval_gt *gt = NULL;
	int rc = eval_gt_from_dataset(ds, &gt);
	if (rc)
		return rc;
	struct eval_dets *dets = NULL;
	if ((rc = detect(t, ds, gt, &dets))) {
		eval_gt_free(gt);
		return rc;
	}
	*gtp = gt;
	*detsp = dets;
	return 0;
}

/* The loader's boxes skip those the resize made empty: the task gets each
 * image's dataset boxes instead (mapped by b->transform, empty ones left
 * out and NaN), so out[k] is dataset box k in eval_gt_from_dataset's order. */
int trainer_gt_losses(struct trainer *t, const struct dataset *ds, float **out, size_t *n)
{
	*out = NULL, *n = 0;
	if (trainer_running(t))
		return det_error_set(DET_EINVAL, "trainer: gt_losses while training runs");
	if (!t->io.eval_graph || !t->io.task.gt_losses)
		return det_error_set(DET_EINVAL, "trainer: no evaluation graph or per-box loss to compute with");
	size_t maxb = 1, nb = 0;
	for (size_t i = 0; i < ds->nimages; i++) {
		nb += ds->images[i].box_count;
		if (ds->images[i].box_count > maxb)
			maxb = ds->images[i].box_count;
	}
	int64_t N, H, W;
	graph_batch(t->io.eval_graph, t->io.eval_input, &N, &H, &W);
	float *res = malloc((nb + 1) * sizeof *res), *boxes = malloc((size_t)N * maxb * 4 * sizeof *boxes);
	float *loss = malloc((size_t)N * maxb * sizeof *loss);
	int32_t *cls = malloc((size_t)N * maxb * sizeof *cls);
	size_t *first = malloc((ds->nimages + 1) * sizeof *first), *src = malloc((size_t)N * maxb * sizeof *src);
	int *counts = malloc((size_t)N * sizeof *counts);
	struct loader *l = res && boxes && loss && cls && first && src && counts ? eval_loader(t, ds) : NULL;
	int rc = 0;
	if (!l) {
		rc = det_error_code() ? det_error_code() : det_error_set(DET_ENOMEM, "trainer: out of memory for gt_losses");
		goto done;
	}
	first[0] = 0;
	for (size_t i = 0; i < ds->nimages; i++)
		first[i + 1] = first[i] + ds->images[i].box_count;
	for (size_t k = 0; k < nb; k++)
		res[k] = NAN;
	int swapped = t->cfg.eval_ema && optim_ema_weights(t->io.opt) && optim_ema_swap(t->io.opt) == 0;
	nn_graph_set_train(t->io.eval_graph, 0);
	for (;;) {
		const struct loader_batch *b;
		if ((rc = loader_next(l, &b)))
			break;
		struct loader_batch bb = *b;
		size_t m = 0;
		bb.boxes = boxes, bb.classes = cls, bb.counts = counts, bb.max_boxes = (int)maxb;
		for (int i = 0; i < b->n; i++) {
			const size_t img = b->indices[i];
			const struct dataset_box *db = dataset_image_boxes(ds, img);
			const float *tf = b->transform + 4 * i;
			counts[i] = 0;
			for (size_t j = 0; j < ds->images[img].box_count; j++) {
				float *x = boxes + ((size_t)i * maxb + (size_t)counts[i]) * 4;
				x[0] = db[j].x0 * tf[0] + tf[2], x[1] = db[j].y0 * tf[1] + tf[3];
				x[2] = db[j].x1 * tf[0] + tf[2], x[3] = db[j].y1 * tf[1] + tf[3];
				if (x[2] - x[0] <= 0 || x[3] - x[1] <= 0)
					continue;
				cls[(size_t)i * maxb + (size_t)counts[i]++] = db[j].cls;
				src[m++] = first[img] + j;
			}
		}
		if ((rc = set_images(t->io.eval_graph, t->io.eval_input, b)) || (rc = nn_graph_forward(t->io.eval_graph)) ||
		    (rc = t->io.task.gt_losses(t->io.task.ud, t->io.eval_graph, &bb, loss)))
			break;
		for (size_t k = 0; k < m; k++)
			res[src[k]] = loss[k];
		if (b->last_in_epoch)
			break;
	}
	if (swapped)
		optim_ema_swap(t->io.opt);
done:
	loader_free(l);
	free(boxes), free(loss), free(cls), free(first), free(src), free(counts);
	if (rc) {
		free(res);
		return rc;
	}
	*out = res;
	*n = nb;
	return 0;
}

/* ---- checkpoints ---- */

static int mkdirs(const char *path)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0777) && errno != EEXIST)
				return det_error_set(DET_EIO, "can't create directory %s (%s)", buf, strerror(errno));
			*p = '/';
		}
	if (mkdir(buf, 0777) && errno != EEXIST)
		return det_error_set(DET_EIO, "can't create directory %s (%s)", buf, strerror(errno));
	return 0;
}

static const char *const weight_parts[] = { "cls", "box", "quality", "dfl" };

/* A schedule replaced live outlives the recipe's: the "schedule" section
 * holds it ("table N v1 ... vN" for an lr table, else sched_save's text), and
 * resuming puts it back. */
static int add_schedule(struct trainer *t, struct ckpt *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = 0;
	if (!f)
		return det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
	if (t->lr_table) {
		fprintf(f, "table %zu", t->n_lr);
		for (size_t i = 0; i < t->n_lr; i++)
			fprintf(f, " %.17g", t->lr_table[i]);
		fputc('\n', f);
	} else if (t->sched) {
		rc = sched_save(t->sched, f);
	}
	fclose(f);
	if (!rc)
		rc = ckpt_add(c, "schedule", buf, len);
	free(buf);
	return rc;
}

/* The schedule a checkpoint kept (see add_schedule) into *s or *table;
 * 0 with both NULL when it kept none. */
static int read_schedule(const struct ckpt *c, const char *path, struct sched **s, double **table, size_t *n)
{
	size_t len;
	const char *text = ckpt_get(c, "schedule", &len);
	*s = NULL, *table = NULL, *n = 0;
	if (!text)
		return 0;
	if (len > 6 && strncmp(text, "table ", 6) == 0) {
		char *copy = strndup(text, len), *p, *q;
		unsigned long long k = copy ? strtoull(copy + 6, &p, 10) : 0;
		double *v = copy && k ? malloc((size_t)k * sizeof *v) : NULL;
		if (!v) {
			free(copy);
			return det_error_set(k ? DET_ENOMEM : DET_EFORMAT, "%s: schedule section: %s", path,
				k ? "out of memory" : "an empty lr table");
		}
		for (size_t i = 0; i < k; i++, p = q) {
			v[i] = strtod(p, &q);
			if (q == p) {
				free(v), free(copy);
				return det_error_set(DET_EFORMAT, "%s: schedule section: %llu lr values expected, got %zu",
					path, k, i);
			}
		}
		free(copy);
		*table = v, *n = (size_t)k;
		return 0;
	}
	if (!(*s = sched_load(text, len)))
		return det_error_set(det_error_code(), "%s: %s", path, det_error_message());
	if (sched_check(*s)) {
		int rc = det_error_set(DET_EFORMAT, "%s: the saved schedule: %s", path, det_error_message());
		sched_free(*s);
		*s = NULL;
		return rc;
	}
	return 0;
}

static int build_ckpt(struct trainer *t, struct ckpt *c)
{
	int rc;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
	fprintf(f, "format trainer-1\nname %s\nstep %lld\nepoch %lld\nepoch_pos %zu\nbatch_number %zu\n", t->cfg.name,
		(long long)t->step, (long long)t->epoch, t->epoch_pos, t->batch_number);
	fprintf(f, "elapsed %.17g\nbest %.17g\nbest_step %lld\nbad_evals %d\nlr_scale %.17g\nlast_eval_t %.17g\n",
		elapsed(t), t->best, (long long)t->best_step, t->bad_evals, t->lr_scale, t->last_eval_t);
	fprintf(f, "seed %llu\nbatch %zu\naccumulate %d\nsize %d\nnan_skipped %lld\n", (unsigned long long)t->cfg.seed,
		t->cfg.batch, t->cfg.accumulate, t->cfg.size, (long long)t->nan_skipped);
	for (size_t i = 0; t->io.task.weight && i < sizeof weight_parts / sizeof *weight_parts; i++) {
		double w;
		if (t->io.task.weight(t->io.task.ud, weight_parts[i], NAN, &w) == 0)
			fprintf(f, "weight.%s %.17g\n", weight_parts[i], w);
	}
	det_error_clear();
	fclose(f);
	rc = ckpt_add(c, "meta", buf, len);
	free(buf);
	if (rc)
		return rc;
	unsigned char *w;
	size_t wn;
	if ((rc = ckpt_pack_store(nn_graph_store(t->io.train_graph), &w, &wn)))
		return rc;
	rc = ckpt_add(c, "weights", w, wn);
	free(w);
	if (rc)
		return rc;
	size_t on = optim_state_size(t->io.opt);
	unsigned char *o = malloc(on);
	if (!o)
		return det_error_set(DET_ENOMEM, "out of memory for the optimiser state");
	rc = optim_state_write(t->io.opt, o, on);
	if (!rc)
		rc = ckpt_add(c, "optim", o, on);
	free(o);
	if (rc)
		return rc;
	buf = NULL;
	len = 0;
	if (!(f = open_memstream(&buf, &len)))
		return det_error_set(DET_ENOMEM, "out of memory for a checkpoint");
	metrics_write_jsonl(t->metrics, f);
	fclose(f);
	rc = ckpt_add(c, "metrics", buf, len);
	free(buf);
	if (!rc && t->recipe)
		rc = ckpt_add(c, "recipe", t->recipe, strlen(t->recipe));
	if (!rc && t->sched_live)
		rc = add_schedule(t, c);
	return rc;
}

int trainer_save(struct trainer *t, const char *path)
{
	struct ckpt *c = ckpt_new();
	if (!c)
		return DET_ENOMEM;
	int rc = build_ckpt(t, c);
	if (!rc)
		rc = ckpt_write(c, path);
	ckpt_free(c);
	return rc;
}

static int save_ckpt(struct trainer *t, const char *file)
{
	if (!t->cfg.run_dir[0])
		return 0;
	char path[700];
	int rc = mkdirs(t->cfg.run_dir);
	snprintf(path, sizeof path, "%s/%s", t->cfg.run_dir, file);
	if (!rc)
		rc = trainer_save(t, path);
	if (rc)
		metrics_event_add(t->metrics, METRICS_EV_ERROR, t->step, frac_epoch(t), elapsed(t), "checkpoint", NAN, NAN,
			"checkpoint %s not written: %s", path, det_error_message());
	else
		metrics_event_add(t->metrics, METRICS_EV_CHECKPOINT, t->step, frac_epoch(t), elapsed(t), "checkpoint", NAN,
			NAN, "saved %s at step %lld", path, (long long)t->step);
	return rc;
}

static int kv(const struct ckpt *c, const char *key, double *v)
{
	return ckpt_kv_get(c, "meta", key, v);
}

int trainer_resume(struct trainer *t, const char *path)
{
	if (trainer_running(t))
		return det_error_set(DET_EINVAL, "trainer: resume while training runs");
	struct ckpt *c = ckpt_read(path);
	if (!c)
		return det_error_code();
	int rc = 0;
	double step, epoch, pos, number, el, best, best_step, bad, scale, last_eval, batch, acc;
	if ((rc = kv(c, "step", &step)) || (rc = kv(c, "epoch", &epoch)) || (rc = kv(c, "epoch_pos", &pos)) ||
	    (rc = kv(c, "batch_number", &number)) || (rc = kv(c, "elapsed", &el)) || (rc = kv(c, "best", &best)) ||
	    (rc = kv(c, "best_step", &best_step)) || (rc = kv(c, "bad_evals", &bad)) ||
	    (rc = kv(c, "lr_scale", &scale)) || (rc = kv(c, "last_eval_t", &last_eval)) ||
	    (rc = kv(c, "batch", &batch)) || (rc = kv(c, "accumulate", &acc)))
		goto out;
	if ((size_t)batch != t->cfg.batch || (int)acc != t->cfg.accumulate) {
		rc = det_error_set(DET_EINVAL, "%s: saved with batch %zu x %d accumulated, this experiment uses %zu x %d "
			"(the data order would differ)", path, (size_t)batch, (int)acc, t->cfg.batch, t->cfg.accumulate);
		goto out;
	}
	size_t wn, on, mn;
	const void *w = ckpt_get(c, "weights", &wn), *o = ckpt_get(c, "optim", &on);
	if (!w || !o) {
		rc = det_error_set(DET_EFORMAT, "%s: no %s section", path, w ? "optim" : "weights");
		goto out;
	}
	struct nn_store *s = nn_graph_store(t->io.train_graph);
	/* weights and optimiser must both load, or neither is changed */
	struct sched *saved_sched;
	double *saved_table;
	size_t saved_n;
	if ((rc = read_schedule(c, path, &saved_sched, &saved_table, &saved_n)))
		goto out;
	size_t nbytes = s->count * sizeof(float), sbytes = s->nstate * sizeof(float);
	float *keep = malloc(nbytes + sbytes + 4);
	if (!keep) {
		rc = det_error_set(DET_ENOMEM, "out of memory resuming");
		goto out;
	}
	memcpy(keep, s->data, nbytes);
	memcpy((char *)keep + nbytes, s->state, sbytes);
	struct ckpt_load_report rep;
	if ((rc = ckpt_unpack_store(s, w, wn, 1, &rep)) == 0 && (rc = optim_state_read(t->io.opt, o, on)) != 0) {
		memcpy(s->data, keep, nbytes);
		memcpy(s->state, (char *)keep + nbytes, sbytes);
	}
	free(keep);
	if (rc) {
		rc = det_error_set(rc, "%s: %s", path, det_error_message());
		sched_free(saved_sched);
		free(saved_table);
		goto out;
	}
	if (saved_sched || saved_table) {
		sched_free(t->sched);
		sched_free(t->sched_proto);
		free(t->lr_table);
		t->sched = saved_sched, t->sched_proto = NULL;
		t->lr_table = saved_table, t->n_lr = saved_n;
		t->planned = 0;
		t->sched_live = 1;
	}
	for (size_t i = 0; t->io.task.weight && i < sizeof weight_parts / sizeof *weight_parts; i++) {
		char key[32];
		double wv, old;
		snprintf(key, sizeof key, "weight.%s", weight_parts[i]);
		if (ckpt_kv_get(c, "meta", key, &wv) == 0)
			t->io.task.weight(t->io.task.ud, weight_parts[i], wv, &old);
	}
	det_error_clear();
	t->step = (int64_t)step;
	t->epoch = (int64_t)epoch;
	t->epoch_pos = (size_t)pos;
	t->batch_number = (size_t)number;
	t->elapsed_prev = el;
	t->best = best;
	t->best_step = (int64_t)best_step;
	t->bad_evals = (int)bad;
	t->lr_scale = scale;
	t->last_eval_t = last_eval;
	const char *m = ckpt_get(c, "metrics", &mn);
	metrics_clear(t->metrics);
	if (m && mn)
		metrics_read_jsonl(t->metrics, path, m, mn);
	metrics_event_add(t->metrics, METRICS_EV_INFO, t->step, frac_epoch(t), el, "resume", NAN, NAN,
		"resumed from %s at step %lld", path, (long long)t->step);
	if (t->sched_live && ckpt_get(c, "schedule", &mn)) {
		char desc[200] = "an lr table";
		if (t->sched)
			sched_describe(t->sched, desc, sizeof desc);
		metrics_event_add(t->metrics, METRICS_EV_INFO, t->step, frac_epoch(t), el, "schedule", NAN, NAN,
			"the schedule set during the run is restored: %s", desc);
	}
	if (t->cfg.run_dir[0]) {
		/* the log continues the checkpoint's history, not what came after it */
		char lp[700];
		snprintf(lp, sizeof lp, "%s/metrics.jsonl", t->cfg.run_dir);
		struct atomic_file af;
		if (mkdirs(t->cfg.run_dir) == 0 && atomic_file_open(&af, lp) == 0) {
			metrics_write_jsonl(t->metrics, af.f);
			atomic_file_commit(&af); /* a failure leaves the old log: the next line appended says more */
		}
	}
out:
	ckpt_free(c);
	return rc;
}

int trainer_find_checkpoint(const char *run_dir, char *out, size_t size)
{
	char path[700], why[2048] = "";
	snprintf(path, sizeof path, "%s/last.ckpt", run_dir);
	struct ckpt *c = ckpt_read(path);
	if (c) {
		ckpt_free(c);
		snprintf(out, size, "%s", path);
		return 0;
	}
	snprintf(why, sizeof why, "%s", det_error_message());
	DIR *d = opendir(run_dir);
	if (!d)
		return det_error_set(DET_EIO, "can't open run directory %s (%s)", run_dir, strerror(errno));
	struct dirent *e;
	double best_mtime = -1;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".ckpt") || !strcmp(e->d_name, "last.ckpt"))
			continue;
		snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
		struct stat st;
		if (stat(path, &st) || (double)st.st_mtime < best_mtime)
			continue;
		struct ckpt *x = ckpt_read(path);
		if (!x) {
			size_t k = strlen(why);
			snprintf(why + k, sizeof why - k, "; %s", det_error_message());
			continue;
		}
		ckpt_free(x);
		best_mtime = (double)st.st_mtime;
		snprintf(out, size, "%s", path);
	}
	closedir(d);
	if (best_mtime < 0)
		return det_error_set(DET_EIO, "no usable checkpoint in %s: %s", run_dir, why);
	return 0;
}

/* ---- the loop ---- */

/* A budget in minutes without a step count: lay the schedule over the steps
 * the remaining time is measured to hold (re-estimated as the speed
 * settles; such a run is not step-for-step reproducible, since timing
 * decides the plan). */
static void replan(struct trainer *t)
{
	int64_t done = t->step - t->session_step0;
	if (!t->sched_proto || t->lr_table)
		return;
	if (done == 10) /* the first steps (planning, loader start) are slow: measure after them */
		t->t_mark = now_s();
	if (done < 30 || (done != 30 && t->step % 50 != 0))
		return;
	double rate = (now_s() - t->t_mark) / (double)(done - 10), left = t->cfg.minutes * 60 - elapsed(t);
	int64_t est = t->step + (int64_t)(left / rate);
	if (est > t->total_steps)
		est = t->total_steps;
	if (est <= t->step)
		est = t->step + 1;
	struct sched *s = sched_clone(t->sched_proto);
	if (!s)
		return;
	sched_bind(s, t->base_lr, (double)est);
	if (sched_check(s)) {
		sched_free(s);
		return;
	}
	sched_free(t->sched);
	t->sched = s;
	int64_t before = t->planned;
	t->planned = est;
	/* a plan line only when the end moved by more than 5% (the log stays small) */
	if (before <= 0 || llabs(est - before) * 20 > before)
		publish_plan(t);
}

static int budget_over(struct trainer *t)
{
	return t->cfg.minutes > 0 && elapsed(t) >= t->cfg.minutes * 60;
}

static int loop(struct trainer *t)
{
	int rc = 0, state = METRICS_DONE;
	t->t0 = now_s();
	t->session_step0 = t->step;
	if (t->cfg.run_dir[0]) {
		char lp[700];
		if ((rc = mkdirs(t->cfg.run_dir)))
			goto end;
		snprintf(lp, sizeof lp, "%s/metrics.jsonl", t->cfg.run_dir);
		if ((rc = metrics_log_open(t->metrics, lp)))
			goto end;
	}
	nn_graph_set_train(t->io.train_graph, 1);
	if ((rc = start_loader(t)))
		goto end;
	snprintf(t->message, sizeof t->message, "training");
	state_event(t, METRICS_TRAINING, t->step ? "resumed training" : "training");
	publish_plan(t);
	int can_eval = t->io.eval_graph && t->io.val && t->io.task.decode;
	for (;;) {
		drain_commands(t);
		if (t->stop_req) {
			state = METRICS_STOPPED;
			snprintf(t->message, sizeof t->message, "stopped at step %lld", (long long)t->step);
			break;
		}
		if (t->step >= t->total_steps) {
			snprintf(t->message, sizeof t->message, "done: %lld steps", (long long)t->step);
			break;
		}
		if (budget_over(t)) {
			snprintf(t->message, sizeof t->message, "done: the %g-minute budget ran out at step %lld",
				t->cfg.minutes, (long long)t->step);
			break;
		}
		int64_t epoch_before = t->epoch;
		rc = train_step(t);
		if (rc >= 0)
			replan(t);
		if (rc == DET_ENUM && t->cfg.nan_policy == TRAINER_NAN_SKIP) {
			t->nan_skipped++;
			rc = 0;
			continue;
		}
		if (rc < 0) {
			if (rc != DET_ENUM)
				snprintf(t->message, sizeof t->message, "step %lld failed: %s", (long long)t->step + 1,
					det_error_message());
			break;
		}
		if (rc == 1) {
			rc = 0;
			int64_t ended = t->epoch; /* epochs completed */
			(void)epoch_before;
			struct trainer_event ev = { .kind = TRAINER_EV_EPOCH, .step = t->step, .epoch = frac_epoch(t),
				.epoch_index = ended, .state = METRICS_TRAINING };
			event_push(t, &ev);
			int last = t->cfg.steps <= 0 && t->cfg.epochs > 0 && ended >= t->cfg.epochs;
			if (can_eval && t->cfg.eval_epochs > 0 && ended % t->cfg.eval_epochs == 0 && !last)
				evaluate(t);
			if (t->cfg.save_epochs > 0 && ended % t->cfg.save_epochs == 0) {
				char f[64];
				snprintf(f, sizeof f, "epoch_%lld.ckpt", (long long)ended);
				save_ckpt(t, f);
			}
			save_ckpt(t, "last.ckpt");
		}
		if (can_eval && t->cfg.eval_minutes > 0 && elapsed(t) - t->last_eval_t >= t->cfg.eval_minutes * 60 &&
		    t->step < t->total_steps && !budget_over(t))
			evaluate(t);
		if (t->cfg.es_metric[0] && t->bad_evals >= t->cfg.es_patience && t->cfg.es_patience > 0) {
			snprintf(t->message, sizeof t->message, "early stop at step %lld: %s did not improve by %g for %d "
				"evaluations (best %.4f at step %lld)", (long long)t->step, t->cfg.es_metric, t->cfg.es_min_delta,
				t->bad_evals, t->best, (long long)t->best_step);
			metrics_event_add(t->metrics, METRICS_EV_EARLY_STOP, t->step, frac_epoch(t), elapsed(t),
				t->cfg.es_metric, NAN, t->best, "%s", t->message);
			break;
		}
	}
	loader_free(t->loader);
	t->loader = NULL;
	if (rc < 0) {
		state = METRICS_FAILED;
	} else if (state == METRICS_DONE && can_eval &&
	           (metrics_eval_count(t->metrics) == 0 || t->last_eval_t < elapsed(t) - 1e-9)) {
		/* the final evaluation, unless one just ran */
		struct metrics_eval last;
		int fresh = 0;

		if (metrics_eval_get(t->metrics, -1, &last) == 0) {
			fresh = last.step == t->step;
			metrics_eval_fini(&last);
		}
		if (!fresh)
			evaluate(t);
	}
	save_ckpt(t, "last.ckpt");
end:
	if (rc < 0 && !t->message[0])
		snprintf(t->message, sizeof t->message, "%s", det_error_message());
	state_event(t, state, t->message);
	metrics_log_close(t->metrics);
	struct trainer_event ev = { .kind = TRAINER_EV_DONE, .step = t->step, .epoch = frac_epoch(t), .state = state };
	event_push(t, &ev);
	t->status = rc < 0 ? rc : 0;
	t->elapsed_prev = elapsed(t);
	t->t0 = 0;
	return t->status;
}

static void *thread_main(void *arg)
{
	struct trainer *t = arg;
	loop(t);
	pthread_mutex_lock(&t->mu);
	t->finished = 1;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int trainer_start(struct trainer *t)
{
	if (t->started && !t->finished)
		return det_error_set(DET_EINVAL, "trainer: already training");
	if (t->started) {
		pthread_join(t->thread, NULL);
		t->started = 0;
	}
	t->finished = 0;
	t->stop_req = 0;
	t->paused = 0;
	t->message[0] = 0;
	t->started = 1;
	if (pthread_create(&t->thread, NULL, thread_main, t)) {
		t->started = 0;
		return det_error_set(DET_ENOMEM, "trainer: can't start a thread");
	}
	return 0;
}

int trainer_run(struct trainer *t)
{
	t->stop_req = 0;
	t->paused = 0;
	t->message[0] = 0;
	return loop(t);
}

int trainer_wait(struct trainer *t)
{
	if (t->started) {
		pthread_join(t->thread, NULL);
		t->started = 0;
		t->finished = 0;
	}
	if (t->status)
		det_error_set(t->status, "%s", t->message);
	return t->status;
}

int trainer_running(struct trainer *t)
{
	pthread_mutex_lock(&t->mu);
	int r = t->started && !t->finished;
	pthread_mutex_unlock(&t->mu);
	return r;
}
