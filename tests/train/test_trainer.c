/* test_trainer: the training loop with a small conv net whose "loss" is
 * computed here (squared error against a box mask) and a decoder that
 * scores each GT box with the net's mean output. Checks: losses fall;
 * stopping at step k, saving and resuming gives the same later losses bit
 * for bit as an uninterrupted run; a planted NaN is caught, named (loss
 * part and first non-finite node) and leaves the weights as they were;
 * pause/resume/stop and live hyper-parameter changes are applied at step
 * boundaries and logged; accumulation; early stopping; the budget. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "data/loader.h"
#include "eval/coco_eval.h"
#include "nn/graph.h"
#include "nn/optim.h"
#include "tests/tap.h"
#include "train/checkpoint.h"
#include "train/sched.h"
#include "train/trainer.h"

#define S 32
#define B 4

struct net {
	struct nn_graph *g, *ge;
	int in, out, ein, eout;
	double weight;       /* the "cls" part's weight */
	int plant_nan_at;    /* call number of loss() that gets a NaN input (0: never) */
	int calls;
};

static int build(struct nn_graph *g, int n, int *in, int *out)
{
	struct tensor_init_spec init = { TENSOR_INIT_KAIMING_NORMAL, 1, 0 }, one = { TENSOR_INIT_CONSTANT, 1, 0 },
		zero = { TENSOR_INIT_CONSTANT, 0, 0 };
	int64_t ish[4] = { n, 3, S, S }, w1[4] = { 8, 3, 3, 3 }, c8[1] = { 8 }, w2[4] = { 1, 8, 1, 1 }, c1[1] = { 1 };
	*in = nn_graph_input(g, "input", 4, ish);
	int y = nn_graph_conv2d(g, "stem", *in, nn_graph_param(g, "stem.weight", 4, w1, &init, 0), -1, 2, 1, 1, 1);
	y = nn_graph_batchnorm(g, "bn", y, nn_graph_param(g, "bn.weight", 1, c8, &one, NN_PARAM_NORM),
		nn_graph_param(g, "bn.bias", 1, c8, &zero, NN_PARAM_NORM | NN_PARAM_BIAS), 1e-5f, 0.1f);
	y = nn_graph_unary(g, NN_OP_RELU, "relu", y);
	y = nn_graph_conv2d(g, "head", y, nn_graph_param(g, "head.weight", 4, w2, &init, 0),
		nn_graph_param(g, "head.bias", 1, c1, &zero, NN_PARAM_BIAS), 1, 0, 1, 1);
	*out = y;
	return nn_graph_output(g, y);
}

/* loss = mean over the b->n images' cells of (y - mask)^2, mask = 1 inside
 * a box (in output cells), 0 elsewhere; reported as part "cls" (weighted) */
static int net_loss(void *ud, struct nn_graph *g, const struct loader_batch *b, struct trainer_losses *out)
{
	struct net *m = ud;
	m->calls++;
	const int H = S / 2;
	float *y = nn_graph_value(g, m->out), *dy = nn_graph_grad(g, m->out);
	const struct nn_node *nd = nn_graph_node(g, m->out);
	memset(dy, 0, (size_t)nd->numel * sizeof(float));
	if (m->plant_nan_at && m->calls == m->plant_nan_at)
		y[5] = NAN; /* as if the head had produced it */
	double sum = 0;
	size_t cnt = (size_t)b->n * H * H;
	for (int i = 0; i < b->n; i++)
		for (int yy = 0; yy < H; yy++)
			for (int xx = 0; xx < H; xx++) {
				float cx = (xx + 0.5f) * 2, cy = (yy + 0.5f) * 2, tgt = 0;
				for (int k = 0; k < b->counts[i]; k++) {
					const float *bx = b->boxes + ((size_t)i * b->max_boxes + k) * 4;
					if (cx >= bx[0] && cx <= bx[2] && cy >= bx[1] && cy <= bx[3])
						tgt = 1;
				}
				size_t j = ((size_t)i * H + yy) * H + xx;
				double d = y[j] - tgt;
				sum += d * d;
				dy[j] = (float)(m->weight * 2 * d / (double)cnt);
			}
	out->n = 1;
	out->names[0] = "cls";
	out->values[0] = sum / (double)cnt;
	out->total = m->weight * out->values[0];
	out->num_pos = 0;
	return 0;
}

