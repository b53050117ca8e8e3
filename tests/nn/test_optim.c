/* test_optim.c: the optimisers against PyTorch 1.13 (tests/golden/optim),
 * plus determinism, state save/load/resume, hyper-parameters by name,
 * clipping and the NaN guard. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/optim.h"
#include "tests/tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

#define MAXP 64
#define STEPS 5

static struct optim_segment segs[8];
static char segnames[8][32];
static size_t nseg, nparam;
static float init[MAXP], grads[STEPS][MAXP];

static size_t parse_floats(char *s, float *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (n < max) {
		double v = strtod(s, &end);
		if (end == s)
			break;
		out[n++] = (float)v;
		s = end;
	}
	return n;
}

/* "key=value key=value" into cfg; returns 0 or -1 on an unknown key */
static int apply_config(struct optim *opt, char *s)
{
	char *tok = strtok(s, " \n");

	while (tok) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq = 0;
		if (optim_set(opt, tok, strtod(eq + 1, NULL))) {
			tap_diag("%s", det_error_message());
			return -1;
		}
		tok = strtok(NULL, " \n");
	}
	return 0;
}

static int add_group(struct optim *opt, char *s)
{
	struct optim_group g = { .lr_mult = 1 };
	char *tok = strtok(s, " \n");

	g.match = tok;
	while ((tok = strtok(NULL, " \n"))) {
		char *eq = strchr(tok, '=');
		double v;
		if (!eq)
			return -1;
		*eq = 0;
		v = strtod(eq + 1, NULL);
		if (strcmp(tok, "lr_mult") == 0) {
			g.lr_mult = v;
		} else if (strcmp(tok, "weight_decay") == 0) {
			g.has_weight_decay = 1;
			g.weight_decay = v;
		} else if (strcmp(tok, "l1") == 0) {
			g.has_l1 = 1;
			g.l1 = v;
		} else {
			return -1;
		}
	}
	return optim_group_add(opt, &g);
}

/* |got - want| <= 1e-5 |want| + 1e-6: relative 1e-5, with an absolute
 * floor of 1e-6 for the few weights that pass near zero, where the update
 * cancels the weight and float32 rounding of operands near 1 (ulp 1.2e-7)
 * dominates any relative measure. *worst collects the largest |got - want|. */
static int check_close(const float *got, const float *want, size_t n, double *worst)
{
	int good = 1;

	for (size_t i = 0; i < n; i++) {
		double diff = fabs((double)got[i] - want[i]);
		if (diff > *worst)
			*worst = diff;
		if (!tap_close(got[i], want[i], 1e-5, 1e-6))
			good = 0;
	}
	return good;
}

/* Runs every golden case (or only `only`, with lr scaled by lr_scale, to
 * show the comparison fails on a wrong update); returns the cases that
 * matched. */
