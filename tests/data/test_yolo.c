/* test_yolo.c: the YOLO reader on tests/data/yolo_small (boxes checked by
 * hand: x0 = (cx - w/2) W, ...), names files and data YAML in both forms, a
 * list file with a missing image, and the broken-file corpus
 * tests/data/bad/yolo/, each file with the exact message it must give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/yolo.h"
#include "tests/tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static char root[1024];

static const char *srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s && *s ? s : TOP_SRCDIR;
}

static int box_is(const struct dataset *ds, size_t img, size_t k, const char *cls,
	float x0, float y0, float x1, float y1)
{
	const struct dataset_box *b;

	if (img >= ds->nimages || k >= ds->images[img].box_count)
		return 0;
	b = dataset_image_boxes(ds, img) + k;
	if (!(strcmp(ds->class_names[b->cls], cls) == 0 && tap_close(b->x0, x0, 0, 1e-4) &&
	      tap_close(b->y0, y0, 0, 1e-4) && tap_close(b->x1, x1, 0, 1e-4) && tap_close(b->y1, y1, 0, 1e-4)))
		tap_diag("image %zu box %zu: %s [%g %g %g %g]", img, k, ds->class_names[b->cls],
			b->x0, b->y0, b->x1, b->y1);
	return strcmp(ds->class_names[b->cls], cls) == 0 && tap_close(b->x0, x0, 0, 1e-4) &&
	       tap_close(b->y0, y0, 0, 1e-4) && tap_close(b->x1, x1, 0, 1e-4) && tap_close(b->y1, y1, 0, 1e-4);
}

/* The three images of yolo_small read from its images folder. */
static void check_small(const struct dataset *ds, const char *how, const char *c0, const char *c1, const char *c2)
{
	ok(ds->nimages == 3 && ds->nboxes == 3 && ds->nclasses == 3, "%s: 3 images, 3 boxes, 3 classes", how);
	if (ds->nimages != 3)
		return;
	ok(strcmp(ds->images[0].file, "0001.jpg") == 0 && ds->images[0].width == 64 && ds->images[0].height == 48 &&
	   ds->images[1].width == 100 && ds->images[1].height == 50 && ds->images[2].box_count == 0,
		"%s: sizes from the JPEG and PNG headers; no label file, no boxes", how);
	ok(box_is(ds, 0, 0, c0, 16, 12, 48, 36), "%s: '0 .5 .5 .5 .5' at 64x48 -> [16 12 48 36]", how);
	ok(box_is(ds, 0, 1, c2, 8, 0, 24, 24), "%s: '2 .25 .25 .25 .5' -> [8 0 24 24]", how);
	ok(box_is(ds, 1, 0, c1, 0, 0, 20, 20), "%s: '1 .1 .2 .2 .4' at 100x50 -> [0 0 20 20]", how);
	ok(ds->report.images_skipped == 0 && ds->report.boxes_skipped == 0 && ds->report.boxes_clipped == 0,
		"%s: nothing skipped", how);
}

