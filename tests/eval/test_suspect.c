/* test_suspect.c: the suspect-label ranking on a hand-built case where
 * each reason and score is known (formulas in src/eval/suspect.h), and the
 * atomic JSON export.
 *
 * Image 1 (classes A=1, B=2, C=3):
 *   g0 A (10,10,40,40)   B .9 and A .2 on it: wrong_class, .9 * (1 - .2) = .72
 *   g1 B (100,10,30,30)  nothing near: bad_box, .3 * (1 - 0 / .3) = .3
 *   g2 C (10,100,40,40)  C .9 on it: fine
 *   C .8 at (120,120,40,40), no GT: missing_box .8; A .3 on the same box: the same object, once
 *   B .5 at (100,100,20,20) overlapping g2? no: (100..120) vs (10..50): none -> missing_box .5 */
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
	ok(eval_suspects(gt, d, &o, &s, &n) == 0, "rank");
	ok(n == 4, "four suspects (got %zu)", n);
	if (n == 4) {
		ok(s[0].reason == SUSPECT_MISSING_BOX && fabs(s[0].score - 0.8) < 1e-12 && s[0].gt == -1 && s[0].det == 3 &&
			s[0].suggested == 2, "1st: missing box, the C prediction, .8");
		ok(s[1].reason == SUSPECT_WRONG_CLASS && fabs(s[1].score - 0.72) < 1e-12 && s[1].gt == 0 &&
			s[1].suggested == 1 && s[1].cat == 0 && s[1].det == 0 && s[1].iou == 1,
			"2nd: g0 labelled A, the model says B, .9 * (1 - .2) = .72 (%g)", s[1].score);
		ok(s[2].reason == SUSPECT_MISSING_BOX && fabs(s[2].score - 0.5) < 1e-12 && s[2].det == 5,
			"3rd: missing box, the B prediction, .5");
		ok(s[3].reason == SUSPECT_BAD_BOX && fabs(s[3].score - 0.3) < 1e-12 && s[3].gt == 1 && s[3].det == -1,
			"4th: g1 never fitted: bad box .3");
	}
	free(s);

	/* a loss per GT raises a bad box above its geometry */
	{
		double losses[3] = { 0, 0, 4 };

		o.losses = losses;
		eval_suspects(gt, d, &o, &s, &n);
		ok(n == 5 && s[3].reason == SUSPECT_BAD_BOX && s[3].gt == 1 && s[4].reason == SUSPECT_BAD_BOX &&
			s[4].gt == 2 && fabs(s[4].score - 0.3) < 1e-12 && fabs(s[3].score - 0.3) < 1e-12,
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
		ok(strstr(buf, "\"class\": \"A\", \"reason\": \"wrong_class\", \"score\": 0.72, \"suggested\": \"B\", \"gt_id\": 11")
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
	return tap_done();
}
