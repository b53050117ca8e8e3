/* test_fashion: the Fashion-MNIST IDX reader and the scene generator — boxes
 * fit the items' pixels, splits stay apart, skew changes frequencies, and a
 * scene depends only on (seed, index). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "tests/tap.h"

#include "core/error.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "data/image.h"

/* CPU time of this process: a loaded machine slows the wall clock, not this. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_splits(void)
{
	const struct fashion_split *tr, *te;
	int rc = fashion_split_get(FASHION_TRAIN, &tr);

	ok(rc == 0, "train split loads (%s)", rc ? det_error_message() : "ok");
	if (rc)
		return;
	ok(fashion_split_get(FASHION_TEST, &te) == 0, "test split loads");
	ok(tr->n == 60000 && te->n == 10000, "60000 train and 10000 test items (%d, %d)", tr->n, te->n);
	int balanced = 1;

	for (int c = 0; c < FASHION_CLASSES; c++)
		balanced &= tr->count[c] == 6000 && te->count[c] == 1000;
	ok(balanced, "6000 / 1000 items of every class");
	ok(tr->labels[tr->by_class[9][0]] == 9 && te->labels[te->by_class[3][5]] == 3, "per-class index lists point at their class");
	const struct fashion_split *again;

	fashion_split_get(FASHION_TRAIN, &again);
	ok(again == tr, "loaded once per process and shared");
}

static void write_gz(const char *path, const uint8_t *data, size_t n)
{
	gzFile f = gzopen(path, "wb");

	gzwrite(f, data, (unsigned)n);
	gzclose(f);
}

static void test_bad_idx(void)
{
	char dir[] = "/tmp/test_fashion_XXXXXX", path[256];
	uint8_t hdr[16] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28 }, *data = NULL;
	uint8_t big[16 + 2 * 784];
	int dims[3], rc;

	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/bad-magic.gz", dir);
	hdr[2] = 9;
	write_gz(path, hdr, 16);
	rc = fashion_idx_read(path, 3, dims, &data);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "bad-magic.gz") && strstr(det_error_message(), "magic"),
		"bad magic is named: %s", det_error_message());
	hdr[2] = 8;
	snprintf(path, sizeof path, "%s/short.gz", dir);
	memcpy(big, hdr, 16);
	memset(big + 16, 7, 2 * 784);
	write_gz(path, big, 16 + 784);
	rc = fashion_idx_read(path, 3, dims, &data);
	ok(rc == DET_EFORMAT && strstr(det_error_message(), "short.gz") && strstr(det_error_message(), "truncated"),
		"truncated data is named: %s", det_error_message());
	snprintf(path, sizeof path, "%s/good.gz", dir);
	write_gz(path, big, sizeof big);
	rc = fashion_idx_read(path, 3, dims, &data);
	ok(rc == 0 && dims[0] == 2 && dims[1] == 28 && data && data[100] == 7, "a well-formed file reads");
	free(data);
	rc = fashion_idx_read("/nonexistent/x.gz", 3, dims, &data);
	ok(rc == DET_EIO && strstr(det_error_message(), "dataset-fashion-mnist"), "missing file names the package: %s",
		det_error_message());
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		tap_diag("could not remove %s", dir);
}

/* Every box is the tight box of its item's mask. */
static void test_boxes_fit(struct dataset *ds)
{
	int fit = 1, inside = 1;
	size_t checked = 0;

	for (size_t k = 0; k < ds->nboxes; k++) {
		struct image m;
		int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
		const struct dataset_box *b = &ds->boxes[k];

		if (fashion_object_mask(ds, k, &m) < 0) {
			fit = 0;
			break;
		}
		for (int y = 0; y < m.height; y++)
			for (int x = 0; x < m.width; x++)
				if (m.data[y * m.width + x]) {
					x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
					y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
				}
		if (!(b->x0 == x0 && b->y0 == y0 && b->x1 == x1 + 1 && b->y1 == y1 + 1)) {
			if (fit)
				tap_diag("box %zu: (%g %g %g %g) vs pixels (%d %d %d %d)", k, b->x0, b->y0, b->x1, b->y1, x0, y0, x1 + 1, y1 + 1);
			fit = 0;
		}
		inside &= b->x0 >= 0 && b->y0 >= 0 && b->x1 <= m.width && b->y1 <= m.height && b->x1 > b->x0 && b->y1 > b->y0;
		image_fini(&m);
		checked++;
	}
	ok(fit, "all %zu boxes are the tight box of their item's pixels", checked);
	ok(inside, "all boxes lie inside the scene");
}