static int run_golden(const char *only, double lr_scale)
{
	char path[4096], line[8192];
	const char *top = getenv("top_srcdir");
	FILE *f;
	struct optim *opt = NULL;
	float p[MAXP], g[MAXP], want[MAXP];
	char casename[64] = "";
	int good = 1, ncases = 0, nmatched = 0, skip = 0;
	double worst = 0;

	nseg = 0;
	snprintf(path, sizeof path, "%s/tests/golden/optim/optim.txt", top ? top : TOP_SRCDIR);
	f = fopen(path, "r");
	if (only == NULL && !ok(f != NULL, "open %s", path))
		return 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *rest;
		int k;

		if (line[0] == '#')
			continue;
		if (skip && strncmp(line, "case ", 5) != 0)
			continue;
		if (strncmp(line, "seg ", 4) == 0) {
			struct optim_segment *s = &segs[nseg];
			sscanf(line + 4, "%31s %zu %zu %u", segnames[nseg], &s->offset, &s->count, &s->flags);
			s->name = segnames[nseg++];
			nparam = s->offset + s->count;
		} else if (strncmp(line, "init ", 5) == 0) {
			parse_floats(line + 5, init, MAXP);
		} else if (strncmp(line, "grad ", 5) == 0) {
			k = (int)strtol(line + 5, &rest, 10);
			parse_floats(rest, grads[k - 1], MAXP);
		} else if (strncmp(line, "case ", 5) == 0) {
			char kind[32];
			int n = 0;
			sscanf(line + 5, "%63s %31s %n", casename, kind, &n);
			rest = line + 5 + n;
			skip = only && strcmp(only, casename) != 0;
			if (skip)
				continue;
			opt = optim_new(optim_kind_parse(kind), NULL);
			good = opt && apply_config(opt, rest) == 0;
			if (good)
				optim_config(opt)->lr *= lr_scale;
			memcpy(p, init, sizeof p);
			worst = 0;
		} else if (strncmp(line, "group ", 6) == 0) {
			good = good && add_group(opt, line + 6) == 0;
		} else if (strncmp(line, "norm ", 5) == 0) {
			k = (int)strtol(line + 5, &rest, 10);
			double want_norm = strtod(rest, NULL);
			memcpy(g, grads[k - 1], sizeof g);
			if (!optim_is_bound(opt))
				good = good && optim_bind(opt, p, g, nparam, segs, nseg) == 0;
			good = good && optim_step(opt) == 0;
			if (!tap_close(optim_grad_norm(opt), want_norm, 1e-6, 0)) {
				tap_diag("%s step %d: norm %.9g, torch %.9g", casename, k, optim_grad_norm(opt), want_norm);
				good = 0;
			}
		} else if (strncmp(line, "param ", 6) == 0) {
			k = (int)strtol(line + 6, &rest, 10);
			parse_floats(rest, want, MAXP);
			if (optim_step_count(opt) < (uint64_t)k) {  /* not stepped by a norm line */
				memcpy(g, grads[k - 1], sizeof g);
				if (!optim_is_bound(opt))
					good = good && optim_bind(opt, p, g, nparam, segs, nseg) == 0;
				good = good && optim_step(opt) == 0;
			}
			if (!check_close(p, want, nparam, &worst)) {
				if (!only)
					tap_diag("%s: parameters differ from torch after step %d", casename, k);
				good = 0;
			}
		} else if (strncmp(line, "ema ", 4) == 0) {
			k = (int)strtol(line + 4, &rest, 10);
			parse_floats(rest, want, MAXP);
			if (!optim_ema_weights(opt) || !check_close(optim_ema_weights(opt), want, nparam, &worst)) {
				tap_diag("%s: EMA differs from the reference after step %d", casename, k);
				good = 0;
			}
		} else if (strncmp(line, "end", 3) == 0) {
			good = good && optim_step_count(opt) == STEPS;
			if (!only)
				ok(good, "%s: 5 steps match torch to 1e-5 relative (largest difference %.2g)",
				   casename, worst);
			nmatched += good;
			optim_free(opt);
			opt = NULL;
			ncases++;
		}
	}
	fclose(f);
	if (!only)
		ok(ncases >= 20, "golden file holds %d cases", ncases);
	return nmatched;
}

/* A larger model: several segments spanning many work items. */
#define BIGN 70000
static struct optim_segment bigsegs[] = {
	{ "backbone.conv1.weight", 0, 30000, 0 },
	{ "backbone.bn1.weight", 30000, 64, OPTIM_NORM },
	{ "backbone.bn1.bias", 30064, 64, OPTIM_NORM | OPTIM_BIAS },
	{ "head.cls.weight", 30128, 39000, 0 },
	{ "head.cls.bias", 69128, 872, OPTIM_BIAS },
};
#define NBIGSEG (sizeof bigsegs / sizeof bigsegs[0])

static void fill_grads(float *g, uint64_t seed, int step)
{
	struct rng r;

	rng_init(&r, seed, (uint64_t)step);
	for (size_t i = 0; i < BIGN; i++)
		g[i] = rng_normal(&r) * 0.1f;
}

static struct optim *make_big(enum optim_kind kind, float *p, float *g)
{
	struct optim *opt = optim_new(kind, NULL);
	struct optim_group nodecay = { .match = "norm|bias", .lr_mult = 1, .has_weight_decay = 1 };
	struct optim_group head = { .match = "head.", .lr_mult = 0.5 };

	optim_set(opt, "lr", 0.01);
	optim_set(opt, "weight_decay", 1e-3);
	optim_set(opt, "clip", 5.0);
	optim_set(opt, "ema", 0.99);
	optim_set(opt, "ema_warmup", 10);
	if (kind == OPTIM_SGD)
		optim_set(opt, "momentum", 0.9);
	optim_group_add(opt, &nodecay);
	optim_group_add(opt, &head);
	for (size_t i = 0; i < BIGN; i++)
		p[i] = (float)sin((double)i * 0.001);
	optim_bind(opt, p, g, BIGN, bigsegs, NBIGSEG);
	return opt;
}

