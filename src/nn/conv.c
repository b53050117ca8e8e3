/* conv.c: 2-D convolution kernels, NCHW float32, forward and both backwards.
 * Direct path (groups 1, 3x3/7x7/..., where the build has AVX-512 or
 * AVX2+FMA): implicit GEMM on the micro-kernels of conv_simd.c, reading a
 * zero-padded, phase-split copy of the input rows in place of a column
 * matrix (view) or im2col'ing tiles of 48/24 columns straight into the
 * kernel's panel layout (panel, maps under 24 wide); see "direct path".
 * General path: im2col of a block of output columns into a per-thread
 * buffer that fits the cache, then cblas_sgemm; 1x1 stride-1 unpadded
 * convolutions use the input itself as the column matrix; depthwise runs a
 * direct kernel. Backward-data of a stride-1 convolution is a forward
 * convolution of dy with the flipped, transposed weights (no col2im); of a
 * strided one, on the direct path, one stride-1 convolution per phase of
 * dx on the micro-kernels (the stacked view), elsewhere col2im.
 * Backward-weights of a convolution with few output channels (a detection
 * head's last) puts the pixels on the vector lanes (backward_weights_few).
 *
 * Threads: the blocks of one call are shared by an OpenMP team and each
 * thread calls a single-threaded sgemm on its own block, so OpenBLAS and
 * OpenMP threads never run at once. Every output element is computed by one
 * block, and backward-weights splits its blocks statically, so results only
 * depend on the thread count. Calls with fewer blocks than threads walk the
 * blocks on one thread and let OpenBLAS use the threads instead, with
 * im2col on that one thread: alternating an OpenMP im2col with threaded
 * sgemms measured 3-6x slower, as each pool's idle threads spin on the
 * cores the other needs. Depthwise kernels split (image, channel) planes,
 * or channels for the weights. */
#include "nn/conv.h"
#include "nn/conv_simd.h"
#include "nn/conv_wino.h"

#include "core/error.h"
#include "core/threads.h"

#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Floats of im2col buffer a thread aims for (1 MiB: stays in L2 while the
 * sgemm packs it), and the fewest columns a block gets so that the weights
 * the sgemm packs per call are amortised over enough work (maps smaller
 * than that put several images in a block). Chosen on a quiet 2-core run of
 * bench/conv_bench over budgets of 128K-1M floats and 128-512 columns:
 * 512 columns gave the 3x3 layers 5-10% over 256 (see bench/README.md). */
#ifndef COL_BUDGET
#define COL_BUDGET (1L << 18)
#endif
#ifndef MIN_COLS
#define MIN_COLS 512L
#endif
/* Per-thread regions start on 64-byte boundaries. */
#define ALIGN_FLOATS 16L

static long round_up(long a, long m)
{
	return (a + m - 1) / m * m;
}

static long ceil_div(long a, long b)
{
	return (a + b - 1) / b;
}

int conv2d_shape_init(struct conv2d_shape *s)
{
	long eh, ew, hw_in, out;

	if (s->n < 1 || s->c_in < 1 || s->h < 1 || s->w < 1)
		return det_error_set(DET_EINVAL, "conv2d: input shape %dx%dx%dx%d must be positive",
			s->n, s->c_in, s->h, s->w);
	if (s->c_out < 1)
		return det_error_set(DET_EINVAL, "conv2d: output channels %d must be positive", s->c_out);
	if (s->kh < 1 || s->kw < 1)
		return det_error_set(DET_EINVAL, "conv2d: kernel %dx%d must be positive", s->kh, s->kw);
	if (s->stride_h < 1 || s->stride_w < 1)
		return det_error_set(DET_EINVAL, "conv2d: stride %dx%d must be positive",
			s->stride_h, s->stride_w);
	if (s->pad_h < 0 || s->pad_w < 0)
		return det_error_set(DET_EINVAL, "conv2d: padding %dx%d must not be negative",
			s->pad_h, s->pad_w);
	if (s->dil_h < 1 || s->dil_w < 1)
		return det_error_set(DET_EINVAL, "conv2d: dilation %dx%d must be positive",
			s->dil_h, s->dil_w);
	if (s->groups < 1)
		return det_error_set(DET_EINVAL, "conv2d: groups %d must be positive", s->groups);
	if (s->c_in % s->groups)
		return det_error_set(DET_EINVAL, "conv2d: input channels %d not divisible by groups %d",
			s->c_in, s->groups);
	if (s->c_out % s->groups)
		return det_error_set(DET_EINVAL, "conv2d: output channels %d not divisible by groups %d",
			s->c_out, s->groups);
	eh = (long)s->dil_h * (s->kh - 1) + 1;
	ew = (long)s->dil_w * (s->kw - 1) + 1;
	if (eh > s->h + 2L * s->pad_h || ew > s->w + 2L * s->pad_w)
		return det_error_set(DET_EINVAL,
			"conv2d: kernel %dx%d (dilation %dx%d) spans %ldx%ld, larger than the padded input %ldx%ld",
			s->kh, s->kw, s->dil_h, s->dil_w, eh, ew,
			s->h + 2L * s->pad_h, s->w + 2L * s->pad_w);
	s->h_out = (int)((s->h + 2L * s->pad_h - eh) / s->stride_h + 1);
	s->w_out = (int)((s->w + 2L * s->pad_w - ew) / s->stride_w + 1);
	/* cblas takes int sizes: keep every matrix and tensor under 2^31 elements. */
	hw_in = (long)s->h * s->w;
	out = (long)s->h_out * s->w_out;
	if ((double)s->n * s->c_in * hw_in >= INT32_MAX || (double)s->n * s->c_out * out >= INT32_MAX ||
	    (double)s->c_in * s->kh * s->kw * out >= INT32_MAX ||
	    (double)s->c_out * s->kh * s->kw * hw_in >= INT32_MAX ||
	    (double)s->c_out * (s->c_in / s->groups) * s->kh * s->kw >= INT32_MAX)
		return det_error_set(DET_EINVAL, "conv2d: shape %dx%dx%dx%d -> %d channels too large "
			"(a tensor or column matrix over 2^31 elements)", s->n, s->c_in, s->h, s->w, s->c_out);
	return DET_OK;
}

double conv2d_flops(const struct conv2d_shape *s)
{
	return 2.0 * s->n * s->c_out * s->h_out * s->w_out * (s->c_in / s->groups) * s->kh * s->kw;
}

/* ---- shapes and plans ---- */

static int is_depthwise(const struct conv2d_shape *s)
{
	return s->groups > 1 && s->groups == s->c_in && s->groups == s->c_out;
}

static int is_pointwise(const struct conv2d_shape *s)
{
	return s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 &&
		s->pad_h == 0 && s->pad_w == 0;
}

/* Backward-data as a forward convolution needs stride 1 and
 * pad <= dil*(k-1) (the transposed padding may not be negative). */
static int bwd_data_as_conv(const struct conv2d_shape *s)
{
	return s->stride_h == 1 && s->stride_w == 1 &&
		s->pad_h <= s->dil_h * (s->kh - 1) && s->pad_w <= s->dil_w * (s->kw - 1);
}

/* The convolution dx = conv(dy, w') with w'[g*Cg+c, o, KH-1-p, KW-1-q] =
 * w[g*Cog+o, c, p, q] that backward-data of a stride-1 convolution is. */
static struct conv2d_shape transposed_shape(const struct conv2d_shape *s)
{
	struct conv2d_shape t = *s;

	t.c_in = s->c_out;
	t.h = s->h_out;
	t.w = s->w_out;
	t.c_out = s->c_in;
	t.pad_h = s->dil_h * (s->kh - 1) - s->pad_h;
	t.pad_w = s->dil_w * (s->kw - 1) - s->pad_w;
	t.h_out = s->h;
	t.w_out = s->w;
	return t;
}

/* ---- direct path: implicit GEMM on the conv_simd.h micro-kernels ----
 * Groups 1 only. Each tile of CONV_MR output channels x CONV_NR output
 * pixels sums over all K = C_in*KH*KW taps in order, reading the weights
 * as they lie (CONV_MR rows of the C_out x K matrix, broadcast one at a
 * time). Two ways to feed the pixels:
 *
 * View (maps at least VIEW_MIN_WIDTH wide): a band of output rows of one
 * image reads a zero-padded copy of the input rows it needs, P, split into
 * stride_h x stride_w phase planes of pitch Wq = W_out + (KW-1)*dil_w/sw:
 *   P[c][rh*sw + rw][t][u] = xpad[c][(i0 + t)*sh + rh][u*sw + rw]
 * Output pixel (i0 + i, j) sits at flat position m = i*Wq + j, and tap
 * (c, p, q) of every pixel at m + off[k], off[k] = c*|P_c| + phase*|plane|
 * + ((p*dil_h)/sh)*Wq + (q*dil_w)/sw with phase = ((p*dil_h)%sh, (q*dil_w)%sw):
 * a row of the implicit column matrix is a contiguous run of P, so nothing
 * is im2col'd or repacked; the Wq - W_out columns past each row are
 * computed and dropped.
 *
 * Panel (narrower maps, where those dropped columns would cost more than a
 * copy): the output columns of all images (N x H_out*W_out) are cut into
 * tiles of CONV_NR, each im2col'd once into a K x CONV_NR panel that every
 * channel tile then reads.
 *
 * Backward-data of a stride-1 convolution is the forward of its transposed
 * shape: the panel reads the flipped weights in place (an offset table for
 * the kernel's A), the view reads a flipped copy (see backward_data_general).
 *
 * Backward-weights always reads the view: per band, dWT[k][o] (+)= sum over
 * the band's pixels of P[off[k] + pixel] * dT[pixel][o], output channels on
 * the lanes (see backward_weights_direct); under FEW_MAX_COUT output
 * channels, pixels on the lanes, one dot product per (channel, tap) (see
 * backward_weights_few). */

#if CONV_SIMD
/* A band is enough output rows to give at least VIEW_MIN_M flat pixels,
 * within VIEW_BUDGET floats of P (fewer rows when the channels are many). */
#ifndef VIEW_MIN_M
#define VIEW_MIN_M 1024L
#endif
#ifndef VIEW_BUDGET
#define VIEW_BUDGET (1L << 17)
#endif
#ifndef VIEW_MIN_WIDTH
#define VIEW_MIN_WIDTH 16
#endif
/* the fewest output channels that take the panel on narrower maps */
#ifndef PANEL_MIN_COUT
#define PANEL_MIN_COUT 128
#endif
/* B rows ahead that the forward kernel prefetches on phase-split views and
 * the stacked view (3x3/2 layers: forward 1.05x, backward-data 1.03-1.1x;
 * stride-1 views gained nothing: their taps share lines) */
#ifndef CONV_PF
#define CONV_PF 8L
#endif
#endif

enum direct_mode { DIRECT_NONE, DIRECT_VIEW, DIRECT_PANEL };

static enum conv2d_kernel kernel_choice = CONV2D_KERNEL_AUTO;
static int kernel_env_read;

void conv2d_kernel_set(enum conv2d_kernel k)
{
	kernel_choice = k;
	kernel_env_read = 1;
}

const char *conv2d_kernel_isa(void)
{
	return CONV_SIMD_NAME;
}

/* $DETBENCH_CONV_KERNEL (auto, blas, view, panel, stacked, few, winograd,
 * direct) when nothing was set. */
static enum conv2d_kernel kernel_get(void)
{
	if (!kernel_env_read) {
		const char *e = getenv("DETBENCH_CONV_KERNEL");

		if (e && !strcmp(e, "blas"))
			kernel_choice = CONV2D_KERNEL_BLAS;
		else if (e && !strcmp(e, "view"))
			kernel_choice = CONV2D_KERNEL_VIEW;
		else if (e && !strcmp(e, "panel"))
			kernel_choice = CONV2D_KERNEL_PANEL;
		else if (e && !strcmp(e, "stacked"))
			kernel_choice = CONV2D_KERNEL_STACKED;
		else if (e && !strcmp(e, "few"))
			kernel_choice = CONV2D_KERNEL_FEW;
		else if (e && !strcmp(e, "winograd"))
			kernel_choice = CONV2D_KERNEL_WINOGRAD;
		else if (e && !strcmp(e, "direct"))
			kernel_choice = CONV2D_KERNEL_DIRECT;
		kernel_env_read = 1;
	}
	return kernel_choice;
}

#if CONV_SIMD
/* WINOGRAD and DIRECT choose like AUTO wherever Winograd does not run. */
static int auto_like(enum conv2d_kernel k)
{
	return k == CONV2D_KERNEL_AUTO || k == CONV2D_KERNEL_WINOGRAD || k == CONV2D_KERNEL_DIRECT;
}
#endif

/* Winograd F(2x2, 3x3) for a 3x3 stride-1 convolution (the forward, or the
 * one a backward-data runs): forced by WINOGRAD; AUTO takes it with the
 * AVX-512 transforms where its products are big enough to beat the direct
 * kernels, which the transforms' memory traffic decides: WINO_MIN_C input
 * and output channels and maps of at least WINO_MIN_HW outputs. Forward
 * and backward-data together against the direct kernels, batch 8, 2
 * threads (bench/conv_paths_bench -s wino): 64 channels on 64x64 maps
 * 1.45x, 32x32 1.53x, 16x16 1.40x; 128 on 32x32 1.71x, 16x16 1.63x, 8x8
 * 1.02x, 4x4 0.89x; 256 on 16x16 1.59x; 512 on 8x8 1.16x; 32 on 64x64
 * 1.19x (1 thread: 1.08x); see bench/README.md, "Winograd". */
#ifndef WINO_MIN_C
#define WINO_MIN_C 64
#endif
#ifndef WINO_MIN_HW
#define WINO_MIN_HW 64L
#endif
#if CONV_SIMD && CONV_VL == 16
#define WINO_AUTO 1
#else
#define WINO_AUTO 0
#endif
static int wino_use(const struct conv2d_shape *s)
{
	const enum conv2d_kernel k = kernel_get();

	if (!conv_wino_shape_ok(s))
		return 0;
	if (k == CONV2D_KERNEL_WINOGRAD)
		return 1;
	return k == CONV2D_KERNEL_AUTO && WINO_AUTO && s->c_in >= WINO_MIN_C &&
		s->c_out >= WINO_MIN_C && (long)s->h_out * s->w_out >= WINO_MIN_HW;
}

#if CONV_SIMD
/* Backward-weights: its transforms cost more per product FLOP (each of
 * the four units reads the input again, OpenBLAS packs both operands), so
 * auto takes it from 128 channels on maps of 16x16 and over and from 256
 * channels on any map wino_use takes. Against the direct kernels, batch 8,
 * 2 threads: 64 channels 0.88-0.91x; 128 on 32x32 1.21x, 16x16 1.24x
 * (1 thread 0.99x), 8x8 1.04x (1 thread 0.91x); 256 on 16x16 1.46x; 512
 * on 8x8 1.60x. */
static int wino_use_bwdw(const struct conv2d_shape *s)
{
	if (!wino_use(s))
		return 0;
	if (kernel_get() == CONV2D_KERNEL_WINOGRAD)
		return 1;
	return s->c_in >= 128 && s->c_out >= 128 &&
		(s->c_in >= 256 || (long)s->h_out * s->w_out >= 256);
}

static enum direct_mode direct_mode_of(const struct conv2d_shape *s)
{
	enum conv2d_kernel k = kernel_get();

