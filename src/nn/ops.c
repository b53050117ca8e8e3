/* ops.c: activations, norms, pools, resize and softmax kernels, forward and
 * backward side by side. Loops over planes or channels run under OpenMP with
 * a static schedule; every reduction is done by one thread in a fixed order,
 * so results do not depend on the thread count. Each loop's team comes from
 * det_threads_for(work) (core/threads.h), work in units of about 0.1 ns on
 * one core: per element, plus a fixed cost per plane or group (the short
 * rows of a small model's late stages cost more in their set-up, reductions
 * in double and square roots than in their elements), as measured on the
 * small FCOS of bench/planted_errors.lua (bench/README.md, session 5). */
#include "nn/ops.h"

#include "core/error.h"
#include "core/threads.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Writes v into dx[i] or adds it, as acc says. */
#define PUT(dx, i, v, acc) ((acc) ? ((dx)[i] += (v)) : ((dx)[i] = (v)))

/* ---- activations: y = f(x), dx = dy * f'(x) ---- */

/* exp(x) in float32 that GCC vectorises inside `omp simd` loops (glibc's
 * expf, fminf and floorf only vectorise under -ffast-math): Cody-Waite
 * reduction x = n ln2 + r, |r| <= ln2/2 (n rounded with the 1.5 * 2^23
 * trick), a degree-6 polynomial for e^r (Cephes' expf coefficients, about
 * 1 ulp), and 2^n built in the exponent bits. Inputs are clamped to
 * [-87.3, 88.7], so the result is finite and > 0. */
static inline float vexpf(float x)
{
	float n, r, p, two_n;
	int32_t bits;

	x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
	n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
	r = x - n * 0.693359375f + n * 2.12194440e-4f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	bits = ((int32_t)n + 127) << 23;
	memcpy(&two_n, &bits, sizeof(two_n));
	return p * two_n;
}

static inline float sigmoidf(float x)
{
	return 1.0f / (1.0f + vexpf(-x));
}

/* tanh(softplus(x)) = ((1 + e^x)^2 - 1) / ((1 + e^x)^2 + 1) = m / (m + 2),
 * m = e^x (e^x + 2); exactly 1 in float32 beyond x = 20. */
static inline float tanh_softplus(float x)
{
	float e = vexpf(x > 20.0f ? 20.0f : x), m = e * (e + 2.0f);

	return x > 20.0f ? 1.0f : m / (m + 2.0f);
}

/* x, y: (n) */
void nn_act_forward(enum nn_op op, float slope, const float *x, float *y, int64_t n)
{
	int64_t i;

	switch (op) {
	case NN_OP_RELU: /* y = max(x, 0) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : 0;
		break;
	case NN_OP_LEAKY_RELU: /* y = x > 0 ? x : slope x */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : slope * x[i];
		break;
	case NN_OP_SILU: /* y = x sigmoid(x) (Elfwing et al. 2018) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(16 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] * sigmoidf(x[i]);
		break;
	case NN_OP_SIGMOID:
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(16 * n))
		for (i = 0; i < n; i++)
			y[i] = sigmoidf(x[i]);
		break;
	case NN_OP_HARDSWISH: /* y = x relu6(x + 3) / 6 (Howard et al. 2019) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] * (x[i] < -3.0f ? 0.0f : x[i] > 3.0f ? 6.0f : x[i] + 3.0f) / 6.0f;
		break;
	case NN_OP_MISH: /* y = x tanh(softplus(x)) (Misra 2019) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(16 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] * tanh_softplus(x[i]);
		break;
	case NN_OP_TANH:
#pragma omp parallel for schedule(static) num_threads(det_threads_for(64 * n))
		for (i = 0; i < n; i++)
			y[i] = tanhf(x[i]);
		break;
	case NN_OP_RELU6: /* y = min(max(x, 0), 6) (Sandler et al. 2018) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (i = 0; i < n; i++)
			y[i] = x[i] > 0 ? (x[i] < 6.0f ? x[i] : 6.0f) : 0.0f;
		break;
	case NN_OP_RECIPROCAL: /* y = 1 / x */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(2 * n))
		for (i = 0; i < n; i++)
			y[i] = 1.0f / x[i];
		break;
	default:
		break;
	}
}

/* x, y, dy, dx: (n) */
void nn_act_backward(enum nn_op op, float slope, const float *x, const float *y,
	const float *dy, float *dx, int64_t n, int acc)
{
	int64_t i;

	switch (op) {
	case NN_OP_RELU: /* dx = dy [y > 0] */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, y[i] > 0 ? dy[i] : 0.0f, acc);
		break;
	case NN_OP_LEAKY_RELU: /* dx = dy (y > 0 ? 1 : slope), slope >= 0 */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, y[i] > 0 ? dy[i] : slope * dy[i], acc);
		break;
	case NN_OP_SILU: /* dx = dy s (1 + x (1 - s)), s = sigmoid(x) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(16 * n))
		for (i = 0; i < n; i++) {
			float s = sigmoidf(x[i]);
			PUT(dx, i, dy[i] * s * (1.0f + x[i] * (1.0f - s)), acc);
		}
		break;
	case NN_OP_SIGMOID: /* dx = dy y (1 - y) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, dy[i] * y[i] * (1.0f - y[i]), acc);
		break;
	case NN_OP_HARDSWISH: /* dx = dy * (0 if x < -3; x/3 + 1/2 if x <= 3; 1 else), as PyTorch */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++) {
			float g = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? x[i] / 3.0f + 0.5f : 1.0f;
			PUT(dx, i, dy[i] * g, acc);
		}
		break;
	case NN_OP_MISH: /* dx = dy (t + x sigmoid(x) (1 - t^2)), t = tanh(softplus(x)) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(16 * n))
		for (i = 0; i < n; i++) {
			float t = tanh_softplus(x[i]);
			PUT(dx, i, dy[i] * (t + x[i] * sigmoidf(x[i]) * (1.0f - t * t)), acc);
		}
		break;
	case NN_OP_TANH: /* dx = dy (1 - y^2) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, dy[i] * (1.0f - y[i] * y[i]), acc);
		break;
	case NN_OP_RELU6: /* dx = dy [0 < y < 6] (0 at the kinks, as PyTorch's hardtanh) */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, y[i] > 0 && y[i] < 6.0f ? dy[i] : 0.0f, acc);
		break;
	case NN_OP_RECIPROCAL: /* dx = -dy / x^2 = -dy y^2 */
#pragma omp parallel for simd schedule(static) num_threads(det_threads_for(3 * n))
		for (i = 0; i < n; i++)
			PUT(dx, i, -dy[i] * y[i] * y[i], acc);
		break;
	default:
		break;
	}
}

/* ---- batch norm (Ioffe & Szegedy 2015) ---- */

/* The normalised value and the affine output, one expression each, shared by
 * the forward, the re-computation (nn_batchnorm_apply) and the backward's
 * ReLU mask so that all three give the same bits:
 *   xhat = (x - mean) invstd,  v = gamma xhat + beta,  y = v (or max(v, 0)) */
