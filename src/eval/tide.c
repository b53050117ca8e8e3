/* tide.c: TIDE's error breakdown (Bolya, Foley, Hays, Hoffman: "TIDE: A
 * General Toolbox for Identifying Object Detection Errors", ECCV 2020),
 * following the tidecv toolkit's definitions, and the confusion matrix.
 *
 * Per image (all classes together): detections sorted by score (stable),
 * the first 100 kept; each takes the free same-class GT of highest IoU if
 * IoU >= 0.5 (pos); unmatched detections inside a same-class crowd region
 * (|D n R| / |D| > 0.5) are ignored. Every other detection is one error:
 *   Loc  : same-class IoU in [0.1, 0.5]                  (fix: becomes a TP)
 *   Cls  : IoU >= 0.5 with a GT of another class         (fix: relabelled TP)
 *   Dupe : IoU >= 0.5 with a same-class GT already taken (fix: removed)
 *   Bkg  : IoU <= 0.1 with every GT                      (fix: removed)
 *   Both : anything else                                 (fix: removed)
 * and an unmatched GT that no Cls/Loc error points at is a Miss (fix: one
 * GT fewer). A Cls/Loc fix turns the error into a TP only if its GT is
 * still free and it is that GT's highest-scoring error; otherwise the
 * detection is removed. dAP(type) = max(mAP with that type fixed - mAP, 0),
 * AP = TIDE's 101-point AP at IoU 0.5, in AP points (0-100). */
#define _GNU_SOURCE /* qsort_r */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/eval_internal.h"

const char *const eval_error_names[EVAL_NERR] = { "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss" };
const char *const eval_det_kind_names[8] = {
	"tp", "cls", "loc", "both", "dupe", "bkg", "ignored", "dropped",
};
const char *const eval_gt_kind_names[4] = { "matched", "missed", "covered", "ignored" };

#define POS 0.5
#define BKG 0.1

struct point {        /* one AP data point */
	double score;
	size_t seq;
	int cls;
	int32_t err;       /* error index in fixed runs, else -1 */
	uint8_t correct;
};

struct terr {          /* one error */
	uint8_t type;      /* enum eval_error */
	int cls;           /* the data point's class (pred's), or the GT's for Miss */
	int fix_cls;       /* the class a fixed Cls error moves to */
	size_t det;        /* detection index (not Miss) */
	long gt;           /* GT index the fix refers to, -1 when none */
	uint8_t fixable;   /* BestGTMatch: the fix yields a TP */
};

struct tide {
	struct point *pts;      /* original data points, push order */
	size_t npts, cappts;
	struct terr *err;
	size_t nerr, caperr;
	size_t *num_gt;         /* per class, non-ignored GT */
	size_t *fn;             /* per class, unmatched non-ignored GT */
	uint8_t *touched;       /* class has a data object */
};

static int push_point(struct tide *t, int cls, double score, int correct)
{
	if (t->npts == t->cappts) {
		size_t cap = t->cappts ? 2 * t->cappts : 128;
		struct point *p = realloc(t->pts, cap * sizeof *p);

		if (p == NULL)
			return -1;
		t->pts = p;
		t->cappts = cap;
	}
	t->pts[t->npts] = (struct point){ score, t->npts, cls, -1, (uint8_t)correct };
	t->npts++;
	t->touched[cls] = 1;
	return 0;
}

static struct terr *push_err(struct tide *t)
{
	if (t->nerr == t->caperr) {
		size_t cap = t->caperr ? 2 * t->caperr : 128;
		struct terr *p = realloc(t->err, cap * sizeof *p);

		if (p == NULL)
			return NULL;
		t->err = p;
		t->caperr = cap;
	}
	memset(&t->err[t->nerr], 0, sizeof *t->err);
	t->err[t->nerr].gt = -1;
	return &t->err[t->nerr++];
}

static int cmp_point(const void *pa, const void *pb)
{
	const struct point *a = pa, *b = pb;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* tidecv's APDataObject.get_ap over points already sorted, in AP points. */
static double tide_ap(const struct point *p, size_t n, double num_gt, double *prec)
{
	double ntrue = 0, nfalse = 0, sum = 0;
	size_t j = 0;

	if (num_gt == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i].correct)
			ntrue++;
		else
			nfalse++;
		prec[i] = ntrue / (ntrue + nfalse);
	}
	for (size_t i = n; i-- > 1;)
		if (prec[i] > prec[i - 1])
			prec[i - 1] = prec[i];
	/* recall after point i is (#correct in 0..i) / num_gt */
	ntrue = 0;
	for (int b = 0; b <= 100; b++) {
		double x = (double)b / 100;

		while (j < n && (ntrue + p[j].correct) / num_gt < x) {
			ntrue += p[j].correct;
			j++;
		}
		sum += j < n ? prec[j] : 0;
	}
	return sum / 101 * 100;
}

