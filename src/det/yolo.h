/* yolo.h: the YOLOv8-style head's targets, losses and box decoding on plain
 * arrays (Jocher et al., Ultralytics YOLOv8, v8DetectionLoss), for the
 * detector glue (detector.c) to call with its gathered outputs.
 *
 * Layout: per image P anchor points (levels concatenated), point p at
 * points[2p], points[2p+1] with stride s_p. Per row r = n*P + p:
 *   cls (rows, C)        logits
 *   box (rows, 4 (R+1))  R = reg_max > 0: per side k (l, t, r, b) the logits
 *                        z_k of a distribution over the distances 0..R
 *                        (in strides), d_k = sum_j j softmax(z_k)_j;
 *                        R = 0: one value t_k per side, d_k = exp(t_k)
 * and the box is (x - s d_l, y - s d_t, x + s d_r, y + s d_b).
 *
 * Targets (no gradient flows through them, as YOLOv8 detaches them): the
 * task-aligned assigner (TOOD, det_assign_tal) on sigmoid(cls) and the
 * decoded boxes gives each anchor a gt or none; a positive's soft class
 * target is YOLOv8's normalised alignment
 *   u_p = t_p * max_{q in pos(g)} IoU_q / max_{q in pos(g)} t_q
 * (t = s^alpha IoU^beta, g the anchor's gt) at its gt's class, 0 elsewhere.
 * With S = max(sum_p u_p, 1) over the batch:
 *   cls = sum_{r,c} cls_loss(z_rc, target_rc) / S         (BCE by default)
 *   box = sum_pos u_p (1 - CIoU(box_p, gt_p)) / S           (Zheng et al. 2020;
 *         CIoU's alpha held constant as torchvision; or GIoU, DIoU, IoU)
 *   dfl = sum_pos u_p mean_k DFL(z_k, clamp(d*_k, 0, R - 0.01)) / S
 *         (Li et al. 2020, GFL; d* the gt's side distances in strides; R > 0)
 *   total = w_cls cls + w_box box + w_dfl dfl   (YOLOv8: 0.5, 7.5, 1.5) */
#ifndef DET_DET_YOLO_H
#define DET_DET_YOLO_H

#include <stddef.h>
#include <stdint.h>

#include "det/assign.h"
#include "det/loss.h"

/* The scratch slots of struct det_yolo_targets. */
#define DET_YOLO_NWORK 18

struct det_yolo_opts {
	int classes;           /* C */
	int reg_max;           /* R: 0 or the largest distance bin (16) */
	int topk;              /* TAL: 10 */
	float alpha, beta;     /* TAL: 0.5, 6 */
	struct det_loss cls_loss; /* element-wise: bce (default), focal, qfl, vfl */
	struct det_loss box_loss; /* iou family: ciou (default), giou, diou, iou */
	float w_cls, w_box, w_dfl;
};

/* YOLOv8's defaults: topk 10, alpha 0.5, beta 6, BCE, CIoU, weights 0.5 / 7.5 / 1.5. */
void det_yolo_opts_default(struct det_yolo_opts *o, int classes, int reg_max);

/* The targets of a batch: per row, the assigned gt (-1: background) and
 * its soft class target u; their sum S (before max(., 1)). */
struct det_yolo_targets {
	size_t rows;
	int *gt;        /* (rows) gt index within its image, or -1 */
	int *cls;       /* (rows) the gt's class, or -1 */
	float *score;   /* (rows) u_p */
	float *gtbox;   /* (rows, 4) the gt's box (zeros for background) */
	double sum;     /* sum_p u_p */
	size_t npos;
	/* scratch that det_yolo_assign and det_yolo_loss reuse from call to
	 * call (grown as needed, freed by det_yolo_targets_free), so a caller
	 * that keeps t across steps allocates nothing in a steady state */
	struct det_assign_work tal;
	struct { void *p; size_t cap; } work[DET_YOLO_NWORK];
};
void det_yolo_targets_free(struct det_yolo_targets *t);

/* One anchor's box (x0, y0, x1, y1) and distances d (4, in strides) from
 * its 4 (R+1) raw values, spaced `step` floats apart. */
void det_yolo_decode_one(int reg_max, const float *raw, size_t step, float px, float py, float s,
	float *box, float *d);

/* Assigns the batch: gt (nimg, max_boxes, 4) boxes in input pixels with
 * classes gt_cls (nimg, max_boxes) and counts (nimg). Fills t (its arrays
 * are (re)allocated; zero it before the first call). 0, DET_EINVAL (a
 * class out of range) or DET_ENOMEM. */
int det_yolo_assign(const struct det_yolo_opts *o, int nimg, size_t P, const float *points,
	const float *stride, const float *cls, const float *box, const float *gt, const int32_t *gt_cls,
	const int *counts, int max_boxes, struct det_yolo_targets *t);

struct det_yolo_losses {
	float cls, box, dfl, total;
	double num_pos;
};

/* The loss parts for fixed targets t and, when dcls / dbox are not NULL,
 * d total / d cls and d total / d box (overwritten, same layouts); t's
 * scratch is reused (its targets are only read). 0 or a negative status. */
int det_yolo_loss(const struct det_yolo_opts *o, int nimg, size_t P, const float *points,
	const float *stride, const float *cls, const float *box, struct det_yolo_targets *t,
	struct det_yolo_losses *out, float *dcls, float *dbox);

#endif
