/* test_sched.c: every schedule against torch.optim.lr_scheduler's curve
 * (tests/golden/sched) or its formula, plus keys, binding and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/tap.h"
#include "train/sched.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

/* "kind key=value ..." -> a schedule; "warmup k=v | inner ..." wraps. */
static struct sched *parse_sched(char *text)
{
	char *bar = strchr(text, '|'), *tok, *save = NULL;
	struct sched *s, *inner = NULL;
	int kind;

	if (bar) {
		*bar = 0;
		inner = parse_sched(bar + 1);
		if (!inner)
			return NULL;
	}
	tok = strtok_r(text, " \n", &save);
	kind = tok ? sched_kind_parse(tok) : -1;
	if (kind < 0) {
		sched_free(inner);
		return NULL;
	}
	s = sched_new((enum sched_kind)kind);
	s->inner = inner;
	while ((tok = strtok_r(NULL, " \n", &save))) {
		char *eq = strchr(tok, '='), *end;
		double v;
		int rc;

		*eq = 0;
		if (strcmp(tok, "milestones") == 0) {
			double m[16];
			size_t n = 0;
			for (char *p = eq + 1; *p && n < 16; p = *end ? end + 1 : end)
				m[n++] = strtod(p, &end);
			rc = sched_set_milestones(s, m, n);
		} else {
			v = strtod(eq + 1, &end);
			rc = *end ? sched_set_str(s, tok, eq + 1) : sched_set(s, tok, v);
		}
		if (rc) {
			tap_diag("%s", det_error_message());
			sched_free(s);
			return NULL;
		}
	}
	return s;
}

static void test_golden(void)
{
	char path[4096], line[16384], cfg[512], name[64] = "", moms[16384] = "";
	const char *top = getenv("top_srcdir");
	FILE *f;
	int ncases = 0;

	snprintf(path, sizeof path, "%s/tests/golden/sched/sched.txt", top ? top : TOP_SRCDIR);
	f = fopen(path, "r");
	if (!ok(f != NULL, "open %s", path))
		return;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "case ", 5) == 0) {
			int n = 0;
			sscanf(line + 5, "%63s %n", name, &n);
			snprintf(cfg, sizeof cfg, "%s", line + 5 + n);
		} else if (strncmp(line, "moms ", 5) == 0) {
			snprintf(moms, sizeof moms, "%s", line + 5);
		} else if (strncmp(line, "lrs ", 4) == 0) {
			struct sched *s = parse_sched(cfg);
			char *p = line + 4, *end;
			int k = 0, good = s != NULL;
			double worst = 0;

			for (;; k++) {
				double want = strtod(p, &end), got;
				if (end == p)
					break;
				p = end;
				got = s ? sched_lr(s, k, NAN) : NAN;
				if (fabs(got - want) > worst)
					worst = fabs(got - want);
				if (!tap_close(got, want, 1e-9, 1e-15)) {
					if (good)
						tap_diag("%s: step %d lr %.17g, torch %.17g", name, k, got, want);
					good = 0;
				}
			}
			ok(good && k > 20, "%s: %d steps match torch's scheduler (largest difference %.2g)", name, k, worst);
			if (moms[0]) {
				int km = 0;
				good = s != NULL;
				worst = 0;
				for (p = moms;; km++) {
					double want = strtod(p, &end), got;
					if (end == p)
						break;
					p = end;
					got = s ? sched_momentum(s, km, NAN) : NAN;
					if (fabs(got - want) > worst)
						worst = fabs(got - want);
					if (!tap_close(got, want, 1e-9, 1e-15))
						good = 0;
				}
				ok(good && km == k, "%s: its momentum matches torch's too (largest difference %.2g)",
				   name, worst);
				moms[0] = 0;
			} else if (s && s->kind != SCHED_CYCLIC && s->kind != SCHED_ONECYCLE) {
				ok(isnan(sched_momentum(s, 3, NAN)), "%s: leaves the momentum alone", name);
			}
			sched_free(s);
			ncases++;
		}
	}
	fclose(f);
	ok(ncases >= 15, "golden file holds %d cases", ncases);
}

