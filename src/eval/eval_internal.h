/* eval_internal.h: pieces the evaluator's files share (not public API). */
#ifndef DET_EVAL_EVAL_INTERNAL_H
#define DET_EVAL_EVAL_INTERNAL_H

#include "eval/coco_eval.h"

/* IoU threshold t of np.linspace(.5, .95, 10), bit for bit. */
double eval_iou_thr(int t);
/* pycocotools' maskUtils.iou over boxes: o[d * ng + g]; a crowd GT uses
 * the detection's area as the union. */
void eval_box_iou(const struct eval_box *const *dt, size_t nd, const struct eval_box *const *gt, size_t ng,
	double *o);
/* Groups boxes by cell cat * nimg + img, stable: *start has ncells + 1
 * offsets into *idx. */
int eval_group(const struct eval_box *b, size_t n, size_t ncells, size_t nimg, size_t **start, size_t **idx);
/* TIDE on the same GT and detections: fills r->tide, the per-class TIDE
 * fields and r->det / r->gt outcomes. */
int eval_tide_run(const struct eval_gt *gt, const struct eval_dets *dets, struct eval_result *r);

#endif
