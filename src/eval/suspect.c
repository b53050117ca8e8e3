/* suspect.c: the suspect-label ranking (formulas in suspect.h) and its
 * JSON export. Works per image: GT and predictions of one image are
 * compared all against all, so the cost is sum over images of |GT| x |dets|,
 * plus, when calibrating, one greedy TP matching per image and a sort and
 * an isotonic fit per class (O(dets log dets)). */
#include "eval/suspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/error.h"
#include "core/json.h"
#include "eval/failures.h"

const char *const suspect_reason_names[SUSPECT_NREASONS] = { "wrong_class", "missing_box", "bad_box" };

void suspect_opts_default(struct suspect_opts *o)
{
	memset(o, 0, sizeof *o);
	o->wrong_iou = 0.5;
	o->missing_iou = 0.3;
	o->fit_iou = 0.3;
	o->min_score = 0.05;
	o->bad_weight = 0.2;
	o->calibrate = 0;
	o->explain = 1;
	o->margin = 1;
}

static void box_of(const struct eval_box *b, double out[4])
{
	out[0] = b->x;
	out[1] = b->y;
	out[2] = b->w;
	out[3] = b->h;
}

/* Offsets of each image's items in idx (stable). */
static int by_image(const struct eval_box *b, size_t n, size_t nimg, size_t **start, size_t **idx)
{
	size_t *s = calloc(nimg + 2, sizeof *s), *x = malloc((n + 1) * sizeof *x);

	if (s == NULL || x == NULL) {
		free(s);
		free(x);
		return det_error_set(DET_ENOMEM, "out of memory ranking suspects");
	}
	for (size_t i = 0; i < n; i++)
		s[b[i].img + 1]++;
	for (size_t i = 0; i < nimg; i++)
		s[i + 1] += s[i];
	{
		size_t *fill = calloc(nimg + 1, sizeof *fill);

		if (fill == NULL) {
			free(s);
			free(x);
			return det_error_set(DET_ENOMEM, "out of memory ranking suspects");
		}
		for (size_t i = 0; i < n; i++)
			x[s[b[i].img] + fill[b[i].img]++] = i;
		free(fill);
	}
	*start = s;
	*idx = x;
	return 0;
}

static int cmp_suspect(const void *a, const void *b)
{
	const struct suspect *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->img != y->img)
		return x->img < y->img ? -1 : 1;
	if (x->gt != y->gt)
		return x->gt < y->gt ? -1 : 1;
	return x->det < y->det ? -1 : x->det > y->det;
}