	if (s->groups != 1 || k == CONV2D_KERNEL_BLAS)
		return DIRECT_NONE;
	if (k == CONV2D_KERNEL_VIEW || k == CONV2D_KERNEL_STACKED || k == CONV2D_KERNEL_FEW)
		return DIRECT_VIEW;
	if (k == CONV2D_KERNEL_PANEL)
		return DIRECT_PANEL;
	if (s->kh * s->kw == 1)
		return DIRECT_NONE;
	if (s->w_out >= VIEW_MIN_WIDTH)
		return DIRECT_VIEW;
#if CONV_VL < 16
	/* the 4x24 AVX2 tile on 8x8 maps ran at 0.9x OpenBLAS's Haswell kernels */
	return DIRECT_NONE;
#else
	/* A panel's copy pays off only over many channel tiles. With im2col
	 * panels, on 8x8 maps the view ran 128 -> 128 at 1.3x the panel, 128 ->
	 * 24 at 3x, 128 -> 6 at 5x (the detection heads), and 512 -> 512 at
	 * 0.93x. Panels gathered from views (panel_gather) ran 512 -> 512 at
	 * 1.10-1.14x the im2col panels, and 128 -> 128 at 1.1x the view on 8x8
	 * maps, 1.6x on 4x4; the view still wins below 128 output channels
	 * (128 -> 64 at 1.13x, 128 -> 6 at 2x; single thread, best of 60).
	 * On maps 4 wide and under the view's tiles of 48 positions hold one
	 * image's few pixels (4x4: 16 of 48, 2x2: 4), and the panel wins from
	 * fewer channels (im2col panels): 4x4 6 -> 128 (a head's backward-data)
	 * 1.6x, 128 -> 128 1.0x, 256 -> 256 1.4x, 64 -> 64 0.73x, 128 -> 24
	 * 0.4x, 128 -> 6 0.24x; 2x2 6 -> 128 2.0x, 128 -> 128 2.0x, 256 -> 64
	 * 1.3x, 128 -> 6 0.3x (single thread). */
	if (s->w_out <= 4 && s->c_out >= 32L * s->w_out)
		return DIRECT_PANEL;
	return s->c_out >= PANEL_MIN_COUT ? DIRECT_PANEL : DIRECT_VIEW;
#endif
}

/* the fewest output channels whose backward-weights auto runs with the
 * channels on the lanes (fewer: pixels on the lanes, see
 * backward_weights_few). From 128 channels on 32x32 and 8x8 maps, batch 8,
 * pixels on the lanes against channels on the lanes ran: 6 outputs 6x and
 * 4x, 32 outputs 1.6x and 1.15x, 48 outputs 1.0x and 0.85x, 64 0.85x and
 * 0.65x (2 threads; 1 thread alike). */
#ifndef FEW_MAX_COUT
#define FEW_MAX_COUT (CONV_GNR * 3 / 4)
#endif

/* Backward-weights runs on the view of the input (whatever the forward
 * uses): with the output channels on the lanes where they fill most of
 * them (see backward_weights_direct), else with the pixels on the lanes
 * (DIRECT_FEW, see backward_weights_few; before it, im2col + OpenBLAS on
 * maps 32 wide and over, whose 6-row products ran at 1/6 of it). */
enum { DIRECT_FEW = DIRECT_PANEL + 1 };
static int direct_mode_bwdw(const struct conv2d_shape *s)
{
	const enum conv2d_kernel k = kernel_get();

	if (direct_mode_of(s) == DIRECT_NONE)
		return DIRECT_NONE;
	if (k == CONV2D_KERNEL_FEW || (auto_like(k) && s->c_out < FEW_MAX_COUT))
		return DIRECT_FEW;
	return DIRECT_VIEW;
}
#endif


/* How one call splits its work: blocks of output columns (the columns of
 * all images side by side), shared among `threads` (see blocks_run). */
struct conv_plan {
	int threads;  /* OpenMP team size (1 when serial) */
	int blas;     /* OpenBLAS threads during the sgemms */
	int span;     /* 0: a block is a column range of one image; 1: ipb whole images */
	long chunks;  /* span 0: blocks per image */
	long ipb;     /* span 1: images per block */
	long nblocks;
	long max_cols;
	long units;       /* what the threads share: blocks, or images when by_image */
	long unit_blocks; /* blocks per unit */
};

