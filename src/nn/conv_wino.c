/* conv_wino.c: 3x3 stride-1 convolution by Winograd F(2x2, 3x3) (see
 * conv_wino.h for the maths). The matrices, for a 4x4 input tile d, a 3x3
 * filter g and the 2x2 output tile Y:
 *
 *   B^T = | 1  0 -1  0 |   G = | 1    0    0   |   A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |       | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
 *         | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
 *         | 0  1  0 -1 |       | 0    0    1   |
 *
 *   V = B^T d B,  U = G g G^T,  Y = A^T M A,  M[xi] = sum_c U[xi] V[xi]
 *
 * A call transforms the filters once (U, shared, all threads), then the
 * threads take groups of T tiles (T a multiple of the micro-kernel's 48
 * columns, V and M of a group about 1 MiB, so they stay in the core's L2)
 * one at a time: the group's input transforms into the thread's V, the 16
 * products into its M, the output transforms into y. A tile's output is
 * computed by its group alone, in a fixed order, so the bits depend on
 * neither the thread count nor which thread took the group.
 *
 * Layouts: U[xi][o][c] (C_out x C_in per point), V[xi][c][t], M[xi][o][t]
 * (t: the tile's column in its group, T per row), xi = 4a + b for the row
 * transform's index a and the column transform's b. A tile's index over
 * the call is (n * TH + ty) * TW + tx.
 *
 * With AVX-512 the transforms run 16 tiles (16 filters) on the lanes: the
 * tiles' overlapping columns are split into even and odd ones with one
 * two-source permute each, borders are masked loads, and the filters'
 * taps are gathered. Elsewhere they are plain C (correct, slower; conv.c
 * then takes Winograd only when forced). */
#include "nn/conv_wino.h"
#include "nn/conv_simd.h"

#include "core/threads.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define WINO_AVX512 1
#else
#define WINO_AVX512 0
#endif

#if CONV_SIMD
#define WMR CONV_MR
#define WNR CONV_NR
#else
#define WMR 8
#define WNR 16
#endif

/* floats of V and M together that a group aims for (1 MiB, in a core's L2) */
#ifndef WINO_GROUP_FLOATS
#define WINO_GROUP_FLOATS (1L << 18)
#endif
#define ALIGNF 16L

static long rup(long a, long m)
{
	return (a + m - 1) / m * m;
}

static long cdiv(long a, long b)
{
	return (a + b - 1) / b;
}

struct wgeom {
	long th, tw, tiles; /* tile rows and columns per image, tiles in all */
	long t, groups;     /* tiles per group (a multiple of WNR), groups */
	long co;            /* rows of M per point: C_out rounded up to WMR */
	long osplit, ochunk; /* a group's output channels in osplit units of ochunk */
	long u_at, off_at, thr_at, v_floats, m_floats, thr_floats;
};

int conv_wino_shape_ok(const struct conv2d_shape *s)
{
	return s->groups == 1 && s->kh == 3 && s->kw == 3 && s->stride_h == 1 &&
		s->stride_w == 1 && s->dil_h == 1 && s->dil_w == 1 && s->pad_h <= 2 &&
		s->pad_w <= 2 && s->h_out > 0 && s->w_out > 0;
}

static void geom_make(const struct conv2d_shape *s, int nthreads, struct wgeom *g)
{
	long t;

	g->th = (s->h_out + 1) / 2;
	g->tw = (s->w_out + 1) / 2;
	g->tiles = (long)s->n * g->th * g->tw;
	g->co = rup(s->c_out, WMR);
	t = WINO_GROUP_FLOATS / (16L * (s->c_in + g->co)) / WNR * WNR;
	if (t < WNR)
		t = WNR;
	/* every thread gets a group where the tiles allow */
	if (t > rup(cdiv(g->tiles, nthreads), WNR))
		t = rup(cdiv(g->tiles, nthreads), WNR);
	g->t = t;
	g->groups = cdiv(g->tiles, t);
	/* Few groups (512 channels on 8x8 maps: 3 of 48 tiles for 2 threads)
	 * leave a thread idle for a third of the call: then the output channels
	 * split too, each unit transforming its group's input again (the
	 * cheap part there). */
	g->osplit = 1;
	while (g->groups * g->osplit < 2L * nthreads && g->co / (2 * g->osplit) >= 64)
		g->osplit *= 2;
	g->ochunk = rup(cdiv(g->co, g->osplit), WMR);
	g->u_at = 0;
	g->off_at = rup(16L * s->c_out * s->c_in, ALIGNF);
	g->thr_at = g->off_at + rup(s->c_in * (long)(sizeof(long) / sizeof(float)), ALIGNF);
	g->v_floats = rup(16L * s->c_in * t, ALIGNF);
	/* M: 16 floats of slack, read (not used) by the last output vectors */
	g->m_floats = rup(16L * g->co * t + 16, ALIGNF);
	/* the plain-C transforms stage 4 + 4 rows of 2 TW + 2 columns */
	g->thr_floats = g->v_floats + g->m_floats + (WINO_AVX512 ? 0 : rup(8 * (2 * g->tw + 2), ALIGNF));
}

