/* lexperiment.c: det.core.experiment — the Lua class "det.trainer" over a
 * C trainer (train/trainer.h). lua/det/experiment.lua builds the spec table
 * (graphs, optimiser, schedule, datasets, detector, settings) and wraps this
 * object in det.experiment{...}. The Lua objects the trainer borrows are kept
 * in the userdata's user value, so they live as long as it does; the
 * trainer thread never touches Lua — callbacks run where poll() is called
 * (the screen's idle loop, `detbench run`, exp:wait()). */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "det/detector.h"
#include "eval/coco_eval.h"
#include "lua/laug.h"
#include "lua/ldata.h"
#include "lua/ldet.h"
#include "lua/ldetector.h"
#include "lua/leval.h"
#include "lua/lexperiment.h"
#include "lua/lnn.h"
#include "lua/loptim.h"
#include "lua/lsched.h"
#include "train/metrics.h"
#include "train/sched.h"
#include "train/task_detector.h"
#include "train/trainer.h"
#include "train/samples.h"
#include "tui/tui.h"

#define TRAINER_NAME "det.trainer"

struct ltrainer {
	struct trainer *t;
	struct task_detector td;
};

static struct ltrainer *check(lua_State *L, int arg)
{
	struct ltrainer *p = luaL_checkudata(L, arg, TRAINER_NAME);
	if (!p->t)
		luaL_argerror(L, arg, "trainer is closed");
	return p;
}

struct trainer *lexperiment_trainer(lua_State *L, int arg)
{
	return check(L, arg)->t;
}

static int t_gc(lua_State *L)
{
	struct ltrainer *p = luaL_checkudata(L, 1, TRAINER_NAME);
	if (p->t) {
		struct metrics *cur = metrics_current_get();
		if (cur == trainer_metrics(p->t))
			metrics_current_set(NULL);
		metrics_free(cur);
		trainer_free(p->t); /* stops and joins a running thread first */
		p->t = NULL;
		if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE)
			lpin_table(L, -1, -1);
		lua_pop(L, 1);
	}
	task_detector_fini(&p->td);
	return 0;
}

/* ---- the spec ---- */

static const char *const spec_keys[] = {
	"train_graph", "train_input", "eval_graph", "eval_input", "optim", "sched", "lr_table", "train", "val",
	"sampler", "detector", "name", "run_dir", "epochs", "steps", "minutes", "accumulate", "batch", "size",
	"workers", "seed", "eval_epochs", "eval_minutes", "eval_ema", "es_metric", "es_patience", "es_min_delta",
	"es_mode", "save_epochs", "nan", "log_every", "recipe", "letterbox", "mean", "std", NULL,
};

static int opt_int(lua_State *L, int t, const char *k, lua_Integer dflt)
{
	lua_getfield(L, t, k);
	lua_Integer v = lua_isnil(L, -1) ? dflt : luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	return (int)v;
}

