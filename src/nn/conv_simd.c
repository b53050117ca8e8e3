/* conv_simd.c: the register-blocked micro-kernels of the direct
 * convolution path (see conv_simd.h for the maths and conv.c for the
 * drivers that pack their operands). One source for AVX-512 and AVX2+FMA:
 * the vector type and its operations are macros below, the tile sizes
 * come from conv_simd.h, and the loops over them have constant trip counts
 * that the compiler unrolls into registers. */
#include "nn/conv_simd.h"

#if CONV_SIMD
#include <immintrin.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define vzero() _mm512_setzero_ps()
#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, v) _mm512_storeu_ps((p), (v))
#define vbcast(p) _mm512_set1_ps(*(p))
#define vfma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vhsum(v) _mm512_reduce_add_ps(v)
#define vlo256(v) _mm512_castps512_ps256(v)
#define vhi256(v) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))
#else
typedef __m256 vec;
#define vzero() _mm256_setzero_ps()
#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, v) _mm256_storeu_ps((p), (v))
#define vbcast(p) _mm256_broadcast_ss(p)
#define vfma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
static inline float vhsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}
#endif

/* [sum a, sum b, sum c, sum d]: the four vectors' lanes summed together
 * (pairs within 128-bit lanes, then across them), a third of the
 * instructions of four vhsum. */
static inline __m128 vhsum4(vec a, vec b, vec c, vec d)
{
#if defined(__AVX512F__)
	const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
	const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
	const __m512 s4 = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
		_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
	const __m256 s = _mm256_add_ps(vlo256(s4), vhi256(s4));
#else
	const __m256 ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
	const __m256 cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
	const __m256 s = _mm256_add_ps(_mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
		_mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
#endif
	return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

#define NV (CONV_NR / CONV_VL)

/* One body, inlined three times: with aoff == NULL (the forward: weights
 * rows of K taps), with aoff (backward-data: the flipped weights read in
 * place), and with a prefetch of B's row k + pf. */
static inline __attribute__((always_inline)) void tile_fwd(long K, const float *a, long lda,
	const long *aoff, int nr, const float *b, const long *off, float *c, long ldc, int add,
	long pf)
{
	vec acc[CONV_MR][NV];
	const float *ar[CONV_MR];

#pragma GCC unroll 16
	for (int r = 0; r < CONV_MR; r++) {
		ar[r] = a + (r < nr ? r : nr - 1) * lda;
#pragma GCC unroll 4
		for (int v = 0; v < NV; v++)
			acc[r][v] = add ? vload(c + r * ldc + v * CONV_VL) : vzero();
	}
	for (long k = 0; k < K; k++) {
		const float *bk = b + off[k];
		const long ak = aoff ? aoff[k] : k;
		vec bv[NV];

		if (pf && k + pf < K) {
			const float *pk = b + off[k + pf];
#pragma GCC unroll 4
			for (int v = 0; v <= NV; v++)
				_mm_prefetch((const char *)(pk + v * CONV_VL), _MM_HINT_T0);
		}

#pragma GCC unroll 4
		for (int v = 0; v < NV; v++)
			bv[v] = vload(bk + v * CONV_VL);
#pragma GCC unroll 16
		for (int r = 0; r < CONV_MR; r++) {
			vec av = vbcast(ar[r] + ak);

#pragma GCC unroll 4
			for (int v = 0; v < NV; v++)
				acc[r][v] = vfma(av, bv[v], acc[r][v]);
		}
	}
#pragma GCC unroll 16
	for (int r = 0; r < CONV_MR; r++)
#pragma GCC unroll 4
		for (int v = 0; v < NV; v++)
			vstore(c + r * ldc + v * CONV_VL, acc[r][v]);
}

void conv_simd_tile_fwd(long K, const float *a, long lda, const long *aoff, int nr,
	const float *b, const long *off, float *c, long ldc, int add, long pf)
{
	if (aoff)
		tile_fwd(K, a, lda, aoff, nr, b, off, c, ldc, add, 0);
	else if (pf)
		tile_fwd(K, a, lda, NULL, nr, b, off, c, ldc, add, pf);
	else
		tile_fwd(K, a, lda, NULL, nr, b, off, c, ldc, add, 0);
}

#if defined(__AVX512F__)
void conv_simd_transpose16(const float *src, long lds, float *dst, long ldd)
{
	__m512 r[16], t[16];

	/* 4x4 within 128-bit lanes (unpack, shuffle), then the 4x4 of lanes */
#pragma GCC unroll 16
	for (int i = 0; i < 16; i++)
		r[i] = _mm512_loadu_ps(src + i * lds);
#pragma GCC unroll 8
	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
	}
#pragma GCC unroll 4
	for (int i = 0; i < 16; i += 4) {
		r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
		r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
		r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
		r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
	}
#pragma GCC unroll 2
	for (int h = 0; h < 16; h += 8)
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
			t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
		}
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
		r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
	}
#pragma GCC unroll 16
	for (int i = 0; i < 16; i++)
		_mm512_storeu_ps(dst + i * ldd, r[i]);
}
#endif

#define GNV (CONV_GNR / CONV_VL)