long conv_wino_floats(const struct conv2d_shape *s, int nthreads)
{
	struct wgeom g;

	geom_make(s, nthreads, &g);
	return g.thr_at + nthreads * g.thr_floats;
}

/* Where U of point (a, b) goes: flip, the filter of (o, c) is w[c][o]
 * turned by 180 degrees, and G rev(g) is G g with its rows in the order 3,
 * 1, 2, 0, so U of the turned filter at (a, b) is U of w[c][o] at
 * (perm a, perm b); perm is its own inverse. */
static void filter_dest(const struct conv2d_shape *s, int flip, long dst[16])
{
	static const int perm[4] = { 3, 1, 2, 0 };
	const long plane = (long)s->c_out * s->c_in;

	for (int a = 0; a < 4; a++)
		for (int b = 0; b < 4; b++)
			dst[4 * a + b] = (flip ? 4 * perm[a] + perm[b] : 4 * a + b) * plane;
}

#if WINO_AVX512
/* lanes i with lo <= c0 + i < hi */
static inline __mmask16 lanes(long c0, long lo, long hi)
{
	long a = lo - c0 > 0 ? lo - c0 : 0, e = hi - c0 < 16 ? hi - c0 : 16;

	if (e <= a)
		return 0;
	return (__mmask16)((((1u << e) - 1) & ~((1u << a) - 1)) & 0xffffu);
}

/* U for output channel o, its input channels 16 at a time on the lanes */
static void filters_row(const struct conv2d_shape *s, const float *w, int flip, const long *dst,
	long o, float *U)
{
	const long cstep = flip ? 9L * s->c_out : 9;
	const float *f0 = flip ? w + o * 9 : w + o * s->c_in * 9;
	const __m512 half = _mm512_set1_ps(0.5f);
	const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
		3, 2, 1, 0), _mm512_set1_epi32((int)cstep));

	for (long c = 0; c < s->c_in; c += 16) {
		const __mmask16 m = lanes(c, 0, s->c_in);
		const float *f = f0 + c * cstep;
		__m512 gv[9], gg[4][3];

		for (int q = 0; q < 9; q++)
			gv[q] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, f + q, 4);
		for (int q = 0; q < 3; q++) {
			gg[0][q] = gv[q];
			gg[1][q] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(gv[q], gv[3 + q]), gv[6 + q]));
			gg[2][q] = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(gv[q], gv[3 + q]), gv[6 + q]));
			gg[3][q] = gv[6 + q];
		}
		for (int a = 0; a < 4; a++) {
			float *u = U + o * s->c_in + c;
			const __m512 u1 = _mm512_mul_ps(half, _mm512_add_ps(_mm512_add_ps(gg[a][0], gg[a][1]), gg[a][2]));
			const __m512 u2 = _mm512_mul_ps(half, _mm512_add_ps(_mm512_sub_ps(gg[a][0], gg[a][1]), gg[a][2]));

			_mm512_mask_storeu_ps(u + dst[4 * a], m, gg[a][0]);
			_mm512_mask_storeu_ps(u + dst[4 * a + 1], m, u1);
			_mm512_mask_storeu_ps(u + dst[4 * a + 2], m, u2);
			_mm512_mask_storeu_ps(u + dst[4 * a + 3], m, gg[a][2]);
		}
	}
}
#else
static void filters_row(const struct conv2d_shape *s, const float *w, int flip, const long *dst,
	long o, float *U)
{
	const long cstep = flip ? 9L * s->c_out : 9;
	const float *f0 = flip ? w + o * 9 : w + o * s->c_in * 9;

	for (long c = 0; c < s->c_in; c++) {
		const float *f = f0 + c * cstep;
		float gg[4][3], *u = U + o * s->c_in + c;

		for (int q = 0; q < 3; q++) {
			gg[0][q] = f[q];
			gg[1][q] = 0.5f * (f[q] + f[3 + q] + f[6 + q]);
			gg[2][q] = 0.5f * (f[q] - f[3 + q] + f[6 + q]);
			gg[3][q] = f[6 + q];
		}
		for (int a = 0; a < 4; a++) {
			u[dst[4 * a]] = gg[a][0];
			u[dst[4 * a + 1]] = 0.5f * (gg[a][0] + gg[a][1] + gg[a][2]);
			u[dst[4 * a + 2]] = 0.5f * (gg[a][0] - gg[a][1] + gg[a][2]);
			u[dst[4 * a + 3]] = gg[a][2];
		}
	}
}
#endif