static void test_scenes(void)
{
	struct fashion_config cfg;
	struct dataset *a, *b, *t;
	struct image i1, i2, i3;
	int rc, minb = 99, maxb = 0;

	fashion_config_default(&cfg);
	cfg.images = 300;
	rc = fashion_dataset_new(&cfg, &a);
	ok(rc == 0, "300 train scenes (%s)", rc ? det_error_message() : "ok");
	if (rc)
		return;
	ok(a->nclasses == 10 && strcmp(a->class_names[6], "Shirt") == 0 && a->nimages == 300, "10 classes, names, 300 images");
	for (size_t i = 0; i < a->nimages; i++) {
		int n = (int)a->images[i].box_count;

		minb = n < minb ? n : minb, maxb = n > maxb ? n : maxb;
	}
	ok(minb >= 1 && maxb <= 6 && maxb >= 4, "1..6 objects per scene (%d..%d)", minb, maxb);
	{
		float smin = 1e9f, smax = 0, maxiou = 0;

		for (size_t k = 0; k < a->nboxes; k++) {
			float s = a->boxes[k].x1 - a->boxes[k].x0;

			smin = s < smin ? s : smin, smax = s > smax ? s : smax;
		}
		for (size_t i = 0; i < a->nimages; i++) {
			const struct dataset_box *bb = dataset_image_boxes(a, i);

			for (size_t p = 0; p < a->images[i].box_count; p++)
				for (size_t q = 0; q < p; q++) {
					float iw = fminf(bb[p].x1, bb[q].x1) - fmaxf(bb[p].x0, bb[q].x0);
					float ih = fminf(bb[p].y1, bb[q].y1) - fmaxf(bb[p].y0, bb[q].y0);
					float in = iw > 0 && ih > 0 ? iw * ih : 0, u = bb[p].area + bb[q].area - in;

					maxiou = fmaxf(maxiou, in / u);
				}
		}
		ok(smin >= 4 && smax <= 72, "box widths within the item scales (%g..%g px)", smin, smax);
		ok(maxiou <= 0.3f + 1e-6f, "IoU between items <= 0.3 (max %.3f)", maxiou);
	}
	test_boxes_fit(a);

	/* same (seed, index) -> same image, whatever the order and the dataset object */
	rc = fashion_dataset_new(&cfg, &b);
	ok(rc == 0 && b->nboxes == a->nboxes && memcmp(a->boxes, b->boxes, a->nboxes * sizeof *a->boxes) == 0,
		"same seed: identical boxes");
	a->render(a, 17, &i1);
	b->render(b, 3, &i3);
	image_fini(&i3);
	b->render(b, 17, &i2);
	ok(memcmp(i1.data, i2.data, 128 * 128 * 3) == 0, "same seed and index: identical pixels (rendered after another scene)");
	image_fini(&i2);
	a->render(a, 18, &i2);
	ok(memcmp(i1.data, i2.data, 128 * 128 * 3) != 0, "different index: different pixels");
	image_fini(&i2);
	dataset_free(b);
	cfg.seed = 2;
	fashion_dataset_new(&cfg, &b);
	b->render(b, 17, &i2);
	ok(memcmp(i1.data, i2.data, 128 * 128 * 3) != 0, "different seed: different pixels");
	image_fini(&i2);
	image_fini(&i1);
	dataset_free(b);

	/* train scenes use only train items, test scenes only t10k items */
	cfg.split = FASHION_TEST;
	cfg.seed = 1;
	rc = fashion_dataset_new(&cfg, &t);
	ok(rc == 0 && strcmp(t->name, "fashion-test") == 0, "test scenes");
	{
		int good = 1;
		enum fashion_split_id sp;
		int item;

		for (size_t k = 0; k < a->nboxes; k++)
			good &= fashion_box_source(a, k, &sp, &item) == 0 && sp == FASHION_TRAIN && item < 60000;
		for (size_t k = 0; k < t->nboxes; k++)
			good &= fashion_box_source(t, k, &sp, &item) == 0 && sp == FASHION_TEST && item < 10000;
		ok(good, "train boxes come from train items, test boxes from t10k items");
	}
	t->render(t, 0, &i1);
	a->render(a, 0, &i2);
	ok(memcmp(i1.data, i2.data, 128 * 128 * 3) != 0, "test scene 0 differs from train scene 0");
	image_fini(&i1);
	image_fini(&i2);
	dataset_free(t);

	/* rendering cost */
	{
		double t0 = now_s(), per;

		for (size_t i = 0; i < a->nimages; i++) {
			a->render(a, i, &i1);
			image_fini(&i1);
		}
		per = (now_s() - t0) / (double)a->nimages * 1e3;
#ifdef __SANITIZE_ADDRESS__
		ok(per < 10.0, "rendering a 128x128 scene takes %.3f ms (< 10 ms under ASan)", per);
#else
		ok(per < 1.0, "rendering a 128x128 scene takes %.3f ms of CPU (< 1 ms)", per);
#endif
	}
	dataset_free(a);
}

