/* fold_bench.c: the kernels behind the plan's folds around ResNet's batch
 * norms, each beside the path it replaced, in the same run (interleaved
 * rep by rep, medians), with a check that both give the same bits:
 *   - the stem's max-pool over its BN + ReLU (8x64x128x128 -> 64x64):
 *     forward without / with the saved argmax, backward recomputing the
 *     argmax through the norm / scattering from the saved one, and the
 *     norm's own backward after each; then the scatter and the norm's
 *     backward channel by channel (nn_maxpool_idx_bn_backward);
 *   - a residual add over its bn2 (8x64x64x64, then ReLU): the norm writing
 *     its output and the add reading it / the norm's statistics only and
 *     the add applying it (nn_add_bn_forward).
 *
 *   bench/fold_bench [THREADS [REPS]]      (defaults 2 and 15) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#include "core/rng.h"
#include "core/threads.h"
#include "nn/ops.h"

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *fill(int64_t n, uint64_t seed)
{
	float *v = malloc((size_t)n * sizeof(float));
	struct rng r;

	rng_init(&r, seed, 0);
	for (int64_t i = 0; v && i < n; i++)
		v[i] = rng_normal(&r);
	return v;
}

int main(int argc, char **argv)
{
	const int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 15;
	const int n = 8, c = 64, h = 128, w = 128, oh = 64, ow = 64, rh = 64 * 64;
	const int64_t nx = (int64_t)n * c * h * w, ny = (int64_t)n * c * oh * ow, planes = (int64_t)n * c;
	float *x = fill(nx, 1), *dy = fill(ny, 2), *gm = fill(c, 3), *bt = fill(c, 4);
	float *y0 = malloc((size_t)ny * sizeof(float)), *y1 = malloc((size_t)ny * sizeof(float));
	float *d0 = malloc((size_t)nx * sizeof(float)), *d1 = malloc((size_t)nx * sizeof(float));
	float *dx = malloc((size_t)nx * sizeof(float)), *rm = calloc((size_t)c, sizeof(float));
	float *rv = malloc((size_t)c * sizeof(float)), *save = malloc(2 * (size_t)c * sizeof(float));
	float *dg = malloc((size_t)c * sizeof(float)), *db = malloc((size_t)c * sizeof(float));
	float *bx = fill(ny, 5), *id = fill(ny, 6), *ybn = malloc((size_t)ny * sizeof(float));
	float *a0 = malloc((size_t)ny * sizeof(float)), *a1 = malloc((size_t)ny * sizeof(float));
	uint8_t *idx = malloc((size_t)ny);
	double *t = malloc(9 * (size_t)reps * sizeof(double));
	float *g2 = malloc((size_t)nx * sizeof(float)), *dx2 = malloc((size_t)nx * sizeof(float));
	int same_stem = 1, same_add = 1;

	if (!x || !dy || !gm || !bt || !y0 || !y1 || !d0 || !d1 || !dx || !rm || !rv || !save || !dg || !db ||
		!bx || !id || !ybn || !a0 || !a1 || !idx || !t || !g2 || !dx2) {
		fprintf(stderr, "fold_bench: out of memory\n");
		return 1;
	}
	det_threads_set(threads);
	for (int i = 0; i < c; i++) {
		gm[i] = 1.0f + 0.1f * gm[i];
		rv[i] = 1;
	}
	nn_batchnorm_forward(x, gm, bt, NULL, n, c, (int64_t)h * w, 1e-5f, 0.1f, 1, rm, rv, save, 1);
	for (int r = 0; r < reps; r++) {
		double s[9];
		struct nn_bn_fold f = { gm, bt, save, 0 };

		/* the stem: before, then after */
		s[0] = omp_get_wtime();
		nn_maxpool_bn_forward(x, gm, bt, save, c, 1, y0, NULL, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
		s[1] = omp_get_wtime();
		nn_maxpool_bn_backward(x, gm, bt, save, c, 1, dy, d0, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0);
		s[2] = omp_get_wtime();
		nn_batchnorm_backward(x, d0, gm, bt, save, dx, dg, db, n, c, (int64_t)h * w, 1, 1, 0, 0, 0);
		s[3] = omp_get_wtime();
		nn_maxpool_bn_forward(x, gm, bt, save, c, 1, y1, idx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
		s[4] = omp_get_wtime();
		nn_maxpool_backward_idx(idx, dy, d1, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0);
		s[5] = omp_get_wtime();
		nn_batchnorm_backward(x, d1, gm, bt, save, dx, dg, db, n, c, (int64_t)h * w, 1, 1, 0, 0, 0);
		s[6] = omp_get_wtime();
		nn_maxpool_idx_bn_backward(idx, dy, g2, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0, x, gm, bt, save, dx2, dg, db,
			n, c, 1, 1, 0, 0, 0);
		s[7] = omp_get_wtime();
		for (int k = 0; k < 7; k++)
			if (k != 6)
				t[k * reps + r] = s[k + 1] - s[k];
		t[8 * reps + r] = s[7] - s[6];
		same_stem &= !memcmp(y0, y1, (size_t)ny * sizeof(float)) && !memcmp(d0, d1, (size_t)nx * sizeof(float)) &&
			!memcmp(d1, g2, (size_t)nx * sizeof(float)) && !memcmp(dx, dx2, (size_t)nx * sizeof(float));

		/* a residual add over bn2: the norm's output stored and read, then folded */
		s[0] = omp_get_wtime();
		nn_batchnorm_forward(bx, gm, bt, ybn, n, c, rh, 1e-5f, 0.1f, 1, rm, rv, save + 0, 0);
#pragma omp parallel for simd schedule(static)
		for (int64_t i = 0; i < ny; i++) {
			float v = ybn[i] + id[i];
			a0[i] = v < 0 ? 0 : v;
		}
		s[1] = omp_get_wtime();
		nn_batchnorm_forward(bx, gm, bt, NULL, n, c, rh, 1e-5f, 0.1f, 1, rm, rv, save + 0, 0);
		nn_add_bn_forward(bx, &f, id, NULL, a1, planes, c, rh, 1);
		s[2] = omp_get_wtime();
		t[6 * reps + r] = s[1] - s[0];
		t[7 * reps + r] = s[2] - s[1];
		same_add &= !memcmp(a0, a1, (size_t)ny * sizeof(float));
	}
	printf("# the plan's folds around batch norms, %d threads, medians of %d reps (ms), before | after\n",
		threads, reps);
	printf("stem max-pool over BN+ReLU 8x64x128x128: forward %.2f | %.2f (saving the argmax), backward %.2f | "
		"%.2f (from it), the BN's backward %.2f | %.2f; total %.2f | %.2f; same bits: %s\n",
		median(t, reps) * 1e3, median(t + 3 * reps, reps) * 1e3, median(t + reps, reps) * 1e3,
		median(t + 4 * reps, reps) * 1e3, median(t + 2 * reps, reps) * 1e3, median(t + 5 * reps, reps) * 1e3,
		(median(t, reps) + median(t + reps, reps) + median(t + 2 * reps, reps)) * 1e3,
		(median(t + 3 * reps, reps) + median(t + 4 * reps, reps) + median(t + 5 * reps, reps)) * 1e3,
		same_stem ? "yes" : "NO");
	printf("stem backward, the pool's then the BN's: %.2f apart | %.2f channel by channel "
		"(nn_maxpool_idx_bn_backward)\n", (median(t + 4 * reps, reps) + median(t + 5 * reps, reps)) * 1e3,
		median(t + 8 * reps, reps) * 1e3);
	printf("residual add over bn2 8x64x64x64 (+ReLU): BN then add %.2f | BN statistics, add applies it %.2f; "
		"same bits: %s\n", median(t + 6 * reps, reps) * 1e3, median(t + 7 * reps, reps) * 1e3,
		same_add ? "yes" : "NO");
	free(x);
	free(dy);
	free(gm);
	free(bt);
	free(y0);
	free(y1);
	free(d0);
	free(d1);
	free(dx);
	free(rm);
	free(rv);
	free(save);
	free(dg);
	free(db);
	free(bx);
	free(id);
	free(ybn);
	free(a0);
	free(a1);
	free(idx);
	free(t);
	free(g2);
	free(dx2);
	return same_stem && same_add ? 0 : 1;
}