static double fn_cb(void *ud, double step, double epoch)
{
	return *(double *)ud * step + epoch;
}

static int fn_refs = 1;
static void fn_retain(void *ud)
{
	(void)ud;
	fn_refs++;
}

static void fn_free(void *ud)
{
	(void)ud;
	fn_refs--;
}

static void test_formulas(void)
{
	struct sched *s;
	double x = 0.5;
	char line[256];
	int good;

	s = sched_new(SCHED_CONSTANT);
	sched_set(s, "lr", 0.03);
	ok(sched_lr(s, 0, NAN) == 0.03 && sched_lr(s, 1e6, NAN) == 0.03, "constant is constant");
	sched_free(s);

	/* polynomial with a floor: (0.1 - 0.01) (1 - 10/20)^2 + 0.01 */
	s = sched_new(SCHED_POLYNOMIAL);
	sched_set(s, "lr", 0.1);
	sched_set(s, "steps", 20);
	sched_set(s, "power", 2);
	sched_set(s, "min_lr", 0.01);
	ok(tap_close(sched_lr(s, 10, NAN), 0.0325, 1e-12, 0) && sched_lr(s, 50, NAN) == 0.01,
	   "polynomial with min_lr follows its formula and holds the floor");
	sched_free(s);

	s = sched_new(SCHED_COSINE);
	sched_set(s, "lr", 0.1);
	sched_set(s, "steps", 100);
	sched_set(s, "min_lr", 0.002);
	ok(tap_close(sched_lr(s, 50, NAN), 0.051, 1e-12, 0) && sched_lr(s, 100, NAN) == sched_lr(s, 500, NAN) &&
	   tap_close(sched_lr(s, 500, NAN), 0.002, 1e-12, 0), "cosine: halfway is the mean, after the end it holds min_lr");
	sched_free(s);

	/* warm-up over a step schedule: factor start + (1 - start) t/steps */
	s = sched_new(SCHED_STEP);
	sched_set(s, "lr", 0.1);
	sched_set(s, "step_size", 5);
	sched_set(s, "gamma", 0.5);
	s = sched_warmup_new(s, 4, 0.0);
	ok(s && sched_lr(s, 0, NAN) == 0 && tap_close(sched_lr(s, 2, NAN), 0.05, 1e-15, 0) &&
	   tap_close(sched_lr(s, 6, NAN), 0.05, 1e-15, 0) && tap_close(sched_lr(s, 4, NAN), 0.1, 1e-15, 0),
	   "warmup(step): 0 -> 0, 2 -> 0.05, 4 -> 0.1, 6 -> 0.05");
	sched_describe(s, line, sizeof line);
	ok(strcmp(line, "warmup(4 steps from 0) of step lr=0.1 step_size=5 gamma=0.5") == 0, "describe: %s", line);
	sched_free(s);

	/* counted in epochs */
	{
		double m[] = { 8, 11 };
		s = sched_new(SCHED_MULTISTEP);
		sched_set(s, "lr", 0.02);
		sched_set_milestones(s, m, 2);
		ok(sched_set_str(s, "per", "epoch") == 0 && sched_lr(s, 5000, 7.99) == 0.02 &&
		   tap_close(sched_lr(s, 5001, 8.0), 0.002, 1e-12, 0) &&
		   tap_close(sched_lr(s, 10, 11.5), 0.0002, 1e-12, 0) && isnan(sched_lr(s, 10, NAN)),
		   "multistep per epoch: milestones at epochs 8 and 11; NaN without an epoch");
		sched_free(s);
	}

	/* SGDR by hand: T_0 = 10, T_mult = 2: restarts at 10, 30, 70 */
	s = sched_new(SCHED_COSINE_RESTARTS);
	sched_set(s, "lr", 1);
	sched_set(s, "T_0", 10);
	sched_set(s, "T_mult", 2);
	good = sched_lr(s, 10, NAN) == 1 && sched_lr(s, 30, NAN) == 1 && sched_lr(s, 70, NAN) == 1 &&
	       tap_close(sched_lr(s, 20, NAN), 0.5, 1e-12, 0) && tap_close(sched_lr(s, 50, NAN), 0.5, 1e-12, 0);
	ok(good, "cosine_restarts: restarts at 10, 30, 70 and halfway at 20, 50");
	sched_free(s);

	/* one-cycle ends at max/div/final_div */
	s = sched_new(SCHED_ONECYCLE);
	sched_set(s, "max_lr", 0.1);
	sched_set(s, "steps", 100);
	ok(tap_close(sched_lr(s, 0, NAN), 0.004, 1e-12, 0) && tap_close(sched_lr(s, 29, NAN), 0.1, 1e-12, 0) &&
	   tap_close(sched_lr(s, 99, NAN), 4e-7, 1e-9, 0) && sched_lr(s, 150, NAN) == sched_lr(s, 99, NAN),
	   "onecycle: 0.004 at 0, 0.1 at the peak, 4e-7 at the end and after");
	sched_free(s);

	s = sched_function_new(fn_cb, fn_retain, fn_free, &x);
	s = sched_warmup_new(s, 10, 0.5);
	ok(sched_lr(s, 4, 3) == 0.7 * 5 && sched_has_function(s), "function of (step, epoch), warmed up");
	{
		struct sched *c = sched_clone(s);
		ok(c && fn_refs == 2 && c->inner != s->inner && sched_lr(c, 4, 3) == sched_lr(s, 4, 3),
		   "a clone copies the inner schedule and retains the function's data");
		sched_free(c);
	}
	sched_free(s);
	ok(fn_refs == 0, "the function's data is released with the schedule and its clone");
	{
		double m[] = { 3, 6 };
		struct sched *a = sched_new(SCHED_MULTISTEP), *c;
		sched_set(a, "lr", 1);
		sched_set_milestones(a, m, 2);
		c = sched_clone(a);
		sched_free(a);
		ok(c && c->nmilestones == 2 && sched_lr(c, 6, NAN) == 0.1 * 0.1, "a clone owns its milestones");
		sched_free(c);
	}
}

