/* test_coco.c: the COCO reader and writer. A broken-input corpus
 * (tests/data/bad/coco/) where each file's message must name the record and
 * the reason; a fixture read, written and read back unchanged; missing image
 * files found when asked; a syntax error's line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "data/coco.h"
#include "tests/tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static const char *srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s && *s ? s : TOP_SRCDIR;
}

struct log {
	char text[8192];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct log *l = ctx;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof l->text - len, "%s\n", msg);
	l->n++;
}

static const struct {
	const char *file;
	int fatal;           /* the whole file fails */
	const char *expect;  /* in the message */
	int skipped_boxes, clipped, skipped_images, duplicates;
} corpus[] = {
	{ "syntax.json", 1, "syntax.json:4:67: JSON syntax error", 0, 0, 0, 0 },
	{ "unterminated.json", 1, "unterminated.json:1:", 0, 0, 0, 0 },
	{ "trailing.json", 1, "unexpected characters after the end", 0, 0, 0, 0 },
	{ "not_coco.json", 1, "no \"images\" array", 0, 0, 0, 0 },
	{ "unknown_category.json", 0, "annotation id 7 (index 0): unknown category_id 99; skipped", 1, 0, 0, 0 },
	{ "negative_box.json", 0, "annotation id 3 (index 0): bbox [10, 10, -5, 4] has negative width or height", 1, 0, 0, 0 },
	{ "zero_box.json", 0, "annotation id 4 (index 0): bbox [10, 10, 0, 4] has zero width or height", 1, 0, 0, 0 },
	{ "nonfinite_box.json", 0, "annotation id 2 (index 0): bbox has a non-finite value", 1, 0, 0, 0 },
	{ "unknown_image.json", 0, "annotation id 5 (index 0): unknown image_id 42; skipped", 1, 0, 0, 0 },
	{ "wrong_type.json", 0, "annotation id 6 (index 0): bad \"bbox\" (expected [x, y, width, height]", 1, 0, 0, 0 },
	{ "missing_field.json", 0, "annotation id 8 (index 0): missing \"category_id\" (expected an integer)", 1, 0, 0, 0 },
	{ "bad_iscrowd.json", 0, "annotation id 10 (index 0): bad \"iscrowd\" (expected 0 or 1)", 1, 0, 0, 0 },
	{ "past_border.json", 0, "annotation id 9 (index 0): bbox [90, 70, 20, 20] goes past the border of image id 1 (100x80); clipped", 0, 1, 0, 0 },
	{ "duplicate_image.json", 0, "image id 1 (index 1): duplicate image id", 0, 0, 0, 1 },
	{ "bad_image.json", 0, "image id 3 (index 0): bad \"width\" (expected a positive integer)", 0, 0, 1, 0 },
};

static void check_corpus(void)
{
	for (size_t i = 0; i < sizeof corpus / sizeof *corpus; i++) {
		char path[4096];
		struct log log = { { 0 }, 0 };
		struct coco_read_options opt = { .warn = collect, .warn_ctx = &log, .quiet = 1 };
		struct dataset *ds = NULL;
		int rc;

		snprintf(path, sizeof path, "%s/tests/data/bad/coco/%s", srcdir(), corpus[i].file);
		rc = coco_read_opts(path, &opt, &ds);
		if (corpus[i].fatal) {
			ok(rc == DET_EFORMAT && strstr(det_error_message(), corpus[i].expect) != NULL,
				"%s fails: %s", corpus[i].file, det_error_message());
			ok(ds == NULL, "%s: no dataset", corpus[i].file);
			continue;
		}
		if (!ok(rc == 0, "%s is read despite the bad record (%s)", corpus[i].file, rc ? det_error_message() : ""))
			continue;
		ok(strstr(log.text, corpus[i].expect) != NULL && strstr(log.text, corpus[i].file) != NULL,
			"%s: message names the record and reason: %s", corpus[i].file, log.text);
		ok((int)ds->report.boxes_skipped == corpus[i].skipped_boxes &&
		   (int)ds->report.boxes_clipped == corpus[i].clipped &&
		   (int)ds->report.images_skipped == corpus[i].skipped_images &&
		   (int)ds->report.duplicates == corpus[i].duplicates,
			"%s: counted (skipped %zu, clipped %zu, images %zu, duplicates %zu)", corpus[i].file,
			ds->report.boxes_skipped, ds->report.boxes_clipped, ds->report.images_skipped, ds->report.duplicates);
		ok(strstr(ds->report.first_problem, corpus[i].expect) != NULL, "%s: first problem kept in the report",
			corpus[i].file);
		dataset_free(ds);
	}
}

