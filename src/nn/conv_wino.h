/* conv_wino.h: 3x3 stride-1 convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", CVPR 2016), internal to src/nn: conv.c decides when it runs
 * (forward, and backward-data of a stride-1 3x3 convolution, which is the
 * forward convolution of dy with the flipped, transposed weights).
 *
 * Every 2x2 block of outputs ("tile") is computed from the 4x4 block of
 * input around it: with d the input tile, g a 3x3 filter,
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * so the 36 multiplies of a tile per (input, output) channel pair become 16,
 * and summed over the input channels they are 16 matrix products
 *   M[xi] (C_out x tiles) = U[xi] (C_out x C_in) * V[xi] (C_in x tiles)
 * run on conv_simd.h's forward micro-kernel. Sums run in a fixed order per
 * output, so results are bit-identical run to run and for any thread count;
 * they differ from the direct kernels' in the last bits (the transforms add
 * terms: relative error about 2-4x the direct sum's). */
#ifndef DET_NN_CONV_WINO_H
#define DET_NN_CONV_WINO_H

#include "nn/conv.h"

/* Groups 1, 3x3, stride 1, dilation 1 (any padding up to 2). */
int conv_wino_shape_ok(const struct conv2d_shape *s);

/* Floats of workspace conv_wino_run needs with nthreads threads. */
long conv_wino_floats(const struct conv2d_shape *s, int nthreads);

/* y = beta*y + conv(x, w) (+ b; b only with beta == 0), on nthreads
 * threads. flip != 0: w is the weights of the convolution this one is the
 * backward-data of, laid out (s->c_in, s->c_out, 3, 3), and is read flipped
 * and transposed (no copy). */
void conv_wino_run(const struct conv2d_shape *s, const float *x, const float *w, int flip,
	const float *b, float *y, float beta, float *ws, int nthreads);

/* Floats of workspace conv_wino_wgrad needs with nthreads threads. */
long conv_wino_wgrad_floats(const struct conv2d_shape *s, int nthreads);

/* dw (+)= the weight gradient of the 3x3 stride-1 convolution s, by
 * Winograd's F(2x2, 3x3) transposed: with V the input tiles' transforms
 * as in the forward and Z = A dY A^T the output gradient's (2x2 -> 4x4),
 *   dW = G^T [ sum over tiles Z .* V ] G
 * i.e. 16 products dU[xi] (C_out x C_in) = Z[xi] (C_out x tiles) *
 * V[xi]^T (tiles x C_in) on OpenBLAS (single-threaded per thread), each
 * point's summed by one thread in tile order, so the bits do not depend on
 * the thread count. The bias gradient is not computed here. */
void conv_wino_wgrad(const struct conv2d_shape *s, const float *x, const float *dy, float *dw,
	int accumulate, float *ws, int nthreads);

#endif
