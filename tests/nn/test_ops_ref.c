/* test_ops_ref.c: the vectorised max-pool kernels of ops.c against plain
 * scalar loops written here (the loops they replaced), bit for bit, on
 * shapes with clipped edge windows, ties, signed zeros and NaNs, with 1 and
 * 2 threads; and the max-pool that applies a batch norm to its taps against
 * pooling the norm's stored output; the one-pass group norm backward
 * against the three-pass one it replaced. The finite-difference and PyTorch
 * checks (test_gradcheck, test_nn_golden) say the maths is right; this says
 * the fast paths compute exactly what the plain ones did. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/threads.h"
#include "nn/ops.h"
#include "tests/tap.h"

/* ---- the reference max-pool: the scalar scan, window by window ---- */

static void ref_maxpool_forward(const float *x, float *y, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
	for (int64_t p = 0; p < planes; p++)
		for (int i = 0; i < oh; i++)
			for (int j = 0; j < ow; j++) {
				int a0 = i * sh - ph, a1 = a0 + kh, b0 = j * sw - pw, b1 = b0 + kw;
				float best = -INFINITY;
				a0 = a0 < 0 ? 0 : a0;
				a1 = a1 > h ? h : a1;
				b0 = b0 < 0 ? 0 : b0;
				b1 = b1 > w ? w : b1;
				for (int a = a0; a < a1; a++)
					for (int b = b0; b < b1; b++) {
						float v = x[p * h * w + a * w + b];
						best = !(v <= best) ? v : best;
					}
				y[(p * oh + i) * ow + j] = best;
			}
}

static void ref_maxpool_backward(const float *x, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc)
{
	if (!acc)
		memset(dx, 0, sizeof(float) * (size_t)(planes * h * w));
	for (int64_t p = 0; p < planes; p++)
		for (int i = 0; i < oh; i++)
			for (int j = 0; j < ow; j++) {
				int a0 = i * sh - ph, a1 = a0 + kh, b0 = j * sw - pw, b1 = b0 + kw, at;
				const float *xp = x + p * h * w;
				float best;
				a0 = a0 < 0 ? 0 : a0;
				a1 = a1 > h ? h : a1;
				b0 = b0 < 0 ? 0 : b0;
				b1 = b1 > w ? w : b1;
				if (a0 >= a1 || b0 >= b1)
					continue;
				at = a0 * w + b0;
				best = xp[at];
				for (int a = a0; a < a1; a++)
					for (int b = b0; b < b1; b++)
						if (!(xp[a * w + b] <= best)) {
							best = xp[a * w + b];
							at = a * w + b;
						}
				dx[p * h * w + at] += dy[(p * oh + i) * ow + j];
			}
}

/* ---- the reference group norm backward: the three-pass version (a
 * per-channel pass for dgamma and dbeta, then per group the sums and dx),
 * with ops.c's expressions ---- */

#define REF_PUT(dx, i, v, acc) ((acc) ? ((dx)[i] += (v)) : ((dx)[i] = (v)))

static inline float ref_xhat(float x, float mean, float invstd)
{
	return (x - mean) * invstd;
}

static inline float ref_affine(float xh, float gamma, float beta)
{
	return xh * gamma + beta;
}

