/* nms.c: greedy, soft and DIoU non-maximum suppression and top-k candidate
 * selection. Boxes are sorted once (a radix sort on (score, index) keys),
 * split into per-class buckets that keep that order, copied into
 * structure-of-arrays form, and suppressed bucket by bucket. Fused
 * multiply-adds are off so the IoU matches torchvision's float32 rounding. */
#pragma GCC optimize("fp-contract=off")
#include "det/nms.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "det/box.h"

static const char *const method_names[] = { "greedy", "soft_linear", "soft_gaussian", "diou" };

void det_nms_opts_init(struct det_nms_opts *o)
{
	o->method = DET_NMS_GREEDY;
	o->iou_threshold = 0.5f;
	o->sigma = 0.5f;
	o->score_threshold = -INFINITY;
	o->max_dets = 0;
}

int det_nms_method_parse(const char *name)
{
	for (int m = 0; m < 4; m++)
		if (strcmp(name, method_names[m]) == 0)
			return m;
	return -1;
}

const char *det_nms_method_name(enum det_nms_method m)
{
	return (unsigned)m < 4 ? method_names[m] : "?";
}

/* A 32-bit key that sorts ascending as the score sorts descending
 * (-0 and +0 equal, as torch compares them). */
static uint32_t desc_key(float s)
{
	uint32_t u;

	if (s == 0)
		s = 0;
	memcpy(&u, &s, sizeof(u));
	u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
	return ~u;
}

/* LSD radix sort of 64-bit keys, 8 bits a pass; the eight histograms come
 * from one read, and a digit that is the same in every key is skipped. */
static void radix_sort(uint64_t *key, uint64_t *tmp, size_t n)
{
	size_t count[8][256];

	if (n < 2)
		return;
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 8; d++)
			count[d][(key[i] >> (8 * d)) & 255]++;
	for (int d = 0; d < 8; d++) {
		size_t *c = count[d], sum = 0;
		int shift = 8 * d;

		if (c[(key[0] >> shift) & 255] == n)
			continue;
		for (int v = 0; v < 256; v++) {
			size_t k = c[v];

			c[v] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(key[i] >> shift) & 255]++] = key[i];
		memcpy(key, tmp, n * sizeof(*key));
	}
}

/* Boxes of one class in score order, structure of arrays. */
struct soa {
	float *x0, *y0, *x1, *y1, *area;
	double *score;   /* soft-NMS's decayed scores */
	int *orig;       /* index into the caller's arrays */
	char *alive;
};

static void box_of(const struct soa *s, size_t i, float *b)
{
	b[0] = s->x0[i], b[1] = s->y0[i], b[2] = s->x1[i], b[3] = s->y1[i];
}

/* Greedy or DIoU suppression on [lo, hi): alive[j] = 0 for suppressed j.
 * Greedy follows torchvision's nms_kernel.cpp operation for operation,
 * std::max(a, b) being (a < b ? b : a) and std::min(a, b) (b < a ? b : a):
 *   w = max(0, min(x1i, x1j) - max(x0i, x0j)), h likewise, I = w h,
 *   IoU = I / (area_i + area_j - I), suppress j when IoU > threshold.
 * The row for a kept i is computed for every later j (suppressed or not:
 * suppressing twice changes nothing), so the loop vectorises. */
static void greedy_bucket(const struct det_nms_opts *o, struct soa *s, size_t lo, size_t hi)
{
	const float th = o->iou_threshold;
	const float *x0 = s->x0, *y0 = s->y0, *x1 = s->x1, *y1 = s->y1, *area = s->area;
	unsigned char *alive = (unsigned char *)s->alive;

	for (size_t i = lo; i < hi; i++) {
		if (!alive[i])
			continue;
		if (o->method == DET_NMS_DIOU) {
			float bi[4], bj[4];

			box_of(s, i, bi);
			for (size_t j = i + 1; j < hi; j++) {
				if (!alive[j])
					continue;
				box_of(s, j, bj);
				if (det_box_iou_one(DET_IOU_DIOU, bi, bj, DET_BOX_EPS) > th)
					alive[j] = 0;
			}
			continue;
		}
		const float ix0 = x0[i], iy0 = y0[i], ix1 = x1[i], iy1 = y1[i], ia = area[i];

		#pragma omp simd
		for (size_t j = i + 1; j < hi; j++) {
			float xx1 = ix0 < x0[j] ? x0[j] : ix0, yy1 = iy0 < y0[j] ? y0[j] : iy0;
			float xx2 = x1[j] < ix1 ? x1[j] : ix1, yy2 = y1[j] < iy1 ? y1[j] : iy1;
			float w = xx2 - xx1, h = yy2 - yy1;

			w = 0.0f < w ? w : 0.0f;
			h = 0.0f < h ? h : 0.0f;
			float inter = w * h;
			float ov = inter / (ia + area[j] - inter);
			alive[j] = ov > th ? 0 : alive[j];
		}
	}
}

