/* failures.c: failures of a class, the per-class failure summary, the
 * confusion heat map and the hardest images, all read off the outcome of
 * every detection and GT box that the evaluator (coco_eval.c, tide.c) kept. */
#include "eval/failures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

const char *const fail_size_names[3] = { "small", "medium", "large" };

enum fail_size fail_size_of(double area)
{
	if (area < 32.0 * 32.0)
		return FAIL_SMALL;
	if (area < 96.0 * 96.0)
		return FAIL_MEDIUM;
	return FAIL_LARGE;
}

double eval_bbox_iou(const double a[4], const double b[4])
{
	double ix = fmin(a[0] + a[2], b[0] + b[2]) - fmax(a[0], b[0]);
	double iy = fmin(a[1] + a[3], b[1] + b[3]) - fmax(a[1], b[1]);
	double inter, uni;

	if (ix <= 0 || iy <= 0)
		return 0;
	inter = ix * iy;
	uni = a[2] * a[3] + b[2] * b[3] - inter;
	return uni > 0 ? inter / uni : 0;
}

/* TIDE error type of a detection outcome, or -1 when it is no error. */
static int det_error(int kind)
{
	switch (kind) {
	case EVAL_DET_CLS: return EVAL_ERR_CLS;
	case EVAL_DET_LOC: return EVAL_ERR_LOC;
	case EVAL_DET_BOTH: return EVAL_ERR_BOTH;
	case EVAL_DET_DUPE: return EVAL_ERR_DUPE;
	case EVAL_DET_BKG: return EVAL_ERR_BKG;
	default: return -1;
	}
}

static void box_of(const struct eval_box *b, double out[4])
{
	out[0] = b->x;
	out[1] = b->y;
	out[2] = b->w;
	out[3] = b->h;
}

static int keep(const struct fail_query *q, const struct failure *f)
{
	if (q->cat >= 0 && f->cat != q->cat)
		return 0;
	if (q->kind == FAIL_KIND_FP && f->fn)
		return 0;
	if (q->kind == FAIL_KIND_FN && !f->fn)
		return 0;
	if (q->kind >= 0 && f->kind != q->kind)
		return 0;
	if (!f->fn && f->score < q->min_score)
		return 0;
	if (q->size != FAIL_ANY_SIZE && fail_size_of(f->area) != q->size)
		return 0;
	return 1;
}

static int cmp_score(const void *a, const void *b)
{
	const struct failure *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->img != y->img)
		return x->img < y->img ? -1 : 1;
	return (x->det != y->det) ? (x->det < y->det ? -1 : 1) : (x->gt < y->gt ? -1 : x->gt > y->gt);
}

static int cmp_iou(const void *a, const void *b)
{
	const struct failure *x = a, *y = b;

	if (x->iou != y->iou)
		return x->iou < y->iou ? -1 : 1;
	return cmp_score(a, b);
}

static int cmp_size(const void *a, const void *b)
{
	const struct failure *x = a, *y = b;

	if (x->area != y->area)
		return x->area < y->area ? -1 : 1;
	return cmp_score(a, b);
}

int eval_failures(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	const struct fail_query *q, struct failure **out, size_t *n)
{
	struct failure *v = malloc((dets->n + gt->n + 1) * sizeof *v);
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return det_error_set(DET_ENOMEM, "out of memory listing failures");
	for (size_t i = 0; i < dets->n; i++) {
		const struct eval_det_outcome *o = &r->det[i];
		const struct eval_box *d = &dets->boxes[i];
		int e = det_error(o->kind);
		struct failure *f = &v[m];

		if (e < 0)
			continue;
		memset(f, 0, sizeof *f);
		f->kind = (uint8_t)e;
		f->det = (int32_t)i;
		f->gt = o->gt;
		f->img = d->img;
		f->cat = d->cat;
		f->other = -1;
		if (o->gt >= 0 && gt->boxes[o->gt].cat != d->cat)
			f->other = gt->boxes[o->gt].cat;
		f->score = d->score;
		f->iou = o->iou;
		box_of(d, f->box);
		f->area = d->w * d->h;
		if (keep(q, f))
			m++;
	}
	for (size_t g = 0; g < gt->n; g++) {
		const struct eval_gt_outcome *o = &r->gt[g];
		const struct eval_box *b = &gt->boxes[g];
		struct failure *f = &v[m];

		if (o->kind != EVAL_GT_MISSED && o->kind != EVAL_GT_COVERED)
			continue;
		memset(f, 0, sizeof *f);
		f->fn = 1;
		f->kind = EVAL_ERR_MISS;
		f->det = -1;
		f->gt = (int32_t)g;
		f->img = b->img;
		f->cat = b->cat;
		f->other = -1;
		if (o->kind == EVAL_GT_COVERED && o->det >= 0) {
			const struct eval_box *d = &dets->boxes[o->det];
			int e = det_error(r->det[o->det].kind);

			f->det = o->det;
			f->kind = (uint8_t)(e >= 0 ? e : EVAL_ERR_MISS);
			f->score = d->score;
			f->iou = r->det[o->det].iou;
			if (d->cat != b->cat)
				f->other = d->cat;
		}
		box_of(b, f->box);
		f->area = b->area;
		if (keep(q, f))
			m++;
	}
	qsort(v, m, sizeof *v, q->sort == FAIL_SORT_IOU ? cmp_iou : q->sort == FAIL_SORT_SIZE ? cmp_size : cmp_score);
	*out = v;
	*n = m;
	return 0;
}