/* mAP over the classes with a data object that is not empty; per-class AP
 * into ap[k] (NaN when empty or untouched). pts sorted by cmp_point. */
static double tide_map_sorted(const struct point *pts, size_t n, const double *num_gt, const uint8_t *touched,
	int K, double *ap, double *scratch)
{
	double sum = 0;
	int cnt = 0;
	size_t i = 0;

	for (int k = 0; k < K; k++) {
		size_t s = i;

		while (i < n && pts[i].cls == k)
			i++;
		ap[k] = NAN;
		if (!touched[k] || (i == s && num_gt[k] == 0))
			continue;
		ap[k] = tide_ap(pts + s, i - s, num_gt[k], scratch);
		sum += ap[k];
		cnt++;
	}
	return cnt ? sum / cnt : 0;
}

static double tide_map(struct point *pts, size_t n, const double *num_gt, const uint8_t *touched, int K,
	double *ap, double *scratch)
{
	qsort(pts, n, sizeof *pts, cmp_point);
	return tide_map_sorted(pts, n, num_gt, touched, K, ap, scratch);
}

static int cmp_det_score(const void *pa, const void *pb, void *arg)
{
	const struct eval_box *b = arg;
	size_t x = *(const size_t *)pa, y = *(const size_t *)pb;

	if (b[x].score != b[y].score)
		return b[x].score > b[y].score ? -1 : 1;
	return (x > y) - (x < y);
}

/* Evaluates one image; g lists its non-ignored GT, rg its ignore regions
 * (file order), d its detections sorted by score and cut at 100. */
