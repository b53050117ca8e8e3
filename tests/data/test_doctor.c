/* test_doctor.c: the dataset doctor on a crafted dataset whose findings are
 * known by construction (one near-duplicate pair, one tiny box, one border
 * box, one empty image, one missing file, four degenerate boxes), its
 * statistics worked out by hand, the text report's width and the JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "data/doctor.h"
#include "tests/tap.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static void box(struct dataset *ds, int cls, float x0, float y0, float x1, float y1)
{
	struct dataset_box b = { .x0 = x0, .y0 = y0, .x1 = x1, .y1 = y1, .cls = cls };

	b.area = (x1 - x0) * (y1 - y0);
	dataset_box_add(ds, &b);
}

static struct dataset *crafted(void)
{
	const char *top = getenv("top_srcdir");
	char root[1024];
	struct dataset *ds;

	snprintf(root, sizeof root, "%s/tests/data/voc_small/JPEGImages", top && *top ? top : TOP_SRCDIR);
	ds = dataset_new("crafted", root);
	dataset_class_add(ds, "a", 1);
	dataset_class_add(ds, "b", 2);
	dataset_class_add(ds, "a_class_name_longer_than_its_column", 3);
	dataset_image_add(ds, 11, "000001.jpg", 100, 100);
	box(ds, 0, 10, 10, 50, 50);
	box(ds, 0, 10, 10, 50, 51);  /* IoU 1600/1640 = 0.976 with the one above */
	box(ds, 1, 10, 10, 50, 50);  /* same place, other class: not a duplicate */
	box(ds, 0, 0, 20, 30, 40);   /* on the left border */
	box(ds, 1, 60, 60, 62, 70);  /* 2 px wide: tiny */
	dataset_image_add(ds, 12, "000002.jpg", 100, 100); /* empty */
	dataset_image_add(ds, 13, "missing.jpg", 200, 100);
	box(ds, 0, 5, 5, 195, 95);   /* large, inside */
	box(ds, 0, 50, 50, 40, 60);  /* x1 < x0 */
	box(ds, 0, NAN, 5, 10, 10);
	box(ds, 1, 300, 10, 320, 20); /* outside the 200x100 image */
	box(ds, 7, 10, 10, 20, 20);  /* class out of range */
	return ds;
}

/* Columns of a UTF-8 line (every code point one column here). */
static int columns(const char *s, size_t n)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

