/* coco_eval.c: pycocotools' COCOeval (bbox, default parameters) in C:
 * evaluateImg's greedy matching per image and category, accumulate's
 * precision/recall arrays and summarize's 12 numbers, with the same order,
 * tie-breaking and -1 conventions, parallel over categories.
 *
 * For category k, image i, area range a (GT `area`), IoU threshold t:
 *   detections sorted by score (stable: results order), the first 100 kept;
 *   GT sorted with ignored (crowd or out of range) last;
 *   each detection takes the best still-free GT with IoU >= min(t, 1-1e-10),
 *   preferring non-ignored GT; crowd GT may be taken many times and uses
 *   IoU = |D n G| / |D|.
 * accumulate: detections of all images in one stable score order (ties:
 * image-id order, then within-image order), cumulative TP/FP, precision
 * pr = tp / (tp + fp + eps), made monotone from the right, sampled at recall
 * 0:.01:1 with searchsorted(left); no GT (npig = 0) gives -1. */
#include "eval/coco_eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "eval/eval_internal.h"

const char *const eval_stat_names[12] = {
	"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
};

static const int max_dets[EVAL_M] = { 1, 10, 100 };
static const double area_lo[EVAL_A] = { 0, 0, 32.0 * 32, 96.0 * 96 };
static const double area_hi[EVAL_A] = { 1e10, 32.0 * 32, 96.0 * 96, 1e10 };

/* np.linspace(.5, .95, 10) and np.linspace(0, 1, 101), bit for bit */
double eval_iou_thr(int t)
{
	return t == EVAL_T - 1 ? 0.95 : (double)t * ((0.95 - 0.5) / 9) + 0.5;
}

static double rec_thr(int r)
{
	return r == EVAL_R - 1 ? 1.0 : (double)r * 0.01;
}

/* maskUtils.iou for boxes: o[d][g], crowd g uses the detection's area. */
void eval_box_iou(const struct eval_box *const *dt, size_t nd, const struct eval_box *const *gt, size_t ng,
	double *o)
{
	for (size_t g = 0; g < ng; g++) {
		const struct eval_box *G = gt[g];
		double ga = G->w * G->h;
		int crowd = G->iscrowd;

		for (size_t d = 0; d < nd; d++) {
			const struct eval_box *D = dt[d];
			double da = D->w * D->h, w, h, i, u;

			o[d * ng + g] = 0;
			w = fmin(D->w + D->x, G->w + G->x) - fmax(D->x, G->x);
			if (w <= 0)
				continue;
			h = fmin(D->h + D->y, G->h + G->y) - fmax(D->y, G->y);
			if (h <= 0)
				continue;
			i = w * h;
			u = crowd ? da : da + ga - i;
			o[d * ng + g] = i / u;
		}
	}
}

/* Stable sort of indices by score, highest first (insertion sort: cells
 * hold few detections). */
static void sort_by_score(size_t *idx, size_t n, const struct eval_box *b)
{
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i], j = i;

		while (j > 0 && b[idx[j - 1]].score < b[v].score) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

int eval_group(const struct eval_box *b, size_t n, size_t ncells, size_t nimg, size_t **start, size_t **idx)
{
	size_t *s = calloc(ncells + 1, sizeof *s), *x = malloc((n + 1) * sizeof *x);

	if (s == NULL || x == NULL) {
		free(s);
		free(x);
		return det_error_set(DET_ENOMEM, "out of memory grouping %zu boxes", n);
	}
	for (size_t i = 0; i < n; i++)
		s[(size_t)b[i].cat * nimg + (size_t)b[i].img + 1]++;
	for (size_t c = 0; c < ncells; c++)
		s[c + 1] += s[c];
	for (size_t i = 0; i < n; i++)
		x[s[(size_t)b[i].cat * nimg + (size_t)b[i].img]++] = i;
	for (size_t c = ncells; c > 0; c--)
		s[c] = s[c - 1];
	s[0] = 0;
	*start = s;
	*idx = x;
	return 0;
}

