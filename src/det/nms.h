/* nms.h: non-maximum suppression on plain arrays: greedy NMS identical to
 * torchvision.ops.nms / batched_nms, soft-NMS (linear and Gaussian, Bodla
 * et al. 2017), DIoU-NMS (Zheng et al. 2020), class-aware, with a score
 * threshold, a cap on detections, and per-level top-k candidate selection.
 * Boxes are (n, 4) x0,y0,x1,y1; indices are 0-based. */
#ifndef DET_DET_NMS_H
#define DET_DET_NMS_H

#include <stddef.h>

enum det_nms_method {
	DET_NMS_GREEDY,        /* drop j when IoU(i, j) > threshold */
	DET_NMS_SOFT_LINEAR,   /* s_j *= 1 - IoU when IoU > threshold */
	DET_NMS_SOFT_GAUSSIAN, /* s_j *= exp(-IoU^2 / sigma) */
	DET_NMS_DIOU,          /* drop j when DIoU(i, j) > threshold */
};

struct det_nms_opts {
	enum det_nms_method method;
	float iou_threshold;   /* greedy, soft_linear, diou */
	float sigma;           /* soft_gaussian (0.5) */
	float score_threshold; /* keep only scores > this before NMS; soft-NMS also
	                          drops boxes whose decayed score falls below it */
	int max_dets;          /* <= 0: no cap */
};

/* greedy, iou_threshold 0.5, sigma 0.5, score_threshold -inf, no cap. */
void det_nms_opts_init(struct det_nms_opts *o);
/* "greedy", "soft_linear", "soft_gaussian", "diou" -> method; -1 unknown. */
int det_nms_method_parse(const char *name);
const char *det_nms_method_name(enum det_nms_method m);

/* Runs NMS on n boxes. classes (n) or NULL: with classes, boxes of different
 * classes never suppress each other (batched_nms). Writes the kept indices
 * to keep (n) in decreasing order of (final) score, ties by lower index, and
 * when out_scores is not NULL their final scores (soft-NMS lowers them).
 * Returns the number kept, or DET_ENOMEM / DET_EINVAL (negative).
 *
 * Greedy equals torchvision exactly: order by score descending with ties to
 * the lower index (its stable sort), IoU computed in float32 in torchvision's
 * order, suppression when IoU > threshold strictly (so a zero-area box, whose
 * IoU with itself is 0/0 = NaN, suppresses nothing). NaN scores are dropped.
 * Cost: one radix sort, one vectorised pass per kept box over the later boxes
 * of its class (classes run in parallel under OpenMP when the buckets are
 * big enough to pay; the result does not depend on the thread count). */
long det_nms_run(const struct det_nms_opts *o, const float *boxes, const float *scores,
	const int *classes, size_t n, int *keep, float *out_scores);

/* Candidate selection for one feature level (the "nms_pre" step): scores
 * (n, C) row-major; picks the flat indices r*C + c whose score > threshold,
 * at most k of them, highest first (ties by lower flat index). Writes them to
 * idx (min(k, n*C)) and returns how many, or DET_ENOMEM. */
long det_nms_topk(const float *scores, size_t n, size_t ncls, float threshold, size_t k,
	int *idx);

/* The post-processing of a dense head for one image, as mmdetection's
 * _get_bboxes_single: on every level, the (anchor, class) pairs whose score
 * is > score_threshold, at most nms_pre of them, highest first
 * (det_nms_topk); then o's NMS over all levels' candidates with each class
 * apart, and at most o->max_dets results. scores (n, ncls) probabilities
 * and boxes (n, 4) already decoded, levels concatenated (level_count[l]
 * anchors each, summing to n). Writes up to cap detections: the anchor
 * index, class and (final) score, best first. Returns the number written,
 * or DET_EINVAL / DET_ENOMEM. */
long det_nms_multilevel(const struct det_nms_opts *o, const float *scores, const float *boxes,
	size_t ncls, const size_t *level_count, int nlevels, size_t nms_pre, size_t cap,
	int *out_index, int *out_class, float *out_score);

#endif