static inline float norm_xhat(float x, float mean, float invstd)
{
	return (x - mean) * invstd;
}

static inline float norm_affine(float xh, float gamma, float beta)
{
	return xh * gamma + beta;
}

/* One plane of hw values: q = [relu] gamma (p - mean) invstd + beta. */
static inline void norm_apply_plane(const float *p, float *q, int64_t hw, float mean, float invstd,
	float gamma, float beta, int relu)
{
	if (relu) {
#pragma omp simd
		for (int64_t i = 0; i < hw; i++) {
			float v = norm_affine(norm_xhat(p[i], mean, invstd), gamma, beta);
			q[i] = v > 0 ? v : 0;
		}
	} else {
#pragma omp simd
		for (int64_t i = 0; i < hw; i++)
			q[i] = norm_affine(norm_xhat(p[i], mean, invstd), gamma, beta);
	}
}

/* x, y: (N, C, HW); gamma, beta, running_*: (C); save: (2C); y NULL: the
 * statistics only (a max-pool applies the norm as it reads x) */
void nn_batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
	int n, int c, int64_t hw, float eps, float momentum, int train,
	float *running_mean, float *running_var, float *save, int relu)
{
	const double m = (double)n * (double)hw;

#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * ((y ? 2 : 1) * hw + 300)))
	for (int ch = 0; ch < c; ch++) {
		double mean, var;

		if (train) {
			double s = 0, ss = 0;
			for (int b = 0; b < n; b++) {
				const float *p = x + ((int64_t)b * c + ch) * hw;
				float fs = 0;
#pragma omp simd reduction(+ : fs)
				for (int64_t i = 0; i < hw; i++)
					fs += p[i];
				s += fs;
			}
			mean = s / m;
			for (int b = 0; b < n; b++) {
				const float *p = x + ((int64_t)b * c + ch) * hw;
				float fm = (float)mean, fss = 0;
#pragma omp simd reduction(+ : fss)
				for (int64_t i = 0; i < hw; i++)
					fss += (p[i] - fm) * (p[i] - fm);
				ss += fss;
			}
			var = ss / m;
			running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
			running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
				momentum * (m > 1 ? var * m / (m - 1) : var));
		} else {
			mean = running_mean[ch];
			var = running_var[ch];
		}
		save[ch] = (float)mean;
		save[c + ch] = (float)(1.0 / sqrt(var + eps));
		for (int b = 0; b < n && y; b++)
			norm_apply_plane(x + ((int64_t)b * c + ch) * hw, y + ((int64_t)b * c + ch) * hw, hw,
				save[ch], save[c + ch], gamma[ch], beta[ch], relu);
	}
}

/* x, y: (N, C, HW); save: (2C) as the forward left it */
void nn_batchnorm_apply(const float *x, const float *gamma, const float *beta, const float *save,
	float *y, int n, int c, int64_t hw, int relu)
{
#pragma omp parallel for schedule(static) num_threads(det_threads_for((int64_t)n * c * (hw + 100)))
	for (int ch = 0; ch < c; ch++)
		for (int b = 0; b < n; b++)
			norm_apply_plane(x + ((int64_t)b * c + ch) * hw, y + ((int64_t)b * c + ch) * hw, hw,
				save[ch], save[c + ch], gamma[ch], beta[ch], relu);
}

/* One channel ch of the batch norm's backward (nn_batchnorm_backward's
 * loop body; nn_maxpool_idx_bn_backward runs it too, so both give the same
 * bits). */
static inline __attribute__((always_inline)) void bn_backward_channel(const float *x, const float *dy,
	const float *gamma, const float *beta, const float *save, float *dx, float *dgamma, float *dbeta,
	int n, int c, int64_t hw, int train, int relu, int acc_x, int acc_gamma, int acc_beta, int ch)
{
	const float m = (float)n * (float)hw;
	const float mean = save[ch], invstd = save[c + ch], gm = gamma[ch], bt = beta[ch];
	double sg = 0, sgx = 0;
	float k, a, b0;

	for (int b = 0; b < n; b++) {
		int64_t off = ((int64_t)b * c + ch) * hw;
		const float *p = x + off, *g = dy + off;
		float fsg = 0, fsgx = 0;
		if (relu) {
#pragma omp simd reduction(+ : fsg, fsgx)
			for (int64_t i = 0; i < hw; i++) {
				float xh = norm_xhat(p[i], mean, invstd);
				float gi = norm_affine(xh, gm, bt) > 0 ? g[i] : 0;
				fsg += gi;
				fsgx += gi * xh;
			}
		} else {
#pragma omp simd reduction(+ : fsg, fsgx)
			for (int64_t i = 0; i < hw; i++) {
				fsg += g[i];
				fsgx += g[i] * norm_xhat(p[i], mean, invstd);
			}
		}
		sg += fsg;
		sgx += fsgx;
	}
	if (dbeta)
		PUT(dbeta, ch, (float)sg, acc_beta);
	if (dgamma)
		PUT(dgamma, ch, (float)sgx, acc_gamma);
	if (!dx)
		return;
	/* dx = k g + a xhat + b0, folded from the formula in ops.h */
	k = gm * invstd;
	if (train) {
		a = -k * (float)sgx / m;
		b0 = -k * (float)sg / m;
	} else {
		a = 0;
		b0 = 0;
	}
	for (int b = 0; b < n; b++) {
		int64_t off = ((int64_t)b * c + ch) * hw;
		const float *p = x + off, *g = dy + off;
		float *d = dx + off;
		if (acc_x) {
#pragma omp simd
			for (int64_t i = 0; i < hw; i++) {
				float xh = norm_xhat(p[i], mean, invstd);
				float gi = relu && !(norm_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
				d[i] += k * gi + a * xh + b0;
			}
		} else {
#pragma omp simd
			for (int64_t i = 0; i < hw; i++) {
				float xh = norm_xhat(p[i], mean, invstd);
				float gi = relu && !(norm_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
				d[i] = k * gi + a * xh + b0;
			}
		}
	}
}

/* x, dy, dx: (N, C, HW); gamma, beta, dgamma, dbeta: (C); save: (2C) */
void nn_batchnorm_backward(const float *x, const float *dy, const float *gamma, const float *beta,
	const float *save, float *dx, float *dgamma, float *dbeta, int n, int c, int64_t hw,
	int train, int relu, int acc_x, int acc_gamma, int acc_beta)
{
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * (4 * hw + (relu ? 1000 : 400))))
	for (int ch = 0; ch < c; ch++)
		bn_backward_channel(x, dy, gamma, beta, save, dx, dgamma, dbeta, n, c, hw, train, relu, acc_x,
			acc_gamma, acc_beta, ch);
}

/* One plane of the folded add: va, vb the inputs or their norms (FA, FB),
 * then v = va + vb and the add's ReLU as binary_forward writes them. */