/* The input rows tile row ty of a plane reads (NULL: outside, zeros). */
static void tile_rows(const struct conv2d_shape *s, const float *plane, long ty, const float *rows[4])
{
	for (int r = 0; r < 4; r++) {
		const long i = 2 * ty - s->pad_h + r;

		rows[r] = i >= 0 && i < s->h ? plane + i * s->w : NULL;
	}
}

/* V of the tiles [a, e) of one tile row of one input channel, v: the first
 * tile's place in V[0][c], vs: floats between points. */
#if WINO_AVX512
static void input_span(const struct conv2d_shape *s, const float *rows[4], long a, long e, float *v,
	long vs, float *scr)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);

	(void)scr;
	for (long k0 = a; k0 < e; k0 += 16, v += 16) {
		const long cs = 2 * k0 - s->pad_w; /* the first tile's first column */
		const __mmask16 tm = lanes(k0, 0, e);
		__m512 d[4][4], q[4][4]; /* [row][the loads at cs, cs + 16, cs + 2, cs + 18] */
		static const int at[4] = { 0, 16, 2, 18 };

		for (int p = 0; p < 4; p++) {
			const __mmask16 m = lanes(cs + at[p], 0, s->w);

			for (int r = 0; r < 4; r++)
				d[r][p] = rows[r] ? _mm512_maskz_loadu_ps(m, rows[r] + cs + at[p]) : _mm512_setzero_ps();
		}
		for (int p = 0; p < 4; p++) {
			q[0][p] = _mm512_sub_ps(d[0][p], d[2][p]);
			q[1][p] = _mm512_add_ps(d[1][p], d[2][p]);
			q[2][p] = _mm512_sub_ps(d[2][p], d[1][p]);
			q[3][p] = _mm512_sub_ps(d[1][p], d[3][p]);
		}
		for (int r = 0; r < 4; r++) {
			const __m512 c0 = _mm512_permutex2var_ps(q[r][0], even, q[r][1]);
			const __m512 c1 = _mm512_permutex2var_ps(q[r][0], odd, q[r][1]);
			const __m512 c2 = _mm512_permutex2var_ps(q[r][2], even, q[r][3]);
			const __m512 c3 = _mm512_permutex2var_ps(q[r][2], odd, q[r][3]);
			float *vr = v + 4L * r * vs;

			_mm512_mask_storeu_ps(vr, tm, _mm512_sub_ps(c0, c2));
			_mm512_mask_storeu_ps(vr + vs, tm, _mm512_add_ps(c1, c2));
			_mm512_mask_storeu_ps(vr + 2 * vs, tm, _mm512_sub_ps(c2, c1));
			_mm512_mask_storeu_ps(vr + 3 * vs, tm, _mm512_sub_ps(c1, c3));
		}
	}
}
#else
static void input_span(const struct conv2d_shape *s, const float *rows[4], long a, long e, float *v,
	long vs, float *scr)
{
	const long len = 2 * (e - a) + 2, j0 = 2 * a - s->pad_w;
	float *d = scr, *q = scr + 4 * len;

	for (int r = 0; r < 4; r++)
		for (long j = 0; j < len; j++)
			d[r * len + j] = rows[r] && j0 + j >= 0 && j0 + j < s->w ? rows[r][j0 + j] : 0.0f;
	for (long j = 0; j < len; j++) {
		q[j] = d[j] - d[2 * len + j];
		q[len + j] = d[len + j] + d[2 * len + j];
		q[2 * len + j] = d[2 * len + j] - d[len + j];
		q[3 * len + j] = d[len + j] - d[3 * len + j];
	}
	for (int r = 0; r < 4; r++) {
		const float *qr = q + r * len;
		float *vr = v + 4L * r * vs;

		for (long k = 0; k < e - a; k++) {
			vr[k] = qr[2 * k] - qr[2 * k + 2];
			vr[vs + k] = qr[2 * k + 1] + qr[2 * k + 2];
			vr[2 * vs + k] = qr[2 * k + 2] - qr[2 * k + 1];
			vr[3 * vs + k] = qr[2 * k + 1] - qr[2 * k + 3];
		}
	}
}
#endif

