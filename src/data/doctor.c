/* doctor.c: the dataset doctor. One pass over the images gathers the counts
 * and findings into a struct doctor_report; the writers below render it as
 * aligned text (80 columns, block-character bars) or JSON (cJSON). */
#include "data/doctor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "core/error.h"

const char *const doctor_count_bin_names[DOCTOR_COUNT_BINS] = {
	"0", "1", "2", "3-4", "5-8", "9-16", "17-32", "33+",
};
const char *const doctor_aspect_bin_names[DOCTOR_ASPECT_BINS] = {
	"< 1:4", "1:4-1:2", "1:2-1:1", "1:1-2:1", "2:1-4:1", ">= 4:1",
};

static const char *const kind_keys[DOCTOR_NKINDS] = {
	"near_duplicates", "tiny_boxes", "border_boxes", "empty_images", "missing_files",
	"degenerate_boxes",
};

static int count_bin(size_t n)
{
	if (n <= 2)
		return (int)n;
	if (n <= 4)
		return 3;
	if (n <= 8)
		return 4;
	if (n <= 16)
		return 5;
	if (n <= 32)
		return 6;
	return 7;
}

static int aspect_bin(double a)
{
	return a < 0.25 ? 0 : a < 0.5 ? 1 : a < 1 ? 2 : a < 2 ? 3 : a < 4 ? 4 : 5;
}

static void note(struct doctor_finding *f, size_t image, size_t box, size_t other, float iou)
{
	if (f->nexamples < DOCTOR_EXAMPLES) {
		struct doctor_example *e = &f->ex[f->nexamples++];

		e->image = image, e->box = box, e->other = other, e->iou = iou;
	}
	f->count++;
}

static int degenerate(const struct dataset *ds, const struct dataset_image *im,
	const struct dataset_box *b)
{
	const float slack = 1.0f; /* a pixel past the border is rounding, not an error */

	if (!isfinite(b->x0) || !isfinite(b->y0) || !isfinite(b->x1) || !isfinite(b->y1))
		return 1;
	if (!(b->x1 > b->x0) || !(b->y1 > b->y0))
		return 1;
	if (b->cls < 0 || b->cls >= ds->nclasses)
		return 1;
	if (im->width > 0 && im->height > 0 &&
	    (b->x0 < -slack || b->y0 < -slack || b->x1 > im->width + slack || b->y1 > im->height + slack))
		return 1;
	return 0;
}

