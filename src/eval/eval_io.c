/* eval_io.c: ground truth and detections for the evaluator, read from COCO
 * JSON (element by element, in parallel) or built from a dataset, held in
 * double precision exactly as pycocotools holds them. */
#include "eval/coco_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/coco_json.h"
#include "data/dataset.h"

void eval_gt_free(struct eval_gt *gt)
{
	if (gt == NULL)
		return;
	for (int c = 0; c < gt->ncats; c++)
		free(gt->cat_names[c]);
	free(gt->cat_names);
	free(gt->cat_ids);
	free(gt->image_ids);
	free(gt->file_order);
	free(gt->boxes);
	free(gt->name);
	free(gt);
}

long eval_gt_image_index(const struct eval_gt *gt, int64_t id)
{
	size_t lo = 0, hi = gt->nimages;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (gt->image_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gt->nimages && gt->image_ids[lo] == id ? (long)lo : -1;
}

int eval_gt_cat_index(const struct eval_gt *gt, int64_t id)
{
	int lo = 0, hi = gt->ncats;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (gt->cat_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gt->ncats && gt->cat_ids[lo] == id ? lo : -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct idname {
	int64_t id;
	char *name;
};

static int cmp_idname(const void *a, const void *b)
{
	return cmp_i64(&((const struct idname *)a)->id, &((const struct idname *)b)->id);
}

/* Sorts the image ids (unique) and records the file order. ids[] holds
 * file-order ids with duplicates already removed. */
static int gt_set_images(struct eval_gt *gt, const int64_t *ids, size_t n)
{
	gt->nimages = n;
	gt->image_ids = malloc((n ? n : 1) * sizeof *gt->image_ids);
	gt->file_order = malloc((n ? n : 1) * sizeof *gt->file_order);
	if (gt->image_ids == NULL || gt->file_order == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for %zu images", n);
	if (n)
		memcpy(gt->image_ids, ids, n * sizeof *ids);
	qsort(gt->image_ids, n, sizeof *gt->image_ids, cmp_i64);
	for (size_t i = 0; i < n; i++)
		gt->file_order[i] = (size_t)eval_gt_image_index(gt, ids[i]);
	return 0;
}

static int gt_set_cats(struct eval_gt *gt, struct idname *c, int n)
{
	qsort(c, (size_t)n, sizeof *c, cmp_idname);
	gt->ncats = n;
	gt->cat_ids = malloc((size_t)(n ? n : 1) * sizeof *gt->cat_ids);
	gt->cat_names = calloc((size_t)(n ? n : 1), sizeof *gt->cat_names);
	if (gt->cat_ids == NULL || gt->cat_names == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for %d categories", n);
	for (int k = 0; k < n; k++) {
		gt->cat_ids[k] = c[k].id;
		gt->cat_names[k] = c[k].name;
		c[k].name = NULL;
	}
	return 0;
}

struct gt_spans {
	struct json_span images, annotations, categories;
	int have;
};

static int gt_member(void *ctx, const char *key, size_t keylen, struct json_span v)
{
	struct gt_spans *s = ctx;

	if (keylen == 6 && memcmp(key, "images", 6) == 0)
		s->images = v, s->have |= 1;
	else if (keylen == 11 && memcmp(key, "annotations", 11) == 0)
		s->annotations = v, s->have |= 2;
	else if (keylen == 10 && memcmp(key, "categories", 10) == 0)
		s->categories = v, s->have |= 4;
	return 0;
}

static int syntax_at(const char *name, const char *buf, size_t len, size_t off, const char *what)
{
	char where[600];

	json_where(where, sizeof where, name, buf, len, off);
	return det_error_set(DET_EFORMAT, "%sJSON syntax error in %s", where, what);
}

/* Parses every span in parallel and calls nothing: the caller walks the
 * trees. Reports the earliest syntax error. */
static int parse_all(const char *name, const char *buf, size_t len, const struct json_span *it, size_t n,
	cJSON **out, const char *what)
{
	size_t first = (size_t)-1;

	#pragma omp parallel for schedule(dynamic, 512)
	for (size_t i = 0; i < n; i++) {
		size_t eo;

		out[i] = json_span_parse(buf, it[i], &eo);
		if (out[i] == NULL) {
			#pragma omp critical(eval_parse_err)
			if (eo < first)
				first = eo;
		}
	}
	if (first != (size_t)-1)
		return syntax_at(name, buf, len, first, what);
	return 0;
}

static void free_trees(cJSON **t, size_t n)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(t[i]);
	free(t);
}

static int as_int(double v, int64_t *out)
{
	if (!isfinite(v) || v != floor(v) || fabs(v) > 9.2e18)
		return 0;
	*out = (int64_t)v;
	return 1;
}

int eval_gt_read_buffer(const char *buf, size_t len, const char *name, struct eval_gt **out, size_t *skipped)
{
	struct gt_spans s = { 0 };
	struct json_span *im = NULL, *an = NULL, *ca = NULL;
	size_t nim = 0, nan = 0, nca = 0, nskip = 0;
	cJSON **tim = NULL, **tan = NULL, **tca = NULL;
	struct idname *cats = NULL;
	int64_t *ids = NULL;
	struct eval_gt *gt;
	struct id_map seen = { 0 };
	int rc, ncats = 0;
	size_t nids = 0;

	*out = NULL;
	if ((gt = calloc(1, sizeof *gt)) == NULL || (gt->name = strdup(name)) == NULL) {
		free(gt);
		return det_error_set(DET_ENOMEM, "out of memory reading %s", name);
	}
	if ((rc = json_object_walk(name, buf, len, gt_member, &s)) < 0)
		goto fail;
	if ((s.have & 5) != 5) {
		rc = det_error_set(DET_EFORMAT, "%s: not a COCO ground-truth file: no \"%s\" array at the top level",
			name, !(s.have & 1) ? "images" : "categories");
		goto fail;
	}
	if ((rc = json_array_split(name, buf, len, s.images, "images", &im, &nim)) < 0 ||
	    (rc = json_array_split(name, buf, len, s.categories, "categories", &ca, &nca)) < 0)
		goto fail;
	if ((s.have & 2) && (rc = json_array_split(name, buf, len, s.annotations, "annotations", &an, &nan)) < 0)
		goto fail;
	tim = calloc(nim + 1, sizeof *tim);
	tca = calloc(nca + 1, sizeof *tca);
	cats = calloc(nca + 1, sizeof *cats);
	ids = malloc((nim + 1) * sizeof *ids);
	if (tim == NULL || tca == NULL || cats == NULL || ids == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s", name);
		goto fail;
	}
	if ((rc = parse_all(name, buf, len, im, nim, tim, "\"images\"")) < 0 ||
	    (rc = parse_all(name, buf, len, ca, nca, tca, "\"categories\"")) < 0)
		goto fail;
	if ((rc = id_map_init(&seen, nim + nca)) < 0)
		goto fail;
	for (size_t i = 0; i < nim; i++) {
		double v;
		int64_t id;

		if (json_get_number(tim[i], "id", &v) <= 0 || !as_int(v, &id)) {
			rc = det_error_set(DET_EFORMAT, "%s: image (index %zu): missing or non-integer \"id\"", name, i);
			goto fail;
		}
		if (id_map_put(&seen, id, 1) == 0)
			ids[nids++] = id;
	}
	id_map_fini(&seen);
	if ((rc = id_map_init(&seen, nca)) < 0)
		goto fail;
	for (size_t i = 0; i < nca; i++) {
		double v;
		int64_t id;
		const char *nm = NULL;

		if (json_get_number(tca[i], "id", &v) <= 0 || !as_int(v, &id)) {
			rc = det_error_set(DET_EFORMAT, "%s: category (index %zu): missing or non-integer \"id\"", name, i);
			goto fail;
		}
		if (id_map_put(&seen, id, 1) != 0)
			continue;
		json_get_string(tca[i], "name", &nm);
		cats[ncats].id = id;
		if ((cats[ncats].name = strdup(nm ? nm : "?")) == NULL) {
			rc = det_error_set(DET_ENOMEM, "out of memory reading %s", name);
			goto fail;
		}
		ncats++;
	}
	free_trees(tim, nim);
	free_trees(tca, nca);
	tim = tca = NULL;
	if ((rc = gt_set_images(gt, ids, nids)) < 0 || (rc = gt_set_cats(gt, cats, ncats)) < 0)
		goto fail;
	gt->boxes = malloc((nan + 1) * sizeof *gt->boxes);
	tan = calloc(nan + 1, sizeof *tan);
	if (gt->boxes == NULL || tan == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s (%zu annotations)", name, nan);
		goto fail;
	}
	{
		size_t first = (size_t)-1;

		/* parse + convert each annotation; bad ones get img = -1 */
		#pragma omp parallel for schedule(dynamic, 512)
		for (size_t i = 0; i < nan; i++) {
			struct eval_box *b = &gt->boxes[i];
			size_t eo;
			cJSON *o = json_span_parse(buf, an[i], &eo);
			double v, bb[4], crowd = 0;
			int64_t iid, cid, aid;
			long ii;
			int k;

			b->img = -1;
			if (o == NULL) {
				#pragma omp critical(eval_parse_err)
				if (eo < first)
					first = eo;
				continue;
			}
			if (json_get_number(o, "image_id", &v) > 0 && as_int(v, &iid) &&
			    json_get_number(o, "category_id", &v) > 0 && as_int(v, &cid) &&
			    json_get_bbox(o, "bbox", bb) > 0 &&
			    (ii = eval_gt_image_index(gt, iid)) >= 0 && (k = eval_gt_cat_index(gt, cid)) >= 0) {
				b->x = bb[0], b->y = bb[1], b->w = bb[2], b->h = bb[3];
				if (json_get_number(o, "area", &b->area) <= 0)
					b->area = bb[2] * bb[3];
				json_get_number(o, "iscrowd", &crowd);
				b->iscrowd = crowd != 0;
				b->ignore = 0;
				b->score = 1;
				b->id = json_get_number(o, "id", &v) > 0 && as_int(v, &aid) ? aid : (int64_t)i + 1;
				b->img = (int32_t)ii;
				b->cat = k;
			}
			cJSON_Delete(o);
		}
		if (first != (size_t)-1) {
			rc = syntax_at(name, buf, len, first, "\"annotations\"");
			goto fail;
		}
	}
	gt->n = 0;
	for (size_t i = 0; i < nan; i++) {
		if (gt->boxes[i].img < 0) {
			nskip++;
			continue;
		}
		gt->boxes[gt->n++] = gt->boxes[i];
	}
	if (skipped)
		*skipped = nskip;
	free(tan);
	free(im), free(an), free(ca), free(cats), free(ids);
	id_map_fini(&seen);
	*out = gt;
	return 0;
fail:
	free_trees(tim, nim);
	free_trees(tca, nca);
	free(tan);
	if (cats)
		for (int k = 0; k < ncats; k++)
			free(cats[k].name);
	free(im), free(an), free(ca), free(cats), free(ids);
	id_map_fini(&seen);
	eval_gt_free(gt);
	return rc;
}

int eval_gt_read(const char *path, struct eval_gt **out, size_t *skipped)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = json_file_read(path, &buf, &len)) < 0)
		return rc;
	rc = eval_gt_read_buffer(buf, len, path, out, skipped);
	free(buf);
	return rc;
}

int eval_gt_from_dataset(const struct dataset *ds, struct eval_gt **out)
{
	struct eval_gt *gt = calloc(1, sizeof *gt);
	struct idname *cats = NULL;
	int64_t *ids = NULL;
	struct id_map seen = { 0 };
	size_t nids = 0;
	int rc;

	*out = NULL;
	if (gt == NULL || (gt->name = strdup(ds->name ? ds->name : "dataset")) == NULL) {
		free(gt);
		return det_error_set(DET_ENOMEM, "out of memory");
	}
	cats = calloc((size_t)ds->nclasses + 1, sizeof *cats);
	ids = malloc((ds->nimages + 1) * sizeof *ids);
	gt->boxes = malloc((ds->nboxes + 1) * sizeof *gt->boxes);
	if (cats == NULL || ids == NULL || gt->boxes == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = id_map_init(&seen, ds->nimages)) < 0)
		goto fail;
	for (size_t i = 0; i < ds->nimages; i++)
		if (id_map_put(&seen, ds->images[i].id, 1) == 0)
			ids[nids++] = ds->images[i].id;
	for (int c = 0; c < ds->nclasses; c++) {
		cats[c].id = ds->class_ids ? ds->class_ids[c] : c;
		if ((cats[c].name = strdup(ds->class_names[c])) == NULL) {
			rc = det_error_set(DET_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if ((rc = gt_set_images(gt, ids, nids)) < 0)
		goto fail;
	if ((rc = gt_set_cats(gt, cats, ds->nclasses)) < 0)
		goto fail;
	for (size_t i = 0; i < ds->nimages; i++) {
		const struct dataset_box *b = dataset_image_boxes(ds, i);
		int32_t ii = (int32_t)eval_gt_image_index(gt, ds->images[i].id);

		for (size_t j = 0; j < ds->images[i].box_count; j++) {
			struct eval_box *e = &gt->boxes[gt->n++];

			e->x = b[j].x0;
			e->y = b[j].y0;
			e->w = (double)b[j].x1 - (double)b[j].x0;
			e->h = (double)b[j].y1 - (double)b[j].y0;
			e->area = b[j].area;
			e->score = 1;
			/* id 0 is pycocotools' "no match" (see coco_eval.c); a dataset
			 * box with id 0 gets a negative stand-in instead */
			e->id = b[j].id != 0 ? b[j].id : -(int64_t)gt->n;
			e->img = ii;
			e->cat = eval_gt_cat_index(gt, ds->class_ids ? ds->class_ids[b[j].cls] : b[j].cls);
			e->iscrowd = b[j].iscrowd;
			e->ignore = b[j].ignore;
		}
	}
	free(cats);
	free(ids);
	id_map_fini(&seen);
	*out = gt;
	return 0;
fail:
	if (cats)
		for (int c = 0; c < ds->nclasses; c++)
			free(cats[c].name);
	free(cats);
	free(ids);
	id_map_fini(&seen);
	eval_gt_free(gt);
	return rc;
}

struct eval_dets *eval_dets_new(void)
{
	return calloc(1, sizeof(struct eval_dets));
}

void eval_dets_free(struct eval_dets *d)
{
	if (d == NULL)
		return;
	free(d->boxes);
	free(d);
}

int eval_dets_add(struct eval_dets *d, int32_t img, int32_t cat, const double bb[4], double score)
{
	struct eval_box *b;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 1024;
		struct eval_box *p = realloc(d->boxes, cap * sizeof *p);

		if (p == NULL)
			return det_error_set(DET_ENOMEM, "out of memory adding a detection");
		d->boxes = p;
		d->cap = cap;
	}
	b = &d->boxes[d->n];
	b->x = bb[0], b->y = bb[1], b->w = bb[2], b->h = bb[3];
	b->area = bb[2] * bb[3];
	b->score = score;
	b->id = (int64_t)d->n + 1;
	b->img = img;
	b->cat = cat;
	b->iscrowd = 0;
	b->ignore = 0;
	d->n++;
	return 0;
}

/* Per-record problems found in parallel: 0 ok, else a code and a value. */
enum { DP_OK, DP_SYNTAX, DP_OBJECT, DP_FIELD, DP_IMAGE, DP_CAT, DP_SCORE };

int eval_dets_read_buffer(const char *buf, size_t len, const char *name, const struct eval_gt *gt,
	struct eval_dets **out)
{
	struct json_span root, *it = NULL;
	size_t n = 0;
	struct eval_dets *d = NULL;
	unsigned char *code = NULL;
	const char **field = NULL;
	int64_t *bad_id = NULL;
	int rc;

	*out = NULL;
	if ((rc = json_root_span(name, buf, len, &root)) < 0)
		return rc;
	if (buf[root.off] != '[') {
		char where[600];

		json_where(where, sizeof where, name, buf, len, root.off);
		return det_error_set(DET_EFORMAT, "%snot a COCO results file: expected a JSON array of "
			"{\"image_id\", \"category_id\", \"bbox\", \"score\"} records", where);
	}
	if ((rc = json_array_split(name, buf, len, root, "results", &it, &n)) < 0)
		return rc;
	d = eval_dets_new();
	code = calloc(n + 1, 1);
	field = calloc(n + 1, sizeof *field);
	bad_id = calloc(n + 1, sizeof *bad_id);
	if (d == NULL || code == NULL || field == NULL || bad_id == NULL ||
	    (d->boxes = malloc((n + 1) * sizeof *d->boxes)) == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s (%zu results)", name, n);
		goto out;
	}
	d->cap = n + 1;
	#pragma omp parallel for schedule(dynamic, 1024)
	for (size_t i = 0; i < n; i++) {
		struct eval_box *b = &d->boxes[i];
		size_t eo;
		cJSON *o = json_span_parse(buf, it[i], &eo);
		double v, bb[4], score;
		int64_t iid, cid;
		long ii;
		int k;

		if (o == NULL) {
			code[i] = DP_SYNTAX;
			bad_id[i] = (int64_t)eo;
			continue;
		}
		if (!cJSON_IsObject(o))
			code[i] = DP_OBJECT;
		else if (json_get_number(o, "image_id", &v) <= 0 || !as_int(v, &iid))
			code[i] = DP_FIELD, field[i] = "\"image_id\" (an integer)";
		else if (json_get_number(o, "category_id", &v) <= 0 || !as_int(v, &cid))
			code[i] = DP_FIELD, field[i] = "\"category_id\" (an integer)";
		else if (json_get_bbox(o, "bbox", bb) <= 0 || !isfinite(bb[0]) || !isfinite(bb[1]) ||
			 !isfinite(bb[2]) || !isfinite(bb[3]))
			code[i] = DP_FIELD, field[i] = "\"bbox\" ([x, y, width, height], 4 finite numbers)";
		else if (json_get_number(o, "score", &score) <= 0 || !isfinite(score))
			code[i] = DP_FIELD, field[i] = "\"score\" (a finite number)";
		else if ((ii = eval_gt_image_index(gt, iid)) < 0)
			code[i] = DP_IMAGE, bad_id[i] = iid;
		else if ((k = eval_gt_cat_index(gt, cid)) < 0)
			code[i] = DP_CAT, bad_id[i] = cid;
		else {
			b->x = bb[0], b->y = bb[1], b->w = bb[2], b->h = bb[3];
			b->area = bb[2] * bb[3];
			b->score = score;
			b->id = (int64_t)i + 1;
			b->img = (int32_t)ii;
			b->cat = k;
			b->iscrowd = 0;
			b->ignore = 0;
		}
		cJSON_Delete(o);
	}
	d->n = n;
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		char where[600];

		if (code[i] == DP_OK)
			continue;
		if (code[i] == DP_SYNTAX) {
			rc = syntax_at(name, buf, len, (size_t)bad_id[i], "a result record");
			break;
		}
		json_where(where, sizeof where, name, buf, len, it[i].off);
		switch (code[i]) {
		case DP_OBJECT:
			rc = det_error_set(DET_EFORMAT, "%sresult (index %zu): expected an object", where, i);
			break;
		case DP_FIELD:
			rc = det_error_set(DET_EFORMAT, "%sresult (index %zu): missing or bad %s", where, i, field[i]);
			break;
		case DP_IMAGE:
			rc = det_error_set(DET_EFORMAT, "%sresult (index %zu): unknown image_id %lld (not in %s)",
				where, i, (long long)bad_id[i], gt->name);
			break;
		default:
			rc = det_error_set(DET_EFORMAT, "%sresult (index %zu): unknown category_id %lld (not in %s)",
				where, i, (long long)bad_id[i], gt->name);
			break;
		}
		break;
	}
out:
	free(it);
	free(code);
	free(field);
	free(bad_id);
	if (rc < 0) {
		eval_dets_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int eval_dets_read(const char *path, const struct eval_gt *gt, struct eval_dets **out)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = json_file_read(path, &buf, &len)) < 0)
		return rc;
	rc = eval_dets_read_buffer(buf, len, path, gt, out);
	free(buf);
	return rc;
}
