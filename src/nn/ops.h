/* ops.h: the numeric kernels of the graph's ops (all but convolution, see
 * conv.h), each forward beside its backward with the same argument order.
 * Plain float arrays, NCHW, contiguous. Every backward takes `acc`: nonzero
 * adds into the input gradient, zero overwrites it (the graph decides, so no
 * gradient buffer is ever zeroed in a separate pass). */
#ifndef DET_NN_OPS_H
#define DET_NN_OPS_H

#include <stdint.h>

#include "nn/graph.h"

/* Element-wise activations over n values. op is one of NN_OP_RELU,
 * LEAKY_RELU (slope), SILU, SIGMOID, HARDSWISH, MISH, TANH, RELU6, RECIPROCAL. The backward
 * reads x or y as nn_act_backward_reads() says; the other may be NULL. */
void nn_act_forward(enum nn_op op, float slope, const float *x, float *y, int64_t n);
void nn_act_backward(enum nn_op op, float slope, const float *x, const float *y,
	const float *dy, float *dx, int64_t n, int acc);
/* 1: the backward needs x; 2: it needs y. */
int nn_act_backward_reads(enum nn_op op);

/* Batch norm, x/y: (N, C, HW). Training:
 *   mean_c = sum x / M, var_c = sum (x - mean)^2 / M, M = N*HW
 *   xhat = (x - mean_c) invstd_c, invstd_c = 1 / sqrt(var_c + eps)
 *   y = gamma_c xhat + beta_c   [then ReLU if relu]
 *   running_mean = (1-m) running_mean + m mean_c, running_var likewise with var_c * M/(M-1)
 * saves mean_c and invstd_c in save[0..C) and save[C..2C). Eval uses the
 * running statistics. y may be NULL: statistics only. */
void nn_batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
	int n, int c, int64_t hw, float eps, float momentum, int train,
	float *running_mean, float *running_var, float *save, int relu);
/* y again from x and the statistics the forward saved, bit-identical to the
 * forward's y (the plan re-computes a norm's output for a backward reader
 * instead of keeping it alive through the whole step). No statistics move. */
void nn_batchnorm_apply(const float *x, const float *gamma, const float *beta, const float *save,
	float *y, int n, int c, int64_t hw, int relu);
/* dbeta_c = sum g, dgamma_c = sum g xhat, where g = dy masked by
 * gamma xhat + beta > 0 if relu (re-computed from x with the forward's
 * expression, so the output y is never read);
 * train: dx = gamma_c invstd_c / M (M g - dbeta_c - xhat dgamma_c);
 * eval (frozen statistics): dx = gamma_c invstd_c g. Any of dx, dgamma,
 * dbeta may be NULL (not wanted). */
void nn_batchnorm_backward(const float *x, const float *dy, const float *gamma, const float *beta,
	const float *save, float *dx, float *dgamma, float *dbeta, int n, int c, int64_t hw,
	int train, int relu, int acc_x, int acc_gamma, int acc_beta);

/* A batch norm (+ ReLU) applied by the op that reads its output, so that
 * output is never stored: save (mean, invstd per channel) as
 * nn_batchnorm_forward left it, every value read as
 *   v = [relu] gamma_c (x - mean_c) invstd_c + beta_c
 * with the norm's own expressions (the bits of the norm's y). */
struct nn_bn_fold {
	const float *gamma, *beta, *save;
	int relu;
};

/* y = [relu] (A(a) + B(b)) over (N*C) planes of hw, a, b, y the same
 * shape; A, B: the identity when fa / fb is NULL, else that folded norm
 * (channel = plane mod c). The bits of nn_batchnorm_forward's y added as
 * the graph's add does. */
void nn_add_bn_forward(const float *a, const struct nn_bn_fold *fa, const float *b,
	const struct nn_bn_fold *fb, float *y, int64_t planes, int c, int64_t hw, int relu);

/* Group norm (Wu & He 2018), x/y: (N, C, HW), G groups of C/G channels;
 * statistics per (n, g) over M = C/G * HW values, affine per channel:
 * y = gamma_c (x - mean_ng) invstd_ng + beta_c [then ReLU].
 * save: mean and invstd per (n, g), 2*N*G floats. The backward, like batch
 * norm's, masks by the re-computed affine value and never reads y. */
void nn_groupnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
	int n, int c, int64_t hw, int groups, float eps, float *save, int relu);
void nn_groupnorm_apply(const float *x, const float *gamma, const float *beta, const float *save,
	float *y, int n, int c, int64_t hw, int groups, int relu);
