/* test_failures.c: failures of a class, the per-class summary, the heat
 * map and the hardest images on a hand-built case where every detection's
 * error type is known (worked out below with TIDE's rules, doc/api/eval.md).
 *
 * Image 1 (classes A=1, B=2, C=3):
 *   g0 A (10,10,40,40)    d0 A .9 on it: TP;  d4 A .5 on it again: Dupe
 *   g1 B (100,10,40,40)   d1 A .8 on it: Cls (A predicted on a B)
 *   g2 A (10,100,40,40)   d2 A .7 at (25,100): IoU 1000/2200 = .45: Loc
 *                         d5 B .4 at (30,100): IoU 800/2400 = .33, wrong class: Both
 *   g3 C (100,100,20,20)  nothing: Miss (small, area 400)
 *   d3 A .6 at (150,150,30,30): no GT near: Bkg
 * Image 2: g4 A (10,10,40,40), nothing found: Miss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/coco_eval.h"
#include "eval/failures.h"
#include "tests/tap.h"

static const char *gtjson =
	"{\"images\":[{\"id\":1,\"width\":200,\"height\":200},{\"id\":2,\"width\":200,\"height\":200}],"
	"\"categories\":[{\"id\":1,\"name\":\"A\"},{\"id\":2,\"name\":\"B\"},{\"id\":3,\"name\":\"C\"}],"
	"\"annotations\":["
	"{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[10,10,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":2,\"image_id\":1,\"category_id\":2,\"bbox\":[100,10,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":3,\"image_id\":1,\"category_id\":1,\"bbox\":[10,100,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":4,\"image_id\":1,\"category_id\":3,\"bbox\":[100,100,20,20],\"area\":400,\"iscrowd\":0},"
	"{\"id\":5,\"image_id\":2,\"category_id\":1,\"bbox\":[10,10,40,40],\"area\":1600,\"iscrowd\":0}]}";

static const char *detjson = "["
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[10,10,40,40],\"score\":0.9},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[100,10,40,40],\"score\":0.8},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[25,100,40,40],\"score\":0.7},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[150,150,30,30],\"score\":0.6},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[10,10,40,40],\"score\":0.5},"
	"{\"image_id\":1,\"category_id\":2,\"bbox\":[30,100,40,40],\"score\":0.4}]";

static size_t count_kind(const struct failure *v, size_t n, int kind, int fn)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += v[i].kind == kind && v[i].fn == fn;
	return c;
}

int main(void)
{
	struct eval_gt *gt = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = NULL;
	struct failure *v;
	size_t n;

	if (eval_gt_read_buffer(gtjson, strlen(gtjson), "gt.json", &gt, NULL) < 0 ||
	    eval_dets_read_buffer(detjson, strlen(detjson), "dets.json", gt, &d) < 0 || eval_coco_run(gt, d, &r) < 0) {
		tap_diag("%s", det_error_message());
		ok(0, "evaluate the case");
		return tap_done();
	}
	/* the evaluator's own outcomes, as worked out above */
	ok(r->det[0].kind == EVAL_DET_TP && r->det[1].kind == EVAL_DET_CLS && r->det[2].kind == EVAL_DET_LOC &&
		r->det[3].kind == EVAL_DET_BKG && r->det[4].kind == EVAL_DET_DUPE && r->det[5].kind == EVAL_DET_BOTH,
		"detection outcomes: TP Cls Loc Bkg Dupe Both (got %d %d %d %d %d %d)", r->det[0].kind, r->det[1].kind,
		r->det[2].kind, r->det[3].kind, r->det[4].kind, r->det[5].kind);

	{
		struct fail_query q = { 0, FAIL_KIND_ANY, FAIL_SORT_SCORE, 0, FAIL_ANY_SIZE };

		ok(eval_failures(gt, d, r, &q, &v, &n) == 0, "failures of A");
		ok(n == 6, "A: 4 wrong detections + 2 objects not found (got %zu)", n);
		ok(count_kind(v, n, EVAL_ERR_CLS, 0) == 1 && count_kind(v, n, EVAL_ERR_LOC, 0) == 1 &&
			count_kind(v, n, EVAL_ERR_BKG, 0) == 1 && count_kind(v, n, EVAL_ERR_DUPE, 0) == 1,
			"A's wrong detections: one each of Cls, Loc, Bkg, Dupe");
		ok(count_kind(v, n, EVAL_ERR_LOC, 1) == 1 && count_kind(v, n, EVAL_ERR_MISS, 1) == 1,
			"A's objects not found: g2 (covered by a Loc) and g4 (a plain miss)");
		ok(v[0].det == 1 && v[0].kind == EVAL_ERR_CLS && v[0].other == 1 && fabs(v[0].iou - 1) < 1e-12,
			"highest score first: d1, confused with B, IoU 1");
		for (size_t i = 1; i < n; i++)
			if (v[i].score > v[i - 1].score)
				ok(0, "sorted by score at %zu", i);
		ok(v[n - 1].fn && v[n - 1].kind == EVAL_ERR_MISS && v[n - 1].score == 0 && v[n - 1].img == 1,
			"the plain miss (score 0) last, in image 2");
		free(v);
	}
	{
		struct fail_query q = { 0, FAIL_KIND_FP, FAIL_SORT_IOU, 0.55, FAIL_ANY_SIZE };

		eval_failures(gt, d, r, &q, &v, &n);
		ok(n == 3 && v[0].kind == EVAL_ERR_BKG && v[0].iou == 0 && v[1].kind == EVAL_ERR_LOC &&
			v[2].kind == EVAL_ERR_CLS, "fp with min_score .55 by IoU (lowest first): Bkg, Loc, Cls (n %zu)", n);
		free(v);
	}
	{
		struct fail_query q = { 1, EVAL_ERR_CLS, FAIL_SORT_SCORE, 0, FAIL_ANY_SIZE };

		eval_failures(gt, d, r, &q, &v, &n);
		ok(n == 1 && v[0].fn && v[0].gt == 1 && v[0].det == 1 && v[0].other == 0,
			"B, kind cls: the B object predicted as A (n %zu)", n);
		free(v);
	}
	{
		struct fail_query q = { 1, FAIL_KIND_ANY, FAIL_SORT_SCORE, 0, FAIL_ANY_SIZE };

		eval_failures(gt, d, r, &q, &v, &n);
		ok(n == 2 && count_kind(v, n, EVAL_ERR_BOTH, 0) == 1 && v[0].fn && v[0].score == 0.8,
			"B: the object g1 (covered by d1, .8) first, then d5 Both (n %zu)", n);
		free(v);
	}
	{
		struct fail_query q = { -1, FAIL_KIND_ANY, FAIL_SORT_SIZE, 0, FAIL_SMALL };

		eval_failures(gt, d, r, &q, &v, &n);
		ok(n == 2 && v[0].cat == 2 && v[0].kind == EVAL_ERR_MISS && v[0].area == 400 && v[1].det == 3,
			"small, smallest first: g3 (400), d3 (900) (n %zu)", n);
		free(v);
	}

	/* the summary */
	{
		struct fail_class_summary *s;
		char *buf = NULL;
		size_t len = 0;
		FILE *f;

		ok(eval_failure_summary(gt, d, r, &s) == 0, "summary");
		ok(s[0].confused_with == 1 && s[0].confused_count == 1 && s[1].confused_with == 0 && s[2].confused_with == -1,
			"most confused: A<->B once, C none");
		ok(s[0].missed[FAIL_MEDIUM] == 2 && s[0].missed[FAIL_SMALL] == 0 && s[1].missed[FAIL_MEDIUM] == 1 &&
			s[2].missed[FAIL_SMALL] == 1, "misses by size: A 2 medium, B 1 medium, C 1 small");
		ok(s[0].count[EVAL_ERR_CLS] == r->cls[0].tide_count[EVAL_ERR_CLS] &&
			s[0].dap[EVAL_ERR_LOC] == r->cls[0].tide_dap[EVAL_ERR_LOC] && s[0].ngt == 3,
			"TIDE figures are the evaluator's (A: %zu GT)", s[0].ngt);
		ok(s[0].count[EVAL_ERR_CLS] == 1 && s[0].count[EVAL_ERR_LOC] == 1 && s[0].count[EVAL_ERR_DUPE] == 1 &&
			s[0].count[EVAL_ERR_BKG] == 1, "A's TIDE counts: one Cls, Loc, Dupe, Bkg");
		ok(eval_failure_summary_sort(s, 3, "small") == 0 && s[0].cat == 2, "sorted by small misses: C first");
		ok(eval_failure_summary_sort(s, 3, "class") == 0 && s[0].cat == 0 && s[2].cat == 2, "sorted by class");
		ok(eval_failure_summary_sort(s, 3, "AP") == 0 && s[0].ap <= s[1].ap && s[1].ap <= s[2].ap,
			"sorted by AP: lowest first (%g %g %g)", s[0].ap, s[1].ap, s[2].ap);
		ok(eval_failure_summary_sort(s, 3, "nope") == DET_EINVAL && strstr(det_error_message(), "nope"),
			"unknown column named: %s", det_error_message());
		f = open_memstream(&buf, &len);
		eval_failure_summary_print(s, 3, gt, f);
		fclose(f);
		ok(strstr(buf, "class") == buf && strstr(buf, "confused with") && strstr(buf, "B (1)"),
			"printed with a header and the confused class");
		{
			/* aligned: every line has the same position for the column "Cls" values */
			int lines = 0;

			for (char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
				lines++;
			ok(lines == 4, "a header and 3 classes (%d lines)", lines);
		}
		free(buf);
		free(s);
	}

	/* the heat map */
	{
		size_t *m = NULL;
		char *buf = NULL;
		size_t len = 0;
		FILE *f;

		ok(eval_confusion(gt, d, 0.0, 0.5, &m) == 0, "confusion");
		f = open_memstream(&buf, &len);
		eval_confusion_heatmap_print(gt, m, 0, f);
		fclose(f);
		tap_diag("\n%s", buf);
		ok(strstr(buf, "background") && strstr(buf, "1=A") && strstr(buf, "#"), "heat map (ascii) drawn");
		free(buf);
		buf = NULL;
		f = open_memstream(&buf, &len);
		eval_confusion_heatmap_print(gt, m, 1, f);
		fclose(f);
		ok(strstr(buf, "\xe2\x96\x88") != NULL, "heat map (utf-8) uses shade blocks");
		free(buf);
		free(m);
	}

	/* hardest images */
	{
		struct fail_image *im;

		ok(eval_hardest_images(gt, d, r, 0, &im, &n) == 0, "hardest");
		ok(n == 2 && im[0].img == 0 && im[0].fp == 5 && im[0].fn == 3 && im[1].img == 1 && im[1].errors == 1,
			"image 1: 5 wrong + 3 not found; image 2: 1 (n %zu: %zu/%zu)", n, n ? im[0].fp : 0, n ? im[0].fn : 0);
		free(im);
		ok(eval_hardest_images(gt, d, r, 0.65, &im, &n) == 0 && n == 2 && im[0].fp == 2 && im[0].fn == 3,
			"min_score .65: d1, d2 count; g0 still matched by d0 (.9)");
		free(im);
	}
	ok(fabs(eval_bbox_iou((double[]){ 10, 100, 40, 40 }, (double[]){ 25, 100, 40, 40 }) - 1000.0 / 2200) < 1e-12,
		"IoU");
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(gt);
	return tap_done();
}
