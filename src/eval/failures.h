/* failures.h: the evaluator's outcomes turned into things a person looks
 * at one by one: the failures of a class (each wrong detection with its
 * TIDE error type, each object that was not found), a per-class summary
 * (TIDE dAP per error type, the class most confused with, misses by size),
 * and the images with the most errors. Everything reads an eval_result and
 * the GT/detections it was computed from; nothing here re-matches boxes. */
#ifndef DET_EVAL_FAILURES_H
#define DET_EVAL_FAILURES_H

#include <stddef.h>
#include <stdint.h>

#include "eval/coco_eval.h"

/* COCO's object sizes: small < 32^2 <= medium < 96^2 <= large (area). */
enum fail_size { FAIL_SMALL, FAIL_MEDIUM, FAIL_LARGE, FAIL_ANY_SIZE };
extern const char *const fail_size_names[3]; /* "small", "medium", "large" */
enum fail_size fail_size_of(double area);

/* What to list. kind is an enum eval_error (EVAL_ERR_CLS .. EVAL_ERR_MISS) or
 * one of the two groups below. */
enum { FAIL_KIND_ANY = -1, FAIL_KIND_FP = -2, FAIL_KIND_FN = -3 };
enum fail_sort { FAIL_SORT_SCORE, FAIL_SORT_IOU, FAIL_SORT_SIZE };

struct fail_query {
	int cat;            /* class index (eval_gt.cat_ids order), or -1 for every class */
	int kind;           /* FAIL_KIND_* or an enum eval_error */
	enum fail_sort sort;/* score: highest first; iou: lowest first; size: smallest first */
	double min_score;   /* detections below are left out (objects not found stay) */
	enum fail_size size;/* FAIL_ANY_SIZE, or only objects of that size */
};

/* One failure. A wrong detection (fn = 0) is filed under its predicted
 * class; an object that was not found (fn = 1) under its GT class, with
 * the kind of the error that covers it (CLS: predicted as another class,
 * LOC: found with a poor box) or MISS when no detection came near. */
struct failure {
	uint8_t kind;      /* enum eval_error */
	uint8_t fn;        /* 1: a GT object not found; 0: a wrong detection */
	int32_t det;       /* detection index, or -1 */
	int32_t gt;        /* GT index (eval_gt.boxes) concerned, or -1 */
	int32_t img;       /* index into eval_gt.image_ids */
	int32_t cat;       /* the class it is filed under */
	int32_t other;     /* the class confused with (CLS/BOTH), or -1 */
	double score;      /* the detection's score (0 for a plain miss) */
	double iou;        /* IoU between the detection and the GT (0 when either is absent) */
	double box[4];     /* the object: detection box, or GT box when fn (COCO x, y, w, h) */
	double area;       /* of box (GT area for fn) */
};

/* Lists the failures matching q into *out (malloc'd, *n items, sorted).
 * 0 or DET_ENOMEM. */
int eval_failures(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	const struct fail_query *q, struct failure **out, size_t *n);

/* One line of the per-class summary. */
struct fail_class_summary {
	int cat;
	double ap, ap50;                 /* COCO AP and AP50 (0-1, NaN: no GT) */
	double dap[EVAL_NERR];           /* TIDE dAP per error type (AP points) */
	size_t count[EVAL_NERR];         /* TIDE error counts */
	int confused_with;               /* the class most often confused with, or -1 */
	size_t confused_count;           /* how often (both directions) */
	size_t ngt, missed[3];           /* GT boxes; GT not found, by size */
};

/* Per class, in class order (*out has gt->ncats entries). 0 or DET_ENOMEM. */
int eval_failure_summary(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	struct fail_class_summary **out);
/* Sorts the summary by a column: "class", "AP", "AP50", "Cls", "Loc",
 * "Both", "Dupe", "Bkg", "Miss", "small", "medium", "large", "confused";
 * numbers worst first (AP lowest, the rest largest). DET_EINVAL names an
 * unknown column. */
int eval_failure_summary_sort(struct fail_class_summary *s, int ncats, const char *column);
/* Prints it aligned, one class a line. */
void eval_failure_summary_print(const struct fail_class_summary *s, int ncats, const struct eval_gt *gt, FILE *f);

/* The confusion matrix of eval_confusion as a heat map: one cell per
 * (GT row, predicted column), shaded by the row-normalised share with
 * ' ░▒▓█' (utf8 = 1) or ' .:oO#' (utf8 = 0); the diagonal marked. */
void eval_confusion_heatmap_print(const struct eval_gt *gt, const size_t *m, int utf8, FILE *f);

/* An image and its error count. */
struct fail_image {
	int32_t img;        /* index into eval_gt.image_ids */
	size_t errors;      /* wrong detections with score >= min_score, plus GT not matched */
	size_t fp, fn;      /* the two parts */
};

/* Every image with at least one error, most errors first (ties: image id).
 * A GT counts as not matched when no detection of its class with score >=
 * min_score matched it. 0 or DET_ENOMEM. */
int eval_hardest_images(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	double min_score, struct fail_image **out, size_t *n);

/* IoU of two COCO boxes (x, y, w, h). */
double eval_bbox_iou(const double a[4], const double b[4]);

#endif
