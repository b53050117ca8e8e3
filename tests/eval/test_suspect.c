/* test_suspect.c: the suspect-label ranking on a hand-built case where
 * each reason and score is known (formulas in src/eval/suspect.h), and the
 * atomic JSON export.
 *
 * Image 1 (classes A=1, B=2, C=3):
 *   g0 A (10,10,40,40)   B .9 and A .2 on it: wrong_class, the margin .9 - .2 = .7
 *                        (margin = 0: .9 * (1 - .2) = .72)
 *   g1 B (100,10,30,30)  nothing near: bad_box, .2 * (1 - 0 / .3) = .2
 *   g2 C (10,100,40,40)  C .9 on it: fine
 *   C .8 at (120,120,40,40), no GT: missing_box .8; A .3 on the same box: the same object, once
 *   B .5 at (100,100,20,20) overlapping g2? no: (100..120) vs (10..50): none -> missing_box .5
 *
 * Calibration and explained evidence (case2, see there; with the product
 * formula, margin = 0, where the calibrated scores stay positive). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/coco_eval.h"
#include "eval/suspect.h"
#include "tests/tap.h"

static const char *gtjson =
	"{\"images\":[{\"id\":7,\"width\":200,\"height\":200}],"
	"\"categories\":[{\"id\":1,\"name\":\"A\"},{\"id\":2,\"name\":\"B\"},{\"id\":3,\"name\":\"C \\\"q\\\"\"}],"
	"\"annotations\":["
	"{\"id\":11,\"image_id\":7,\"category_id\":1,\"bbox\":[10,10,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":12,\"image_id\":7,\"category_id\":2,\"bbox\":[100,10,30,30],\"area\":900,\"iscrowd\":0},"
	"{\"id\":13,\"image_id\":7,\"category_id\":3,\"bbox\":[10,100,40,40],\"area\":1600,\"iscrowd\":0}]}";

static const char *detjson = "["
	"{\"image_id\":7,\"category_id\":2,\"bbox\":[10,10,40,40],\"score\":0.9},"
	"{\"image_id\":7,\"category_id\":1,\"bbox\":[11,10,40,40],\"score\":0.2},"
	"{\"image_id\":7,\"category_id\":3,\"bbox\":[10,100,40,40],\"score\":0.9},"
	"{\"image_id\":7,\"category_id\":3,\"bbox\":[120,120,40,40],\"score\":0.8},"
	"{\"image_id\":7,\"category_id\":1,\"bbox\":[121,120,40,40],\"score\":0.3},"
	"{\"image_id\":7,\"category_id\":2,\"bbox\":[100,100,20,20],\"score\":0.5}]";

/* case2, classes A=1, B=2.
 * Image 1: A1 (0,0,20,20), A2 (40,0,20,20), A3 (80,0,20,20), B1 (0,100,20,20).
 *   A .9 on A1, A .8 on A2, A .6 on A3 (TPs), A .7 at (150,150,20,20) (FP:
 *   a missing box); B .3 on B1 (TP), B .25 on A3 (FP: wrong_class on A3).
 *   Class A by score: .6 T, .7 F, .8 T, .9 T -> PAV steps {.6,.7}: 1/2,
 *   {.8,.9}: 2/2; precision 3/4 -> p_A(.6) = p_A(.7) = (1 + .75)/3,
 *   p_A(.8) = p_A(.9) = (2 + .75)/3. Class B: .25 F, .3 T -> steps 0/1, 1/1;
 *   precision 1/2 -> p_B(.25) = .5/2 = .25, p_B(.3) = 1.5/2 = .75.
 *   Calibrated: missing box (1.75/3) = .58333; A3 wrong_class
 *   p_B(.25) (1 - p_A(.6)) = .25 (1 - 1.75/3) = .10417.
 *   Raw: missing box .7; A3 wrong_class .25 (1 - .6) = .1.
 * Image 2: A4 (100,100,40,40), B3 (110,100,40,40) (IoU .6 with A4): B .9
 *   on B3 (B3's own detection); B .8 at (20,0,40,40) beside A5 (0,0,40,40)
 *   (IoU 1/3): an unlabelled B partly behind A5.
 *   Raw: B .9 is wrong_class evidence on A4 (.9 (1 - 0)); B .8 is no missing
 *   box (IoU 1/3 >= missing_iou .3 with A5).
 *   Explained: B .9 is B3's, not A4's; B .8 touches no B GT and A5 below
 *   wrong_iou: a missing box, .8. */