static double opt_num(lua_State *L, int t, const char *k, double dflt)
{
	lua_getfield(L, t, k);
	double v = lua_isnil(L, -1) ? dflt : luaL_checknumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static void opt_str(lua_State *L, int t, const char *k, char *out, size_t size)
{
	lua_getfield(L, t, k);
	if (!lua_isnil(L, -1))
		snprintf(out, size, "%s", luaL_checkstring(L, -1));
	lua_pop(L, 1);
}

static void opt_rgb(lua_State *L, int t, const char *k, float out[3])
{
	lua_getfield(L, t, k);
	if (lua_istable(L, -1))
		for (int i = 0; i < 3; i++) {
			lua_geti(L, -1, i + 1);
			out[i] = (float)luaL_checknumber(L, -1);
			lua_pop(L, 1);
		}
	lua_pop(L, 1);
}

/* Keeps the field k of the spec alive in the refs table (at refs). */
static void keep(lua_State *L, int spec, int refs, const char *k)
{
	lua_getfield(L, spec, k);
	lua_setfield(L, refs, k);
}

/* det.core.experiment.new(spec) -> trainer | raises on misuse */
static int l_new(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		int known = 0;
		if (lua_type(L, -1) == LUA_TSTRING)
			for (int i = 0; spec_keys[i]; i++)
				known |= !strcmp(spec_keys[i], lua_tostring(L, -1));
		if (!known)
			return luaL_error(L, "det.core.experiment.new: unknown spec key '%s'", luaL_tolstring(L, -1, NULL));
	}
	struct ltrainer *p = lua_newuserdatauv(L, sizeof *p, 1);
	memset(p, 0, sizeof *p);
	luaL_setmetatable(L, TRAINER_NAME);
	int ud = lua_gettop(L);
	lua_newtable(L);
	int refs = lua_gettop(L);
	for (int i = 0; spec_keys[i]; i++)
		keep(L, 1, refs, spec_keys[i]);

	struct trainer_config cfg;
	trainer_config_default(&cfg);
	struct trainer_io io;
	memset(&io, 0, sizeof io);

	lua_getfield(L, 1, "train_graph");
	io.train_graph = lgraph_check(L, -1);
	lua_pop(L, 1);
	io.train_input = opt_int(L, 1, "train_input", 0);
	lua_getfield(L, 1, "eval_graph");
	if (!lua_isnil(L, -1))
		io.eval_graph = lgraph_check(L, -1);
	lua_pop(L, 1);
	io.eval_input = opt_int(L, 1, "eval_input", 0);
	lua_getfield(L, 1, "optim");
	io.opt = loptim_check(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 1, "sched");
	if (!lua_isnil(L, -1))
		io.sched = lsched_check(L, -1);
	lua_pop(L, 1);
	double *table = NULL;
	lua_getfield(L, 1, "lr_table");
	if (lua_istable(L, -1)) {
		size_t n = (size_t)luaL_len(L, -1);
		table = lua_newuserdatauv(L, (n + 1) * sizeof *table, 0); /* freed by Lua */
		for (size_t i = 0; i < n; i++) {
			lua_geti(L, -2, (lua_Integer)i + 1);
			table[i] = luaL_checknumber(L, -1);
			lua_pop(L, 1);
		}
		io.lr_table = table;
		io.n_lr = n;
		lua_setfield(L, refs, "_lr_table_copy");
	}
	lua_pop(L, 1);
	lua_getfield(L, 1, "train");
	io.train = ldataset_check(L, -1);
	io.augs = laug_dataset_augment(L, lua_gettop(L));
	io.sampler = lsample_dataset_sampler(L, lua_gettop(L));
	lua_pop(L, 1);
	lua_getfield(L, 1, "val");
	if (!lua_isnil(L, -1))
		io.val = ldataset_check(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 1, "detector");
	struct detector *d = ldetector_check(L, -1);
	lua_pop(L, 1);
	if (task_detector_init(&p->td, d, &io.task))
		return luaL_error(L, "%s", det_error_message());
	lua_getfield(L, 1, "recipe");
	io.recipe = lua_tostring(L, -1); /* kept alive in refs */
	lua_pop(L, 1);

	opt_str(L, 1, "name", cfg.name, sizeof cfg.name);
	opt_str(L, 1, "run_dir", cfg.run_dir, sizeof cfg.run_dir);
	cfg.epochs = opt_int(L, 1, "epochs", cfg.epochs);
	cfg.steps = opt_int(L, 1, "steps", 0);
	cfg.minutes = opt_num(L, 1, "minutes", 0);
	cfg.accumulate = opt_int(L, 1, "accumulate", 1);
	cfg.batch = (size_t)opt_int(L, 1, "batch", (lua_Integer)cfg.batch);
	cfg.size = opt_int(L, 1, "size", cfg.size);
	cfg.workers = opt_int(L, 1, "workers", cfg.workers);
	cfg.seed = (uint64_t)opt_int(L, 1, "seed", 1);
	cfg.eval_epochs = opt_int(L, 1, "eval_epochs", 1);
	cfg.eval_minutes = opt_num(L, 1, "eval_minutes", 0);
	cfg.eval_ema = opt_int(L, 1, "eval_ema", 1);
	opt_str(L, 1, "es_metric", cfg.es_metric, sizeof cfg.es_metric);
	cfg.es_patience = opt_int(L, 1, "es_patience", cfg.es_patience);
	cfg.es_min_delta = opt_num(L, 1, "es_min_delta", 0);
	char mode[8] = "max", nan[8] = "stop";
	opt_str(L, 1, "es_mode", mode, sizeof mode);
	cfg.es_mode = !strcmp(mode, "min") ? TRAINER_ES_MIN : TRAINER_ES_MAX;
	cfg.save_epochs = opt_int(L, 1, "save_epochs", 0);
	opt_str(L, 1, "nan", nan, sizeof nan);
	cfg.nan_policy = !strcmp(nan, "skip") ? TRAINER_NAN_SKIP : TRAINER_NAN_STOP;
	cfg.log_every = opt_int(L, 1, "log_every", 1);
	cfg.letterbox = opt_int(L, 1, "letterbox", 1);
	opt_rgb(L, 1, "mean", cfg.mean);
	opt_rgb(L, 1, "std", cfg.std);

	p->t = trainer_new(&cfg, &io);
	if (!p->t)
		return luaL_error(L, "%s", det_error_message());
	lua_pushvalue(L, refs);
	lua_setiuservalue(L, ud, 1);
	lpin_table(L, refs, 1); /* the trainer holds their C objects */
	lua_pushvalue(L, ud);
	return 1;
}

