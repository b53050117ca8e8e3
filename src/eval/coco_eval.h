/* coco_eval.h: COCO bbox evaluation that gives pycocotools' numbers (the
 * 12 summary figures and per-class AP), and the analysis built on the same
 * matching: PR curves and the F1-optimal threshold per class, a confusion
 * matrix with a background row and column, TIDE's error breakdown (Bolya et
 * al., ECCV 2020) and the outcome of every detection and ground-truth box.
 *
 * Ground truth and detections are held in double precision exactly as
 * pycocotools holds them ([x, y, w, h] as written in the JSON), so reading
 * the GT from its JSON file reproduces pycocotools to the last digit. */
#ifndef DET_EVAL_COCO_EVAL_H
#define DET_EVAL_COCO_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dataset;

/* One GT box or detection as pycocotools sees it. */
struct eval_box {
	double x, y, w, h;  /* COCO bbox [x, y, width, height] */
	double area;        /* GT: `area` as given (w*h when absent); detection: w*h */
	double score;       /* detections; 1 for GT */
	int64_t id;         /* GT annotation id; detection: 1-based position in the results */
	int32_t img;        /* index into eval_gt.image_ids */
	int32_t cat;        /* index into eval_gt.cat_ids */
	uint8_t iscrowd;    /* crowd region: IoU = intersection / detection area */
	uint8_t ignore;     /* ignored (VOC difficult); COCO JSON: never (pycocotools overwrites it) */
};

struct eval_gt {
	size_t nimages;
	int64_t *image_ids;   /* sorted ascending, unique (pycocotools' params.imgIds) */
	size_t *file_order;   /* image indices in the GT file's order (TIDE walks images so) */
	int ncats;
	int64_t *cat_ids;     /* sorted ascending (params.catIds) */
	char **cat_names;
	size_t n;
	struct eval_box *boxes; /* in file order */
	char *name;           /* the file it came from, for messages */
};

struct eval_dets {
	size_t n, cap;
	struct eval_box *boxes; /* in results-file order */
};

/* Reads a COCO GT file. Annotations pycocotools would never see (unknown
 * image or category id) are dropped; a record without a usable bbox is
 * skipped and counted in *skipped (may be NULL). JSON syntax errors give
 * "FILE:LINE:COL: ...". */
int eval_gt_read(const char *path, struct eval_gt **out, size_t *skipped);
int eval_gt_read_buffer(const char *buf, size_t len, const char *name, struct eval_gt **out, size_t *skipped);
/* Builds the GT from an in-memory dataset (its float boxes widened to
 * double; class ids and image ids as the dataset keeps them). */
int eval_gt_from_dataset(const struct dataset *ds, struct eval_gt **out);
void eval_gt_free(struct eval_gt *gt);
/* Index of a source id, or -1. */
long eval_gt_image_index(const struct eval_gt *gt, int64_t image_id);
int eval_gt_cat_index(const struct eval_gt *gt, int64_t cat_id);

/* Reads a COCO results file: a JSON array of {image_id, category_id, bbox,
 * score}. An empty array is valid. A record naming an image or category
 * that the GT lacks, or lacking a field, fails with FILE:LINE:COL and the
 * record's index. */
int eval_dets_read(const char *path, const struct eval_gt *gt, struct eval_dets **out);
int eval_dets_read_buffer(const char *buf, size_t len, const char *name, const struct eval_gt *gt,
	struct eval_dets **out);
struct eval_dets *eval_dets_new(void);
/* Appends a detection (img, cat are indices into gt); 0 or DET_ENOMEM. */
int eval_dets_add(struct eval_dets *d, int32_t img, int32_t cat, const double bbox[4], double score);
void eval_dets_free(struct eval_dets *d);

/* pycocotools' default parameters. */
enum { EVAL_T = 10, EVAL_R = 101, EVAL_A = 4, EVAL_M = 3 };
extern const char *const eval_stat_names[12]; /* "AP", "AP50", ... "ARl" */

/* TIDE's error types, in TIDE's order. */
enum eval_error {
	EVAL_ERR_CLS, EVAL_ERR_LOC, EVAL_ERR_BOTH, EVAL_ERR_DUPE, EVAL_ERR_BKG, EVAL_ERR_MISS,
	EVAL_NERR
};
extern const char *const eval_error_names[EVAL_NERR]; /* "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss" */

/* What became of one detection at IoU 0.5 (TIDE's matching and types). */
enum eval_det_kind {
	EVAL_DET_TP,       /* matched a GT of its class */
	EVAL_DET_CLS,      /* IoU >= 0.5 with a GT of another class */
	EVAL_DET_LOC,      /* right class, 0.1 <= IoU <= 0.5 */
	EVAL_DET_BOTH,     /* wrong class and poor box (TIDE "Other"/"Both") */
	EVAL_DET_DUPE,     /* right class, IoU >= 0.5, the GT already taken */
	EVAL_DET_BKG,      /* IoU <= 0.1 with every GT */
	EVAL_DET_IGNORED,  /* inside a crowd region of its class */
	EVAL_DET_DROPPED,  /* beyond the 100 highest-scoring in its image */
};
extern const char *const eval_det_kind_names[8];