static void test_keys_and_binding(void)
{
	struct sched *s = sched_new(SCHED_COSINE);
	int rc;

	rc = sched_set(s, "min_learning_rate", 0.1);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "'min_learning_rate'") &&
	   strstr(det_error_message(), "valid: lr, steps, min_lr, per"),
	   "a misspelt key names itself and the valid ones: %s", det_error_message());
	ok(sched_set(s, "steps", -5) == DET_EINVAL, "negative steps are refused: %s", det_error_message());
	ok(sched_set_str(s, "per", "epochs") == DET_EINVAL, "per takes step or epoch: %s", det_error_message());
	ok(sched_set(s, "per", 1) == DET_EINVAL, "per is a string: %s", det_error_message());
	rc = sched_check(s);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "lr is not set") && isnan(sched_lr(s, 0, NAN)),
	   "an unbound cosine says what is missing: %s", det_error_message());
	sched_bind(s, 0.02, 100);
	ok(sched_check(s) == 0 && tap_close(sched_lr(s, 50, NAN), 0.01, 1e-12, 0),
	   "binding fills lr and steps from the optimiser and the experiment");
	sched_bind(s, 0.5, 7);
	ok(s->lr == 0.02 && s->steps == 100, "binding never overrides what was set");
	sched_free(s);

	s = sched_warmup_new(sched_new(SCHED_COSINE), 10, 0.001);
	sched_bind(s, 0.1, 1000);
	ok(s->steps == 10 && s->inner->steps == 1000 && s->inner->lr == 0.1,
	   "binding a warm-up fills the inner schedule, keeps the warm-up's own length");
	sched_free(s);

	s = sched_new(SCHED_CYCLIC);
	ok(sched_set_str(s, "mode", "triangle") == DET_EINVAL && strstr(det_error_message(), "triangular2"),
	   "a bad cyclic mode lists the valid ones: %s", det_error_message());
	sched_free(s);
	s = sched_new(SCHED_EXPONENTIAL);
	sched_set(s, "lr", 1);
	ok(sched_check(s) == DET_EINVAL && strstr(det_error_message(), "gamma"),
	   "exponential needs gamma: %s", det_error_message());
	sched_free(s);
	ok(sched_kind_parse("cosine_restarts") == SCHED_COSINE_RESTARTS && sched_kind_parse("cosin") == -1,
	   "kinds parse by name");
}