/* y of the tiles [a, e) of tile row ty of output channel o from M (m: the
 * first tile's place in M[0][o], ms: floats between points), into the
 * plane yp: y = beta*y + Y + bo. */
#if WINO_AVX512
static void output_span(const struct conv2d_shape *s, const float *m, long ms, long ty, long a,
	long e, float bo, float *yp, float beta)
{
	const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
	const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
	const __m512 bv = _mm512_set1_ps(bo), betav = _mm512_set1_ps(beta);
	const long wend = 2 * e < s->w_out ? 2 * e : s->w_out; /* the last tile may be half outside */

	for (long k0 = a; k0 < e; k0 += 16, m += 16) {
		__m512 s0[4], s1[4], y[2][2];

		for (int b = 0; b < 4; b++) {
			const __m512 m0 = _mm512_loadu_ps(m + b * ms), m1 = _mm512_loadu_ps(m + (4 + b) * ms);
			const __m512 m2 = _mm512_loadu_ps(m + (8 + b) * ms), m3 = _mm512_loadu_ps(m + (12 + b) * ms);

			s0[b] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
			s1[b] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
		}
		for (int r = 0; r < 2; r++) {
			const __m512 *t = r ? s1 : s0;
			const __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[0], t[1]), t[2]), bv);
			const __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[1], t[2]), t[3]), bv);

			y[r][0] = _mm512_permutex2var_ps(y0, lo, y1);
			y[r][1] = _mm512_permutex2var_ps(y0, hi, y1);
		}
		for (int r = 0; r < 2 && 2 * ty + r < s->h_out; r++) {
			float *row = yp + (2 * ty + r) * s->w_out + 2 * k0;

			for (int h = 0; h < 2; h++) {
				const __mmask16 mk = lanes(2 * k0 + 16 * h, 0, wend);
				__m512 out = y[r][h];

				if (!mk)
					continue;
				if (beta != 0.0f)
					out = _mm512_fmadd_ps(betav, _mm512_maskz_loadu_ps(mk, row + 16 * h), out);
				_mm512_mask_storeu_ps(row + 16 * h, mk, out);
			}
		}
	}
}
#else
static void output_span(const struct conv2d_shape *s, const float *m, long ms, long ty, long a,
	long e, float bo, float *yp, float beta)
{
	for (long k = 0; k < e - a; k++) {
		float s0[4], s1[4], y[2][2];

		for (int b = 0; b < 4; b++) {
			const float m0 = m[b * ms + k], m1 = m[(4 + b) * ms + k];
			const float m2 = m[(8 + b) * ms + k], m3 = m[(12 + b) * ms + k];

			s0[b] = m0 + m1 + m2;
			s1[b] = m1 - m2 - m3;
		}
		y[0][0] = s0[0] + s0[1] + s0[2] + bo;
		y[0][1] = s0[1] - s0[2] - s0[3] + bo;
		y[1][0] = s1[0] + s1[1] + s1[2] + bo;
		y[1][1] = s1[1] - s1[2] - s1[3] + bo;
		for (int r = 0; r < 2 && 2 * ty + r < s->h_out; r++)
			for (int c = 0; c < 2 && 2 * (a + k) + c < s->w_out; c++) {
				float *p = yp + (2 * ty + r) * s->w_out + 2 * (a + k) + c;

				*p = beta != 0.0f ? beta * *p + y[r][c] : y[r][c];
			}
	}
}
#endif

/* M[xi] of a group, output channels [o0, o1): U[xi] against V[xi], K =
 * C_in; ncol columns (a multiple of WNR) of T. */
