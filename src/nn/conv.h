/* conv.h: 2-D convolution kernels (forward, backward-data, backward-weights)
 * on plain float arrays, NCHW. The graph's conv2d op calls these; they know
 * nothing of graphs or tensors.
 *
 *   x:  (N, C_in, H, W)
 *   w:  (C_out, C_in / groups, KH, KW)
 *   b:  (C_out) or NULL
 *   y:  (N, C_out, H_out, W_out)
 *   H_out = (H + 2*pad_h - dil_h*(KH-1) - 1) / stride_h + 1   (same for W)
 *
 *   y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] *
 *                x[n, g*Cg + c, i*stride_h - pad_h + p*dil_h, j*stride_w - pad_w + q*dil_w]
 *   where g = o / (C_out/groups), Cg = C_in/groups; out-of-range x reads as 0.
 *
 * Paths: groups-1 convolutions with a kernel over 1x1 run on direct SIMD
 * micro-kernels (conv_simd.h) where the build has them; otherwise im2col +
 * cblas_sgemm; 1x1 stride-1 unpadded convolution
 * skips im2col; depthwise (groups == C_in == C_out) runs a direct kernel;
 * backward-data of a stride-1 convolution runs as the forward convolution of
 * dy with the flipped, transposed weights; of a strided one, as sh*sw
 * stride-1 convolutions, one per phase of dx, on the micro-kernels
 * (otherwise col2im); backward-weights with few output channels (under
 * 48 with AVX-512, 12 with AVX2) runs one dot product over the pixels per
 * weight.
 *
 * Threads: the kernels use min(det_threads_get(), det_threads_default())
 * threads (OpenMP, each thread calling a single-threaded sgemm on its own
 * block of output columns). Results are bit-identical run to run for the
 * same thread count. The kernels do not allocate and cannot fail. */
#ifndef DET_NN_CONV_H
#define DET_NN_CONV_H

#include <stddef.h>

struct conv2d_shape {
	int n, c_in, h, w;
	int c_out, kh, kw;
	int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
	int h_out, w_out; /* filled by conv2d_shape_init */
};

/* Fills h_out/w_out and checks the shape; 0, or DET_EINVAL with a message
 * naming the bad field (e.g. "channels 30 not divisible by groups 4"). */
int conv2d_shape_init(struct conv2d_shape *s);

/* Bytes of scratch the three kernels need for this shape (the largest of
 * them, for any thread count up to det_threads_default(), so it stays valid
 * after det_threads_set()); the caller owns the workspace and may share it
 * between layers. */
size_t conv2d_workspace_size(const struct conv2d_shape *s);

/* y = conv(x, w) + b (b may be NULL). y is overwritten. x, w, b and y must
 * not overlap. */
void conv2d_forward(const struct conv2d_shape *s, const float *x, const float *w,
	const float *b, float *y, float *workspace);

/* dx (+)= conv_transpose(dy, w). accumulate != 0 adds into dx, else overwrites. */
void conv2d_backward_data(const struct conv2d_shape *s, const float *dy, const float *w,
	float *dx, int accumulate, float *workspace);

/* dw (+)= sum_n dy (x) x ; db (+)= sum_{n,i,j} dy (db may be NULL). */
void conv2d_backward_weights(const struct conv2d_shape *s, const float *x, const float *dy,
	float *dw, float *db, int accumulate, float *workspace);

/* Columns of the sgemm blocks conv2d_forward runs for this shape with the
 * thread count in force (0 for depthwise): the product each thread runs is
 * (C_out/groups x K) * (K x columns), K = C_in/groups*KH*KW. For benchmarks
 * that compare the kernels with sgemm on the same shapes. */
long conv2d_block_columns(const struct conv2d_shape *s);

/* Which kernels run a groups-1 convolution: AUTO picks per shape (the
 * direct micro-kernels of conv_simd.h where the build has AVX-512 or
 * AVX2+FMA, im2col + OpenBLAS otherwise); BLAS, VIEW and PANEL force one
 * path (VIEW and PANEL fall back to BLAS where no micro-kernel was built;
 * both run strided backward-data on the stacked view), STACKED the stacked
 * view wherever it applies (stride-1 forward, every backward-data; the
 * view elsewhere), FEW the view with every backward-weights on the
 * few-output-channel kernel (pixels on the lanes; auto takes it under 48
 * output channels with AVX-512, 12 with AVX2), WINOGRAD Winograd F(2x2,
 * 3x3) for the forward and backward-data of every groups-1 3x3 stride-1
 * convolution (conv_wino.h; auto takes it where it measured faster) and
 * auto's choice elsewhere, DIRECT auto's choice without Winograd, for tests
 * and benchmarks. Without a call, $DETBENCH_CONV_KERNEL (auto, blas, view,
 * panel, stacked, few, winograd, direct) decides. Workspace sizes depend on it: set it before
 * conv2d_workspace_size(). */
enum conv2d_kernel { CONV2D_KERNEL_AUTO, CONV2D_KERNEL_BLAS, CONV2D_KERNEL_VIEW, CONV2D_KERNEL_PANEL,
	CONV2D_KERNEL_STACKED, CONV2D_KERNEL_FEW, CONV2D_KERNEL_WINOGRAD, CONV2D_KERNEL_DIRECT };
void conv2d_kernel_set(enum conv2d_kernel k);

/* The micro-kernels' instruction set: "avx512", "avx2" or "none". */
const char *conv2d_kernel_isa(void);

/* FLOPs of one forward pass (2 per multiply-add), for benchmarks and summaries. */
double conv2d_flops(const struct conv2d_shape *s);

#endif