static void test_small(void)
{
	char images[1100], names[1100], data[1100], msg[4096];
	struct yolo_options opt = { 0 };
	struct dataset *ds;
	int rc;

	snprintf(images, sizeof images, "%s/images", root);
	snprintf(names, sizeof names, "%s/classes.txt", root);
	opt.images = images;
	opt.names = names;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "images folder + names file reads (%s)", det_error_message());
	if (rc == 0) {
		check_small(ds, "names file", "cat", "dog", "bird");
		dataset_free(ds);
	}

	opt.names = NULL;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "without names");
	if (rc == 0) {
		check_small(ds, "no names", "0", "1", "2");
		dataset_free(ds);
	}

	snprintf(data, sizeof data, "%s/labels", root);
	opt.labels = data;
	opt.names = names;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "an explicit labels folder");
	if (rc == 0) {
		check_small(ds, "labels folder", "cat", "dog", "bird");
		dataset_free(ds);
	}

	memset(&opt, 0, sizeof opt);
	snprintf(data, sizeof data, "%s/data.yaml", root);
	opt.data = data;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "data YAML with a {0: name} map (%s)", det_error_message());
	if (rc == 0) {
		check_small(ds, "data YAML", "cat", "dog", "bird");
		ok(strcmp(ds->root, root) == 0 || strstr(ds->root, "yolo_small/images") != NULL,
			"root is the train folder (%s)", ds->root);
		dataset_free(ds);
	}

	opt.split = "test";
	rc = yolo_read(&opt, &ds);
	snprintf(msg, sizeof msg, "%s: no test: key (split 'test')", data);
	ok(rc == DET_EINVAL && strcmp(det_error_message(), msg) == 0, "a split the YAML lacks: %s", det_error_message());

	snprintf(data, sizeof data, "%s/data_list.yaml", root);
	opt.data = data;
	opt.split = NULL;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "data YAML with a names list and a train.txt list (%s)", det_error_message());
	if (rc == 0) {
		snprintf(msg, sizeof msg, "%s/train.txt:3: image %s/images/0009.jpg is missing", root, root);
		ok(ds->nimages == 2 && ds->nboxes == 3 && ds->images[0].width == 100 &&
		   strcmp(ds->images[0].file, "images/0002.png") == 0, "the list's order is kept; './' dropped");
		ok(box_is(ds, 0, 0, "dog", 0, 0, 20, 20) && box_is(ds, 1, 0, "cat", 16, 12, 48, 36),
			"boxes of the listed images");
		ok(ds->report.images_skipped == 1 && strcmp(ds->report.first_problem, msg) == 0,
			"the missing image is named with the list's line: %s", ds->report.first_problem);
		dataset_free(ds);
	}

	snprintf(data, sizeof data, "%s/data_multi.yaml", root);
	opt.data = data;
	rc = yolo_read(&opt, &ds);
	ok(rc == 0, "data YAML whose train: lists a folder and a list file (%s)", det_error_message());
	if (rc == 0) {
		snprintf(msg, sizeof msg, "%s/train.txt:3: image %s/images/0009.jpg is missing", root, root);
		ok(ds->nimages == 5 && ds->nboxes == 6 && strcmp(ds->root, root) == 0,
			"both sources read in order under the YAML's path: 5 images, 6 boxes");
		ok(strcmp(ds->images[0].file, "images/0001.jpg") == 0 && strcmp(ds->images[3].file, "images/0002.png") == 0 &&
		   box_is(ds, 3, 0, "dog", 0, 0, 20, 20), "files relative to the root; boxes follow");
		ok(strcmp(ds->report.first_problem, msg) == 0, "a missing image names its list file and line: %s",
			ds->report.first_problem);
		dataset_free(ds);
	}

	memset(&opt, 0, sizeof opt);
	snprintf(images, sizeof images, "%s/nope", root);
	opt.images = images;
	rc = yolo_read(&opt, &ds);
	ok(rc < 0 && strstr(det_error_message(), "nope: can't read the image list") != NULL,
		"a missing images path fails: %s", det_error_message());
}

struct bad_case {
	const char *file;
	const char *message;
	size_t boxes_skipped, boxes_clipped, boxes;
};

static const struct bad_case bad_labels[] = {
	{ "four_numbers.txt", "bad/yolo/four_numbers.txt:1: expected 5 numbers (class cx cy w h), got 4", 1, 0, 0 },
	{ "class_range.txt", "bad/yolo/class_range.txt:3: class id 7 out of range (3 names)", 1, 0, 2 },
	{ "not_number.txt", "bad/yolo/not_number.txt:1: expected a number, got 'abc'", 1, 0, 0 },
	{ "nan.txt", "bad/yolo/nan.txt:2: NaN in the box, skipped", 1, 0, 1 },
	{ "clipped.txt", "bad/yolo/clipped.txt:1: box crosses the image border (x 0.85..1.05, y 0.4..0.6), clipped", 0, 1, 1 },
	{ "outside.txt", "bad/yolo/outside.txt:1: box lies outside the image (x 1.4..1.6, y 0.4..0.6)", 1, 0, 0 },
	{ "zero_size.txt", "bad/yolo/zero_size.txt:1: zero or negative size (w 0, h 0.1)", 1, 0, 0 },
	{ "negative_class.txt", "bad/yolo/negative_class.txt:2: class id -1 is not a whole number >= 0", 1, 0, 0 },
	{ "fractional_class.txt", "bad/yolo/fractional_class.txt:1: class id 1.5 is not a whole number >= 0", 1, 0, 0 },
	{ "six_numbers.txt", "bad/yolo/six_numbers.txt:1: expected 5 numbers (class cx cy w h), got 6", 1, 0, 0 },
	{ "long_number.txt", "bad/yolo/long_number.txt:1: a number longer than 62 characters", 1, 0, 0 },
	{ "polygon.txt", "", 0, 0, 1 },
};

