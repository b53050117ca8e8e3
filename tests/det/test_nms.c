/* test_nms.c: greedy NMS and batched NMS against torchvision fixtures (ties,
 * duplicates, zero-area boxes), soft-NMS and DIoU-NMS against the Python
 * references in gen_det.py, options and edge cases. */
#include <math.h>
#include <stdlib.h>

#include "det/nms.h"
#include "tests/tap.h"
#include "tests/det/fixture.h"

/* Same kept indices in the same order. For batched_nms over more than 1000
 * boxes torchvision orders ties by an unstable sort; there equal-score runs
 * are compared as sets (ties_as_sets). */
static int same_keep(const int *keep, long nk, const float *ref, size_t nref,
	const float *scores, int ties_as_sets)
{
	if (nk != (long)nref)
		return 0;
	for (long i = 0; i < nk; i++) {
		if (keep[i] == (int)ref[i])
			continue;
		if (!ties_as_sets || scores[keep[i]] != scores[(int)ref[i]])
			return 0;
		/* find keep[i] among ref's run of equal scores */
		int found = 0;
		for (long j = 0; j < nk; j++)
			if ((int)ref[j] == keep[i] && scores[(int)ref[j]] == scores[keep[i]])
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

int main(void)
{
	struct fixture *fx = fx_load("det.txt");
	struct det_nms_opts o;
	char name[64];

	if (!ok(fx != NULL, "fixture det.txt loads"))
		return tap_done();
	for (int c = 0; c < 2; c++) {
		size_t n;
		snprintf(name, sizeof(name), "nms%d.boxes", c);
		const float *b = fx_get(fx, name, &n);
		snprintf(name, sizeof(name), "nms%d.scores", c);
		const float *s = fx_get(fx, name, NULL);
		snprintf(name, sizeof(name), "nms%d.classes", c);
		const float *cf = fx_get(fx, name, NULL);
		int *cls = malloc(n / 4 * sizeof(int)), *keep = malloc(n / 4 * sizeof(int));

		n /= 4;
		for (size_t i = 0; i < n; i++)
			cls[i] = (int)cf[i];
		for (int t = 3; t <= 7; t += 2) {
			size_t nref;
			det_nms_opts_init(&o);
			o.iou_threshold = (float)t / 10;
			snprintf(name, sizeof(name), "nms%d.keep%d", c, t);
			const float *ref = fx_get(fx, name, &nref);
			long nk = det_nms_run(&o, b, s, NULL, n, keep, NULL);
			ok(same_keep(keep, nk, ref, nref, s, 0),
				"nms, %zu boxes (ties, duplicates, zero-area), iou %.1f: same %zu indices, same order",
				n, o.iou_threshold, nref);
			snprintf(name, sizeof(name), "nms%d.bkeep%d", c, t);
			ref = fx_get(fx, name, &nref);
			nk = det_nms_run(&o, b, s, cls, n, keep, NULL);
			ok(same_keep(keep, nk, ref, nref, s, n > 1000),
				"batched_nms, %zu boxes, 7 classes, iou %.1f: same %zu indices%s", n,
				o.iou_threshold, nref, n > 1000 ? " (tie runs as sets)" : ", same order");
		}
		free(cls);
		free(keep);
	}
	{
		/* four identical boxes and one apart, all scores equal: torchvision keeps 0, 4 */
		float b[20] = { 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 20, 20, 30, 30 };
		float s[5] = { .5f, .5f, .5f, .5f, .5f };
		int keep[5];
		size_t nref;
		const float *ref = fx_get(fx, "nmsties.keep", &nref);

		det_nms_opts_init(&o);
		long nk = det_nms_run(&o, b, s, NULL, 5, keep, NULL);
		ok(same_keep(keep, nk, ref, nref, s, 0), "all scores equal: keeps the lowest index (0, 4)");
		float z[8] = { 5, 5, 5, 5, 5, 5, 5, 5 };
		nk = det_nms_run(&o, z, s, NULL, 2, keep, NULL);
		ok(nk == 2, "two identical zero-area boxes: IoU NaN suppresses nothing (kept %ld)", nk);
		nk = det_nms_run(&o, b, s, NULL, 0, keep, NULL);
		ok(nk == 0, "no boxes: keeps none");
		o.max_dets = 1;
		nk = det_nms_run(&o, b, s, NULL, 5, keep, NULL);
		ok(nk == 1 && keep[0] == 0, "max_dets caps the result");
		{
			/* class ids larger than the box count: the per-class table must
			 * not be written into the sort's n + 1 scratch (ASan found it) */
			float two[8] = { 0, 0, 10, 10, 0, 0, 10, 10 };
			float sc[2] = { 0.9f, 0.8f };
			int big[2] = { 70, 9 };

			det_nms_opts_init(&o);
			nk = det_nms_run(&o, two, sc, big, 2, keep, NULL);
			ok(nk == 2 && keep[0] == 0 && keep[1] == 1,
				"class ids beyond the box count: both kept, no overflow (kept %ld)", nk);
		}
		det_nms_opts_init(&o);
		float s2[5] = { .9f, .1f, .2f, .05f, .3f };
		o.score_threshold = 0.15f;
		nk = det_nms_run(&o, b, s2, NULL, 5, keep, NULL);
		ok(nk == 2 && keep[0] == 0 && keep[1] == 4, "score_threshold drops low scores first");
		int bad[5] = { 0, -1, 0, 0, 0 };
		ok(det_nms_run(&o, b, s2, bad, 5, keep, NULL) < 0, "negative class is an error");
	}
	/* soft-NMS and DIoU-NMS vs the reference */
	{
		size_t n, nref;
		const float *b = fx_get(fx, "soft.boxes", &n), *s = fx_get(fx, "soft.scores", NULL);
		int *keep = malloc(n / 4 * sizeof(int));
		float *ks = malloc(n / 4 * sizeof(float));
		const char *names[2] = { "soft.linear", "soft.gauss" };

		n /= 4;
		for (int k = 0; k < 2; k++) {
			det_nms_opts_init(&o);
			o.method = k ? DET_NMS_SOFT_GAUSSIAN : DET_NMS_SOFT_LINEAR;
			o.iou_threshold = 0.3f, o.sigma = 0.5f, o.score_threshold = 0.05f;
			snprintf(name, sizeof(name), "%s.keep", names[k]);
			const float *ref = fx_get(fx, name, &nref);
			snprintf(name, sizeof(name), "%s.scores", names[k]);
			const float *rs = fx_get(fx, name, NULL);
			long nk = det_nms_run(&o, b, s, NULL, n, keep, ks);
			ok(same_keep(keep, nk, ref, nref, s, 0) && fx_worst(ks, rs, nref, 1e-5, 1e-6) <= 1,
				"%s: same %zu kept indices and decayed scores as the reference", names[k], nref);
		}
		det_nms_opts_init(&o);
		o.method = DET_NMS_DIOU;
		o.iou_threshold = 0.4f;
		const float *ref = fx_get(fx, "diounms.keep", &nref);
		long nk = det_nms_run(&o, b, s, NULL, n, keep, NULL);
		ok(same_keep(keep, nk, ref, nref, s, 0), "DIoU-NMS: same %zu indices as the reference", nref);
		free(keep);
		free(ks);
	}
	/* top-k */
	{
		float sc[6] = { 0.1f, 0.9f, 0.5f, 0.9f, 0.05f, 0.7f };
		int idx[6];
		long k = det_nms_topk(sc, 3, 2, 0.08f, 3, idx);
		ok(k == 3 && idx[0] == 1 && idx[1] == 3 && idx[2] == 5, "topk: highest first, ties by index");
		k = det_nms_topk(sc, 3, 2, 0.08f, 10, idx);
		ok(k == 5, "topk: threshold drops one of six");
	}
	/* a dense head's post-processing: per-level top-k, threshold, NMS, cap */
	{
		size_t nc, ns, nref;
		const float *cf = fx_get(fx, "post.counts", &nc), *sc = fx_get(fx, "post.scores", &ns);
		const float *bx = fx_get(fx, "post.boxes", NULL);
		const float *ri = fx_get(fx, "post.index", &nref), *rcl = fx_get(fx, "post.class", NULL);
		const float *rs = fx_get(fx, "post.score", NULL);
		size_t counts[3] = { (size_t)cf[0], (size_t)cf[1], (size_t)cf[2] };
		int idx[200], cls[200];
		float score[200];

		det_nms_opts_init(&o);
		o.iou_threshold = 0.5f, o.score_threshold = 0.05f, o.max_dets = 40;
		long k = det_nms_multilevel(&o, sc, bx, 6, counts, 3, 50, 200, idx, cls, score);
		int same = k == (long)nref;
		for (long i = 0; same && i < k; i++)
			same = idx[i] == (int)ri[i] && cls[i] == (int)rcl[i] && score[i] == rs[i];
		ok(same, "multi-level post-processing (3 levels, 6 classes, nms_pre 50, threshold 0.05, "
			"max 40) = mmdet's filter_scores_and_topk + torchvision batched_nms: %ld detections", k);
		k = det_nms_multilevel(&o, sc, bx, 6, counts, 3, 50, 5, idx, cls, score);
		ok(k == 5 && idx[0] == (int)ri[0], "post-processing honours the output capacity");
		o.score_threshold = 2.0f;
		k = det_nms_multilevel(&o, sc, bx, 6, counts, 3, 50, 200, idx, cls, score);
		ok(k == 0, "no score above the threshold: no detections");
	}
	ok(det_nms_method_parse("soft_gaussian") == DET_NMS_SOFT_GAUSSIAN, "method names parse");
	fx_free(fx);
	return tap_done();
}
