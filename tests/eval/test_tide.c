/* test_tide.c: TIDE's error types and dAP on hand-built cases worked out
 * on paper (doc/api/eval.md gives TIDE's rules), plus the confusion matrix
 * and the per-detection / per-GT outcomes on the same case.
 *
 * AP here is TIDE's: 101 recall points x = b/100, precision made monotone,
 * AP = sum / 101 * 100 (AP points); mAP over classes with GT or detections. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"
#include "eval/coco_eval.h"
#include "tests/tap.h"

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9;
}

static struct eval_result *run(const char *gtjson, const char *dets, struct eval_gt **gtp, struct eval_dets **dp)
{
	struct eval_result *r = NULL;

	if (eval_gt_read_buffer(gtjson, strlen(gtjson), "gt.json", gtp, NULL) < 0 ||
	    eval_dets_read_buffer(dets, strlen(dets), "dets.json", *gtp, dp) < 0 ||
	    eval_coco_run(*gtp, *dp, &r) < 0) {
		tap_diag("%s", det_error_message());
		return NULL;
	}
	return r;
}

/* Case A: class 1 has GT g1, g2; d1 finds g1, d2 is off g2 (IoU 1/3: Loc).
 * Class 2 has no GT and one detection d3 over g2 at IoU 1/3 (Both).
 *   class 1: TP .9, FP .8; 2 GT -> recall .5 -> 51 bars of 1 -> 51/101*100
 *   class 2: one FP, no GT -> AP 0 but counted (it has a data point)
 *   mAP = (51/101*100 + 0) / 2
 *   fix Loc : class 1 -> 100;                       mAP = 50
 *   fix Both: class 2 empty, dropped from the mean;  mAP = 51/101*100
 *   FalseNeg: class 1 has 1 GT left -> 100;          mAP = 50 */
static void case_a(void)
{
	const char *gt = "{\"images\": [{\"id\": 1, \"file_name\": \"a\", \"width\": 100, \"height\": 100}],"
		"\"categories\": [{\"id\": 1, \"name\": \"one\"}, {\"id\": 2, \"name\": \"two\"}],"
		"\"annotations\": ["
		"{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100, \"iscrowd\": 0},"
		"{\"id\": 2, \"image_id\": 1, \"category_id\": 1, \"bbox\": [20, 0, 10, 10], \"area\": 100, \"iscrowd\": 0}]}";
	const char *dets = "["
		"{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.9},"
		"{\"image_id\": 1, \"category_id\": 1, \"bbox\": [25, 0, 10, 10], \"score\": 0.8},"
		"{\"image_id\": 1, \"category_id\": 2, \"bbox\": [25, 0, 10, 10], \"score\": 0.7}]";
	struct eval_gt *g = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = run(gt, dets, &g, &d);
	double a1 = 51.0 / 101 * 100, map = a1 / 2;

	if (!ok(r != NULL, "case A evaluates"))
		return;
	ok(near(r->tide.ap, map), "A: mAP %.6f = %.6f", r->tide.ap, map);
	ok(near(r->tide.dap[EVAL_ERR_LOC], 50 - map), "A: dAP Loc %.6f", r->tide.dap[EVAL_ERR_LOC]);
	ok(near(r->tide.dap[EVAL_ERR_BOTH], a1 - map), "A: dAP Both %.6f", r->tide.dap[EVAL_ERR_BOTH]);
	ok(r->tide.dap[EVAL_ERR_CLS] == 0 && r->tide.dap[EVAL_ERR_DUPE] == 0 && r->tide.dap[EVAL_ERR_BKG] == 0 &&
	   r->tide.dap[EVAL_ERR_MISS] == 0, "A: no Cls, Dupe, Bkg or Miss gain");
	ok(near(r->tide.dap_fn, 50 - map) && near(r->tide.dap_fp, 0), "A: FalseNeg %.6f, FalsePos %.6f",
		r->tide.dap_fn, r->tide.dap_fp);
	ok(r->tide.count[EVAL_ERR_LOC] == 1 && r->tide.count[EVAL_ERR_BOTH] == 1 && r->tide.count[EVAL_ERR_MISS] == 0,
		"A: one Loc, one Both, no Miss (g2 is covered by the Loc error)");
	ok(r->det[0].kind == EVAL_DET_TP && r->det[0].gt == 0 && r->det[0].iou == 1, "A: d1 is a TP on g1");
	ok(r->det[1].kind == EVAL_DET_LOC && r->det[1].gt == 1 && near(r->det[1].iou, 1.0 / 3), "A: d2 is Loc on g2, IoU 1/3");
	ok(r->det[2].kind == EVAL_DET_BOTH, "A: d3 is Both");
	ok(r->gt[0].kind == EVAL_GT_MATCHED && r->gt[0].det == 0 && r->gt[1].kind == EVAL_GT_COVERED && r->gt[1].det == 1,
		"A: g1 matched by d1, g2 covered by d2");
	ok(near(r->cls[0].tide_dap[EVAL_ERR_LOC], 100 - a1), "A: class one's dAP Loc %.6f", r->cls[0].tide_dap[EVAL_ERR_LOC]);
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
}