static float box_iou(const struct dataset_box *a, const struct dataset_box *b)
{
	float iw = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
	float ih = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
	float inter, uni;

	if (iw <= 0 || ih <= 0)
		return 0;
	inter = iw * ih;
	uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
	return uni > 0 ? inter / uni : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n sorted values. */
static double median_of(const double *v, size_t n)
{
	if (n == 0)
		return 0;
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static const struct doctor_report *sort_report; /* qsort has no context argument */

static int cmp_class(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	size_t cx = sort_report->class_objects[x], cy = sort_report->class_objects[y];

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x - y;
}

static int file_exists(const struct dataset *ds, const char *file)
{
	size_t lr = ds->root ? strlen(ds->root) : 0, lf = strlen(file);
	char buf[4096];

	if (file[0] == '/' || lr == 0)
		return access(file, F_OK) == 0;
	if (lr + lf + 2 > sizeof buf)
		return 1;
	memcpy(buf, ds->root, lr);
	buf[lr] = '/';
	memcpy(buf + lr + 1, file, lf + 1);
	return access(buf, F_OK) == 0;
}

int doctor_run(const struct dataset *ds, const struct doctor_options *opt, struct doctor_report **out)
{
	struct doctor_report *r = calloc(1, sizeof *r);
	double *counts = NULL, *aspects = NULL;
	size_t naspects = 0;
	int nc = ds->nclasses;
	char *seen = NULL;

	*out = NULL;
	if (r == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for the doctor's report");
	r->ds = ds;
	r->opt.dup_iou = 0.95f, r->opt.tiny_px = 4, r->opt.border_px = 1;
	r->opt.check_files = ds->render == NULL;
	if (opt) {
		r->opt = *opt;
		if (!(r->opt.dup_iou > 0))
			r->opt.dup_iou = 0.95f;
		if (!(r->opt.tiny_px > 0))
			r->opt.tiny_px = 4;
		if (!(r->opt.border_px >= 0))
			r->opt.border_px = 1;
	}
	for (int k = 0; k < DOCTOR_NKINDS; k++)
		r->findings[k].key = kind_keys[k];
	r->findings[DOCTOR_DUPLICATES].title = "near-duplicate boxes (same class, high IoU)";
	r->findings[DOCTOR_TINY].title = "tiny boxes (a side under the limit)";
	r->findings[DOCTOR_BORDER].title = "boxes on the image border";
	r->findings[DOCTOR_EMPTY].title = "empty images (no objects)";
	r->findings[DOCTOR_MISSING].title = "missing image files";
	r->findings[DOCTOR_DEGENERATE].title = "degenerate boxes (empty, NaN, outside, bad class)";
	r->nimages = ds->nimages;
	r->nobjects = ds->nboxes;
	r->nclasses = nc;
	r->class_max = r->class_min = -1;
	r->class_objects = calloc((size_t)(nc > 0 ? nc : 1), sizeof *r->class_objects);
	r->class_images = calloc((size_t)(nc > 0 ? nc : 1), sizeof *r->class_images);
	r->class_order = calloc((size_t)(nc > 0 ? nc : 1), sizeof *r->class_order);
	seen = calloc((size_t)(nc > 0 ? nc : 1), 1);
	counts = malloc((ds->nimages ? ds->nimages : 1) * sizeof *counts);
	aspects = malloc((ds->nboxes ? ds->nboxes : 1) * sizeof *aspects);
	if (!r->class_objects || !r->class_images || !r->class_order || !seen || !counts || !aspects) {
		free(seen), free(counts), free(aspects);
		doctor_report_free(r);
		return det_error_set(DET_ENOMEM, "out of memory for the doctor's report");
	}

	for (size_t i = 0; i < ds->nimages; i++) {
		const struct dataset_image *im = &ds->images[i];
		/* no pointer arithmetic on a NULL boxes array (a dataset with no boxes) */
		const struct dataset_box *b = im->box_count ? dataset_image_boxes(ds, i) : NULL;
		float W = (float)im->width, H = (float)im->height, bp = r->opt.border_px;

		counts[i] = (double)im->box_count;
		r->per_image_hist[count_bin(im->box_count)]++;
		if (im->box_count == 0)
			note(&r->findings[DOCTOR_EMPTY], i, SIZE_MAX, SIZE_MAX, 0);
		if (r->opt.check_files && im->file && !file_exists(ds, im->file))
			note(&r->findings[DOCTOR_MISSING], i, SIZE_MAX, SIZE_MAX, 0);
		memset(seen, 0, (size_t)(nc > 0 ? nc : 1));
		for (size_t k = 0; k < im->box_count; k++) {
			const struct dataset_box *bk = &b[k];
			size_t gk = im->box_start + k;
			double w, h, area;

			r->ignored += bk->ignore != 0;
			r->crowd += bk->iscrowd != 0;
			if (degenerate(ds, im, bk)) {
				note(&r->findings[DOCTOR_DEGENERATE], i, gk, SIZE_MAX, 0);
				continue;
			}
			r->class_objects[bk->cls]++;
			if (!seen[bk->cls]) {
				seen[bk->cls] = 1;
				r->class_images[bk->cls]++;
			}
			w = bk->x1 - bk->x0, h = bk->y1 - bk->y0;
			area = bk->area > 0 ? bk->area : w * h;
			if (area < 32 * 32)
				r->size_small++;
			else if (area < 96 * 96)
				r->size_medium++;
			else
				r->size_large++;
			aspects[naspects++] = w / h;
			r->aspect_hist[aspect_bin(w / h)]++;
			if (w < r->opt.tiny_px || h < r->opt.tiny_px)
				note(&r->findings[DOCTOR_TINY], i, gk, SIZE_MAX, 0);
			if (W > 0 && H > 0 &&
			    (bk->x0 < bp || bk->y0 < bp || bk->x1 > W - bp || bk->y1 > H - bp))
				note(&r->findings[DOCTOR_BORDER], i, gk, SIZE_MAX, 0);
			/* O(n^2) per image: images hold tens, rarely hundreds, of boxes */
			for (size_t j = k + 1; j < im->box_count; j++) {
				float iou;

				if (b[j].cls != bk->cls || degenerate(ds, im, &b[j]))
					continue;
				iou = box_iou(bk, &b[j]);
				if (iou > r->opt.dup_iou)
					note(&r->findings[DOCTOR_DUPLICATES], i, gk, im->box_start + j, iou);
			}
		}
	}

	qsort(counts, ds->nimages, sizeof *counts, cmp_double);
	if (ds->nimages) {
		double sum = 0;

		for (size_t i = 0; i < ds->nimages; i++)
			sum += counts[i];
		r->per_image_min = (size_t)counts[0];
		r->per_image_max = (size_t)counts[ds->nimages - 1];
		r->per_image_median = median_of(counts, ds->nimages);
		r->per_image_mean = sum / (double)ds->nimages;
	}
	qsort(aspects, naspects, sizeof *aspects, cmp_double);
	if (naspects) {
		r->aspect_min = aspects[0];
		r->aspect_max = aspects[naspects - 1];
		r->aspect_median = median_of(aspects, naspects);
	}
	for (int c = 0; c < nc; c++) {
		r->class_order[c] = c;
		if (r->class_objects[c] == 0)
			continue;
		r->classes_used++;
		if (r->class_max < 0 || r->class_objects[c] > r->class_objects[r->class_max])
			r->class_max = c;
		if (r->class_min < 0 || r->class_objects[c] < r->class_objects[r->class_min])
			r->class_min = c;
	}
	if (r->class_max >= 0)
		r->imbalance = (double)r->class_objects[r->class_max] / (double)r->class_objects[r->class_min];
	sort_report = r;
	qsort(r->class_order, (size_t)nc, sizeof *r->class_order, cmp_class);
	sort_report = NULL;
	free(seen), free(counts), free(aspects);
	*out = r;
	return 0;
}

void doctor_report_free(struct doctor_report *r)
{
	if (r == NULL)
		return;
	free(r->class_objects);
	free(r->class_images);
	free(r->class_order);
	free(r);
}

/* ---- text ------------------------------------------------------------------ */

/* A horizontal bar of value/max * width cells, in eighths of a cell, padded
 * with spaces to width columns. */
static void bar(FILE *f, double value, double max, int width)
{
	static const char *const eighths[8] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	long units = max > 0 ? lround(value / max * width * 8) : 0;
	int cols = 0;

	if (value > 0 && units == 0)
		units = 1; /* something is there: show a sliver */
	for (; units >= 8; units -= 8, cols++)
		fputs("█", f);
	if (units > 0) {
		fputs(eighths[units], f);
		cols++;
	}
	for (; cols < width; cols++)
		fputc(' ', f);
}

/* Writes s in exactly width columns: cut with "~" when longer (counts bytes;
 * names are ASCII in practice, and a cut never splits below the width). */
static void field(FILE *f, const char *s, int width)
{
	int n = (int)strlen(s);

	if (n > width)
		fprintf(f, "%.*s~", width - 1, s);
	else
		fprintf(f, "%-*s", width, s);
}

static const char *class_name(const struct dataset *ds, int32_t cls)
{
	return cls >= 0 && cls < ds->nclasses ? ds->class_names[cls] : "?";
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

/* A coordinate rounded to a tenth of a pixel, printed with %g. */
static double tenth(float v)
{
	return round((double)v * 10) / 10;
}

static void example_text(FILE *f, const struct doctor_report *r, const struct doctor_finding *fd,
	const struct doctor_example *e)
{
	const struct dataset *ds = r->ds;
	const struct dataset_image *im = &ds->images[e->image];
	char where[64], line[160];
	int n;

	snprintf(where, sizeof where, "image %lld%s%.30s", (long long)im->id, im->file ? " " : "",
		im->file ? base_name(im->file) : "");
	if (e->box == SIZE_MAX) {
		if (fd == &r->findings[DOCTOR_EMPTY])
			n = snprintf(line, sizeof line, "%s (%dx%d)", where, im->width, im->height);
		else
			n = snprintf(line, sizeof line, "%s", im->file ? im->file : where);
	} else {
		const struct dataset_box *b = &ds->boxes[e->box];

		n = snprintf(line, sizeof line, "%s: %.16s [%g %g %g %g]", where,
			class_name(ds, b->cls), tenth(b->x0), tenth(b->y0), tenth(b->x1), tenth(b->y1));
		if (e->other != SIZE_MAX && n > 0 && (size_t)n < sizeof line) {
			const struct dataset_box *o = &ds->boxes[e->other];

			snprintf(line + n, sizeof line - (size_t)n, " ~ [%g %g %g %g] IoU %.3f",
				tenth(o->x0), tenth(o->y0), tenth(o->x1), tenth(o->y1), e->iou);
		}
	}
	(void)n;
	if (strlen(line) > 74)
		fprintf(f, "      %.73s~\n", line);
	else
		fprintf(f, "      %s\n", line);
}

void doctor_wrap(FILE *f, const char *lead, const char *text)
{
	int col = (int)strlen(lead);

	fputs(lead, f);
	while (*text) {
		size_t w = strcspn(text, " ");

		if (col > 8 && col + 1 + (int)w > 80) {
			fputs("\n        ", f);
			col = 8;
		} else if (col > (int)strlen(lead)) {
			fputc(' ', f);
			col++;
		}
		if (w > 72)
			w = 72; /* a path longer than a line is cut into pieces */
		fwrite(text, 1, w, f);
		col += (int)w;
		text += w;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

int doctor_write_text(const struct doctor_report *r, FILE *f)
{
	const struct dataset *ds = r->ds;
	size_t top = 0, nsized = r->size_small + r->size_medium + r->size_large;
	char title[128];

	fprintf(f, "Dataset doctor: %.56s%s%s%s\n", ds->name ? ds->name : "dataset",
		r->format ? " (" : "", r->format ? r->format : "", r->format ? ")" : "");
	if (ds->root && ds->render == NULL)
		fprintf(f, "  root     %.68s\n", ds->root);
	fprintf(f, "  images   %-10zu objects  %-10zu classes  %d (%d with objects)\n",
		r->nimages, r->nobjects, r->nclasses, r->classes_used);
	if (r->ignored || r->crowd)
		fprintf(f, "  ignored (difficult) %zu, crowd %zu\n", r->ignored, r->crowd);

	fprintf(f, "\nObjects per class%*s%8s%8s\n", 44, "", "objects", "images");
	for (int k = 0; k < r->nclasses; k++)
		if (r->class_objects[k] > top)
			top = r->class_objects[k];
	for (int k = 0; k < r->nclasses; k++) {
		int c = r->class_order[k];

		fputs("  ", f);
		field(f, ds->class_names[c], 20);
		fputs("  ", f);
		bar(f, (double)r->class_objects[c], (double)top, 36);
		fprintf(f, "%9zu%8zu\n", r->class_objects[c], r->class_images[c]);
	}
	if (r->class_max >= 0) {
		fprintf(f, "  imbalance %.1f (%.20s %zu / %.20s %zu)", r->imbalance,
			ds->class_names[r->class_max], r->class_objects[r->class_max],
			ds->class_names[r->class_min], r->class_objects[r->class_min]);
		if (r->classes_used < r->nclasses)
			fprintf(f, "; %d without objects", r->nclasses - r->classes_used);
		fputc('\n', f);
	} else {
		fputs("  imbalance -- (no objects)\n", f);
	}

	fprintf(f, "\nObjects per image   min %zu   median %g   max %zu   mean %.2f\n",
		r->per_image_min, r->per_image_median, r->per_image_max, r->per_image_mean);
	top = 0;
	for (int k = 0; k < DOCTOR_COUNT_BINS; k++)
		if (r->per_image_hist[k] > top)
			top = r->per_image_hist[k];
	for (int k = 0; k < DOCTOR_COUNT_BINS; k++) {
		fprintf(f, "  %-20s  ", doctor_count_bin_names[k]);
		bar(f, (double)r->per_image_hist[k], (double)top, 36);
		fprintf(f, "%9zu%7.1f%%\n", r->per_image_hist[k],
			r->nimages ? 100.0 * (double)r->per_image_hist[k] / (double)r->nimages : 0.0);
	}

	fputs("\nBox sizes (COCO area ranges)\n", f);
	{
		static const char *const names[3] = { "small  < 32²", "medium < 96²", "large  >= 96²" };
		size_t v[3] = { r->size_small, r->size_medium, r->size_large };

		top = v[0] > v[1] ? v[0] : v[1];
		top = top > v[2] ? top : v[2];
		for (int k = 0; k < 3; k++) {
			fputs("  ", f);
			fputs(names[k], f);
			/* "²" is two bytes but one column */
			fprintf(f, "%*s", 20 - (int)strlen(names[k]) + 1 + 2, "");
			bar(f, (double)v[k], (double)top, 36);
			fprintf(f, "%9zu%7.1f%%\n", v[k], nsized ? 100.0 * (double)v[k] / (double)nsized : 0.0);
		}
	}

	fprintf(f, "\nAspect ratio w/h    min %.2f   median %.2f   max %.2f\n",
		r->aspect_min, r->aspect_median, r->aspect_max);
	top = 0;
	for (int k = 0; k < DOCTOR_ASPECT_BINS; k++)
		if (r->aspect_hist[k] > top)
			top = r->aspect_hist[k];
	for (int k = 0; k < DOCTOR_ASPECT_BINS; k++) {
		fprintf(f, "  %-20s  ", doctor_aspect_bin_names[k]);
		bar(f, (double)r->aspect_hist[k], (double)top, 36);
		fprintf(f, "%9zu%7.1f%%\n", r->aspect_hist[k],
			nsized ? 100.0 * (double)r->aspect_hist[k] / (double)nsized : 0.0);
	}

	fprintf(f, "\nFindings%*s%8s\n", 64, "", "count");
	for (int k = 0; k < DOCTOR_NKINDS; k++) {
		const struct doctor_finding *fd = &r->findings[k];

		switch (k) {
		case DOCTOR_DUPLICATES:
			snprintf(title, sizeof title, "near-duplicate boxes (same class, IoU > %.2f)",
				r->opt.dup_iou);
			break;
		case DOCTOR_TINY:
			snprintf(title, sizeof title, "tiny boxes (a side < %g px)", r->opt.tiny_px);
			break;
		case DOCTOR_BORDER:
			snprintf(title, sizeof title, "boxes on the border (within %g px)", r->opt.border_px);
			break;
		case DOCTOR_MISSING:
			snprintf(title, sizeof title, "%s%s", fd->title,
				r->opt.check_files ? "" : " (not checked)");
			break;
		default:
			snprintf(title, sizeof title, "%s", fd->title);
		}
		fputs("  ", f);
		field(f, title, 69);
		fprintf(f, "%9zu\n", fd->count);
		for (size_t e = 0; e < fd->nexamples; e++)
			example_text(f, r, fd, &fd->ex[e]);
		if (fd->count > fd->nexamples && fd->nexamples)
			fprintf(f, "      ... and %zu more\n", fd->count - fd->nexamples);
	}
	{
		char line[600];

		doctor_reader_summary(ds, r->nproblems_kept == 0, line, sizeof line);
		fputc('\n', f);
		doctor_wrap(f, "Reader: ", line);
		for (size_t k = 0; k < r->nproblems_kept; k++)
			doctor_wrap(f, "  ", r->problems[k]);
		if (r->nproblems > r->nproblems_kept)
			fprintf(f, "  ... and %zu more\n", r->nproblems - r->nproblems_kept);
	}
	return ferror(f) ? det_error_set(DET_EIO, "can't write the doctor's report") : 0;
}

char *doctor_text(const struct doctor_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	doctor_write_text(r, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void doctor_reader_summary(const struct dataset *ds, int with_first, char *buf, size_t n)
{
	const struct dataset_report *rep = &ds->report;
	size_t used = 0;

#define PUT(...) do { \
	int w_ = snprintf(buf + used, used < n ? n - used : 0, __VA_ARGS__); \
	if (w_ > 0) used += (size_t)w_; \
	if (used >= n) used = n - 1; \
} while (0)
	buf[0] = '\0';
	if (!rep->images_skipped && !rep->boxes_skipped && !rep->boxes_clipped && !rep->duplicates) {
		PUT("nothing skipped");
		return;
	}
	PUT("skipped %zu image%s and %zu box%s", rep->images_skipped,
		rep->images_skipped == 1 ? "" : "s", rep->boxes_skipped,
		rep->boxes_skipped == 1 ? "" : "es");
	if (rep->duplicates)
		PUT(", %zu duplicate image id%s", rep->duplicates, rep->duplicates == 1 ? "" : "s");
	PUT(", clipped %zu box%s", rep->boxes_clipped, rep->boxes_clipped == 1 ? "" : "es");
	if (with_first && rep->first_problem[0])
		PUT("; first: %s", rep->first_problem);
#undef PUT
}

/* ---- JSON ------------------------------------------------------------------ */

static cJSON *box_json(const struct dataset_box *b)
{
	double v[4] = { b->x0, b->y0, b->x1, b->y1 };

	return cJSON_CreateDoubleArray(v, 4);
}

static cJSON *hist_json(const char *const *names, const size_t *v, int n)
{
	cJSON *a = cJSON_CreateArray();

	for (int k = 0; a && k < n; k++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "bin", names[k]);
		cJSON_AddNumberToObject(o, "count", (double)v[k]);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

int doctor_write_json(const struct doctor_report *r, FILE *f)
{
	const struct dataset *ds = r->ds;
	cJSON *root = cJSON_CreateObject(), *o, *a;
	char *text, line[600];
	int rc = 0;

	if (root == NULL)
		return det_error_set(DET_ENOMEM, "out of memory writing JSON");
	cJSON_AddStringToObject(root, "name", ds->name ? ds->name : "");
	if (r->format)
		cJSON_AddStringToObject(root, "format", r->format);
	if (ds->root)
		cJSON_AddStringToObject(root, "root", ds->root);
	cJSON_AddNumberToObject(root, "images", (double)r->nimages);
	cJSON_AddNumberToObject(root, "objects", (double)r->nobjects);
	cJSON_AddNumberToObject(root, "ignored", (double)r->ignored);
	cJSON_AddNumberToObject(root, "crowd", (double)r->crowd);
	cJSON_AddNumberToObject(root, "classes", r->nclasses);
	cJSON_AddNumberToObject(root, "classes_used", r->classes_used);
	a = cJSON_AddArrayToObject(root, "per_class");
	for (int k = 0; a && k < r->nclasses; k++) {
		int c = r->class_order[k];

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", ds->class_names[c]);
		cJSON_AddNumberToObject(o, "class", c + 1);
		cJSON_AddNumberToObject(o, "objects", (double)r->class_objects[c]);
		cJSON_AddNumberToObject(o, "images", (double)r->class_images[c]);
		cJSON_AddItemToArray(a, o);
	}
	if (r->class_max >= 0) {
		cJSON_AddNumberToObject(root, "imbalance", r->imbalance);
		cJSON_AddStringToObject(root, "most_frequent", ds->class_names[r->class_max]);
		cJSON_AddStringToObject(root, "least_frequent", ds->class_names[r->class_min]);
	} else {
		cJSON_AddNullToObject(root, "imbalance");
	}
	o = cJSON_AddObjectToObject(root, "objects_per_image");
	cJSON_AddNumberToObject(o, "min", (double)r->per_image_min);
	cJSON_AddNumberToObject(o, "median", r->per_image_median);
	cJSON_AddNumberToObject(o, "max", (double)r->per_image_max);
	cJSON_AddNumberToObject(o, "mean", r->per_image_mean);
	cJSON_AddItemToObject(o, "histogram", hist_json(doctor_count_bin_names, r->per_image_hist,
		DOCTOR_COUNT_BINS));
	o = cJSON_AddObjectToObject(root, "sizes");
	cJSON_AddNumberToObject(o, "small", (double)r->size_small);
	cJSON_AddNumberToObject(o, "medium", (double)r->size_medium);
	cJSON_AddNumberToObject(o, "large", (double)r->size_large);
	o = cJSON_AddObjectToObject(root, "aspect");
	cJSON_AddNumberToObject(o, "min", r->aspect_min);
	cJSON_AddNumberToObject(o, "median", r->aspect_median);
	cJSON_AddNumberToObject(o, "max", r->aspect_max);
	cJSON_AddItemToObject(o, "histogram", hist_json(doctor_aspect_bin_names, r->aspect_hist,
		DOCTOR_ASPECT_BINS));
	o = cJSON_AddObjectToObject(root, "findings");
	for (int k = 0; o && k < DOCTOR_NKINDS; k++) {
		const struct doctor_finding *fd = &r->findings[k];
		cJSON *fo = cJSON_AddObjectToObject(o, fd->key), *ex;

		cJSON_AddNumberToObject(fo, "count", (double)fd->count);
		ex = cJSON_AddArrayToObject(fo, "examples");
		for (size_t e = 0; ex && e < fd->nexamples; e++) {
			const struct doctor_example *x = &fd->ex[e];
			const struct dataset_image *im = &ds->images[x->image];
			cJSON *eo = cJSON_CreateObject();

			cJSON_AddNumberToObject(eo, "image", (double)im->id);
			if (im->file)
				cJSON_AddStringToObject(eo, "file", im->file);
			if (x->box != SIZE_MAX) {
				cJSON_AddStringToObject(eo, "class", class_name(ds, ds->boxes[x->box].cls));
				cJSON_AddItemToObject(eo, "box", box_json(&ds->boxes[x->box]));
			}
			if (x->other != SIZE_MAX) {
				cJSON_AddItemToObject(eo, "other", box_json(&ds->boxes[x->other]));
				cJSON_AddNumberToObject(eo, "iou", x->iou);
			}
			cJSON_AddItemToArray(ex, eo);
		}
	}
	o = cJSON_AddObjectToObject(root, "reader");
	cJSON_AddNumberToObject(o, "images_skipped", (double)ds->report.images_skipped);
	cJSON_AddNumberToObject(o, "boxes_skipped", (double)ds->report.boxes_skipped);
	cJSON_AddNumberToObject(o, "boxes_clipped", (double)ds->report.boxes_clipped);
	cJSON_AddNumberToObject(o, "duplicates", (double)ds->report.duplicates);
	doctor_reader_summary(ds, 1, line, sizeof line);
	cJSON_AddStringToObject(o, "summary", line);
	if (r->nproblems_kept) {
		cJSON *pa = cJSON_AddArrayToObject(o, "problems");

		for (size_t k = 0; pa && k < r->nproblems_kept; k++)
			cJSON_AddItemToArray(pa, cJSON_CreateString(r->problems[k]));
		cJSON_AddNumberToObject(o, "problem_count", (double)r->nproblems);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return det_error_set(DET_ENOMEM, "out of memory writing JSON");
	if (fputs(text, f) < 0 || fputc('\n', f) < 0)
		rc = det_error_set(DET_EIO, "can't write the doctor's JSON report");
	free(text);
	return rc;
}