/* by_image: every image's blocks go to one thread (col2im writes overlap). */
static void plan_make(const struct conv2d_shape *s, int nthreads, int by_image, struct conv_plan *p)
{
	long hwo = (long)s->h_out * s->w_out;
	long rows = (long)s->c_in * s->kh * s->kw;
	long target = COL_BUDGET / rows;
	long n = s->n;

	if (target < MIN_COLS)
		target = MIN_COLS;
	memset(p, 0, sizeof *p);
	/* Blocks span images only on maps under MIN_COLS columns, where one image
	 * makes too thin a product: spanning costs a copy of the output (and of
	 * dy for the weights), and pointwise blocks would lose reading x in place. */
	if (!by_image && !is_pointwise(s) && hwo < MIN_COLS) {
		long ipb = target / hwo, per_thread = ceil_div(n, nthreads);

		if (ipb > per_thread)
			ipb = per_thread;
		if (ipb >= 2) {
			p->span = 1;
			p->ipb = ipb;
			p->nblocks = ceil_div(n, ipb);
			p->max_cols = ipb * hwo;
			goto threads;
		}
	}
	p->chunks = ceil_div(hwo, target);
	if (!by_image) {
		if (n < nthreads && p->chunks < nthreads)
			p->chunks = nthreads;
		while ((n * p->chunks) % nthreads && p->chunks < hwo)
			p->chunks++;
	}
	if (p->chunks > hwo)
		p->chunks = hwo;
	p->nblocks = n * p->chunks;
	/* blocks of whole output rows where there are rows enough (see block_get) */
	if (p->chunks <= s->h_out)
		p->max_cols = ceil_div(s->h_out, p->chunks) * s->w_out;
	else
		p->max_cols = ceil_div(hwo, p->chunks);
threads:
	p->units = by_image ? n : p->nblocks;
	p->unit_blocks = by_image ? p->chunks : 1;
#ifdef CONV_FORCE_SERIAL /* for measuring the alternative: threaded sgemm per block */
	if (0) {
#else
	if (p->units >= nthreads) {
#endif
		p->threads = nthreads;
		p->blas = 1;
	} else {
		p->threads = 1;
		p->blas = nthreads;
	}
}

/* The most threads a call uses: the thread count in force, capped at the
 * default (the CPUs, or $DETBENCH_THREADS) so that a workspace sized once
 * stays large enough whatever det_threads_set() does later. */
static int conv_thread_cap(void)
{
	static int cap;
	int c = __atomic_load_n(&cap, __ATOMIC_RELAXED);

	if (c == 0) {
		c = det_threads_default();
		__atomic_store_n(&cap, c, __ATOMIC_RELAXED);
	}
	return c;
}

static int conv_threads(void)
{
	int t = det_threads_get(), cap = conv_thread_cap();

	return t < cap ? t : cap;
}

long conv2d_block_columns(const struct conv2d_shape *s)
{
	struct conv_plan p;

	if (is_depthwise(s))
		return 0;
	plan_make(s, conv_threads(), 0, &p);
	return p.max_cols;
}

#if CONV_SIMD
static long fwd_direct_floats(const struct conv2d_shape *s, enum direct_mode m, int nthreads);
static long bwdw_direct_floats(const struct conv2d_shape *s, int nthreads);
static long bwdw_few_floats(const struct conv2d_shape *s, int nthreads);
static int stk_bwdd_ok(const struct conv2d_shape *s);
static int stk_fwd_ok(const struct conv2d_shape *s);
static long stk_floats(const struct conv2d_shape *s, int fwd, int nthreads);
#endif

/* Floats of per-thread scratch for forward (col + output staging). */
static long fwd_thread_floats(const struct conv2d_shape *s, const struct conv_plan *p)
{
	long col = (is_pointwise(s) && p->span == 0) ? 0 : (long)s->c_in * s->kh * s->kw * p->max_cols;
	long tmp = p->span ? (long)s->c_out * p->max_cols : 0;

	return round_up(col, ALIGN_FLOATS) + round_up(tmp, ALIGN_FLOATS);
}

static long weight_floats(const struct conv2d_shape *s)
{
	return round_up((long)s->c_out * (s->c_in / s->groups) * s->kh * s->kw, ALIGN_FLOATS);
}

/* Floats of one thread's padded plane for dw_forward: H+1 rows (the last
 * all zeros) of W + 2*pad_w columns. */
static long dw_pad_floats(const struct conv2d_shape *s)
{
	return round_up(((long)s->h + 1) * (s->w + 2L * s->pad_w), ALIGN_FLOATS);
}

static long fwd_floats(const struct conv2d_shape *s, int nthreads)
{
	struct conv_plan p;

	if (is_depthwise(s))
		return nthreads * dw_pad_floats(s);
	if (wino_use(s))
		return conv_wino_floats(s, nthreads);
#if CONV_SIMD
	if (stk_fwd_ok(s))
		return stk_floats(s, 1, nthreads);
	if (direct_mode_of(s) != DIRECT_NONE)
		return fwd_direct_floats(s, direct_mode_of(s), nthreads);
#endif
	plan_make(s, nthreads, 0, &p);
	return p.threads * fwd_thread_floats(s, &p);
}

static long bwdw_thread_floats(const struct conv2d_shape *s, const struct conv_plan *p)
{
	return fwd_thread_floats(s, p) + round_up(s->c_out, ALIGN_FLOATS);
}

static long bwdw_floats(const struct conv2d_shape *s, int nthreads)
{
	struct conv_plan p;

	if (is_depthwise(s))
		return 0;
#if CONV_SIMD
	if (wino_use_bwdw(s))
		return conv_wino_wgrad_floats(s, nthreads);
	if (direct_mode_bwdw(s) == DIRECT_FEW)
		return bwdw_few_floats(s, nthreads);
	if (direct_mode_bwdw(s) != DIRECT_NONE)
		return bwdw_direct_floats(s, nthreads);
#endif
	plan_make(s, nthreads, 0, &p);
	return p.threads * bwdw_thread_floats(s, &p) + (p.threads - 1) * weight_floats(s);
}

static long col2im_thread_floats(const struct conv2d_shape *s, const struct conv_plan *p)
{
	return round_up((long)s->c_in * s->kh * s->kw * p->max_cols, ALIGN_FLOATS);
}

static long bwdd_floats(const struct conv2d_shape *s, int nthreads)
{
	struct conv_plan p;

	if (is_depthwise(s)) {
		struct conv2d_shape t = transposed_shape(s);

		return bwd_data_as_conv(s) ? nthreads * dw_pad_floats(&t) : 0;
	}
#if CONV_SIMD
	if (stk_bwdd_ok(s))
		return stk_floats(s, 0, nthreads);
#endif
	if (bwd_data_as_conv(s)) {
		struct conv2d_shape t = transposed_shape(s);

		if (wino_use(&t))
			return conv_wino_floats(&t, nthreads);
#if CONV_SIMD
		if (direct_mode_of(&t) == DIRECT_PANEL)
			return fwd_direct_floats(&t, DIRECT_PANEL, nthreads);
#endif
		return weight_floats(s) + fwd_floats(&t, nthreads);
	}
	plan_make(s, nthreads, 1, &p);
	return p.threads * col2im_thread_floats(s, &p);
}

size_t conv2d_workspace_size(const struct conv2d_shape *s)
{
	long most = 0;

	for (int t = 1; t <= conv_thread_cap(); t++) {
		long f = fwd_floats(s, t), d = bwdd_floats(s, t), w = bwdw_floats(s, t);

		if (f > most)
			most = f;
		if (d > most)
			most = d;
		if (w > most)
			most = w;
	}
	return (size_t)most * sizeof(float);
}

/* The block b of plan p: images [n0, n1) and, for span 0, the columns
 * [c0, c1) of image n0 (span 1 blocks hold whole images, image n at
 * column (n - n0) * H_out*W_out of the block); cols in all. */
struct block {
	long n0, n1, c0, c1, cols;
};

static void block_get(const struct conv2d_shape *s, const struct conv_plan *p, long b,
	struct block *k)
{
	long hwo = (long)s->h_out * s->w_out;

	if (p->span == 0) {
		long c = b % p->chunks;

		k->n0 = b / p->chunks;
		k->n1 = k->n0 + 1;
		if (p->chunks <= s->h_out) {
			k->c0 = c * s->h_out / p->chunks * s->w_out;
			k->c1 = (c + 1) * s->h_out / p->chunks * s->w_out;
		} else {
			k->c0 = c * hwo / p->chunks;
			k->c1 = (c + 1) * hwo / p->chunks;
		}
		k->cols = k->c1 - k->c0;
	} else {
		k->n0 = b * p->ipb;
		k->n1 = k->n0 + p->ipb < s->n ? k->n0 + p->ipb : s->n;
		k->c0 = 0;
		k->c1 = hwo;
		k->cols = (k->n1 - k->n0) * hwo;
	}
}

/* Runs fn over the plan's blocks, each thread with its own scratch at
 * ws + t*per_thread; OpenBLAS runs single-threaded meanwhile, or with
 * p->blas threads when the plan is serial. Static: thread t takes the units
 * [t*U/T, (t+1)*U/T) in order (first = 1 on its first block), so what each
 * thread sums is fixed by the thread count. Dynamic: units go to whichever
 * thread is free, for kernels whose every output is written by one block
 * (a busy core then slows the call less). Returns the team size. */
typedef void (*block_fn)(const void *job, long blk, float *tws, int t, int first);

static int blocks_run(const struct conv_plan *p, float *ws, long per_thread, block_fn fn,
	const void *job, int dynamic)
{
	int team = 1;

	openblas_set_num_threads(p->blas);
#pragma omp parallel num_threads(p->threads)
	{
		int t = omp_get_thread_num(), nt = omp_get_num_threads();
		float *tws = ws + t * per_thread;

		if (t == 0)
			team = nt;
		if (dynamic) {
#pragma omp for schedule(dynamic, 1)
			for (long u = 0; u < p->units; u++)
				for (long b = u * p->unit_blocks; b < (u + 1) * p->unit_blocks; b++)
					fn(job, b, tws, t, 0);
		} else {
			long lo = p->units * t / nt * p->unit_blocks;
			long hi = p->units * (t + 1) / nt * p->unit_blocks;

			for (long b = lo; b < hi; b++)
				fn(job, b, tws, t, b == lo);
		}
	}
	openblas_set_num_threads(det_threads_get());
	return team;
}

/* ---- im2col / col2im ----
 * col[r, at + (hw - c0)], r = (c*KH + p)*KW + q, hw = i*W_out + j in [c0, c1):
 *   col = x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw]  (0 outside)
 * col2im adds col back into dx at the same places. */

/* Output columns j whose input column j*sw + off lies in [0, W). */
static void valid_cols(int w, int w_out, int sw, int off, int *ja, int *jb)
{
	long a = off >= 0 ? 0 : ceil_div(-off, sw);
	long b = (long)w - off <= 0 ? 0 : ceil_div((long)w - off, sw);

	if (a > w_out)
		a = w_out;
	if (b > w_out)
		b = w_out;
	if (b < a)
		b = a;
	*ja = (int)a;
	*jb = (int)b;
}

/* rows [r0, r1) of the column matrix, row r at col + (r - r0)*ldcol */
static void im2col_seg(const struct conv2d_shape *s, const float *xn, long r0, long r1, long c0,
	long c1, float *col, long ldcol)
{
	const int kk = s->kh * s->kw, wo = s->w_out, sw = s->stride_w;
	const long plane = (long)s->h * s->w;

	for (long r = r0; r < r1; r++) {
		int c = (int)(r / kk), p = (int)(r % kk) / s->kw, q = (int)(r % kk) % s->kw;
		int off = q * s->dil_w - s->pad_w, ja, jb;
		const float *xc = xn + c * plane;
		float *dst = col + (r - r0) * ldcol - c0;

		valid_cols(s->w, wo, sw, off, &ja, &jb);
		for (long hw = c0; hw < c1;) {
			int i = (int)(hw / wo), j = (int)(hw % wo);
			int jend = (int)(hw - j + wo < c1 ? wo : c1 - (hw - j));
			int iy = i * s->stride_h - s->pad_h + p * s->dil_h;
			float *d = dst + hw - j;

			if (iy < 0 || iy >= s->h) {
#pragma omp simd
				for (int jj = j; jj < jend; jj++)
					d[jj] = 0;
			} else {
				const float *xrow = xc + (long)iy * s->w + off;
				int a = ja > j ? ja : j, e = jb < jend ? jb : jend;

				if (a > jend)
					a = jend;
				if (e < a)
					e = a;
#pragma omp simd
				for (int jj = j; jj < a; jj++)
					d[jj] = 0;
				if (sw == 1) {
					/* libc's copy moves a short run in a few overlapping
					 * vector moves; a vectorised loop ends in a scalar tail */
					memcpy(d + a, xrow + a, (size_t)(e - a) * sizeof(float));
				} else if (sw == 2) {
#pragma omp simd
					for (int jj = a; jj < e; jj++)
						d[jj] = xrow[2L * jj];
				} else {
#pragma omp simd
					for (int jj = a; jj < e; jj++)
						d[jj] = xrow[(long)jj * sw];
				}
#pragma omp simd
				for (int jj = e; jj < jend; jj++)
					d[jj] = 0;
			}
			hw += jend - j;
		}
	}
}

static void col2im_seg(const struct conv2d_shape *s, const float *col, long ldcol, long c0,
	long c1, float *dxn)
{
	const int kk = s->kh * s->kw, wo = s->w_out, sw = s->stride_w;
	const long plane = (long)s->h * s->w;

	for (long r = 0; r < (long)s->c_in * kk; r++) {
		int c = (int)(r / kk), p = (int)(r % kk) / s->kw, q = (int)(r % kk) % s->kw;
		int off = q * s->dil_w - s->pad_w, ja, jb;
		float *dc = dxn + c * plane;
		const float *src = col + r * ldcol - c0;

		valid_cols(s->w, wo, sw, off, &ja, &jb);
		for (long hw = c0; hw < c1;) {
			int i = (int)(hw / wo), j = (int)(hw % wo);
			int jend = (int)(hw - j + wo < c1 ? wo : c1 - (hw - j));
			int iy = i * s->stride_h - s->pad_h + p * s->dil_h;

			if (iy >= 0 && iy < s->h) {
				float *drow = dc + (long)iy * s->w + off;
				const float *srow = src + hw - j;
				int a = ja > j ? ja : j, e = jb < jend ? jb : jend;

				if (sw == 1) {
#pragma omp simd
					for (int jj = a; jj < e; jj++)
						drow[jj] += srow[jj];
				} else if (sw == 2) {
#pragma omp simd
					for (int jj = a; jj < e; jj++)
						drow[2L * jj] += srow[jj];
				} else {
#pragma omp simd
					for (int jj = a; jj < e; jj++)
						drow[(long)jj * sw] += srow[jj];
				}
			}
			hw += jend - j;
		}
	}
}

#if CONV_SIMD
struct view_geom {
	int nph, halo_r, rows, bands;
	long wq, hq, phstride, cstride, mfull, pfloats;
};

static void view_geom_finish(const struct conv2d_shape *s, struct view_geom *g);

static void view_geom_make(const struct conv2d_shape *s, struct view_geom *g)
{
	const int sh = s->stride_h, sw = s->stride_w;
	long rows;

	g->nph = sh * sw;
	g->halo_r = (s->kh - 1) * s->dil_h / sh;
	g->wq = s->w_out + (long)(s->kw - 1) * s->dil_w / sw;
	rows = ceil_div(VIEW_MIN_M, g->wq);
	while (rows > 1 && (long)s->c_in * g->nph * (rows + g->halo_r) * g->wq > VIEW_BUDGET)
		rows--;
	if (rows > s->h_out)
		rows = s->h_out;
	g->bands = (int)ceil_div(s->h_out, rows);
	g->rows = (int)ceil_div(s->h_out, g->bands);
	/* Fewer or more bands where that rounds the band's flat positions to
	 * whole tiles of CONV_NR (3x3/2 from 64x64: 3 bands of 11 rows of 33
	 * computed 384 positions per 363, 2 bands of 16 compute 528 per 528),
	 * within 1/8 over the budget and at least half the rows. */
	for (long r = rows / 2 > 1 ? rows / 2 : 1; r <= s->h_out; r++) {
		const long b = ceil_div(s->h_out, r), rr = ceil_div(s->h_out, b);
		const long cost = b * round_up(rr * g->wq, CONV_NR);
		const long best = g->bands * round_up(g->rows * g->wq, CONV_NR);

		if ((long)s->c_in * g->nph * (rr + g->halo_r) * g->wq > VIEW_BUDGET + VIEW_BUDGET / 8)
			break;
		if (cost < best || (cost == best && b < g->bands)) {
			g->bands = (int)b;
			g->rows = (int)rr;
		}
	}
	view_geom_finish(s, g);
}

/* hq .. pfloats from rows and bands */
static void view_geom_finish(const struct conv2d_shape *s, struct view_geom *g)
{
	g->hq = g->rows + g->halo_r;
	g->phstride = g->hq * g->wq;
	g->cstride = g->nph * g->phstride;
	g->mfull = g->rows * g->wq;
	/* reads of the last tile run up to CONV_NR past the last plane */
	g->pfloats = round_up((long)s->c_in * g->cstride + round_up(g->mfull, CONV_NR), ALIGN_FLOATS);
}

/* One band of every output row: the view of a whole image. */
static void view_geom_whole(const struct conv2d_shape *s, struct view_geom *g)
{
	g->nph = s->stride_h * s->stride_w;
	g->halo_r = (s->kh - 1) * s->dil_h / s->stride_h;
	g->wq = s->w_out + (long)(s->kw - 1) * s->dil_w / s->stride_w;
	g->rows = s->h_out;
	g->bands = 1;
	view_geom_finish(s, g);
}

/* off[k] for k = (c*KH + p)*KW + q, and `pad` more entries repeating off[0]. */
static void view_offsets(const struct conv2d_shape *s, const struct view_geom *g, long *off,
	long pad)
{
	const int sh = s->stride_h, sw = s->stride_w;
	long k = 0;

	for (int c = 0; c < s->c_in; c++)
		for (int p = 0; p < s->kh; p++)
			for (int q = 0; q < s->kw; q++) {
				int ph = p * s->dil_h, pw = q * s->dil_w;

				off[k++] = c * g->cstride + ((ph % sh) * sw + pw % sw) * g->phstride +
					(ph / sh) * g->wq + pw / sw;
			}
	for (long e = 0; e < pad; e++)
		off[k + e] = off[0];
}

/* P for the band of output rows starting at i0 of image xn (see above). */
static void view_fill(const struct conv2d_shape *s, const struct view_geom *g, const float *xn,
	int i0, float *P)
{
	const int sh = s->stride_h, sw = s->stride_w;
	const long plane = (long)s->h * s->w, wq = g->wq;

	for (int c = 0; c < s->c_in; c++)
		for (int rh = 0; rh < sh; rh++)
			for (int rw = 0; rw < sw; rw++) {
				float *dst = P + c * g->cstride + (rh * sw + rw) * g->phstride;
				int ua, ub;

				valid_cols(s->w, (int)wq, sw, rw - s->pad_w, &ua, &ub);
				for (long t = 0; t < g->hq; t++) {
					long iy = (i0 + t) * sh + rh - s->pad_h;
					float *d = dst + t * wq;
					const float *src;

					if (iy < 0 || iy >= s->h) {
						memset(d, 0, (size_t)wq * sizeof(float));
						continue;
					}
					src = xn + c * plane + iy * s->w + rw - s->pad_w;
					memset(d, 0, (size_t)ua * sizeof(float));
					if (sw == 1) {
						memcpy(d + ua, src + ua, (size_t)(ub - ua) * sizeof(float));
					} else if (sw == 2) {
						/* vectorised (permutes); the generic loop below was
						 * 18% of a 3x3/2 layer's forward */
#pragma omp simd
						for (int u = ua; u < ub; u++)
							d[u] = src[2L * u];
					} else {
						for (int u = ua; u < ub; u++)
							d[u] = src[(long)u * sw];
					}
					memset(d + ub, 0, (size_t)(wq - ub) * sizeof(float));
				}
			}
}


/* y[o0 + r, i0 + m/Wq, m%Wq] (+)= tile[r][m - m0] for the flat positions
 * m in [m0, min(m0 + NR, mb)) that are pixels (m%Wq < W_out). */
static void view_store(const struct conv2d_shape *s, long wq, long mb, long m0, int i0,
	const float *tile, int nr, float *y0, const float *bias, float beta)
{
	const long hwo = (long)s->h_out * s->w_out;
	const long m1 = m0 + CONV_NR < mb ? m0 + CONV_NR : mb;

	for (long m = m0; m < m1;) {
		long i = m / wq, j = m % wq, e = j + (m1 - m) < wq ? j + (m1 - m) : wq;
		long je = e < s->w_out ? e : s->w_out;

		for (int r = 0; r < nr && j < je; r++) {
			float *yr = y0 + r * hwo + (i0 + i) * s->w_out;
			const float *tr = tile + r * CONV_NR + (m - m0) - j;
			const float bo = bias ? bias[r] : 0.0f;

			if (beta != 0) {
#pragma omp simd
				for (long jj = j; jj < je; jj++)
					yr[jj] += tr[jj];
			} else {
#pragma omp simd
				for (long jj = j; jj < je; jj++)
					yr[jj] = tr[jj] + bo;
			}
		}
		m += e - j;
	}
}

struct direct_job {
	const struct conv2d_shape *s;
	struct view_geom g;
	const float *x, *w, *b, *dy;
	float *y, *dw, *partials;
	const long *off, *aoff; /* aoff: where the weights' taps are (NULL: w is C_out x K) */
	const long *voff;       /* panel from views: the views' offsets */
	const float *views;
	float beta;
	long K, lda, nob, units, per_thread;
};

static long direct_k(const struct conv2d_shape *s)
{
	return (long)s->c_in * s->kh * s->kw;
}

/* the offset tables (B's, then A's), in floats of workspace */
static long off_floats(const struct conv2d_shape *s)
{
	return round_up((2 * direct_k(s) + CONV_GMR) * (long)(sizeof(long) / sizeof(float)),
		ALIGN_FLOATS);
}

/* Panel mode: units of `nt` tiles of CONV_NR columns (a multiple of the
 * threads in number), the K taps in chunks of `kc`: a chunk of every tile's
 * panel and of one channel tile's weights stay in cache while the channel
 * tiles sweep them, and the tiles' sums wait in cbuf between chunks. */
#ifndef PANEL_KC
#define PANEL_KC 384L
#endif
#ifndef PANEL_TILES
#define PANEL_TILES 4L
#endif

struct panel_geom {
	long tiles, nt, units, kc;
	int views;            /* 1: panels gathered from whole-image views */
	struct view_geom vg;  /* their geometry (views) */
};

/* Panels from views: im2col's per-row bounds and libc copies were 12% of a
 * 512 -> 512 forward on 8x8 maps; the views of all images (a third of the
 * panel's floats there) are filled once per call, then every panel row is
 * a few straight copies. */
#ifndef PANEL_VIEW_BUDGET
#define PANEL_VIEW_BUDGET (1L << 22)
#endif

static void panel_geom_make(const struct conv2d_shape *s, int nthreads, struct panel_geom *g)
{
	long per;

	g->tiles = ceil_div(s->n * (long)s->h_out * s->w_out, CONV_NR);
	per = nthreads * ceil_div(g->tiles, nthreads * PANEL_TILES);
	g->nt = ceil_div(g->tiles, per);
	g->units = ceil_div(g->tiles, g->nt);
	g->kc = direct_k(s) < PANEL_KC ? direct_k(s) : PANEL_KC;
	view_geom_whole(s, &g->vg);
	g->views = s->n * g->vg.pfloats <= PANEL_VIEW_BUDGET;
}

/* the views' offset table (K longs) and the views, shared by the threads */
static long panel_shared_floats(const struct conv2d_shape *s, const struct panel_geom *g)
{
	if (!g->views)
		return 0;
	return round_up(direct_k(s) * (long)(sizeof(long) / sizeof(float)), ALIGN_FLOATS) +
		s->n * g->vg.pfloats;
}

static long panel_cbuf_at(const struct conv2d_shape *s, const struct panel_geom *g)
{
	(void)s;
	return round_up(g->kc * CONV_NR * g->nt, ALIGN_FLOATS);
}

static long fwd_direct_thread_floats(const struct conv2d_shape *s, enum direct_mode m,
	int nthreads)
{
	struct view_geom g;

	if (m == DIRECT_PANEL) {
		struct panel_geom pg;

		panel_geom_make(s, nthreads, &pg);
		return panel_cbuf_at(s, &pg) + ceil_div(s->c_out, CONV_MR) * CONV_MR * CONV_NR * pg.nt;
	}
	view_geom_make(s, &g);
	return g.pfloats + CONV_MR * CONV_NR;
}

static long fwd_direct_floats(const struct conv2d_shape *s, enum direct_mode m, int nthreads)
{
	long shared = 0;

	if (m == DIRECT_PANEL) {
		struct panel_geom pg;

		panel_geom_make(s, nthreads, &pg);
		shared = panel_shared_floats(s, &pg);
	}
	return off_floats(s) + shared + nthreads * fwd_direct_thread_floats(s, m, nthreads);
}

static void view_fwd_unit(const struct direct_job *job, long u, float *tws)
{
	const struct conv2d_shape *s = job->s;
	const struct view_geom *g = &job->g;
	const long hwo = (long)s->h_out * s->w_out;
	const long n = u / g->bands;
	const int i0 = (int)(u % g->bands) * g->rows;
	const int rb = s->h_out - i0 < g->rows ? s->h_out - i0 : g->rows;
	const long mb = rb * g->wq;
	float *P = tws, *tile = tws + g->pfloats;

	view_fill(s, g, job->x + n * s->c_in * (long)s->h * s->w, i0, P);
	/* one channel tile's weights (MR x K) stay in cache while the band's
	 * pixel tiles stream from P: 1-4% faster than the pixel tiles outside */
	for (long ob = 0; ob < job->nob; ob++)
		for (long m0 = 0; m0 < mb; m0 += CONV_NR) {
			const int o0 = (int)ob * CONV_MR;
			const int nr = s->c_out - o0 < CONV_MR ? s->c_out - o0 : CONV_MR;

			conv_simd_tile_fwd(job->K, job->w + o0 * job->lda, job->lda, job->aoff, nr, P + m0,
				job->off, tile, CONV_NR, 0, g->nph > 1 ? CONV_PF : 0);
			view_store(s, g->wq, mb, m0, i0, tile, nr, job->y + (n * s->c_out + o0) * hwo,
				job->b ? job->b + o0 : NULL, job->beta);
		}
}

/* Rows [k0, k0 + kn) of the panel of columns [g0, g1) (the pixels of all
 * images in a row) from the views: pixel (n, i, j) of tap k is at
 * views + n*pfloats + voff[k] + i*Wq + j. */
static void panel_gather(const struct direct_job *job, const struct panel_geom *pg, long k0,
	long kn, long g0, long g1, float *dst)
{
	const struct conv2d_shape *s = job->s;
	const long hwo = (long)s->h_out * s->w_out, wo = s->w_out;
	const long *voff = job->voff + k0;

	for (long gc = g0; gc < g1;) {
		const long n = gc / hwo, i = gc % hwo / wo, j = gc % hwo % wo;
		const long len = wo - j < g1 - gc ? wo - j : g1 - gc;
		const float *src = job->views + n * pg->vg.pfloats + i * pg->vg.wq + j;
		float *d = dst + (gc - g0);

		if (len == 8) {
			for (long k = 0; k < kn; k++) {
				const float *sk = src + voff[k];
				float *dk = d + k * CONV_NR;

#pragma GCC unroll 8
				for (int u = 0; u < 8; u++)
					dk[u] = sk[u];
			}
		} else {
			for (long k = 0; k < kn; k++) {
				const float *sk = src + voff[k];
				float *dk = d + k * CONV_NR;

#pragma omp simd
				for (long u = 0; u < len; u++)
					dk[u] = sk[u];
			}
		}
		gc += len;
	}
}

static void panel_fwd_unit(const struct direct_job *job, const struct panel_geom *pg, long u,
	float *tws)
{
	const struct conv2d_shape *s = job->s;
	const long hwo = (long)s->h_out * s->w_out, plane = (long)s->h * s->w, K = job->K;
	const long total = s->n * hwo, t0 = u * pg->nt;
	const long ntl = t0 + pg->nt < pg->tiles ? pg->nt : pg->tiles - t0;
	float *panel = tws, *cbuf = tws + panel_cbuf_at(s, pg);

	for (long k0 = 0; k0 < K; k0 += pg->kc) {
		const long kn = K - k0 < pg->kc ? K - k0 : pg->kc;

		for (long tl = 0; tl < ntl; tl++) {
			const long g0 = (t0 + tl) * CONV_NR;
			const long g1 = g0 + CONV_NR < total ? g0 + CONV_NR : total;

			if (pg->views) {
				panel_gather(job, pg, k0, kn, g0, g1, panel + tl * kn * CONV_NR);
				continue;
			}
			for (long gc = g0; gc < g1;) {
				long n = gc / hwo, c0 = gc % hwo;
				long c1 = c0 + (g1 - gc) < hwo ? c0 + (g1 - gc) : hwo;

				im2col_seg(s, job->x + n * s->c_in * plane, k0, k0 + kn, c0, c1,
					panel + tl * kn * CONV_NR + (gc - g0), CONV_NR);
				gc += c1 - c0;
			}
		}
		for (long ob = 0; ob < job->nob; ob++)
			for (long tl = 0; tl < ntl; tl++)
				conv_simd_tile_fwd(kn, job->w + ob * CONV_MR * job->lda + (job->aoff ? 0 : k0),
					job->lda, job->aoff ? job->aoff + k0 : NULL,
					s->c_out - ob * CONV_MR < CONV_MR ? (int)(s->c_out - ob * CONV_MR) : CONV_MR,
					panel + tl * kn * CONV_NR, job->off,
					cbuf + (ob * ntl + tl) * CONV_MR * CONV_NR, CONV_NR, k0 > 0, 0);
	}
	for (long ob = 0; ob < job->nob; ob++) {
		const int o0 = (int)ob * CONV_MR;
		const int nr = s->c_out - o0 < CONV_MR ? s->c_out - o0 : CONV_MR;

		for (long tl = 0; tl < ntl; tl++) {
			const float *tile = cbuf + (ob * ntl + tl) * CONV_MR * CONV_NR;
			const long g0 = (t0 + tl) * CONV_NR;
			const long g1 = g0 + CONV_NR < total ? g0 + CONV_NR : total;

			for (long gc = g0; gc < g1;) {
				long n = gc / hwo, c0 = gc % hwo;
				long c1 = c0 + (g1 - gc) < hwo ? c0 + (g1 - gc) : hwo;

				for (int r = 0; r < nr; r++) {
					float *yr = job->y + (n * s->c_out + o0 + r) * hwo;
					const float *tr = tile + r * CONV_NR + (gc - g0) - c0;
					const float bo = job->b ? job->b[o0 + r] : 0.0f;

					if (job->beta != 0) {
#pragma omp simd
						for (long j = c0; j < c1; j++)
							yr[j] += tr[j];
					} else {
#pragma omp simd
						for (long j = c0; j < c1; j++)
							yr[j] = tr[j] + bo;
					}
				}
				gc += c1 - c0;
			}
		}
	}
}

/* y = beta*y + conv(x, w) (+ b). flip: w is the weight of the convolution
 * whose backward-data s is (see transposed_shape), read in place: row c,
 * tap k = o*KH*KW + t of the transposed weights is w[o][c][KH*KW-1-t]. */
static void forward_direct(const struct conv2d_shape *s, enum direct_mode mode, const float *x,
	const float *w, int flip, const float *b, float *y, float beta, float *ws)
{
	struct direct_job job = { .s = s, .x = x, .w = w, .b = b, .y = y, .beta = beta };
	struct panel_geom pg;
	const int nt = conv_threads();
	long *off = (long *)ws, *aoff = off + direct_k(s) + CONV_GMR;
	float *tws = ws + off_floats(s);

	job.K = direct_k(s);
	job.lda = job.K;
	if (flip) {
		const long kk = (long)s->kh * s->kw;

		for (long k = 0; k < job.K; k++)
			aoff[k] = k / kk * s->c_out * kk + kk - 1 - k % kk;
		job.lda = kk;
		job.aoff = aoff;
	}
	job.nob = ceil_div(s->c_out, CONV_MR);
	job.off = off;
	job.per_thread = fwd_direct_thread_floats(s, mode, nt);
	if (mode == DIRECT_VIEW) {
		view_geom_make(s, &job.g);
		view_offsets(s, &job.g, off, 0);
		job.units = s->n * job.g.bands;
	} else {
		panel_geom_make(s, nt, &pg);
		for (long k = 0; k < pg.kc; k++)
			off[k] = k * CONV_NR;
		job.units = pg.units;
		if (pg.views) {
			long *voff = (long *)tws;

			view_offsets(s, &pg.vg, voff, 0);
			job.voff = voff;
			job.views = tws + round_up(job.K * (long)(sizeof(long) / sizeof(float)), ALIGN_FLOATS);
			tws += panel_shared_floats(s, &pg);
		}
	}
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(job.units < nt ? (int)job.units : nt)
	{
		float *t = tws + omp_get_thread_num() * job.per_thread;

		/* the slack past P (view) or the panel's unused columns stay zero */
		memset(t, 0, (size_t)job.per_thread * sizeof(float));
		if (mode == DIRECT_PANEL && pg.views) {
#pragma omp for schedule(static)
			for (long n = 0; n < s->n; n++)
				view_fill(s, &pg.vg, x + n * s->c_in * (long)s->h * s->w, 0,
					(float *)job.views + n * pg.vg.pfloats);
		}
#pragma omp for schedule(dynamic, 1)
		for (long u = 0; u < job.units; u++) {
			if (mode == DIRECT_VIEW)
				view_fwd_unit(&job, u, t);
			else
				panel_fwd_unit(&job, &pg, u, t);
		}
	}
	openblas_set_num_threads(det_threads_get());
}

/* Backward-weights per band, with output channels along the vector lanes:
 *   dWT[k][o] (+)= sum_{i<rb, j<W_out} P[off[k] + i*Wq + j] * dT[i*W_out + j][o]
 * dT being the band of dy transposed (pixels x channels, in blocks of
 * CONV_GNR channels, each block contiguous, zeros past C_out). Each thread
 * sums its bands into its own dWT, laid out as [C_out/GNR][K][GNR]
 * (padded) so that consecutive tiles of one channel block are contiguous,
 * and dw is their sum in thread order. Channel-block-major layouts keep
 * the kernel's streams contiguous: with 512 channels a pixel-major dT put
 * every pixel 2 KiB apart, on a few L1 sets (8x8 maps: 8% slower). */
static long wgrad_ldd(const struct conv2d_shape *s)
{
	return round_up(s->c_out, CONV_GNR);
}

static long wgrad_kpad(const struct conv2d_shape *s)
{
	return round_up(direct_k(s), CONV_GMR);
}

/* Whole images per unit where a band is a whole image (small maps), so
 * that each tile of dWT is loaded and stored once per several images; as
 * many as fit VIEW_WGRAD_BUDGET floats, leaving every thread a unit. */
#ifndef VIEW_WGRAD_BUDGET
#define VIEW_WGRAD_BUDGET (1L << 18)
#endif

static long wgrad_images(const struct conv2d_shape *s, const struct view_geom *g, int nthreads)
{
	long per = g->pfloats + (long)g->rows * s->w_out * wgrad_ldd(s);
	long ipu = VIEW_WGRAD_BUDGET / per, most = s->n / nthreads;

	if (g->bands > 1 || ipu < 1)
		return 1;
	if (ipu > most)
		ipu = most > 1 ? most : 1;
	return ipu;
}

static long bwdw_dt_at(const struct conv2d_shape *s, const struct view_geom *g, long ipu)
{
	return ipu * g->pfloats;
}

static long bwdw_dwt_at(const struct conv2d_shape *s, const struct view_geom *g, long ipu)
{
	return bwdw_dt_at(s, g, ipu) +
		round_up(ipu * g->rows * s->w_out * wgrad_ldd(s), ALIGN_FLOATS);
}

static long dwt_floats(const struct conv2d_shape *s)
{
	return round_up(wgrad_kpad(s) * wgrad_ldd(s), ALIGN_FLOATS);
}

/* How threads share backward-weights. By images (bands): each thread sums
 * its own range of bands into its own dWT, and dw adds the T copies up;
 * by taps: every thread reads every band but computes only its own range
 * of taps, into one shared dWT (the bits then do not depend on the thread
 * count). Taps when the T+1 passes over dWT that adding up copies takes
 * cost more than filling every band's P and dT on every thread (512
 * channels on 8x8 maps: a 9.4 MB dW against 0.6 MB of P and dT per
 * thread). */
static int wgrad_by_taps(const struct conv2d_shape *s, const struct view_geom *g, int nthreads)
{
	double copies = (double)(nthreads + 1) * s->c_out * direct_k(s);
	double fills = 2.0 * nthreads * s->n * ((double)g->pfloats * g->bands +
		(double)s->h_out * s->w_out * wgrad_ldd(s));

	return nthreads > 1 && copies > fills;
}

static long bwdw_direct_thread_floats(const struct conv2d_shape *s, int nthreads)
{
	struct view_geom g;
	long ipu;

	view_geom_make(s, &g);
	ipu = wgrad_images(s, &g, nthreads);
	return bwdw_dwt_at(s, &g, ipu) + (wgrad_by_taps(s, &g, nthreads) ? 0 : dwt_floats(s));
}

static long bwdw_direct_floats(const struct conv2d_shape *s, int nthreads)
{
	struct view_geom g;

	view_geom_make(s, &g);
	return off_floats(s) + nthreads * bwdw_direct_thread_floats(s, nthreads) +
		(wgrad_by_taps(s, &g, nthreads) ? dwt_floats(s) : 0);
}

/* Unit u: the band u of image u / bands, or (ipu > 1) images
 * [u*ipu, u*ipu + ipu) whole; taps [kb, ke) of dwt. */
#ifndef WGRAD_CHUNK_FLOATS
#define WGRAD_CHUNK_FLOATS (6L * 1024)
#endif

/* rows of w output pixels whose dT (CONV_GNR floats a pixel) fit the chunk */
static long chunk_rows(long w, long rows)
{
	long r = WGRAD_CHUNK_FLOATS / (w * CONV_GNR);

	return r < 1 ? 1 : r > rows ? rows : r;
}

static void view_bwdw_unit(const struct direct_job *job, long ipu, long u, float *tws,
	float *dwt, long kb, long ke, int first, float *dw, int accumulate)
{
	const struct conv2d_shape *s = job->s;
	const struct view_geom *g = &job->g;
	const long hwo = (long)s->h_out * s->w_out, ldd = wgrad_ldd(s), kpad = wgrad_kpad(s);
	const long n0 = ipu > 1 ? u * ipu : u / g->bands;
	const long ni = ipu > 1 ? (s->n - n0 < ipu ? s->n - n0 : ipu) : 1;
	const int i0 = ipu > 1 ? 0 : (int)(u % g->bands) * g->rows;
	const int rb = s->h_out - i0 < g->rows ? s->h_out - i0 : g->rows;
	const long mv = (long)rb * s->w_out;
	float *dt = tws + bwdw_dt_at(s, g, ipu);

	for (long l = 0; l < ni; l++) {
		float *dtl = dt + l * mv * CONV_GNR;

		view_fill(s, g, job->x + (n0 + l) * s->c_in * (long)s->h * s->w, i0,
			tws + l * g->pfloats);
		/* dt[o / GNR][l][m][o % GNR] = dy[n0 + l, o, i0 + m / W_out, m % W_out], in
		 * 16-pixel strips (each block of GNR channels contiguous for the kernel) */
		for (long m0 = 0; m0 < mv; m0 += 16) {
			const long m1 = m0 + 16 < mv ? m0 + 16 : mv;
			int o = 0;

#if CONV_VL == 16
			/* whole 16 x 16 blocks in registers (the scalar copy was ~10%
			 * of backward-weights on the 64- and 128-channel layers) */
			for (; m1 - m0 == 16 && o + 16 <= s->c_out; o += 16)
				conv_simd_transpose16(job->dy + ((n0 + l) * s->c_out + o) * hwo +
					(long)i0 * s->w_out + m0, hwo,
					dtl + (o / CONV_GNR) * ni * mv * CONV_GNR + m0 * CONV_GNR + o % CONV_GNR,
					CONV_GNR);
#endif
			for (; o < s->c_out; o++) {
				const float *src = job->dy + ((n0 + l) * s->c_out + o) * hwo +
					(long)i0 * s->w_out;

				float *d = dtl + (o / CONV_GNR) * ni * mv * CONV_GNR + o % CONV_GNR;

				for (long m = m0; m < m1; m++)
					d[m * CONV_GNR] = src[m];
			}
		}
	}
	/* A band's dT streams through every tap tile; on wide maps it is 256 KiB
	 * (1024 pixels x 64 channels), so the taps sweep it in chunks of rows
	 * that stay in L1 (WGRAD_CHUNK_FLOATS), each continuing the sums the
	 * previous chunk left (same order, same bits). */
	const long crows = ipu > 1 ? rb : chunk_rows(s->w_out, rb);

	for (long ob = 0; ob < ldd; ob += CONV_GNR)
		for (long r0 = 0; r0 < rb; r0 += crows) {
			const long nr = rb - r0 < crows ? rb - r0 : crows;

			for (long k0 = kb; k0 < ke; k0 += CONV_GMR) {
				float *c = dwt + ob * kpad + k0 * CONV_GNR;

				conv_simd_tile_wgrad(ni, g->pfloats, nr, s->w_out, g->wq, tws + r0 * g->wq,
					job->off + k0, dt + ob * ni * mv + r0 * s->w_out * CONV_GNR, CONV_GNR,
					c, CONV_GNR, !first || r0 > 0);
				if (!dw || r0 + nr < rb)
					continue;
				/* the last unit of a single dWT: the tile is complete and
				 * still in L1, write it to dw[o][k] now rather than in a
				 * pass over the whole dWT after (that pass was 19% of the
				 * 512 x 512 layer) */
				for (long o = ob; o < ob + CONV_GNR && o < s->c_out; o++) {
					float *d = dw + o * job->K;

					for (long k = k0; k < k0 + CONV_GMR && k < job->K; k++)
						d[k] = (accumulate ? d[k] : 0.0f) + c[(k - k0) * CONV_GNR + o - ob];
				}
			}
		}
}

/* db[o] (+)= sum_{n,i,j} dy[n,o,i,j]: per image in float, over images in
 * double, the same bits on any thread count. */
static void bias_grad(const struct conv2d_shape *s, const float *dy, float *db, int accumulate,
	int nt)
{
	const long hwo = (long)s->h_out * s->w_out;

#pragma omp parallel for num_threads(nt) schedule(static)
	for (int o = 0; o < s->c_out; o++) {
		double v = 0;

		for (int n = 0; n < s->n; n++) {
			const float *r = dy + ((long)n * s->c_out + o) * hwo;
			float sum = 0;

#pragma omp simd reduction(+ : sum)
			for (long j = 0; j < hwo; j++)
				sum += r[j];
			v += sum;
		}
		db[o] = (float)(accumulate ? db[o] + v : v);
	}
}

static void backward_weights_direct(const struct conv2d_shape *s, const float *x,
	const float *dy, float *dw, float *db, int accumulate, float *ws)
{
	struct direct_job job = { .s = s, .x = x, .dy = dy, .dw = dw };
	const long K = direct_k(s);
	const long kpad = wgrad_kpad(s);
	const int nt = conv_threads();
	long *off = (long *)ws;
	float *tws = ws + off_floats(s);
	long per_thread, dwt_at, ipu, dwt_stride;
	float *dwt0;
	int team = 1, by_taps;

	job.K = K;
	view_geom_make(s, &job.g);
	view_offsets(s, &job.g, off, CONV_GMR);
	job.off = off;
	ipu = wgrad_images(s, &job.g, nt);
	job.units = ipu > 1 ? ceil_div(s->n, ipu) : s->n * job.g.bands;
	by_taps = wgrad_by_taps(s, &job.g, nt);
	per_thread = bwdw_direct_thread_floats(s, nt);
	dwt_at = bwdw_dwt_at(s, &job.g, ipu);
	/* thread t's dWT: its own (by images) or the shared one (by taps) */
	dwt0 = by_taps ? tws + nt * per_thread : tws + dwt_at;
	dwt_stride = by_taps ? 0 : per_thread;
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(by_taps || job.units >= nt ? nt : (int)job.units)
	{
		const int t = omp_get_thread_num(), T = omp_get_num_threads();
		float *tw = tws + t * per_thread;

		const int fused = by_taps || T == 1;

		if (t == 0)
			team = T;
		/* P's slack and dT's channels past C_out stay zero */
		memset(tw, 0, (size_t)dwt_at * sizeof(float));
		if (by_taps) {
			const long groups = kpad / CONV_GMR;
			const long kb = groups * t / T * CONV_GMR, ke = groups * (t + 1) / T * CONV_GMR;

			for (long u = 0; u < job.units && kb < ke; u++)
				view_bwdw_unit(&job, ipu, u, tw, dwt0, kb, ke, u == 0,
					fused && u == job.units - 1 ? dw : NULL, accumulate);
		} else {
			const long lo = job.units * t / T, hi = job.units * (t + 1) / T;

			for (long u = lo; u < hi; u++)
				view_bwdw_unit(&job, ipu, u, tw, dwt0 + t * dwt_stride, 0, kpad, u == lo,
					fused && u == hi - 1 ? dw : NULL, accumulate);
		}
	}
	openblas_set_num_threads(det_threads_get());
	/* dw[o][k] (+)= sum_t dWT_t[o / GNR][k][o % GNR], one row of dw at a
	 * time (the 16 rows that share dWT's lines one after the other); the
	 * last unit of a single dWT already wrote it (see view_bwdw_unit) */
	if (!by_taps && team > 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
		for (int o = 0; o < s->c_out; o++) {
			const float *p0 = dwt0 + (o / CONV_GNR) * kpad * CONV_GNR + o % CONV_GNR;
			float *d = dw + o * K;

			for (long k = 0; k < K; k++) {
				float v = accumulate ? d[k] : 0.0f;

				for (int t = 0; t < team; t++)
					v += p0[t * dwt_stride + k * CONV_GNR];
				d[k] = v;
			}
		}
	}
	if (db)
		bias_grad(s, dy, db, accumulate, nt);
}

/* ---- direct path: backward-weights for few output channels ----
 * With few output channels the lanes of backward_weights_direct sit idle
 * (128 -> 6: 6 of 64) and im2col + a 6-row sgemm is bound by memory, so
 * here the pixels go on the lanes: per unit (a band of ipu images),
 *   dW[o][k] (+)= sum_m dQ[o][m] * P[off[k] + m]
 * a dot product over the unit's flat positions m, for a tile of NC
 * channels x T taps at a time (conv_simd_tile_wgrad_few). P is the view of
 * the inputs (see "direct path") with the ipu images' bands stacked inside
 * each phase plane,
 *   P[c][phase][l][t][u],  image l of the unit at m = l*Hq*Wq,
 * so that the unit's pixels are one run of flat positions, and dQ is dy
 * laid out on the same positions, zero where no output pixel sits (the
 * Wq - W_out columns past each row, the halo rows past each image), which
 * drops those positions from the sums. Small maps stack whole images (on
 * 4x4 maps 16 pixels would leave a hsum per 2 vectors), maps whose view
 * is over FEW_BUDGET floats take bands of rows.
 *
 * Threads take fixed ranges of units, each summing into its own dW (dw
 * itself on one thread), added up in thread order after: the bits depend
 * on the thread count only. */
#ifndef FEW_BUDGET
#define FEW_BUDGET (1L << 18)
#endif
/* the most flat positions a unit of several images spans: NC rows of dQ
 * stay in L1 while the taps sweep them (128 -> 6 on 16x16 maps: 3 images,
 * 936 positions, ran 1.2x 6 images) */
#ifndef FEW_MAX_M
#define FEW_MAX_M 1024L
#endif

struct few_geom {
	struct view_geom g; /* wq, hq, rows, bands, strides of the stacked view */
	long ipu, units, img, mr, qfloats, dwfloats;
};

/* The most images one thread sums when n images go ipu to a unit and the
 * units are split as backward_weights_few splits them. */
static long few_busiest(long n, long ipu, int nthreads)
{
	const long units = ceil_div(n, ipu), team = units < nthreads ? units : nthreads;
	long most = 0;

	for (long t = 0; t < team; t++) {
		long imgs = 0;

		for (long u = units * t / team; u < units * (t + 1) / team; u++)
			imgs += n - u * ipu < ipu ? n - u * ipu : ipu;
		if (imgs > most)
			most = imgs;
	}
	return most;
}

static void few_geom_make(const struct conv2d_shape *s, int nthreads, struct few_geom *f)
{
	struct view_geom *g = &f->g;
	long rows = s->h_out, most;

	view_geom_make(s, g);
	while (rows > 1 && (long)s->c_in * g->nph * (rows + g->halo_r) * g->wq > FEW_BUDGET)
		rows--;
	g->bands = (int)ceil_div(s->h_out, rows);
	g->rows = (int)ceil_div(s->h_out, g->bands);
	g->hq = g->rows + g->halo_r;
	f->img = g->hq * g->wq;
	f->ipu = 1;
	if (g->bands == 1) {
		/* as many images as fit the budget and FEW_MAX_M positions, and
		 * of those counts the one that loads the busiest thread least (8
		 * images of 16x16 on 2 threads: 2 a unit, 4 a thread, not 3 and
		 * the units 3 | 3 + 2) */
		most = FEW_BUDGET / ((long)s->c_in * g->nph * f->img);
		if (most > FEW_MAX_M / f->img)
			most = FEW_MAX_M / f->img;
		for (long ipu = 2; ipu <= most && ipu <= s->n; ipu++)
			if (few_busiest(s->n, ipu, nthreads) <= few_busiest(s->n, f->ipu, nthreads))
				f->ipu = ipu;
	}
	g->phstride = f->ipu * f->img;
	g->cstride = g->nph * g->phstride;
	/* the last tap of the last vector reads up to Wq + VL past the planes */
	g->pfloats = round_up((long)s->c_in * g->cstride + g->wq + CONV_VL, ALIGN_FLOATS);
	f->mr = round_up((f->ipu - 1) * f->img + (long)g->rows * g->wq, CONV_VL);
	f->units = ceil_div(s->n, f->ipu) * g->bands;
	f->qfloats = round_up(s->c_out * f->mr, ALIGN_FLOATS);
	f->dwfloats = round_up(s->c_out * direct_k(s), ALIGN_FLOATS);
}

static long few_off_floats(const struct conv2d_shape *s)
{
	return round_up((direct_k(s) + CONV_FEW_TMAX) * (long)(sizeof(long) / sizeof(float)),
		ALIGN_FLOATS);
}

static long few_thread_floats(const struct few_geom *f)
{
	return f->g.pfloats + f->qfloats + f->dwfloats;
}

static long bwdw_few_floats(const struct conv2d_shape *s, int nthreads)
{
	struct few_geom f;

	few_geom_make(s, nthreads, &f);
	return few_off_floats(s) + nthreads * few_thread_floats(&f);
}

/* P for image xn when the unit is whole images (bands == 1): the
 * positions that fall in the padding are the same for every image and
 * stay zero from the start of the call, so only the image's rows are
 * copied (short rows without memcpy: on 8x8 maps the calls to memcpy and
 * memset of view_fill cost several times the kernel). */
static void few_fill_whole(const struct conv2d_shape *s, const struct view_geom *g,
	const float *xn, float *P)
{
	const int sh = s->stride_h, sw = s->stride_w;
	const long plane = (long)s->h * s->w, wq = g->wq;

	for (int c = 0; c < s->c_in; c++)
		for (int rh = 0; rh < sh; rh++)
			for (int rw = 0; rw < sw; rw++) {
				float *dst = P + c * g->cstride + (rh * sw + rw) * g->phstride;
				int ua, ub;

				long ta, tb;

				valid_cols(s->w, (int)wq, sw, rw - s->pad_w, &ua, &ub);
				/* the rows t of P with 0 <= t*sh + rh - pad_h < H */
				ta = rh >= s->pad_h ? 0 : ceil_div(s->pad_h - rh, sh);
				tb = ceil_div(s->h + s->pad_h - rh, sh);
				if (tb > g->hq)
					tb = g->hq;
				if (ta >= tb || ua >= ub)
					continue;
				if (sw == 1) {
					conv_simd_copy_rows(dst + ta * wq + ua, wq,
						xn + c * plane + (ta * sh + rh - s->pad_h) * s->w + ua - s->pad_w,
						(long)sh * s->w, tb - ta, ub - ua);
					continue;
				}
				for (long t = ta; t < tb; t++) {
					const float *src = xn + c * plane + (t * sh + rh - s->pad_h) * s->w +
						rw - s->pad_w;

					for (int u = ua; u < ub; u++)
						dst[t * wq + u] = src[(long)u * sw];
				}
			}
}

/* Unit u into dst (C_out x K): first = its first unit (dst = base + sums,
 * base = dst's own values when add, else 0), later units add to dst. With
 * bands == 1, P's padding and dQ's empty positions are zero from the start
 * of the call (see backward_weights_few). */
static void few_unit(const struct conv2d_shape *s, const struct few_geom *f, const long *off,
	const float *x, const float *dy, long u, float *P, float *dq, float *dst, int first, int add)
{
	const struct view_geom *g = &f->g;
	const long hwo = (long)s->h_out * s->w_out, K = direct_k(s), mr = f->mr;
	const long n0 = u / g->bands * f->ipu;
	const long ni = s->n - n0 < f->ipu ? s->n - n0 : f->ipu;
	const int i0 = (int)(u % g->bands) * g->rows;
	const int rb = s->h_out - i0 < g->rows ? s->h_out - i0 : g->rows;
	const long mu = (ni - 1) * f->img + (long)rb * g->wq, nv = ceil_div(mu, CONV_VL);

	/* dQ[o][l*Hq*Wq + i*Wq + j] = dy[n0 + l, o, i0 + i, j] (zero elsewhere) */
	if (g->bands > 1)
		memset(dq, 0, (size_t)(s->c_out * mr) * sizeof(float));
	for (long l = 0; l < ni; l++) {
		const float *xn = x + (n0 + l) * s->c_in * (long)s->h * s->w;

		if (g->bands > 1)
			view_fill(s, g, xn, i0, P + l * f->img);
		else
			few_fill_whole(s, g, xn, P + l * f->img);
		for (int o = 0; o < s->c_out; o++)
			conv_simd_copy_rows(dq + o * mr + l * f->img, g->wq,
				dy + ((n0 + l) * s->c_out + o) * hwo + (long)i0 * s->w_out, s->w_out, rb,
				s->w_out);
	}
	/* a short last unit: what the last vector reads past its pixels may
	 * hold an earlier unit's dy */
	if (g->bands == 1 && ni < f->ipu)
		for (int o = 0; o < s->c_out; o++)
			memset(dq + o * mr + mu, 0, (size_t)(nv * CONV_VL - mu) * sizeof(float));
	for (int o0 = 0; o0 < s->c_out; o0 += CONV_FEW_NC) {
		const int nc = s->c_out - o0 < CONV_FEW_NC ? s->c_out - o0 : CONV_FEW_NC;
		const int T = conv_simd_wgrad_few_taps(nc);

		for (long k0 = 0; k0 < K; k0 += T)
			conv_simd_tile_wgrad_few(nc, nv, dq + o0 * mr, mr, P, off + k0, dst + o0 * K + k0, K,
				K - k0 < T ? (int)(K - k0) : T, !first || add);
	}
}

static void backward_weights_few(const struct conv2d_shape *s, const float *x,
	const float *dy, float *dw, float *db, int accumulate, float *ws)
{
	struct few_geom f;
	const long K = direct_k(s), nw = (long)s->c_out * K;
	const int nt = conv_threads();
	long *off = (long *)ws, per_thread;
	float *tws = ws + few_off_floats(s);
	int team = 1;

	few_geom_make(s, nt, &f);
	view_offsets(s, &f.g, off, CONV_FEW_TMAX);
	per_thread = few_thread_floats(&f);
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(f.units < nt ? (int)f.units : nt)
	{
		const int t = omp_get_thread_num(), T = omp_get_num_threads();
		const long lo = f.units * t / T, hi = f.units * (t + 1) / T;
		float *P = tws + t * per_thread, *dq = P + f.g.pfloats, *dwp = dq + f.qfloats;

		if (t == 0)
			team = T;
		/* P's padding and dQ's empty positions (bands == 1: the same for
		 * every unit), P's slack and unused image slots (read, times zeros
		 * of dQ: they must be finite) */
		memset(P, 0, (size_t)(f.g.pfloats + f.qfloats) * sizeof(float));
		for (long u = lo; u < hi; u++)
			few_unit(s, &f, off, x, dy, u, P, dq, T == 1 ? dw : dwp, u == lo,
				T == 1 && accumulate);
	}
	openblas_set_num_threads(det_threads_get());
	if (team > 1) {
#pragma omp parallel for num_threads(team) schedule(static)
		for (long i = 0; i < nw; i++) {
			float v = accumulate ? dw[i] : 0.0f;

			for (int t = 0; t < team; t++)
				v += tws[t * per_thread + f.g.pfloats + f.qfloats + i];
			dw[i] = v;
		}
	}
	if (db)
		bias_grad(s, dy, db, accumulate, nt);
}

/* ---- direct path: the stacked view (backward-data phase by phase) ----
 * Backward-data of a convolution,
 *   dx[c, h, w] = sum_{o,p,q,i,j} w[o,c,p,q] dy[o,i,j]  over h = i*sh - ph + p*dh,
 *                                                        w = j*sw - pw + q*dw,
 * split into the sh x sw phases of dx, (h, w) = (a + sh*u, b + sw*v): tap p
 * reaches phase row a exactly when p*dh - ph - a = sh*e_p for an integer
 * e_p, and then i = u - e_p (same for q, b, e_q), so each phase
 *   dx_ab[c, u, v] = sum_{o, p in P_a, q in Q_b} w[o,c,p,q] dy[o, u - e_p, v - e_q]
 * is a dense stride-1 convolution of dy with K_ab = C_out*|P_a|*|Q_b| taps
 * (the K_ab add up to C_out*KH*KW), which the forward micro-kernel runs:
 * no col2im, no scatter. A stride-1 forward is the same sum with one phase,
 * src = x, e_p = ph - p*dh, and the weights as they lie:
 *   y[o, i, j] = sum_{c,p,q} w[o,c,p,q] x[c, i - e_p, j - e_q].
 *
 * The source images are stacked into one tall virtual image of period R
 * rows (image l's row r is virtual row l*R + r; R leaves enough zero rows
 * between images that no tap reaches the next one, and destination rows
 * u >= H_a are dropped), cut into bands of virtual rows that the threads
 * take dynamically, so 8x8 and 64x64 maps run alike (the view of the
 * forward path computes one image's band at a time: 2 tiles of 48 for
 * an 8x8 map's 80 positions). A band fills P once:
 *   P[x][o][t][v] = src[l, o, r, v + x - E_w]   where V0 - E_h + t = l*R + r
 * (0 outside src; E_h, E_w the largest e) and every phase reads it in place:
 * tap (o, p, q) of flat position m = i*Wq + v is P[m + off], off =
 * x*|P_x| + o*|P_o| + (E_h - e_p)*Wq + (E_w - e_q - x). Maps at least
 * STK_SHIFT_WIDTH wide keep one copy (x = 0) with Wq = W_dst + E_w - min e
 * (the columns past W_dst are computed and dropped; with E_w > 0 a read
 * past a row's end lands in the next row's leading zeros, so Wq can be
 * less); narrower ones give each column shift x = E_w - e_q its own copy
 * of width Wq = W_dst, with no dropped columns (on 8x8 maps 2 of 10 would
 * be). The weights of phase ab are gathered once per call into a C_in x
 * K_ab matrix, k = (o*|P_a| + p')*|Q_b| + q' (the forward reads w in
 * place). Per channel tile, K is summed in chunks of STK_KC taps (the
 * MR x chunk of weights stays in L1 while the band's pixel tiles stream
 * from P; their sums wait in a buffer), and the sw phases of one phase
 * row are stored interleaved, so dx is written in runs. Each destination
 * element is one sum over its phase's taps in order: the bits depend on
 * neither the band nor the thread count.
 *
 * Used (AUTO) for strided backward-data on phases 16+ wide; the stride-1
 * forward and backward-data on it only when forced (STACKED), as on 8x8
 * maps it measured 1.0-1.06x (forward) and 0.95-1.0x (backward-data, the
 * 9.4 MB gather of the 512x512 weights is 16% of it) the panel. */

#define STK_MAX_PHASES 16
#define STK_MAX_TAPS 16
#ifndef STK_KC
#define STK_KC 512L
#endif
#ifndef STK_BUDGET
#define STK_BUDGET (1L << 17)
#endif
/* narrower destination maps take one P copy per column shift */
#ifndef STK_SHIFT_WIDTH
#define STK_SHIFT_WIDTH 16
#endif
/* AUTO: the narrowest phases strided backward-data runs on the stacked view */
#ifndef STK_MIN_WIDTH
#define STK_MIN_WIDTH 16
#endif

struct stk_geom {
	int fwd;                    /* 1: stride-1 forward, src = x; 0: backward-data, src = dy */
	int sh, sw, kh, kw;         /* phases; kernel */
	int csrc, hsrc, wsrc, cdst, hdst, wdst;
	int eh, ew;                 /* E_h, E_w */
	int nsx;                    /* column-shifted copies of P */
	int ha[STK_MAX_PHASES];     /* rows of phase row a (0 when a >= H_dst) */
	int wb[STK_MAX_PHASES];     /* columns of phase column b */
	int pa[STK_MAX_TAPS], qb[STK_MAX_TAPS]; /* the phase a tap reaches, -1: none that exists */
	int ep[STK_MAX_TAPS], eq[STK_MAX_TAPS];
	long kab[STK_MAX_PHASES * STK_MAX_PHASES], kat[STK_MAX_PHASES * STK_MAX_PHASES];
	long R, total, wq, rows, bands, hq, cstride, xstride, pfloats, mtiles;
};

/* One axis: tap p's phase and e (see above), the phases' lengths, and the
 * smallest and largest e over the taps of phases that exist. */
static void stk_axis(int fwd, int k, int d, int pad, int st, int len, int *ph, int *e,
	int *lens, int *lo, int *hi)
{
	int any = 0;

	for (int a = 0; a < st; a++)
		lens[a] = a < len ? (len - a + st - 1) / st : 0;
	*lo = *hi = 0;
	for (int p = 0; p < k; p++) {
		long v = (long)p * d - pad;
		int a = (int)(((v % st) + st) % st);

		ph[p] = lens[a] ? a : -1;
		e[p] = fwd ? (int)-v : (int)((v - a) / st);
		if (ph[p] < 0)
			continue;
		if (!any || e[p] < *lo)
			*lo = e[p];
		if (!any || e[p] > *hi)
			*hi = e[p];
		any = 1;
	}
}

static void stk_geom_make(const struct conv2d_shape *s, int fwd, int nthreads, struct stk_geom *g)
{
	int loh, low;
	long hph, wph, halo, rows, rmin, per_row;

	memset(g, 0, sizeof *g);
	g->fwd = fwd;
	g->sh = fwd ? 1 : s->stride_h;
	g->sw = fwd ? 1 : s->stride_w;
	g->kh = s->kh;
	g->kw = s->kw;
	g->csrc = fwd ? s->c_in : s->c_out;
	g->hsrc = fwd ? s->h : s->h_out;
	g->wsrc = fwd ? s->w : s->w_out;
	g->cdst = fwd ? s->c_out : s->c_in;
	g->hdst = fwd ? s->h_out : s->h;
	g->wdst = fwd ? s->w_out : s->w;
	stk_axis(fwd, s->kh, s->dil_h, s->pad_h, g->sh, g->hdst, g->pa, g->ep, g->ha, &loh, &g->eh);
	stk_axis(fwd, s->kw, s->dil_w, s->pad_w, g->sw, g->wdst, g->qb, g->eq, g->wb, &low, &g->ew);
	hph = g->ha[0];
	wph = g->wb[0];
	/* source row u - e_p of image l is virtual row l*R + u - e_p, or a zero row */
	g->R = g->hsrc + (g->eh > 0 ? g->eh : 0);
	if (hph + (loh < 0 ? -loh : 0) > g->R)
		g->R = hph + (loh < 0 ? -loh : 0);
	g->total = (long)s->n * g->R;
	if (wph < STK_SHIFT_WIDTH && g->ew > low) {
		g->nsx = g->ew - low + 1;
		g->wq = wph;
	} else {
		g->nsx = 1;
		/* with E_w > 0 columns of zeros open each row, and a read past the
		 * row's end lands in them: Wq need not hold the last reads */
		if (g->ew > 0) {
			g->wq = g->wsrc + g->ew > wph - low ? g->wsrc + g->ew : wph - low;
			if (g->wq < wph)
				g->wq = wph;
		} else {
			g->wq = wph + g->ew - low;
		}
	}
	halo = g->eh - loh;
	per_row = (long)g->nsx * g->csrc * g->wq;
	rmin = ceil_div(VIEW_MIN_M, g->wq);
	rows = STK_BUDGET / per_row - halo;
	if (rows > rmin)
		rows = rmin;
	if (rows < 1)
		rows = 1;
	if (rows > g->total)
		rows = g->total;
	/* a multiple of the threads, so that none waits on the last (3x3/2
	 * from 64x64 maps: 9 bands left one of 2 threads idle 10% of the call) */
	g->bands = round_up(ceil_div(g->total, rows), nthreads);
	if (g->bands > g->total)
		g->bands = g->total;
	g->rows = ceil_div(g->total, g->bands);
	g->bands = ceil_div(g->total, g->rows);
	g->hq = g->rows + halo;
	g->cstride = g->hq * g->wq;
	g->xstride = (long)g->csrc * g->cstride;
	g->mtiles = ceil_div(g->rows * g->wq, CONV_NR);
	/* reads run up to CONV_NR past a plane's last row (zeros) */
	g->pfloats = round_up(g->nsx * g->xstride + g->mtiles * CONV_NR + CONV_NR, ALIGN_FLOATS);
	for (int a = 0, k = 0; a < g->sh; a++)
		for (int b = 0; b < g->sw; b++) {
			int na = 0, nb = 0;

			for (int p = 0; p < s->kh; p++)
				na += g->pa[p] == a;
			for (int q = 0; q < s->kw; q++)
				nb += g->qb[q] == b;
			g->kab[a * g->sw + b] = (long)g->csrc * na * nb;
			g->kat[a * g->sw + b] = k;
			k += (int)g->kab[a * g->sw + b];
		}
}

static int stk_shape_ok(const struct conv2d_shape *s)
{
	return s->stride_h * s->stride_w <= STK_MAX_PHASES && s->kh <= STK_MAX_TAPS &&
		s->kw <= STK_MAX_TAPS && s->stride_h <= STK_MAX_PHASES && s->stride_w <= STK_MAX_PHASES;
}

/* Backward-data on the stacked view. AUTO: strided convolutions whose
 * phases are at least STK_MIN_WIDTH wide (3x3/2 from 64x64 and 32x32
 * maps: 1.05-1.2x col2im + OpenBLAS; 8x8 phases ran at 0.9-1.0x) and with
 * enough input channels to fill the micro-kernel's rows (the stem's 3 would
 * leave 5 of 8 idle); stride-1 backward-data stays a forward convolution
 * (view or panel). VIEW and PANEL take it for every strided shape, STACKED
 * for every shape. */
static int stk_bwdd_ok(const struct conv2d_shape *s)
{
	const enum conv2d_kernel k = kernel_get();

	if (direct_mode_of(s) == DIRECT_NONE || !stk_shape_ok(s))
		return 0;
	if (k == CONV2D_KERNEL_STACKED)
		return 1;
	if (bwd_data_as_conv(s))
		return 0;
	if (auto_like(k))
		return s->c_in >= 2 * CONV_MR && ceil_div(s->w, s->stride_w) >= STK_MIN_WIDTH;
	return 1;
}

/* The stride-1 forward on the stacked view: only when forced (STACKED). On
 * 8x8 maps with 512 channels it measured 1.0-1.06x the panel. */
static int stk_fwd_ok(const struct conv2d_shape *s)
{
	return kernel_get() == CONV2D_KERNEL_STACKED && s->groups == 1 && s->stride_h == 1 &&
		s->stride_w == 1 && stk_shape_ok(s);
}

static long stk_off_floats(const struct stk_geom *g)
{
	long k = 0;

	for (int i = 0; i < g->sh * g->sw; i++)
		k += g->kab[i];
	return round_up(k * (long)(sizeof(long) / sizeof(float)), ALIGN_FLOATS);
}

/* workspace: the offset table, the gathered weights (backward-data), then
 * per thread P, the sums of a band's tiles, and sw tiles to store from */
static long stk_thread_floats(const struct stk_geom *g)
{
	return g->pfloats + round_up(g->mtiles * CONV_MR * CONV_NR * g->sw, ALIGN_FLOATS);
}

static long stk_floats(const struct conv2d_shape *s, int fwd, int nthreads)
{
	struct stk_geom g;

	stk_geom_make(s, fwd, nthreads, &g);
	return (fwd ? 1 : 2) * stk_off_floats(&g) + nthreads * stk_thread_floats(&g) + (!fwd ? round_up((long)s->c_in * s->c_out * s->kh * s->kw, 16) : 0);
}

struct stk_job {
	const struct conv2d_shape *s;
	const struct stk_geom *g;
	const float *src, *w, *bias;
	const long *off;
	float *dst;
	int add;
};

/* P of the band starting at virtual row v0 (see above) */
static void stk_fill(const struct stk_job *job, long v0, float *P)
{
	const struct stk_geom *g = job->g;
	const long hw = (long)g->hsrc * g->wsrc;

	for (int x = 0; x < g->nsx; x++) {
		/* P column c holds source column c + sh, for c in [ca, cb) */
		const long sh = g->nsx > 1 ? x - g->ew : -g->ew;
		const long ca = sh < 0 ? -sh : 0;
		const long cb = g->wsrc - sh < g->wq ? g->wsrc - sh : g->wq;

		for (int o = 0; o < g->csrc; o++)
			for (long t = 0; t < g->hq; t++) {
				const long v = v0 - g->eh + t;
				float *d = P + x * g->xstride + o * g->cstride + t * g->wq;
				long l, r;

				if (v < 0 || v >= g->total || (r = v % g->R) >= g->hsrc || ca >= cb) {
					memset(d, 0, (size_t)g->wq * sizeof(float));
					continue;
				}
				l = v / g->R;
				memset(d, 0, (size_t)ca * sizeof(float));
				memcpy(d + ca, job->src + (l * g->csrc + o) * hw + r * g->wsrc + ca + sh,
					(size_t)(cb - ca) * sizeof(float));
				memset(d + cb, 0, (size_t)(g->wq - cb) * sizeof(float));
			}
	}
}

/* dst[l, o0 + r, a + sh*u, b + sw*v] (+)= tile_b[r][m - m0] (+ bias) for
 * the flat positions m in [m0, m0 + NR) ∩ [0, mb) that are pixels of phase (a, b) */
static void stk_store(const struct stk_job *job, long v0, long mb, long m0, int a,
	float *const *tile, int o0, int nr)
{
	const struct stk_geom *g = job->g;
	const long plane = (long)g->hdst * g->wdst, wq = g->wq, sw = g->sw;
	const long m1 = m0 + CONV_NR < mb ? m0 + CONV_NR : mb;

	for (long m = m0; m < m1;) {
		const long i = m / wq, j = m % wq, e = j + (m1 - m) < wq ? j + (m1 - m) : wq;
		const long vv = v0 + i, l = vv / g->R, u = vv % g->R;

		if (u < g->ha[a]) {
			float *d0 = job->dst + (l * g->cdst + o0) * plane + (a + g->sh * u) * (long)g->wdst;

			for (int r = 0; r < nr; r++) {
				float *d = d0 + r * plane;
				const float bo = job->bias ? job->bias[o0 + r] : 0.0f;

				if (sw == 1) {
					const float *src = tile[0] + r * CONV_NR + (m - m0) - j;
					const long je = e < g->wb[0] ? e : g->wb[0];

					if (job->add) {
#pragma omp simd
						for (long jj = j; jj < je; jj++)
							d[jj] += src[jj];
					} else {
#pragma omp simd
						for (long jj = j; jj < je; jj++)
							d[jj] = src[jj] + bo;
					}
					continue;
				}
				if (sw == 2 && g->wb[1] >= (e < g->wb[0] ? e : g->wb[0])) {
					/* both phases cover the run: one interleaving pass */
					const float *s0 = tile[0] + r * CONV_NR + (m - m0) - j;
					const float *s1 = tile[1] + r * CONV_NR + (m - m0) - j;
					const long je = e < g->wb[0] ? e : g->wb[0];

					if (job->add) {
#pragma omp simd
						for (long jj = j; jj < je; jj++) {
							d[2 * jj] += s0[jj];
							d[2 * jj + 1] += s1[jj];
						}
					} else {
#pragma omp simd
						for (long jj = j; jj < je; jj++) {
							d[2 * jj] = s0[jj] + bo;
							d[2 * jj + 1] = s1[jj] + bo;
						}
					}
					continue;
				}
				for (int b = 0; b < g->sw; b++) {
					const float *src = tile[b] + r * CONV_NR + (m - m0) - j;
					const long je = e < g->wb[b] ? e : g->wb[b];

					if (job->add) {
						for (long jj = j; jj < je; jj++)
							d[b + sw * jj] += src[jj];
					} else {
						for (long jj = j; jj < je; jj++)
							d[b + sw * jj] = src[jj] + bo;
					}
				}
			}
		}
		m += e - j;
	}
}

static void stk_unit(const struct stk_job *job, long band, float *tws)
{
	const struct stk_geom *g = job->g;
	const long v0 = band * g->rows;
	const long rb = g->total - v0 < g->rows ? g->total - v0 : g->rows, mb = rb * g->wq;
	const long nm = ceil_div(mb, CONV_NR), tsz = CONV_MR * CONV_NR;
	float *P = tws, *sums = tws + g->pfloats, *tile[STK_MAX_PHASES];

	stk_fill(job, v0, P);
	for (int a = 0; a < g->sh; a++) {
		if (!g->ha[a])
			continue;
		for (int o0 = 0; o0 < g->cdst; o0 += CONV_MR) {
			const int nr = g->cdst - o0 < CONV_MR ? g->cdst - o0 : CONV_MR;

			/* sums[b][mt] = the tile mt of phase (a, b), over K_ab in chunks */
			for (int b = 0; b < g->sw; b++) {
				const int ph = a * g->sw + b;
				const long K = g->kab[ph];
				const float *wa = job->w + g->kat[ph] * g->cdst + o0 * K;
				float *sb = sums + b * nm * tsz;

				if (!g->wb[b])
					continue;
				if (!K) {
					memset(sb, 0, (size_t)(nm * tsz) * sizeof(float));
					continue;
				}
				for (long k0 = 0; k0 < K; k0 += STK_KC) {
					const long kn = K - k0 < STK_KC ? K - k0 : STK_KC;

					for (long mt = 0; mt < nm; mt++)
						conv_simd_tile_fwd(kn, wa + k0, K, NULL, nr, P + mt * CONV_NR,
							job->off + g->kat[ph] + k0, sb + mt * tsz, CONV_NR, k0 > 0,
							CONV_PF);
				}
			}
			for (long mt = 0; mt < nm; mt++) {
				for (int b = 0; b < g->sw; b++)
					tile[b] = sums + (b * nm + mt) * tsz;
				stk_store(job, v0, mb, mt * CONV_NR, a, tile, o0, nr);
			}
		}
	}
}

/* dst = (add ? dst : bias) + the sums above; fwd: y = conv(x, w) (+ b), a
 * stride-1 convolution; else dx (+)= backward-data(dy, w). */
static void stk_run(const struct conv2d_shape *s, int fwd, const float *src, const float *w,
	const float *bias, float *dst, int add, float *ws)
{
	struct stk_geom g;
	struct stk_job job = { .s = s, .g = &g, .src = src, .w = w, .dst = dst, .add = add,
		.bias = bias };
	const int nt = conv_threads();
	const long kk = (long)s->kh * s->kw;
	long *off = (long *)ws, *widx;
	float *tws, *wg;
	long per_thread;

	stk_geom_make(s, fwd, nt, &g);
	widx = (long *)(ws + stk_off_floats(&g));
	tws = ws + (fwd ? 1 : 2) * stk_off_floats(&g);
	per_thread = stk_thread_floats(&g);
	wg = tws + nt * per_thread;
	job.off = off;
	/* the forward reads w as it lies (C_out x K); backward-data gathers
	 * wg[kat_ab*C_in + c*K_ab + k] = w[c*KH*KW + widx[kat_ab + k]], tap k = (o, p, q)
	 * of phase ab: read in place, its rows are runs of KH*KW floats C_in*KH*KW
	 * apart that share a few L1 sets, and backward-data ran 10-15% slower */
	if (!fwd)
		job.w = wg;
	for (int a = 0; a < g.sh; a++)
		for (int b = 0; b < g.sw; b++) {
			long *o = off + g.kat[a * g.sw + b], *wi = widx + g.kat[a * g.sw + b];

			for (int c = 0; c < g.csrc; c++)
				for (int p = 0; p < s->kh; p++)
					if (g.pa[p] == a)
						for (int q = 0; q < s->kw; q++)
							if (g.qb[q] == b) {
								const long x = g.nsx > 1 ? g.ew - g.eq[q] : 0;

								*o++ = x * g.xstride + c * g.cstride +
									(g.eh - g.ep[p]) * g.wq + g.ew - g.eq[q] - x;
								if (!fwd)
									*wi++ = c * s->c_in * kk + p * s->kw + q;
							}
		}
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(g.bands < nt ? (int)g.bands : nt)
	{
		float *t = tws + omp_get_thread_num() * per_thread;

		/* in blocks of 16 x 8 (c, o), so that neither side thrashes L1 */
		if (!fwd) {
#pragma omp for schedule(static) collapse(2)
			for (int c0 = 0; c0 < s->c_in; c0 += 16)
				for (int o0 = 0; o0 < s->c_out; o0 += 8)
					for (int c = c0; c < c0 + 16 && c < s->c_in; c++)
						for (int ph = 0; ph < g.sh * g.sw; ph++) {
							const long per_o = g.kab[ph] / s->c_out;
							const long n = per_o * (s->c_out - o0 < 8 ? s->c_out - o0 : 8);
							float *d = wg + g.kat[ph] * s->c_in + c * g.kab[ph] + o0 * per_o;
							const long *wi = widx + g.kat[ph] + o0 * per_o;

							for (long k = 0; k < n; k++)
								d[k] = w[c * kk + wi[k]];
						}
		}
		memset(t, 0, (size_t)per_thread * sizeof(float));
#pragma omp for schedule(dynamic, 1)
		for (long u = 0; u < g.bands; u++)
			stk_unit(&job, u, t);
	}
	openblas_set_num_threads(det_threads_get());
}
#endif

/* ---- general path: forward ----
 * Per group g (Cog = C_out/G, K = C_in/G*KH*KW), per block of columns:
 *   Y[g*Cog:(g+1)*Cog, cols] = beta*Y + W_g (Cog x K) * col_g (K x cols) (+ b)
 * Span-1 blocks compute into a staging buffer and copy out per image. */

struct conv_job {
	const struct conv2d_shape *s;
	const struct conv_plan *p;
	const float *x, *w, *b, *dy;
	float *y, *dx, *dw, *db;
	float beta;
	float *partials; /* backward-weights: dW of threads 1.. */
	long col_floats;
};

/* The column matrix of block k: x itself for a pointwise span-0 block,
 * else im2col into buf. */
static const float *block_col(const struct conv_job *job, const struct block *k, float *buf,
	long *ldcol)
{
	const struct conv2d_shape *s = job->s;
	const long plane = (long)s->h * s->w, hwo = (long)s->h_out * s->w_out;

	if (job->p->span == 0 && is_pointwise(s)) {
		*ldcol = plane;
		return job->x + k->n0 * s->c_in * plane + k->c0;
	}
	*ldcol = k->cols;
	for (long n = k->n0; n < k->n1; n++)
		im2col_seg(s, job->x + n * s->c_in * plane, 0, (long)s->c_in * s->kh * s->kw, k->c0, k->c1,
			buf + (n - k->n0) * hwo,
			k->cols);
	return buf;
}

static void fwd_block(const void *vjob, long blk, float *tws, int t, int first)
{
	const struct conv_job *job = vjob;
	const struct conv2d_shape *s = job->s;
	const long hwo = (long)s->h_out * s->w_out;
	const int G = s->groups, cog = s->c_out / G, kg = s->c_in / G * s->kh * s->kw;
	float *tmp = tws + job->col_floats;
	struct block k;
	const float *col;
	long ldcol;

	block_get(s, job->p, blk, &k);
	col = block_col(job, &k, tws, &ldcol);
	if (job->p->span == 0) {
		float *yb = job->y + k.n0 * s->c_out * hwo + k.c0;
		float beta = job->beta;

		if (job->b) {
			for (int o = 0; o < s->c_out; o++) {
				const float bo = job->b[o];
				float *yr = yb + o * hwo;

#pragma omp simd
				for (long j = 0; j < k.cols; j++)
					yr[j] = bo;
			}
			beta = 1;
		}
		for (int g = 0; g < G; g++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, (int)k.cols, kg,
				1.0f, job->w + (long)g * cog * kg, kg, col + (long)g * kg * ldcol, (int)ldcol,
				beta, yb + (long)g * cog * hwo, (int)hwo);
		return;
	}
	for (int g = 0; g < G; g++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cog, (int)k.cols, kg,
			1.0f, job->w + (long)g * cog * kg, kg, col + (long)g * kg * ldcol, (int)ldcol,
			0.0f, tmp + (long)g * cog * k.cols, (int)k.cols);
	for (long n = k.n0; n < k.n1; n++)
		for (int o = 0; o < s->c_out; o++) {
			float *yr = job->y + (n * s->c_out + o) * hwo;
			const float *tr = tmp + o * k.cols + (n - k.n0) * hwo;
			float bo = job->b ? job->b[o] : 0.0f;

			if (job->beta != 0) {
#pragma omp simd
				for (long j = 0; j < hwo; j++)
					yr[j] += tr[j];
			} else {
#pragma omp simd
				for (long j = 0; j < hwo; j++)
					yr[j] = tr[j] + bo;
			}
		}
}

static long col_floats(const struct conv2d_shape *s, const struct conv_plan *p)
{
	if (is_pointwise(s) && p->span == 0)
		return 0;
	return round_up((long)s->c_in * s->kh * s->kw * p->max_cols, ALIGN_FLOATS);
}

/* y = beta*y + conv(x, w) (+ b; b only with beta == 0). */
static void forward_general(const struct conv2d_shape *s, const float *x, const float *w,
	const float *b, float *y, float beta, float *ws)
{
	struct conv_plan p;
	struct conv_job job = { .s = s, .p = &p, .x = x, .w = w, .b = b, .y = y, .beta = beta };

	if (wino_use(s)) {
		conv_wino_run(s, x, w, 0, b, y, beta, ws, conv_threads());
		return;
	}
#if CONV_SIMD
	if (stk_fwd_ok(s)) {
		DET_ASSERT(beta == 0, "conv2d: the stacked forward overwrites y");
		stk_run(s, 1, x, w, b, y, 0, ws);
		return;
	}
	if (direct_mode_of(s) != DIRECT_NONE) {
		forward_direct(s, direct_mode_of(s), x, w, 0, b, y, beta, ws);
		return;
	}
#endif
	plan_make(s, conv_threads(), 0, &p);
	job.col_floats = col_floats(s, &p);
	blocks_run(&p, ws, fwd_thread_floats(s, &p), fwd_block, &job, 1);
}

/* ---- general path: backward-weights ----
 *   dW_g (Cog x K) (+)= sum_blocks dY_g (Cog x cols) * col_g^T (cols x K)
 *   db[o] (+)= sum_{n,i,j} dY[n,o,i,j]
 * Thread 0 sums into dw, thread t > 0 into its own partial; the partials
 * and the per-thread db sums are then added in thread order. */

static void bwdw_block(const void *vjob, long blk, float *tws, int t, int first)
{
	const struct conv_job *job = vjob;
	const struct conv2d_shape *s = job->s;
	const long hwo = (long)s->h_out * s->w_out;
	const int G = s->groups, cog = s->c_out / G, kg = s->c_in / G * s->kh * s->kw;
	float *tmp = tws + job->col_floats;
	float *dbp = tmp + (job->p->span ? round_up((long)s->c_out * job->p->max_cols, ALIGN_FLOATS) : 0);
	float *target = t == 0 ? job->dw : job->partials + (t - 1) * weight_floats(s);
	float beta = first ? (t == 0 ? job->beta : 0.0f) : 1.0f;
	struct block k;
	const float *col, *dyb;
	long ldcol, lddy;

	block_get(s, job->p, blk, &k);
	col = block_col(job, &k, tws, &ldcol);
	if (job->p->span == 0) {
		dyb = job->dy + k.n0 * s->c_out * hwo + k.c0;
		lddy = hwo;
	} else {
		for (long n = k.n0; n < k.n1; n++)
			for (int o = 0; o < s->c_out; o++)
				memcpy(tmp + o * k.cols + (n - k.n0) * hwo, job->dy + (n * s->c_out + o) * hwo,
					(size_t)hwo * sizeof(float));
		dyb = tmp;
		lddy = k.cols;
	}
	for (int g = 0; g < G; g++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cog, kg, (int)k.cols,
			1.0f, dyb + (long)g * cog * lddy, (int)lddy, col + (long)g * kg * ldcol, (int)ldcol,
			beta, target + (long)g * cog * kg, kg);
	if (job->db) {
		for (int o = 0; o < s->c_out; o++) {
			const float *r = dyb + o * lddy;
			float sum = 0;

#pragma omp simd reduction(+ : sum)
			for (long j = 0; j < k.cols; j++)
				sum += r[j];
			dbp[o] = first ? sum : dbp[o] + sum;
		}
	}
}

static long bwdw_db_offset(const struct conv2d_shape *s, const struct conv_plan *p)
{
	return col_floats(s, p) + (p->span ? round_up((long)s->c_out * p->max_cols, ALIGN_FLOATS) : 0);
}

static void backward_weights_general(const struct conv2d_shape *s, const float *x,
	const float *dy, float *dw, float *db, int accumulate, float *ws)
{
	struct conv_plan p;
	struct conv_job job = { .s = s, .p = &p, .x = x, .dy = dy, .dw = dw, .db = db,
		.beta = accumulate ? 1.0f : 0.0f };
	long per_thread, nw = (long)s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
	int team;

#if CONV_SIMD
	if (wino_use_bwdw(s)) {
		conv_wino_wgrad(s, x, dy, dw, accumulate, ws, conv_threads());
		if (db)
			bias_grad(s, dy, db, accumulate, conv_threads());
		return;
	}
	if (direct_mode_bwdw(s) == DIRECT_FEW) {
		backward_weights_few(s, x, dy, dw, db, accumulate, ws);
		return;
	}
	if (direct_mode_bwdw(s) != DIRECT_NONE) {
		backward_weights_direct(s, x, dy, dw, db, accumulate, ws);
		return;
	}
#endif
	plan_make(s, conv_threads(), 0, &p);
	per_thread = bwdw_thread_floats(s, &p);
	job.col_floats = col_floats(s, &p);
	job.partials = ws + p.threads * per_thread;
	team = blocks_run(&p, ws, per_thread, bwdw_block, &job, 0);
	if (team > 1) {
		const float *part = job.partials;
		const long wf = weight_floats(s);

#pragma omp parallel for num_threads(team) schedule(static)
		for (long i = 0; i < nw; i++) {
			float v = dw[i];

			for (int t = 1; t < team; t++)
				v += part[(t - 1) * wf + i];
			dw[i] = v;
		}
	}
	if (db) {
		long off = bwdw_db_offset(s, &p);

		for (int o = 0; o < s->c_out; o++) {
			float v = accumulate ? db[o] : 0.0f;

			for (int t = 0; t < team; t++)
				v += ws[t * per_thread + off + o];
			db[o] = v;
		}
	}
}

/* ---- general path: backward-data ----
 * Stride 1: dx (+)= conv(dy, w') with w' the flipped, transposed weights
 * (see transposed_shape). Otherwise, per image and column block:
 *   colgrad_g (K x cols) = W_g^T (K x Cog) * dY_g (Cog x cols); dx[n] += col2im(colgrad) */

static void col2im_block(const void *vjob, long blk, float *tws, int t, int first)
{
	const struct conv_job *job = vjob;
	const struct conv2d_shape *s = job->s;
	const long hwo = (long)s->h_out * s->w_out, plane = (long)s->h * s->w;
	const int G = s->groups, cog = s->c_out / G, kg = s->c_in / G * s->kh * s->kw;
	float *dxn;
	struct block k;

	block_get(s, job->p, blk, &k);
	dxn = job->dx + k.n0 * s->c_in * plane;
	if (k.c0 == 0 && job->beta == 0)
		memset(dxn, 0, (size_t)(s->c_in * plane) * sizeof(float));
	for (int g = 0; g < G; g++)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kg, (int)k.cols, cog,
			1.0f, job->w + (long)g * cog * kg, kg,
			job->dy + (k.n0 * s->c_out + (long)g * cog) * hwo + k.c0, (int)hwo,
			0.0f, tws + (long)g * kg * k.cols, (int)k.cols);
	col2im_seg(s, tws, k.cols, k.c0, k.c1, dxn);
}