static int tide_image(struct tide *t, const struct eval_gt *gt, const struct eval_dets *dets,
	struct eval_result *r, const size_t *g, size_t ng, const size_t *rg, size_t nrg,
	const size_t *d, size_t nd, double *best_score, long *best_id, uint8_t *gused, uint8_t *usable)
{
	double *iou = NULL, *buf = NULL;
	int *used = NULL;       /* 1 TP, 0 FP, -1 ignored */
	long *match = NULL;     /* matched GT position */
	size_t e0 = t->nerr;    /* this image's first error */
	int rc = -1;

	for (size_t j = 0; j < ng; j++)
		t->num_gt[gt->boxes[g[j]].cat]++, t->touched[gt->boxes[g[j]].cat] = 1;
	if (nd == 0) {
		for (size_t j = 0; j < ng; j++) {
			struct terr *e = push_err(t);

			if (e == NULL)
				return -1;
			e->type = EVAL_ERR_MISS;
			e->cls = gt->boxes[g[j]].cat;
			e->gt = (long)g[j];
			t->fn[e->cls]++;
			r->gt[g[j]].kind = EVAL_GT_MISSED;
			r->gt[g[j]].det = -1;
		}
		return 0;
	}
	iou = calloc(nd * ng + 1, sizeof *iou);
	buf = calloc(nd * ng + 1, sizeof *buf);
	used = calloc(nd, sizeof *used);
	match = malloc(nd * sizeof *match);
	if (!iou || !buf || !used || !match)
		goto out;
	{
		const struct eval_box **dp = malloc(nd * sizeof *dp), **gp = malloc((ng + 1) * sizeof *gp);

		if (!dp || !gp) {
			free(dp);
			free(gp);
			goto out;
		}
		for (size_t i = 0; i < nd; i++)
			dp[i] = &dets->boxes[d[i]];
		for (size_t j = 0; j < ng; j++)
			gp[j] = &gt->boxes[g[j]];
		/* plain IoU: these GT are not crowds */
		eval_box_iou(dp, nd, gp, ng, iou);
		/* greedy matching in score order over same-class IoU */
		for (size_t i = 0; i < nd; i++)
			for (size_t j = 0; j < ng; j++)
				buf[i * ng + j] = dp[i]->cat == gp[j]->cat ? iou[i * ng + j] : 0;
		for (size_t i = 0; i < nd; i++) {
			size_t bj = 0;
			double bv = ng ? buf[i * ng] : 0, mx = 0;

			match[i] = -1;
			for (size_t j = 1; j < ng; j++)
				if (buf[i * ng + j] > bv)
					bv = buf[i * ng + j], bj = j;
			for (size_t j = 0; j < ng; j++)
				if (dp[i]->cat == gp[j]->cat && iou[i * ng + j] > mx)
					mx = iou[i * ng + j];
			r->det[d[i]].iou = mx;
			if (ng && bv >= POS) {
				used[i] = 1;
				match[i] = (long)bj;
				gused[bj] = 1;
				for (size_t q = 0; q < nd; q++)
					buf[q * ng + bj] = 0;
			}
		}
		/* crowd regions of the same class swallow unmatched detections */
		for (size_t q = 0; q < nrg; q++) {
			const struct eval_box *R = &gt->boxes[rg[q]];
			struct eval_box cr = *R;
			const struct eval_box *crp = &cr;

			cr.iscrowd = 1;
			for (size_t i = 0; i < nd; i++) {
				double o;

				if (used[i] == 1 || used[i] == -1 || dp[i]->cat != R->cat)
					continue;
				eval_box_iou(&dp[i], 1, &crp, 1, &o);
				if (o > POS)
					used[i] = -1;
			}
		}
		for (size_t i = 0; i < nd; i++) {
			struct eval_det_outcome *o = &r->det[d[i]];

			if (used[i] == -1) {
				o->kind = EVAL_DET_IGNORED;
				o->gt = -1;
				continue;
			}
			if (push_point(t, dp[i]->cat, dp[i]->score, used[i] == 1) < 0)
				goto out2;
			if (used[i] == 1) {
				o->kind = EVAL_DET_TP;
				o->gt = (int32_t)g[match[i]];
				o->iou = iou[i * ng + (size_t)match[i]];
				r->gt[g[match[i]]].kind = EVAL_GT_MATCHED;
				r->gt[g[match[i]]].det = (int32_t)d[i];
				continue;
			}
			{
				struct terr *e = push_err(t);
				long bj = -1;
				double bv = 0;
				int type;

				if (e == NULL)
					goto out2;
				e->cls = dp[i]->cat;
				e->det = d[i];
				/* argmax helpers over one row, first maximum */
#define ROW_ARGMAX(expr) do { bj = 0; bv = -1; for (size_t j = 0; j < ng; j++) { double v_ = (expr); \
	if (v_ > bv) { bv = v_; bj = (long)j; } } } while (0)
				if (ng == 0) {
					type = EVAL_ERR_BKG;
					bj = -1;
				} else {
					ROW_ARGMAX(dp[i]->cat == gp[j]->cat ? iou[i * ng + j] : 0);
					if (bv >= BKG && bv <= POS) {
						type = EVAL_ERR_LOC;
					} else {
						ROW_ARGMAX(dp[i]->cat != gp[j]->cat ? iou[i * ng + j] : 0);
						if (bv >= POS) {
							type = EVAL_ERR_CLS;
						} else {
							ROW_ARGMAX(gused[j] && dp[i]->cat == gp[j]->cat ? iou[i * ng + j] : 0);
							if (bv >= POS) {
								type = EVAL_ERR_DUPE;
							} else {
								ROW_ARGMAX(iou[i * ng + j]);
								type = bv <= BKG ? EVAL_ERR_BKG : EVAL_ERR_BOTH;
								if (bv <= 0)
									bj = -1;
							}
						}
					}
				}
#undef ROW_ARGMAX
				e->type = (uint8_t)type;
				o->kind = (uint8_t)(type == EVAL_ERR_CLS ? EVAL_DET_CLS : type == EVAL_ERR_LOC ? EVAL_DET_LOC :
					type == EVAL_ERR_DUPE ? EVAL_DET_DUPE : type == EVAL_ERR_BKG ? EVAL_DET_BKG : EVAL_DET_BOTH);
				o->gt = bj >= 0 ? (int32_t)g[bj] : -1;
				o->iou = bj >= 0 ? iou[i * ng + (size_t)bj] : 0;
				if (type == EVAL_ERR_CLS || type == EVAL_ERR_LOC) {
					e->gt = (long)g[bj];
					e->fix_cls = gp[bj]->cat;
					/* BestGTMatch */
					if (!gused[bj]) {
						usable[bj] = 1;
						if (best_score[bj] < dp[i]->score) {
							best_score[bj] = dp[i]->score;
							best_id[bj] = (long)d[i];
						}
					}
				}
			}
		}
		for (size_t j = 0; j < ng; j++) {
			if (gused[j])
				continue;
			t->fn[gp[j]->cat]++;
			if (usable[j]) {
				r->gt[g[j]].kind = EVAL_GT_COVERED;
				r->gt[g[j]].det = (int32_t)best_id[j];
			} else {
				struct terr *e = push_err(t);

				if (e == NULL)
					goto out2;
				e->type = EVAL_ERR_MISS;
				e->cls = gp[j]->cat;
				e->gt = (long)g[j];
				r->gt[g[j]].kind = EVAL_GT_MISSED;
				r->gt[g[j]].det = -1;
			}
		}
		/* a Cls/Loc error is fixable when its GT stayed free and it is that
		 * GT's highest-scoring error (decided once the image is done) */
		for (size_t q = e0; q < t->nerr; q++) {
			struct terr *e = &t->err[q];
			long jj = -1;

			if (e->type != EVAL_ERR_CLS && e->type != EVAL_ERR_LOC)
				continue;
			for (size_t j = 0; j < ng; j++)
				if ((long)g[j] == e->gt)
					jj = (long)j;
			e->fixable = jj >= 0 && !gused[jj] && best_id[jj] == (long)e->det;
		}
		rc = 0;