/* Detection indices of one image, highest (calibrated) score first. */
static const double *sort_key;
static int cmp_det_score(const void *a, const void *b)
{
	double u = sort_key[*(const size_t *)a], v = sort_key[*(const size_t *)b];

	if (u != v)
		return u > v ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* ---- isotonic calibration: P(a prediction of class k at score s is right) ---- */

struct calib_item {
	double score;
	int tp;
	size_t det;
};

static int cmp_calib(const void *a, const void *b)
{
	const struct calib_item *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return x->det < y->det ? -1 : x->det > y->det;
}

/* tp[i] = 1 when detection i is a true positive against the labels: per
 * image and class, detections by score (highest first) take the unmatched
 * GT of their class of highest IoU >= iou_thr (COCO's greedy matching);
 * a detection matching only a crowd/ignored GT gets -1 (left out). */
static void match_tp(const struct eval_gt *gt, const struct eval_dets *dets, const size_t *gs, const size_t *gi,
	const size_t *ds, const size_t *di, double iou_thr, signed char *tp, unsigned char *taken)
{
	for (size_t im = 0; im < gt->nimages; im++) {
		for (size_t a = gs[im]; a < gs[im + 1]; a++)
			taken[gi[a]] = 0;
		/* di is sorted by score (cmp_det_score on raw scores) per image */
		for (size_t c = ds[im]; c < ds[im + 1]; c++) {
			const struct eval_box *d = &dets->boxes[di[c]];
			double db[4], best = iou_thr;
			long bg = -1;
			int ign = 0;

			box_of(d, db);
			for (size_t a = gs[im]; a < gs[im + 1]; a++) {
				const struct eval_box *h = &gt->boxes[gi[a]];
				double hb[4], iou;

				if (h->cat != d->cat)
					continue;
				box_of(h, hb);
				iou = eval_bbox_iou(hb, db);
				if (h->iscrowd || h->ignore) {
					ign |= iou >= iou_thr;
					continue;
				}
				if (!taken[gi[a]] && iou >= best) {
					best = iou;
					bg = (long)gi[a];
				}
			}
			if (bg >= 0)
				taken[bg] = 1;
			tp[di[c]] = bg >= 0 ? 1 : ign ? -1 : 0;
		}
	}
}

/* Pool-adjacent-violators over v[0..n) sorted by score ascending: fits the
 * non-decreasing step function of score closest (least squares) to the tp
 * labels (equal scores share a step), then shrinks each step toward the
 * class's base rate `prior` with one pseudo-count, (sum + prior) / (n + 1),
 * so a lone top TP is not certainty; writes the fit to out[v[i].det]. */
static int isotonic_fit(const struct calib_item *v, size_t n, double prior, double *out)
{
	double *sum = malloc((n + 1) * sizeof *sum);
	size_t *cnt = malloc((n + 1) * sizeof *cnt), nb = 0;

	if (sum == NULL || cnt == NULL) {
		free(sum);
		free(cnt);
		return det_error_set(DET_ENOMEM, "out of memory ranking suspects");
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && v[i].score == v[i - 1].score) { /* ties share a block */
			sum[nb - 1] += v[i].tp;
			cnt[nb - 1]++;
		} else {
			sum[nb] = v[i].tp;
			cnt[nb] = 1;
			nb++;
		}
		while (nb > 1 && sum[nb - 2] * (double)cnt[nb - 1] >= sum[nb - 1] * (double)cnt[nb - 2]) {
			sum[nb - 2] += sum[nb - 1];
			cnt[nb - 2] += cnt[nb - 1];
			nb--;
		}
	}
	for (size_t b = 0, i = 0; b < nb; b++)
		for (size_t k = 0; k < cnt[b]; k++, i++)
			out[v[i].det] = (sum[b] + prior) / ((double)cnt[b] + 1);
	free(sum);
	free(cnt);
	return 0;
}

/* cs[i] = the isotonic fit of detection i's class: P(TP | score) against
 * the labels themselves. di: per image, sorted by raw score. */
static int calibrate_isotonic(const struct eval_gt *gt, const struct eval_dets *dets, const size_t *gs,
	const size_t *gi, const size_t *ds, const size_t *di, double iou_thr, double *cs)
{
	signed char *tp = malloc(dets->n + 1);
	unsigned char *taken = malloc(gt->n + 1);
	struct calib_item *v = malloc((dets->n + 1) * sizeof *v);
	int rc = 0;

	if (tp == NULL || taken == NULL || v == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory ranking suspects");
		goto done;
	}
	match_tp(gt, dets, gs, gi, ds, di, iou_thr, tp, taken);
	for (int k = 0; k < gt->ncats && rc == 0; k++) {
		size_t n = 0, ntp = 0;

		for (size_t i = 0; i < dets->n; i++)
			if (dets->boxes[i].cat == k && tp[i] >= 0) {
				v[n].score = dets->boxes[i].score;
				v[n].tp = tp[i];
				v[n].det = i;
				ntp += (size_t)tp[i];
				n++;
			}
		qsort(v, n, sizeof *v, cmp_calib);
		rc = isotonic_fit(v, n, n ? (double)ntp / (double)n : 0, cs);
	}
	/* left out (crowd/ignored) or of an unknown class: the raw score */
	for (size_t i = 0; i < dets->n; i++)
		if (tp[i] < 0 || dets->boxes[i].cat < 0 || dets->boxes[i].cat >= gt->ncats)
			cs[i] = dets->boxes[i].score;
done:
	free(tp);
	free(taken);
	free(v);
	return rc;
}