static void run_steps(struct optim *opt, float *g, int from, int to)
{
	for (int s = from; s < to; s++) {
		fill_grads(g, 7, s);
		optim_step(opt);
	}
}

static void test_determinism_and_resume(enum optim_kind kind)
{
	static float p1[BIGN], g1[BIGN], p2[BIGN], g2[BIGN], p3[BIGN], g3[BIGN];
	struct optim *a, *b, *c;
	const char *name = optim_kind_name(kind);
	unsigned char *buf;
	size_t size;
	FILE *f;
	int rc;

	omp_set_num_threads(2);
	a = make_big(kind, p1, g1);
	run_steps(a, g1, 0, 12);

	omp_set_num_threads(1);
	b = make_big(kind, p2, g2);
	run_steps(b, g2, 0, 12);
	omp_set_num_threads(2);
	ok(memcmp(p1, p2, sizeof p1) == 0 && memcmp(optim_ema_weights(a), optim_ema_weights(b), sizeof p1) == 0,
	   "%s: 1 and 2 threads give bit-identical weights and EMA after 12 steps", name);
	optim_free(b);

	/* stop at step 5, save to a buffer, load into a fresh optimiser, go on */
	b = make_big(kind, p2, g2);
	run_steps(b, g2, 0, 5);
	size = optim_state_size(b);
	buf = malloc(size);
	rc = optim_state_write(b, buf, size);
	optim_free(b);
	c = make_big(kind, p3, g3);
	memcpy(p3, p2, sizeof p3);   /* the weights come from the model checkpoint */
	rc = rc || optim_state_read(c, buf, size);
	ok(rc == 0 && optim_step_count(c) == 5, "%s: state written to a buffer and read back (%zu bytes)", name, size);
	run_steps(c, g3, 5, 12);
	ok(memcmp(p1, p3, sizeof p1) == 0 && memcmp(optim_ema_weights(a), optim_ema_weights(c), sizeof p1) == 0,
	   "%s: save at step 5, load, continue to 12 is bit-identical to an uninterrupted run", name);
	ok(optim_grad_norm(a) == optim_grad_norm(c), "%s: the same gradient norm at step 12", name);
	optim_free(c);

	/* the same through a FILE*, followed by other data */
	b = make_big(kind, p2, g2);
	run_steps(b, g2, 0, 7);
	f = tmpfile();
	rc = optim_state_save(b, f) || fputs("trailer", f) < 0;
	optim_free(b);
	rewind(f);
	c = make_big(kind, p3, g3);
	memcpy(p3, p2, sizeof p3);
	rc = rc || optim_state_load(c, f);
	ok(rc == 0 && fgetc(f) == 't', "%s: state saved to and loaded from a FILE* (reads exactly one record)", name);
	fclose(f);
	run_steps(c, g3, 7, 12);
	ok(memcmp(p1, p3, sizeof p1) == 0, "%s: resumed from a file at step 7, bit-identical at 12", name);
	optim_free(c);

	/* corruptions are refused with a message, leaving the optimiser as it was */
	c = make_big(kind, p3, g3);
	run_steps(c, g3, 0, 2);
	buf[size / 2] ^= 1;
	rc = optim_state_read(c, buf, size);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "checksum") && optim_step_count(c) == 2,
	   "%s: a flipped bit is refused: %s", name, det_error_message());
	buf[size / 2] ^= 1;
	rc = optim_state_read(c, buf, size - 10);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "cut short"), "%s: a short record is refused: %s",
	   name, det_error_message());
	buf[8] = 99;
	rc = optim_state_read(c, buf, size);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "version 99"), "%s: a future version is refused: %s",
	   name, det_error_message());
	buf[8] = 1;
	optim_free(c);
	free(buf);
	optim_free(a);
}

