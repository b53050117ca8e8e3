/* test_cocoeval_golden.c: the evaluator against pycocotools' own output on
 * the five shared fixtures (tests/golden/cocoeval/caseN: gt.json,
 * results.json, expected.json): all 12 numbers and every per-class AP,
 * AP50, AP75 and GT count to 1e-9, null where a class has no GT; TIDE's
 * numbers on the same cases against tests/golden/tide (an independent
 * numpy transcription of the TIDE toolkit's rules, make_tide.py); and an
 * empty results list giving zeros. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "data/coco_json.h"
#include "eval/coco_eval.h"
#include "tests/tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static const char *srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s && *s ? s : TOP_SRCDIR;
}

static int close9(double a, double b)
{
	return fabs(a - b) <= 1e-9;
}

static void check_tide(int n, const struct eval_result *r)
{
	char path[4096], *buf;
	size_t len;
	cJSON *t, *dap, *cnt;
	int good;

	snprintf(path, sizeof path, "%s/tests/golden/tide/case%d.json", srcdir(), n);
	if (!ok(json_file_read(path, &buf, &len) == 0, "case%d: read TIDE reference", n))
		return;
	t = cJSON_Parse(buf);
	free(buf);
	dap = cJSON_GetObjectItem(t, "dAP");
	cnt = cJSON_GetObjectItem(t, "count");
	ok(close9(r->tide.ap, cJSON_GetObjectItem(t, "AP50")->valuedouble), "case%d: TIDE AP50 %.9f", n, r->tide.ap);
	for (int e = 0; e < EVAL_NERR; e++) {
		good = close9(r->tide.dap[e], cJSON_GetObjectItem(dap, eval_error_names[e])->valuedouble) &&
		       (double)r->tide.count[e] == cJSON_GetObjectItem(cnt, eval_error_names[e])->valuedouble;
		ok(good, "case%d: TIDE %s dAP %.9f (reference %.9f), %zu errors", n, eval_error_names[e], r->tide.dap[e],
			cJSON_GetObjectItem(dap, eval_error_names[e])->valuedouble, r->tide.count[e]);
	}
	ok(close9(r->tide.dap_fp, cJSON_GetObjectItem(t, "FalsePos")->valuedouble) &&
	   close9(r->tide.dap_fn, cJSON_GetObjectItem(t, "FalseNeg")->valuedouble),
		"case%d: TIDE FalsePos %.6f FalseNeg %.6f", n, r->tide.dap_fp, r->tide.dap_fn);
	cJSON_Delete(t);
}

static void check_case(int n)
{
	char gtp[4096], rp[4096], ep[4096], *buf;
	struct eval_gt *gt = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = NULL;
	size_t len;
	cJSON *exp, *st, *pc;
	int bad = 0;

	snprintf(gtp, sizeof gtp, "%s/tests/golden/cocoeval/case%d/gt.json", srcdir(), n);
	snprintf(rp, sizeof rp, "%s/tests/golden/cocoeval/case%d/results.json", srcdir(), n);
	snprintf(ep, sizeof ep, "%s/tests/golden/cocoeval/case%d/expected.json", srcdir(), n);
	if (!ok(eval_gt_read(gtp, &gt, NULL) == 0, "case%d: read gt (%s)", n, det_error_message()) ||
	    !ok(eval_dets_read(rp, gt, &d) == 0, "case%d: read results (%s)", n, det_error_message()) ||
	    !ok(eval_coco_run(gt, d, &r) == 0, "case%d: evaluate", n) ||
	    !ok(json_file_read(ep, &buf, &len) == 0, "case%d: read expected", n))
		goto out;
	exp = cJSON_Parse(buf);
	free(buf);
	st = cJSON_GetObjectItem(exp, "stats");
	for (int i = 0; i < 12; i++) {
		double want = cJSON_GetArrayItem(st, i)->valuedouble;

		if (!ok(close9(r->stats[i], want), "case%d: %s = %.12f (pycocotools %.12f)", n, eval_stat_names[i],
			r->stats[i], want))
			bad++;
	}
	pc = cJSON_GetObjectItem(exp, "per_class");
	ok(cJSON_GetArraySize(pc) == gt->ncats, "case%d: %d classes", n, gt->ncats);
	for (int k = 0; k < gt->ncats; k++) {
		char key[32];
		const cJSON *c;
		const char *f[3] = { "AP", "AP50", "AP75" };
		double got[3] = { r->cls[k].ap, r->cls[k].ap50, r->cls[k].ap75 };
		int good = 1;

		snprintf(key, sizeof key, "%lld", (long long)gt->cat_ids[k]);
		c = cJSON_GetObjectItem(pc, key);
		if (c == NULL) {
			ok(0, "case%d: class %s in expected.json", n, key);
			continue;
		}
		for (int j = 0; j < 3; j++) {
			const cJSON *v = cJSON_GetObjectItem(c, f[j]);

			if (cJSON_IsNull(v))
				good &= isnan(got[j]);
			else
				good &= close9(got[j], v->valuedouble);
		}
		good &= (double)r->cls[k].ngt == cJSON_GetObjectItem(c, "num_gt")->valuedouble;
		ok(good, "case%d: class %s (%s): AP %.6f AP50 %.6f AP75 %.6f, %zu GT", n, key, gt->cat_names[k],
			got[0], got[1], got[2], r->cls[k].ngt);
	}
	cJSON_Delete(exp);
	if (bad)
		eval_summary_print(r, stdout);
	check_tide(n, r);
out:
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(gt);
}

static void check_empty(void)
{
	char gtp[4096];
	struct eval_gt *gt = NULL;
	struct eval_dets *d = NULL;
	struct eval_result *r = NULL;
	int zeros = 1;

	snprintf(gtp, sizeof gtp, "%s/tests/golden/cocoeval/case1/gt.json", srcdir());
	if (!ok(eval_gt_read(gtp, &gt, NULL) == 0, "empty: read gt") ||
	    !ok(eval_dets_read_buffer(" [ ] ", 5, "empty.json", gt, &d) == 0, "empty: an empty results list is valid") ||
	    !ok(eval_coco_run(gt, d, &r) == 0, "empty: evaluate"))
		goto out;
	for (int i = 0; i < 12; i++)
		zeros &= r->stats[i] == 0;
	ok(zeros, "empty: all 12 numbers are 0");
	ok(r->cls[0].ap == 0 && r->cls[0].npr == 0, "empty: per-class AP is 0 with an empty PR curve");
out:
	eval_result_free(r);
	eval_dets_free(d);
	eval_gt_free(gt);
}

int main(void)
{
	for (int n = 1; n <= 5; n++)
		check_case(n);
	check_empty();
	return tap_done();
}