/* one detection per GT box, scored by the net's mean output inside it */
static int net_decode(void *ud, struct nn_graph *g, const struct loader_batch *b, const struct dataset *ds,
	const struct eval_gt *gt, struct eval_dets *dets)
{
	struct net *m = ud;
	const float *y = nn_graph_value(g, m->eout);
	const int H = S / 2;
	for (int i = 0; i < b->n; i++) {
		size_t idx = b->indices[i];
		const struct dataset_image *im = &ds->images[idx];
		const struct dataset_box *bx = dataset_image_boxes(ds, idx);
		long gi = eval_gt_image_index(gt, im->id);
		double score = 0;
		for (int j = 0; j < H * H; j++)
			score += y[(size_t)i * H * H + j];
		score = 1 / (1 + exp(-score / (H * H)));
		for (size_t k = 0; k < im->box_count; k++) {
			double box[4] = { bx[k].x0, bx[k].y0, bx[k].x1 - bx[k].x0, bx[k].y1 - bx[k].y0 };
			if (k % 3 == 2)
				box[0] += box[2] * 0.4; /* some poorly placed boxes: AP < 1 */
			eval_dets_add(dets, (int32_t)gi, eval_gt_cat_index(gt, ds->class_ids ? ds->class_ids[bx[k].cls] : bx[k].cls),
				box, score);
		}
	}
	return 0;
}

static int net_weight(void *ud, const char *part, double value, double *old)
{
	struct net *m = ud;
	if (strcmp(part, "cls"))
		return det_error_set(DET_EINVAL, "no loss part '%s' (this model has: cls)", part);
	*old = m->weight;
	if (!isnan(value))
		m->weight = value;
	return 0;
}

struct setup {
	struct net net;
	struct optim *opt;
	struct sched *sched;
	struct trainer *t;
	struct trainer_config cfg;
	struct trainer_io io;
};

static struct dataset *train_ds, *val_ds;

static void setup(struct setup *s, const char *run_dir, int64_t steps, int accumulate)
{
	memset(s, 0, sizeof *s);
	s->net.weight = 1;
	s->net.g = nn_graph_new(NULL, 7);
	build(s->net.g, B, &s->net.in, &s->net.out);
	s->net.ge = nn_graph_new(nn_graph_store(s->net.g), 7);
	build(s->net.ge, 8, &s->net.ein, &s->net.eout);
	struct optim_config oc;
	optim_config_default(OPTIM_ADAMW, &oc);
	oc.lr = 0.01;
	oc.ema = 0.9;
	oc.clip = 10;
	s->opt = optim_new(OPTIM_ADAMW, &oc);
	nn_store_bind_optim(nn_graph_store(s->net.g), s->opt);
	s->sched = sched_warmup_new(sched_new(SCHED_COSINE), 5, 0.1);
	sched_bind(s->sched, 0.01, (double)steps);
	trainer_config_default(&s->cfg);
	snprintf(s->cfg.name, sizeof s->cfg.name, "test");
	if (run_dir)
		snprintf(s->cfg.run_dir, sizeof s->cfg.run_dir, "%s", run_dir);
	s->cfg.steps = steps;
	s->cfg.batch = B;
	s->cfg.size = S;
	s->cfg.workers = 2;
	s->cfg.accumulate = accumulate;
	s->cfg.eval_epochs = 0;
	s->cfg.seed = 3;
	s->io.train_graph = s->net.g;
	s->io.train_input = s->net.in;
	s->io.eval_graph = s->net.ge;
	s->io.eval_input = s->net.ein;
	s->io.opt = s->opt;
	s->io.sched = s->sched;
	s->io.train = train_ds;
	s->io.val = val_ds;
	s->io.task = (struct trainer_task){ &s->net, net_loss, net_decode, net_weight };
	s->io.recipe = "-- a recipe\nreturn 1\n";
}