/* wt[g*Cg + c][o][KH-1-p][KW-1-q] = w[g*Cog + o][c][p][q]: the weights of
 * the convolution that backward-data of a stride-1 convolution is (see
 * transposed_shape), in 32x32 tiles of (o, c). */
static void weights_flip(const struct conv2d_shape *s, const float *w, float *wt)
{
	const int G = s->groups, cog = s->c_out / G, cg = s->c_in / G, kk = s->kh * s->kw;
	const int tile = 32, otiles = (cog + tile - 1) / tile, ctiles = (cg + tile - 1) / tile;

#pragma omp parallel for num_threads(conv_threads()) schedule(static) collapse(2)
	for (int g = 0; g < G; g++)
		for (int tt = 0; tt < otiles * ctiles; tt++) {
			int o0 = tt / ctiles * tile, c0 = tt % ctiles * tile;
			int o1 = o0 + tile < cog ? o0 + tile : cog, c1 = c0 + tile < cg ? c0 + tile : cg;

			for (int c = c0; c < c1; c++)
				for (int o = o0; o < o1; o++) {
					const float *src = w + (((long)g * cog + o) * cg + c) * kk;
					float *dst = wt + (((long)g * cg + c) * cog + o) * kk;

					for (int r = 0; r < kk; r++)
						dst[kk - 1 - r] = src[r];
				}
		}
}