/* IoU in double from the float boxes (the soft-NMS reference's precision). */
static double iou_double(const struct soa *s, size_t i, size_t j)
{
	double w = fmin(s->x1[i], s->x1[j]) - fmax(s->x0[i], s->x0[j]);
	double h = fmin(s->y1[i], s->y1[j]) - fmax(s->y0[i], s->y0[j]);
	double ai = ((double)s->x1[i] - s->x0[i]) * ((double)s->y1[i] - s->y0[i]);
	double aj = ((double)s->x1[j] - s->x0[j]) * ((double)s->y1[j] - s->y0[j]);
	double inter = (w > 0 ? w : 0) * (h > 0 ? h : 0);

	return inter / (ai + aj - inter);
}

/* Soft-NMS (Bodla et al. 2017) on [lo, hi): repeatedly keep the highest
 * remaining score (ties: lower index), decay the rest by f(IoU), drop those
 * that fall below the score threshold. Marks alive[] and leaves final
 * scores in score[]. O(m^2) for a bucket of m boxes. */
static void soft_bucket(const struct det_nms_opts *o, struct soa *s, size_t lo, size_t hi)
{
	char *done = s->alive; /* reused: 1 = still a candidate, 2 = kept */
	const double thr = o->score_threshold;

	for (size_t i = lo; i < hi; i++)
		done[i] = 1;
	for (;;) {
		size_t best = hi;

		for (size_t j = lo; j < hi; j++)
			if (done[j] == 1 && (best == hi || s->score[j] > s->score[best] ||
			    (s->score[j] == s->score[best] && s->orig[j] < s->orig[best])))
				best = j;
		if (best == hi || !(s->score[best] >= thr))
			break;
		done[best] = 2;
		for (size_t j = lo; j < hi; j++) {
			if (done[j] != 1)
				continue;
			double ov = iou_double(s, best, j), f;

			if (o->method == DET_NMS_SOFT_LINEAR)
				f = ov > o->iou_threshold ? 1 - ov : 1;
			else
				f = exp(-ov * ov / o->sigma);
			s->score[j] *= f;
			if (!(s->score[j] >= thr))
				done[j] = 0;
		}
	}
	for (size_t i = lo; i < hi; i++)
		done[i] = done[i] == 2;
}