static const char *gt2 =
	"{\"images\":[{\"id\":1,\"width\":200,\"height\":200},{\"id\":2,\"width\":200,\"height\":200}],"
	"\"categories\":[{\"id\":1,\"name\":\"A\"},{\"id\":2,\"name\":\"B\"}],"
	"\"annotations\":["
	"{\"id\":1,\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,20,20],\"area\":400,\"iscrowd\":0},"
	"{\"id\":2,\"image_id\":1,\"category_id\":1,\"bbox\":[40,0,20,20],\"area\":400,\"iscrowd\":0},"
	"{\"id\":3,\"image_id\":1,\"category_id\":1,\"bbox\":[80,0,20,20],\"area\":400,\"iscrowd\":0},"
	"{\"id\":4,\"image_id\":1,\"category_id\":2,\"bbox\":[0,100,20,20],\"area\":400,\"iscrowd\":0},"
	"{\"id\":5,\"image_id\":2,\"category_id\":1,\"bbox\":[100,100,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":6,\"image_id\":2,\"category_id\":2,\"bbox\":[110,100,40,40],\"area\":1600,\"iscrowd\":0},"
	"{\"id\":7,\"image_id\":2,\"category_id\":1,\"bbox\":[0,0,40,40],\"area\":1600,\"iscrowd\":0}]}";

static const char *dets2 = "["
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[0,0,20,20],\"score\":0.9},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[40,0,20,20],\"score\":0.8},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[80,0,20,20],\"score\":0.6},"
	"{\"image_id\":1,\"category_id\":1,\"bbox\":[150,150,20,20],\"score\":0.7},"
	"{\"image_id\":1,\"category_id\":2,\"bbox\":[0,100,20,20],\"score\":0.3},"
	"{\"image_id\":1,\"category_id\":2,\"bbox\":[80,0,20,20],\"score\":0.25}]";

/* image 2 alone, so that its B .9 does not move class B's calibration */
static const char *dets2b = "["
	"{\"image_id\":2,\"category_id\":2,\"bbox\":[110,100,40,40],\"score\":0.9},"
	"{\"image_id\":2,\"category_id\":2,\"bbox\":[20,0,40,40],\"score\":0.8}]";

static const struct suspect *find(const struct suspect *s, size_t n, int reason, int gt, int det)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].reason == reason && (gt < 0 || s[i].gt == gt) && (det < 0 || s[i].det == det))
			return &s[i];
	return NULL;
}