static void backward_data_general(const struct conv2d_shape *s, const float *dy,
	const float *w, float *dx, int accumulate, float *ws)
{
#if CONV_SIMD
	if (stk_bwdd_ok(s)) {
		stk_run(s, 0, dy, w, NULL, dx, accumulate, ws);
		return;
	}
#endif
	if (bwd_data_as_conv(s)) {
		struct conv2d_shape t = transposed_shape(s);

		if (wino_use(&t)) {
			conv_wino_run(&t, dy, w, 1, NULL, dx, accumulate ? 1.0f : 0.0f, ws, conv_threads());
			return;
		}
#if CONV_SIMD
		/* The panel reads the flipped weights in place; the view, which sweeps
		 * all of K per tile, reads a flipped copy: read in place, its rows are
		 * 9-float runs KH*KW*C_in apart, and backward-data of the 16x16 and
		 * 32x32 layers ran 1.5x slower; the panel's K chunks keep them in
		 * cache, and the copy was 10% of the 8x8 layer's backward-data. */
		if (direct_mode_of(&t) == DIRECT_PANEL) {
			forward_direct(&t, DIRECT_PANEL, dy, w, 1, NULL, dx, accumulate ? 1.0f : 0.0f, ws);
			return;
		}
		if (direct_mode_of(&t) == DIRECT_VIEW) {
			weights_flip(s, w, ws);
			forward_direct(&t, DIRECT_VIEW, dy, ws, 0, NULL, dx, accumulate ? 1.0f : 0.0f,
				ws + weight_floats(s));
			return;
		}
#endif
		weights_flip(s, w, ws);
		forward_general(&t, dy, ws, NULL, dx, accumulate ? 1.0f : 0.0f, ws + weight_floats(s));
		return;
	}
	{
		struct conv_plan p;
		struct conv_job job = { .s = s, .p = &p, .w = w, .dy = dy, .dx = dx,
			.beta = accumulate ? 1.0f : 0.0f };

		plan_make(s, conv_threads(), 1, &p);
		blocks_run(&p, ws, col2im_thread_floats(s, &p), col2im_block, &job, 1);
	}
}

