/* assign.h: label assignment — which ground-truth box, if any, each anchor
 * point or anchor box learns from. Three assigners on plain arrays, each
 * following its paper and the mmdetection code the papers' authors
 * released: FCOS centre sampling with scale ranges, ATSS, and the
 * task-aligned assigner of TOOD. Anchors of all levels are concatenated
 * level by level; level_count[l] says how many belong to level l.
 * Ground truth: gt (g, 4) boxes x0,y0,x1,y1. The result is assigned (n):
 * the gt index 0..g-1 of each anchor, or -1 for background. */
#ifndef DET_DET_ASSIGN_H
#define DET_DET_ASSIGN_H

#include <stddef.h>

/* FCOS (Tian et al., ICCV 2019; mmdet FCOSHead.get_targets). For point p of
 * level l and gt box b with distances (l, t, r, b) to its sides:
 *   inside:  min(l,t,r,b) > 0, or with centre sampling (radius > 0) the
 *            point lies strictly inside b clipped to the square of half-side
 *            radius * stride[l] around b's centre;
 *   in range: range[l][0] <= max(l,t,r,b) <= range[l][1];
 * and among the boxes that pass both it takes the one of least area (ties:
 * the lower gt index). points (n, 2); stride, range (nlevels), (nlevels, 2).
 * FCOS's defaults: ranges (-1,64) (64,128) (128,256) (256,512) (512,inf),
 * radius 1.5. Returns 0 or DET_EINVAL (level counts do not add up to n). */
int det_assign_fcos(const float *points, size_t n, const size_t *level_count, int nlevels,
	const float *stride, const float *range, const float *gt, size_t g, float radius,
	int *assigned);

/* ATSS (Zhang et al., "Bridging the Gap Between Anchor-based and
 * Anchor-free Detection", CVPR 2020; mmdet ATSSAssigner). For each gt:
 * on every level the topk anchors whose centres are nearest the gt's centre
 * (L2; ties: lower index) are candidates; with m and s the mean and the
 * unbiased standard deviation of the candidates' IoUs, a candidate is
 * positive when IoU >= m + s and its centre lies inside the gt by more than
 * 0.01 on every side. An anchor positive for several gts takes the one of
 * highest IoU (ties: lower gt index). IoU = I / max(U, 1e-6) (mmdet's
 * bbox_overlaps). anchors (n, 4); iou_out (n) or NULL receives the IoU with
 * the assigned gt (0 for background). topk: 9 in the paper. */
int det_assign_atss(const float *anchors, size_t n, const size_t *level_count, int nlevels,
	const float *gt, size_t g, int topk, int *assigned, float *iou_out);

/* Task-aligned assigner (Feng et al., "TOOD: Task-aligned One-stage Object
 * Detection", ICCV 2021; mmdet TaskAlignedAssigner). With s the predicted
 * probability of the gt's class at the anchor and u the IoU of the
 * predicted box with the gt, the alignment metric is t = s^alpha u^beta;
 * the topk anchors by t (over all levels; ties: lower index) are
 * candidates, positive when t > 0 and the anchor's point lies inside the
 * gt by more than 0.01 on every side; an anchor positive for several gts
 * takes the one of highest IoU. scores (n, ncls) probabilities, pred_boxes
 * (n, 4), points (n, 2) anchor centres, gt_labels (g) 0-based classes.
 * metric_out (n) or NULL receives t for the assigned gt (0 otherwise).
 * TOOD's defaults: topk 13, alpha 1, beta 6. */
int det_assign_tal(const float *scores, size_t ncls, const float *pred_boxes,
	const float *points, size_t n, const float *gt, const int *gt_labels, size_t g,
	int topk, float alpha, float beta, int *assigned, float *metric_out);

/* Scratch for an assigner's per-call arrays, grown as needed and never
 * shrunk: a caller that assigns every step holds one (zeroed before first
 * use) so that its steady state allocates nothing. */
struct det_assign_work {
	void *p[4];
	size_t cap[4];
};
void det_assign_work_free(struct det_assign_work *w);
/* det_assign_atss with its scratch in w (the caller owns w): the detector
 * assigns every image of every step through it. */
int det_assign_atss_work(const float *anchors, size_t n, const size_t *level_count, int nlevels,
	const float *gt, size_t g, int topk, int *assigned, float *iou_out, struct det_assign_work *w);
/* det_assign_tal with its scratch in w (the caller owns w). */
int det_assign_tal_work(const float *scores, size_t ncls, const float *pred_boxes,
	const float *points, size_t n, const float *gt, const int *gt_labels, size_t g,
	int topk, float alpha, float beta, int *assigned, float *metric_out, struct det_assign_work *w);

#endif