/* ---- control ---- */

static int push_status(lua_State *L, int rc)
{
	if (rc == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, det_error_message());
	return 2;
}

static int t_start(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	metrics_current_set(trainer_metrics(p->t));
	return push_status(L, trainer_start(p->t));
}

static int t_pause(lua_State *L) { return push_status(L, trainer_pause(check(L, 1)->t)); }
static int t_resume(lua_State *L) { return push_status(L, trainer_resume_run(check(L, 1)->t)); }
static int t_stop(lua_State *L) { return push_status(L, trainer_stop(check(L, 1)->t)); }

static int t_running(lua_State *L)
{
	lua_pushboolean(L, trainer_running(check(L, 1)->t));
	return 1;
}

/* t:save([path]): while training, queues "save last.ckpt now"; otherwise
 * writes path (or run_dir/last.ckpt through the queue's path) at once */
static int t_save(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	if (lua_isnoneornil(L, 2) || trainer_running(p->t))
		return push_status(L, trainer_save_now(p->t));
	return push_status(L, trainer_save(p->t, luaL_checkstring(L, 2)));
}

static int t_join(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	int rc = trainer_wait(p->t);
	if (rc == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, trainer_message(p->t));
	return 2;
}

static int t_message(lua_State *L)
{
	lua_pushstring(L, trainer_message(check(L, 1)->t));
	return 1;
}