static const struct bad_case bad_yaml[] = {
	{ "syntax.yaml", "bad/yolo/syntax.yaml:2:6: YAML error: did not find expected ',' or ']' while parsing a flow sequence", 0, 0, 0 },
	{ "names_gap.yaml", "bad/yolo/names_gap.yaml:3: names: key '2' is not a class index from 0 to 1", 0, 0, 0 },
	{ "nc_mismatch.yaml", "bad/yolo/nc_mismatch.yaml:1: nc is 3 but names has 2 entries", 0, 0, 0 },
	{ "no_names.yaml", "bad/yolo/no_names.yaml: no names: key (expected a list of class names or a {0: name} map)", 0, 0, 0 },
	{ "names_scalar.yaml", "bad/yolo/names_scalar.yaml:1: names: expected a list or a {0: name} map", 0, 0, 0 },
	{ "empty_split.yaml", "bad/yolo/empty_split.yaml:2: train: the list is empty", 0, 0, 0 },
	{ "split_map.yaml", "bad/yolo/split_map.yaml:2: train: expected a path or a list of paths", 0, 0, 0 },
	{ "empty_names.txt", "bad/yolo/empty_names.txt: no class names (expected one name per line)", 0, 0, 0 },
};

static char *slurp(const char *file, size_t *len)
{
	char path[2048];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/data/bad/yolo/%s", srcdir(), file);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
		const struct bad_case *c = &bad_labels[i];
		struct dataset *ds = dataset_new("bad", NULL);
		char name[256];
		size_t len;
		char *buf = slurp(c->file, &len);

		snprintf(name, sizeof name, "bad/yolo/%s", c->file);
		if (buf == NULL || ds == NULL) {
			ok(0, "%s: can't read", c->file);
			free(buf), dataset_free(ds);
			continue;
		}
		dataset_class_add(ds, "a", 0);
		dataset_class_add(ds, "b", 1);
		dataset_class_add(ds, "c", 2);
		dataset_image_add(ds, 1, "x.jpg", 100, 50);
		ok(yolo_labels_parse(ds, buf, len, name, 0, NULL) == 0 &&
		   strcmp(ds->report.first_problem, c->message) == 0, "%s: '%s'", c->file, c->message);
		if (strcmp(ds->report.first_problem, c->message) != 0)
			tap_diag("got: %s", ds->report.first_problem);
		ok(ds->report.boxes_skipped == c->boxes_skipped && ds->report.boxes_clipped == c->boxes_clipped &&
		   ds->nboxes == c->boxes, "%s: %zu skipped, %zu clipped, %zu kept", c->file,
			ds->report.boxes_skipped, ds->report.boxes_clipped, ds->nboxes);
		if (strcmp(c->file, "clipped.txt") == 0)
			ok(box_is(ds, 0, 0, "a", 85, 20, 100, 30), "clipped to [85 20 100 30]");
		if (strcmp(c->file, "polygon.txt") == 0)
			ok(box_is(ds, 0, 0, "c", 10, 5, 30, 20), "a polygon's bounds: [10 5 30 20] (CRLF accepted)");
		free(buf);
		dataset_free(ds);
	}
	for (size_t i = 0; i < sizeof bad_yaml / sizeof bad_yaml[0]; i++) {
		const struct bad_case *c = &bad_yaml[i];
		struct yolo_data d;
		char name[256];
		size_t len;
		char *buf = slurp(c->file, &len);
		int rc;

		snprintf(name, sizeof name, "bad/yolo/%s", c->file);
		if (buf == NULL) {
			ok(0, "%s: can't read", c->file);
			continue;
		}
		memset(&d, 0, sizeof d);
		if (strstr(c->file, ".yaml"))
			rc = yolo_data_parse(buf, len, name, NULL, &d);
		else
			rc = yolo_names_parse(buf, len, name, &d);
		ok(rc == DET_EFORMAT && strcmp(det_error_message(), c->message) == 0, "%s: '%s'", c->file, c->message);
		if (strcmp(det_error_message(), c->message) != 0)
			tap_diag("got: %s", det_error_message());
		yolo_data_fini(&d);
		free(buf);
	}
}

int main(void)
{
	snprintf(root, sizeof root, "%s/tests/data/yolo_small", srcdir());
	test_small();
	test_bad();
	return tap_done();
}