/* sched_save/sched_load: every kind (warm-ups nested, milestones, string
 * keys) comes back with the same curve, bit for bit, and the same text. */
static void test_save_load(void)
{
	const char *specs[] = {
		"constant lr=0.1",
		"step lr=0.1 step_size=30 gamma=0.5 per=epoch",
		"multistep lr=0.02 milestones=100,250,400 gamma=0.1",
		"exponential lr=0.1 gamma=0.99",
		"polynomial lr=0.1 steps=500 power=0.9 min_lr=1e-5",
		"cosine lr=0.3 steps=700 min_lr=0.001",
		"cosine_restarts lr=0.1 T_0=50 T_mult=2",
		"cyclic base_lr=0.001 max_lr=0.1 step_size_up=40 mode=exp_range gamma=0.999",
		"onecycle max_lr=0.2 steps=600 anneal=linear pct_start=0.25",
		"warmup steps=100 start=0.01 | cosine lr=0.1 steps=900",
		"warmup steps=10 | warmup steps=100 | multistep lr=0.1 milestones=300,600",
	};
	for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
		char text[256], *buf = NULL, d1[512], d2[512];
		size_t len = 0;
		snprintf(text, sizeof text, "%s", specs[k]);
		struct sched *s = parse_sched(text), *t = NULL;
		FILE *f = open_memstream(&buf, &len);
		if (!s || !f) {
			ok(0, "%s: built", specs[k]);
			continue;
		}
		sched_bind(s, 0.1, 1000);
		int rc = sched_save(s, f);
		fclose(f);
		if (rc == 0)
			t = sched_load(buf, len);
		int same = t != NULL;
		for (int step = 0; same && step <= 1200; step += 7) {
			double a = sched_lr(s, step, step / 97.0), b = sched_lr(t, step, step / 97.0);
			double ma = sched_momentum(s, step, step / 97.0), mb = sched_momentum(t, step, step / 97.0);
			same = memcmp(&a, &b, sizeof a) == 0 && (memcmp(&ma, &mb, sizeof ma) == 0 || (isnan(ma) && isnan(mb)));
		}
		sched_describe(s, d1, sizeof d1);
		if (t)
			sched_describe(t, d2, sizeof d2);
		ok(same && strcmp(d1, d2) == 0, "saved and loaded: %s", d1);
		sched_free(s);
		sched_free(t);
		free(buf);
	}
	struct sched *s = sched_function_new(NULL, NULL, NULL, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ok(sched_save(s, f) == DET_EINVAL && strstr(det_error_message(), "Lua function"),
	   "a function schedule is refused: %s", det_error_message());
	fclose(f);
	free(buf);
	sched_free(s);
	const char *bad[] = { "lr 0.1\n", "kind cosin\nlr 0.1\n", "kind cosine\nlr x\n", "kind warmup\nsteps 5\n",
		"kind multistep\nmilestones 3 1 2\n" };
	const char *why[] = { "before its kind", "unknown kind", "no number", "inner", "milestones" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct sched *t = sched_load(bad[i], strlen(bad[i]));
		ok(!t && det_error_code() == DET_EFORMAT && strstr(det_error_message(), why[i]),
		   "a broken saved schedule is named: %s", det_error_message());
		sched_free(t);
	}
}

int main(void)
{
	test_save_load();
	test_golden();
	test_formulas();
	test_keys_and_binding();
	return tap_done();
}