static int t_step(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	lua_pushinteger(L, trainer_step(p->t));
	lua_pushinteger(L, trainer_total_steps(p->t));
	return 2;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* After an evaluation, with the screen up: the samples panel shows the
 * first validation images with their GT and the new detections (the panel
 * keeps the image and modes the user chose). The evaluation itself stays
 * the trainer's (t:take_eval, exp:eval and `detbench run` take it). */
static void show_samples(struct trainer *t)
{
	const struct dataset *val = trainer_val(t);
	struct train_sample *s = NULL;
	int n;
	int64_t step = -1;

	if (tui_board() == NULL || val == NULL)
		return;
	if ((n = trainer_eval_samples(t, TRAIN_SAMPLES_SHOWN, TRAIN_SAMPLES_MIN_SCORE, &s, &step)) > 0 &&
	    tui_samples_show(s, n, (const char *const *)val->class_names, val->nclasses, step) < 0)
		fprintf(stderr, "samples panel: %s\n", det_error_message());
	else if (n < 0)
		fprintf(stderr, "samples panel: %s\n", det_error_message());
	train_samples_free(s, n > 0 ? n : 0);
}

/* t:poll([wait_ms]) -> list of events { kind =, step =, epoch =, loss =,
 * lr =, parts = { name = value }, state = } (waits up to wait_ms for one) */
static int t_poll(lua_State *L)
{
	static const char *const kinds[] = { "step", "epoch", "eval", "state", "done" };
	struct ltrainer *p = check(L, 1);
	int wait = (int)luaL_optinteger(L, 2, 0);
	struct trainer_event ev;
	lua_newtable(L);
	int n = 0;
	for (int waited = 0;;) {
		while (trainer_event_poll(p->t, &ev)) {
			lua_createtable(L, 0, 8);
			lua_pushstring(L, kinds[ev.kind]);
			lua_setfield(L, -2, "kind");
			lua_pushinteger(L, ev.step);
			lua_setfield(L, -2, "step");
			lua_pushnumber(L, ev.epoch);
			lua_setfield(L, -2, "epoch");
			lua_pushstring(L, metrics_state_names[ev.state]);
			lua_setfield(L, -2, "state");
			if (ev.kind == TRAINER_EV_STEP) {
				lua_pushnumber(L, ev.loss);
				lua_setfield(L, -2, "loss");
				lua_pushnumber(L, ev.lr);
				lua_setfield(L, -2, "lr");
				lua_createtable(L, 0, ev.nparts);
				for (int i = 0; i < ev.nparts; i++) {
					lua_pushnumber(L, ev.values[i]);
					lua_setfield(L, -2, ev.names[i]);
				}
				lua_setfield(L, -2, "parts");
			} else if (ev.kind == TRAINER_EV_EVAL) {
				lua_pushnumber(L, ev.loss);
				lua_setfield(L, -2, "AP");
				show_samples(p->t);
			} else if (ev.kind == TRAINER_EV_EPOCH) {
				lua_pushinteger(L, ev.epoch_index);
				lua_setfield(L, -2, "epoch_index");
			}
			lua_rawseti(L, -2, ++n);
		}
		if (n || waited >= wait)
			break;
		sleep_ms(10);
		waited += 10;
	}
	return 1;
}

/* ---- live changes ---- */

/* t:set(key, value): an optimiser hyper-parameter (raises on a misspelt key) */
static int t_set(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	struct trainer_cmd c;
	memset(&c, 0, sizeof c);
	c.kind = TRAINER_CMD_OPTIM;
	snprintf(c.key, sizeof c.key, "%s", luaL_checkstring(L, 2));
	c.value = lua_isboolean(L, 3) ? lua_toboolean(L, 3) : luaL_checknumber(L, 3);
	if (trainer_command(p->t, &c))
		return luaL_error(L, "%s", det_error_message());
	return 0;
}

/* t:weight(part[, value]) -> the weight (before the change) */
static int t_weight(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	struct trainer_cmd c;
	memset(&c, 0, sizeof c);
	c.kind = TRAINER_CMD_WEIGHT;
	snprintf(c.key, sizeof c.key, "%s", luaL_checkstring(L, 2));
	if (lua_isnoneornil(L, 3)) {
		double old;
		/* reading needs no command: a float read */
		if (p->td.d == NULL)
			return luaL_error(L, "no detector");
		struct detector_config *dc = detector_config_get(p->td.d);
		const char *k = c.key;
		if (!strcmp(k, "cls"))
			old = dc->w_cls;
		else if (!strcmp(k, "box"))
			old = dc->w_box;
		else if (!strcmp(k, "quality") && dc->quality != DETECTOR_QUALITY_NONE)
			old = dc->w_quality;
		else
			return luaL_error(L, "the detector has no loss part '%s'", k);
		lua_pushnumber(L, old);
		return 1;
	}
	c.value = luaL_checknumber(L, 3);
	if (trainer_command(p->t, &c))
		return luaL_error(L, "%s", det_error_message());
	return 0;
}

/* t:schedule(det.sched | { lr per step }) */
static int t_schedule(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	struct trainer_cmd c;
	memset(&c, 0, sizeof c);
	c.kind = TRAINER_CMD_SCHED;
	if (lua_istable(L, 2)) {
		size_t n = (size_t)luaL_len(L, 2);
		if (n == 0)
			return luaL_error(L, "an empty lr table");
		c.lr_table = malloc(n * sizeof *c.lr_table);
		if (!c.lr_table)
			return luaL_error(L, "out of memory");
		for (size_t i = 0; i < n; i++) {
			lua_geti(L, 2, (lua_Integer)i + 1);
			c.lr_table[i] = lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
		c.n_lr = n;
	} else {
		struct sched *s = lsched_check(L, 2);
		if (!(c.sched = sched_clone(s)))
			return luaL_error(L, "out of memory");
	}
	if (trainer_command(p->t, &c)) /* frees the command's schedule on failure */
		return luaL_error(L, "%s", det_error_message());
	return 0;
}

/* t:eval_now(): queue an evaluation (while training) */
static int t_eval_now(lua_State *L)
{
	struct trainer_cmd c;
	memset(&c, 0, sizeof c);
	c.kind = TRAINER_CMD_EVAL;
	return push_status(L, trainer_command(check(L, 1)->t, &c));
}

/* ---- checkpoints ---- */

static int t_resume_from(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	const char *path = luaL_checkstring(L, 2);
	char found[1024];
	size_t n = strlen(path);
	if (n < 5 || strcmp(path + n - 5, ".ckpt")) {
		if (trainer_find_checkpoint(path, found, sizeof found))
			return push_status(L, det_error_code());
		path = found;
	}
	int rc = trainer_resume(p->t, path);
	if (rc)
		return push_status(L, rc);
	lua_pushstring(L, path);
	return 1;
}

/* ---- evaluation and prediction ---- */

static int t_evaluate(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	int rc = trainer_evaluate(p->t);
	return push_status(L, rc);
}

static int t_take_eval(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	struct eval_gt *gt;
	struct eval_dets *dets;
	struct eval_result *r;
	trainer_eval_take(p->t, &gt, &dets, &r);
	if (!gt || !dets || !r) {
		eval_gt_free(gt);
		eval_dets_free(dets);
		eval_result_free(r);
		lua_pushnil(L);
		lua_pushstring(L, "no evaluation yet");
		return 2;
	}
	leval_push_result(L, gt, dets, r);
	return 1;
}

/* t:eval_copy() -> det.eval.result | nil, message: a copy of the last
 * evaluation (the trainer keeps its own for t:take_eval) */
static int t_eval_copy(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	struct eval_gt *gt;
	struct eval_dets *dets;
	struct eval_result *r;
	int rc = trainer_eval_copy(p->t, &gt, &dets, &r);
	if (rc)
		return push_status(L, rc);
	leval_push_result(L, gt, dets, r);
	return 1;
}

static int t_predict(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	const struct dataset *ds = ldataset_check(L, 2);
	struct eval_gt *gt;
	struct eval_dets *dets;
	struct eval_result *r = NULL;
	int rc = trainer_predict(p->t, ds, &gt, &dets);
	if (rc)
		return push_status(L, rc);
	if ((rc = eval_coco_run(gt, dets, &r))) {
		eval_gt_free(gt);
		eval_dets_free(dets);
		return push_status(L, rc);
	}
	leval_push_result(L, gt, dets, r);
	return 1;
}

/* t:gt_losses(ds) -> { loss of each box of ds, r:ground_truth()'s order;
 * NaN: no anchor assigned } | nil, message */
static int t_gt_losses(lua_State *L)
{
	struct ltrainer *p = check(L, 1);
	const struct dataset *ds = ldataset_check(L, 2);
	float *v;
	size_t n;
	int rc = trainer_gt_losses(p->t, ds, &v, &n);
	if (rc)
		return push_status(L, rc);
	lua_newtable(L);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(v);
	return 1;
}

/* ---- metrics (read access) ---- */

static void push_progress(lua_State *L, const struct metrics_progress *p)
{
	lua_createtable(L, 0, 14);
	lua_pushstring(L, metrics_state_names[p->state]);
	lua_setfield(L, -2, "state");
	lua_pushstring(L, p->name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, p->step);
	lua_setfield(L, -2, "step");
	lua_pushinteger(L, p->total_steps);
	lua_setfield(L, -2, "total_steps");
	lua_pushnumber(L, p->epoch);
	lua_setfield(L, -2, "epoch");
	lua_pushinteger(L, p->epochs);
	lua_setfield(L, -2, "epochs");
	lua_pushnumber(L, p->elapsed_s);
	lua_setfield(L, -2, "elapsed");
	if (isfinite(p->eta_s)) {
		lua_pushnumber(L, p->eta_s);
		lua_setfield(L, -2, "eta");
	}
	lua_pushnumber(L, p->images_per_s);
	lua_setfield(L, -2, "images_per_s");
	lua_pushinteger(L, (lua_Integer)p->nevals);
	lua_setfield(L, -2, "evals");
	if (isfinite(p->best)) {
		lua_pushnumber(L, p->best);
		lua_setfield(L, -2, "best");
		lua_pushinteger(L, p->best_step);
		lua_setfield(L, -2, "best_step");
	}
	lua_pushstring(L, p->text);
	lua_setfield(L, -2, "text");
}

static int t_progress(lua_State *L)
{
	struct metrics_progress p;
	metrics_progress_get(trainer_metrics(check(L, 1)->t), &p);
	push_progress(L, &p);
	return 1;
}

/* t:series(name[, max]) -> { step = {...}, epoch = {...}, t = {...}, value = {...} } */
static int t_series(lua_State *L)
{
	struct metrics *m = trainer_metrics(check(L, 1)->t);
	const char *name = luaL_checkstring(L, 2);
	lua_Integer nmax = luaL_optinteger(L, 3, 100000);
	/* a negative max wrapped to SIZE_MAX: malloc(0), then a copy past it */
	luaL_argcheck(L, nmax >= 0 && nmax <= 100000000, 3, "the number of points must be 0 to 1e8");
	size_t max = (size_t)nmax;
	struct metrics_point *pts = malloc((max + 1) * sizeof *pts);
	if (!pts)
		return luaL_error(L, "out of memory");
	size_t n = metrics_series_copy(m, name, pts, max, NULL);
	lua_createtable(L, 0, 4);
	const char *fields[] = { "step", "epoch", "t", "value" };
	for (int f = 0; f < 4; f++) {
		lua_createtable(L, (int)n, 0);
		for (size_t i = 0; i < n; i++) {
			if (f == 0)
				lua_pushinteger(L, pts[i].step);
			else
				lua_pushnumber(L, f == 1 ? pts[i].epoch : f == 2 ? pts[i].t : pts[i].value);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, fields[f]);
	}
	free(pts);
	return 1;
}

static int t_series_names(lua_State *L)
{
	struct metrics *m = trainer_metrics(check(L, 1)->t);
	size_t n = metrics_series_count(m);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		char name[METRICS_NAME_MAX];
		if (metrics_series_name(m, i, name, sizeof name) == 0) {
			lua_pushstring(L, name);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	}
	return 1;
}

static int t_last(lua_State *L)
{
	double v;
	if (metrics_series_last(trainer_metrics(check(L, 1)->t), luaL_checkstring(L, 2), &v))
		return 0;
	lua_pushnumber(L, v);
	return 1;
}

static void push_eval(lua_State *L, const struct metrics_eval *e)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, e->step);
	lua_setfield(L, -2, "step");
	lua_pushnumber(L, e->epoch);
	lua_setfield(L, -2, "epoch");
	lua_pushnumber(L, e->t);
	lua_setfield(L, -2, "t");
	for (int i = 0; i < 12; i++) {
		lua_pushnumber(L, e->stats[i]);
		lua_setfield(L, -2, eval_stat_names[i]);
	}
	lua_createtable(L, e->ncats, 0);
	for (int k = 0; k < e->ncats; k++) {
		const struct metrics_class_ap *c = &e->cls[k];
		lua_createtable(L, 0, 6);
		lua_pushstring(L, c->name);
		lua_setfield(L, -2, "name");
		lua_pushnumber(L, c->ap);
		lua_setfield(L, -2, "AP");
		lua_pushnumber(L, c->ap50);
		lua_setfield(L, -2, "AP50");
		lua_pushnumber(L, c->ap75);
		lua_setfield(L, -2, "AP75");
		lua_pushinteger(L, (lua_Integer)c->ngt);
		lua_setfield(L, -2, "gt");
		lua_pushinteger(L, (lua_Integer)c->ndet);
		lua_setfield(L, -2, "dets");
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "classes");
}