static inline __attribute__((always_inline)) void add_bn_plane(const float *restrict a, const float *restrict b,
	float *restrict y, int64_t hw, const int FA, float ma, float ia, float ga, float ba, const int RA,
	const int FB, float mb, float ib, float gb, float bb, const int RB, int relu)
{
#pragma omp simd
	for (int64_t i = 0; i < hw; i++) {
		float va = a[i], vb = b[i];
		if (FA) {
			va = norm_affine(norm_xhat(va, ma, ia), ga, ba);
			va = RA ? (va > 0 ? va : 0) : va;
		}
		if (FB) {
			vb = norm_affine(norm_xhat(vb, mb, ib), gb, bb);
			vb = RB ? (vb > 0 ? vb : 0) : vb;
		}
		float v = va + vb;
		y[i] = relu && v < 0 ? 0 : v;
	}
}

/* One plane with the folded norms and their ReLUs as constants (GCC does
 * not vectorise the lanes with a run-time select on them). */
static __attribute__((noinline)) void add_bn_plane_any(const float *a, const float *b, float *y, int64_t hw,
	int fa, float ma, float ia, float ga, float ba, int ra,
	int fb, float mb, float ib, float gb, float bb, int rb, int relu)
{
#define ADD_BN_PLANE(FA, RA, FB, RB) \
	add_bn_plane(a, b, y, hw, FA, ma, ia, ga, ba, RA, FB, mb, ib, gb, bb, RB, relu)
	if (fa && fb) {
		if (ra && rb)
			ADD_BN_PLANE(1, 1, 1, 1);
		else if (ra)
			ADD_BN_PLANE(1, 1, 1, 0);
		else if (rb)
			ADD_BN_PLANE(1, 0, 1, 1);
		else
			ADD_BN_PLANE(1, 0, 1, 0);
	} else if (fa) {
		if (ra)
			ADD_BN_PLANE(1, 1, 0, 0);
		else
			ADD_BN_PLANE(1, 0, 0, 0);
	} else if (fb) {
		if (rb)
			ADD_BN_PLANE(0, 0, 1, 1);
		else
			ADD_BN_PLANE(0, 0, 1, 0);
	} else
		ADD_BN_PLANE(0, 0, 0, 0);
#undef ADD_BN_PLANE
}

void nn_add_bn_forward(const float *a, const struct nn_bn_fold *fa, const float *b,
	const struct nn_bn_fold *fb, float *y, int64_t planes, int c, int64_t hw, int relu)
{
#pragma omp parallel for schedule(static) num_threads(det_threads_for(planes * (3 * hw + 50)))
	for (int64_t p = 0; p < planes; p++) {
		const int ch = (int)(p % c);
		add_bn_plane_any(a + p * hw, b + p * hw, y + p * hw, hw,
			fa != NULL, fa ? fa->save[ch] : 0, fa ? fa->save[c + ch] : 0, fa ? fa->gamma[ch] : 0,
			fa ? fa->beta[ch] : 0, fa ? fa->relu : 0,
			fb != NULL, fb ? fb->save[ch] : 0, fb ? fb->save[c + ch] : 0, fb ? fb->gamma[ch] : 0,
			fb ? fb->beta[ch] : 0, fb ? fb->relu : 0, relu);
	}
}

/* ---- group norm ---- */

/* x, y: (N, C, HW); gamma, beta: (C); save: (2 N G) */
void nn_groupnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
	int n, int c, int64_t hw, int groups, float eps, float *save, int relu)
{
	const int cg = c / groups;
	const int64_t m = (int64_t)cg * hw;

#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * 6 * hw + (int64_t)n * groups * 500))
	for (int ng = 0; ng < n * groups; ng++) {
		const float *p = x + (int64_t)ng * m;
		float *q = y + (int64_t)ng * m;
		double s = 0, ss = 0;
		float mean, invstd;

		/* float partial sums per channel row (vectorised), double across rows */
		for (int j = 0; j < cg; j++) {
			float fs = 0;
#pragma omp simd reduction(+ : fs)
			for (int64_t i = 0; i < hw; i++)
				fs += p[(int64_t)j * hw + i];
			s += fs;
		}
		mean = (float)(s / (double)m);
		for (int j = 0; j < cg; j++) {
			float fss = 0;
#pragma omp simd reduction(+ : fss)
			for (int64_t i = 0; i < hw; i++)
				fss += (p[(int64_t)j * hw + i] - mean) * (p[(int64_t)j * hw + i] - mean);
			ss += fss;
		}
		invstd = (float)(1.0 / sqrt(ss / (double)m + eps));
		save[ng] = mean;
		save[n * groups + ng] = invstd;
		for (int j = 0; j < cg; j++) {
			int ch = (ng % groups) * cg + j;
			norm_apply_plane(p + (int64_t)j * hw, q + (int64_t)j * hw, hw, mean, invstd, gamma[ch],
				beta[ch], relu);
		}
	}
}

/* x, y: (N, C, HW); save: (2 N G) as the forward left it */
void nn_groupnorm_apply(const float *x, const float *gamma, const float *beta, const float *save,
	float *y, int n, int c, int64_t hw, int groups, int relu)
{
	const int cg = c / groups;

#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * 3 * hw + (int64_t)n * groups * 100))
	for (int ng = 0; ng < n * groups; ng++)
		for (int j = 0; j < cg; j++) {
			int64_t off = ((int64_t)ng * cg + j) * hw;
			int ch = (ng % groups) * cg + j;
			norm_apply_plane(x + off, y + off, hw, save[ng], save[n * groups + ng], gamma[ch], beta[ch],
				relu);
		}
}

/* g = dy (masked by v > 0 if relu, v recomputed from x); dbeta_c = sum_{n,hw} g;
 * dgamma_c = sum g xhat; per group, with h = g gamma_c:
 * dx = invstd (h - mean(h) - xhat mean(h xhat)).
 * One pass over x and dy per group computes each plane's float partial
 * sums of g and g xhat (vectorised), which serve both dx's group means and,
 * kept in work (2 N C floats), dgamma and dbeta: those add the planes'
 * partials in double in sample order afterwards, as the separate
 * per-channel pass this replaces did (same bits; one read of x and dy
 * fewer). One thread per output, so the bits do not depend on threads. */