void conv_simd_tile_wgrad(long nimg, long ldimg, long rows, long cols, long ldb, const float *b,
	const long *off, const float *d, long ldd, float *c, long ldc, int add)
{
	vec acc[CONV_GMR][GNV];

#pragma GCC unroll 8
	for (int r = 0; r < CONV_GMR; r++)
#pragma GCC unroll 4
		for (int v = 0; v < GNV; v++)
			acc[r][v] = add ? vload(c + r * ldc + v * CONV_VL) : vzero();
	for (long li = 0; li < nimg * rows; li++) {
		const float *bi = b + (li / rows) * ldimg + (li % rows) * ldb, *di = d + li * cols * ldd;

		for (long j = 0; j < cols; j++) {
			const float *dj = di + j * ldd;
			vec dv[GNV];

#pragma GCC unroll 4
			for (int v = 0; v < GNV; v++)
				dv[v] = vload(dj + v * CONV_VL);
#pragma GCC unroll 8
			for (int r = 0; r < CONV_GMR; r++) {
				vec br = vbcast(bi + off[r] + j);

#pragma GCC unroll 4
				for (int v = 0; v < GNV; v++)
					acc[r][v] = vfma(br, dv[v], acc[r][v]);
			}
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < CONV_GMR; r++)
#pragma GCC unroll 4
		for (int v = 0; v < GNV; v++)
			vstore(c + r * ldc + v * CONV_VL, acc[r][v]);
}
#endif

#if CONV_SIMD
/* Few-channel weight gradient: NC channels x T taps of accumulators, the
 * NC rows of d loaded once per vector of pixels and reused by the T taps,
 * each tap's row of b loaded once and reused by the NC channels. T per NC
 * keeps NC*T + NC + 1 vectors within the register file (32 on AVX-512; on
 * AVX2's 16 the rows of d become memory operands of the FMAs). */
#if CONV_VL == 16
#define FEW_TAPS(nc) ((nc) <= 2 ? 8 : (nc) == 3 ? 6 : (nc) == 4 ? 5 : 4)
#else
#define FEW_TAPS(nc) ((nc) == 1 ? 6 : (nc) == 2 ? 4 : (nc) == 3 ? 3 : 2)
#endif

int conv_simd_wgrad_few_taps(int nc)
{
	return FEW_TAPS(nc);
}

static inline __attribute__((always_inline)) void tile_few(const int NC, const int T, long nv,
	const float *d, long ldd, const float *b, const long *off, float *c, long ldc, int nt,
	int add)
{
	vec acc[CONV_FEW_NC][CONV_FEW_TMAX];
	const float *bt[CONV_FEW_TMAX];

#pragma GCC unroll 8
	for (int t = 0; t < T; t++) {
		bt[t] = b + off[t];
#pragma GCC unroll 8
		for (int o = 0; o < NC; o++)
			acc[o][t] = vzero();
	}
	for (long v = 0; v < nv * CONV_VL; v += CONV_VL) {
		vec dv[CONV_FEW_NC];

#pragma GCC unroll 8
		for (int o = 0; o < NC; o++)
			dv[o] = vload(d + o * ldd + v);
#pragma GCC unroll 8
		for (int t = 0; t < T; t++) {
			vec bv = vload(bt[t] + v);

			/* one load per tap: left alone, GCC folds it into every
			 * channel's FMA (3 channels ran at half speed, load-bound) */
			if (NC > 1)
				__asm__("" : "+v"(bv));
#pragma GCC unroll 8
			for (int o = 0; o < NC; o++)
				acc[o][t] = vfma(dv[o], bv, acc[o][t]);
		}
	}
#pragma GCC unroll 8
	for (int o = 0; o < NC; o++) {
		float *co = c + o * ldc;
		int t = 0;

#pragma GCC unroll 2
		for (; t + 4 <= T; t += 4) {
			__m128 r = vhsum4(acc[o][t], acc[o][t + 1], acc[o][t + 2], acc[o][t + 3]);

			if (t + 4 <= nt) {
				if (add)
					r = _mm_add_ps(_mm_loadu_ps(co + t), r);
				_mm_storeu_ps(co + t, r);
			} else {
				float sum[4];

				_mm_storeu_ps(sum, r);
				for (int q = t; q < nt; q++)
					co[q] = (add ? co[q] : 0.0f) + sum[q - t];
			}
		}
#pragma GCC unroll 4
		for (; t < T; t++)
			if (t < nt)
				co[t] = (add ? co[t] : 0.0f) + vhsum(acc[o][t]);
	}
}

void conv_simd_tile_wgrad_few(int nc, long nv, const float *d, long ldd, const float *b,
	const long *off, float *c, long ldc, int nt, int add)
{
	switch (nc) {
	case 1: tile_few(1, FEW_TAPS(1), nv, d, ldd, b, off, c, ldc, nt, add); break;
	case 2: tile_few(2, FEW_TAPS(2), nv, d, ldd, b, off, c, ldc, nt, add); break;
	case 3: tile_few(3, FEW_TAPS(3), nv, d, ldd, b, off, c, ldc, nt, add); break;
	case 4: tile_few(4, FEW_TAPS(4), nv, d, ldd, b, off, c, ldc, nt, add); break;
	case 5: tile_few(5, FEW_TAPS(5), nv, d, ldd, b, off, c, ldc, nt, add); break;
	default: tile_few(6, FEW_TAPS(6), nv, d, ldd, b, off, c, ldc, nt, add); break;
	}
}

void conv_simd_copy_rows(float *d, long ldd, const float *s, long lds, long rows, long n)
{
	const long nb = n / CONV_VL * CONV_VL;
#if CONV_VL == 16
	const __mmask16 m = (__mmask16)((1u << (n - nb)) - 1);
#else
	const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - nb)),
		_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#endif

	for (long r = 0; r < rows; r++, d += ldd, s += lds) {
		for (long i = 0; i < nb; i += CONV_VL)
			vstore(d + i, vload(s + i));
		if (nb < n) {
#if CONV_VL == 16
			_mm512_mask_storeu_ps(d + nb, m, _mm512_maskz_loadu_ps(m, s + nb));
#else
			_mm256_maskstore_ps(d + nb, m, _mm256_maskload_ps(s + nb, m));
#endif
		}
	}
}
#endif