long det_nms_run(const struct det_nms_opts *o, const float *boxes, const float *scores,
	const int *classes, size_t n, int *keep, float *out_scores)
{
	if ((unsigned)o->method > DET_NMS_DIOU)
		return det_error_set(DET_EINVAL, "nms: unknown method %d", (int)o->method);
	if (o->method == DET_NMS_SOFT_GAUSSIAN && !(o->sigma > 0))
		return det_error_set(DET_EINVAL, "nms: soft_gaussian needs sigma > 0, got %g",
			(double)o->sigma);
	if (n > INT32_MAX)
		return det_error_set(DET_EINVAL, "nms: %zu boxes is more than 2^31", n);
	int ncls = 1;
	if (classes) {
		for (size_t i = 0; i < n; i++) {
			if (classes[i] < 0)
				return det_error_set(DET_EINVAL, "nms: box %zu has class %d < 0", i, classes[i]);
			if (classes[i] >= ncls)
				ncls = classes[i] + 1;
		}
	}
	int soft = o->method == DET_NMS_SOFT_LINEAR || o->method == DET_NMS_SOFT_GAUSSIAN;
	uint64_t *key = malloc(2 * (n + 1) * sizeof(*key));
	size_t *start = calloc((size_t)ncls + 1, sizeof(*start));
	float *f = malloc(5 * (n + 1) * sizeof(*f));
	int *orig = malloc((n + 1) * sizeof(*orig));
	char *alive = malloc(n + 1);
	double *sc = soft ? malloc((n + 1) * sizeof(*sc)) : NULL;
	long nkeep = 0;

	if (!key || !start || !f || !orig || !alive || (soft && !sc)) {
		nkeep = det_error_set(DET_ENOMEM, "nms: no memory for %zu boxes", n);
		goto out;
	}
	/* 1. candidates above the threshold, sorted by (score desc, index asc) */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (scores[i] > o->score_threshold)
			key[m++] = (uint64_t)desc_key(scores[i]) << 32 | (uint32_t)i;
	radix_sort(key, key + n + 1, m);
	/* 2. stable split into class buckets: start[c] .. start[c+1] */
	for (size_t k = 0; k < m; k++)
		start[classes ? classes[(uint32_t)key[k]] + 1 : 1]++;
	for (int c = 0; c < ncls; c++)
		start[c + 1] += start[c];
	struct soa s = {
		.x0 = f, .y0 = f + (n + 1), .x1 = f + 2 * (n + 1), .y1 = f + 3 * (n + 1),
		.area = f + 4 * (n + 1), .score = sc, .orig = orig, .alive = alive,
	};
	{
		size_t *fill = (size_t *)(key + n + 1); /* the sort's scratch, free now */
		if ((size_t)ncls <= n + 1)
			memcpy(fill, start, (size_t)ncls * sizeof(*fill));
		else {
			fill = malloc((size_t)ncls * sizeof(*fill));
			if (fill == NULL) {
				nkeep = det_error_set(DET_ENOMEM, "nms: no memory for %d classes", ncls);
				goto out;
			}
			memcpy(fill, start, (size_t)ncls * sizeof(*fill));
		}
		for (size_t k = 0; k < m; k++) {
			uint32_t i = (uint32_t)key[k];
			size_t p = fill[classes ? classes[i] : 0]++;
			const float *b = boxes + 4 * (size_t)i;

			s.x0[p] = b[0], s.y0[p] = b[1], s.x1[p] = b[2], s.y1[p] = b[3];
			s.area[p] = (b[2] - b[0]) * (b[3] - b[1]);
			s.orig[p] = (int)i;
			s.alive[p] = 1;
			if (soft)
				s.score[p] = scores[i];
		}
		if ((size_t)ncls > n + 1)
			free(fill);
	}
	/* 3. suppression, one class at a time. Threads only pay for very large
	 * buckets: bench/nms_bench runs 10,000 boxes in 80 classes in ~0.7 ms
	 * on one thread, and with the classes spread over two threads it never
	 * measured faster (80 or 2 classes, 2 shared cores), so the loop goes
	 * parallel only past ~2e8 pair tests (two classes of 20,000 boxes). */
	double work = 0;
	for (int c = 0; c < ncls; c++)
		work += 0.5 * (double)(start[c + 1] - start[c]) * (double)(start[c + 1] - start[c]);
	if (soft)
		work *= 4; /* soft-NMS rescans its bucket for every kept box */
	#pragma omp parallel for schedule(dynamic, 1) if (ncls > 1 && work > 2e8)
	for (int c = 0; c < ncls; c++) {
		if (soft)
			soft_bucket(o, &s, start[c], start[c + 1]);
		else
			greedy_bucket(o, &s, start[c], start[c + 1]);
	}
	/* 4. the kept boxes in (final score desc, index asc) order */
	size_t nk = 0;
	for (size_t p = 0; p < m; p++)
		if (s.alive[p])
			key[nk++] = (uint64_t)desc_key(soft ? (float)s.score[p] : scores[s.orig[p]]) << 32 |
				(uint32_t)s.orig[p];
	/* buckets are sorted within a class only, and soft-NMS changed scores */
	if (soft || classes)
		radix_sort(key, key + n + 1, nk);
	if (soft) /* the final scores by original index; x0 is no longer needed */
		for (size_t p = 0; p < m; p++)
			if (s.alive[p])
				s.x0[s.orig[p]] = (float)s.score[p];
	if (o->max_dets > 0 && nk > (size_t)o->max_dets)
		nk = (size_t)o->max_dets;
	for (size_t k = 0; k < nk; k++) {
		uint32_t i = (uint32_t)key[k];

		keep[k] = (int)i;
		if (out_scores)
			out_scores[k] = soft ? s.x0[i] : scores[i];
	}
	nkeep = (long)nk;
out:
	free(key);
	free(start);
	free(f);
	free(orig);
	free(alive);
	free(sc);
	return nkeep;
}

