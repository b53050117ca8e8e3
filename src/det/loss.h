/* loss.h: detection losses on plain float arrays, each with its forward and
 * backward (the gradient w.r.t. the predictions) computed side by side.
 * One config struct describes a loss (kind, hyper-parameters, reduction,
 * per-class weights); the trainer calls det_loss_forward/backward on the
 * head's outputs, the Lua binding wraps the same struct.
 *
 * Layout, for `rows` predictions of `cols` values each:
 *   element-wise   focal, bce, centerness, qfl, vfl, l1, smooth_l1:
 *                  pred (rows, cols), target (rows, cols); one unit per value
 *   box            iou, giou, diou, ciou: cols = 4, pred and target (rows, 4)
 *                  boxes x0,y0,x1,y1; one unit per row
 *   row            ce: pred (rows, cols) logits, target (rows) class index
 *                  0..cols-1 stored as float, < 0 ignores the row;
 *                  dfl: pred (rows, cols) logits over bins 0..cols-1,
 *                  target (rows) a distance in [0, cols-1]; one unit per row
 * weight is NULL or one float per unit. */
#ifndef DET_DET_LOSS_H
#define DET_DET_LOSS_H

#include <stddef.h>

enum det_loss_kind {
	DET_LOSS_FOCAL,      /* sigmoid focal, Lin et al. 2017 (torchvision) */
	DET_LOSS_BCE,        /* binary cross-entropy with logits */
	DET_LOSS_CENTERNESS, /* BCE on FCOS centerness targets (Tian et al. 2019) */
	DET_LOSS_CE,         /* softmax cross-entropy, label smoothing */
	DET_LOSS_QFL,        /* quality focal, Li et al. 2020 (GFL) */
	DET_LOSS_VFL,        /* varifocal, Zhang et al. 2021 (VarifocalNet) */
	DET_LOSS_L1,
	DET_LOSS_SMOOTH_L1,  /* Girshick 2015 (Fast R-CNN), torch's beta form */
	DET_LOSS_IOU,        /* 1 - IoU, or -ln IoU (Yu et al. 2016, UnitBox) */
	DET_LOSS_GIOU,       /* Rezatofighi et al. 2019 */
	DET_LOSS_DIOU,       /* Zheng et al. 2020 */
	DET_LOSS_CIOU,       /* Zheng et al. 2020 */
	DET_LOSS_DFL,        /* distribution focal, Li et al. 2020 (GFL) */
	DET_LOSS_NKINDS
};

enum det_loss_reduction { DET_REDUCE_NONE, DET_REDUCE_SUM, DET_REDUCE_MEAN };

struct det_loss {
	enum det_loss_kind kind;
	enum det_loss_reduction reduction;
	float alpha;     /* focal: alpha (< 0 turns the balance off); vfl: alpha */
	float gamma;     /* focal, vfl: focusing exponent */
	float beta;      /* smooth_l1: beta (0 = L1); qfl: exponent */
	float smoothing; /* ce: label smoothing in [0, 1] */
	float eps;       /* iou-family losses: torchvision's eps */
	int log_iou;     /* iou: -ln(max(IoU, eps)) instead of 1 - IoU */
	float weight;    /* multiplies the whole loss */
	int nclass_weight;   /* 0, or cols: one weight per class */
	float *class_weight; /* owned; element-wise kinds weight column c, ce the target class */
};

/* Fills l with kind's defaults: focal alpha 0.25 gamma 2; vfl alpha 0.75
 * gamma 2; qfl beta 2; smooth_l1 beta 1; eps 1e-7; reduction mean; weight 1. */
void det_loss_init(struct det_loss *l, enum det_loss_kind kind);
/* Releases class_weight (the struct itself is the caller's). */
void det_loss_fini(struct det_loss *l);
/* Copies w (n floats) as the per-class weights; n = 0 removes them.
 * DET_ENOMEM if the copy cannot be allocated. */
int det_loss_set_class_weight(struct det_loss *l, const float *w, int n);

/* "focal", "bce", ... -> kind, -1 when unknown; and back. */
int det_loss_kind_parse(const char *name);
const char *det_loss_kind_name(enum det_loss_kind kind);
int det_loss_reduction_parse(const char *name);
const char *det_loss_reduction_name(enum det_loss_reduction r);

/* Number of loss units for (rows, cols): rows*cols or rows (see above). */
size_t det_loss_units(const struct det_loss *l, size_t rows, size_t cols);
/* Checks that (rows, cols) suits the kind (box kinds need cols = 4, dfl
 * cols >= 2, class weights cols entries). DET_EINVAL with a message. */
int det_loss_check(const struct det_loss *l, size_t rows, size_t cols);

/* The normaliser for "loss per positive": max(num_pos, 1), so an image with
 * no positives gives a finite loss. Pass it as avg_factor. */
float det_loss_avg_factor(double num_pos);

/* Forward. With u the units, k_u = l->weight * weight[u] * class weight
 * (element-wise kinds: of column u % cols; ce: inside the row loss as torch):
 *   none:  out[u] = k_u loss_u                       (units floats)
 *   sum:   out[0] = sum_u k_u loss_u
 *   mean:  out[0] = sum_u k_u loss_u / D,   D = avg_factor when > 0, else
 *          the number of units (ce: of non-ignored rows, or the sum of the
 *          target classes' weights as torch), and out[0] = 0 when D = 0.
 * Returns 0, or DET_EINVAL from det_loss_check. */
int det_loss_forward(const struct det_loss *l, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight, float avg_factor,
	float *out);
/* Backward: dpred (rows, cols) = d(loss)/d(pred) scaled by dout (units
 * floats for reduction none, else one). Same arguments as the forward. */
int det_loss_backward(const struct det_loss *l, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight, float avg_factor,
	const float *dout, float *dpred);

#endif