/* Case B: classes A (id 1) and B (id 2).
 * GT: gA [0,0], gB [50,50], gA2 [100,100], gA3 [150,150] (missed), gB2 [250,250]
 * dets: d1 A on gA .9 TP; d2 A on gA .8 Dupe; d3 A on gB .7 Cls; d4 B far .6 Bkg;
 *       d5 A on gA2 .5 TP; d6 B on gB2 .4 TP.
 *   A: T F F T, 3 GT: precision 1 .5 .33 .5 -> 1 .5 .5 .5, recall 1/3 1/3 1/3 2/3
 *      bars 0..33 -> 1, 34..66 -> .5, rest 0: (34 + 16.5) / 101 * 100 = 50
 *   B: F T, 2 GT: precision 0 .5 -> .5 .5, recall 0 .5: 51 bars of .5 -> 25.5/101*100
 *   fix Dupe: A = T F T -> (34 + 33 * 2/3)/101*100
 *   fix Cls : A = T F T (same); B = T F T with 2 GT -> (51 + 50 * 2/3)/101*100
 *   fix Bkg : B = T -> 51/101*100
 *   fix Miss: A with 2 GT: recall .5 .5 .5 1 -> (51 + 50 * .5)/101*100 */
static void case_b(void)
{
	const char *gt = "{\"images\": [{\"id\": 7, \"file_name\": \"b\", \"width\": 300, \"height\": 300}],"
		"\"categories\": [{\"id\": 1, \"name\": \"A\"}, {\"id\": 2, \"name\": \"B\"}],"
		"\"annotations\": ["
		"{\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"area\": 100},"
		"{\"id\": 2, \"image_id\": 7, \"category_id\": 2, \"bbox\": [50, 50, 10, 10], \"area\": 100},"
		"{\"id\": 3, \"image_id\": 7, \"category_id\": 1, \"bbox\": [100, 100, 10, 10], \"area\": 100},"
		"{\"id\": 4, \"image_id\": 7, \"category_id\": 1, \"bbox\": [150, 150, 10, 10], \"area\": 100},"
		"{\"id\": 5, \"image_id\": 7, \"category_id\": 2, \"bbox\": [250, 250, 10, 10], \"area\": 100}]}";
	const char *dets = "["
		"{\"image_id\": 7, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.9},"
		"{\"image_id\": 7, \"category_id\": 1, \"bbox\": [0, 0, 10, 10], \"score\": 0.8},"
		"{\"image_id\": 7, \"category_id\": 1, \"bbox\": [50, 50, 10, 10], \"score\": 0.7},"
		"{\"image_id\": 7, \"category_id\": 2, \"bbox\": [200, 200, 10, 10], \"score\": 0.6},"
		"{\"image_id\": 7, \"category_id\": 1, \"bbox\": [100, 100, 10, 10], \"score\": 0.5},"
		"{\"image_id\": 7, \"category_id\": 2, \"bbox\": [250, 250, 10, 10], \"score\": 0.4}]";
	struct eval_gt *g = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = run(gt, dets, &g, &d);
	double third = 2.0 / 3, apA = 50.5 / 101 * 100, apB = 25.5 / 101 * 100, map = (apA + apB) / 2;
	double sA = 34, sB = 51;
	size_t *m = NULL;

	if (!ok(r != NULL, "case B evaluates"))
		return;
	for (int i = 0; i < 33; i++)
		sA += third;
	for (int i = 0; i < 50; i++)
		sB += third;
	ok(near(r->tide.ap, map), "B: mAP %.6f = %.6f", r->tide.ap, map);
	ok(near(r->tide.dap[EVAL_ERR_DUPE], (sA / 101 * 100 + apB) / 2 - map), "B: dAP Dupe %.6f", r->tide.dap[EVAL_ERR_DUPE]);
	ok(near(r->tide.dap[EVAL_ERR_CLS], (sA / 101 * 100 + sB / 101 * 100) / 2 - map), "B: dAP Cls %.6f",
		r->tide.dap[EVAL_ERR_CLS]);
	ok(near(r->tide.dap[EVAL_ERR_BKG], (apA + 51.0 / 101 * 100) / 2 - map), "B: dAP Bkg %.6f", r->tide.dap[EVAL_ERR_BKG]);
	ok(near(r->tide.dap[EVAL_ERR_MISS], (76.0 / 101 * 100 + apB) / 2 - map), "B: dAP Miss %.6f",
		r->tide.dap[EVAL_ERR_MISS]);
	ok(r->tide.dap[EVAL_ERR_LOC] == 0 && r->tide.dap[EVAL_ERR_BOTH] == 0, "B: no Loc or Both gain");
	ok(r->tide.count[EVAL_ERR_CLS] == 1 && r->tide.count[EVAL_ERR_DUPE] == 1 && r->tide.count[EVAL_ERR_BKG] == 1 &&
	   r->tide.count[EVAL_ERR_MISS] == 1 && r->tide.count[EVAL_ERR_LOC] == 0, "B: one each of Cls, Dupe, Bkg, Miss");
	ok(r->det[1].kind == EVAL_DET_DUPE && r->det[1].gt == 0, "B: d2 duplicates gA");
	ok(r->det[2].kind == EVAL_DET_CLS && r->det[2].gt == 1, "B: d3 is a class error on gB");
	ok(r->det[3].kind == EVAL_DET_BKG && r->det[3].gt == -1, "B: d4 is background");
	ok(r->gt[3].kind == EVAL_GT_MISSED && r->gt[1].kind == EVAL_GT_COVERED && r->gt[1].det == 2,
		"B: gA3 missed, gB covered by d3");
	ok(r->det[0].coco_tp && !r->det[1].coco_tp && r->det[4].coco_tp, "B: COCO's own matching agrees on the TPs");
	/* confusion at IoU .5, conf 0: rows GT (A, B, bg), columns predicted (A, B, bg) */
	if (ok(eval_confusion(g, d, 0.0, 0.5, &m) == 0, "B: confusion matrix")) {
		size_t want[9] = { 2, 0, 1, 1, 1, 0, 1, 1, 0 };

		ok(memcmp(m, want, sizeof want) == 0, "B: [A,A]=2 [A,bg]=1 [B,A]=1 [B,B]=1 [bg,A]=1 [bg,B]=1 "
			"(got %zu %zu %zu / %zu %zu %zu / %zu %zu %zu)", m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]);
		free(m);
	}
	/* F1 on class A's COCO curve: T F F T with 3 GT -> best at the last point,
	 * p = 2/4, r = 2/3 -> F1 = 4/7; at the first point p = 1, r = 1/3 -> F1 = .5 */
	ok(near(r->cls[0].f1, 4.0 / 7) && r->cls[0].f1_threshold == 0.5, "B: class A's best F1 %.4f at score %.2f",
		r->cls[0].f1, r->cls[0].f1_threshold);
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
}