void nn_groupnorm_backward(const float *x, const float *dy, const float *gamma, const float *beta,
	const float *save, float *dx, float *dgamma, float *dbeta, int n, int c, int64_t hw,
	int groups, int relu, int acc_x, int acc_gamma, int acc_beta, float *work)
{
	const int cg = c / groups;
	const int64_t m = (int64_t)cg * hw;

	if (!dx && !dgamma && !dbeta)
		return;
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * 6 * hw + (int64_t)n * groups * 800))
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
				float xh = norm_xhat(p[i], mean, invstd);
				float gi = relu && !(norm_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
				fs += gi;
				fsx += gi * xh;
			}
			work[2 * ((int64_t)(ng / groups) * c + ch)] = fs;
			work[2 * ((int64_t)(ng / groups) * c + ch) + 1] = fsx;
			sh += (double)gm * fs;
			shx += (double)gm * fsx;
		}
		if (!dx)
			continue;
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
					float xh = norm_xhat(p[i], mean, invstd);
					float gi = relu && !(norm_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
					d[i] += invstd * (gi * gm - mh - xh * mhx);
				}
			} else {
#pragma omp simd
				for (int64_t i = 0; i < hw; i++) {
					float xh = norm_xhat(p[i], mean, invstd);
					float gi = relu && !(norm_affine(xh, gm, bt) > 0) ? 0.0f : g[i];
					d[i] = invstd * (gi * gm - mh - xh * mhx);
				}
			}
		}
	}
	if (!dgamma && !dbeta)
		return;
	for (int ch = 0; ch < c; ch++) {
		double sg = 0, sgx = 0;
		for (int b = 0; b < n; b++) {
			sg += work[2 * ((int64_t)b * c + ch)];
			sgx += work[2 * ((int64_t)b * c + ch) + 1];
		}
		if (dbeta)
			PUT(dbeta, ch, (float)sg, acc_beta);
		if (dgamma)
			PUT(dgamma, ch, (float)sgx, acc_gamma);
	}
}

/* ---- pooling ---- */

/* The output columns whose windows lie wholly inside the row,
 * j in [*lo, *hi): j*sw - pw >= 0 and j*sw - pw + kw <= w. The loops below
 * run those as SIMD lanes (one output per lane, each window's taps in the
 * order of the plain scan, so the bits are the scalar loop's) and the few
 * columns at the edges one at a time. */
static void pool_inner_cols(int w, int ow, int kw, int sw, int pw, int *lo, int *hi)
{
	int a = (pw + sw - 1) / sw, b = w - kw + pw >= 0 ? (w - kw + pw) / sw + 1 : 0;

	a = a < ow ? a : ow;
	b = b < ow ? b : ow;
	*lo = a;
	*hi = b > a ? b : a;
}

/* Lanes of inner windows handled at once (their running maxima and argmax
 * offsets stay in registers or L1 across the window's rows). */
#define POOL_CHUNK 64

/* A batch norm in front of the pool, applied to every tap instead of being
 * stored (nn_maxpool_bn_*): v = [relu] gamma (x - mean) invstd + beta for
 * the plane's channel, with the norm's own expressions, so v has the bits
 * of the y the norm would have written. */
struct pool_pre {
	float mean, invstd, gamma, beta;
	int relu;
};

static inline __attribute__((always_inline)) float pre_apply(float x, const struct pool_pre *pre)
{
	float v = norm_affine(norm_xhat(x, pre->mean, pre->invstd), pre->gamma, pre->beta);

	return pre->relu ? (v > 0 ? v : 0) : v;
}

/* One row r of n inner windows, the lane k's taps at r[k*sw + q], q < kw:
 * best[k] = !(v <= best[k]) ? v : best[k] over the taps in order, and with
 * at != NULL the offset of the value taken: roff + k*sw + q in the plane,
 * or with LOCAL roff + q (roff the row's first index in the window, so
 * at[k] is the tap's index in its window); v is the tap, or pre_apply of
 * it when PRE. Inlined with sw a constant (1, 2) the lanes load as vectors
 * and permutes, not gathers. */
static inline __attribute__((always_inline)) void pool_row(float *restrict best, int *restrict at,
	const float *r, int64_t roff, int n, int kw, int sw, const int PRE, const struct pool_pre *pre,
	const int LOCAL)
{
	/* the transform's scalars in locals: loads through pre inside the
	 * lanes' loop keep GCC from vectorising it */
	const float pm = PRE ? pre->mean : 0, pi = PRE ? pre->invstd : 0;
	const float pg = PRE ? pre->gamma : 0, pb = PRE ? pre->beta : 0;
	const int pr = PRE ? pre->relu : 0;

	for (int q = 0; q < kw; q++) {
		if (at) {
#pragma omp simd
			for (int k = 0; k < n; k++) {
				float v = r[k * sw + q];
				if (PRE) {
					v = norm_affine(norm_xhat(v, pm, pi), pg, pb);
					v = pr ? (v > 0 ? v : 0) : v;
				}
				int take = !(v <= best[k]);
				best[k] = take ? v : best[k];
				at[k] = take ? (int)roff + (LOCAL ? 0 : k * sw) + q : at[k];
			}
		} else {
#pragma omp simd
			for (int k = 0; k < n; k++) {
				float v = r[k * sw + q];
				if (PRE) {
					v = norm_affine(norm_xhat(v, pm, pi), pg, pb);
					v = pr ? (v > 0 ? v : 0) : v;
				}
				best[k] = !(v <= best[k]) ? v : best[k];
			}
		}
	}
}

/* Rows [a0, a1) of n inner windows whose first column is c0 (lane k at
 * c0 + k*sw): the running maxima (and argmax offsets) in best/at. Two
 * out-of-line copies, without and with the transform (GCC does not
 * vectorise the lanes once this is inlined into the OpenMP region). */
static inline __attribute__((always_inline)) void pool_rows_impl(const float *xp, int w, int a0, int a1,
	int c0, int n, int kw, int sw, float *restrict best, int *restrict at, const int PRE,
	const struct pool_pre *pre, int wtop)
{
	for (int a = a0; a < a1; a++) {
		const float *r = xp + (int64_t)a * w + c0;
		int64_t roff = wtop > INT32_MIN ? (int64_t)(a - wtop) * kw : (int64_t)a * w + c0;
		if (wtop > INT32_MIN) {
			if (sw == 2 && kw == 3)
				pool_row(best, at, r, roff, n, 3, 2, PRE, pre, 1);
			else
				pool_row(best, at, r, roff, n, kw, sw, PRE, pre, 1);
		} else if (sw == 2 && kw == 3)
			pool_row(best, at, r, roff, n, 3, 2, PRE, pre, 0);
		else if (sw == 1)
			pool_row(best, at, r, roff, n, kw, 1, PRE, pre, 0);
		else if (sw == 2)
			pool_row(best, at, r, roff, n, kw, 2, PRE, pre, 0);
		else
			pool_row(best, at, r, roff, n, kw, sw, PRE, pre, 0);
	}
}

static __attribute__((noinline)) void pool_rows_plain(const float *xp, int w, int a0, int a1, int c0, int n,
	int kw, int sw, float *restrict best, int *restrict at, int wtop)
{
	pool_rows_impl(xp, w, a0, a1, c0, n, kw, sw, best, at, 0, NULL, wtop);
}

static __attribute__((noinline)) void pool_rows_pre(const float *xp, int w, int a0, int a1, int c0, int n,
	int kw, int sw, float *restrict best, int *restrict at, const struct pool_pre *pre, int wtop)
{
	pool_rows_impl(xp, w, a0, a1, c0, n, kw, sw, best, at, 1, pre, wtop);
}

/* wtop: INT32_MIN for offsets in the plane in at[], else the window's
 * (unclipped) top row, for indices in the window */
