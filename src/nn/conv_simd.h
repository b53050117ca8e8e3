/* conv_simd.h: the register-blocked micro-kernels of the direct convolution
 * path in conv.c (internal to src/nn). Compiled for AVX-512 when the build
 * targets it (__AVX512F__), else for AVX2+FMA (__AVX2__ && __FMA__); on any
 * other target CONV_SIMD is 0 and conv.c keeps im2col + OpenBLAS.
 *
 * Both kernels read their "B" operand through an offset table: row k of B
 * is b + off[k], so one kernel serves B as a packed panel (off[k] = k*ld)
 * and B as shifted views of a zero-padded input plane (off[k] = where tap k
 * of the convolution starts), which is what removes im2col. */
#ifndef DET_NN_CONV_SIMD_H
#define DET_NN_CONV_SIMD_H

#if defined(__AVX512F__)
#define CONV_SIMD 1
#define CONV_SIMD_NAME "avx512"
#define CONV_VL 16    /* floats per vector */
#define CONV_MR 8     /* forward: output channels per tile */
#define CONV_NR 48    /* forward: output pixels per tile (3 vectors) */
#define CONV_GMR 6    /* weight gradient: taps per tile */
#define CONV_GNR 64   /* weight gradient: output channels per tile (4 vectors) */
#elif defined(__AVX2__) && defined(__FMA__)
#define CONV_SIMD 1
#define CONV_SIMD_NAME "avx2"
#define CONV_VL 8
#define CONV_MR 4
#define CONV_NR 24
#define CONV_GMR 6
#define CONV_GNR 16
#else
#define CONV_SIMD 0
#define CONV_SIMD_NAME "none"
#endif

#if CONV_SIMD
/* Forward tile, C (CONV_MR x CONV_NR, leading dimension ldc):
 *   C[r][m] (+)= sum_{k<K} A[r][k] * b[off[k] + m],  A[r][k] = a[r*lda + aoff[k]]
 * (aoff NULL: a[r*lda + k]); rows r >= nr of A are not read (row nr-1 is
 * used in their place; the caller drops those rows of C). The sum runs
 * k = 0..K-1 in order, one fused multiply-add per k, so every output's
 * bits are fixed, and a sum split into chunks of k (add != 0 continues
 * from what C holds) gives the same bits as one call. pf > 0 (with aoff
 * NULL) prefetches row k + pf of B while row k is summed: for B rows that
 * share few cache lines (phase planes), which the hardware does not
 * foresee. */
void conv_simd_tile_fwd(long K, const float *a, long lda, const long *aoff, int nr,
	const float *b, const long *off, float *c, long ldc, int add, long pf);

/* Weight-gradient tile, output channels along the lanes, C (CONV_GMR x
 * CONV_GNR, leading dimension ldc), over nimg blocks of b (ldimg apart)
 * and of d (rows*cols rows of d apart):
 *   C[r][n] (+)= sum_{l<nimg} sum_{i<rows} sum_{j<cols}
 *                b[l*ldimg + off[r] + i*ldb + j] * d[((l*rows + i)*cols + j)*ldd + n]
 * (add != 0 adds to what C holds). The sum runs over l, i, j in order. */
void conv_simd_tile_wgrad(long nimg, long ldimg, long rows, long cols, long ldb, const float *b,
	const long *off, const float *d, long ldd, float *c, long ldc, int add);
#endif

#if CONV_SIMD
/* Weight-gradient tile for few output channels, pixels along the lanes:
 *   C[o*ldc + t] (+)= sum_{v<nv} sum_{l<VL} d[o*ldd + v*VL + l] * b[off[t] + v*VL + l]
 * for o < nc (1..CONV_FEW_NC), t < nt <= T = conv_simd_wgrad_few_taps(nc)
 * (add != 0 adds to what C holds): every (channel, tap) pair is one dot
 * product over nv vectors of pixels, its lanes summed at the end in a
 * fixed order (the bits depend on nv and the data only). off must hold T
 * entries (those past nt are read, not stored). */
#define CONV_FEW_NC 6
#define CONV_FEW_TMAX 8
int conv_simd_wgrad_few_taps(int nc);
void conv_simd_tile_wgrad_few(int nc, long nv, const float *d, long ldd, const float *b,
	const long *off, float *c, long ldc, int nt, int add);

/* d[r*ldd + i] = s[r*lds + i] for r < rows, i < n, in vectors (each row's
 * tail masked): short rows, where a call to memcpy per row costs more than
 * the copy. */
void conv_simd_copy_rows(float *d, long ldd, const float *s, long lds, long rows, long n);
#endif

#if CONV_SIMD && CONV_VL == 16
/* dst[m*ldd + o] = src[o*lds + m] for o, m < 16: one 16x16 block transposed
 * in registers (backward-weights' dy, channels onto the lanes). */
void conv_simd_transpose16(const float *src, long lds, float *dst, long ldd);
#endif

#endif