static int t_evals(lua_State *L)
{
	struct metrics *m = trainer_metrics(check(L, 1)->t);
	size_t n = metrics_eval_count(m);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		struct metrics_eval e;
		if (metrics_eval_get(m, (long)i, &e))
			break;
		push_eval(L, &e);
		metrics_eval_fini(&e);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* t:events([first]) -> list of { kind, step, epoch, t, key, old, new, text }, next */
static int t_events(lua_State *L)
{
	struct metrics *m = trainer_metrics(check(L, 1)->t);
	size_t first = (size_t)luaL_optinteger(L, 2, 0);
	size_t total = metrics_event_count(m);
	struct metrics_event ev[64];
	lua_newtable(L);
	int k = 0;
	while (first < total) {
		size_t got = metrics_events_copy(m, first, ev, 64);
		if (!got)
			break;
		for (size_t i = 0; i < got; i++) {
			lua_createtable(L, 0, 8);
			lua_pushstring(L, metrics_event_names[ev[i].kind]);
			lua_setfield(L, -2, "kind");
			lua_pushinteger(L, ev[i].step);
			lua_setfield(L, -2, "step");
			lua_pushnumber(L, ev[i].epoch);
			lua_setfield(L, -2, "epoch");
			lua_pushnumber(L, ev[i].t);
			lua_setfield(L, -2, "t");
			lua_pushstring(L, ev[i].key);
			lua_setfield(L, -2, "key");
			if (!isnan(ev[i].old_value)) {
				lua_pushnumber(L, ev[i].old_value);
				lua_setfield(L, -2, "old");
			}
			if (!isnan(ev[i].new_value)) {
				lua_pushnumber(L, ev[i].new_value);
				lua_setfield(L, -2, "new");
			}
			lua_pushstring(L, ev[i].text);
			lua_setfield(L, -2, "text");
			lua_rawseti(L, -2, ++k);
		}
		first += got;
	}
	lua_pushinteger(L, (lua_Integer)total);
	return 2;
}

static int t_tostring(lua_State *L)
{
	struct ltrainer *p = luaL_checkudata(L, 1, TRAINER_NAME);
	if (!p->t) {
		lua_pushliteral(L, "<det.trainer (closed)>");
		return 1;
	}
	struct metrics_progress pr;
	metrics_progress_get(trainer_metrics(p->t), &pr);
	lua_pushfstring(L, "<det.trainer %s: %s, step %d of %d>", pr.name, metrics_state_names[pr.state],
		(int)trainer_step(p->t), (int)trainer_total_steps(p->t));
	return 1;
}

/* ---- the idle hook: the screen's loop runs callbacks ---- */

static lua_State *idle_L;

/* Runs det.experiment._poll_all() (callbacks of every training run) on the
 * main thread, between prompt keys. Errors are printed, never raised. */
static void idle_poll(void *ctx)
{
	lua_State *L = ctx;
	int top = lua_gettop(L);
	if (lua_getfield(L, LUA_REGISTRYINDEX, "det.experiment.poll_all") == LUA_TFUNCTION) {
		if (lua_pcall(L, 0, 0, 0) != LUA_OK)
			fprintf(stderr, "experiment callback: %s\n", lua_tostring(L, -1));
	}
	lua_settop(L, top);
}

/* The terminal hung up (or SIGTERM): every running experiment stops at its
 * next step boundary and saves last.ckpt before the workbench exits. */
static void hangup_stop(void *ctx)
{
	lua_State *L = ctx;
	int top = lua_gettop(L);
	if (lua_getfield(L, LUA_REGISTRYINDEX, "det.experiment.stop_all") == LUA_TFUNCTION &&
	    lua_pcall(L, 0, 0, 0) != LUA_OK)
		fprintf(stderr, "experiment: %s\n", lua_tostring(L, -1));
	lua_settop(L, top);
}

/* det.core.experiment.set_poll(fn, stop_all): fn runs about every 100 ms
 * from the workbench's idle loop, stop_all when the terminal hangs up
 * (both registered once). */
static int l_set_poll(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "det.experiment.poll_all");
	if (lua_isfunction(L, 2)) {
		lua_pushvalue(L, 2);
		lua_setfield(L, LUA_REGISTRYINDEX, "det.experiment.stop_all");
	}
	if (!idle_L) {
		lua_State *main;
		lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
		main = lua_tothread(L, -1);
		lua_pop(L, 1);
		idle_L = main;
		tui_on_idle(idle_poll, main);
		tui_on_hangup(hangup_stop, main);
	}
	return 0;
}