int eval_suspects(const struct eval_gt *gt, const struct eval_dets *dets, const struct suspect_opts *o,
	struct suspect **out, size_t *n)
{
	size_t *gs = NULL, *gi = NULL, *ds = NULL, *di = NULL;
	struct suspect *v = malloc((gt->n + dets->n + 1) * sizeof *v);
	double *cs = malloc((dets->n + 1) * sizeof *cs), *own_iou = malloc((dets->n + 1) * sizeof *own_iou);
	double max_loss = 0;
	size_t m = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (v == NULL || cs == NULL || own_iou == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory ranking suspects");
		goto done;
	}
	if ((rc = by_image(gt->boxes, gt->n, gt->nimages, &gs, &gi)) < 0 ||
	    (rc = by_image(dets->boxes, dets->n, gt->nimages, &ds, &di)) < 0)
		goto done;
	/* cs[i]: detection i's score, or with calibrate its class's isotonic
	 * fit P(TP | score); either way each image's detections sorted by it */
	for (size_t i = 0; i < dets->n; i++)
		cs[i] = dets->boxes[i].score;
	sort_key = cs;
	for (size_t im = 0; im < gt->nimages; im++)
		qsort(di + ds[im], ds[im + 1] - ds[im], sizeof *di, cmp_det_score);
	if (o->calibrate && (rc = calibrate_isotonic(gt, dets, gs, gi, ds, di, o->wrong_iou, cs)) < 0)
		goto done;
	if (o->losses)
		for (size_t g = 0; g < gt->n; g++)
			if (o->losses[g] > max_loss)
				max_loss = o->losses[g];
	for (size_t im = 0; im < gt->nimages; im++) {
		size_t g0 = gs[im], g1 = gs[im + 1], d0 = ds[im], d1 = ds[im + 1];
		size_t first_missing = m;

		/* own_iou[i]: detection i's best IoU with a GT of its own class here */
		for (size_t c = d0; c < d1; c++) {
			const struct eval_box *d = &dets->boxes[di[c]];
			double db[4];

			own_iou[di[c]] = 0;
			box_of(d, db);
			for (size_t a = g0; a < g1; a++) {
				const struct eval_box *h = &gt->boxes[gi[a]];
				double hb[4], iou;

				if (h->cat != d->cat)
					continue;
				box_of(h, hb);
				if ((iou = eval_bbox_iou(hb, db)) > own_iou[di[c]])
					own_iou[di[c]] = iou;
			}
		}
		/* GT boxes: wrong class, bad box */
		for (size_t a = g0; a < g1; a++) {
			size_t g = gi[a];
			const struct eval_box *b = &gt->boxes[g];
			double gb[4], s_own = 0, s_other = 0, iou_other = 0, fit = 0, wrong, bad;
			int32_t other = -1, other_det = -1, fit_det = -1;

			if (b->iscrowd || b->ignore)
				continue;
			box_of(b, gb);
			for (size_t c = d0; c < d1; c++) {
				const struct eval_box *d = &dets->boxes[di[c]];
				double db[4], iou, sc = cs[di[c]];

				box_of(d, db);
				iou = eval_bbox_iou(gb, db);
				if (d->cat == b->cat) {
					if (iou >= o->wrong_iou && sc > s_own)
						s_own = sc;
					if (d->score >= o->min_score && iou > fit) {
						fit = iou;
						fit_det = (int32_t)di[c];
					}
				} else if (iou >= o->wrong_iou && sc > s_other && !(o->explain && own_iou[di[c]] > iou)) {
					s_other = sc;
					other = d->cat;
					other_det = (int32_t)di[c];
					iou_other = iou;
				}
			}
			wrong = o->margin ? s_other - s_own : s_other * (1 - s_own);
			bad = fit < o->fit_iou ? o->bad_weight * (1 - fit / o->fit_iou) : 0;
			if (o->losses && max_loss > 0 && o->bad_weight * o->losses[g] / max_loss > bad)
				bad = o->bad_weight * o->losses[g] / max_loss;
			if (wrong <= 0 && bad <= 0)
				continue;
			v[m].img = b->img;
			v[m].gt = (int32_t)g;
			v[m].cat = b->cat;
			box_of(b, v[m].box);
			if (wrong >= bad) {
				v[m].reason = SUSPECT_WRONG_CLASS;
				v[m].det = other_det;
				v[m].suggested = other;
				v[m].score = wrong;
				v[m].iou = iou_other;
			} else {
				v[m].reason = SUSPECT_BAD_BOX;
				v[m].det = fit_det;
				v[m].suggested = -1;
				v[m].score = bad;
				v[m].iou = fit;
			}
			m++;
		}
		first_missing = m;
		/* predictions on no GT: missing box, best first, overlapping ones once */
		qsort(di + d0, d1 - d0, sizeof *di, cmp_det_score);
		for (size_t c = d0; c < d1; c++) {
			const struct eval_box *d = &dets->boxes[di[c]];
			double db[4], maxiou = 0, score;
			int dup = 0;

			box_of(d, db);
			if (o->explain) {
				/* explained by a GT of its class (IoU >= missing_iou) or
				 * sitting on a GT of another class (IoU >= wrong_iou: that
				 * GT's wrong_class evidence) */
				double other = 0;

				for (size_t a = g0; a < g1; a++) {
					const struct eval_box *h = &gt->boxes[gi[a]];
					double gb[4], iou;

					if (h->cat == d->cat)
						continue;
					box_of(h, gb);
					if ((iou = eval_bbox_iou(gb, db)) > other)
						other = iou;
				}
				maxiou = own_iou[di[c]];
				if (maxiou >= o->missing_iou || other >= o->wrong_iou)
					continue;
				score = cs[di[c]] * (1 - maxiou / o->missing_iou);
			} else {
				for (size_t a = g0; a < g1; a++) {
					double gb[4], iou;

					box_of(&gt->boxes[gi[a]], gb);
					iou = eval_bbox_iou(gb, db);
					if (iou > maxiou)
						maxiou = iou;
				}
				if (maxiou >= o->missing_iou)
					continue;
				score = cs[di[c]] * (1 - maxiou / o->missing_iou);
			}
			if (score <= 0)
				continue;
			for (size_t k = first_missing; k < m && !dup; k++)
				dup = eval_bbox_iou(v[k].box, db) >= 0.5;
			if (dup)
				continue;
			v[m].reason = SUSPECT_MISSING_BOX;
			v[m].img = d->img;
			v[m].gt = -1;
			v[m].det = (int32_t)di[c];
			v[m].cat = -1;
			v[m].suggested = d->cat;
			memcpy(v[m].box, db, sizeof db);
			v[m].score = score;
			v[m].iou = maxiou;
			m++;
		}
	}
	qsort(v, m, sizeof *v, cmp_suspect);
	*out = v;
	*n = m;
	v = NULL;
	rc = 0;
done:
	free(v);
	free(cs);
	free(own_iou);
	free(gs);
	free(gi);
	free(ds);
	free(di);
	return rc;
}

