/* samples.c: the validation images an evaluation is shown on, with GT and
 * detections (for the samples panel), and the run directory's sidecar
 * (samples.json and the PNGs under samples/) that carries them to `detbench watch`.
 * Format and atomicity: samples.h. */
#include "train/samples.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/atomic.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "data/dataset.h"
#include "data/imageio.h"
#include "eval/coco_eval.h"

#define SIDE_MAX 320 /* the sidecar's images are shrunk to this side */

void train_samples_free(struct train_sample *s, int n)
{
	if (s == NULL)
		return;
	for (int i = 0; i < n; i++) {
		image_fini(&s[i].im);
		free(s[i].boxes);
	}
	free(s);
}

static int by_score(const void *a, const void *b)
{
	const struct train_sample_box *x = a, *y = b;

	return (x->score < y->score) - (x->score > y->score);
}

/* The image, GT and detections of dataset image i. cat_class maps the
 * evaluation's category index to the dataset's class. */
static int sample_one(const struct dataset *ds, size_t i, const struct eval_gt *gt, const struct eval_dets *dets,
	const int *cat_class, double min_score, struct train_sample *s)
{
	const struct dataset_image *di = &ds->images[i];
	const struct dataset_box *g = dataset_image_boxes(ds, i);
	long gi = gt ? eval_gt_image_index(gt, di->id) : -1;
	size_t nd = 0;
	int rc;

	if (ds->render)
		rc = ds->render(ds, i, &s->im);
	else {
		char path[4096];

		snprintf(path, sizeof path, "%s%s%s", ds->root ? ds->root : "", ds->root ? "/" : "", di->file ? di->file : "");
		rc = imageio_load(path, &s->im);
	}
	if (rc != 0)
		return rc;
	snprintf(s->name, sizeof s->name, "#%zu", i + 1);
	if (gi >= 0 && dets)
		for (size_t k = 0; k < dets->n; k++)
			nd += dets->boxes[k].img == gi && dets->boxes[k].score >= min_score;
	s->boxes = calloc(di->box_count + nd + 1, sizeof *s->boxes);
	if (s->boxes == NULL)
		return det_error_set(DET_ENOMEM, "samples: out of memory for the boxes of image %zu", i + 1);
	for (size_t k = 0; k < di->box_count; k++)
		s->boxes[s->nboxes++] = (struct train_sample_box){ g[k].x0, g[k].y0, g[k].x1, g[k].y1, g[k].cls, 1, 0 };
	if (nd > 0) {
		struct train_sample_box *d = s->boxes + s->nboxes;
		size_t m = 0;

		for (size_t k = 0; k < dets->n; k++) {
			const struct eval_box *e = &dets->boxes[k];

			if (e->img != gi || e->score < min_score)
				continue;
			d[m++] = (struct train_sample_box){ (float)e->x, (float)e->y, (float)(e->x + e->w), (float)(e->y + e->h),
				e->cat >= 0 && e->cat < gt->ncats ? cat_class[e->cat] : -1, (float)e->score, 1 };
		}
		qsort(d, m, sizeof *d, by_score);
		s->nboxes += (int)(m < TRAIN_SAMPLES_MAX_DETS ? m : TRAIN_SAMPLES_MAX_DETS);
	}
	return 0;
}

int train_samples_from_eval(const struct dataset *ds, const size_t *idx, int n, const struct eval_gt *gt,
	const struct eval_dets *dets, double min_score, struct train_sample **out)
{
	struct train_sample *s;
	int *cat_class = NULL, rc = 0;

	*out = NULL;
	if (n > (int)ds->nimages)
		n = (int)ds->nimages;
	if (n > TRAIN_SAMPLES_MAX)
		n = TRAIN_SAMPLES_MAX;
	if (n < 0)
		n = 0;
	s = calloc((size_t)n + 1, sizeof *s);
	if (gt)
		cat_class = malloc(((size_t)gt->ncats + 1) * sizeof *cat_class);
	if (s == NULL || (gt && cat_class == NULL)) {
		free(s);
		free(cat_class);
		return det_error_set(DET_ENOMEM, "samples: out of memory");
	}
	for (int k = 0; gt && k < gt->ncats; k++) {
		cat_class[k] = -1;
		for (int c = 0; c < ds->nclasses; c++)
			if ((ds->class_ids ? ds->class_ids[c] : c) == gt->cat_ids[k])
				cat_class[k] = c;
	}
	for (int k = 0; k < n && rc == 0; k++) {
		size_t i = idx ? idx[k] : (size_t)k;

		if (i >= ds->nimages)
			rc = det_error_set(DET_EINVAL, "samples: image %zu is not in the dataset (1..%zu)", i + 1, ds->nimages);
		else
			rc = sample_one(ds, i, gt, dets, cat_class, min_score, &s[k]);
	}
	free(cat_class);
	if (rc) {
		train_samples_free(s, n);
		return rc;
	}
	*out = s;
	return n;
}