static void test_calibrated(void)
{
	struct eval_gt *gt = NULL;
	struct eval_dets *d = NULL, *d2 = NULL;
	struct suspect_opts o;
	struct suspect *s = NULL;
	const struct suspect *x;
	size_t n = 0;

	if (eval_gt_read_buffer(gt2, strlen(gt2), "gt2.json", &gt, NULL) < 0 ||
	    eval_dets_read_buffer(dets2, strlen(dets2), "dets2.json", gt, &d) < 0 ||
	    eval_dets_read_buffer(dets2b, strlen(dets2b), "dets2b.json", gt, &d2) < 0) {
		tap_diag("%s", det_error_message());
		ok(0, "read case 2");
		goto out;
	}
	suspect_opts_default(&o);
	ok(o.calibrate == 0 && o.explain == 1 && o.margin == 1, "explained, the margin, not calibrated, by default");
	o.margin = 0;
	o.bad_weight = 0.3;
	o.calibrate = 1;
	ok(eval_suspects(gt, d, &o, &s, &n) == 0, "rank case 2 (calibrated)");
	x = find(s, n, SUSPECT_MISSING_BOX, -1, 3);
	ok(x && fabs(x->score - 1.75 / 3) < 1e-12, "missing box: p_A(.7) = (1 + .75) / 3 (%g)", x ? x->score : -1);
	x = find(s, n, SUSPECT_WRONG_CLASS, 2, 5);
	ok(x && fabs(x->score - 0.25 * (1 - 1.75 / 3)) < 1e-12 && x->suggested == 1,
		"A3 wrong_class: p_B(.25) (1 - p_A(.6)) = .10417 (%g)", x ? x->score : -1);
	ok(n == 5 && s[0].det == 3 && s[2].reason == SUSPECT_BAD_BOX,
		"five suspects (image 2's three boxes have no detection here: bad boxes, .3), the missing box first "
		"(n %zu)", n);
	free(s);
	s = NULL;
	o.calibrate = 0;
	eval_suspects(gt, d, &o, &s, &n);
	x = find(s, n, SUSPECT_MISSING_BOX, -1, 3);
	ok(x && fabs(x->score - 0.7) < 1e-12, "raw: missing box .7 (%g)", x ? x->score : -1);
	x = find(s, n, SUSPECT_WRONG_CLASS, 2, 5);
	ok(x && fabs(x->score - 0.1) < 1e-12, "raw: A3 wrong_class .25 (1 - .6) = .1 (%g)", x ? x->score : -1);
	free(s);
	s = NULL;
	/* the margin: B .25 against A's own .6 on A3 is no evidence (.25 - .6 < 0) */
	o.margin = 1;
	eval_suspects(gt, d, &o, &s, &n);
	ok(find(s, n, SUSPECT_WRONG_CLASS, 2, -1) == NULL && find(s, n, SUSPECT_MISSING_BOX, -1, 3) != NULL,
		"margin: A3 is not suspect (.25 - .6 < 0); the missing box still is");
	o.margin = 0;
	free(s);
	s = NULL;

	/* explained evidence, raw scores */
	o.calibrate = 0;
	o.explain = 0;
	eval_suspects(gt, d2, &o, &s, &n);
	x = find(s, n, SUSPECT_WRONG_CLASS, 4, 0);
	ok(x && fabs(x->score - 0.9) < 1e-12, "unexplained: B3's detection is wrong_class evidence on A4 (%g)",
		x ? x->score : -1);
	ok(find(s, n, SUSPECT_MISSING_BOX, -1, 1) == NULL, "unexplained: the B half behind A5 is no missing box");
	free(s);
	s = NULL;
	o.explain = 1;
	eval_suspects(gt, d2, &o, &s, &n);
	ok(find(s, n, SUSPECT_WRONG_CLASS, 4, -1) == NULL, "explained: A4 is not suspect (B .9 is B3's detection)");
	x = find(s, n, SUSPECT_MISSING_BOX, -1, 1);
	ok(x && fabs(x->score - 0.8) < 1e-12 && x->suggested == 1,
		"explained: the B half behind A5 is a missing box, .8 (%g)", x ? x->score : -1);
out:
	free(s);
	eval_dets_free(d);
	eval_dets_free(d2);
	eval_gt_free(gt);
}