static void products(const struct conv2d_shape *s, const struct wgeom *g, const float *U,
	const float *V, float *M, const long *koff, long ncol, long o0, long o1)
{
	for (long xi = 0; xi < 16; xi++) {
		const float *u = U + xi * s->c_out * s->c_in;
		const float *v = V + xi * s->c_in * g->t;
		float *m = M + xi * g->co * g->t;

		for (long o = o0; o < o1; o += WMR) {
			const int nr = o1 - o < WMR ? (int)(o1 - o) : WMR;

			for (long j = 0; j < ncol; j += WNR) {
#if CONV_SIMD
				conv_simd_tile_fwd(s->c_in, u + o * s->c_in, s->c_in, NULL, nr, v + j, koff,
					m + o * g->t + j, g->t, 0, 0);
#else
				for (int r = 0; r < nr; r++)
					for (long jj = j; jj < j + WNR; jj++) {
						float acc = 0;

						for (long k = 0; k < s->c_in; k++)
							acc += u[(o + r) * s->c_in + k] * v[koff[k] + jj];
						m[(o + r) * g->t + jj] = acc;
					}
#endif
			}
		}
	}
}

/* One group of tiles [t0, t1), output channels [o0, o1), start to end,
 * on the thread's V and M. */
static void group_run(const struct conv2d_shape *s, const struct wgeom *g, const float *x,
	const float *U, const long *koff, const float *b, float *y, float beta, long t0, long t1,
	long o0, long o1, float *V, float *M, float *scr)
{
	const long ncol = rup(t1 - t0, WNR), vs = (long)s->c_in * g->t, ms = g->co * g->t;
	const long rix0 = t0 / g->tw, rix1 = (t1 - 1) / g->tw + 1;

	/* columns past the group's tiles read as zeros */
	if (ncol > t1 - t0)
		for (long row = 0; row < 16L * s->c_in; row++)
			memset(V + row * g->t + (t1 - t0), 0, (size_t)(ncol - (t1 - t0)) * sizeof *V);
	for (long c = 0; c < s->c_in; c++)
		for (long rix = rix0; rix < rix1; rix++) {
			const long n = rix / g->th, ty = rix % g->th, base = rix * g->tw;
			const long a = t0 > base ? t0 - base : 0, e = t1 - base < g->tw ? t1 - base : g->tw;
			const float *rows[4];

			tile_rows(s, x + ((long)n * s->c_in + c) * s->h * s->w, ty, rows);
			input_span(s, rows, a, e, V + c * g->t + base + a - t0, vs, scr);
		}
	products(s, g, U, V, M, koff, ncol, o0, o1);
	for (long o = o0; o < o1; o++)
		for (long rix = rix0; rix < rix1; rix++) {
			const long n = rix / g->th, ty = rix % g->th, base = rix * g->tw;
			const long a = t0 > base ? t0 - base : 0, e = t1 - base < g->tw ? t1 - base : g->tw;

			output_span(s, M + o * g->t + base + a - t0, ms, ty, a, e, b ? b[o] : 0.0f,
				y + ((long)n * s->c_out + o) * s->h_out * s->w_out, beta);
		}
}

void conv_wino_run(const struct conv2d_shape *s, const float *x, const float *w, int flip,
	const float *b, float *y, float beta, float *ws, int nthreads)
{
	struct wgeom g;
	long dst[16], *koff;
	float *U;

	geom_make(s, nthreads, &g);
	filter_dest(s, flip, dst);
	U = ws + g.u_at;
	koff = (long *)(ws + g.off_at);
	for (long k = 0; k < s->c_in; k++)
		koff[k] = k * g.t;

#pragma omp parallel num_threads(nthreads)
	{
		float *V = ws + g.thr_at + omp_get_thread_num() * g.thr_floats;
		float *M = V + g.v_floats, *scr = M + g.m_floats;

#pragma omp for schedule(static)
		for (long o = 0; o < s->c_out; o++)
			filters_row(s, w, flip, dst, o, U);
		/* (the barrier: every group reads all of U) */
#pragma omp for schedule(dynamic, 1)
		for (long u = 0; u < g.groups * g.osplit; u++) {
			const long gi = u / g.osplit, o0 = u % g.osplit * g.ochunk;

			if (o0 < s->c_out)
				group_run(s, &g, x, U, koff, b, y, beta, gi * g.t,
					(gi + 1) * g.t < g.tiles ? (gi + 1) * g.t : g.tiles, o0,
					o0 + g.ochunk < s->c_out ? o0 + g.ochunk : s->c_out, V, M, scr);
		}
	}
}