/* A crowd region swallows an unmatched detection of its class (ignored by
 * both COCO and TIDE); a detection beyond 100 in an image is dropped. */
static void case_crowd(void)
{
	const char *gt = "{\"images\": [{\"id\": 1, \"file_name\": \"c\", \"width\": 100, \"height\": 100}],"
		"\"categories\": [{\"id\": 3, \"name\": \"C\"}],"
		"\"annotations\": ["
		"{\"id\": 1, \"image_id\": 1, \"category_id\": 3, \"bbox\": [0, 0, 50, 50], \"area\": 2500, \"iscrowd\": 1},"
		"{\"id\": 2, \"image_id\": 1, \"category_id\": 3, \"bbox\": [60, 60, 10, 10], \"area\": 100}]}";
	const char *dets = "["
		"{\"image_id\": 1, \"category_id\": 3, \"bbox\": [60, 60, 10, 10], \"score\": 0.9},"
		"{\"image_id\": 1, \"category_id\": 3, \"bbox\": [10, 10, 20, 20], \"score\": 0.8}]";
	struct eval_gt *g = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = run(gt, dets, &g, &d);

	if (!ok(r != NULL, "crowd case evaluates"))
		return;
	ok(r->det[1].kind == EVAL_DET_IGNORED && !r->det[1].coco_tp, "crowd: d2 inside the crowd is ignored");
	ok(near(r->stats[0], 1.0) && near(r->tide.ap, 100), "crowd: AP 1 (COCO) and 100 (TIDE)");
	ok(r->gt[0].kind == EVAL_GT_IGNORED && r->cls[0].ngt == 1, "crowd: the crowd GT is not counted");
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
}