/* work: 2*N*C floats of scratch (each plane's partial sums, shared by dx
 * and dgamma/dbeta so x and dy are read once). */
void nn_groupnorm_backward(const float *x, const float *dy, const float *gamma, const float *beta,
	const float *save, float *dx, float *dgamma, float *dbeta, int n, int c, int64_t hw,
	int groups, int relu, int acc_x, int acc_gamma, int acc_beta, float *work);

/* Pools, x: (N*C, H, W) planes, y: (N*C, OH, OW), OH = (H + 2 pad - k) / stride + 1.
 * max: y = max over the window (padding is -inf); backward routes dy to the
 * first maximum of each window. avg: y = sum / window area counted inside the
 * padded input (count_include_pad = True, PyTorch's default). */
void nn_maxpool_forward(const float *x, float *y, uint8_t *idx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw);
void nn_maxpool_backward(const float *x, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc);
/* idx (N*C, OH, OW), when the forward gets one (else NULL): each window's
 * first maximum as its index a kw + b in the kh x kw window (kh kw <= 256;
 * windows cut by the padding count from their unclipped corner). The
 * backward from it reads neither x nor a transform in front of the pool
 * (1 byte per output instead of kh kw taps again) and gives the bits of
 * nn_maxpool_backward / nn_maxpool_bn_backward. */
void nn_maxpool_backward_idx(const uint8_t *idx, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc);
/* The backward of a max-pool with its argmax saved (pdy: the pool's
 * gradient, (N*C, OH, OW)) and of the batch norm in front of it (x, g,
 * dx: (N, C, H*W)), channel by channel so each channel's g (the pool's dx,
 * the norm's dy, still written in full) is read back from cache: the bits
 * of nn_maxpool_backward_idx then nn_batchnorm_backward. */
void nn_maxpool_idx_bn_backward(const uint8_t *idx, const float *pdy, float *g, int h, int w, int oh, int ow,
	int kh, int kw, int sh, int sw, int ph, int pw, int acc_g, const float *x, const float *gamma,
	const float *beta, const float *save, float *dx, float *dgamma, float *dbeta, int n, int c,
	int train, int relu, int acc_x, int acc_gamma, int acc_beta);
/* Max-pool of a batch norm's output without that output being stored: x
 * is the norm's input, (N*C) planes of channel p mod c, and every tap reads
 *   v = [relu] gamma_c (x - mean_c) invstd_c + beta_c
 * with save (mean, invstd per channel) as nn_batchnorm_forward left it,
 * the same bits as the norm's y; otherwise as nn_maxpool_forward/backward
 * (the plan folds a train-mode stem's BN + ReLU into its max-pool). */
void nn_maxpool_bn_forward(const float *x, const float *gamma, const float *beta, const float *save, int c,
	int relu, float *y, uint8_t *idx, int64_t planes, int h, int w, int oh, int ow, int kh, int kw,
	int sh, int sw, int ph, int pw);
void nn_maxpool_bn_backward(const float *x, const float *gamma, const float *beta, const float *save, int c,
	int relu, const float *dy, float *dx, int64_t planes, int h, int w, int oh, int ow, int kh, int kw,
	int sh, int sw, int ph, int pw, int acc);
void nn_avgpool_forward(const float *x, float *y, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw);
void nn_avgpool_backward(const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int acc);

/* Resize planes (N*C, H, W) -> (N*C, OH, OW). Nearest: src = min(floor(dst * H/OH), H-1)
 * (PyTorch 'nearest'). Bilinear, align_corners = False:
 * src = max(0, (dst + 0.5) * H/OH - 0.5), y = lerp of the 2x2 neighbours. */
void nn_resize_forward(enum nn_op op, const float *x, float *y, int64_t planes, int h, int w, int oh, int ow);
void nn_resize_backward(enum nn_op op, const float *dy, float *dx, int64_t planes, int h, int w,
	int oh, int ow, int acc);

/* Softmax / log-softmax along the middle axis of (outer, len, inner):
 *   y = exp(x - max) / sum exp(x - max);  log: y = x - max - log sum exp(x - max)
 * backward: softmax dx = y (dy - sum dy y); log-softmax dx = dy - exp(y) sum dy. */
void nn_softmax_forward(int log, const float *x, float *y, int64_t outer, int64_t len, int64_t inner);
void nn_softmax_backward(int log, const float *y, const float *dy, float *dx,
	int64_t outer, int64_t len, int64_t inner, int acc);

#endif
