/* test_sampler: each sampler against its formula — repeat factors exactly
 * (LVIS), stochastic rounding on average, class-aware and weighted draws
 * within 5 standard deviations of their probabilities, permutations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

#include "core/error.h"
#include "data/dataset.h"
#include "data/sampler.h"

#define N 200

/* Image i: class 0 if i < 150, class 1 if i % 7 == 0, class 2 if i % 40 == 3,
 * no boxes if i % 50 == 49 (and it has no other class). */
static int has(int i, int c)
{
	if (i % 50 == 49)
		return 0;
	return c == 0 ? i < 150 : c == 1 ? i % 7 == 0 : i % 40 == 3;
}

static struct dataset *make(void)
{
	struct dataset *ds = dataset_new("synthetic", NULL);

	for (int c = 0; c < 3; c++)
		dataset_class_add(ds, c == 0 ? "common" : c == 1 ? "medium" : "rare", c);
	for (int i = 0; i < N; i++) {
		dataset_image_add(ds, i, NULL, 100, 100);
		for (int c = 0; c < 3; c++)
			if (has(i, c)) {
				struct dataset_box b = { 10, 10, 50, 50, 1600, c, 0, 0, 0 };

				dataset_box_add(ds, &b);
				if (c == 0)
					dataset_box_add(ds, &b); /* two of class 0: counted once per image */
			}
	}
	return ds;
}

static void test_repeat_factor(struct dataset *ds)
{
	struct sampler_config cfg;
	struct sampler *s;
	double f[3] = { 0 }, rc[3], sum_r = 0;
	int exact = 1, rounding = 1;
	const int E = 2000;
	double *count = calloc(N, sizeof(double));

	sampler_config_default(&cfg, SAMPLER_REPEAT_FACTOR);
	cfg.threshold = 0.3f;
	s = sampler_new(ds, &cfg, NULL);
	ok(s != NULL, "repeat_factor sampler");
	for (int i = 0; i < N; i++)
		for (int c = 0; c < 3; c++)
			f[c] += has(i, c) / (double)N;
	for (int c = 0; c < 3; c++) {
		rc[c] = fmax(1, sqrt(0.3 / f[c]));
		exact &= fabs(sampler_class_repeat_factor(s, c) - rc[c]) < 1e-5;
	}
	ok(exact, "r(c) = max(1, sqrt(t / f(c))): %.4f %.4f %.4f", sampler_class_repeat_factor(s, 0),
		sampler_class_repeat_factor(s, 1), sampler_class_repeat_factor(s, 2));
	exact = 1;
	for (int i = 0; i < N; i++) {
		double r = 1;

		for (int c = 0; c < 3; c++)
			if (has(i, c))
				r = fmax(r, rc[c]);
		exact &= fabs(sampler_repeat_factor(s, (size_t)i) - r) < 1e-5;
		sum_r += r;
	}
	ok(exact, "r(image) = max over its classes, 1 without boxes (all %d images)", N);
	for (int e = 0; e < E; e++) {
		size_t *order, n;
		int per[N] = { 0 };

		sampler_epoch(s, 7, e, &order, &n);
		for (size_t k = 0; k < n; k++)
			per[order[k]]++;
		for (int i = 0; i < N; i++) {
			float r = sampler_repeat_factor(s, (size_t)i);

			rounding &= per[i] == (int)floorf(r) || per[i] == (int)ceilf(r);
			count[i] += per[i];
		}
		free(order);
	}
	ok(rounding, "each epoch repeats image i floor(r) or ceil(r) times");
	{
		double worst = 0;

		for (int i = 0; i < N; i++) {
			double r = sampler_repeat_factor(s, (size_t)i), frac = r - floor(r);
			double sd = sqrt(frac * (1 - frac) / E) + 1e-12, z = fabs(count[i] / E - r) / sd;

			if (frac > 0)
				worst = fmax(worst, z);
			else if (count[i] != r * E)
				worst = 1e9;
		}
		ok(worst < 5, "mean repeats per epoch = r (stochastic rounding), worst |z| = %.2f", worst);
	}
	ok(fabs(sampler_probability(s, 3) - sampler_repeat_factor(s, 3) / sum_r) < 1e-9, "probability = r_i / sum r");
	{
		size_t *a, *b, na, nb;

		sampler_epoch(s, 7, 3, &a, &na);
		sampler_epoch(s, 7, 3, &b, &nb);
		ok(na == nb && memcmp(a, b, na * sizeof *a) == 0, "same (seed, epoch): same list");
		free(a);
		free(b);
	}
	sampler_free(s);
	free(count);
	cfg.threshold = 0;
	ok(sampler_new(ds, &cfg, NULL) == NULL && strstr(det_error_message(), "threshold"), "threshold 0 refused: %s", det_error_message());
}

