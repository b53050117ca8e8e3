/* assign.c: FCOS, ATSS and task-aligned label assignment on plain arrays.
 * Each follows the mmdetection code of its paper step by step (see
 * assign.h); tests/golden/det/gen_assign.py is the PyTorch reference the
 * results are checked against. O(n g) work and memory for n anchors and g
 * ground-truth boxes (O(n g) floats for ATSS and TAL's IoU table). */
#pragma GCC optimize("fp-contract=off")
#include "det/assign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static int check_levels(const char *who, size_t n, const size_t *level_count, int nlevels)
{
	size_t total = 0;

	for (int l = 0; l < nlevels; l++)
		total += level_count[l];
	if (total != n)
		return det_error_set(DET_EINVAL, "%s: the %d levels hold %zu anchors, not %zu",
			who, nlevels, total, n);
	return 0;
}

/* IoU as mmdet's bbox_overlaps (mode "iou", eps 1e-6): I / max(U, eps). */
static float overlap(const float *a, const float *b)
{
	float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
	float h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
	float inter = fmaxf(w, 0.0f) * fmaxf(h, 0.0f);
	float uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;

	return inter / fmaxf(uni, 1e-6f);
}

/* The point (x, y) lies inside box b by more than 0.01 on every side. */
static int centre_inside(float x, float y, const float *b)
{
	float m = fminf(fminf(x - b[0], y - b[1]), fminf(b[2] - x, b[3] - y));

	return m > 0.01f;
}

int det_assign_fcos(const float *points, size_t n, const size_t *level_count, int nlevels,
	const float *stride, const float *range, const float *gt, size_t g, float radius,
	int *assigned)
{
	int rc = check_levels("assign fcos", n, level_count, nlevels);
	if (rc)
		return rc;
	size_t i = 0;

	for (int lv = 0; lv < nlevels; lv++) {
		float lo = range[2 * lv], hi = range[2 * lv + 1], rs = stride[lv] * radius;

		for (size_t k = 0; k < level_count[lv]; k++, i++) {
			float x = points[2 * i], y = points[2 * i + 1];
			float best = INFINITY;
			int arg = -1;

			for (size_t j = 0; j < g; j++) {
				const float *b = gt + 4 * j;
				float l = x - b[0], t = y - b[1], r = b[2] - x, bo = b[3] - y;
				int inside;

				if (radius > 0) {
					float cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
					float x0 = cx - rs > b[0] ? cx - rs : b[0];
					float y0 = cy - rs > b[1] ? cy - rs : b[1];
					float x1 = cx + rs > b[2] ? b[2] : cx + rs;
					float y1 = cy + rs > b[3] ? b[3] : cy + rs;

					inside = fminf(fminf(x - x0, y - y0), fminf(x1 - x, y1 - y)) > 0;
				} else {
					inside = fminf(fminf(l, t), fminf(r, bo)) > 0;
				}
				float reach = fmaxf(fmaxf(l, t), fmaxf(r, bo));
				if (!inside || !(reach >= lo && reach <= hi))
					continue;
				float area = (b[2] - b[0]) * (b[3] - b[1]);
				if (area < best) {
					best = area;
					arg = (int)j;
				}
			}
			assigned[i] = arg;
		}
	}
	return 0;
}

/* Resolves "an anchor positive for several gts": pos (n, g) flags; picks
 * the gt of highest iou (n, g), ties to the lower index. */
static void resolve(const unsigned char *pos, const float *iou, size_t n, size_t g,
	int *assigned)
{
	for (size_t i = 0; i < n; i++) {
		int arg = -1;
		float best = -INFINITY;

		for (size_t j = 0; j < g; j++)
			if (pos[i * g + j] && iou[i * g + j] > best) {
				best = iou[i * g + j];
				arg = (int)j;
			}
		assigned[i] = arg;
	}
}

/* Indices of the k smallest (or largest) of v[lo..hi), ties to the lower
 * index, into out (k <= hi - lo). Insertion into a sorted list: k is small. */
