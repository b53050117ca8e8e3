/* test_voc.c: the Pascal VOC reader on tests/data/voc_small (boxes checked
 * by hand against the XML: x0 = xmin - 1, y0 = ymin - 1, x1 = xmax,
 * y1 = ymax), its split files, class modes, and the broken-file corpus
 * tests/data/bad/voc/, each file with the exact message it must give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/voc.h"
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
	float x0, float y0, float x1, float y1, int ignore)
{
	const struct dataset_box *b;

	if (img >= ds->nimages || k >= ds->images[img].box_count)
		return 0;
	b = dataset_image_boxes(ds, img) + k;
	return strcmp(ds->class_names[b->cls], cls) == 0 && b->x0 == x0 && b->y0 == y0 &&
	       b->x1 == x1 && b->y1 == y1 && b->ignore == ignore &&
	       b->area == (x1 - x0) * (y1 - y0);
}

static int nwarn;
static void count_warn(void *ctx, const char *msg)
{
	(void)ctx, (void)msg;
	nwarn++;
}

static void test_small(void)
{
	struct voc_options opt = { .split = "trainval", .warn = count_warn };
	struct dataset *ds;
	char msg[2048];
	int rc;

	rc = voc_read(root, &opt, &ds);
	ok(rc == 0, "voc_small trainval reads (%s)", det_error_message());
	if (rc)
		return;
	ok(ds->nimages == 2 && ds->nboxes == 4, "2 images, 4 boxes (got %zu, %zu)", ds->nimages, ds->nboxes);
	ok(ds->nclasses == 20 && strcmp(ds->class_names[0], "aeroplane") == 0 &&
	   strcmp(ds->class_names[19], "tvmonitor") == 0, "the 20 VOC classes in devkit order");
	ok(ds->images[0].width == 64 && ds->images[0].height == 48 && ds->images[0].id == 1 &&
	   strcmp(ds->images[0].file, "JPEGImages/000001.jpg") == 0, "image 1: 64x48, JPEGImages/000001.jpg");
	ok(box_is(ds, 0, 0, "dog", 0, 0, 32, 24, 0), "dog (1,1,32,24) -> [0 0 32 24]");
	ok(box_is(ds, 0, 1, "person", 9, 4, 20, 40, 1), "difficult person (10,5,20,40) -> [9 4 20 40], ignore");
	ok(box_is(ds, 1, 0, "cat", 40, 30, 80, 60, 0), "cat (41,31,80,60) -> [40 30 80 60]");
	ok(box_is(ds, 1, 1, "person", 1.5f, 2, 10, 12, 0), "fractional xmin 2.5 -> 1.5");
	ok(ds->report.images_skipped == 0 && ds->report.boxes_skipped == 0 &&
	   ds->report.boxes_clipped == 0 && nwarn == 0, "nothing skipped");
	ok(strcmp(ds->name, "voc_small trainval") == 0, "named after the root and split (%s)", ds->name);
	dataset_free(ds);

	opt.split = "test";
	rc = voc_read(root, &opt, &ds);
	ok(rc == 0 && ds->nimages == 1 && ds->images[0].width == 50 && ds->images[0].height == 40,
		"no <size>: 50x40 read from the JPEG header");
	ok(rc == 0 && box_is(ds, 0, 0, "car", 4, 4, 25, 35, 0) && box_is(ds, 0, 1, "bicycle", 29, 9, 50, 30, 0),
		"test split boxes");
	dataset_free(ds);

	opt.split = NULL;
	nwarn = 0;
	rc = voc_read(root, &opt, &ds);
	snprintf(msg, sizeof msg, "%s/Annotations/000005.xml: image %s/JPEGImages/000005.jpg is missing "
		"(No such file or directory)", root, root);
	ok(rc == 0 && ds->nimages == 3 && ds->report.images_skipped == 1 && nwarn == 1,
		"every Annotations/*.xml: 3 images, the one with a missing image skipped");
	ok(rc == 0 && strcmp(ds->report.first_problem, msg) == 0, "the missing image is named: %s",
		rc == 0 ? ds->report.first_problem : "");
	dataset_free(ds);

	opt.keep_missing = 1;
	rc = voc_read(root, &opt, &ds);
	ok(rc == 0 && ds->nimages == 4 && ds->report.images_skipped == 0, "keep_missing keeps it");
	dataset_free(ds);
	opt.keep_missing = 0;

	opt.split = "broken";
	rc = voc_read(root, &opt, &ds);
	snprintf(msg, sizeof msg, "%s/Annotations/000004.xml: missing (listed in ImageSets/Main/broken.txt:3)", root);
	ok(rc == 0 && ds->nimages == 1 && ds->report.images_skipped == 2,
		"a split naming a missing annotation and a missing image: 1 read, 2 skipped");
	ok(rc == 0 && strcmp(ds->report.first_problem, msg) == 0, "the missing annotation is named with its split line: %s",
		rc == 0 ? ds->report.first_problem : "");
	dataset_free(ds);

	opt.split = "nope";
	rc = voc_read(root, &opt, &ds);
	snprintf(msg, sizeof msg, "%s/ImageSets/Main/nope.txt: can't open the split file (No such file or directory)", root);
	ok(rc == DET_EIO && ds == NULL && strcmp(det_error_message(), msg) == 0,
		"a missing split file fails with its name: %s", det_error_message());

	snprintf(msg, sizeof msg, "%s/JPEGImages", root);
	rc = voc_read(msg, NULL, &ds);
	ok(rc == DET_EIO && strstr(det_error_message(), "no Annotations/ folder") != NULL,
		"a folder without Annotations/ fails: %s", det_error_message());
}

static void test_class_modes(void)
{
	static const char *const names[] = { "dog", "person" };
	struct voc_options opt = { .split = "trainval", .classes = VOC_CLASSES_LIST, .names = names, .nnames = 2 };
	struct dataset *ds;
	char msg[2048];
	int rc;

	rc = voc_read(root, &opt, &ds);
	snprintf(msg, sizeof msg, "%s/Annotations/000002.xml:6: unknown class 'cat' (not in the class list)", root);
	ok(rc == 0 && ds->nclasses == 2 && ds->nboxes == 3 && ds->report.boxes_skipped == 1,
		"a class list: the cat is skipped and counted");
	ok(rc == 0 && strcmp(ds->report.first_problem, msg) == 0, "and named: %s", rc == 0 ? ds->report.first_problem : "");
	ok(rc == 0 && box_is(ds, 1, 0, "person", 1.5f, 2, 10, 12, 0) && ds->boxes[0].cls == 0,
		"classes numbered in list order");
	dataset_free(ds);

	opt.classes = VOC_CLASSES_DISCOVER;
	opt.split = NULL;
	rc = voc_read(root, &opt, &ds);
	ok(rc == 0 && ds->nclasses == 5 && strcmp(ds->class_names[0], "bicycle") == 0 &&
	   strcmp(ds->class_names[4], "person") == 0, "discovered classes sorted by name");
	ok(rc == 0 && box_is(ds, 2, 0, "car", 4, 4, 25, 35, 0) && ds->boxes[0].cls == 3,
		"boxes follow the sorted classes (dog = 3)");
	dataset_free(ds);

	opt.classes = VOC_CLASSES_AUTO;
	opt.split = "trainval";
	opt.skip_difficult = 1;
	rc = voc_read(root, &opt, &ds);
	ok(rc == 0 && ds->nboxes == 3 && ds->report.boxes_skipped == 0, "skip_difficult drops the difficult person");
	dataset_free(ds);
}

struct bad_case {
	const char *file;
	enum voc_classes classes;
	const char *message;
	size_t images_skipped, boxes_skipped, boxes_clipped, boxes;
};

static const struct bad_case bad[] = {
	{ "syntax.xml", 0, "bad/voc/syntax.xml:7:4: XML syntax error: mismatched tag", 1, 0, 0, 0 },
	{ "not_annotation.xml", 0, "bad/voc/not_annotation.xml:2: expected <annotation> as the root element, got <doc>", 1, 0, 0, 0 },
	{ "no_name.xml", 0, "bad/voc/no_name.xml:4: <object> has no <name>", 0, 1, 0, 0 },
	{ "bad_number.xml", 0, "bad/voc/bad_number.xml:8: <xmin> expected a number, got 'abc'", 0, 1, 0, 0 },
	{ "missing_ymax.xml", 0, "bad/voc/missing_ymax.xml:6: <bndbox> has no <ymax>", 0, 1, 0, 0 },
	{ "no_bndbox.xml", 0, "bad/voc/no_bndbox.xml:4: <object> 'dog' has no <bndbox>", 0, 1, 0, 0 },
	{ "empty_box.xml", 0, "bad/voc/empty_box.xml:17: empty box: xmin 30, ymin 5, xmax 20, ymax 15 "
		"(expected xmin <= xmax and ymin <= ymax)", 0, 1, 0, 1 },
	{ "nan.xml", 0, "bad/voc/nan.xml:8: <xmin> expected a number, got 'nan'", 0, 1, 0, 0 },
	{ "unknown_class.xml", VOC_CLASSES_VOC, "bad/voc/unknown_class.xml:5: unknown class 'unicorn' "
		"(not one of the 20 VOC classes)", 0, 1, 0, 0 },
	{ "clipped.xml", 0, "bad/voc/clipped.xml:7: box (90, 10, 120, 60) crosses the border of the "
		"100x50 image, clipped", 0, 0, 1, 1 },
	{ "outside.xml", 0, "bad/voc/outside.xml:7: box (150, 10, 170, 20) lies outside the 100x50 image", 0, 1, 0, 0 },
	{ "no_size.xml", 0, "bad/voc/no_size.xml: no <size> with <width> and <height>", 1, 0, 0, 0 },
	{ "bad_size.xml", 0, "bad/voc/bad_size.xml:4: <width> expected a positive whole number, got '0'", 1, 0, 0, 0 },
	{ "bad_difficult.xml", 0, "bad/voc/bad_difficult.xml:6: <difficult> expected 0 or 1, got 'maybe'", 0, 1, 0, 0 },
	{ "empty.xml", 0, "bad/voc/empty.xml:1:1: XML syntax error: no element found", 1, 0, 0, 0 },
	{ "truncated.xml", 0, "bad/voc/truncated.xml:7:2: XML syntax error: no element found", 1, 0, 0, 0 },
	{ "bad_entity.xml", 0, "bad/voc/bad_entity.xml:2:12: XML syntax error: undefined entity", 1, 0, 0, 0 },
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
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
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct bad_case *c = &bad[i];
		struct voc_options opt = { .classes = c->classes };
		struct dataset *ds = dataset_new("bad", NULL);
		char path[2048], name[256];
		size_t len;
		char *buf;
		int rc;

		snprintf(path, sizeof path, "%s/tests/data/bad/voc/%s", srcdir(), c->file);
		snprintf(name, sizeof name, "bad/voc/%s", c->file);
		buf = slurp(path, &len);
		if (buf == NULL || ds == NULL) {
			ok(0, "%s: can't read", path);
			free(buf);
			dataset_free(ds);
			continue;
		}
		rc = voc_parse_xml(ds, buf, len, name, NULL, 1, &opt);
		ok(rc >= 0 && strcmp(ds->report.first_problem, c->message) == 0, "%s", c->message);
		if (strcmp(ds->report.first_problem, c->message) != 0)
			tap_diag("got: %s", ds->report.first_problem);
		ok(ds->report.images_skipped == c->images_skipped && ds->report.boxes_skipped == c->boxes_skipped &&
		   ds->report.boxes_clipped == c->boxes_clipped && ds->nboxes == c->boxes,
			"%s: %zu/%zu/%zu skipped images/skipped boxes/clipped, %zu boxes kept", c->file,
			ds->report.images_skipped, ds->report.boxes_skipped, ds->report.boxes_clipped, ds->nboxes);
		if (strcmp(c->file, "clipped.xml") == 0)
			ok(ds->nboxes == 1 && ds->boxes[0].x0 == 89 && ds->boxes[0].y0 == 9 &&
			   ds->boxes[0].x1 == 100 && ds->boxes[0].y1 == 50, "clipped to [89 9 100 50]");
		free(buf);
		dataset_free(ds);
	}
}

int main(void)
{
	snprintf(root, sizeof root, "%s/tests/data/voc_small", srcdir());
	test_small();
	test_class_modes();
	test_bad();
	return tap_done();
}