static void test_class_aware(struct dataset *ds)
{
	struct sampler_config cfg;
	struct sampler *s;
	size_t *order, n;
	double nc[3] = { 0 }, cont[3] = { 0 }, expect[3] = { 0 };
	const size_t D = 200000;
	int good = 1;

	sampler_config_default(&cfg, SAMPLER_CLASS_AWARE);
	cfg.num_samples = D;
	s = sampler_new(ds, &cfg, NULL);
	ok(s != NULL && sampler_epoch(s, 1, 0, &order, &n) == 0 && n == D, "class_aware draws num_samples per epoch");
	for (int i = 0; i < N; i++)
		for (int c = 0; c < 3; c++)
			nc[c] += has(i, c);
	/* P(image i) = sum over its classes of 1/K * 1/n_c; P(drawn image has c) = sum_i P(i) [c in i] */
	for (int i = 0; i < N; i++) {
		double p = 0;

		for (int c = 0; c < 3; c++)
			if (has(i, c))
				p += 1.0 / 3 / nc[c];
		good &= fabs(sampler_probability(s, (size_t)i) - p) < 1e-12;
		for (int c = 0; c < 3; c++)
			if (has(i, c))
				expect[c] += p;
	}
	ok(good, "sampler_probability matches 1/K sum_c [c in i] / n_c");
	for (size_t k = 0; k < n; k++)
		for (int c = 0; c < 3; c++)
			cont[c] += has((int)order[k], c);
	for (int c = 0; c < 3; c++) {
		double p = expect[c], sd = sqrt(p * (1 - p) / D), got = cont[c] / D;

		ok(fabs(got - p) < 5 * sd, "class %d appears in %.4f of draws (formula %.4f, 5 sd = %.4f)", c, got, p, 5 * sd);
	}
	{
		double *hits = calloc(N, sizeof(double)), worst = 0;

		for (size_t k = 0; k < n; k++)
			hits[order[k]]++;
		for (int i = 0; i < N; i++) {
			double p = sampler_probability(s, (size_t)i), sd = sqrt(p * (1 - p) / D);

			if (p == 0 && hits[i] > 0)
				worst = 1e9;
			else if (p > 0)
				worst = fmax(worst, fabs(hits[i] / D - p) / sd);
		}
		/* 200 images: the largest of 200 |z| stays under 5 with overwhelming odds */
		ok(worst < 5, "per-image frequencies within 5 sd of the formula (worst %.2f)", worst);
		free(hits);
	}
	free(order);
	sampler_free(s);
}

static void test_weights(struct dataset *ds)
{
	struct sampler_config cfg;
	struct sampler *s;
	float w[N];
	size_t *order, n;
	double g[3] = { 0 }, tot = 0;
	const size_t D = 100000;

	for (int i = 0; i < N; i++)
		w[i] = (float)(i % 3), tot += i % 3;
	sampler_config_default(&cfg, SAMPLER_WEIGHTS);
	cfg.num_samples = D;
	s = sampler_new(ds, &cfg, w);
	ok(s && sampler_epoch(s, 5, 0, &order, &n) == 0 && n == D, "weights sampler");
	for (size_t k = 0; k < n; k++)
		g[order[k] % 3]++;
	ok(g[0] == 0, "zero-weight images are never drawn");
	for (int k = 1; k < 3; k++) {
		double p = 0, sd;

		for (int i = k; i < N; i += 3)
			p += w[i] / tot;
		sd = sqrt(p * (1 - p) / D);
		ok(fabs(g[k] / D - p) < 5 * sd, "weight-%d images: %.4f of draws (formula %.4f)", k, g[k] / D, p);
	}
	free(order);
	sampler_free(s);
	w[17] = -1;
	ok(sampler_new(ds, &cfg, w) == NULL && strstr(det_error_message(), "image 18"), "a negative weight names the image: %s",
		det_error_message());
}

static void test_order(struct dataset *ds)
{
	struct sampler_config cfg;
	struct sampler *seq, *sh;
	size_t *a, *b, *c, na, nb, nc;
	int ident = 1, perm = 1;
	char seen[N] = { 0 };

	sampler_config_default(&cfg, SAMPLER_SEQUENTIAL);
	seq = sampler_new(ds, &cfg, NULL);
	sampler_epoch(seq, 1, 0, &a, &na);
	for (size_t k = 0; k < na; k++)
		ident &= a[k] == k;
	ok(na == N && ident, "sequential: 0..n-1");
	free(a);
	cfg.kind = SAMPLER_SHUFFLE;
	sh = sampler_new(ds, &cfg, NULL);
	sampler_epoch(sh, 1, 0, &a, &na);
	sampler_epoch(sh, 1, 0, &b, &nb);
	sampler_epoch(sh, 1, 1, &c, &nc);
	for (size_t k = 0; k < na; k++)
		perm &= !seen[a[k]]++;
	ok(na == N && perm, "shuffle: a permutation");
	ok(memcmp(a, b, na * sizeof *a) == 0 && memcmp(a, c, na * sizeof *a) != 0, "same epoch same order, next epoch another");
	free(a), free(b), free(c);
	sampler_free(seq);
	sampler_free(sh);
	{
		struct dataset *empty = dataset_new("empty", NULL);

		ok(sampler_new(empty, &cfg, NULL) == NULL && strstr(det_error_message(), "empty"), "an empty dataset is refused");
		dataset_free(empty);
	}
}

int main(void)
{
	struct dataset *ds = make();

	test_repeat_factor(ds);
	test_class_aware(ds);
	test_weights(ds);
	test_order(ds);
	dataset_free(ds);
	return tap_done();
}