static void start(struct setup *s)
{
	s->t = trainer_new(&s->cfg, &s->io);
	if (!s->t)
		tap_diag("trainer_new: %s", det_error_message());
}

static void teardown(struct setup *s)
{
	trainer_free(s->t);
	optim_free(s->opt);
	sched_free(s->sched);
	nn_graph_free(s->net.ge);
	nn_graph_free(s->net.g);
}

static size_t losses(struct trainer *t, double *out, size_t max)
{
	struct metrics_point p[256];
	size_t n = metrics_series_copy(trainer_metrics(t), "loss", p, max < 256 ? max : 256, NULL);
	for (size_t i = 0; i < n; i++)
		out[i] = p[i].value;
	return n;
}

int main(void)
{
	det_threads_set(2);
	struct fashion_config fc;
	fashion_config_default(&fc);
	fc.images = 24;
	fc.size = S;
	fc.min_scale = 0.3f;
	fc.max_scale = 0.6f;
	fc.max_objects = 3;
	if (fashion_dataset_new(&fc, &train_ds)) {
		printf("1..0 # SKIP no Fashion-MNIST: %s\n", det_error_message());
		return 0;
	}
	fc.split = FASHION_TEST;
	fc.images = 12;
	fc.seed = 2;
	ok(fashion_dataset_new(&fc, &val_ds) == 0, "datasets");
	char dir[] = "/tmp/test_trainer_XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char rd[256], ck[300];

	/* 1. an uninterrupted run of 16 steps */
	struct setup a;
	setup(&a, NULL, 16, 1);
	start(&a);
	ok(a.t && trainer_run(a.t) == 0, "16 steps run: %s", a.t ? trainer_message(a.t) : "");
	double la[32];
	size_t na = losses(a.t, la, 32);
	ok(na == 16 && la[15] < la[0], "loss falls (%g -> %g)", la[0], la[15]);
	ok(trainer_step(a.t) == 16, "16 steps taken");

	/* 2. the same run stopped after 7 steps into a checkpoint, then resumed
	 *    by a fresh process-like setup (other init seed overwritten by it) */
	snprintf(rd, sizeof rd, "%s/run", dir);
	struct setup b;
	setup(&b, rd, 16, 1);
	b.cfg.steps = 7; /* the same schedule (bound to 16 steps), an earlier stop */
	start(&b);
	ok(b.t && trainer_run(b.t) == 0, "first 7 steps: %s", b.t ? trainer_message(b.t) : "");
	snprintf(ck, sizeof ck, "%s/last.ckpt", rd);
	ok(access(ck, F_OK) == 0, "last.ckpt written");
	double lb[32];
	size_t nb = losses(b.t, lb, 32);
	ok(nb == 7 && memcmp(lb, la, 7 * sizeof *lb) == 0, "the first 7 losses equal the uninterrupted run's");
	teardown(&b);

	struct setup c;
	setup(&c, rd, 16, 1);
	/* scramble the weights: the checkpoint must restore them */
	struct nn_store *cs = nn_graph_store(c.net.g);
	for (size_t i = 0; i < cs->count; i++)
		cs->data[i] = 0.5f;
	start(&c);
	char found[700];
	ok(trainer_find_checkpoint(rd, found, sizeof found) == 0 && strstr(found, "last.ckpt"), "checkpoint found");
	ok(c.t && trainer_resume(c.t, found) == 0, "resumed: %s", det_error_message());
	ok(trainer_step(c.t) == 7, "at step 7");
	ok(trainer_run(c.t) == 0, "resumed run finishes: %s", trainer_message(c.t));
	double lc[32];
	size_t nc = losses(c.t, lc, 32);
	ok(nc == 16, "metrics hold all 16 steps (%zu)", nc);
	int same = nc == 16;
	for (size_t i = 7; same && i < 16; i++)
		same = memcmp(&lc[i], &la[i], sizeof(double)) == 0;
	ok(same, "steps 8..16 after resuming are bit-identical to the uninterrupted run");
	if (!same)
		for (size_t i = 0; i < nc && i < 16; i++)
			tap_diag("step %zu: %.17g vs %.17g", i + 1, lc[i], la[i]);
	struct nn_store *as = nn_graph_store(a.net.g);
	ok(memcmp(as->data, cs->data, as->count * sizeof(float)) == 0 &&
	   memcmp(as->state, cs->state, as->nstate * sizeof(float)) == 0, "final weights and BN statistics identical");
	teardown(&c);

	/* 3. a planted NaN: caught, named, weights as before the step */
	struct setup d;
	setup(&d, NULL, 10, 1);
	d.net.plant_nan_at = 4;
	start(&d);
	struct nn_store *ds = nn_graph_store(d.net.g);
	int rc = trainer_run(d.t);
	ok(rc == DET_ENUM, "run fails with DET_ENUM (%d)", rc);
	tap_diag("%s", trainer_message(d.t));
	ok(strstr(trainer_message(d.t), "non-finite loss in cls at step 4") != NULL, "names the loss part and step");
	ok(strstr(trainer_message(d.t), "first non-finite") == NULL ||
	   strstr(trainer_message(d.t), "loss computation itself") == NULL, "one diagnosis");
	ok(trainer_step(d.t) == 3, "3 steps taken, the 4th refused");
	/* weights equal those of a clean 3-step run */
	struct setup e;
	setup(&e, NULL, 10, 1);
	e.cfg.steps = 3;
	start(&e);
	trainer_run(e.t);
	struct nn_store *es = nn_graph_store(e.net.g);
	ok(memcmp(ds->data, es->data, ds->count * sizeof(float)) == 0 &&
	   memcmp(ds->state, es->state, ds->nstate * sizeof(float)) == 0,
	   "weights and running statistics are those before the failed step");
	struct metrics_event ev[16];
	size_t nev = metrics_events_copy(trainer_metrics(d.t), 0, ev, 16);
	int nan_ev = 0;
	for (size_t i = 0; i < nev; i++)
		nan_ev |= ev[i].kind == METRICS_EV_NAN && !strcmp(ev[i].key, "cls");
	ok(nan_ev, "a NaN event names the part");
	teardown(&e);
	/* NaN inside the graph: a weight poisoned -> the first node named */
	d.net.plant_nan_at = 0;
	trainer_free(d.t);
	ds->data[nn_graph_store(d.net.g)->params[nn_store_find(ds, "head.weight")].offset] = NAN;
	start(&d);
	ok(trainer_run(d.t) == DET_ENUM && strstr(trainer_message(d.t), "first non-finite node: head"),
	   "a NaN weight is traced to its node: %s", trainer_message(d.t));
	teardown(&d);

	/* 4. on a thread: pause, live changes, resume, stop */
	struct setup f;
	setup(&f, NULL, 100000, 1);
	start(&f);
	ok(trainer_start(f.t) == 0, "thread started");
	while (trainer_step(f.t) < 3)
		usleep(2000);
	ok(trainer_pause(f.t) == 0, "pause sent");
	struct metrics_progress p;
	for (int i = 0; i < 500; i++) {
		metrics_progress_get(trainer_metrics(f.t), &p);
		if (p.state == METRICS_PAUSED)
			break;
		usleep(2000);
	}
	ok(p.state == METRICS_PAUSED, "paused");
	int64_t at = trainer_step(f.t);
	usleep(100000);
	ok(trainer_step(f.t) == at, "no step while paused (%lld)", (long long)at);
	struct trainer_cmd cmd;
	memset(&cmd, 0, sizeof cmd);
	cmd.kind = TRAINER_CMD_OPTIM;
	snprintf(cmd.key, sizeof cmd.key, "weight_decya");
	ok(trainer_command(f.t, &cmd) == DET_EINVAL && strstr(det_error_message(), "weight_decya"),
	   "a misspelt key fails at once, named: %s", det_error_message());
	snprintf(cmd.key, sizeof cmd.key, "weight_decay");
	cmd.value = 0.05;
	ok(trainer_command(f.t, &cmd) == 0, "weight_decay change queued");
	cmd.kind = TRAINER_CMD_WEIGHT;
	snprintf(cmd.key, sizeof cmd.key, "cls");
	cmd.value = 2;
	ok(trainer_command(f.t, &cmd) == 0, "loss weight change queued");
	memset(&cmd, 0, sizeof cmd);
	cmd.kind = TRAINER_CMD_SCHED;
	cmd.sched = sched_new(SCHED_CONSTANT);
	sched_bind(cmd.sched, 0.002, NAN);
	ok(trainer_command(f.t, &cmd) == 0, "schedule change queued");
	ok(trainer_resume_run(f.t) == 0, "resume sent");
	while (trainer_step(f.t) < at + 3)
		usleep(2000);
	ok(trainer_stop(f.t) == 0, "stop sent");
	ok(trainer_wait(f.t) == 0, "thread ends cleanly: %s", trainer_message(f.t));
	metrics_progress_get(trainer_metrics(f.t), &p);
	ok(p.state == METRICS_STOPPED, "state stopped");
	ok(optim_config(f.opt)->weight_decay == 0.05 && f.net.weight == 2, "changes applied");
	double lr;
	ok(metrics_series_last(trainer_metrics(f.t), "lr", &lr) == 0 && lr == 0.002, "the new schedule's lr in force");
	nev = metrics_events_copy(trainer_metrics(f.t), 0, ev, 16);
	int seen_wd = 0, seen_w = 0, seen_s = 0, seen_p = 0;
	for (size_t i = 0; i < nev; i++) {
		seen_wd |= ev[i].kind == METRICS_EV_SET && !strcmp(ev[i].key, "weight_decay") && ev[i].new_value == 0.05;
		seen_w |= ev[i].kind == METRICS_EV_SET && !strcmp(ev[i].key, "loss.cls") && ev[i].old_value == 1;
		seen_s |= ev[i].kind == METRICS_EV_SET && !strcmp(ev[i].key, "schedule") && ev[i].step == at;
		seen_p |= ev[i].kind == METRICS_EV_STATE && !strcmp(ev[i].text, "paused");
	}
	ok(seen_wd && seen_w && seen_s && seen_p, "each change logged as an event at the step it took effect");
	struct trainer_event tev;
	int steps_ev = 0, done_ev = 0;
	while (trainer_event_poll(f.t, &tev)) {
		steps_ev += tev.kind == TRAINER_EV_STEP;
		done_ev += tev.kind == TRAINER_EV_DONE;
	}
	ok(steps_ev > 0 && done_ev == 1, "main thread hears steps and the end (%d, %d)", steps_ev, done_ev);

	/* 4b. a schedule replaced live survives a checkpoint: resuming with the
	 *     recipe's own schedule (warm-up + cosine) keeps the live one */
	char live[300], live2[300];
	snprintf(live, sizeof live, "%s/live.ckpt", dir);
	snprintf(live2, sizeof live2, "%s/live2.ckpt", dir);
	ok(trainer_save(f.t, live) == 0, "saved after the live schedule change: %s", det_error_message());
	struct ckpt *kept = ckpt_read(live), *plain = ckpt_read(found);
	size_t klen = 0, plen = 0;
	ok(kept && ckpt_get(kept, "schedule", &klen) && klen > 0, "the checkpoint keeps the schedule set live");
	ok(plain && !ckpt_get(plain, "schedule", &plen), "one without a live change keeps none (the recipe's stands)");
	ckpt_free(kept);
	ckpt_free(plain);
	int64_t stopped = trainer_step(f.t);
	struct setup f2;
	setup(&f2, NULL, 100000, 1);
	f2.cfg.steps = stopped + 3;
	start(&f2);
	ok(f2.t && trainer_resume(f2.t, live) == 0, "resumed: %s", det_error_message());
	lr = NAN;
	ok(trainer_run(f2.t) == 0, "resumed run finishes: %s", trainer_message(f2.t));
	metrics_series_last(trainer_metrics(f2.t), "lr", &lr);
	ok(lr == 0.002, "after resuming, the live schedule's lr (%g, the recipe's would be ~0.01)", lr);
	nev = metrics_events_copy(trainer_metrics(f2.t), 0, ev, 16);
	int restored = 0;
	for (size_t i = 0; i < nev; i++)
		restored |= ev[i].kind == METRICS_EV_INFO && strstr(ev[i].text, "restored: constant") != NULL;
	ok(restored, "the log says the schedule was restored");
	/* an lr table set live round-trips the same way */
	memset(&cmd, 0, sizeof cmd);
	cmd.kind = TRAINER_CMD_SCHED;
	cmd.n_lr = 64;
	cmd.lr_table = malloc(64 * sizeof *cmd.lr_table);
	for (int i = 0; i < 64; i++)
		cmd.lr_table[i] = 0.004 + 1e-5 * i;
	trainer_free(f2.t);
	f2.cfg.steps = stopped + 5;
	start(&f2);
	ok(trainer_resume(f2.t, live) == 0 && trainer_command(f2.t, &cmd) == 0 && trainer_run(f2.t) == 0 &&
	   trainer_save(f2.t, live2) == 0, "a run with a live lr table saved: %s", det_error_message());
	struct setup f3;
	setup(&f3, NULL, 100000, 1);
	f3.cfg.steps = stopped + 7;
	start(&f3);
	ok(f3.t && trainer_resume(f3.t, live2) == 0 && trainer_run(f3.t) == 0, "resumed the table run: %s",
	   det_error_message());
	double want = 0.004 + 1e-5 * (double)(stopped + 6);
	lr = NAN;
	metrics_series_last(trainer_metrics(f3.t), "lr", &lr);
	ok(fabs(lr - want) < 1e-15,
	   "the table's lr at step %lld (%.17g, want %.17g)", (long long)(stopped + 7), lr, want);
	teardown(&f3);
	teardown(&f2);
	teardown(&f);

	/* 5. evaluation, early stopping, accumulation, budget */
	struct setup g;
	setup(&g, NULL, 1000, 2);
	g.cfg.steps = 0;
	g.cfg.epochs = 20;
	g.cfg.eval_epochs = 1;
	snprintf(g.cfg.es_metric, sizeof g.cfg.es_metric, "AP");
	g.cfg.es_patience = 2;
	g.cfg.es_min_delta = 0.5; /* nothing improves by 0.5 AP: stops after 1 + 2 evaluations */
	start(&g);
	ok(trainer_total_steps(g.t) == 20 * 6 / 2, "total steps from epochs, batch and accumulation (%lld)",
	   (long long)trainer_total_steps(g.t));
	ok(trainer_run(g.t) == 0 && strstr(trainer_message(g.t), "early stop"), "early stop: %s", trainer_message(g.t));
	ok(metrics_eval_count(trainer_metrics(g.t)) == 3, "after 3 evaluations");
	ok(trainer_step(g.t) == 9, "at epoch 3 = step 9 (%lld)", (long long)trainer_step(g.t));
	struct metrics_eval me;
	memset(&me, 0, sizeof me);
	int got_eval = metrics_eval_get(trainer_metrics(g.t), -1, &me) == 0;
	ok(got_eval && me.stats[0] > 0.3 && me.stats[0] < 1 && me.ncats == 10,
	   "evaluation figures (AP %.3f) and per-class records", me.stats[0]);
	metrics_eval_fini(&me);
	struct eval_gt *gt;
	struct eval_dets *dt;
	struct eval_result *r;
	trainer_eval_take(g.t, &gt, &dt, &r);
	ok(gt && dt && r && r->stats[0] > 0.3, "the last evaluation can be taken");
	eval_result_free(r);
	eval_dets_free(dt);
	eval_gt_free(gt);
	teardown(&g);

	struct setup h;
	setup(&h, NULL, 100000, 1);
	h.cfg.minutes = 0.5 / 60;
	start(&h);
	ok(trainer_run(h.t) == 0 && strstr(trainer_message(h.t), "budget"), "the budget ends the run: %s",
	   trainer_message(h.t));
	teardown(&h);

	teardown(&a);
	dataset_free(train_ds);
	dataset_free(val_ds);
	char cmdline[300];
	snprintf(cmdline, sizeof cmdline, "rm -rf %s", dir);
	if (system(cmdline) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
