/* test_assign.c: FCOS, ATSS and task-aligned assignment against the PyTorch
 * reference (tests/golden/det/gen_assign.py, mmdetection's code) on fixed
 * inputs: 336 anchor points on three levels, 24 boxes (two overlapping). */
#include <stdlib.h>

#include "core/error.h"
#include "det/assign.h"
#include "tests/tap.h"
#include "tests/det/fixture.h"

/* Same assignment for every anchor; *npos counts the positives. */
static int same_assign(const int *a, const float *ref, size_t n, size_t *npos)
{
	int same = 1;

	*npos = 0;
	for (size_t i = 0; i < n; i++) {
		if (a[i] != (int)ref[i]) {
			if (same)
				tap_diag("anchor %zu: got %d, reference %d", i, a[i], (int)ref[i]);
			same = 0;
		}
		*npos += ref[i] >= 0;
	}
	return same;
}

int main(void)
{
	struct fixture *fx = fx_load("assign.txt");
	size_t n, g, npos = 0, nl;

	if (!ok(fx != NULL, "fixture assign.txt loads"))
		return tap_done();
	const float *points = fx_get(fx, "points", &n), *gt = fx_get(fx, "gt", &g);
	const float *cf = fx_get(fx, "counts", &nl), *sf = fx_get(fx, "strides", NULL);
	const float *lf = fx_get(fx, "labels", NULL);
	size_t counts[8];
	int labels[64];
	int *a = malloc(n * sizeof(int));
	float *v = malloc(n * sizeof(float));

	n /= 2, g /= 4;
	for (size_t l = 0; l < nl; l++)
		counts[l] = (size_t)cf[l];
	for (size_t j = 0; j < g; j++)
		labels[j] = (int)lf[j];

	/* FCOS */
	const float *ranges = fx_get(fx, "fcos.ranges", NULL);
	int same = det_assign_fcos(points, n, counts, (int)nl, sf, ranges, gt, g, 1.5f, a) == 0 &&
		same_assign(a, fx_get(fx, "fcos.r15", NULL), n, &npos);
	ok(same, "FCOS with centre sampling (radius 1.5) and scale ranges: same as the reference (%zu positives)",
		npos);
	same = det_assign_fcos(points, n, counts, (int)nl, sf, ranges, gt, g, 0.0f, a) == 0 &&
		same_assign(a, fx_get(fx, "fcos.r0", NULL), n, &npos);
	ok(same, "FCOS without centre sampling: same as the reference (%zu positives)", npos);

	/* ATSS */
	const char *atss[2] = { "atss", "atss2" };
	char name[64];
	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "%s.anchors", atss[k]);
		const float *anchors = fx_get(fx, name, NULL);
		snprintf(name, sizeof(name), "%s.assigned", atss[k]);
		const float *ref = fx_get(fx, name, NULL);
		snprintf(name, sizeof(name), "%s.iou", atss[k]);
		const float *riou = fx_get(fx, name, NULL);
		int rc = det_assign_atss(anchors, n, counts, (int)nl, gt, g, 9, a, v);

		same = rc == 0 && same_assign(a, ref, n, &npos);
		ok(same, "ATSS (%s anchors, top-9 per level): same "
			"as the reference (%zu positives)", k ? "4x stride" : "8x stride", npos);
		ok(fx_worst(v, riou, n, 1e-5, 1e-6) <= 1, "ATSS: IoU with the assigned box matches");
	}

	/* task-aligned */
	const float *scores = fx_get(fx, "tal.scores", NULL), *pred = fx_get(fx, "tal.pred", NULL);
	struct { const char *name; int topk; float alpha, beta; } tal[2] = {
		{ "tal", 13, 1, 6 }, { "tal2", 5, 0.5f, 2 },
	};
	for (int k = 0; k < 2; k++) {
		int rc = det_assign_tal(scores, 5, pred, points, n, gt, labels, g, tal[k].topk,
			tal[k].alpha, tal[k].beta, a, v);

		snprintf(name, sizeof(name), "%s.assigned", tal[k].name);
		same = rc == 0 && same_assign(a, fx_get(fx, name, NULL), n, &npos);
		ok(same, "TAL (topk %d, alpha %g, beta %g): same as the reference (%zu positives)",
			tal[k].topk, (double)tal[k].alpha, (double)tal[k].beta, npos);
		snprintf(name, sizeof(name), "%s.metric", tal[k].name);
		ok(fx_worst(v, fx_get(fx, name, NULL), n, 1e-4, 1e-9) <= 1,
			"TAL: alignment metric s^a u^b of the assigned box matches");
	}

	/* edge cases */
	{
		float one[4] = { 0, 0, 10, 10 };

		ok(det_assign_fcos(points, n, counts, (int)nl, sf, ranges, gt, 0, 1.5f, a) == 0 &&
			a[0] == -1 && a[n - 1] == -1, "no boxes: everything is background");
		ok(det_assign_atss(points, n, counts, (int)nl, one, 0, 9, a, v) == 0 && a[7] == -1,
			"ATSS with no boxes: background");
		size_t bad[3] = { 1, 2, 3 };
		ok(det_assign_atss(points, n, bad, 3, gt, g, 9, a, v) == DET_EINVAL,
			"level counts that do not add up are an error");
		int badl[64] = { 0, 0, 9 };
		ok(det_assign_tal(scores, 5, pred, points, n, gt, badl, g, 13, 1, 6, a, v) == DET_EINVAL,
			"TAL: a label beyond the classes is an error");
	}
	free(a);
	free(v);
	fx_free(fx);
	return tap_done();
}