/* ---- weight gradient ----
 * The 16 points split by the row transform's index a (4 units of 4
 * points: with 2 threads, a = 0, 1 on one and 2, 3 on the other). A unit
 * walks the tiles in chunks of T: the input transforms of its row index
 * into V4[b][c][t], the output gradient's into Z4[b][o][t], and for each
 * b the product dU[4a + b] (+)= Z4[b] V4[b]^T, K = the chunk's tiles.
 * Then all threads turn dU into dw, output channel by output channel.
 *
 *   A = | 1  0 |   Z = A dY A^T: rows  z0 = y0, z1 = y0 + y1, z2 = y0 - y1,
 *       | 1  1 |   z3 = -y1 (the same along the columns)
 *       | 1 -1 |
 *       | 0 -1 |
 */
/* floats of V4 and Z4 together that a chunk aims for per thread (4 MiB) */
#ifndef WINO_WGRAD_FLOATS
#define WINO_WGRAD_FLOATS (1L << 20)
#endif

struct wggeom {
	long th, tw, tiles, t;
	long thr_at, v_floats, thr_floats;
};

static void wg_geom(const struct conv2d_shape *s, struct wggeom *g)
{
	g->th = (s->h_out + 1) / 2;
	g->tw = (s->w_out + 1) / 2;
	g->tiles = (long)s->n * g->th * g->tw;
	g->t = WINO_WGRAD_FLOATS / (4L * (s->c_in + s->c_out)) / 16 * 16;
	if (g->t < 16)
		g->t = 16;
	if (g->t > rup(g->tiles, 16))
		g->t = rup(g->tiles, 16);
	g->thr_at = rup(16L * s->c_out * s->c_in, ALIGNF);
	g->v_floats = rup(4L * s->c_in * g->t, ALIGNF);
	g->thr_floats = g->v_floats + rup(4L * s->c_out * g->t, ALIGNF) +
		(WINO_AVX512 ? 0 : rup(4 * (2 * g->tw + 2), ALIGNF));
}

long conv_wino_wgrad_floats(const struct conv2d_shape *s, int nthreads)
{
	struct wggeom g;

	wg_geom(s, &g);
	return g.thr_at + nthreads * g.thr_floats;
}

/* V4 of the tiles [ka, ke) of one tile row of one input channel, row
 * transform index a only; v: the first tile's place in V4[0][c], vs:
 * floats between the four points. */
#if WINO_AVX512
static void input_span_a(const struct conv2d_shape *s, const float *rows[4], int a, long ka, long ke,
	float *v, long vs, float *scr)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
	/* q = rows[ra] + sign * rows[rb]: d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
	static const int ra[4] = { 0, 1, 2, 1 }, rb[4] = { 2, 2, 1, 3 };
	static const float sg[4] = { -1, 1, -1, -1 };
	const __m512 sv = _mm512_set1_ps(sg[a]);
	static const int at[4] = { 0, 16, 2, 18 };

	(void)scr;
	for (long k0 = ka; k0 < ke; k0 += 16, v += 16) {
		const long cs = 2 * k0 - s->pad_w;
		const __mmask16 tm = lanes(k0, 0, ke);
		__m512 q[4];

		for (int p = 0; p < 4; p++) {
			const __mmask16 m = lanes(cs + at[p], 0, s->w);
			const __m512 x0 = rows[ra[a]] ? _mm512_maskz_loadu_ps(m, rows[ra[a]] + cs + at[p]) : _mm512_setzero_ps();
			const __m512 x1 = rows[rb[a]] ? _mm512_maskz_loadu_ps(m, rows[rb[a]] + cs + at[p]) : _mm512_setzero_ps();

			q[p] = _mm512_fmadd_ps(sv, x1, x0);
		}
		{
			const __m512 c0 = _mm512_permutex2var_ps(q[0], even, q[1]);
			const __m512 c1 = _mm512_permutex2var_ps(q[0], odd, q[1]);
			const __m512 c2 = _mm512_permutex2var_ps(q[2], even, q[3]);
			const __m512 c3 = _mm512_permutex2var_ps(q[2], odd, q[3]);

			_mm512_mask_storeu_ps(v, tm, _mm512_sub_ps(c0, c2));
			_mm512_mask_storeu_ps(v + vs, tm, _mm512_add_ps(c1, c2));
			_mm512_mask_storeu_ps(v + 2 * vs, tm, _mm512_sub_ps(c2, c1));
			_mm512_mask_storeu_ps(v + 3 * vs, tm, _mm512_sub_ps(c1, c3));
		}
	}
}

/* Z4 of the tiles [ka, ke) of tile row ty of output channel o (its plane
 * dp), row index a; z: the first tile's place in Z4[0][o]. */