static void test_mismatch(void)
{
	static float p[BIGN], g[BIGN];
	struct optim *sgd = make_big(OPTIM_SGD, p, g), *adam = make_big(OPTIM_ADAM, p, g);
	struct optim *small = optim_new(OPTIM_SGD, NULL);
	size_t size = optim_state_size(sgd);
	unsigned char *buf = malloc(size);
	int rc;

	optim_state_write(sgd, buf, size);
	rc = optim_state_read(adam, buf, size);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "holds sgd state"), "kind mismatch: %s",
	   det_error_message());
	optim_bind(small, p, g, 100, bigsegs, 0);
	rc = optim_state_read(small, buf, size);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "70000 parameters"), "size mismatch: %s",
	   det_error_message());
	memcpy(buf, "NOTOPTIM", 8);
	rc = optim_state_read(sgd, buf, size);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "magic"), "bad magic: %s", det_error_message());
	free(buf);
	optim_free(sgd);
	optim_free(adam);
	optim_free(small);
}

static void test_hyperparameters(void)
{
	struct optim *opt = optim_new(OPTIM_SGD, NULL);
	struct optim *adam = optim_new(OPTIM_ADAMW, NULL);
	double v = -1;
	char line[256];
	int rc;

	ok(optim_get(opt, "lr", &v) == 0 && v == 0.01, "sgd default lr is 0.01");
	ok(optim_set(opt, "lr", 0.003) == 0 && optim_config(opt)->lr == 0.003, "lr is writable by name");
	rc = optim_set(opt, "momentun", 0.9);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "'momentun'") && strstr(det_error_message(), "momentum, "),
	   "a misspelt key is refused, naming it and the valid ones: %s", det_error_message());
	rc = optim_get(opt, "beta1", &v);
	ok(rc == DET_EINVAL, "sgd has no beta1: %s", det_error_message());
	rc = optim_set(opt, "nesterov", 1);
	ok(rc == DET_EINVAL && optim_config(opt)->nesterov == 0, "nesterov without momentum is refused: %s",
	   det_error_message());
	ok(optim_set(opt, "lr", -1) == DET_EINVAL && optim_config(opt)->lr == 0.003,
	   "a negative lr is refused and the old one kept");
	ok(optim_get(adam, "weight_decay", &v) == 0 && v == 0.01 && optim_config(adam)->decoupled,
	   "adamw defaults to decoupled weight_decay 0.01");
	optim_describe(adam, line, sizeof line);
	ok(strstr(line, "adamw lr=0.001 betas=(0.9, 0.999)") != NULL, "describe: %s", line);
	ok(optim_step(opt) == DET_EINVAL, "stepping unbound is refused: %s", det_error_message());
	ok(optim_key_is_flag("amsgrad") && !optim_key_is_flag("lr"), "flags are known");
	ok(optim_momentum_set(adam, 0.85) == 0 && optim_config(adam)->beta1 == 0.85 &&
	   optim_momentum_set(opt, 0.9) == 0 && optim_config(opt)->momentum == 0.9 &&
	   optim_momentum_set(opt, NAN) == 0 && optim_config(opt)->momentum == 0.9,
	   "a cycled momentum lands in beta1 for Adam, momentum for SGD; NaN leaves it");
	optim_free(opt);
	optim_free(adam);
}