struct eval_det_outcome {
	uint8_t kind;      /* enum eval_det_kind */
	uint8_t coco_tp;   /* pycocotools: a true positive at IoU 0.50, area all, maxDets 100 */
	int32_t gt;        /* GT index (eval_gt.boxes): matched (TP), the one it should have
	                      matched (CLS, LOC), the one it duplicates (DUPE), or the
	                      best-overlapping one; -1 when none */
	double iou;        /* IoU with that GT (0 when none) */
};

enum eval_gt_kind {
	EVAL_GT_MATCHED,   /* found by a detection of its class */
	EVAL_GT_MISSED,    /* no detection came near it (TIDE "Miss") */
	EVAL_GT_COVERED,   /* not found, but a CLS or LOC error points at it */
	EVAL_GT_IGNORED,   /* crowd / ignored region */
};
extern const char *const eval_gt_kind_names[4];

struct eval_gt_outcome {
	uint8_t kind;      /* enum eval_gt_kind */
	int32_t det;       /* matching detection (MATCHED) or the error's detection (COVERED); else -1 */
};

struct eval_class {
	double ap, ap50, ap75;   /* NaN where the class has no GT (pycocotools -1) */
	size_t ngt;              /* non-crowd GT boxes */
	size_t ndet;             /* detections of the class */
	/* PR curve at IoU 0.5, area all, maxDets 100: one point per counted detection */
	size_t npr;
	double *pr_recall, *pr_precision, *pr_score;
	/* the score threshold that maximises F1 on that curve (NaN when no curve) */
	double f1, f1_threshold, f1_precision, f1_recall;
	/* TIDE (AP points, 0-100): this class's AP50 and dAP for fixing each error type */
	double tide_ap, tide_dap[EVAL_NERR];
	size_t tide_count[EVAL_NERR];
};

struct eval_tide {
	double ap;                 /* mAP at IoU 0.5, TIDE's own matching, AP points (0-100) */
	double dap[EVAL_NERR];     /* max(AP with that error type fixed - ap, 0) */
	double dap_fp, dap_fn;     /* TIDE's special errors: all FP removed, all FN removed */
	size_t count[EVAL_NERR];
};

struct eval_result {
	int ncats;
	size_t nimages;
	double stats[12];          /* pycocotools' COCOeval.stats */
	double *precision;         /* [T][R][K][A][M], -1 where undefined */
	double *recall;            /* [T][K][A][M] */
	struct eval_class *cls;    /* ncats, in eval_gt.cat_ids order */
	struct eval_tide tide;
	size_t ndets, ngt;
	struct eval_det_outcome *det; /* one per detection, results order */
	struct eval_gt_outcome *gt;   /* one per GT box, file order */
	double seconds_coco, seconds_tide; /* wall time of the two parts */
};

/* Evaluates dets against gt. Neither is kept by the result. Detections
 * with no GT for their image/class are counted as usual. *out is freed with
 * eval_result_free. 0 or DET_ENOMEM. */
int eval_coco_run(const struct eval_gt *gt, const struct eval_dets *dets, struct eval_result **out);
void eval_result_free(struct eval_result *r);

/* Index into precision / recall. */
static inline size_t eval_pidx(int ncats, int t, int r, int k, int a, int m)
{
	return ((((size_t)t * EVAL_R + (size_t)r) * (size_t)ncats + (size_t)k) * EVAL_A + (size_t)a) * EVAL_M + (size_t)m;
}
static inline size_t eval_ridx(int ncats, int t, int k, int a, int m)
{
	return (((size_t)t * (size_t)ncats + (size_t)k) * EVAL_A + (size_t)a) * EVAL_M + (size_t)m;
}

/* Confusion matrix at IoU >= iou_thr for detections scoring >= conf:
 * (ncats + 1) x (ncats + 1) counts, row = GT class (last row: background,
 * i.e. a detection that matched nothing), column = predicted class (last
 * column: background, i.e. a GT no detection matched). Rules in
 * doc/api/eval.md. *out is malloc'd. */
int eval_confusion(const struct eval_gt *gt, const struct eval_dets *dets, double conf, double iou_thr,
	size_t **out);

/* Prints pycocotools' 12-line summary, byte for byte. */
void eval_summary_print(const struct eval_result *r, FILE *f);
/* An aligned per-class table: class, AP, AP50, AP75, GT, detections. */
void eval_per_class_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f);
/* TIDE's tables: overall dAP per error type, special errors, and per class. */
void eval_tide_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f);
/* The confusion matrix m of eval_confusion, aligned, with class names. */
void eval_confusion_print(const struct eval_gt *gt, const size_t *m, double conf, double iou, FILE *f);
/* Everything as one JSON object. */
int eval_json_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f);

/* `detbench eval GT.json RESULTS.json [--per-class] [--tide] [--confusion[=CONF]] [--json]` */
int eval_cli_main(int argc, char **argv);

#endif