static void select_k(const float *v, size_t stride, size_t lo, size_t hi, int k, int largest,
	size_t *out)
{
	int have = 0;

	for (size_t i = lo; i < hi; i++) {
		float x = v[i * stride];
		int p = have;

		/* strictly better than the entry before it moves up: equal keeps order */
		while (p > 0) {
			float y = v[out[p - 1] * stride];
			int better = largest ? x > y : x < y;

			if (!better)
				break;
			p--;
		}
		if (p >= k)
			continue;
		int last = have < k ? have : k - 1;
		for (int q = last; q > p; q--)
			out[q] = out[q - 1];
		out[p] = i;
		if (have < k)
			have++;
	}
}

static void *work_get(struct det_assign_work *w, int i, size_t bytes);

int det_assign_atss(const float *anchors, size_t n, const size_t *level_count, int nlevels,
	const float *gt, size_t g, int topk, int *assigned, float *iou_out)
{
	struct det_assign_work w = { 0 };
	int rc = det_assign_atss_work(anchors, n, level_count, nlevels, gt, g, topk, assigned, iou_out, &w);

	det_assign_work_free(&w);
	return rc;
}

int det_assign_atss_work(const float *anchors, size_t n, const size_t *level_count, int nlevels,
	const float *gt, size_t g, int topk, int *assigned, float *iou_out, struct det_assign_work *w)
{
	int rc = check_levels("assign atss", n, level_count, nlevels);
	if (rc)
		return rc;
	if (topk < 1)
		return det_error_set(DET_EINVAL, "assign atss: topk must be >= 1, got %d", topk);
	float *iou = work_get(w, 0, (n * g + 1) * sizeof(*iou));
	float *dist = work_get(w, 1, (n + 1) * sizeof(*dist));
	unsigned char *pos = work_get(w, 2, n * g + 1);
	size_t *cand = work_get(w, 3, ((size_t)topk * (size_t)nlevels + 1) * sizeof(*cand));

	if (!iou || !dist || !pos || !cand)
		return det_error_set(DET_ENOMEM, "assign atss: no memory for %zu anchors x %zu boxes", n, g);
	memset(pos, 0, n * g + 1);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g; j++)
			iou[i * g + j] = overlap(anchors + 4 * i, gt + 4 * j);
	for (size_t j = 0; j < g; j++) {
		const float *b = gt + 4 * j;
		float gx = (b[0] + b[2]) / 2, gy = (b[1] + b[3]) / 2;
		size_t nc = 0, start = 0;

		for (size_t i = 0; i < n; i++) {
			float ax = (anchors[4 * i] + anchors[4 * i + 2]) / 2;
			float ay = (anchors[4 * i + 1] + anchors[4 * i + 3]) / 2;

			dist[i] = sqrtf((ax - gx) * (ax - gx) + (ay - gy) * (ay - gy));
		}
		for (int lv = 0; lv < nlevels; lv++) {
			size_t cnt = level_count[lv];
			int k = (size_t)topk < cnt ? topk : (int)cnt;

			select_k(dist, 1, start, start + cnt, k, 0, cand + nc);
			nc += (size_t)k;
			start += cnt;
		}
		/* threshold: mean + unbiased std of the candidates' IoUs (NaN for
		 * one candidate, as torch.std, and then nothing is positive) */
		double sum = 0, sq = 0;
		for (size_t c = 0; c < nc; c++)
			sum += iou[cand[c] * g + j];
		double mean = nc ? sum / (double)nc : 0;
		for (size_t c = 0; c < nc; c++) {
			double d = iou[cand[c] * g + j] - mean;

			sq += d * d;
		}
		float thr = (float)(mean + (nc > 1 ? sqrt(sq / (double)(nc - 1)) : NAN));
		for (size_t c = 0; c < nc; c++) {
			size_t i = cand[c];
			float ax = (anchors[4 * i] + anchors[4 * i + 2]) / 2;
			float ay = (anchors[4 * i + 1] + anchors[4 * i + 3]) / 2;

			if (iou[i * g + j] >= thr && centre_inside(ax, ay, b))
				pos[i * g + j] = 1;
		}
	}
	resolve(pos, iou, n, g, assigned);
	if (iou_out)
		for (size_t i = 0; i < n; i++)
			iou_out[i] = assigned[i] >= 0 ? iou[i * g + (size_t)assigned[i]] : 0.0f;
	return 0;
}