static void class_counts(const struct dataset *ds, double *count)
{
	memset(count, 0, sizeof(double) * (size_t)ds->nclasses);
	for (size_t k = 0; k < ds->nboxes; k++)
		count[ds->boxes[k].cls]++;
}

static void test_skew_and_subset(void)
{
	struct fashion_config cfg;
	struct dataset *ds;
	double n[10];

	fashion_config_default(&cfg);
	cfg.images = 2000;
	fashion_dataset_new(&cfg, &ds);
	class_counts(ds, n);
	ok(n[0] / n[9] > 0.8 && n[0] / n[9] < 1.25, "no skew: first/last class ratio %.2f ~ 1", n[0] / n[9]);
	dataset_free(ds);
	fashion_config_skew(&cfg, 10);
	fashion_dataset_new(&cfg, &ds);
	class_counts(ds, n);
	ok(n[0] / n[9] > 8 && n[0] / n[9] < 12.5, "skew 10: first/last class ratio %.2f ~ 10", n[0] / n[9]);
	ok(n[0] > n[4] && n[4] > n[9], "skew: frequencies fall with the class rank (%g > %g > %g)", n[0], n[4], n[9]);
	dataset_free(ds);

	fashion_config_default(&cfg);
	cfg.images = 50;
	cfg.nclasses = 2;
	cfg.classes[0] = 6, cfg.classes[1] = 4; /* Shirt, Coat */
	ok(fashion_dataset_new(&cfg, &ds) == 0, "a two-class subset");
	ok(ds->nclasses == 2 && strcmp(ds->class_names[0], "Shirt") == 0 && ds->class_ids[1] == 4,
		"subset classes renumbered 0..1, source ids kept");
	{
		int good = 1;
		enum fashion_split_id sp;
		int item;
		const struct fashion_split *tr;

		fashion_split_get(FASHION_TRAIN, &tr);
		for (size_t k = 0; k < ds->nboxes; k++) {
			fashion_box_source(ds, k, &sp, &item);
			good &= tr->labels[item] == ds->class_ids[ds->boxes[k].cls];
		}
		ok(good, "every box's item has the box's class");
	}
	dataset_free(ds);
	cfg.classes[1] = 6;
	ok(fashion_dataset_new(&cfg, &ds) == DET_EINVAL && strstr(det_error_message(), "twice"), "a class listed twice is refused");
	fashion_config_default(&cfg);
	cfg.size = 4;
	ok(fashion_dataset_new(&cfg, &ds) == DET_EINVAL && strstr(det_error_message(), "size"), "a bad size is refused: %s",
		det_error_message());
}

int main(void)
{
	test_splits();
	test_bad_idx();
	test_scenes();
	test_skew_and_subset();
	return tap_done();
}
