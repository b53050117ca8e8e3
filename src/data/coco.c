/* coco.c: reads COCO detection JSON into a dataset (validating and naming
 * every bad record) and writes any dataset back out as COCO JSON, with the
 * rendered images of generated datasets. Records are parsed in parallel one
 * element at a time (coco_json.h); problems are reported in file order. */
#include "data/coco.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "core/atomic.h"
#include "core/error.h"
#include "core/json.h"
#include "data/coco_json.h"
#include "data/image.h"

#define MSG_MAX 512

struct reader {
	const char *name;       /* file name in messages */
	const char *buf;
	size_t len;
	const struct coco_read_options *opt;
	struct dataset *ds;
	size_t nproblems;
	struct json_span images, annotations, categories;
	int have_images, have_annotations, have_categories;
};

static void problem(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct reader *r, const char *fmt, ...)
{
	char msg[MSG_MAX + 64];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof msg, "%s: ", r->name);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (r->ds->report.first_problem[0] == '\0') {
		size_t cap = sizeof r->ds->report.first_problem - 1, m = strnlen(msg, cap);

		memcpy(r->ds->report.first_problem, msg, m);
		r->ds->report.first_problem[m] = '\0';
	}
	r->nproblems++;
	if (r->opt && r->opt->warn)
		r->opt->warn(r->opt->warn_ctx, msg);
	else if (r->nproblems <= 10)
		fprintf(stderr, "%s\n", msg);
}

static int is_integer(double v)
{
	return isfinite(v) && v == floor(v) && fabs(v) < 9.2e18;
}

/* A field that must be an integer: 1 ok, else a reason is written. */
static int get_int_field(const cJSON *o, const char *key, int64_t *v, char *why, size_t whysz)
{
	double d;
	int k = json_get_number(o, key, &d);

	if (k == 0) {
		snprintf(why, whysz, "missing \"%s\" (expected an integer)", key);
		return 0;
	}
	if (k < 0 || !is_integer(d)) {
		snprintf(why, whysz, "\"%s\" has the wrong type (expected an integer)", key);
		return 0;
	}
	*v = (int64_t)d;
	return 1;
}

static int on_member(void *ctx, const char *key, size_t keylen, struct json_span v)
{
	struct reader *r = ctx;

	if (keylen == 6 && memcmp(key, "images", 6) == 0) {
		r->images = v;
		r->have_images = 1;
	} else if (keylen == 11 && memcmp(key, "annotations", 11) == 0) {
		r->annotations = v;
		r->have_annotations = 1;
	} else if (keylen == 10 && memcmp(key, "categories", 10) == 0) {
		r->categories = v;
		r->have_categories = 1;
	} else if (v.len < (1u << 20)) {
		/* small members (info, licenses) are still checked for syntax */
		size_t eo;
		cJSON *j = json_span_parse(r->buf, v, &eo);

		if (j == NULL) {
			char where[600];

			json_where(where, sizeof where, r->name, r->buf, r->len, eo);
			return det_error_set(DET_EFORMAT, "%sJSON syntax error in \"%.*s\"", where, (int)keylen, key);
		}
		cJSON_Delete(j);
	}
	return 0;
}

/* Parses spans in parallel; on a syntax error returns DET_EFORMAT naming
 * the first (lowest offset) error. parsed[i] owns a cJSON tree. */
static int parse_spans(struct reader *r, const struct json_span *items, size_t n, cJSON **parsed, const char *what)
{
	size_t first_err = (size_t)-1;

	#pragma omp parallel for schedule(dynamic, 256)
	for (size_t i = 0; i < n; i++) {
		size_t eo;

		parsed[i] = json_span_parse(r->buf, items[i], &eo);
		if (parsed[i] == NULL) {
			#pragma omp critical(coco_parse_err)
			if (eo < first_err)
				first_err = eo;
		}
	}
	if (first_err != (size_t)-1) {
		char where[600];

		json_where(where, sizeof where, r->name, r->buf, r->len, first_err);
		return det_error_set(DET_EFORMAT, "%sJSON syntax error in %s", where, what);
	}
	return 0;
}

