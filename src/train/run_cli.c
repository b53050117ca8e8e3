/* run_cli.c: `detbench run FILE.lua [--resume RUN_DIR] [ARGS...]`. Runs the
 * file; when it returns a det.experiment, trains it headless: a progress
 * line redrawn on a terminal (plain time-stamped lines otherwise), events
 * as lines, callbacks polled on this thread, the final evaluation table,
 * PNG plots in the run directory. SIGINT, SIGHUP and SIGTERM stop at the
 * next step boundary and save last.ckpt before exiting. A file that
 * returns nothing else just runs (the old `run`).
 *
 * Exit status: 0 trained (steps, epochs, budget or early stop) or the file
 * ran; 1 training failed (NaN, I/O); 2 usage or the file raised an error;
 * 128 + signal after a signal (the checkpoint saved). */
#include "train/run_cli.h"

#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/coco_eval.h"
#include "lua/host.h"
#include "lua/lexperiment.h"
#include "train/metrics.h"
#include "train/plot.h"
#include "train/trainer.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	if (got_signal) /* a second one: leave now */
		_exit(128 + sig);
	got_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void hms(char *buf, size_t n, double s)
{
	if (!isfinite(s) || s < 0) {
		snprintf(buf, n, "?");
		return;
	}
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void stamp(FILE *f)
{
	time_t now = time(NULL);
	struct tm tm;
	char buf[32];
	localtime_r(&now, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "[%s] ", buf);
}

/* "step 120/2000 epoch 1.23 loss 1.2345 (cls 0.61 box 0.52 quality 0.11) lr 1.2e-03 34.5 img/s ETA 4:32" */
static void progress_line(struct metrics *m, char *buf, size_t n)
{
	struct metrics_progress p;
	metrics_progress_get(m, &p);
	double loss = NAN, lr = NAN, v;
	metrics_series_last(m, "loss", &loss);
	metrics_series_last(m, "lr", &lr);
	char eta[32], parts[160] = "";
	hms(eta, sizeof eta, p.eta_s);
	size_t k = 0;
	static const char *const names[] = { "cls", "box", "quality", "dfl" };
	for (int i = 0; i < 4; i++)
		if (metrics_series_last(m, names[i], &v) == 0 && k < sizeof parts)
			k += (size_t)snprintf(parts + k, sizeof parts - k, "%s%s %.4f", k ? " " : "", names[i], v);
	snprintf(buf, n, "%s step %lld/%lld epoch %.2f loss %.4f%s%s%s lr %.3g %.1f img/s ETA %s",
		metrics_state_names[p.state], (long long)p.step, (long long)p.total_steps, p.epoch, loss, k ? " (" : "",
		parts, k ? ")" : "", lr, p.images_per_s, eta);
}

/* Prints the store's events from *next on, as lines. */
static void print_events(struct metrics *m, size_t *next, int tty)
{
	struct metrics_event ev[32];
	size_t got;
	while ((got = metrics_events_copy(m, *next, ev, 32)) > 0) {
		for (size_t i = 0; i < got; i++) {
			if (ev[i].kind == METRICS_EV_STATE && (!strcmp(ev[i].text, "training") || !ev[i].text[0]))
				continue;
			if (tty)
				fputs("\r\033[K", stdout);
			stamp(stdout);
			printf("%s: %s\n", metrics_event_names[ev[i].kind], ev[i].text);
		}
		*next += got;
		size_t total = metrics_event_count(m);
		if (*next > total)
			*next = total;
	}
	fflush(stdout);
}

static void usage(FILE *f)
{
	fputs("usage: detbench run FILE.lua [--resume RUN_DIR|CKPT] [--quiet] [ARGS...]\n"
	      "  Runs FILE.lua; when it returns a det.experiment, trains it headless.\n"
	      "  ARGS (key=value) reach the recipe through det.experiment.params{...}.\n"
	      "  --resume   continue from RUN_DIR's last.ckpt (or the newest usable checkpoint)\n"
	      "  --quiet    no progress line, only events and the final table\n"
	      "  Ctrl-C, SIGHUP, SIGTERM: stop at the next step, save last.ckpt, exit 128+signal.\n", f);
}

/* pcall of exp:<method>(), leaving results on the stack; prints errors */
static int call_method(lua_State *L, int exp, const char *method, int nres)
{
	lua_getfield(L, exp, method);
	lua_pushvalue(L, exp);
	if (lua_pcall(L, 1, nres, 0) != LUA_OK) {
		fprintf(stderr, "detbench run: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	return 0;
}

int run_cli_main(int argc, char **argv)
{
	const char *file = NULL, *resume = NULL;
	int quiet = 0;
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0;
	if (!rest)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (!file && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))) {
			usage(stdout);
			free(rest);
			return 0;
		}
		if (!strcmp(argv[i], "--resume") && i + 1 < argc)
			resume = argv[++i];
		else if (!strncmp(argv[i], "--resume=", 9))
			resume = argv[i] + 9;
		else if (!strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!file)
			file = argv[i];
		else
			rest[nrest++] = argv[i];
	}
	if (!file) {
		fputs("detbench run: expected a recipe file: detbench run FILE.lua [--resume RUN_DIR] [ARGS...]\n", stderr);
		free(rest);
		return 2;
	}
	if (access(file, R_OK) != 0) {
		fprintf(stderr, "detbench run: can't read %s (%s)\n", file, strerror(errno));
		free(rest);
		return 2;
	}
	/* the script sees arg[0] = file, arg[1..] = the remaining words */
	char **sargv = calloc((size_t)nrest + 2, sizeof *sargv);
	if (!sargv) {
		free(rest);
		return 1;
	}
	sargv[0] = (char *)file;
	for (int i = 0; i < nrest; i++)
		sargv[i + 1] = rest[i];
	struct host *h = host_new(NULL, NULL);
	if (!h) {
		free(rest);
		free(sargv);
		return 1;
	}
	int status = 0;
	/* recipes may ask (det.experiment.headless) whether a screen is there */
	host_dostring(h, "require('det.experiment').headless = true", "=run");
	if (host_dofile(h, file, nrest + 1, sargv) != HOST_OK) {
		status = 2;
		goto out;
	}
	lua_State *L = host_lua(h);
	lua_getglobal(L, "recipe");
	int exp = lua_gettop(L);
	/* is it an experiment? det.experiment.is(v) */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "det.experiment");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "detbench run: %s\n", lua_tostring(L, -1));
		status = 2;
		goto out;
	}
	int mod = lua_gettop(L);
	lua_getfield(L, mod, "is");
	lua_pushvalue(L, exp);
	lua_call(L, 1, 1);
	int is_exp = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (!is_exp) {
		if (resume) {
			fprintf(stderr, "detbench run: --resume needs a recipe that returns a det.experiment\n");
			status = 2;
		}
		goto out; /* a plain script: it ran */
	}
	if (resume) {
		lua_getfield(L, exp, "resume_from");
		lua_pushvalue(L, exp);
		lua_pushstring(L, resume);
		if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
			fprintf(stderr, "detbench run: can't resume: %s\n", lua_tostring(L, -1));
			status = 1;
			goto out;
		}
		printf("resuming from %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	struct sigaction sa, old_int, old_hup, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGTERM, &sa, &old_term);
	if (call_method(L, exp, "train", 0)) {
		status = 1;
		goto restore;
	}
	lua_getfield(L, mod, "_trainer");
	lua_pushvalue(L, exp);
	lua_call(L, 1, 1);
	struct trainer *t = lexperiment_trainer(L, -1);
	lua_pop(L, 1);
	struct metrics *m = trainer_metrics(t);
	const int tty = isatty(STDOUT_FILENO);
	size_t next_event = metrics_event_count(m);
	double last_line = 0;
	int stopping = 0;
	char line[512];
	while (trainer_running(t)) {
		/* callbacks, then what to show */
		lua_getfield(L, exp, "poll");
		lua_pushvalue(L, exp);
		lua_pushinteger(L, 100);
		if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
			fprintf(stderr, "detbench run: %s\n", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		if (got_signal && !stopping) {
			stopping = 1;
			if (tty)
				fputs("\r\033[K", stdout);
			stamp(stdout);
			printf("signal %d: stopping at the next step and saving last.ckpt (again to quit now)\n", got_signal);
			trainer_stop(t);
		}
		print_events(m, &next_event, tty && !quiet);
		double now = now_s();
		if (!quiet && tty && now - last_line >= 0.25) {
			progress_line(m, line, sizeof line);
			int cols = 0;
			const char *c = getenv("COLUMNS");
			cols = c ? atoi(c) : 0;
			printf("\r\033[K%.*s", cols > 10 ? cols - 1 : (int)sizeof line, line);
			fflush(stdout);
			last_line = now;
		} else if (!quiet && !tty && now - last_line >= 10) {
			progress_line(m, line, sizeof line);
			stamp(stdout);
			printf("%s\n", line);
			fflush(stdout);
			last_line = now;
		}
	}
	if (call_method(L, exp, "wait", 2) == 0) {
		if (lua_isnil(L, -2))
			status = 1;
		lua_pop(L, 2);
	} else {
		status = 1;
	}
	print_events(m, &next_event, tty && !quiet);
	if (tty && !quiet)
		fputs("\r\033[K", stdout);
	progress_line(m, line, sizeof line);
	stamp(stdout);
	printf("%s\n%s\n", line, trainer_message(t));
	/* the final evaluation table and the plots */
	{
		struct eval_gt *gt;
		struct eval_dets *dets;
		struct eval_result *r;
		trainer_eval_take(t, &gt, &dets, &r);
		if (r && gt) {
			puts("");
			eval_summary_print(r, stdout);
			puts("");
			eval_per_class_print(r, gt, stdout);
		}
		lua_getfield(L, exp, "run_dir");
		const char *dir = lua_tostring(L, -1);
		if (dir && access(dir, W_OK) == 0) {
			int n = plot_run(dir, m, r, gt);
			printf("\n%d plot%s and checkpoints in %s/\n", n, n == 1 ? "" : "s", dir);
		}
		lua_pop(L, 1);
		eval_result_free(r);
		eval_dets_free(dets);
		eval_gt_free(gt);
	}
	fflush(stdout);
	if (got_signal)
		status = 128 + got_signal;
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	host_free(h);
	free(rest);
	free(sargv);
	return status;
}