int main(void)
{
	struct eval_gt *gt = NULL;
	struct eval_dets *d = NULL;
	struct suspect_opts o;
	struct suspect *s;
	size_t n;

	if (eval_gt_read_buffer(gtjson, strlen(gtjson), "gt.json", &gt, NULL) < 0 ||
	    eval_dets_read_buffer(detjson, strlen(detjson), "dets.json", gt, &d) < 0) {
		tap_diag("%s", det_error_message());
		ok(0, "read the case");
		return tap_done();
	}
	suspect_opts_default(&o);
	o.calibrate = o.explain = 0; /* the raw formulas first */
	ok(eval_suspects(gt, d, &o, &s, &n) == 0, "rank");
	ok(n == 4, "four suspects (got %zu)", n);
	if (n == 4) {
		ok(s[0].reason == SUSPECT_MISSING_BOX && fabs(s[0].score - 0.8) < 1e-12 && s[0].gt == -1 && s[0].det == 3 &&
			s[0].suggested == 2, "1st: missing box, the C prediction, .8");
		ok(s[1].reason == SUSPECT_WRONG_CLASS && fabs(s[1].score - 0.7) < 1e-12 && s[1].gt == 0 &&
			s[1].suggested == 1 && s[1].cat == 0 && s[1].det == 0 && s[1].iou == 1,
			"2nd: g0 labelled A, the model says B, the margin .9 - .2 = .7 (%g)", s[1].score);
		ok(s[2].reason == SUSPECT_MISSING_BOX && fabs(s[2].score - 0.5) < 1e-12 && s[2].det == 5,
			"3rd: missing box, the B prediction, .5");
		ok(s[3].reason == SUSPECT_BAD_BOX && fabs(s[3].score - 0.2) < 1e-12 && s[3].gt == 1 && s[3].det == -1,
			"4th: g1 never fitted: bad box .2");
	}
	free(s);
	/* the product formula (margin = 0) */
	o.margin = 0;
	eval_suspects(gt, d, &o, &s, &n);
	ok(n == 4 && s[1].reason == SUSPECT_WRONG_CLASS && fabs(s[1].score - 0.72) < 1e-12,
		"margin = 0: g0 wrong_class .9 * (1 - .2) = .72 (%g)", n == 4 ? s[1].score : -1);
	o.margin = 1;
	free(s);

	/* a loss per GT raises a bad box above its geometry */
	{
		double losses[3] = { 0, 0, 4 };

		o.losses = losses;
		eval_suspects(gt, d, &o, &s, &n);
		ok(n == 5 && s[3].reason == SUSPECT_BAD_BOX && s[3].gt == 1 && s[4].reason == SUSPECT_BAD_BOX &&
			s[4].gt == 2 && fabs(s[4].score - 0.2) < 1e-12 && fabs(s[3].score - 0.2) < 1e-12,
			"losses: g2 (highest loss) becomes a bad-box suspect at bad_weight (n %zu)", n);
		o.losses = NULL;
		free(s);
	}
	/* a stricter missing_iou keeps the near-miss away; min_score hides the A .2 */
	{
		o.min_score = 0.25;
		eval_suspects(gt, d, &o, &s, &n);
		ok(n == 4 && s[1].reason == SUSPECT_WRONG_CLASS, "min_score .25: g0 is still wrong_class (n %zu)", n);
		free(s);
		suspect_opts_default(&o);
		o.calibrate = o.explain = 0;
	}

	/* the export: atomic JSON */
	{
		char dir[] = "/tmp/test_suspect.XXXXXX", path[256], tmp[300], buf[4096];
		FILE *f;
		size_t len;

		eval_suspects(gt, d, &o, &s, &n);
		ok(mkdtemp(dir) != NULL, "temp dir");
		snprintf(path, sizeof path, "%s/suspects.json", dir);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		ok(eval_suspects_write_json(gt, s, n, path) == 0, "export");
		ok(access(tmp, F_OK) != 0, "no temp file left");
		f = fopen(path, "r");
		len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		buf[len] = 0;
		if (f)
			fclose(f);
		ok(strstr(buf, "{\"image\": 7, \"box\": [120, 120, 40, 40], \"class\": \"C \\\"q\\\"\", \"reason\": \"missing_box\", "
			"\"score\": 0.8, \"suggested\": \"C \\\"q\\\"\"}") != NULL, "missing box record (class escaped)");
		ok(strstr(buf, "\"class\": \"A\", \"reason\": \"wrong_class\", \"score\": 0.7, \"suggested\": \"B\", \"gt_id\": 11")
			!= NULL, "wrong class record");
		tap_diag("%s", buf);
		snprintf(tmp, sizeof tmp, "%s/nope/x.json", dir);
		ok(eval_suspects_write_json(gt, s, n, tmp) == DET_EIO && strstr(det_error_message(), "nope"),
			"unwritable path named: %s", det_error_message());
		unlink(path);
		rmdir(dir);
		free(s);
	}
	eval_dets_free(d);
	eval_gt_free(gt);
	test_calibrated();
	return tap_done();
}