/* One detection's matching outcome, for accumulation. */
struct drec {
	double score;
	int32_t img;
	int32_t rank;            /* position among its image's (sorted) detections */
	uint16_t tp[EVAL_A];     /* bit t: true positive at threshold t */
	uint16_t ig[EVAL_A];     /* bit t: ignored */
};

static int cmp_drec(const void *pa, const void *pb)
{
	const struct drec *a = pa, *b = pb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->img != b->img)
		return a->img < b->img ? -1 : 1;
	return (a->rank > b->rank) - (a->rank < b->rank);
}

struct scratch {
	double *iou;
	const struct eval_box **dp, **gp;
	size_t *gind;
	unsigned char *gig, *gtm;
	int *dtm;
	size_t cap_iou, cap_g;
};

static int scratch_fit(struct scratch *s, size_t nd, size_t ng)
{
	if (nd * ng > s->cap_iou) {
		free(s->iou);
		s->cap_iou = nd * ng * 2;
		if ((s->iou = malloc(s->cap_iou * sizeof *s->iou)) == NULL)
			return -1;
	}
	if (ng > s->cap_g || nd > s->cap_g) {
		size_t c = 2 * (ng > nd ? ng : nd);

		free(s->gp), free(s->dp), free(s->gind), free(s->gig), free(s->gtm), free(s->dtm);
		s->gp = malloc(c * sizeof *s->gp);
		s->dp = malloc(c * sizeof *s->dp);
		s->gind = malloc(c * sizeof *s->gind);
		s->gig = malloc(c);
		s->gtm = malloc(c);
		s->dtm = malloc(c * sizeof *s->dtm);
		s->cap_g = c;
		if (!s->gp || !s->dp || !s->gind || !s->gig || !s->gtm || !s->dtm)
			return -1;
	}
	return 0;
}

static void scratch_free(struct scratch *s)
{
	free(s->iou), free(s->gp), free(s->dp), free(s->gind), free(s->gig), free(s->gtm), free(s->dtm);
}

struct ctx {
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	struct eval_result *r;
	size_t nimg;
	size_t *gstart, *gidx, *dstart, *didx; /* per cell (k * nimg + i) */
};

/* evaluateImg for one (category, image) over the four area ranges; appends
 * its detections' records. Returns the number of records. */
static size_t eval_cell(struct ctx *c, struct scratch *s, int k, size_t i, struct drec *out, size_t *npig)
{
	const struct eval_gt *gt = c->gt;
	size_t cell = (size_t)k * c->nimg + i;
	size_t g0 = c->gstart[cell], ng = c->gstart[cell + 1] - g0;
	size_t d0 = c->dstart[cell], nd = c->dstart[cell + 1] - d0;

	if (nd > 100)
		nd = 100;
	if (ng == 0 && nd == 0)
		return 0;
	if (scratch_fit(s, nd, ng) < 0)
		return (size_t)-1;
	for (size_t g = 0; g < ng; g++)
		s->gp[g] = &gt->boxes[c->gidx[g0 + g]];
	for (size_t d = 0; d < nd; d++) {
		s->dp[d] = &c->dets->boxes[c->didx[d0 + d]];
		out[d].score = s->dp[d]->score;
		out[d].img = (int32_t)i;
		out[d].rank = (int32_t)d;
	}
	eval_box_iou(s->dp, nd, s->gp, ng, s->iou);
	for (int a = 0; a < EVAL_A; a++) {
		size_t q = 0;

		/* GT order: not ignored first, then ignored, each in file order */
		for (int pass = 0; pass < 2; pass++)
			for (size_t g = 0; g < ng; g++) {
				const struct eval_box *G = s->gp[g];
				int ig = G->iscrowd || G->ignore || G->area < area_lo[a] || G->area > area_hi[a];

				if (ig == pass) {
					s->gind[q] = g;
					s->gig[q++] = (unsigned char)ig;
				}
			}
		for (size_t g = 0; g < ng; g++)
			npig[a] += !s->gig[g];
		for (size_t d = 0; d < nd; d++)
			out[d].tp[a] = out[d].ig[a] = 0;
		for (int t = 0; t < EVAL_T; t++) {
			double thr = fmin(eval_iou_thr(t), 1 - 1e-10);

			memset(s->gtm, 0, ng);
			for (size_t d = 0; d < nd; d++) {
				double best = thr;
				long m = -1;
				int unmatched, dig = 0;

				for (size_t p = 0; p < ng; p++) {
					size_t g = s->gind[p];
					double v;

					if (s->gtm[p] && !s->gp[g]->iscrowd)
						continue;
					if (m > -1 && !s->gig[m] && s->gig[p])
						break;
					v = s->iou[d * ng + g];
					if (v < best)
						continue;
					best = v;
					m = (long)p;
				}
				if (m > -1) {
					dig = s->gig[m];
					s->gtm[m] = 1;
				}
				/* pycocotools stores the GT id and tests it for 0: a GT with
				 * id 0 counts as no match in accumulate (kept for identity) */
				unmatched = m == -1 || s->gp[s->gind[m]]->id == 0;
				if (unmatched && (s->dp[d]->area < area_lo[a] || s->dp[d]->area > area_hi[a]))
					dig = 1;
				if (dig)
					out[d].ig[a] |= (uint16_t)(1u << t);
				else if (!unmatched)
					out[d].tp[a] |= (uint16_t)(1u << t);
				if (a == 0 && t == 0) {
					size_t di = c->didx[d0 + d];

					c->r->det[di].coco_tp = !dig && !unmatched;
				}
			}
		}
	}
	return nd;
}