static void bad_results(void)
{
	const char *gt = "{\"images\": [{\"id\": 1, \"file_name\": \"c\", \"width\": 100, \"height\": 100}],"
		"\"categories\": [{\"id\": 3, \"name\": \"C\"}], \"annotations\": []}";
	struct eval_gt *g = NULL;
	struct eval_dets *d = NULL;
	const char *unk_img = "[\n {\"image_id\": 1, \"category_id\": 3, \"bbox\": [1,1,2,2], \"score\": 1},\n"
		" {\"image_id\": 9, \"category_id\": 3, \"bbox\": [1,1,2,2], \"score\": 1}]";
	const char *unk_cat = "[{\"image_id\": 1, \"category_id\": 4, \"bbox\": [1,1,2,2], \"score\": 1}]";
	const char *syntax = "[{\"image_id\": 1, \"category_id\": 3,\n \"bbox\": [1,1,2,2], \"score\": }]";

	if (eval_gt_read_buffer(gt, strlen(gt), "gt.json", &g, NULL) < 0)
		return;
	ok(eval_dets_read_buffer(unk_img, strlen(unk_img), "r.json", g, &d) == DET_EFORMAT &&
	   strstr(det_error_message(), "r.json:3:2: result (index 1): unknown image_id 9 (not in gt.json)"),
		"unknown image id named with line and column: %s", det_error_message());
	ok(eval_dets_read_buffer(unk_cat, strlen(unk_cat), "r.json", g, &d) == DET_EFORMAT &&
	   strstr(det_error_message(), "r.json:1:2: result (index 0): unknown category_id 4"),
		"unknown category id: %s", det_error_message());
	ok(eval_dets_read_buffer(syntax, strlen(syntax), "r.json", g, &d) == DET_EFORMAT &&
	   strstr(det_error_message(), "r.json:2:30: JSON syntax error"), "syntax error: %s", det_error_message());
	eval_gt_free(g);
}