static void free_parsed(cJSON **parsed, size_t n)
{
	if (parsed == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(parsed[i]);
	free(parsed);
}

static int read_categories(struct reader *r, struct id_map *cats)
{
	struct json_span *items = NULL;
	cJSON **parsed = NULL;
	size_t n = 0;
	int rc;

	if ((rc = json_array_split(r->name, r->buf, r->len, r->categories, "categories", &items, &n)) < 0)
		return rc;
	if ((parsed = calloc(n ? n : 1, sizeof *parsed)) == NULL) {
		free(items);
		return det_error_set(DET_ENOMEM, "out of memory reading %s", r->name);
	}
	if ((rc = parse_spans(r, items, n, parsed, "\"categories\"")) < 0)
		goto out;
	if ((rc = id_map_init(cats, n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const cJSON *o = parsed[i];
		const char *name;
		char why[256];
		int64_t id;
		int k;

		if (!cJSON_IsObject(o)) {
			problem(r, "category (index %zu): expected an object", i);
			continue;
		}
		if (!get_int_field(o, "id", &id, why, sizeof why)) {
			problem(r, "category (index %zu): %s; skipped", i, why);
			continue;
		}
		if ((k = json_get_string(o, "name", &name)) <= 0) {
			problem(r, "category id %lld (index %zu): %s \"name\" (expected a string); skipped",
				(long long)id, i, k == 0 ? "missing" : "wrong type for");
			continue;
		}
		if (id_map_get(cats, id) >= 0) {
			problem(r, "category id %lld (index %zu): duplicate category id; skipped", (long long)id, i);
			continue;
		}
		if ((rc = dataset_class_add(r->ds, name, id)) < 0)
			goto out;
		id_map_put(cats, id, rc);
		rc = 0;
	}
out:
	free_parsed(parsed, n);
	free(items);
	return rc;
}

struct img_rec {
	int64_t id;
	const char *file; /* borrowed from the parsed tree */
	int width, height;
	int bad;          /* 1: skipped (message in why), 2: missing file */
	char why[200];
};

static void image_parse(const struct reader *r, const cJSON *o, size_t i, const char *root, struct img_rec *rec)
{
	double w, h;
	int kw, kh, k;
	char why[150];

	rec->bad = 1;
	if (!cJSON_IsObject(o)) {
		snprintf(rec->why, sizeof rec->why, "image (index %zu): expected an object", i);
		return;
	}
	if (!get_int_field(o, "id", &rec->id, why, sizeof why)) {
		snprintf(rec->why, sizeof rec->why, "image (index %zu): %s", i, why);
		return;
	}
	if ((k = json_get_string(o, "file_name", &rec->file)) <= 0) {
		snprintf(rec->why, sizeof rec->why, "image id %lld (index %zu): %s \"file_name\" (expected a string)",
			(long long)rec->id, i, k == 0 ? "missing" : "wrong type for");
		return;
	}
	kw = json_get_number(o, "width", &w);
	kh = json_get_number(o, "height", &h);
	if (kw <= 0 || kh <= 0 || !is_integer(w) || !is_integer(h) || w <= 0 || h <= 0 || w > 1e6 || h > 1e6) {
		int wbad = kw <= 0 || !is_integer(w) || w <= 0 || w > 1e6;

		snprintf(rec->why, sizeof rec->why, "image id %lld (index %zu): %s \"%s\" (expected a positive integer)",
			(long long)rec->id, i, (wbad ? kw : kh) == 0 ? "missing" : "bad", wbad ? "width" : "height");
		return;
	}
	rec->width = (int)w;
	rec->height = (int)h;
	rec->bad = 0;
	if (r->opt && r->opt->check_files) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", root, rec->file);
		if (stat(path, &st) != 0) {
			rec->bad = 2;
			snprintf(rec->why, sizeof rec->why, "image id %lld (index %zu): missing image file %.120s (%s)",
				(long long)rec->id, i, path, strerror(errno));
		}
	}
}

struct ann_rec {
	long img;          /* image index in the dataset */
	struct dataset_box box;
	int bad;           /* 0 ok, 1 skipped, 2 clipped (kept), 3 on a dropped image (silent) */
	char *why;         /* message for bad == 1 or 2 */
};

static char *msgdup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msgdup(const char *fmt, ...)
{
	char buf[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return strdup(buf);
}

static void ann_parse(const struct reader *r, const cJSON *o, size_t i, const struct id_map *imgs,
	const struct id_map *dropped, const struct id_map *cats, struct ann_rec *a)
{
	const struct dataset *ds = r->ds;
	char why[256], who[96];
	int64_t id, image_id, cat_id;
	double bb[4], area, crowd = 0;
	int k;

	a->bad = 1;
	a->why = NULL;
	if (!cJSON_IsObject(o)) {
		a->why = msgdup("annotation (index %zu): expected an object", i);
		return;
	}
	if (!get_int_field(o, "id", &id, why, sizeof why)) {
		a->why = msgdup("annotation (index %zu): %s; skipped", i, why);
		return;
	}
	snprintf(who, sizeof who, "annotation id %lld (index %zu)", (long long)id, i);
	if (!get_int_field(o, "image_id", &image_id, why, sizeof why)) {
		a->why = msgdup("%s: %s; skipped", who, why);
		return;
	}
	if (!get_int_field(o, "category_id", &cat_id, why, sizeof why)) {
		a->why = msgdup("%s: %s; skipped", who, why);
		return;
	}
	if ((a->img = id_map_get(imgs, image_id)) < 0) {
		if (id_map_get(dropped, image_id) >= 0) {
			a->bad = 3;
			return;
		}
		a->why = msgdup("%s: unknown image_id %lld; skipped", who, (long long)image_id);
		return;
	}
	if ((a->box.cls = (int32_t)id_map_get(cats, cat_id)) < 0) {
		a->why = msgdup("%s: unknown category_id %lld; skipped", who, (long long)cat_id);
		return;
	}
	if ((k = json_get_bbox(o, "bbox", bb)) <= 0) {
		a->why = msgdup("%s: %s \"bbox\" (expected [x, y, width, height], 4 numbers); skipped",
			who, k == 0 ? "missing" : "bad");
		return;
	}
	if (!isfinite(bb[0]) || !isfinite(bb[1]) || !isfinite(bb[2]) || !isfinite(bb[3])) {
		a->why = msgdup("%s: bbox has a non-finite value; skipped", who);
		return;
	}
	if (bb[2] <= 0 || bb[3] <= 0) {
		a->why = msgdup("%s: bbox [%g, %g, %g, %g] has %s width or height; skipped", who,
			bb[0], bb[1], bb[2], bb[3], bb[2] < 0 || bb[3] < 0 ? "negative" : "zero");
		return;
	}
	if ((k = json_get_number(o, "area", &area)) < 0 || (k > 0 && (!isfinite(area) || area < 0))) {
		a->why = msgdup("%s: bad \"area\" (expected a number >= 0); skipped", who);
		return;
	}
	if (k == 0)
		area = bb[2] * bb[3];
	if (json_get_number(o, "iscrowd", &crowd) < 0 || (crowd != 0 && crowd != 1)) {
		a->why = msgdup("%s: bad \"iscrowd\" (expected 0 or 1); skipped", who);
		return;
	}
	a->box.x0 = (float)bb[0];
	a->box.y0 = (float)bb[1];
	a->box.x1 = (float)(bb[0] + bb[2]);
	a->box.y1 = (float)(bb[1] + bb[3]);
	a->box.area = (float)area;
	a->box.iscrowd = crowd != 0;
	a->box.ignore = 0;
	a->box.id = id;
	a->bad = 0;
	{
		const struct dataset_image *im = &ds->images[a->img];
		float W = (float)im->width, H = (float)im->height;
		struct dataset_box *b = &a->box;

		if (b->x0 < 0 || b->y0 < 0 || b->x1 > W || b->y1 > H) {
			b->x0 = fmaxf(b->x0, 0);
			b->y0 = fmaxf(b->y0, 0);
			b->x1 = fminf(b->x1, W);
			b->y1 = fminf(b->y1, H);
			if (b->x1 <= b->x0 || b->y1 <= b->y0) {
				a->bad = 1;
				a->why = msgdup("%s: bbox [%g, %g, %g, %g] lies outside image id %lld (%dx%d); skipped",
					who, bb[0], bb[1], bb[2], bb[3], (long long)im->id, im->width, im->height);
				return;
			}
			a->bad = 2;
			a->why = msgdup("%s: bbox [%g, %g, %g, %g] goes past the border of image id %lld (%dx%d); clipped",
				who, bb[0], bb[1], bb[2], bb[3], (long long)im->id, im->width, im->height);
		}
	}
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int read_images(struct reader *r, struct id_map *imgs, struct id_map *dropped)
{
	struct json_span *items = NULL;
	cJSON **parsed = NULL;
	struct img_rec *recs = NULL;
	size_t n = 0;
	int rc;

	if ((rc = json_array_split(r->name, r->buf, r->len, r->images, "images", &items, &n)) < 0)
		return rc;
	parsed = calloc(n ? n : 1, sizeof *parsed);
	recs = calloc(n ? n : 1, sizeof *recs);
	if (parsed == NULL || recs == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s", r->name);
		goto out;
	}
	if ((rc = parse_spans(r, items, n, parsed, "\"images\"")) < 0)
		goto out;
	#pragma omp parallel for schedule(dynamic, 256)
	for (size_t i = 0; i < n; i++)
		image_parse(r, parsed[i], i, r->ds->root, &recs[i]);
	if ((rc = id_map_init(imgs, n)) < 0 || (rc = id_map_init(dropped, n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct img_rec *m = &recs[i];
		long idx;

		if (m->bad) {
			problem(r, "%s; skipped", m->why);
			r->ds->report.images_skipped++;
			if (m->bad == 2)
				id_map_put(dropped, m->id, 0);
			continue;
		}
		if (id_map_get(imgs, m->id) >= 0) {
			problem(r, "image id %lld (index %zu): duplicate image id; skipped (the first one is kept)",
				(long long)m->id, i);
			r->ds->report.duplicates++;
			continue;
		}
		if ((idx = dataset_image_add(r->ds, m->id, m->file, m->width, m->height)) < 0) {
			rc = (int)idx;
			goto out;
		}
		id_map_put(imgs, m->id, idx);
	}
	rc = 0;
out:
	free(recs);
	free_parsed(parsed, n);
	free(items);
	return rc;
}

static int read_annotations(struct reader *r, const struct id_map *imgs, const struct id_map *dropped,
	const struct id_map *cats)
{
	struct dataset *ds = r->ds;
	struct json_span *items = NULL;
	struct ann_rec *recs = NULL;
	size_t n = 0, *start = NULL, *order = NULL, nkeep = 0;
	int rc;

	if (!r->have_annotations)
		return 0;
	if ((rc = json_array_split(r->name, r->buf, r->len, r->annotations, "annotations", &items, &n)) < 0)
		return rc;
	recs = calloc(n ? n : 1, sizeof *recs);
	if (recs == NULL) {
		free(items);
		return det_error_set(DET_ENOMEM, "out of memory reading %s (%zu annotations)", r->name, n);
	}
	{
		size_t first_err = (size_t)-1;

		/* parse and check each annotation, freeing its tree at once */
		#pragma omp parallel for schedule(dynamic, 512)
		for (size_t i = 0; i < n; i++) {
			size_t eo;
			cJSON *o = json_span_parse(r->buf, items[i], &eo);

			if (o == NULL) {
				recs[i].bad = 1;
				#pragma omp critical(coco_parse_err)
				if (eo < first_err)
					first_err = eo;
				continue;
			}
			ann_parse(r, o, i, imgs, dropped, cats, &recs[i]);
			cJSON_Delete(o);
		}
		if (first_err != (size_t)-1) {
			char where[600];

			json_where(where, sizeof where, r->name, r->buf, r->len, first_err);
			rc = det_error_set(DET_EFORMAT, "%sJSON syntax error in \"annotations\"", where);
			goto out;
		}
	}
	/* report in file order; group kept boxes by image (a stable counting sort) */
	start = calloc(ds->nimages + 1, sizeof *start);
	order = malloc((n ? n : 1) * sizeof *order);
	if (start == NULL || order == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s", r->name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ann_rec *a = &recs[i];

		if (a->bad == 1 || a->bad == 3) {
			if (a->why)
				problem(r, "%s", a->why);
			ds->report.boxes_skipped++;
			continue;
		}
		if (a->bad == 2) {
			problem(r, "%s", a->why);
			ds->report.boxes_clipped++;
		}
		start[a->img + 1]++;
		nkeep++;
	}
	for (size_t i = 0; i < ds->nimages; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < n; i++)
		if (recs[i].bad == 0 || recs[i].bad == 2)
			order[start[recs[i].img]++] = i;
	free(ds->boxes);
	ds->boxes = malloc((nkeep ? nkeep : 1) * sizeof *ds->boxes);
	if (ds->boxes == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory for %zu boxes", nkeep);
		goto out;
	}
	ds->boxes_cap = nkeep ? nkeep : 1;
	for (size_t k = 0; k < nkeep; k++)
		ds->boxes[k] = recs[order[k]].box;
	ds->nboxes = nkeep;
	for (size_t i = 0, s = 0; i < ds->nimages; i++) {
		size_t e = start[i];

		ds->images[i].box_start = s;
		ds->images[i].box_count = e - s;
		s = e;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(recs[i].why);
	free(recs);
	free(start);
	free(order);
	free(items);
	return rc;
}

void coco_summary(const struct dataset *ds, const char *name, char *out, size_t outsz)
{
	const struct dataset_report *rp = &ds->report;

	snprintf(out, outsz, "%s: %zu images, %zu boxes, %d classes; skipped %zu images "
		"(%zu duplicate ids) and %zu boxes; clipped %zu boxes",
		name, ds->nimages, ds->nboxes, ds->nclasses, rp->images_skipped + rp->duplicates,
		rp->duplicates, rp->boxes_skipped, rp->boxes_clipped);
}

int coco_read_buffer(const char *buf, size_t len, const char *name,
	const struct coco_read_options *opt, struct dataset **out)
{
	struct reader r = { .name = name, .buf = buf, .len = len, .opt = opt };
	struct id_map cats = { 0 }, imgs = { 0 }, dropped = { 0 };
	const char *base = strrchr(name, '/');
	char *root = opt && opt->image_root ? strdup(opt->image_root) : dir_of(name);
	int rc;

	*out = NULL;
	if (root == NULL)
		return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
	r.ds = dataset_new(base ? base + 1 : name, root);
	free(root);
	if (r.ds == NULL)
		return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
	if ((rc = json_object_walk(name, buf, len, on_member, &r)) < 0)
		goto fail;
	if (!r.have_images || !r.have_categories) {
		rc = det_error_set(DET_EFORMAT, "%s: not a COCO detection file: no \"%s\" array at the top level",
			name, !r.have_images ? "images" : "categories");
		goto fail;
	}
	if ((rc = read_categories(&r, &cats)) < 0)
		goto fail;
	if ((rc = read_images(&r, &imgs, &dropped)) < 0)
		goto fail;
	if ((rc = read_annotations(&r, &imgs, &dropped, &cats)) < 0)
		goto fail;
	id_map_fini(&cats);
	id_map_fini(&imgs);
	id_map_fini(&dropped);
	if (!(opt && opt->quiet)) {
		char line[1024];

		if (!(opt && opt->warn) && r.nproblems > 10)
			fprintf(stderr, "%s: ... and %zu more problems\n", name, r.nproblems - 10);
		coco_summary(r.ds, name, line, sizeof line);
		fprintf(stderr, "%s\n", line);
	}
	*out = r.ds;
	return 0;
fail:
	id_map_fini(&cats);
	id_map_fini(&imgs);
	id_map_fini(&dropped);
	dataset_free(r.ds);
	return rc;
}

int coco_read_opts(const char *json_path, const struct coco_read_options *opt, struct dataset **out)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = json_file_read(json_path, &buf, &len)) < 0)
		return rc;
	rc = coco_read_buffer(buf, len, json_path, opt, out);
	free(buf);
	return rc;
}

int coco_read(const char *json_path, const char *image_root, struct dataset **out)
{
	struct coco_read_options opt = { .image_root = image_root };

	return coco_read_opts(json_path, &opt, out);
}

/* ---- writing ------------------------------------------------------------ */

/* The file name an image is written under: its own, or images/NNNNNN.png
 * (relative to the JSON file's folder) when it is generated. */
static void image_file_name(const struct dataset *ds, size_t i, char *out, size_t outsz)
{
	if (ds->images[i].file && !ds->render)
		snprintf(out, outsz, "%s", ds->images[i].file);
	else
		snprintf(out, outsz, "images/%06zu.png", i + 1);
}

/* Whether the boxes' ids can be written as annotation ids: all positive
 * and unique (COCO tools index annotations by id). */
static int box_ids_usable(const struct dataset *ds)
{
	struct id_map m;
	int good = 1;

	if (id_map_init(&m, ds->nboxes) < 0)
		return 0;
	for (size_t i = 0; good && i < ds->nboxes; i++)
		good = ds->boxes[i].id > 0 && id_map_put(&m, ds->boxes[i].id, 1) == 0;
	id_map_fini(&m);
	return good;
}

static int write_json(const struct dataset *ds, FILE *f)
{
	char file[4096];
	int keep_ids = box_ids_usable(ds);

	fprintf(f, "{\"info\": {\"description\": ");
	json_write_string(f, ds->name ? ds->name : "dataset");
	fprintf(f, ", \"generator\": \"detbench\"},\n\"images\": [");
	for (size_t i = 0; i < ds->nimages; i++) {
		const struct dataset_image *im = &ds->images[i];

		image_file_name(ds, i, file, sizeof file);
		fprintf(f, "%s\n{\"id\": %lld, \"file_name\": ", i ? "," : "", (long long)im->id);
		json_write_string(f, file);
		fprintf(f, ", \"width\": %d, \"height\": %d}", im->width, im->height);
	}
	fprintf(f, "],\n\"annotations\": [");
	for (size_t i = 0, k = 0; i < ds->nimages; i++) {
		const struct dataset_box *b = dataset_image_boxes(ds, i);

		for (size_t j = 0; j < ds->images[i].box_count; j++, k++) {
			long long id = keep_ids ? (long long)b[j].id : (long long)k + 1;

			fprintf(f, "%s\n{\"id\": %lld, \"image_id\": %lld, \"category_id\": %lld, "
				"\"bbox\": [%.9g, %.9g, %.9g, %.9g], \"area\": %.9g, \"iscrowd\": %d%s}",
				k ? "," : "", id, (long long)ds->images[i].id, (long long)ds->class_ids[b[j].cls],
				(double)b[j].x0, (double)b[j].y0, (double)(b[j].x1 - b[j].x0), (double)(b[j].y1 - b[j].y0),
				(double)b[j].area, b[j].iscrowd, b[j].ignore ? ", \"ignore\": 1" : "");
		}
	}
	fprintf(f, "],\n\"categories\": [");
	for (int c = 0; c < ds->nclasses; c++) {
		fprintf(f, "%s\n{\"id\": %lld, \"name\": ", c ? "," : "", (long long)ds->class_ids[c]);
		json_write_string(f, ds->class_names[c]);
		fputc('}', f);
	}
	fprintf(f, "]}\n");
	return ferror(f) ? -1 : 0;
}

int coco_write(const struct dataset *ds, const char *json_path)
{
	struct atomic_file af;
	int rc = atomic_file_open(&af, json_path);

	if (rc)
		return rc;
	if (write_json(ds, af.f)) {
		rc = det_error_set(DET_EIO, "can't write %s (%s)", af.path, strerror(errno));
		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

static int mkdir_p(const char *dir)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return det_error_set(DET_EIO, "can't create directory %s (%s)", dir, strerror(errno));
	return 0;
}

int coco_export(const struct dataset *ds, const char *dir)
{
	char path[4096];
	int rc;

	if ((rc = mkdir_p(dir)) < 0)
		return rc;
	if (ds->render) {
		snprintf(path, sizeof path, "%s/images", dir);
		if ((rc = mkdir_p(path)) < 0)
			return rc;
		for (size_t i = 0; i < ds->nimages; i++) {
			struct image im = { 0 };
			char file[64];

			if ((rc = ds->render(ds, i, &im)) < 0)
				return rc;
			image_file_name(ds, i, file, sizeof file);
			snprintf(path, sizeof path, "%s/%s", dir, file);
			if (!stbi_write_png(path, im.width, im.height, im.channels, im.data, im.width * im.channels)) {
				image_fini(&im);
				return det_error_set(DET_EIO, "can't write %s", path);
			}
			image_fini(&im);
		}
	}
	snprintf(path, sizeof path, "%s/annotations.json", dir);
	return coco_write(ds, path);
}