static void ref_groupnorm_backward(const float *x, const float *dy, const float *gamma, const float *beta,
	const float *save, float *dx, float *dgamma, float *dbeta, int n, int c, int64_t hw,
	int groups, int relu, int acc_x, int acc_gamma, int acc_beta)
{
	const int cg = c / groups;
	const int64_t m = (int64_t)cg * hw;

	if (dgamma || dbeta) {
#pragma omp parallel for schedule(static)
		for (int ch = 0; ch < c; ch++) {
			const float gm = gamma[ch], bt = beta[ch];
			double sg = 0, sgx = 0;
			for (int b = 0; b < n; b++) {
				int ng = b * groups + ch / cg;
				const float mean = save[ng], invstd = save[n * groups + ng];
				const float *p = x + ((int64_t)b * c + ch) * hw, *g = dy + ((int64_t)b * c + ch) * hw;
				float fsg = 0, fsgx = 0;
#pragma omp simd reduction(+ : fsg, fsgx)
				for (int64_t i = 0; i < hw; i++) {
					float xh = ref_xhat(p[i], mean, invstd);
					float gi = relu && !(ref_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
					fsg += gi;
					fsgx += gi * xh;
				}
				sg += fsg;
				sgx += fsgx;
			}
			if (dbeta)
				REF_PUT(dbeta, ch, (float)sg, acc_beta);
			if (dgamma)
				REF_PUT(dgamma, ch, (float)sgx, acc_gamma);
		}
	}
	if (!dx)
		return;
#pragma omp parallel for schedule(static)
	for (int ng = 0; ng < n * groups; ng++) {
		const float mean = save[ng], invstd = save[n * groups + ng];
		const int64_t off = (int64_t)ng * m;
		double sh = 0, shx = 0;
		float mh, mhx;

		/* sum h = sum_c gamma_c sum_i g, sum h xhat likewise */
		for (int j = 0; j < cg; j++) {
			const int ch = (ng % groups) * cg + j;
			const float gm = gamma[ch], bt = beta[ch];
			const float *p = x + off + (int64_t)j * hw, *g = dy + off + (int64_t)j * hw;
			float fs = 0, fsx = 0;
#pragma omp simd reduction(+ : fs, fsx)
			for (int64_t i = 0; i < hw; i++) {
				float xh = ref_xhat(p[i], mean, invstd);
				float gi = relu && !(ref_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
				fs += gi;
				fsx += gi * xh;
			}
			sh += (double)gm * fs;
			shx += (double)gm * fsx;
		}
		mh = (float)(sh / (double)m);
		mhx = (float)(shx / (double)m);
		for (int j = 0; j < cg; j++) {
			const int ch = (ng % groups) * cg + j;
			const float gm = gamma[ch], bt = beta[ch];
			const float *p = x + off + (int64_t)j * hw, *g = dy + off + (int64_t)j * hw;
			float *d = dx + off + (int64_t)j * hw;
			if (acc_x) {
#pragma omp simd
				for (int64_t i = 0; i < hw; i++) {
					float xh = ref_xhat(p[i], mean, invstd);
					float gi = relu && !(ref_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
					d[i] += invstd * (gi * gm - mh - xh * mhx);
				}
			} else {
#pragma omp simd
				for (int64_t i = 0; i < hw; i++) {
					float xh = ref_xhat(p[i], mean, invstd);
					float gi = relu && !(ref_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
					d[i] = invstd * (gi * gm - mh - xh * mhx);
				}
			}
		}
	}
}

/* Inputs with repeats (ties), +0 and -0, and a few NaNs. */
static void fill(float *v, size_t n, uint64_t seed, int nans)
{
	struct rng r;

	rng_init(&r, seed, 0);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = rng_below(&r, 10);
		v[i] = k == 0 ? 0.0f : k == 1 ? -0.0f : k == 2 ? 0.5f : rng_normal(&r);
	}
	for (int k = 0; k < nans && n; k++)
		v[rng_below(&r, (uint32_t)n)] = NAN;
}

static float *fill_new(size_t n, uint64_t seed)
{
	float *v = malloc(n * sizeof(float));

	fill(v, n, seed, 0);
	return v;
}

static int same_bits(const float *a, const float *b, size_t n)
{
	return memcmp(a, b, n * sizeof(float)) == 0;
}

static void check_maxpool(int h, int w, int k, int s, int pad, int nans)
{
	const int planes = 5, oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
	const size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
	float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float));
	float *y = malloc(ny * sizeof(float)), *ry = malloc(ny * sizeof(float));
	float *dx = malloc(nx * sizeof(float)), *rdx = malloc(nx * sizeof(float));
	uint8_t *idx = malloc(ny);

	fill(x, nx, (uint64_t)(h * 131 + w * 7 + k), nans);
	fill(dy, ny, 99, 0);
	for (int threads = 1; threads <= 2; threads++) {
		det_threads_set(threads);
		ref_maxpool_forward(x, ry, planes, h, w, oh, ow, k, k, s, s, pad, pad);
		nn_maxpool_forward(x, y, NULL, planes, h, w, oh, ow, k, k, s, s, pad, pad);
		ok(same_bits(y, ry, ny), "maxpool %dx%d/%d pad %d on %dx%d%s, %d thread(s): forward bit-identical",
			k, k, s, pad, h, w, nans ? " with NaNs" : "", threads);
		memset(y, 0, ny * sizeof(float));
		nn_maxpool_forward(x, y, idx, planes, h, w, oh, ow, k, k, s, s, pad, pad);
		ok(same_bits(y, ry, ny), "maxpool %dx%d/%d pad %d on %dx%d%s, %d thread(s): forward saving the argmax "
			"bit-identical", k, k, s, pad, h, w, nans ? " with NaNs" : "", threads);
		for (int acc = 0; acc <= 1; acc++) {
			fill(dx, nx, 5, 0);
			memcpy(rdx, dx, nx * sizeof(float));
			ref_maxpool_backward(x, dy, rdx, planes, h, w, oh, ow, k, k, s, s, pad, pad, acc);
			nn_maxpool_backward(x, dy, dx, planes, h, w, oh, ow, k, k, s, s, pad, pad, acc);
			ok(same_bits(dx, rdx, nx), "maxpool %dx%d/%d pad %d on %dx%d%s, %d thread(s): backward%s bit-identical",
				k, k, s, pad, h, w, nans ? " with NaNs" : "", threads, acc ? " (accumulating)" : "");
			fill(dx, nx, 5, 0);
			nn_maxpool_backward_idx(idx, dy, dx, planes, h, w, oh, ow, k, k, s, s, pad, pad, acc);
			ok(same_bits(dx, rdx, nx), "maxpool %dx%d/%d pad %d on %dx%d%s, %d thread(s): backward%s from the "
				"saved argmax bit-identical", k, k, s, pad, h, w, nans ? " with NaNs" : "", threads,
				acc ? " (accumulating)" : "");
		}
	}
	free(idx);
	free(x);
	free(dy);
	free(y);
	free(ry);
	free(dx);
	free(rdx);
}

/* The max-pool that applies a batch norm to its taps against the norm's
 * stored output pooled by the reference loops: the same bits. */
static void check_maxpool_bn(int n, int c, int h, int w, int relu)
{
	const int planes = n * c, oh = (h + 2 - 3) / 2 + 1, ow = (w + 2 - 3) / 2 + 1;
	const size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
	float *x = malloc(nx * sizeof(float)), *ybn = malloc(nx * sizeof(float));
	float *dy = malloc(ny * sizeof(float)), *y = malloc(ny * sizeof(float)), *ry = malloc(ny * sizeof(float));
	float *dx = malloc(nx * sizeof(float)), *rdx = malloc(nx * sizeof(float));
	float *gm = malloc((size_t)c * sizeof(float)), *bt = malloc((size_t)c * sizeof(float));
	float *rm = calloc((size_t)c, sizeof(float)), *rv = malloc((size_t)c * sizeof(float));
	float *save = malloc(2 * (size_t)c * sizeof(float));
	uint8_t *idx = malloc(ny);

	fill(x, nx, 17, 0);
	fill(dy, ny, 18, 0);
	fill(gm, (size_t)c, 19, 0);
	fill(bt, (size_t)c, 20, 0);
	for (int i = 0; i < c; i++)
		rv[i] = 1;
	for (int threads = 1; threads <= 2; threads++) {
		det_threads_set(threads);
		nn_batchnorm_forward(x, gm, bt, ybn, n, c, (int64_t)h * w, 1e-5f, 0.1f, 1, rm, rv, save, relu);
		ref_maxpool_forward(ybn, ry, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
		nn_maxpool_bn_forward(x, gm, bt, save, c, relu, y, NULL, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
		ok(same_bits(y, ry, ny), "maxpool over batchnorm%s (%dx%dx%dx%d), %d thread(s): forward bit-identical "
			"to pooling the norm's output", relu ? " + ReLU" : "", n, c, h, w, threads);
		memset(y, 0, ny * sizeof(float));
		nn_maxpool_bn_forward(x, gm, bt, save, c, relu, y, idx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
		ok(same_bits(y, ry, ny), "maxpool over batchnorm%s (%dx%dx%dx%d), %d thread(s): forward saving the "
			"argmax bit-identical", relu ? " + ReLU" : "", n, c, h, w, threads);
		memset(rdx, 0, nx * sizeof(float));
		ref_maxpool_backward(ybn, dy, rdx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0);
		nn_maxpool_bn_backward(x, gm, bt, save, c, relu, dy, dx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0);
		ok(same_bits(dx, rdx, nx), "maxpool over batchnorm%s (%dx%dx%dx%d), %d thread(s): backward bit-identical",
			relu ? " + ReLU" : "", n, c, h, w, threads);
		fill(dx, nx, 5, 0);
		nn_maxpool_backward_idx(idx, dy, dx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, 0);
		ok(same_bits(dx, rdx, nx), "maxpool over batchnorm%s (%dx%dx%dx%d), %d thread(s): backward from the "
			"saved argmax bit-identical", relu ? " + ReLU" : "", n, c, h, w, threads);
	}
	free(x);
	free(ybn);
	free(dy);
	free(y);
	free(ry);
	free(dx);
	free(rdx);
	free(gm);
	free(bt);
	free(rm);
	free(rv);
	free(save);
	free(idx);
}

/* The stem's backward channel by channel (pool scatter, then the norm)
 * against the two kernels one after the other: the same bits. */
static void check_pool_bn_backward(int n, int c, int h, int w, int relu, int acc)
{
	const int planes = n * c, oh = (h + 2 - 3) / 2 + 1, ow = (w + 2 - 3) / 2 + 1;
	const size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
	float *x = fill_new(nx, 51), *pdy = fill_new(ny, 52), *gm = fill_new((size_t)c, 53);
	float *bt = fill_new((size_t)c, 54), *y = malloc(ny * sizeof(float));
	float *g0 = fill_new(nx, 55), *g1 = malloc(nx * sizeof(float)), *d0 = fill_new(nx, 56);
	float *d1 = malloc(nx * sizeof(float)), *dg0 = fill_new((size_t)c, 57), *db0 = fill_new((size_t)c, 58);
	float *dg1 = malloc((size_t)c * sizeof(float)), *db1 = malloc((size_t)c * sizeof(float));
	float *rm = calloc((size_t)c, sizeof(float)), *rv = malloc((size_t)c * sizeof(float));
	float *save = malloc(2 * (size_t)c * sizeof(float));
	uint8_t *idx = malloc(ny);

	memcpy(g1, g0, nx * sizeof(float));
	memcpy(d1, d0, nx * sizeof(float));
	memcpy(dg1, dg0, (size_t)c * sizeof(float));
	memcpy(db1, db0, (size_t)c * sizeof(float));
	for (int i = 0; i < c; i++)
		rv[i] = 1;
	nn_batchnorm_forward(x, gm, bt, NULL, n, c, (int64_t)h * w, 1e-5f, 0.1f, 1, rm, rv, save, relu);
	nn_maxpool_bn_forward(x, gm, bt, save, c, relu, y, idx, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1);
	nn_maxpool_backward_idx(idx, pdy, g0, planes, h, w, oh, ow, 3, 3, 2, 2, 1, 1, acc);
	nn_batchnorm_backward(x, g0, gm, bt, save, d0, dg0, db0, n, c, (int64_t)h * w, 1, relu, acc, acc, acc);
	det_threads_set(2);
	nn_maxpool_idx_bn_backward(idx, pdy, g1, h, w, oh, ow, 3, 3, 2, 2, 1, 1, acc, x, gm, bt, save, d1, dg1, db1,
		n, c, 1, relu, acc, acc, acc);
	ok(same_bits(g0, g1, nx) && same_bits(d0, d1, nx) && same_bits(dg0, dg1, (size_t)c) &&
		same_bits(db0, db1, (size_t)c), "stem backward%s%s (%dx%dx%dx%d) channel by channel: pool's dx, "
		"norm's dx, dgamma, dbeta bit-identical to the two kernels", relu ? " with ReLU" : "",
		acc ? ", accumulating" : "", n, c, h, w);
	det_threads_set(1);
	free(x);
	free(pdy);
	free(gm);
	free(bt);
	free(y);
	free(g0);
	free(g1);
	free(d0);
	free(d1);
	free(dg0);
	free(db0);
	free(dg1);
	free(db1);
	free(rm);
	free(rv);
	free(save);
	free(idx);
}

/* The add that applies a batch norm to one or both inputs against the
 * norms' stored outputs added as the graph adds: the same bits. fold: 1 a,
 * 2 b, 3 both; nrelu: the norms' ReLU; relu: the add's. */
static void check_add_bn(int n, int c, int hw, int fold, int nrelu, int relu)
{
	const size_t nx = (size_t)n * c * hw;
	float *a = malloc(nx * sizeof(float)), *b = malloc(nx * sizeof(float));
	float *ya = malloc(nx * sizeof(float)), *yb = malloc(nx * sizeof(float));
	float *y = malloc(nx * sizeof(float)), *ry = malloc(nx * sizeof(float));
	float *gm = malloc((size_t)c * sizeof(float)), *bt = malloc((size_t)c * sizeof(float));
	float *rm = calloc((size_t)c, sizeof(float)), *rv = malloc((size_t)c * sizeof(float));
	float *sa = malloc(2 * (size_t)c * sizeof(float)), *sb = malloc(2 * (size_t)c * sizeof(float));
	struct nn_bn_fold fa = { gm, bt, sa, nrelu }, fb = { bt, gm, sb, nrelu };

	fill(a, nx, 41, 0);
	fill(b, nx, 42, 0);
	fill(gm, (size_t)c, 43, 0);
	fill(bt, (size_t)c, 44, 0);
	for (int i = 0; i < c; i++)
		rv[i] = 1;
	nn_batchnorm_forward(a, gm, bt, ya, n, c, hw, 1e-5f, 0.1f, 1, rm, rv, sa, nrelu);
	nn_batchnorm_forward(b, bt, gm, yb, n, c, hw, 1e-5f, 0.1f, 1, rm, rv, sb, nrelu);
	for (size_t i = 0; i < nx; i++) {
		float v = (fold & 1 ? ya[i] : a[i]) + (fold & 2 ? yb[i] : b[i]);
		ry[i] = relu && v < 0 ? 0 : v;
	}
	for (int threads = 1; threads <= 2; threads++) {
		det_threads_set(threads);
		memset(y, 0, nx * sizeof(float));
		nn_add_bn_forward(a, fold & 1 ? &fa : NULL, b, fold & 2 ? &fb : NULL, y, (int64_t)n * c, c, hw, relu);
		ok(same_bits(y, ry, nx), "add over batchnorm%s on %s%s (%dx%dx%d), %d thread(s): bit-identical to "
			"adding the norm's output", nrelu ? " + ReLU" : "", fold == 1 ? "a" : fold == 2 ? "b" : "both",
			relu ? ", then ReLU" : "", n, c, hw, threads);
	}
	free(a);
	free(b);
	free(ya);
	free(yb);
	free(y);
	free(ry);
	free(gm);
	free(bt);
	free(rm);
	free(rv);
	free(sa);
	free(sb);
}

/* The one-pass group norm backward against the three-pass reference. */
static void check_groupnorm_backward(int n, int c, int hw, int groups, int relu, int acc)
{
	const size_t nx = (size_t)n * c * hw;
	float *x = malloc(nx * sizeof(float)), *y = malloc(nx * sizeof(float)), *dy = malloc(nx * sizeof(float));
	float *dx = malloc(nx * sizeof(float)), *rdx = malloc(nx * sizeof(float));
	float *gm = malloc((size_t)c * sizeof(float)), *bt = malloc((size_t)c * sizeof(float));
	float *dg = malloc((size_t)c * sizeof(float)), *db = malloc((size_t)c * sizeof(float));
	float *rdg = malloc((size_t)c * sizeof(float)), *rdb = malloc((size_t)c * sizeof(float));
	float *save = malloc(2 * (size_t)n * groups * sizeof(float)), *work = malloc(2 * (size_t)n * c * sizeof(float));

	fill(x, nx, 31, 0);
	fill(dy, nx, 32, 0);
	fill(gm, (size_t)c, 33, 0);
	fill(bt, (size_t)c, 34, 0);
	for (int threads = 1; threads <= 2; threads++) {
		det_threads_set(threads);
		nn_groupnorm_forward(x, gm, bt, y, n, c, hw, groups, 1e-5f, save, relu);
		fill(dx, nx, 35, 0);
		fill(dg, (size_t)c, 36, 0);
		fill(db, (size_t)c, 37, 0);
		memcpy(rdx, dx, nx * sizeof(float));
		memcpy(rdg, dg, (size_t)c * sizeof(float));
		memcpy(rdb, db, (size_t)c * sizeof(float));
		ref_groupnorm_backward(x, dy, gm, bt, save, rdx, rdg, rdb, n, c, hw, groups, relu, acc, acc, acc);
		nn_groupnorm_backward(x, dy, gm, bt, save, dx, dg, db, n, c, hw, groups, relu, acc, acc, acc, work);
		ok(same_bits(dx, rdx, nx) && same_bits(dg, rdg, (size_t)c) && same_bits(db, rdb, (size_t)c),
			"group norm backward%s (%dx%dx%d, %d groups%s), %d thread(s): dx, dgamma, dbeta bit-identical "
			"to the three-pass loops", relu ? " + ReLU" : "", n, c, hw, groups, acc ? ", accumulating" : "",
			threads);
		/* dgamma and dbeta alone (a frozen input) */
		ref_groupnorm_backward(x, dy, gm, bt, save, NULL, rdg, rdb, n, c, hw, groups, relu, 0, 0, 0);
		nn_groupnorm_backward(x, dy, gm, bt, save, NULL, dg, db, n, c, hw, groups, relu, 0, 0, 0, work);
		ok(same_bits(dg, rdg, (size_t)c) && same_bits(db, rdb, (size_t)c),
			"group norm backward without dx (%dx%dx%d), %d thread(s): dgamma, dbeta bit-identical", n, c, hw,
			threads);
	}
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(rdx);
	free(gm);
	free(bt);
	free(dg);
	free(db);
	free(rdg);
	free(rdb);
	free(save);
	free(work);
}

int main(void)
{
	/* split every loop, as on big inputs, so 2 threads really share the work */
	det_threads_set_grain(1);
	/* the stem's 3x3/2 pad 1, odd and even sizes, rows wider than a chunk */
	check_maxpool(16, 16, 3, 2, 1, 0);
	check_maxpool(17, 19, 3, 2, 1, 0);
	check_maxpool(9, 150, 3, 2, 1, 0);
	check_maxpool(17, 19, 3, 2, 1, 3);
	/* 2x2/2, SPPF's 5x5/1 pad 2, a generic stride, windows past the edge */
	check_maxpool(12, 13, 2, 2, 0, 0);
	check_maxpool(13, 140, 5, 1, 2, 0);
	check_maxpool(13, 11, 5, 1, 2, 4);
	check_maxpool(14, 20, 3, 3, 1, 0);
	check_maxpool(3, 3, 3, 1, 1, 0);
	check_maxpool(2, 5, 3, 2, 1, 0);
	/* the stem's BN + ReLU applied by its max-pool */
	check_maxpool_bn(2, 3, 17, 19, 1);
	check_maxpool_bn(2, 3, 16, 150, 1);
	check_maxpool_bn(3, 2, 9, 10, 0);
	check_pool_bn_backward(2, 3, 17, 19, 1, 0);
	check_pool_bn_backward(3, 4, 32, 40, 1, 1);
	check_pool_bn_backward(2, 3, 16, 150, 0, 0);
	check_pool_bn_backward(2, 5, 64, 64, 1, 0);
	check_add_bn(2, 3, 67, 1, 0, 1);
	check_add_bn(2, 3, 67, 2, 0, 0);
	check_add_bn(3, 5, 64, 3, 0, 1);
	check_add_bn(2, 3, 67, 1, 1, 0);
	check_add_bn(2, 4, 33, 3, 1, 1);
	/* the FCOS towers' group norms (32 groups of 4 channels), odd sizes */
	check_groupnorm_backward(2, 128, 64, 32, 1, 0);
	check_groupnorm_backward(3, 12, 35, 4, 1, 1);
	check_groupnorm_backward(2, 6, 17, 3, 0, 0);
	return tap_done();
}