void det_assign_work_free(struct det_assign_work *w)
{
	for (int i = 0; i < 4; i++)
		free(w->p[i]);
	memset(w, 0, sizeof(*w));
}

/* Slot i of w with at least bytes, or NULL (the old contents are not kept). */
static void *work_get(struct det_assign_work *w, int i, size_t bytes)
{
	if (bytes > w->cap[i]) {
		free(w->p[i]);
		w->cap[i] = 0;
		if (!(w->p[i] = malloc(bytes)))
			return NULL;
		w->cap[i] = bytes;
	}
	return w->p[i];
}

int det_assign_tal(const float *scores, size_t ncls, const float *pred_boxes,
	const float *points, size_t n, const float *gt, const int *gt_labels, size_t g,
	int topk, float alpha, float beta, int *assigned, float *metric_out)
{
	struct det_assign_work w = { 0 };
	int rc = det_assign_tal_work(scores, ncls, pred_boxes, points, n, gt, gt_labels, g, topk, alpha, beta,
		assigned, metric_out, &w);

	det_assign_work_free(&w);
	return rc;
}

int det_assign_tal_work(const float *scores, size_t ncls, const float *pred_boxes,
	const float *points, size_t n, const float *gt, const int *gt_labels, size_t g,
	int topk, float alpha, float beta, int *assigned, float *metric_out, struct det_assign_work *w)
{
	if (topk < 1)
		return det_error_set(DET_EINVAL, "assign tal: topk must be >= 1, got %d", topk);
	for (size_t j = 0; j < g; j++)
		if (gt_labels[j] < 0 || (size_t)gt_labels[j] >= ncls)
			return det_error_set(DET_EINVAL, "assign tal: gt %zu has class %d, outside 0..%zu",
				j, gt_labels[j], ncls - 1);
	float *iou = work_get(w, 0, (n * g + 1) * sizeof(*iou));
	float *met = work_get(w, 1, (n * g + 1) * sizeof(*met));
	unsigned char *pos = work_get(w, 2, n * g + 1);
	int k = (size_t)topk < n ? topk : (int)n;
	size_t *cand = work_get(w, 3, ((size_t)k + 1) * sizeof(*cand));

	if (!iou || !met || !pos || !cand)
		return det_error_set(DET_ENOMEM, "assign tal: no memory for %zu anchors x %zu boxes", n, g);
	memset(pos, 0, n * g + 1);
	/* t = s^alpha u^beta, as mmdet: bbox_scores ** alpha * overlaps ** beta */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g; j++) {
			float u = overlap(pred_boxes + 4 * i, gt + 4 * j);
			float s = scores[i * ncls + (size_t)gt_labels[j]];

			iou[i * g + j] = u;
			met[i * g + j] = powf(s, alpha) * powf(u, beta);
		}
	for (size_t j = 0; j < g; j++) {
		select_k(met + j, g, 0, n, k, 1, cand);
		for (int c = 0; c < k; c++) {
			size_t i = cand[c];

			if (met[i * g + j] > 0 && centre_inside(points[2 * i], points[2 * i + 1], gt + 4 * j))
				pos[i * g + j] = 1;
		}
	}
	resolve(pos, iou, n, g, assigned);
	if (metric_out)
		for (size_t i = 0; i < n; i++)
			metric_out[i] = assigned[i] >= 0 ? met[i * g + (size_t)assigned[i]] : 0.0f;
	return 0;
}
