/* suspect.h: ground-truth boxes that are likely wrong, ranked. The evidence
 * is the detector's own predictions on the evaluated set:
 *   wrong_class  a confident prediction of another class on the same object
 *                (IoU >= wrong_iou): score = s_other - s_own (the margin;
 *                margin = 0: s_other * (1 - s_own)), where s_other is the
 *                best such prediction's score and s_own the best score of a
 *                prediction of the GT's own class there (0 when none);
 *   missing_box  a confident prediction with no GT of any class on it (every
 *                GT's IoU < missing_iou): score = s * (1 - maxIoU / missing_iou);
 *                of overlapping such predictions (IoU >= 0.5) only the best;
 *   bad_box      a GT its class's predictions never fit (best IoU of a
 *                prediction of its class scoring >= min_score is < fit_iou):
 *                score = bad_weight * (1 - bestIoU / fit_iou); with per-GT
 *                losses, max(that, bad_weight * loss / max loss).
 * One suspect per GT box (its best-scoring reason). Scores are in [0, 1].
 *
 * The margin (margin = 1, the default) is the order of confident
 * learning's prune-by-noise-rate (Northcutt et al., JAIR 2021: the examples
 * with the largest p_other - p_label first; the "normalized margin" label
 * quality score of Kuan & Mueller, 2022). A detector's sigmoid scores are
 * low and spread over the classes it hesitates between (0.25 / 0.17 / 0.11
 * on one object is common): the product barely discounts a competitor when
 * the label's own score is 0.1-0.3, so honest hesitations outrank swaps;
 * the margin subtracts it whole. On the planted-error bench it adds 2-7
 * points with 4 classes and 8-13 with all 10 (bench/README.md, "the
 * margin").
 *
 * Calibrated (calibrate = 1; off by default): every prediction's score s of
 * class k enters the formulas above as p_k(s), the probability that a
 * prediction of class k at score s is right, estimated on the evaluated set
 * itself: predictions are matched to the labels (per class, best score
 * first, IoU >= wrong_iou, COCO's greedy rule), and p_k is the isotonic
 * (pool-adjacent-violators) fit of TP = 1 / FP = 0 on score, each step
 * shrunk toward class k's precision with one pseudo-count. Scores are not
 * comparable across classes (a class the model is shy of tops out at 0.3,
 * another at 0.9; one hallucinates at 0.4, another never does); p_k is.
 * With 5-10% wrong labels the fit is biased low by about that much, the
 * same for every class. (Zadrozny & Elkan, "Transforming classifier scores
 * into accurate multiclass probability estimates", KDD 2002; per-class,
 * as confident learning's per-class thresholds: Northcutt et al., JAIR 2021.)
 * Off by default because it hurts where classes are honestly confused: a
 * confusable class's own predictions get a low p_k, so its correct labels
 * lose their support and every competing prediction outranks them (with
 * the margin: -10 to -17 points on 10 Fashion classes, -5 to +1 on 4 easily
 * told apart; bench/README.md).
 *
 * Explained evidence (explain = 1, the default): objects overlap, so a
 * prediction is evidence only about the GT that explains it best. It
 * counts for wrong_class on GT g only if no GT of its own class overlaps it
 * more than g does (else it is that object's detection); for missing_box,
 * maxIoU is taken over the GT boxes of its own class only, and a prediction
 * on a GT of another class (IoU >= wrong_iou) is that GT's wrong_class
 * evidence, not a missing box — so a deleted object partly hidden behind
 * another labelled object is still found. */
#ifndef DET_EVAL_SUSPECT_H
#define DET_EVAL_SUSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "eval/coco_eval.h"

enum suspect_reason { SUSPECT_WRONG_CLASS, SUSPECT_MISSING_BOX, SUSPECT_BAD_BOX, SUSPECT_NREASONS };
extern const char *const suspect_reason_names[SUSPECT_NREASONS]; /* "wrong_class", "missing_box", "bad_box" */

struct suspect_opts {
	double wrong_iou;   /* 0.5 */
	double missing_iou; /* 0.3 */
	double fit_iou;     /* 0.3 */
	double min_score;   /* 0.05: predictions below never count as fitting a GT */
	double bad_weight;  /* 0.2: a box nobody fits is weaker evidence than a confident prediction */
	const double *losses; /* per GT box (eval_gt.boxes order), or NULL */
	int calibrate;        /* 0; 1: scores through each class's p_k (see above) */
	int explain;          /* 1: evidence explained by another GT does not count (see above) */
	int margin;           /* 1: wrong_class = s_other - s_own; 0: s_other * (1 - s_own) */
};

/* The defaults above. */
void suspect_opts_default(struct suspect_opts *o);

struct suspect {
	uint8_t reason;       /* enum suspect_reason */
	int32_t img;          /* index into eval_gt.image_ids */
	int32_t gt;           /* GT index, or -1 (missing_box) */
	int32_t det;          /* the prediction that is the evidence, or -1 */
	int32_t cat;          /* the GT's class as labelled, or -1 (missing_box) */
	int32_t suggested;    /* the class the model sees there, or -1 */
	double box[4];        /* the GT box (missing_box: the prediction's), COCO x, y, w, h */
	double score;         /* in [0, 1], higher = more likely wrong */
	double iou;           /* between the GT and the evidence (0 when none) */
};

/* Ranks suspects, highest score first (ties: image, then GT). *out is
 * malloc'd. 0 or DET_ENOMEM. */
int eval_suspects(const struct eval_gt *gt, const struct eval_dets *dets, const struct suspect_opts *o,
	struct suspect **out, size_t *n);

/* Writes the list as a JSON array of {image, box, class, reason, score,
 * suggested, gt_id} (image: the image id; box: [x, y, w, h]; class: the
 * labelled class, or the suggested one for a missing box) atomically (temp
 * file, fsync, rename). 0 or DET_EIO naming the file. */
int eval_suspects_write_json(const struct eval_gt *gt, const struct suspect *s, size_t n, const char *path);

#endif