/* ---- depthwise (G = C_in = C_out), direct ----
 *   y[n,c,i,j] = b[c] + sum_{p,q} w[c,p,q] x[n,c,i*sh-ph+p*dh, j*sw-pw+q*dw]
 * One (n, c) plane per task (one channel per task for the weights), rows
 * vectorised along j. */

/* Column bounds per kernel column q ([ja[q], jb[q]) reads inside the row)
 * and the interior [*j0, *j1) where every q does. */
static void dw_bounds(const struct conv2d_shape *s, int *ja, int *jb, int *j0, int *j1)
{
	*j0 = 0;
	*j1 = s->w_out;
	for (int q = 0; q < s->kw; q++) {
		valid_cols(s->w, s->w_out, s->stride_w, q * s->dil_w - s->pad_w, &ja[q], &jb[q]);
		if (ja[q] > *j0)
			*j0 = ja[q];
		if (jb[q] < *j1)
			*j1 = jb[q];
	}
	if (*j1 < *j0)
		*j1 = *j0;
}

/* y (+)= depthwise conv(x, w) (+ b). flip: use w[c, KH-1-p, KW-1-q]
 * (backward-data of a stride-1 depthwise convolution, see transposed_shape).
 * Each plane is first copied into the thread's zero-padded plane in ws, so
 * every output column reads its taps without bounds tests; rows above or
 * below the image read the zero row. A 3x3 kernel sums its nine taps in
 * one pass per output row, others one pass per tap. */