/* accumulate for one category: precision and recall for every (t, a, m),
 * and the class's PR curve at IoU 0.5. */
static int accumulate(struct ctx *c, int k, struct drec *rec, size_t n, const size_t *npig)
{
	struct eval_result *r = c->r;
	struct eval_class *cl = &r->cls[k];
	int K = r->ncats;
	double *pr = malloc((n + 1) * sizeof *pr), *rc = malloc((n + 1) * sizeof *rc);

	if (pr == NULL || rc == NULL) {
		free(pr);
		free(rc);
		return -1;
	}
	qsort(rec, n, sizeof *rec, cmp_drec);
	for (int a = 0; a < EVAL_A; a++)
		for (int m = 0; m < EVAL_M; m++)
			for (int t = 0; t < EVAL_T; t++) {
				size_t nd = 0;
				double tp = 0, fp = 0;

				if (npig[a] == 0)
					continue; /* stays -1 */
				for (size_t j = 0; j < n; j++) {
					if (rec[j].rank >= max_dets[m] || (rec[j].ig[a] >> t & 1))
						continue;
					if (rec[j].tp[a] >> t & 1)
						tp++;
					else
						fp++;
					pr[nd] = tp / (fp + tp + DBL_EPSILON);
					rc[nd] = tp / (double)npig[a];
					nd++;
				}
				if (a == 0 && m == EVAL_M - 1 && t == 0) {
					/* the raw curve, before the envelope */
					cl->npr = nd;
					cl->pr_recall = malloc((nd + 1) * sizeof(double));
					cl->pr_precision = malloc((nd + 1) * sizeof(double));
					cl->pr_score = malloc((nd + 1) * sizeof(double));
					if (!cl->pr_recall || !cl->pr_precision || !cl->pr_score) {
						free(pr);
						free(rc);
						return -1;
					}
					for (size_t j = 0, q = 0; j < n; j++) {
						if (rec[j].rank >= max_dets[m] || (rec[j].ig[a] & 1))
							continue;
						cl->pr_score[q] = rec[j].score;
						cl->pr_recall[q] = rc[q];
						cl->pr_precision[q] = pr[q];
						q++;
					}
				}
				r->recall[eval_ridx(K, t, k, a, m)] = nd ? rc[nd - 1] : 0;
				for (size_t j = nd; j-- > 1;)
					if (pr[j] > pr[j - 1])
						pr[j - 1] = pr[j];
				for (int ri = 0, j = 0; ri < EVAL_R; ri++) {
					double thr = rec_thr(ri);

					while ((size_t)j < nd && rc[j] < thr)
						j++;
					r->precision[eval_pidx(K, t, ri, k, a, m)] = (size_t)j < nd ? pr[j] : 0;
				}
			}
	free(pr);
	free(rc);
	return 0;
}