/* No detections at all (an empty eval_dets, as from an empty Lua table)
 * and no GT boxes at all: zeros and -1s, nothing read out of bounds. */
static void empty_sets(void)
{
	const char *gt = "{\"images\": [{\"id\": 1, \"file_name\": \"c\", \"width\": 100, \"height\": 100}],"
		"\"categories\": [{\"id\": 3, \"name\": \"C\"}],"
		"\"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 3, \"bbox\": [1, 1, 5, 5], \"area\": 25}]}";
	const char *nogt = "{\"images\": [{\"id\": 1, \"file_name\": \"c\", \"width\": 100, \"height\": 100}],"
		"\"categories\": [{\"id\": 3, \"name\": \"C\"}]}";
	const char *one = "[{\"image_id\": 1, \"category_id\": 3, \"bbox\": [1, 1, 5, 5], \"score\": 0.5}]";
	struct eval_gt *g = NULL;
	struct eval_dets *d = eval_dets_new();
	struct eval_result *r = NULL;
	size_t *m = NULL;

	if (eval_gt_read_buffer(gt, strlen(gt), "gt.json", &g, NULL) == 0 && eval_coco_run(g, d, &r) == 0) {
		ok(r->stats[0] == 0 && r->stats[8] == 0 && r->gt[0].kind == EVAL_GT_MISSED, "no detections: zeros, the GT missed");
		ok(r->tide.count[EVAL_ERR_MISS] == 1 && r->tide.ap == 0, "no detections: one Miss, TIDE AP 0");
		ok(eval_confusion(g, d, 0, 0.5, &m) == 0 && m[1] == 1, "no detections: confusion counts the miss");
		free(m);
	} else
		ok(0, "no detections evaluates");
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
	g = NULL, d = NULL, r = NULL;
	if (eval_gt_read_buffer(nogt, strlen(nogt), "nogt.json", &g, NULL) == 0 &&
	    eval_dets_read_buffer(one, strlen(one), "one.json", g, &d) == 0 && eval_coco_run(g, d, &r) == 0) {
		ok(r->stats[0] == -1 && isnan(r->cls[0].ap), "no GT: -1 and an undefined class AP (pycocotools' convention)");
		ok(r->det[0].kind == EVAL_DET_BKG && r->tide.count[EVAL_ERR_BKG] == 1, "no GT: the detection is background");
	} else
		ok(0, "no GT evaluates");
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
}

/* A dataset (not a file) whose box has id 0 still scores: the id-0 quirk
 * belongs to pycocotools' file path only. Source class ids are kept. */
static void from_dataset(void)
{
	struct dataset *ds = dataset_new("mem", NULL);
	struct dataset_box b = { .x0 = 10, .y0 = 10, .x1 = 30, .y1 = 40, .area = 600, .cls = 0, .id = 0 };
	struct eval_gt *g = NULL;
	struct eval_dets *d = eval_dets_new();
	struct eval_result *r = NULL;
	const double bb[4] = { 10, 10, 20, 30 };

	dataset_class_add(ds, "thing", 17);
	dataset_image_add(ds, 5, NULL, 64, 64);
	dataset_box_add(ds, &b);
	if (ok(eval_gt_from_dataset(ds, &g) == 0, "GT from a dataset") && g->cat_ids[0] == 17 && g->image_ids[0] == 5) {
		eval_dets_add(d, 0, 0, bb, 0.9);
		ok(eval_coco_run(g, d, &r) == 0 && fabs(r->stats[0] - 1) < 1e-12 && r->det[0].coco_tp,
			"a box with id 0 from a dataset is found (AP %.3f)", r ? r->stats[0] : -2.0);
	}
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(g);
	dataset_free(ds);
}

int main(void)
{
	empty_sets();
	from_dataset();
	case_a();
	case_b();
	case_crowd();
	bad_results();
	return tap_done();
}