long det_nms_topk(const float *scores, size_t n, size_t ncls, float threshold, size_t k,
	int *idx)
{
	size_t total = n * ncls, m = 0;
	uint64_t *key;

	if (total > INT32_MAX)
		return det_error_set(DET_EINVAL, "topk: %zu scores is more than 2^31", total);
	for (size_t i = 0; i < total; i++)
		m += scores[i] > threshold;
	key = malloc(2 * (m + 1) * sizeof(*key));
	if (key == NULL)
		return det_error_set(DET_ENOMEM, "topk: no memory for %zu candidates", m);
	m = 0;
	for (size_t i = 0; i < total; i++)
		if (scores[i] > threshold)
			key[m++] = (uint64_t)desc_key(scores[i]) << 32 | (uint32_t)i;
	radix_sort(key, key + m + 1, m);
	if (m > k)
		m = k;
	for (size_t i = 0; i < m; i++)
		idx[i] = (int)(uint32_t)key[i];
	free(key);
	return (long)m;
}

long det_nms_multilevel(const struct det_nms_opts *o, const float *scores, const float *boxes,
	size_t ncls, const size_t *level_count, int nlevels, size_t nms_pre, size_t cap,
	int *out_index, int *out_class, float *out_score)
{
	size_t n = 0, most = 0;

	for (int l = 0; l < nlevels; l++) {
		n += level_count[l];
		most += level_count[l] * ncls < nms_pre ? level_count[l] * ncls : nms_pre;
	}
	if (ncls == 0 || n * ncls > INT32_MAX)
		return det_error_set(DET_EINVAL, "postprocess: %zu anchors x %zu classes", n, ncls);
	int *idx = malloc((most + 1) * sizeof(*idx)), *cls = malloc((most + 1) * sizeof(*cls));
	int *anchor = malloc((most + 1) * sizeof(*anchor)), *keep = malloc((most + 1) * sizeof(*keep));
	float *cb = malloc((4 * most + 1) * sizeof(*cb)), *cs = malloc((most + 1) * sizeof(*cs));
	float *ks = malloc((most + 1) * sizeof(*ks));
	long rc = 0;
	size_t m = 0, off = 0;

	if (!idx || !cls || !anchor || !keep || !cb || !cs || !ks) {
		rc = det_error_set(DET_ENOMEM, "postprocess: no memory for %zu candidates", most);
		goto out;
	}
	/* per level: the nms_pre best (anchor, class) pairs above the threshold */
	for (int l = 0; l < nlevels; l++) {
		long k = det_nms_topk(scores + off * ncls, level_count[l], ncls, o->score_threshold,
			nms_pre, idx + m);
		if (k < 0) {
			rc = k;
			goto out;
		}
		for (long c = 0; c < k; c++, m++) {
			size_t a = off + (size_t)idx[m] / ncls;

			anchor[m] = (int)a;
			cls[m] = (int)((size_t)idx[m] % ncls);
			cs[m] = scores[a * ncls + (size_t)cls[m]];
			memcpy(cb + 4 * m, boxes + 4 * a, 4 * sizeof(float));
		}
		off += level_count[l];
	}
	/* class-aware NMS over every level's candidates, capped */
	rc = det_nms_run(o, cb, cs, cls, m, keep, ks);
	if (rc < 0)
		goto out;
	if ((size_t)rc > cap)
		rc = (long)cap;
	for (long k = 0; k < rc; k++) {
		out_index[k] = anchor[keep[k]];
		out_class[k] = cls[keep[k]];
		out_score[k] = ks[k];
	}
out:
	free(idx);
	free(cls);
	free(anchor);
	free(keep);
	free(cb);
	free(cs);
	free(ks);
	return rc;
}