static void grad_span_a(const struct conv2d_shape *s, const float *dp, long ty, int a, long ka,
	long ke, float *z, long zs)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
	const float *r0 = dp + 2 * ty * s->w_out;
	const float *r1 = 2 * ty + 1 < s->h_out ? r0 + s->w_out : NULL;
	/* the row combination: w0 * y0 + w1 * y1 */
	static const float w0[4] = { 1, 1, 1, 0 }, w1[4] = { 0, 1, -1, -1 };
	const __m512 c0v = _mm512_set1_ps(w0[a]), c1v = _mm512_set1_ps(w1[a]);

	for (long k0 = ka; k0 < ke; k0 += 16, z += 16) {
		const __mmask16 tm = lanes(k0, 0, ke);
		const __mmask16 m0 = lanes(2 * k0, 0, s->w_out), m1 = lanes(2 * k0 + 16, 0, s->w_out);
		__m512 lo = _mm512_mul_ps(c0v, _mm512_maskz_loadu_ps(m0, r0 + 2 * k0));
		__m512 hi = _mm512_mul_ps(c0v, _mm512_maskz_loadu_ps(m1, r0 + 2 * k0 + 16));

		if (r1) {
			lo = _mm512_fmadd_ps(c1v, _mm512_maskz_loadu_ps(m0, r1 + 2 * k0), lo);
			hi = _mm512_fmadd_ps(c1v, _mm512_maskz_loadu_ps(m1, r1 + 2 * k0 + 16), hi);
		}
		{
			const __m512 e = _mm512_permutex2var_ps(lo, even, hi);
			const __m512 od = _mm512_permutex2var_ps(lo, odd, hi);

			_mm512_mask_storeu_ps(z, tm, e);
			_mm512_mask_storeu_ps(z + zs, tm, _mm512_add_ps(e, od));
			_mm512_mask_storeu_ps(z + 2 * zs, tm, _mm512_sub_ps(e, od));
			_mm512_mask_storeu_ps(z + 3 * zs, tm, _mm512_sub_ps(_mm512_setzero_ps(), od));
		}
	}
}
#else
static void input_span_a(const struct conv2d_shape *s, const float *rows[4], int a, long ka, long ke,
	float *v, long vs, float *scr)
{
	static const int ra[4] = { 0, 1, 2, 1 }, rb[4] = { 2, 2, 1, 3 };
	static const float sg[4] = { -1, 1, -1, -1 };
	const long len = 2 * (ke - ka) + 2, j0 = 2 * ka - s->pad_w;
	float *q = scr;

	for (long j = 0; j < len; j++) {
		const long col = j0 + j;
		const int in = col >= 0 && col < s->w;
		const float x0 = in && rows[ra[a]] ? rows[ra[a]][col] : 0.0f;
		const float x1 = in && rows[rb[a]] ? rows[rb[a]][col] : 0.0f;

		q[j] = x0 + sg[a] * x1;
	}
	for (long k = 0; k < ke - ka; k++) {
		v[k] = q[2 * k] - q[2 * k + 2];
		v[vs + k] = q[2 * k + 1] + q[2 * k + 2];
		v[2 * vs + k] = q[2 * k + 2] - q[2 * k + 1];
		v[3 * vs + k] = q[2 * k + 1] - q[2 * k + 3];
	}
}

static void grad_span_a(const struct conv2d_shape *s, const float *dp, long ty, int a, long ka,
	long ke, float *z, long zs)
{
	static const float w0[4] = { 1, 1, 1, 0 }, w1[4] = { 0, 1, -1, -1 };

	for (long k = 0; k < ke - ka; k++) {
		float r[2];

		for (int j = 0; j < 2; j++) {
			const long col = 2 * (ka + k) + j;
			const float y0 = col < s->w_out ? dp[2 * ty * s->w_out + col] : 0.0f;
			const float y1 = col < s->w_out && 2 * ty + 1 < s->h_out ?
				dp[(2 * ty + 1) * s->w_out + col] : 0.0f;

			r[j] = w0[a] * y0 + w1[a] * y1;
		}
		z[k] = r[0];
		z[zs + k] = r[0] + r[1];
		z[2 * zs + k] = r[0] - r[1];
		z[3 * zs + k] = -r[1];
	}
}
#endif