/* The F1-optimal threshold on the class's curve; a threshold can only fall
 * between distinct scores, so only the last point of a run of equal scores
 * counts. Ties in F1 keep the higher threshold. */
static void best_f1(struct eval_class *cl)
{
	cl->f1 = cl->f1_threshold = cl->f1_precision = cl->f1_recall = NAN;
	for (size_t j = 0; j < cl->npr; j++) {
		double p, rr, f;

		if (j + 1 < cl->npr && cl->pr_score[j + 1] == cl->pr_score[j])
			continue;
		rr = cl->pr_recall[j];
		p = cl->pr_precision[j];
		f = p + rr > 0 ? 2 * p * rr / (p + rr) : 0;
		if (isnan(cl->f1) || f > cl->f1) {
			cl->f1 = f;
			cl->f1_threshold = cl->pr_score[j];
			cl->f1_precision = p;
			cl->f1_recall = rr;
		}
	}
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double mean_defined(const double *v, size_t n, size_t stride)
{
	double s = 0;
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i * stride] > -1) {
			s += v[i * stride];
			cnt++;
		}
	return cnt ? s / (double)cnt : -1;
}

/* summarize(): the mean over entries > -1 of a slice. */
static double summarize(const struct eval_result *r, int ap, int t, int a, int m)
{
	int K = r->ncats, t0 = t < 0 ? 0 : t, t1 = t < 0 ? EVAL_T : t + 1;
	double s = 0;
	size_t cnt = 0;

	for (int ti = t0; ti < t1; ti++)
		for (int k = 0; k < K; k++) {
			if (ap) {
				for (int ri = 0; ri < EVAL_R; ri++) {
					double v = r->precision[eval_pidx(K, ti, ri, k, a, m)];

					if (v > -1)
						s += v, cnt++;
				}
			} else {
				double v = r->recall[eval_ridx(K, ti, k, a, m)];

				if (v > -1)
					s += v, cnt++;
			}
		}
	return cnt ? s / (double)cnt : -1;
}

void eval_result_free(struct eval_result *r)
{
	if (r == NULL)
		return;
	if (r->cls)
		for (int k = 0; k < r->ncats; k++) {
			free(r->cls[k].pr_recall);
			free(r->cls[k].pr_precision);
			free(r->cls[k].pr_score);
		}
	free(r->cls);
	free(r->precision);
	free(r->recall);
	free(r->det);
	free(r->gt);
	free(r);
}

