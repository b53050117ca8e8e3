/* box.h: axis-aligned boxes and the IoU family on plain float arrays, and
 * the box encodings of FCOS (distances to the sides) and RetinaNet (centre
 * and log-size deltas). A box is four floats (x0, y0, x1, y1), corner form,
 * x0 <= x1 and y0 <= y1; n boxes are an (n, 4) row-major array. */
#ifndef DET_DET_BOX_H
#define DET_DET_BOX_H

#include <stddef.h>

/* The eps torchvision's distance_box_iou / complete_box_iou and the IoU
 * losses default to. */
#define DET_BOX_EPS 1e-7f

enum det_iou_kind {
	DET_IOU_PLAIN,   /* inter / union (torchvision box_iou) */
	DET_IOU_GIOU,    /* Rezatofighi et al. 2019 (generalized_box_iou) */
	DET_IOU_DIOU,    /* Zheng et al. 2020 (distance_box_iou) */
	DET_IOU_CIOU,    /* Zheng et al. 2020 (complete_box_iou) */
};

/* "iou", "giou", "diou", "ciou" -> kind; -1 for an unknown name. */
int det_iou_kind_parse(const char *name);
const char *det_iou_kind_name(enum det_iou_kind kind);

/* Area (x1 - x0) * (y1 - y0) of one box. */
float det_box_area(const float *b);

/* The value of one IoU-family measure for the pair (a, b), exactly as
 * torchvision's matrix functions compute one entry (float32, same order of
 * operations). With I the intersection, U the union, C the smallest
 * enclosing box, rho the distance of the centres and c C's diagonal:
 *   iou  = I / U                       (NaN when U = 0, as torchvision)
 *   giou = iou - (|C| - U) / |C|
 *   diou = iou - rho^2 / (c^2 + eps)
 *   ciou = diou - alpha v,  v = 4/pi^2 (atan(wa/ha) - atan(wb/hb))^2,
 *          alpha = v / (1 - iou + v + eps)
 * eps is used by diou and ciou only (torchvision's default DET_BOX_EPS). */
float det_box_iou_one(enum det_iou_kind kind, const float *a, const float *b, float eps);

/* out (n, m): out[i*m + j] = measure(a[i], b[j]); a (n, 4), b (m, 4).
 * n or m may be 0. Large matrices (over 8e6 entries for plain IoU) run
 * their rows in parallel (OpenMP); results do not depend on the thread count.
 * Plain IoU takes a vectorised path, bit-identical to det_box_iou_one. */
void det_box_iou_matrix(enum det_iou_kind kind, const float *a, size_t n,
	const float *b, size_t m, float eps, float *out);

/* out (n): out[i] = measure(a[i], b[i]) for matched pairs. */
void det_box_iou_pairs(enum det_iou_kind kind, const float *a, const float *b,
	size_t n, float eps, float *out);

/* FCOS (Tian et al. 2019): a point (px, py) and a box give the distances
 * l = px - x0, t = py - y0, r = x1 - px, b = y1 - py, divided by scale[i]
 * when scale is not NULL (the level's stride, "norm_on_bbox"). Equal to
 * torchvision's BoxLinearCoder(normalize_by_size=True) with a square
 * reference box of side scale[i] centred on the point.
 * points (n, 2), boxes (n, 4), scale (n) or NULL, ltrb (n, 4). */
void det_box_fcos_encode(const float *points, const float *boxes, const float *scale,
	size_t n, float *ltrb);
/* Inverse: x0 = px - l s, y0 = py - t s, x1 = px + r s, y1 = py + b s. */
void det_box_fcos_decode(const float *points, const float *ltrb, const float *scale,
	size_t n, float *boxes);
/* Gradient of the decode w.r.t. ltrb: dl = -dx0 s, dt = -dy0 s, dr = dx1 s,
 * db = dy1 s. dboxes (n, 4) -> dltrb (n, 4) (overwritten). */
void det_box_fcos_decode_backward(const float *scale, size_t n, const float *dboxes,
	float *dltrb);
/* FCOS centerness target from distances: sqrt(min(l,r)/max(l,r) *
 * min(t,b)/max(t,b)); 0 when a side is <= 0. ltrb (n, 4) -> out (n). */
void det_box_fcos_centerness(const float *ltrb, size_t n, float *out);

/* RetinaNet / Faster R-CNN box coder (torchvision BoxCoder). With anchor
 * width wa, height ha, centre (xa, ya) and the box's w, h, (x, y):
 *   dx = wx (x - xa) / wa   dy = wy (y - ya) / ha
 *   dw = ww log(w / wa)     dh = wh log(h / ha)
 * Decoding divides by the weights and clamps dw/wh and dh/hh at `clamp`
 * (torchvision's bbox_xform_clip = log(1000/16)) before exp. */
struct det_box_coder {
	float wx, wy, ww, wh;
	float clamp;
};
/* Weights (1, 1, 1, 1) and clamp log(1000/16): RetinaNet's coder. */
void det_box_coder_init(struct det_box_coder *c);
/* anchors (n, 4), boxes (n, 4) -> deltas (n, 4). */
void det_box_coder_encode(const struct det_box_coder *c, const float *anchors,
	const float *boxes, size_t n, float *deltas);
/* anchors (n, 4), deltas (n, 4) -> boxes (n, 4). */
void det_box_coder_decode(const struct det_box_coder *c, const float *anchors,
	const float *deltas, size_t n, float *boxes);
/* Gradient of decode w.r.t. the deltas (zero for a clamped dw/dh, as
 * torch.clamp's gradient). dboxes (n, 4) -> ddeltas (n, 4). */
void det_box_coder_decode_backward(const struct det_box_coder *c, const float *anchors,
	const float *deltas, size_t n, const float *dboxes, float *ddeltas);

#endif