static void dw_forward(const struct conv2d_shape *s, const float *x, const float *w,
	const float *b, float *y, int flip, int accumulate, float *ws)
{
	const long plane = (long)s->h * s->w, oplane = (long)s->h_out * s->w_out;
	const int kh = s->kh, kw = s->kw, kk = kh * kw, wo = s->w_out, sw = s->stride_w;
	const int dwl = s->dil_w, wp = s->w + 2 * s->pad_w;
	const long per_thread = dw_pad_floats(s);

#pragma omp parallel num_threads(conv_threads())
	{
		float *pad = ws + omp_get_thread_num() * per_thread;
		const float *zero = pad + (long)s->h * wp;

		memset(pad, 0, (size_t)per_thread * sizeof(float));
#pragma omp for schedule(static)
		for (long nc = 0; nc < (long)s->n * s->c_in; nc++) {
			const int c = (int)(nc % s->c_in);
			const float *xp = x + nc * plane;
			float *yp = y + nc * oplane;
			const float bias = b ? b[c] : 0.0f;
			float wl[kk];

			for (int k = 0; k < kk; k++)
				wl[k] = w[(long)c * kk + (flip ? kk - 1 - k : k)];
			for (int iy = 0; iy < s->h; iy++)
				memcpy(pad + (long)iy * wp + s->pad_w, xp + (long)iy * s->w,
					(size_t)s->w * sizeof(float));
			for (int i = 0; i < s->h_out; i++) {
				float *yr = yp + (long)i * wo;
				const float *r[kh];

				for (int p = 0; p < kh; p++) {
					int iy = i * s->stride_h - s->pad_h + p * s->dil_h;

					r[p] = iy < 0 || iy >= s->h ? zero : pad + (long)iy * wp;
				}
				if (kh == 3 && kw == 3) {
					const float *r0 = r[0], *r1 = r[1], *r2 = r[2];
					const int d1 = dwl, d2 = 2 * dwl;

					if (sw == 1) {
#pragma omp simd
						for (int j = 0; j < wo; j++)
							yr[j] = (accumulate ? yr[j] : bias) +
								wl[0] * r0[j] + wl[1] * r0[j + d1] + wl[2] * r0[j + d2] +
								wl[3] * r1[j] + wl[4] * r1[j + d1] + wl[5] * r1[j + d2] +
								wl[6] * r2[j] + wl[7] * r2[j + d1] + wl[8] * r2[j + d2];
					} else {
#pragma omp simd
						for (int j = 0; j < wo; j++) {
							const long o = (long)j * sw;

							yr[j] = (accumulate ? yr[j] : bias) +
								wl[0] * r0[o] + wl[1] * r0[o + d1] + wl[2] * r0[o + d2] +
								wl[3] * r1[o] + wl[4] * r1[o + d1] + wl[5] * r1[o + d2] +
								wl[6] * r2[o] + wl[7] * r2[o + d1] + wl[8] * r2[o + d2];
						}
					}
					continue;
				}
				if (!accumulate)
					for (int j = 0; j < wo; j++)
						yr[j] = bias;
				for (int p = 0; p < kh; p++)
					for (int q = 0; q < kw; q++) {
						const float wq = wl[p * kw + q], *xs = r[p] + q * dwl;

						if (sw == 1) {
#pragma omp simd
							for (int j = 0; j < wo; j++)
								yr[j] += wq * xs[j];
						} else {
#pragma omp simd
							for (int j = 0; j < wo; j++)
								yr[j] += wq * xs[(long)j * sw];
						}
					}
			}
		}
	}
}