int eval_coco_run(const struct eval_gt *gt, const struct eval_dets *dets, struct eval_result **out)
{
	struct eval_result *r = calloc(1, sizeof *r);
	struct ctx c = { .gt = gt, .dets = dets, .r = r, .nimg = gt->nimages };
	int K = gt->ncats, failed = 0;
	double t0 = wall(), t1;
	size_t ncells = (size_t)K * gt->nimages, np = (size_t)EVAL_T * EVAL_R * (size_t)K * EVAL_A * EVAL_M;

	*out = NULL;
	if (r == NULL)
		return det_error_set(DET_ENOMEM, "out of memory evaluating");
	r->ncats = K;
	r->nimages = gt->nimages;
	r->ndets = dets->n;
	r->ngt = gt->n;
	r->precision = malloc((np + 1) * sizeof *r->precision);
	r->recall = malloc(((size_t)EVAL_T * (size_t)K * EVAL_A * EVAL_M + 1) * sizeof *r->recall);
	r->cls = calloc((size_t)K + 1, sizeof *r->cls);
	r->det = calloc(dets->n + 1, sizeof *r->det);
	r->gt = calloc(gt->n + 1, sizeof *r->gt);
	if (!r->precision || !r->recall || !r->cls || !r->det || !r->gt)
		goto nomem;
	for (size_t i = 0; i < np; i++)
		r->precision[i] = -1;
	for (size_t i = 0; i < (size_t)EVAL_T * (size_t)K * EVAL_A * EVAL_M; i++)
		r->recall[i] = -1;
	if (eval_group(gt->boxes, gt->n, ncells, gt->nimages, &c.gstart, &c.gidx) < 0 ||
	    eval_group(dets->boxes, dets->n, ncells, gt->nimages, &c.dstart, &c.didx) < 0)
		goto nomem;
	for (size_t i = 0; i < gt->n; i++)
		if (!gt->boxes[i].iscrowd)
			r->cls[gt->boxes[i].cat].ngt++;
	for (size_t i = 0; i < dets->n; i++)
		r->cls[dets->boxes[i].cat].ndet++;

	#pragma omp parallel
	{
		struct scratch s = { 0 };

		#pragma omp for schedule(dynamic, 1)
		for (int k = 0; k < K; k++) {
			size_t nd = 0, n = 0, npig[EVAL_A] = { 0 };
			struct drec *rec;

			for (size_t i = 0; i < gt->nimages; i++) {
				size_t cell = (size_t)k * gt->nimages + i;
				size_t cnt = c.dstart[cell + 1] - c.dstart[cell];

				sort_by_score(c.didx + c.dstart[cell], cnt, dets->boxes);
				nd += cnt < 100 ? cnt : 100;
			}
			rec = malloc((nd + 1) * sizeof *rec);
			if (rec == NULL) {
				#pragma omp atomic write
				failed = 1;
				continue;
			}
			for (size_t i = 0; i < gt->nimages; i++) {
				size_t got = eval_cell(&c, &s, k, i, rec + n, npig);

				if (got == (size_t)-1) {
					#pragma omp atomic write
					failed = 1;
					break;
				}
				n += got;
			}
			if (accumulate(&c, k, rec, n, npig) < 0) {
				#pragma omp atomic write
				failed = 1;
			}
			best_f1(&r->cls[k]);
			free(rec);
		}
		scratch_free(&s);
	}
	if (failed)
		goto nomem;

	r->stats[0] = summarize(r, 1, -1, 0, 2);
	r->stats[1] = summarize(r, 1, 0, 0, 2);
	r->stats[2] = summarize(r, 1, 5, 0, 2);
	r->stats[3] = summarize(r, 1, -1, 1, 2);
	r->stats[4] = summarize(r, 1, -1, 2, 2);
	r->stats[5] = summarize(r, 1, -1, 3, 2);
	r->stats[6] = summarize(r, 0, -1, 0, 0);
	r->stats[7] = summarize(r, 0, -1, 0, 1);
	r->stats[8] = summarize(r, 0, -1, 0, 2);
	r->stats[9] = summarize(r, 0, -1, 1, 2);
	r->stats[10] = summarize(r, 0, -1, 2, 2);
	r->stats[11] = summarize(r, 0, -1, 3, 2);
	for (int k = 0; k < K; k++) {
		struct eval_class *cl = &r->cls[k];
		double ap = -1, ap50, ap75;
		double buf[EVAL_T * EVAL_R];

		for (int t = 0; t < EVAL_T; t++)
			for (int ri = 0; ri < EVAL_R; ri++)
				buf[t * EVAL_R + ri] = r->precision[eval_pidx(K, t, ri, k, 0, 2)];
		ap = mean_defined(buf, EVAL_T * EVAL_R, 1);
		ap50 = mean_defined(buf, EVAL_R, 1);
		ap75 = mean_defined(buf + 5 * EVAL_R, EVAL_R, 1);
		cl->ap = ap > -1 ? ap : NAN;
		cl->ap50 = ap50 > -1 ? ap50 : NAN;
		cl->ap75 = ap75 > -1 ? ap75 : NAN;
	}
	t1 = wall();
	r->seconds_coco = t1 - t0;
	if (eval_tide_run(gt, dets, r) < 0)
		goto nomem;
	r->seconds_tide = wall() - t1;
	free(c.gstart), free(c.gidx), free(c.dstart), free(c.didx);
	*out = r;
	return 0;
nomem:
	free(c.gstart), free(c.gidx), free(c.dstart), free(c.didx);
	eval_result_free(r);
	return det_error_set(DET_ENOMEM, "out of memory evaluating %zu detections", dets->n);
}