/* ---- the sidecar ---- */

/* Writes im (shrunk to SIDE_MAX, RGB) as PNG at path, atomically; *scale
 * gets the factor applied to its coordinates. */
static int write_png(const char *path, const struct image *src, float *scale)
{
	struct image small = { 0 }, rgb = { 0 };
	const struct image *im = src;
	int side = src->width > src->height ? src->width : src->height, rc;

	*scale = 1;
	if (side > SIDE_MAX) {
		*scale = (float)SIDE_MAX / (float)side;
		if ((rc = image_init(&small, (int)lroundf((float)src->width * *scale), (int)lroundf((float)src->height * *scale),
			     src->channels)) || (rc = imageio_resize(src, &small, IMAGEIO_AREA))) {
			image_fini(&small);
			return rc;
		}
		im = &small;
	}
	if (im->channels != 3) {
		if ((rc = image_init(&rgb, im->width, im->height, 3))) {
			image_fini(&small);
			return rc;
		}
		for (size_t k = 0; k < (size_t)im->width * (size_t)im->height; k++)
			for (int c = 0; c < 3; c++)
				rgb.data[k * 3 + (size_t)c] = im->data[k * (size_t)im->channels + (size_t)(im->channels >= 3 ? c : 0)];
		im = &rgb;
	}
	rc = imageio_write_png(path, im); /* atomic */
	image_fini(&small);
	image_fini(&rgb);
	return rc;
}

/* Removes samples/<step>-*.png of other steps (after the json moved on). */
static void remove_old(const char *dir, int64_t step)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char keep[32], path[4400];

	if (d == NULL)
		return;
	snprintf(keep, sizeof keep, "%lld-", (long long)step);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".png") == 0 && strncmp(e->d_name, keep, strlen(keep)) != 0) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			remove(path);
		}
	}
	closedir(d);
}

static void put_num(FILE *f, double v)
{
	fprintf(f, isfinite(v) ? "%.6g" : "null", v);
}

int train_samples_write(const char *run_dir, int64_t step, const struct train_sample *s, int n,
	const char *const *names, int nnames)
{
	char dir[4096], path[4200];
	float *scale = calloc((size_t)n + 1, sizeof *scale);
	struct atomic_file af;
	int rc = 0;

	if (scale == NULL)
		return det_error_set(DET_ENOMEM, "samples: out of memory");
	snprintf(dir, sizeof dir, "%s/samples", run_dir);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		free(scale);
		return det_error_set(DET_EIO, "samples: can't create %s (%s)", dir, strerror(errno));
	}
	for (int i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof path, "%s/%lld-%d.png", dir, (long long)step, i + 1);
		rc = write_png(path, &s[i].im, &scale[i]);
	}
	snprintf(path, sizeof path, "%s/samples.json", run_dir);
	if (rc == 0 && (rc = atomic_file_open(&af, path)) == 0) {
		FILE *f = af.f;

		fprintf(f, "{\"step\":%lld,\"classes\":[", (long long)step);
		for (int c = 0; c < nnames; c++) {
			if (c)
				fputc(',', f);
			json_write_string(f, names[c] ? names[c] : "?");
		}
		fputs("],\"images\":[", f);
		for (int i = 0; i < n; i++) {
			const struct train_sample *x = &s[i];
			float k = scale[i];

			fputs(i ? ",{\"name\":" : "{\"name\":", f);
			json_write_string(f, x->name);
			fprintf(f, ",\"file\":\"samples/%lld-%d.png\",\"width\":%d,\"height\":%d,\"boxes\":[", (long long)step, i + 1,
				k < 1 ? (int)lroundf((float)x->im.width * k) : x->im.width,
				k < 1 ? (int)lroundf((float)x->im.height * k) : x->im.height);
			for (int b = 0; b < x->nboxes; b++) {
				const struct train_sample_box *bx = &x->boxes[b];

				fputs(b ? ",[" : "[", f);
				put_num(f, bx->x0 * k), fputc(',', f), put_num(f, bx->y0 * k), fputc(',', f);
				put_num(f, bx->x1 * k), fputc(',', f), put_num(f, bx->y1 * k);
				fprintf(f, ",%d,", bx->cls);
				put_num(f, bx->score);
				fprintf(f, ",%d]", bx->pred);
			}
			fputs("]}", f);
		}
		fputs("]}\n", f);
		if (ferror(f)) {
			atomic_file_abort(&af);
			rc = det_error_set(DET_EIO, "samples: can't write %s (%s)", path, strerror(errno));
		} else {
			rc = atomic_file_commit(&af);
		}
	}
	free(scale);
	if (rc == 0)
		remove_old(dir, step);
	return rc;
}