#define pool_rows(xp, w, a0, a1, c0, n, kw, sw, best, at, PRE, pre, wtop) \
	((PRE) ? pool_rows_pre(xp, w, a0, a1, c0, n, kw, sw, best, at, pre, wtop) : \
		pool_rows_plain(xp, w, a0, a1, c0, n, kw, sw, best, at, wtop))

/* The maximum of one window (rows [a0, a1), columns clipped to the row),
 * scanning in row-major order with best = !(v <= best) ? v : best. */
static inline float window_max(const float *xp, int w, int a0, int a1, int b0, int b1,
	const struct pool_pre *pre)
{
	float best = -INFINITY;

	b0 = b0 < 0 ? 0 : b0;
	b1 = b1 > w ? w : b1;
	for (int a = a0; a < a1; a++)
		for (int b = b0; b < b1; b++) {
			float v = pre ? pre_apply(xp[a * w + b], pre) : xp[a * w + b];
			best = !(v <= best) ? v : best;
		}
	return best;
}

/* The pre-pool transform of plane p, channel p mod c, from the norm's
 * saved (mean, invstd) per channel: save[0..c) and save[c..2c). */
static inline void pool_pre_plane(struct pool_pre *pre, int64_t p, const float *gamma, const float *beta,
	const float *save, int c, int relu)
{
	int ch = (int)(p % c);

	pre->mean = save[ch];
	pre->invstd = save[c + ch];
	pre->gamma = gamma[ch];
	pre->beta = beta[ch];
	pre->relu = relu;
}

/* The offset in the plane of one window's first maximum, as the forward
 * scans it, starting from the window's first element (the window is not
 * empty). Selects, not branches: the comparisons follow the data. */
static inline int window_argmax(const float *xp, int w, int a0, int a1, int b0, int b1,
	const struct pool_pre *pre)
{
	int at = a0 * w + b0;
	float best = pre ? pre_apply(xp[at], pre) : xp[at];

	for (int a = a0; a < a1; a++)
		for (int b = b0; b < b1; b++) {
			float v = pre ? pre_apply(xp[a * w + b], pre) : xp[a * w + b];
			int take = !(v <= best);
			best = take ? v : best;
			at = take ? a * w + b : at;
		}
	return at;
}

/* n inner 3x3 windows of stride 2 (ResNet's stem pool), full height (rows
 * a0..a0+2), the first column c0, lane k at c0 + 2k: their maximum into
 * best and their argmax (index in the window) into idx. Each lane scans
 * its own window with window_argmax's scan (from the first tap, which it
 * sees again), the nine taps unrolled so maximum and index stay in
 * registers (the row-by-row lanes of pool_rows load and store both for
 * every tap). */
static inline __attribute__((always_inline)) void pool_windows_3x3s2_at(const float *xp, int w, int a0,
	int c0, int n, float *restrict best, int *restrict idx, const int PRE, float pm, float pi, float pg,
	float pb, const int pr)
{
	const float *r0 = xp + (int64_t)a0 * w + c0, *r1 = r0 + w, *r2 = r1 + w;

#define POOL_TAP(row, q, index)                                                 \
	do {                                                                    \
		float v = (row)[2 * k + (q)];                                   \
		if (PRE) {                                                      \
			v = norm_affine(norm_xhat(v, pm, pi), pg, pb);          \
			v = pr ? (v > 0 ? v : 0) : v;                           \
		}                                                               \
		int take = !(v <= b);                                           \
		b = take ? v : b;                                               \
		t = take ? (index) : t;                                         \
	} while (0)
#pragma omp simd
	for (int k = 0; k < n; k++) {
		float b = r0[2 * k];
		int t = 0;
		if (PRE) {
			b = norm_affine(norm_xhat(b, pm, pi), pg, pb);
			b = pr ? (b > 0 ? b : 0) : b;
		}
		POOL_TAP(r0, 0, 0);
		POOL_TAP(r0, 1, 1);
		POOL_TAP(r0, 2, 2);
		POOL_TAP(r1, 0, 3);
		POOL_TAP(r1, 1, 4);
		POOL_TAP(r1, 2, 5);
		POOL_TAP(r2, 0, 6);
		POOL_TAP(r2, 1, 7);
		POOL_TAP(r2, 2, 8);
		best[k] = b;
		idx[k] = t;
	}
#undef POOL_TAP
}

/* the transform by value: GCC does not vectorise the lanes with it behind
 * a pointer */
static __attribute__((noinline)) void pool_windows_at_pre(const float *xp, int w, int a0, int c0, int n,
	float *restrict best, int *restrict idx, float mean, float invstd, float gamma, float beta, int relu)
{
	if (relu)
		pool_windows_3x3s2_at(xp, w, a0, c0, n, best, idx, 1, mean, invstd, gamma, beta, 1);
	else
		pool_windows_3x3s2_at(xp, w, a0, c0, n, best, idx, 1, mean, invstd, gamma, beta, 0);
}

static __attribute__((noinline)) void pool_windows_at_plain(const float *xp, int w, int a0, int c0, int n,
	float *restrict best, int *restrict idx)
{
	pool_windows_3x3s2_at(xp, w, a0, c0, n, best, idx, 0, 0, 0, 0, 0, 0);
}

/* An edge window (i, j) of the forward that also saves its argmax: the
 * maximum is the value at the argmax (the scan from -inf and the scan from
 * the first element take the same values), its index in the unclipped
 * kh x kw window in *idx. */
static inline float window_max_at(const float *xp, int w, int a0, int a1, int wtop, int wleft, int kw,
	const struct pool_pre *pre, uint8_t *idx)
{
	int b0 = wleft < 0 ? 0 : wleft, b1 = wleft + kw > w ? w : wleft + kw, at;

	if (b0 >= b1 || a0 >= a1) {
		*idx = 0;
		return -INFINITY;
	}
	at = window_argmax(xp, w, a0, a1, b0, b1, pre);
	*idx = (uint8_t)((at / w - wtop) * kw + at % w - wleft);
	return pre ? pre_apply(xp[at], pre) : xp[at];
}

/* x: (P, H, W), y: (P, OH, OW); with gamma != NULL the taps go through
 * the batch norm (c channels, save as nn_batchnorm_forward left it); with
 * idx != NULL each window's argmax, its index in the window, in idx
 * (P, OH, OW), found as the recomputing backward finds it. */