/* det.core.experiment.find_checkpoint(dir) -> path | nil, message */
static int l_find_checkpoint(lua_State *L)
{
	char out[1024];
	if (trainer_find_checkpoint(luaL_checkstring(L, 1), out, sizeof out))
		return push_status(L, det_error_code());
	lua_pushstring(L, out);
	return 1;
}

static const luaL_Reg methods[] = {
	{ "start", t_start },
	{ "pause", t_pause },
	{ "resume", t_resume },
	{ "stop", t_stop },
	{ "running", t_running },
	{ "save", t_save },
	{ "join", t_join },
	{ "message", t_message },
	{ "step", t_step },
	{ "poll", t_poll },
	{ "set", t_set },
	{ "weight", t_weight },
	{ "schedule", t_schedule },
	{ "eval_now", t_eval_now },
	{ "resume_from", t_resume_from },
	{ "evaluate", t_evaluate },
	{ "take_eval", t_take_eval },
	{ "eval_copy", t_eval_copy },
	{ "predict", t_predict },
	{ "gt_losses", t_gt_losses },
	{ "progress", t_progress },
	{ "series", t_series },
	{ "series_names", t_series_names },
	{ "last", t_last },
	{ "evals", t_evals },
	{ "events", t_events },
	{ "close", t_gc },
	{ NULL, NULL },
};

static const luaL_Reg meta[] = {
	{ "__index", NULL },
	{ "__gc", t_gc },
	{ "__close", t_gc },
	{ "__tostring", t_tostring },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "new", l_new },
	{ "set_poll", l_set_poll },
	{ "find_checkpoint", l_find_checkpoint },
	{ NULL, NULL },
};

int luaopen_det_experiment(lua_State *L)
{
	if (luaL_newmetatable(L, TRAINER_NAME)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