static double item_num(const cJSON *a, int i, double dflt)
{
	const cJSON *v = cJSON_GetArrayItem(a, i);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int train_samples_read(const char *run_dir, int64_t *step, struct train_sample **out, int *n, char ***names,
	int *nnames)
{
	char path[4200];
	size_t len = 0;
	char *buf;
	cJSON *root;
	const cJSON *cls, *imgs;
	struct train_sample *s = NULL;
	char **nm = NULL;
	int ns = 0, nn = 0, rc = 0;

	*out = NULL, *n = 0, *names = NULL, *nnames = 0;
	snprintf(path, sizeof path, "%s/samples.json", run_dir);
	if ((rc = det_file_read(path, &buf, &len)) != 0)
		return det_error_set(rc, "samples: can't read %s (%s)", path, rc == DET_ENOMEM ? "out of memory" : strerror(errno));
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	cls = cJSON_GetObjectItemCaseSensitive(root, "classes");
	imgs = cJSON_GetObjectItemCaseSensitive(root, "images");
	if (!cJSON_IsObject(root) || !cJSON_IsArray(imgs)) {
		cJSON_Delete(root);
		return det_error_set(DET_EFORMAT, "samples: %s is not a samples index (an object with \"images\")", path);
	}
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "step");

		*step = cJSON_IsNumber(st) ? (int64_t)st->valuedouble : 0;
	}
	nn = cJSON_IsArray(cls) ? cJSON_GetArraySize(cls) : 0;
	ns = cJSON_GetArraySize(imgs);
	if (ns > TRAIN_SAMPLES_MAX)
		ns = TRAIN_SAMPLES_MAX;
	nm = calloc((size_t)nn + 1, sizeof *nm);
	s = calloc((size_t)ns + 1, sizeof *s);
	if (nm == NULL || s == NULL) {
		rc = det_error_set(DET_ENOMEM, "samples: out of memory reading %s", path);
		goto fail;
	}
	for (int c = 0; c < nn; c++) {
		const cJSON *v = cJSON_GetArrayItem(cls, c);

		if ((nm[c] = strdup(cJSON_IsString(v) ? v->valuestring : "?")) == NULL) {
			rc = det_error_set(DET_ENOMEM, "samples: out of memory reading %s", path);
			goto fail;
		}
	}
	for (int i = 0; i < ns; i++) {
		const cJSON *im = cJSON_GetArrayItem(imgs, i), *file = cJSON_GetObjectItemCaseSensitive(im, "file");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(im, "name"), *boxes = cJSON_GetObjectItemCaseSensitive(im, "boxes");
		char png[4400];
		int nb = cJSON_IsArray(boxes) ? cJSON_GetArraySize(boxes) : 0;

		if (!cJSON_IsString(file) || strstr(file->valuestring, "..") || file->valuestring[0] == '/') {
			rc = det_error_set(DET_EFORMAT, "samples: %s: image %d has no usable \"file\"", path, i + 1);
			goto fail;
		}
		snprintf(png, sizeof png, "%s/%s", run_dir, file->valuestring);
		if ((rc = imageio_load(png, &s[i].im)) != 0)
			goto fail;
		snprintf(s[i].name, sizeof s[i].name, "%s", cJSON_IsString(name) ? name->valuestring : "");
		if ((s[i].boxes = calloc((size_t)nb + 1, sizeof *s[i].boxes)) == NULL) {
			rc = det_error_set(DET_ENOMEM, "samples: out of memory reading %s", path);
			goto fail;
		}
		for (int b = 0; b < nb; b++) {
			const cJSON *a = cJSON_GetArrayItem(boxes, b);

			s[i].boxes[b] = (struct train_sample_box){ (float)item_num(a, 0, 0), (float)item_num(a, 1, 0),
				(float)item_num(a, 2, 0), (float)item_num(a, 3, 0), (int)item_num(a, 4, -1),
				(float)item_num(a, 5, 1), (int)item_num(a, 6, 0) };
		}
		s[i].nboxes = nb;
	}
	cJSON_Delete(root);
	*out = s, *n = ns, *names = nm, *nnames = nn;
	return 0;
fail:
	cJSON_Delete(root);
	train_samples_free(s, ns);
	for (int c = 0; nm && c < nn; c++)
		free(nm[c]);
	free(nm);
	return rc;
}