int eval_suspects_write_json(const struct eval_gt *gt, const struct suspect *s, size_t n, const char *path)
{
	struct atomic_file af;
	FILE *f;
	int rc = atomic_file_open(&af, path);

	if (rc < 0)
		return rc;
	f = af.f;
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		const struct suspect *x = &s[i];
		int cls = x->cat >= 0 ? x->cat : x->suggested;

		fprintf(f, "%s\n{\"image\": %lld, \"box\": [%.17g, %.17g, %.17g, %.17g], \"class\": ", i ? "," : "",
			(long long)gt->image_ids[x->img], x->box[0], x->box[1], x->box[2], x->box[3]);
		json_write_string(f, cls >= 0 ? gt->cat_names[cls] : "");
		fprintf(f, ", \"reason\": \"%s\", \"score\": %.6g", suspect_reason_names[x->reason], x->score);
		if (x->suggested >= 0) {
			fprintf(f, ", \"suggested\": ");
			json_write_string(f, gt->cat_names[x->suggested]);
		}
		if (x->gt >= 0)
			fprintf(f, ", \"gt_id\": %lld", (long long)gt->boxes[x->gt].id);
		fputc('}', f);
	}
	fprintf(f, "%s]\n", n ? "\n" : "");
	return atomic_file_commit(&af);
}