static inline __attribute__((always_inline)) void maxpool_fwd(const float *x, float *y, uint8_t *idx,
	int64_t planes, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw,
	const int PRE, const float *gamma, const float *beta, const float *save, int c, int relu)
{
	int jlo, jhi;

	pool_inner_cols(w, ow, kw, sw, pw, &jlo, &jhi);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * ((int64_t)oh * ow * kh * kw * (PRE ? 12 : 4) + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *xp = x + p * h * w;
		float *yp = y + p * oh * ow;
		uint8_t *ip = idx ? idx + p * oh * ow : NULL;
		int at[POOL_CHUNK];
		struct pool_pre pre = { 0 };
		if (PRE)
			pool_pre_plane(&pre, p, gamma, beta, save, c, relu);
		for (int i = 0; i < oh; i++) {
			int wtop = i * sh - ph, a0 = wtop, a1 = a0 + kh;
			float *yr = yp + (int64_t)i * ow;
			uint8_t *ir = ip ? ip + (int64_t)i * ow : NULL;
			a0 = a0 < 0 ? 0 : a0;
			a1 = a1 > h ? h : a1;
			if (ir) {
				for (int j = 0; j < jlo; j++)
					yr[j] = window_max_at(xp, w, a0, a1, wtop, j * sw - pw, kw, PRE ? &pre : NULL, ir + j);
				for (int j0 = jlo; j0 < jhi; j0 += POOL_CHUNK) {
					int nj = jhi - j0 < POOL_CHUNK ? jhi - j0 : POOL_CHUNK, c0 = j0 * sw - pw;
					if (a0 >= a1) {
						for (int k = 0; k < nj; k++) {
							yr[j0 + k] = -INFINITY;
							ir[j0 + k] = 0;
						}
						continue;
					}
					if (kh == 3 && kw == 3 && sw == 2 && a0 == wtop && a1 == wtop + 3) {
						if (PRE)
							pool_windows_at_pre(xp, w, a0, c0, nj, yr + j0, at, pre.mean,
								pre.invstd, pre.gamma, pre.beta, pre.relu);
						else
							pool_windows_at_plain(xp, w, a0, c0, nj, yr + j0, at);
						for (int k = 0; k < nj; k++)
							ir[j0 + k] = (uint8_t)at[k];
						continue;
					}
					for (int k = 0; k < nj; k++) {
						const float v = xp[(int64_t)a0 * w + c0 + k * sw];
						yr[j0 + k] = PRE ? pre_apply(v, &pre) : v;
						at[k] = (a0 - wtop) * kw;
					}
					pool_rows(xp, w, a0, a1, c0, nj, kw, sw, yr + j0, at, PRE, &pre, wtop);
					for (int k = 0; k < nj; k++)
						ir[j0 + k] = (uint8_t)at[k];
				}
				for (int j = jhi; j < ow; j++)
					yr[j] = window_max_at(xp, w, a0, a1, wtop, j * sw - pw, kw, PRE ? &pre : NULL, ir + j);
				continue;
			}
			for (int j = 0; j < jlo; j++)
				yr[j] = window_max(xp, w, a0, a1, j * sw - pw, j * sw - pw + kw, PRE ? &pre : NULL);
			for (int j0 = jlo; j0 < jhi; j0 += POOL_CHUNK) {
				int nj = jhi - j0 < POOL_CHUNK ? jhi - j0 : POOL_CHUNK;
				for (int k = 0; k < nj; k++)
					yr[j0 + k] = -INFINITY;
				pool_rows(xp, w, a0, a1, j0 * sw - pw, nj, kw, sw, yr + j0, NULL, PRE, &pre, INT32_MIN);
			}
			for (int j = jhi; j < ow; j++)
				yr[j] = window_max(xp, w, a0, a1, j * sw - pw, j * sw - pw + kw, PRE ? &pre : NULL);
		}
	}
}

/* x: (P, H, W), y: (P, OH, OW). !(v <= best) is true for a NaN, so a NaN
 * is taken when met (and replaced by any later value, as the scan goes). */
void nn_maxpool_forward(const float *x, float *y, uint8_t *idx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
	maxpool_fwd(x, y, idx, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, 0, NULL, NULL, NULL, 1, 0);
}


/* dx[argmax of each window] += dy; the argmax (the first maximum, as the
 * forward found it) is recomputed from x, so nothing is saved between passes.
 * Inner windows find their argmax in SIMD lanes, a chunk of a row at a time,
 * then add one by one in column order, so every dx element receives its adds
 * in the order of the plain scan (i, then j) and the bits do not change.
 * Unless accumulating, each plane's dx is cleared a few rows at a time, just
 * before the first window that reaches them (window bottoms only grow with
 * i), so the cleared rows are still in cache for the adds. */
static inline __attribute__((always_inline)) void maxpool_bwd(const float *x, const float *dy, float *dx,
	int64_t planes, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc,
	const int PRE, const float *gamma, const float *beta, const float *save, int c, int relu)
{
	int jlo, jhi;

	pool_inner_cols(w, ow, kw, sw, pw, &jlo, &jhi);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * ((int64_t)oh * ow * kh * kw * (PRE ? 14 : 6) + (int64_t)h * w + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *xp = x + p * h * w, *gp = dy + p * oh * ow;
		float *dp = dx + p * h * w;
		int cleared = acc ? h : 0, at[POOL_CHUNK];
		float best[POOL_CHUNK];
		struct pool_pre pre = { 0 };
		if (PRE)
			pool_pre_plane(&pre, p, gamma, beta, save, c, relu);
		for (int i = 0; i < oh; i++) {
			int a0 = i * sh - ph, a1 = a0 + kh;
			const float *gr = gp + (int64_t)i * ow;
			a0 = a0 < 0 ? 0 : a0;
			a1 = a1 > h ? h : a1;
			if (a1 > cleared) {
				memset(dp + (int64_t)cleared * w, 0, sizeof(float) * (size_t)(a1 - cleared) * (size_t)w);
				cleared = a1;
			}
			if (a0 >= a1)
				continue;
			for (int j = 0; j < jlo; j++) {
				int b0 = j * sw - pw, b1 = b0 + kw;
				b0 = b0 < 0 ? 0 : b0;
				b1 = b1 > w ? w : b1;
				if (b0 < b1)
					dp[window_argmax(xp, w, a0, a1, b0, b1, PRE ? &pre : NULL)] += gr[j];
			}
			for (int j0 = jlo; j0 < jhi; j0 += POOL_CHUNK) {
				int nj = jhi - j0 < POOL_CHUNK ? jhi - j0 : POOL_CHUNK, c0 = j0 * sw - pw;
				for (int k = 0; k < nj; k++) {
					at[k] = a0 * w + c0 + k * sw;
					best[k] = PRE ? pre_apply(xp[at[k]], &pre) : xp[at[k]];
				}
				pool_rows(xp, w, a0, a1, c0, nj, kw, sw, best, at, PRE, &pre, INT32_MIN);
				for (int k = 0; k < nj; k++)
					dp[at[k]] += gr[j0 + k];
			}
			for (int j = jhi; j < ow; j++) {
				int b0 = j * sw - pw, b1 = b0 + kw;
				b0 = b0 < 0 ? 0 : b0;
				b1 = b1 > w ? w : b1;
				if (b0 < b1)
					dp[window_argmax(xp, w, a0, a1, b0, b1, PRE ? &pre : NULL)] += gr[j];
			}
		}
		if (cleared < h)
			memset(dp + (int64_t)cleared * w, 0, sizeof(float) * (size_t)(h - cleared) * (size_t)w);
	}
}

void nn_maxpool_backward(const float *x, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc)
{
	maxpool_bwd(x, dy, dx, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, acc, 0, NULL, NULL, NULL, 1, 0);
}