/*   dx[n,c,i*sh-ph+p*dh, j*sw-pw+q*dw] += w[c,p,q] dy[n,c,i,j]
 * stride 1: the depthwise convolution of dy with the flipped kernel. */
static void dw_backward_data(const struct conv2d_shape *s, const float *dy, const float *w,
	float *dx, int accumulate, float *ws)
{
	const long plane = (long)s->h * s->w, oplane = (long)s->h_out * s->w_out;
	const int kh = s->kh, kw = s->kw, wo = s->w_out, sw = s->stride_w;
	int ja[kw], jb[kw], j0, j1;

	if (bwd_data_as_conv(s)) {
		struct conv2d_shape t = transposed_shape(s);

		dw_forward(&t, dy, w, NULL, dx, 1, accumulate, ws);
		return;
	}
	dw_bounds(s, ja, jb, &j0, &j1);
#pragma omp parallel for num_threads(conv_threads()) schedule(static)
	for (long nc = 0; nc < (long)s->n * s->c_in; nc++) {
		const int c = (int)(nc % s->c_in);
		const float *dyp = dy + nc * oplane, *wc = w + (long)c * kh * kw;
		float *dxp = dx + nc * plane;

		if (!accumulate)
			memset(dxp, 0, (size_t)plane * sizeof(float));
		for (int i = 0; i < s->h_out; i++) {
			const float *dyr = dyp + (long)i * wo;

			for (int p = 0; p < kh; p++) {
				int iy = i * s->stride_h - s->pad_h + p * s->dil_h;
				float *dxr;

				if (iy < 0 || iy >= s->h)
					continue;
				dxr = dxp + (long)iy * s->w;
				for (int q = 0; q < kw; q++) {
					float wq = wc[p * kw + q];
					float *ds = dxr + q * s->dil_w - s->pad_w;

#pragma omp simd
					for (int j = ja[q]; j < jb[q]; j++)
						ds[(long)j * sw] += wq * dyr[j];
				}
			}
		}
	}
}

/*   dw[c,p,q] (+)= sum_{n,i,j} dy[n,c,i,j] x[n,c,i*sh-ph+p*dh, j*sw-pw+q*dw]
 *   db[c] (+)= sum_{n,i,j} dy[n,c,i,j]
 * One channel per task, so the sums do not depend on the thread count. For a
 * band of columns, each row of dy is read once and multiplied into every
 * tap's row of partial sums t[p,q][j] (summed down the rows and images);
 * the partial sums are then added up in double. */
#define DW_PARTIAL_FLOATS 8192

static void dw_backward_weights(const struct conv2d_shape *s, const float *x, const float *dy,
	float *dw, float *db, int accumulate)
{
	const long plane = (long)s->h * s->w, oplane = (long)s->h_out * s->w_out;
	const int kh = s->kh, kw = s->kw, kk = kh * kw, wo = s->w_out, sw = s->stride_w;
	const int band = DW_PARTIAL_FLOATS / kk > 0 ? DW_PARTIAL_FLOATS / kk : 1;
	int ja[kw], jb[kw], j0, j1;

	dw_bounds(s, ja, jb, &j0, &j1);
#pragma omp parallel for num_threads(conv_threads()) schedule(static)
	for (int c = 0; c < s->c_in; c++) {
		float t[kk * band];
		double acc[kk];

		for (int k = 0; k < kk; k++)
			acc[k] = 0;
		for (int b0 = 0; b0 < wo; b0 += band) {
			const int b1 = b0 + band < wo ? b0 + band : wo;

			memset(t, 0, sizeof t);
			for (int n = 0; n < s->n; n++) {
				const float *xp = x + ((long)n * s->c_in + c) * plane;
				const float *dyp = dy + ((long)n * s->c_in + c) * oplane;

				for (int i = 0; i < s->h_out; i++) {
					const float *dyr = dyp + (long)i * wo;

					for (int p = 0; p < kh; p++) {
						int iy = i * s->stride_h - s->pad_h + p * s->dil_h;

						if (iy < 0 || iy >= s->h)
							continue;
						for (int q = 0; q < kw; q++) {
							const float *xr = xp + (long)iy * s->w + q * s->dil_w - s->pad_w;
							float *tr = t + (p * kw + q) * band - b0;
							int a = ja[q] > b0 ? ja[q] : b0, e = jb[q] < b1 ? jb[q] : b1;

							if (sw == 1) {
#pragma omp simd
								for (int j = a; j < e; j++)
									tr[j] += dyr[j] * xr[j];
							} else {
#pragma omp simd
								for (int j = a; j < e; j++)
									tr[j] += dyr[j] * xr[(long)j * sw];
							}
						}
					}
				}
			}
			for (int k = 0; k < kk; k++)
				for (int j = 0; j < b1 - b0; j++)
					acc[k] += t[k * band + j];
		}
		for (int k = 0; k < kk; k++) {
			float *wk = dw + (long)c * kk + k;

			*wk = (float)(accumulate ? *wk + acc[k] : acc[k]);
		}
		if (db) {
			double bsum = 0;

			for (int n = 0; n < s->n; n++) {
				const float *dyp = dy + ((long)n * s->c_in + c) * oplane;
				float sum = 0;

#pragma omp simd reduction(+ : sum)
				for (long j = 0; j < oplane; j++)
					sum += dyp[j];
				bsum += sum;
			}
			db[c] = (float)(accumulate ? db[c] + bsum : bsum);
		}
	}
}

/* ---- entry points ---- */

void conv2d_forward(const struct conv2d_shape *s, const float *x, const float *w,
	const float *b, float *y, float *workspace)
{
	DET_ASSERT(s->h_out > 0 && s->w_out > 0, "conv2d shape not initialised");
	if (is_depthwise(s))
		dw_forward(s, x, w, b, y, 0, 0, workspace);
	else
		forward_general(s, x, w, b, y, 0.0f, workspace);
}

void conv2d_backward_data(const struct conv2d_shape *s, const float *dy, const float *w,
	float *dx, int accumulate, float *workspace)
{
	DET_ASSERT(s->h_out > 0 && s->w_out > 0, "conv2d shape not initialised");
	if (is_depthwise(s))
		dw_backward_data(s, dy, w, dx, accumulate, workspace);
	else
		backward_data_general(s, dy, w, dx, accumulate, workspace);
}

void conv2d_backward_weights(const struct conv2d_shape *s, const float *x, const float *dy,
	float *dw, float *db, int accumulate, float *workspace)
{
	DET_ASSERT(s->h_out > 0 && s->w_out > 0, "conv2d shape not initialised");
	if (is_depthwise(s))
		dw_backward_weights(s, x, dy, dw, db, accumulate);
	else
		backward_weights_general(s, x, dy, dw, db, accumulate, workspace);
}