int main(void)
{
	struct dataset *ds = crafted();
	struct doctor_report *r;
	char *text, *p;
	int widest = 0;
	cJSON *json;

	ok(doctor_run(ds, NULL, &r) == 0, "doctor runs");
	ok(r->nimages == 3 && r->nobjects == 10 && r->nclasses == 3 && r->classes_used == 2,
		"3 images, 10 objects, 2 of 3 classes used");
	ok(r->findings[DOCTOR_DUPLICATES].count == 1 && r->findings[DOCTOR_DUPLICATES].nexamples == 1 &&
	   r->findings[DOCTOR_DUPLICATES].ex[0].box == 0 && r->findings[DOCTOR_DUPLICATES].ex[0].other == 1 &&
	   tap_close(r->findings[DOCTOR_DUPLICATES].ex[0].iou, 1600.0 / 1640.0, 1e-6, 0),
		"one near-duplicate pair, boxes 0 and 1, IoU 1600/1640");
	ok(r->findings[DOCTOR_TINY].count == 1 && r->findings[DOCTOR_TINY].ex[0].box == 4, "one tiny box (box 4)");
	ok(r->findings[DOCTOR_BORDER].count == 1 && r->findings[DOCTOR_BORDER].ex[0].box == 3, "one border box (box 3)");
	ok(r->findings[DOCTOR_EMPTY].count == 1 && r->findings[DOCTOR_EMPTY].ex[0].image == 1, "one empty image (the second)");
	ok(r->findings[DOCTOR_MISSING].count == 1 && r->findings[DOCTOR_MISSING].ex[0].image == 2,
		"one missing file (missing.jpg)");
	ok(r->findings[DOCTOR_DEGENERATE].count == 4 && r->findings[DOCTOR_DEGENERATE].ex[0].box == 6 &&
	   r->findings[DOCTOR_DEGENERATE].ex[3].box == 9, "four degenerate boxes: reversed, NaN, outside, bad class");
	ok(r->class_objects[0] == 4 && r->class_objects[1] == 2 && r->class_objects[2] == 0 &&
	   r->class_images[0] == 2 && r->class_images[1] == 1, "per class: a 4 in 2 images, b 2 in 1, c 0");
	ok(r->class_order[0] == 0 && r->class_order[1] == 1 && r->class_order[2] == 2, "classes by count");
	ok(r->imbalance == 2.0 && r->class_max == 0 && r->class_min == 1, "imbalance 4 / 2 = 2");
	ok(r->per_image_min == 0 && r->per_image_max == 5 && r->per_image_median == 5 &&
	   tap_close(r->per_image_mean, 10.0 / 3, 1e-12, 0), "objects per image: min 0, median 5, max 5, mean 3.33");
	ok(r->per_image_hist[0] == 1 && r->per_image_hist[4] == 2, "histogram: one image with 0, two with 5-8");
	ok(r->size_small == 2 && r->size_medium == 3 && r->size_large == 1,
		"sizes: small 2 (600, 20), medium 3 (1600, 1640, 1600), large 1 (17100)");
	ok(tap_close(r->aspect_min, 0.2, 1e-6, 0) && r->aspect_median == 1.0 &&
	   tap_close(r->aspect_max, 190.0 / 90.0, 1e-6, 0), "aspect: min 0.2, median 1, max 2.11");
	ok(r->aspect_hist[0] == 1 && r->aspect_hist[1] == 0 && r->aspect_hist[2] == 1 && r->aspect_hist[3] == 3 &&
	   r->aspect_hist[4] == 1 && r->aspect_hist[5] == 0, "aspect histogram 1 0 1 3 1 0");

	text = doctor_text(r);
	ok(text != NULL, "the text report");
	for (p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int c = columns(p, n);

		widest = c > widest ? c : widest;
		p += n + (nl != NULL);
	}
	ok(widest <= 80, "fits 80 columns (widest line %d)", widest);
	ok(text && strstr(text, "  images   3          objects  10         classes  3 (2 with objects)\n"),
		"the header line");
	ok(text && strstr(text, "  a                     ████████████████████████████████████        4       2\n") &&
	   strstr(text, "  b                     ██████████████████                          2       1\n"),
		"class bars: a full, b half");
	ok(text && strstr(text, "  imbalance 2.0 (a 4 / b 2); 1 without objects\n"), "the imbalance line");
	ok(text && strstr(text, "  near-duplicate boxes (same class, IoU > 0.95)") &&
	   strstr(text, "      image 11 000001.jpg: a [10 10 50 50] ~ [10 10 50 51] IoU 0.976\n"),
		"the duplicate's example names the image and both boxes");
	ok(text && strstr(text, "      missing.jpg\n"), "the missing file is named");
	ok(text && strstr(text, "\n  a_class_name_longer~  "), "a long class name is cut to its column with '~'");
	for (p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		tap_diag("%.*s", n, p);
		p += n + (nl != NULL);
	}
	free(text);

	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		ok(doctor_write_json(r, f) == 0, "JSON written");
		fclose(f);
		json = cJSON_Parse(buf);
		ok(json != NULL, "and it parses");
		if (json) {
			cJSON *fd = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "findings"), "near_duplicates");
			cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItem(fd, "examples"), 0);

			ok(cJSON_GetObjectItem(fd, "count")->valuedouble == 1 &&
			   cJSON_GetObjectItem(ex, "image")->valuedouble == 11 &&
			   strcmp(cJSON_GetObjectItem(ex, "class")->valuestring, "a") == 0,
				"findings.near_duplicates: count 1, image 11, class a");
			ok(cJSON_GetObjectItem(json, "imbalance")->valuedouble == 2 &&
			   cJSON_GetArraySize(cJSON_GetObjectItem(json, "per_class")) == 3, "imbalance and per_class");
			cJSON_Delete(json);
		}
		free(buf);
	}
	doctor_report_free(r);

	{
		struct doctor_options opt = { .dup_iou = 0.99f, .tiny_px = 1, .border_px = 0 };

		ok(doctor_run(ds, &opt, &r) == 0 && r->findings[DOCTOR_DUPLICATES].count == 0 &&
		   r->findings[DOCTOR_TINY].count == 0 && r->findings[DOCTOR_BORDER].count == 0 &&
		   r->findings[DOCTOR_MISSING].count == 0,
			"options: IoU 0.99, 1 px, 0 px border and no file check find none of those");
		doctor_report_free(r);
	}
	dataset_free(ds);

	ds = dataset_new("empty", NULL);
	ok(doctor_run(ds, NULL, &r) == 0 && r->nimages == 0 && r->imbalance == 0, "an empty dataset");
	text = doctor_text(r);
	ok(text && strstr(text, "imbalance -- (no objects)"), "reports no objects");
	free(text);
	doctor_report_free(r);
	dataset_free(ds);
	return tap_done();
}