/* The taps' offsets from a window's corner, off[q] = (q / kw) w + q % kw. */
static void pool_idx_offsets(int *off, int kh, int kw, int w)
{
	DET_ASSERT(kh * kw <= 256, "max-pool window %dx%d has more taps than a saved uint8 index holds", kh, kw);
	for (int q = 0; q < kh * kw; q++)
		off[q] = (q / kw) * w + q % kw;
}

/* One plane of nn_maxpool_backward_idx: dp[argmax] += gp, in (i, j) order,
 * dp's rows cleared (unless acc) just before the first window reaching them. */
static inline __attribute__((always_inline)) void pool_scatter_plane(const uint8_t *ip, const float *gp,
	float *dp, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int jlo, int jhi,
	const int *off, int acc)
{
	int cleared = acc ? h : 0;

	for (int i = 0; i < oh; i++) {
		int a0 = i * sh - ph, a1 = a0 + kh;
		const float *gr = gp + (int64_t)i * ow;
		const uint8_t *ir = ip + (int64_t)i * ow;
		const int64_t base = (int64_t)a0 * w - pw; /* the window (i, 0)'s corner */
		a0 = a0 < 0 ? 0 : a0;
		a1 = a1 > h ? h : a1;
		if (a1 > cleared) {
			memset(dp + (int64_t)cleared * w, 0, sizeof(float) * (size_t)(a1 - cleared) * (size_t)w);
			cleared = a1;
		}
		if (a0 >= a1)
			continue;
		for (int j = 0; j < jlo; j++)
			if (j * sw - pw + kw > 0 && j * sw - pw < w)
				dp[base + j * sw + off[ir[j]]] += gr[j];
		for (int j = jlo; j < jhi; j++)
			dp[base + j * sw + off[ir[j]]] += gr[j];
		for (int j = jhi; j < ow; j++)
			if (j * sw - pw + kw > 0 && j * sw - pw < w)
				dp[base + j * sw + off[ir[j]]] += gr[j];
	}
	if (cleared < h)
		memset(dp + (int64_t)cleared * w, 0, sizeof(float) * (size_t)(h - cleared) * (size_t)w);
}

/* dx[argmax of each window] += dy with the argmax the forward saved (its
 * index q in the unclipped kh x kw window, offset (q / kw) w + q % kw from
 * the window's corner): neither x nor the transform in front of the pool
 * is read again. Adds in the order of the plain scan (i, then j), the
 * clearing of dx as maxpool_bwd, so the bits are that backward's. */
void nn_maxpool_backward_idx(const uint8_t *idx, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc)
{
	int off[256], jlo, jhi;

	pool_idx_offsets(off, kh, kw, w);
	pool_inner_cols(w, ow, kw, sw, pw, &jlo, &jhi);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * ((int64_t)h * w + 3 * (int64_t)oh * ow + 100)))
	for (int64_t p = 0; p < planes; p++)
		pool_scatter_plane(idx + p * oh * ow, dy + p * oh * ow, dx + p * h * w, h, w, oh, ow, kh, kw, sh, sw,
			ph, pw, jlo, jhi, off, acc);
}

/* Channel by channel: the pool's scatter into the channel's planes of g
 * (nn_maxpool_backward_idx's), then the norm's backward of that channel
 * (nn_batchnorm_backward's) while those planes are still in cache. */
void nn_maxpool_idx_bn_backward(const uint8_t *idx, const float *pdy, float *g, int h, int w, int oh, int ow,
	int kh, int kw, int sh, int sw, int ph, int pw, int acc_g, const float *x, const float *gamma,
	const float *beta, const float *save, float *dx, float *dgamma, float *dbeta, int n, int c,
	int train, int relu, int acc_x, int acc_gamma, int acc_beta)
{
	int off[256], jlo, jhi;

	pool_idx_offsets(off, kh, kw, w);
	pool_inner_cols(w, ow, kw, sw, pw, &jlo, &jhi);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for((int64_t)n * c * (10 * (int64_t)h * w + 4 * (int64_t)oh * ow + 800)))
	for (int ch = 0; ch < c; ch++) {
		for (int b = 0; b < n; b++) {
			const int64_t p = (int64_t)b * c + ch;
			pool_scatter_plane(idx + p * oh * ow, pdy + p * oh * ow, g + p * h * w, h, w, oh, ow, kh, kw, sh,
				sw, ph, pw, jlo, jhi, off, acc_g);
		}
		bn_backward_channel(x, g, gamma, beta, save, dx, dgamma, dbeta, n, c, (int64_t)h * w, train, relu,
			acc_x, acc_gamma, acc_beta, ch);
	}
}

void nn_maxpool_bn_forward(const float *x, const float *gamma, const float *beta, const float *save, int c,
	int relu, float *y, uint8_t *idx, int64_t planes, int h, int w, int oh, int ow, int kh, int kw,
	int sh, int sw, int ph, int pw)
{
	maxpool_fwd(x, y, idx, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, 1, gamma, beta, save, c, relu);
}

void nn_maxpool_bn_backward(const float *x, const float *gamma, const float *beta, const float *save, int c,
	int relu, const float *dy, float *dx, int64_t planes, int h, int w, int oh, int ow, int kh, int kw,
	int sh, int sw, int ph, int pw, int acc)
{
	maxpool_bwd(x, dy, dx, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, acc, 1, gamma, beta, save, c, relu);
}

/* Window bounds and divisor as PyTorch's avg_pool2d (count_include_pad = True). */
static inline void avg_window(int i, int s, int p, int k, int n, int *lo, int *hi, int *area)
{
	int a = i * s - p, b = a + k;

	if (b > n + p)
		b = n + p;
	*area = b - a;
	*lo = a < 0 ? 0 : a;
	*hi = b > n ? n : b;
}

/* x: (P, H, W), y: (P, OH, OW) */
void nn_avgpool_forward(const float *x, float *y, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * ((int64_t)oh * ow * (kh * kw + 1) + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *xp = x + p * h * w;
		float *yp = y + p * oh * ow;
		for (int i = 0; i < oh; i++) {
			int a0, a1, ah;
			avg_window(i, sh, ph, kh, h, &a0, &a1, &ah);
			for (int j = 0; j < ow; j++) {
				int b0, b1, aw;
				float s = 0;
				avg_window(j, sw, pw, kw, w, &b0, &b1, &aw);
				for (int a = a0; a < a1; a++)
					for (int b = b0; b < b1; b++)
						s += xp[a * w + b];
				yp[i * ow + j] = s / (float)(ah * aw);
			}
		}
	}
}

void nn_avgpool_backward(const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc)
{
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * (2 * (int64_t)oh * ow * kh * kw + (int64_t)h * w + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *gp = dy + p * oh * ow;
		float *dp = dx + p * h * w;
		if (!acc)
			memset(dp, 0, sizeof(float) * (size_t)h * (size_t)w);
		for (int i = 0; i < oh; i++) {
			int a0, a1, ah;
			avg_window(i, sh, ph, kh, h, &a0, &a1, &ah);
			for (int j = 0; j < ow; j++) {
				int b0, b1, aw;
				float g;
				avg_window(j, sw, pw, kw, w, &b0, &b1, &aw);
				g = gp[i * ow + j] / (float)(ah * aw);
				for (int a = a0; a < a1; a++)
					for (int b = b0; b < b1; b++)
						dp[a * w + b] += g;
			}
		}
	}
}