static void test_groups_and_clip(void)
{
	static float p[BIGN], g[BIGN];
	struct optim *opt = make_big(OPTIM_SGD, p, g);
	double norm, want = 0;
	float before;

	ok(optim_segment_group(opt, 0) == -1 && optim_segment_group(opt, 1) == 0 &&
	   optim_segment_group(opt, 2) == 0 && optim_segment_group(opt, 3) == 1 &&
	   optim_segment_group(opt, 4) == 0, "groups: first match wins, by flag or name substring");
	fill_grads(g, 3, 0);
	for (size_t i = 0; i < BIGN; i++)
		want += (double)g[i] * g[i];
	want = sqrt(want);
	before = g[100];
	norm = optim_clip_grad_norm(g, bigsegs, NBIGSEG, 1.0);
	ok(tap_close(norm, want, 1e-12, 0), "clip_grad_norm returns the norm before clipping (%g)", norm);
	ok(tap_close(g[100], before * (1.0 / (want + 1e-6)), 1e-6, 0), "and scales by max/(norm+1e-6)");
	ok(tap_close(optim_clip_grad_norm(g, bigsegs, NBIGSEG, 0), 1.0, 1e-5, 0), "the clipped norm is 1");

	/* NaN guard */
	memcpy(g, p, sizeof g);
	{
		static float keep[BIGN];
		memcpy(keep, p, sizeof keep);
		g[12345] = NAN;
		uint64_t steps = optim_step_count(opt);
		ok(optim_step(opt) == DET_ENUM && memcmp(keep, p, sizeof keep) == 0 && optim_step_count(opt) == steps,
		   "a NaN gradient stops the step, weights untouched: %s", det_error_message());
	}
	/* frozen segments are not updated */
	{
		struct optim_segment fz[NBIGSEG];
		static float keep[BIGN];
		memcpy(fz, bigsegs, sizeof fz);
		fz[0].flags |= OPTIM_FROZEN;
		fill_grads(g, 4, 0);
		ok(optim_bind(opt, p, g, BIGN, fz, NBIGSEG) == 0, "rebind with the same layout");
		memcpy(keep, p, sizeof keep);
		optim_step(opt);
		ok(memcmp(keep, p, 30000 * sizeof *p) == 0 && memcmp(keep + 30000, p + 30000, 64 * sizeof *p) != 0,
		   "a frozen segment keeps its weights while the others move");
	}
	{
		struct optim_segment bad[2] = { { "a", 0, 10, 0 }, { "b", 5, 10, 0 } };
		ok(optim_bind(opt, p, g, BIGN, bad, 2) == DET_EINVAL && strstr(det_error_message(), "overlap"),
		   "overlapping segments are refused: %s", det_error_message());
	}
	/* EMA swap goes there and back */
	{
		static float keep[BIGN];
		memcpy(keep, p, sizeof keep);
		ok(optim_ema_swap(opt) == 0 && memcmp(p, optim_ema_weights(opt), sizeof keep) != 0 &&
		   memcmp(keep, optim_ema_weights(opt), sizeof keep) == 0 && optim_ema_swap(opt) == 0 &&
		   memcmp(keep, p, sizeof keep) == 0, "the EMA swaps with the weights and back");
	}
	optim_free(opt);
}

/* SGD with momentum and coupled weight decay (the one-pass update) against
 * torch.optim.SGD's formulas written out in float, step by step: the same
 * bits, with dampening, across item boundaries (the first step and the
 * Nesterov variant run the separate passes). */
static void test_sgd_one_pass(void)
{
	enum { N = 20000 };
	static float p[N], g[N], rp[N], rb[N];
	const float lr = 0.05f, mu = 0.9f, wd = 1e-3f, damp = 0.1f, keep = 1.0f - damp;
	struct optim_segment segs[2] = { { "w", 0, 12345, 0 }, { "b", 12345, N - 12345, 0 } };
	struct optim *opt = optim_new(OPTIM_SGD, NULL);
	struct rng r;
	int same = 1;

	rng_init(&r, 7, 0);
	for (int i = 0; i < N; i++)
		rp[i] = p[i] = rng_normal(&r);
	optim_set(opt, "lr", lr);
	optim_set(opt, "momentum", mu);
	optim_set(opt, "weight_decay", wd);
	optim_set(opt, "dampening", damp);
	optim_bind(opt, p, g, N, segs, 2);
	for (int t = 0; t < 4; t++) {
		for (int i = 0; i < N; i++)
			g[i] = rng_normal(&r) * 0.1f;
		optim_step(opt);
		for (int i = 0; i < N; i++) {
			float d = g[i] + wd * rp[i];
			rb[i] = t == 0 ? d : rb[i] * mu + keep * d;
			rp[i] = rp[i] - lr * rb[i];
		}
		same &= memcmp(p, rp, sizeof p) == 0;
	}
	ok(same, "SGD momentum %g, weight decay %g, dampening %g: 4 steps bit-identical to the formulas in float",
	   mu, wd, damp);
	optim_free(opt);
}

int main(void)
{
	run_golden(NULL, 1.0);
	ok(run_golden("adam", 1.0) == 1 && run_golden("adam", 1.0 + 1e-4) == 0 &&
	   run_golden("rmsprop_centered", 1.0 + 1e-4) == 0,
	   "the golden comparison fails when the lr is off by 1e-4 (it can catch a wrong update)");
	test_hyperparameters();
	test_groups_and_clip();
	test_mismatch();
	test_sgd_one_pass();
	for (int k = 0; k < OPTIM_NKINDS; k++)
		test_determinism_and_resume((enum optim_kind)k);
	return tap_done();
}