static void check_past_border(void)
{
	char path[4096];
	struct coco_read_options opt = { .quiet = 1, .warn = collect };
	struct log log = { { 0 }, 0 };
	struct dataset *ds = NULL;

	opt.warn_ctx = &log;
	snprintf(path, sizeof path, "%s/tests/data/bad/coco/past_border.json", srcdir());
	if (coco_read_opts(path, &opt, &ds) != 0)
		return;
	ok(ds->nboxes == 1 && ds->boxes[0].x0 == 90 && ds->boxes[0].y0 == 70 && ds->boxes[0].x1 == 100 &&
	   ds->boxes[0].y1 == 80 && ds->boxes[0].area == 400, "clipped to the border, area kept as given");
	dataset_free(ds);
}

static void check_bom(void)
{
	char path[4096];
	struct coco_read_options opt = { .quiet = 1 };
	struct dataset *ds = NULL;

	snprintf(path, sizeof path, "%s/tests/data/bad/coco/bom.json", srcdir());
	ok(coco_read_opts(path, &opt, &ds) == 0 && ds->nimages == 1, "a UTF-8 byte order mark is accepted");
	dataset_free(ds);
}

static void check_roundtrip(void)
{
	char path[4096], out[] = "/tmp/detbench-coco-XXXXXX";
	struct coco_read_options opt = { .quiet = 1 };
	struct dataset *a = NULL, *b = NULL;
	int fd = mkstemp(out), same = 1;

	close(fd);
	snprintf(path, sizeof path, "%s/tests/golden/cocoeval/case3/gt.json", srcdir());
	if (!ok(coco_read_opts(path, &opt, &a) == 0, "read case3 gt (sparse category ids)"))
		return;
	ok(a->nimages == 120 && a->nclasses > 0, "%zu images, %zu boxes, %d classes", a->nimages, a->nboxes, a->nclasses);
	ok(coco_write(a, out) == 0, "write it back");
	if (!ok(coco_read_opts(out, &opt, &b) == 0, "read the written file (%s)", det_error_message()))
		goto done;
	same = a->nimages == b->nimages && a->nboxes == b->nboxes && a->nclasses == b->nclasses;
	for (int c = 0; same && c < a->nclasses; c++)
		same = a->class_ids[c] == b->class_ids[c] && strcmp(a->class_names[c], b->class_names[c]) == 0;
	for (size_t i = 0; same && i < a->nimages; i++)
		same = a->images[i].id == b->images[i].id && a->images[i].box_count == b->images[i].box_count &&
		       strcmp(a->images[i].file, b->images[i].file) == 0;
	for (size_t i = 0; same && i < a->nboxes; i++) {
		const struct dataset_box *p = &a->boxes[i], *q = &b->boxes[i];

		same = p->x0 == q->x0 && p->y0 == q->y0 && p->x1 == q->x1 && p->y1 == q->y1 && p->area == q->area &&
		       p->cls == q->cls && p->iscrowd == q->iscrowd && p->id == q->id;
	}
	ok(same, "round trip keeps images, classes (source ids), boxes, areas, crowds and ids");
	{
		int64_t maxid = 0;

		for (int c = 0; c < a->nclasses; c++)
			if (a->class_ids[c] > maxid)
				maxid = a->class_ids[c];
		ok(maxid > a->nclasses, "category ids are not contiguous (max id %lld, %d classes)", (long long)maxid,
			a->nclasses);
	}
done:
	unlink(out);
	dataset_free(a);
	dataset_free(b);
}

static void check_missing_files(void)
{
	char root[] = "/tmp/detbench-cocoimg-XXXXXX", file[4096];
	const char *json = "{\"images\": [{\"id\": 1, \"file_name\": \"here.png\", \"width\": 10, \"height\": 10},"
		"{\"id\": 2, \"file_name\": \"gone.png\", \"width\": 10, \"height\": 10}],"
		"\"categories\": [{\"id\": 1, \"name\": \"x\"}],"
		"\"annotations\": [{\"id\": 1, \"image_id\": 2, \"category_id\": 1, \"bbox\": [1, 1, 2, 2]}]}";
	struct log log = { { 0 }, 0 };
	struct coco_read_options opt = { .check_files = 1, .warn = collect, .warn_ctx = &log, .quiet = 1 };
	struct dataset *ds = NULL;
	FILE *f;

	if (mkdtemp(root) == NULL)
		return;
	snprintf(file, sizeof file, "%s/here.png", root);
	f = fopen(file, "w");
	fclose(f);
	opt.image_root = root;
	ok(coco_read_buffer(json, strlen(json), "mem.json", &opt, &ds) == 0, "read with file checks");
	ok(ds && ds->nimages == 1 && ds->report.images_skipped == 1 && ds->nboxes == 0 && ds->report.boxes_skipped == 1,
		"the image whose file is missing is skipped with its box");
	ok(strstr(log.text, "image id 2 (index 1): missing image file") != NULL, "named: %s", log.text);
	dataset_free(ds);
	unlink(file);
	rmdir(root);
}

int main(void)
{
	check_corpus();
	check_past_border();
	check_bom();
	check_roundtrip();
	check_missing_files();
	return tap_done();
}