/* ---- resize ---- */

/* PyTorch's nearest source index (legacy 'nearest'), float scale in/out. */
static inline int nearest_src(int dst, int in, int out)
{
	float scale = (float)in / (float)out;
	int s;

	if (in == out)
		return dst;
	if (out == 2 * in)
		return dst >> 1;
	s = (int)floorf((float)dst * scale);
	return s < in - 1 ? s : in - 1;
}

/* Bilinear source taps with align_corners = False. */
static inline void linear_src(int dst, int in, int out, int *i0, int *i1, float *l0, float *l1)
{
	float scale = (float)in / (float)out;
	float s = scale * ((float)dst + 0.5f) - 0.5f;

	if (s < 0)
		s = 0;
	*i0 = (int)s;
	if (*i0 > in - 1)
		*i0 = in - 1;
	*i1 = *i0 + (*i0 < in - 1 ? 1 : 0);
	*l1 = s - (float)*i0;
	*l0 = 1.0f - *l1;
}

/* Column taps for one call, on the stack for widths up to RESIZE_MAX_W (a
 * step allocates nothing); wider outputs compute them per element. */
#define RESIZE_MAX_W 4096

struct taps {
	int i0, i1;
	float l0, l1;
};

static void col_taps(enum nn_op op, int w, int ow, struct taps *t)
{
	for (int j = 0; j < ow; j++) {
		if (op == NN_OP_RESIZE_NEAREST) {
			t[j].i0 = t[j].i1 = nearest_src(j, w, ow);
			t[j].l0 = 1;
			t[j].l1 = 0;
		} else
			linear_src(j, w, ow, &t[j].i0, &t[j].i1, &t[j].l0, &t[j].l1);
	}
}

/* x: (P, H, W), y: (P, OH, OW) */
void nn_resize_forward(enum nn_op op, const float *x, float *y, int64_t planes, int h, int w, int oh, int ow)
{
	struct taps ct[ow <= RESIZE_MAX_W ? ow : 1];

	if (ow <= RESIZE_MAX_W)
		col_taps(op, w, ow, ct);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * ((int64_t)h * w + 10 * (int64_t)oh * ow + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *xp = x + p * h * w;
		float *yp = y + p * oh * ow;
		for (int i = 0; i < oh; i++) {
			if (op == NN_OP_RESIZE_NEAREST) {
				const float *row = xp + nearest_src(i, h, oh) * w;
				for (int j = 0; j < ow; j++)
					yp[i * ow + j] = row[ow <= RESIZE_MAX_W ? ct[j].i0 : nearest_src(j, w, ow)];
			} else {
				int a0, a1;
				float la0, la1;
				linear_src(i, h, oh, &a0, &a1, &la0, &la1);
				for (int j = 0; j < ow; j++) {
					struct taps c;
					if (ow <= RESIZE_MAX_W)
						c = ct[j];
					else
						linear_src(j, w, ow, &c.i0, &c.i1, &c.l0, &c.l1);
					yp[i * ow + j] = la0 * (c.l0 * xp[a0 * w + c.i0] + c.l1 * xp[a0 * w + c.i1]) +
						la1 * (c.l0 * xp[a1 * w + c.i0] + c.l1 * xp[a1 * w + c.i1]);
				}
			}
		}
	}
}

/* dx[src taps] += weight * dy */
void nn_resize_backward(enum nn_op op, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int acc)
{
	struct taps ct[ow <= RESIZE_MAX_W ? ow : 1];

	if (ow <= RESIZE_MAX_W)
		col_taps(op, w, ow, ct);
#pragma omp parallel for schedule(static) \
	num_threads(det_threads_for(planes * (2 * (int64_t)h * w + 10 * (int64_t)oh * ow + 100)))
	for (int64_t p = 0; p < planes; p++) {
		const float *gp = dy + p * oh * ow;
		float *dp = dx + p * h * w;
		if (!acc)
			memset(dp, 0, sizeof(float) * (size_t)h * (size_t)w);
		for (int i = 0; i < oh; i++) {
			if (op == NN_OP_RESIZE_NEAREST) {
				float *row = dp + nearest_src(i, h, oh) * w;
				for (int j = 0; j < ow; j++)
					row[ow <= RESIZE_MAX_W ? ct[j].i0 : nearest_src(j, w, ow)] += gp[i * ow + j];
			} else {
				int a0, a1;
				float la0, la1;
				linear_src(i, h, oh, &a0, &a1, &la0, &la1);
				for (int j = 0; j < ow; j++) {
					struct taps c;
					float g = gp[i * ow + j];
					if (ow <= RESIZE_MAX_W)
						c = ct[j];
					else
						linear_src(j, w, ow, &c.i0, &c.i1, &c.l0, &c.l1);
					dp[a0 * w + c.i0] += la0 * c.l0 * g;
					dp[a0 * w + c.i1] += la0 * c.l1 * g;
					dp[a1 * w + c.i0] += la1 * c.l0 * g;
					dp[a1 * w + c.i1] += la1 * c.l1 * g;
				}
			}
		}
	}
}

/* ---- softmax ---- */

/* x, y: (outer, len, inner) */
void nn_softmax_forward(int log, const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
#pragma omp parallel for schedule(static) collapse(2) num_threads(det_threads_for(20 * outer * len * inner))
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			const float *p = x + o * len * inner + in;
			float *q = y + o * len * inner + in;
			float mx = -INFINITY;
			double s = 0;
			for (int64_t l = 0; l < len; l++)
				mx = fmaxf(mx, p[l * inner]);
			for (int64_t l = 0; l < len; l++)
				s += expf(p[l * inner] - mx);
			if (log) {
				float ls = (float)logl(s);
				for (int64_t l = 0; l < len; l++)
					q[l * inner] = p[l * inner] - mx - ls;
			} else {
				for (int64_t l = 0; l < len; l++)
					q[l * inner] = (float)(expf(p[l * inner] - mx) / s);
			}
		}
}

void nn_softmax_backward(int log, const float *y, const float *dy, float *dx,
	int64_t outer, int64_t len, int64_t inner, int acc)
{
#pragma omp parallel for schedule(static) collapse(2) num_threads(det_threads_for(8 * outer * len * inner))
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * len * inner + in;
			double s = 0;
			for (int64_t l = 0; l < len; l++)
				s += log ? dy[base + l * inner] : dy[base + l * inner] * y[base + l * inner];
			for (int64_t l = 0; l < len; l++) {
				int64_t k = base + l * inner;
				float v = log ? dy[k] - expf(y[k]) * (float)s : y[k] * (dy[k] - (float)s);
				PUT(dx, k, v, acc);
			}
		}
}