/* dw[o][c] (+)= G^T dU[.][o][c] G for every input channel c of o */
static void wgrad_out(const struct conv2d_shape *s, const float *dU, long o, float *dw, int accumulate)
{
	const long plane = (long)s->c_out * s->c_in;

	for (long c = 0; c < s->c_in; c++) {
		const float *u = dU + o * s->c_in + c;
		float t[3][4], *d = dw + (o * s->c_in + c) * 9;

		for (int b = 0; b < 4; b++) {
			const float u0 = u[b * plane], u1 = u[(4 + b) * plane];
			const float u2 = u[(8 + b) * plane], u3 = u[(12 + b) * plane];

			t[0][b] = u0 + 0.5f * (u1 + u2);
			t[1][b] = 0.5f * (u1 - u2);
			t[2][b] = 0.5f * (u1 + u2) + u3;
		}
		for (int p = 0; p < 3; p++) {
			const float v0 = t[p][0] + 0.5f * (t[p][1] + t[p][2]);
			const float v1 = 0.5f * (t[p][1] - t[p][2]);
			const float v2 = 0.5f * (t[p][1] + t[p][2]) + t[p][3];

			d[3 * p] = accumulate ? d[3 * p] + v0 : v0;
			d[3 * p + 1] = accumulate ? d[3 * p + 1] + v1 : v1;
			d[3 * p + 2] = accumulate ? d[3 * p + 2] + v2 : v2;
		}
	}
}

void conv_wino_wgrad(const struct conv2d_shape *s, const float *x, const float *dy, float *dw,
	int accumulate, float *ws, int nthreads)
{
	struct wggeom g;
	float *dU = ws;

	wg_geom(s, &g);
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(nthreads)
	{
		float *V4 = ws + g.thr_at + omp_get_thread_num() * g.thr_floats;
		float *Z4 = V4 + g.v_floats, *scr = Z4 + rup(4L * s->c_out * g.t, ALIGNF);

#pragma omp for schedule(static)
		for (int a = 0; a < 4; a++)
			for (long t0 = 0; t0 < g.tiles; t0 += g.t) {
				const long t1 = t0 + g.t < g.tiles ? t0 + g.t : g.tiles;
				const long rix0 = t0 / g.tw, rix1 = (t1 - 1) / g.tw + 1;

				/* plane by plane, the tile rows in order (each input row is read by two) */
				for (long c = 0; c < s->c_in; c++)
					for (long rix = rix0; rix < rix1; rix++) {
						const long n = rix / g.th, ty = rix % g.th, base = rix * g.tw;
						const long ka = t0 > base ? t0 - base : 0, ke = t1 - base < g.tw ? t1 - base : g.tw;
						const float *rows[4];

						tile_rows(s, x + ((long)n * s->c_in + c) * s->h * s->w, ty, rows);
						input_span_a(s, rows, a, ka, ke, V4 + c * g.t + base + ka - t0,
							(long)s->c_in * g.t, scr);
					}
				for (long o = 0; o < s->c_out; o++)
					for (long rix = rix0; rix < rix1; rix++) {
						const long n = rix / g.th, ty = rix % g.th, base = rix * g.tw;
						const long ka = t0 > base ? t0 - base : 0, ke = t1 - base < g.tw ? t1 - base : g.tw;

						grad_span_a(s, dy + ((long)n * s->c_out + o) * s->h_out * s->w_out, ty, a,
							ka, ke, Z4 + o * g.t + base + ka - t0, (long)s->c_out * g.t);
					}
				for (int b = 0; b < 4; b++)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->c_out, s->c_in,
						(int)(t1 - t0), 1.0f, Z4 + (long)b * s->c_out * g.t, (int)g.t,
						V4 + (long)b * s->c_in * g.t, (int)g.t, t0 ? 1.0f : 0.0f,
						dU + (4L * a + b) * s->c_out * s->c_in, s->c_in);
			}
#pragma omp for schedule(static)
		for (long o = 0; o < s->c_out; o++)
			wgrad_out(s, dU, o, dw, accumulate);
	}
	openblas_set_num_threads(det_threads_get());
}