out2:
		free(dp);
		free(gp);
	}
out:
	free(iou);
	free(buf);
	free(used);
	free(match);
	return rc;
}

/* The data points of a fixed run, as tidecv's fix_errors builds them:
 * errors first (fixed or as they were), then the original true positives;
 * base holds them unfixed, sorted once (seq = error index, or nerr + the
 * TP's push index; err = error index or -1). Fixes that remove a point or
 * flip it to a TP keep the order, so only the Cls fix (which moves points
 * to another class) sorts again.
 * mode: 0..5 fix that error type; 6 the FalsePos special; 7 FalseNeg. */
static double fixed_map(const struct tide *t, const struct point *base, size_t nbase, int K, int mode,
	struct point *pts, double *num_gt, double *ap, double *scratch)
{
	size_t n = 0;

	for (int k = 0; k < K; k++)
		num_gt[k] = (double)t->num_gt[k] - (mode == 7 ? (double)t->fn[k] : 0);
	if (mode == EVAL_ERR_MISS)
		for (size_t q = 0; q < t->nerr; q++)
			if (t->err[q].type == EVAL_ERR_MISS)
				num_gt[t->err[q].cls] -= 1;
	if (mode == 6) {
		/* TPs scored 1, the rest 0: per class all TPs, then all FPs */
		for (size_t i = 0; i < nbase;) {
			size_t s = i;

			while (i < nbase && base[i].cls == base[s].cls)
				i++;
			for (size_t j = s; j < i; j++)
				if (base[j].correct)
					pts[n] = base[j], pts[n++].score = 1;
			for (size_t j = s; j < i; j++)
				if (!base[j].correct)
					pts[n] = base[j], pts[n++].score = 0;
		}
		return tide_map_sorted(pts, n, num_gt, t->touched, K, ap, scratch);
	}
	for (size_t i = 0; i < nbase; i++) {
		struct point p = base[i];
		const struct terr *e = p.err >= 0 ? &t->err[p.err] : NULL;

		if (e && e->type == mode) {
			if ((e->type == EVAL_ERR_CLS || e->type == EVAL_ERR_LOC) && e->fixable) {
				p.correct = 1;
				if (e->type == EVAL_ERR_CLS)
					p.cls = e->fix_cls;
				pts[n++] = p;
			}
			continue;
		}
		pts[n++] = p;
	}
	if (mode == EVAL_ERR_CLS)
		return tide_map(pts, n, num_gt, t->touched, K, ap, scratch);
	return tide_map_sorted(pts, n, num_gt, t->touched, K, ap, scratch);
}