int eval_failure_summary(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	struct fail_class_summary **out)
{
	int K = gt->ncats;
	struct fail_class_summary *s = calloc((size_t)K + 1, sizeof *s);
	size_t *conf = calloc((size_t)K * (size_t)K + 1, sizeof *conf);

	*out = NULL;
	if (s == NULL || conf == NULL) {
		free(s);
		free(conf);
		return det_error_set(DET_ENOMEM, "out of memory summarising failures");
	}
	/* confusions: a CLS error pairs the predicted class with the GT's */
	for (size_t i = 0; i < dets->n; i++) {
		const struct eval_det_outcome *o = &r->det[i];
		int a = dets->boxes[i].cat, b;

		if (o->kind != EVAL_DET_CLS || o->gt < 0)
			continue;
		b = gt->boxes[o->gt].cat;
		conf[(size_t)a * (size_t)K + (size_t)b]++;
		if (a != b)
			conf[(size_t)b * (size_t)K + (size_t)a]++;
	}
	for (int k = 0; k < K; k++) {
		struct fail_class_summary *c = &s[k];

		c->cat = k;
		c->ap = r->cls[k].ap;
		c->ap50 = r->cls[k].ap50;
		memcpy(c->dap, r->cls[k].tide_dap, sizeof c->dap);
		memcpy(c->count, r->cls[k].tide_count, sizeof c->count);
		c->ngt = r->cls[k].ngt;
		c->confused_with = -1;
		for (int j = 0; j < K; j++)
			if (j != k && conf[(size_t)k * (size_t)K + (size_t)j] > c->confused_count) {
				c->confused_count = conf[(size_t)k * (size_t)K + (size_t)j];
				c->confused_with = j;
			}
	}
	for (size_t g = 0; g < gt->n; g++) {
		const struct eval_box *b = &gt->boxes[g];
		int kind = r->gt[g].kind;

		if (kind == EVAL_GT_MISSED || kind == EVAL_GT_COVERED)
			s[b->cat].missed[fail_size_of(b->area)]++;
	}
	free(conf);
	*out = s;
	return 0;
}

/* The sort column, set before qsort (qsort takes no context). */
static int sort_column;

static double column_value(const struct fail_class_summary *c, int col)
{
	if (col == 1)
		return isnan(c->ap) ? -INFINITY : -c->ap; /* lowest AP first; no GT last */
	if (col == 2)
		return isnan(c->ap50) ? -INFINITY : -c->ap50;
	if (col >= 3 && col < 3 + EVAL_NERR)
		return c->dap[col - 3];
	if (col >= 3 + EVAL_NERR && col < 6 + EVAL_NERR)
		return (double)c->missed[col - 3 - EVAL_NERR];
	return (double)c->confused_count;
}

static int cmp_summary(const void *a, const void *b)
{
	const struct fail_class_summary *x = a, *y = b;
	double u, v;

	if (sort_column == 0)
		return x->cat < y->cat ? -1 : x->cat > y->cat;
	u = column_value(x, sort_column);
	v = column_value(y, sort_column);
	/* worst first: column_value grows with how bad a class is */
	if (u != v)
		return u > v ? -1 : 1;
	return x->cat < y->cat ? -1 : x->cat > y->cat;
}

int eval_failure_summary_sort(struct fail_class_summary *s, int ncats, const char *column)
{
	static const char *const cols[] = { "class", "AP", "AP50", "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss",
		"small", "medium", "large", "confused" };
	int col = -1;

	for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++)
		if (strcasecmp(column, cols[i]) == 0)
			col = i;
	if (col < 0)
		return det_error_set(DET_EINVAL, "summary: unknown sort column '%s' (class, AP, AP50, Cls, Loc, Both, "
			"Dupe, Bkg, Miss, small, medium, large, confused)", column);
	sort_column = col;
	qsort(s, (size_t)ncats, sizeof *s, cmp_summary);
	return 0;
}