int eval_tide_run(const struct eval_gt *gt, const struct eval_dets *dets, struct eval_result *r)
{
	int K = gt->ncats, rc = -1;
	size_t *gs = NULL, *gi = NULL, *ds = NULL, *di = NULL;
	struct tide t = { 0 };
	double *num_gt = NULL, *ap0 = NULL, *ap1 = NULL, *scratch = NULL;
	struct tide *per = NULL;
	size_t maxg = 1;
	int failed = 0;
	struct point *pts = NULL, *base = NULL;
	size_t nbase = 0;

	/* group by image alone: one "category" cell per image */
	{
		struct eval_box *gb = malloc((gt->n + 1) * sizeof *gb), *db = malloc((dets->n + 1) * sizeof *db);

		if (gb == NULL || db == NULL) {
			free(gb);
			free(db);
			return det_error_set(DET_ENOMEM, "out of memory in TIDE");
		}
		if (gt->n)
			memcpy(gb, gt->boxes, gt->n * sizeof *gb);
		if (dets->n)
			memcpy(db, dets->boxes, dets->n * sizeof *db);
		for (size_t i = 0; i < gt->n; i++)
			gb[i].cat = 0;
		for (size_t i = 0; i < dets->n; i++)
			db[i].cat = 0;
		rc = eval_group(gb, gt->n, gt->nimages, gt->nimages, &gs, &gi);
		if (rc == 0)
			rc = eval_group(db, dets->n, gt->nimages, gt->nimages, &ds, &di);
		free(gb);
		free(db);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	for (size_t i = 0; i < gt->nimages; i++)
		if (gs[i + 1] - gs[i] > maxg)
			maxg = gs[i + 1] - gs[i];
	t.num_gt = calloc((size_t)K + 1, sizeof *t.num_gt);
	t.fn = calloc((size_t)K + 1, sizeof *t.fn);
	t.touched = calloc((size_t)K + 1, 1);
	per = calloc(gt->nimages + 1, sizeof *per);
	if (!t.num_gt || !t.fn || !t.touched || !per)
		goto out;
	for (size_t i = 0; i < dets->n; i++) {
		r->det[i].kind = EVAL_DET_DROPPED;
		r->det[i].gt = -1;
	}
	for (size_t i = 0; i < gt->n; i++) {
		r->gt[i].kind = EVAL_GT_IGNORED;
		r->gt[i].det = -1;
	}
	/* images in parallel, each into its own lists; merged in file order */
	#pragma omp parallel
	{
		double *best_score = malloc(maxg * sizeof *best_score);
		long *best_id = malloc(maxg * sizeof *best_id);
		uint8_t *gused = malloc(maxg), *usable = malloc(maxg), *touched = calloc((size_t)K + 1, 1);
		size_t *g = malloc(maxg * sizeof *g), *rg = malloc(maxg * sizeof *rg);
		size_t *num_gt_t = calloc((size_t)K + 1, sizeof *num_gt_t), *fn_t = calloc((size_t)K + 1, sizeof *fn_t);

		if (!best_score || !best_id || !gused || !usable || !touched || !g || !rg || !num_gt_t || !fn_t) {
			#pragma omp atomic write
			failed = 1;
		}
		#pragma omp for schedule(dynamic, 16)
		for (size_t fo = 0; fo < gt->nimages; fo++) {
			size_t img = gt->file_order[fo], ng = 0, nrg = 0;
			size_t *d = di + ds[img], nd = ds[img + 1] - ds[img];
			struct tide *loc = &per[fo];

			if (failed)
				continue;
			loc->num_gt = num_gt_t;
			loc->fn = fn_t;
			loc->touched = touched;
			for (size_t q = gs[img]; q < gs[img + 1]; q++) {
				const struct eval_box *b = &gt->boxes[gi[q]];

				if (b->iscrowd || b->ignore)
					rg[nrg++] = gi[q];
				else
					g[ng++] = gi[q];
			}
			qsort_r(d, nd, sizeof *d, cmp_det_score, dets->boxes);
			if (nd > 100)
				nd = 100;
			for (size_t j = 0; j < ng; j++) {
				best_score[j] = -1;
				best_id[j] = -1;
				gused[j] = usable[j] = 0;
			}
			if (tide_image(loc, gt, dets, r, g, ng, rg, nrg, d, nd, best_score, best_id, gused, usable) < 0) {
				#pragma omp atomic write
				failed = 1;
			}
		}
		#pragma omp critical(tide_merge)
		{
			for (int k = 0; k < K; k++) {
				if (num_gt_t) t.num_gt[k] += num_gt_t[k];
				if (fn_t) t.fn[k] += fn_t[k];
				if (touched) t.touched[k] |= touched[k];
			}
		}
		free(best_score), free(best_id), free(gused), free(usable), free(touched), free(g), free(rg);
		free(num_gt_t), free(fn_t);
	}
	if (failed)
		goto out;
	{
		size_t np = 0, ne = 0;

		for (size_t fo = 0; fo < gt->nimages; fo++)
			np += per[fo].npts, ne += per[fo].nerr;
		t.pts = malloc((np + 1) * sizeof *t.pts);
		t.err = malloc((ne + 1) * sizeof *t.err);
		if (!t.pts || !t.err)
			goto out;
		for (size_t fo = 0; fo < gt->nimages; fo++) {
			for (size_t i = 0; i < per[fo].npts; i++) {
				t.pts[t.npts] = per[fo].pts[i];
				t.pts[t.npts].seq = t.npts;
				t.npts++;
			}
			if (per[fo].nerr)
				memcpy(t.err + t.nerr, per[fo].err, per[fo].nerr * sizeof *t.err);
			t.nerr += per[fo].nerr;
		}
	}
	/* the maps */
	pts = malloc((t.npts + t.nerr + 1) * sizeof *pts);
	num_gt = calloc((size_t)K + 1, sizeof *num_gt);
	ap0 = malloc(((size_t)K + 1) * sizeof *ap0);
	ap1 = malloc(((size_t)K + 1) * sizeof *ap1);
	scratch = malloc((t.npts + t.nerr + 1) * sizeof *scratch);
	if (!pts || !num_gt || !ap0 || !ap1 || !scratch)
		goto out;
	if (t.npts)
		memcpy(pts, t.pts, t.npts * sizeof *pts);
	for (int k = 0; k < K; k++)
		num_gt[k] = (double)t.num_gt[k];
	r->tide.ap = tide_map(pts, t.npts, num_gt, t.touched, K, ap0, scratch);
	for (int k = 0; k < K; k++)
		r->cls[k].tide_ap = ap0[k];
	/* the unfixed points of the fixed runs, sorted once */
	base = malloc((t.npts + t.nerr + 1) * sizeof *base);
	if (base == NULL)
		goto out;
	for (size_t q = 0; q < t.nerr; q++) {
		const struct terr *e = &t.err[q];

		if (e->type != EVAL_ERR_MISS)
			base[nbase++] = (struct point){ dets->boxes[e->det].score, q, e->cls, (int32_t)q, 0 };
	}
	for (size_t i = 0; i < t.npts; i++)
		if (t.pts[i].correct) {
			base[nbase] = t.pts[i];
			base[nbase++].seq += t.nerr;
		}
	qsort(base, nbase, sizeof *base, cmp_point);
	for (int e = 0; e < EVAL_NERR; e++) {
		double m = fixed_map(&t, base, nbase, K, e, pts, num_gt, ap1, scratch);

		r->tide.dap[e] = fmax(m - r->tide.ap, 0);
		for (int k = 0; k < K; k++)
			r->cls[k].tide_dap[e] = isnan(ap0[k]) || isnan(ap1[k]) ? 0 : fmax(ap1[k] - ap0[k], 0);
	}
	r->tide.dap_fp = fixed_map(&t, base, nbase, K, 6, pts, num_gt, ap1, scratch) - r->tide.ap;
	r->tide.dap_fn = fixed_map(&t, base, nbase, K, 7, pts, num_gt, ap1, scratch) - r->tide.ap;
	for (size_t q = 0; q < t.nerr; q++) {
		r->tide.count[t.err[q].type]++;
		r->cls[t.err[q].cls].tide_count[t.err[q].type]++;
	}
	rc = 0;
out:
	free(gs), free(gi), free(ds), free(di);
	free(t.pts), free(t.err), free(t.num_gt), free(t.fn), free(t.touched);
	if (per)
		for (size_t fo = 0; fo < gt->nimages; fo++)
			free(per[fo].pts), free(per[fo].err);
	free(per);
	free(pts), free(base), free(num_gt), free(ap0), free(ap1), free(scratch);
	if (rc < 0)
		return det_error_set(DET_ENOMEM, "out of memory in TIDE");
	return 0;
}

/* ---- confusion matrix ---------------------------------------------------- */

struct pair {
	double iou;
	size_t d, g; /* positions */
};

static int cmp_pair(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;

	if (a->iou != b->iou)
		return a->iou > b->iou ? -1 : 1;
	if (a->d != b->d)
		return a->d < b->d ? -1 : 1;
	return (a->g > b->g) - (a->g < b->g);
}

int eval_confusion(const struct eval_gt *gt, const struct eval_dets *dets, double conf, double iou_thr,
	size_t **out)
{
	int K = gt->ncats;
	size_t W = (size_t)K + 1, *m = calloc(W * W, sizeof *m), *gs = NULL, *gi = NULL, *ds = NULL, *di = NULL;
	struct eval_box *gb = malloc((gt->n + 1) * sizeof *gb), *db = malloc((dets->n + 1) * sizeof *db);
	int rc = -1;

	*out = NULL;
	if (!m || !gb || !db)
		goto out;
	if (gt->n)
		memcpy(gb, gt->boxes, gt->n * sizeof *gb);
	if (dets->n)
		memcpy(db, dets->boxes, dets->n * sizeof *db);
	for (size_t i = 0; i < gt->n; i++)
		gb[i].cat = 0;
	for (size_t i = 0; i < dets->n; i++)
		db[i].cat = 0;
	if (eval_group(gb, gt->n, gt->nimages, gt->nimages, &gs, &gi) < 0 ||
	    eval_group(db, dets->n, gt->nimages, gt->nimages, &ds, &di) < 0)
		goto out;
	for (size_t img = 0; img < gt->nimages; img++) {
		size_t ng = gs[img + 1] - gs[img], nd = ds[img + 1] - ds[img], np = 0;
		struct pair *pairs = malloc((ng * nd + 1) * sizeof *pairs);
		uint8_t *dm = calloc(nd + 1, 1), *gm = calloc(ng + 1, 1);

		if (!pairs || !dm || !gm) {
			free(pairs), free(dm), free(gm);
			goto out;
		}
		qsort_r(di + ds[img], nd, sizeof *di, cmp_det_score, dets->boxes);
		for (size_t a = 0; a < nd; a++) {
			const struct eval_box *D = &dets->boxes[di[ds[img] + a]];

			if (D->score < conf) {
				dm[a] = 2; /* below the threshold: not counted */
				continue;
			}
			for (size_t b = 0; b < ng; b++) {
				const struct eval_box *G = &gt->boxes[gi[gs[img] + b]];
				struct eval_box Gc = *G;
				const struct eval_box *gp = &Gc;
				double o;

				if (G->iscrowd || G->ignore)
					continue;
				Gc.iscrowd = 0;
				eval_box_iou(&D, 1, &gp, 1, &o);
				if (o >= iou_thr)
					pairs[np++] = (struct pair){ o, a, b };
			}
		}
		qsort(pairs, np, sizeof *pairs, cmp_pair);
		for (size_t q = 0; q < np; q++) {
			const struct pair *p = &pairs[q];

			if (dm[p->d] || gm[p->g])
				continue;
			dm[p->d] = gm[p->g] = 1;
			m[(size_t)gt->boxes[gi[gs[img] + p->g]].cat * W + (size_t)dets->boxes[di[ds[img] + p->d]].cat]++;
		}
		for (size_t b = 0; b < ng; b++) {
			const struct eval_box *G = &gt->boxes[gi[gs[img] + b]];

			if (!gm[b] && !G->iscrowd && !G->ignore)
				m[(size_t)G->cat * W + (size_t)K]++;
		}
		for (size_t a = 0; a < nd; a++) {
			const struct eval_box *D = &dets->boxes[di[ds[img] + a]];
			int in_crowd = 0;

			if (dm[a])
				continue;
			for (size_t b = 0; b < ng && !in_crowd; b++) {
				const struct eval_box *G = &gt->boxes[gi[gs[img] + b]];
				struct eval_box Gc = *G;
				const struct eval_box *gp = &Gc;
				double o;

				if (!(G->iscrowd || G->ignore) || G->cat != D->cat)
					continue;
				Gc.iscrowd = 1;
				eval_box_iou(&D, 1, &gp, 1, &o);
				in_crowd = o >= iou_thr;
			}
			if (!in_crowd)
				m[(size_t)K * W + (size_t)D->cat]++;
		}
		free(pairs), free(dm), free(gm);
	}
	rc = 0;
out:
	free(gb), free(db), free(gs), free(gi), free(ds), free(di);
	if (rc < 0) {
		free(m);
		return det_error_set(DET_ENOMEM, "out of memory for the confusion matrix");
	}
	*out = m;
	return 0;
}