void eval_failure_summary_print(const struct fail_class_summary *s, int ncats, const struct eval_gt *gt, FILE *f)
{
	int w = 5;

	for (int k = 0; k < gt->ncats; k++)
		if ((int)strlen(gt->cat_names[k]) > w)
			w = (int)strlen(gt->cat_names[k]);
	fprintf(f, "%-*s  %5s  %5s  %5s %5s %5s %5s %5s %5s  %5s %6s %5s  %s\n", w, "class", "AP", "AP50",
		"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", "small", "medium", "large", "confused with");
	for (int i = 0; i < ncats; i++) {
		const struct fail_class_summary *c = &s[i];

		fprintf(f, "%-*s  ", w, gt->cat_names[c->cat]);
		if (isnan(c->ap))
			fprintf(f, "%5s  %5s  ", "-", "-");
		else
			fprintf(f, "%5.3f  %5.3f  ", c->ap, c->ap50);
		for (int e = 0; e < EVAL_NERR; e++)
			fprintf(f, "%5.2f%s", c->dap[e], e + 1 < EVAL_NERR ? " " : "  ");
		fprintf(f, "%5zu %6zu %5zu  ", c->missed[0], c->missed[1], c->missed[2]);
		if (c->confused_with >= 0)
			fprintf(f, "%s (%zu)\n", gt->cat_names[c->confused_with], c->confused_count);
		else
			fprintf(f, "-\n");
	}
}

void eval_confusion_heatmap_print(const struct eval_gt *gt, const size_t *m, int utf8, FILE *f)
{
	static const char *const shade_utf8[] = { " ", "\xe2\x96\x91", "\xe2\x96\x92", "\xe2\x96\x93", "\xe2\x96\x88" };
	static const char *const shade_ascii[] = { " ", ".", ":", "o", "#" };
	const char *const *shade = utf8 ? shade_utf8 : shade_ascii;
	int K = gt->ncats, w = 10;

	for (int k = 0; k < K; k++)
		if ((int)strlen(gt->cat_names[k]) > w)
			w = (int)strlen(gt->cat_names[k]);
	/* column headers: each column is two cells wide, numbered; a legend follows */
	fprintf(f, "%-*s  ", w, "GT \\ pred");
	for (int b = 0; b <= K; b++)
		fprintf(f, "%2d%s", b < K ? b + 1 : 0, b < K ? "" : "");
	fprintf(f, "   row total\n");
	for (int a = 0; a <= K; a++) {
		size_t total = 0;

		for (int b = 0; b <= K; b++)
			total += m[(size_t)a * (size_t)(K + 1) + (size_t)b];
		fprintf(f, "%-*s  ", w, a < K ? gt->cat_names[a] : "background");
		for (int b = 0; b <= K; b++) {
			size_t c = m[(size_t)a * (size_t)(K + 1) + (size_t)b];
			int level = 0;

			if (c > 0 && total > 0) {
				double share = (double)c / (double)total;

				level = share >= 0.75 ? 4 : share >= 0.5 ? 3 : share >= 0.2 ? 2 : 1;
			}
			fprintf(f, "%s%s", shade[level], shade[level]);
		}
		fprintf(f, "   %zu\n", total);
	}
	fprintf(f, "columns: ");
	for (int b = 0; b < K; b++)
		fprintf(f, "%d=%s ", b + 1, gt->cat_names[b]);
	fprintf(f, "0=background (missed)\nshade: share of the row: %s%s <20%%  %s%s 20-50%%  %s%s 50-75%%  %s%s >=75%%\n",
		shade[1], shade[1], shade[2], shade[2], shade[3], shade[3], shade[4], shade[4]);
}

static int cmp_images(const void *a, const void *b)
{
	const struct fail_image *x = a, *y = b;

	if (x->errors != y->errors)
		return x->errors > y->errors ? -1 : 1;
	return x->img < y->img ? -1 : x->img > y->img;
}

int eval_hardest_images(const struct eval_gt *gt, const struct eval_dets *dets, const struct eval_result *r,
	double min_score, struct fail_image **out, size_t *n)
{
	struct fail_image *v = calloc(gt->nimages + 1, sizeof *v);
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return det_error_set(DET_ENOMEM, "out of memory ranking images");
	for (size_t i = 0; i < gt->nimages; i++)
		v[i].img = (int32_t)i;
	for (size_t i = 0; i < dets->n; i++)
		if (det_error(r->det[i].kind) >= 0 && dets->boxes[i].score >= min_score)
			v[dets->boxes[i].img].fp++;
	for (size_t g = 0; g < gt->n; g++) {
		const struct eval_gt_outcome *o = &r->gt[g];

		if (o->kind == EVAL_GT_IGNORED)
			continue;
		if (o->kind != EVAL_GT_MATCHED || o->det < 0 || dets->boxes[o->det].score < min_score)
			v[gt->boxes[g].img].fn++;
	}
	for (size_t i = 0; i < gt->nimages; i++) {
		v[i].errors = v[i].fp + v[i].fn;
		if (v[i].errors > 0)
			v[m++] = v[i];
	}
	qsort(v, m, sizeof *v, cmp_images);
	*out = v;
	*n = m;
	return 0;
}
