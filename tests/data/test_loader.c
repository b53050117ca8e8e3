/* test_loader: batches are the same whatever the number of workers, the
 * collation (normalisation, boxes, epochs) is right, broken files are
 * skipped and named, and the loader shuts down cleanly mid-epoch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sampler.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static void full_list(struct aug_list *l)
{
	static const char *names[] = { "mosaic", "hflip", "rot90", "affine", "crop", "expand", "brightness", "contrast",
		"saturation", "hue", "gamma", "greyscale", "noise", "blur", "cutout", "mixup", "multiscale" };

	l->n = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		aug_op_init(&l->ops[l->n++], (enum aug_kind)aug_kind_find(names[i]));
	l->ops[0].p = 0.5f;
}

/* A digest of everything a batch carries. */
static uint64_t digest(const struct loader_batch *b)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p;
	size_t n;

#define MIX(ptr, len) for (p = (const uint8_t *)(ptr), n = (len); n--; p++) h = (h ^ *p) * 1099511628211ULL
	MIX(&b->n, sizeof b->n);
	MIX(&b->width, sizeof b->width);
	MIX(b->images, (size_t)b->n * 3 * b->width * b->height * sizeof(float));
	for (int i = 0; i < b->n; i++) {
		MIX(&b->counts[i], sizeof(int));
		MIX(&b->indices[i], sizeof(size_t));
		MIX(b->boxes + (size_t)i * b->max_boxes * 4, (size_t)b->counts[i] * 4 * sizeof(float));
		MIX(b->classes + (size_t)i * b->max_boxes, (size_t)b->counts[i] * sizeof(int32_t));
	}
#undef MIX
	return h;
}

static void run(const struct dataset *ds, const struct sampler *s, const struct aug_list *augs, int workers,
	int nbatches, uint64_t *out, int *boxes_ok, int *sizes)
{
	struct loader *l = loader_new(ds, s, augs, 8, 96, workers, 11);
	const struct loader_batch *b;

	for (int k = 0; k < nbatches; k++) {
		if (loader_next(l, &b) < 0) {
			out[k] = 0;
			continue;
		}
		out[k] = digest(b);
		sizes[k] = b->width;
		for (int i = 0; i < b->n; i++)
			for (int j = 0; j < b->counts[i]; j++) {
				const float *x = b->boxes + ((size_t)i * b->max_boxes + j) * 4;

				*boxes_ok &= x[0] >= -1e-3f && x[1] >= -1e-3f && x[2] <= b->width + 1e-3f && x[3] <= b->height + 1e-3f
					&& x[2] > x[0] && x[3] > x[1];
			}
	}
	loader_free(l);
}

static void test_determinism(void)
{
	struct aug_list augs;
	struct sampler_config sc;
	struct fashion_config fc;
	struct dataset *ds;
	struct sampler *s;
	enum { B = 10 }; /* 2.5 epochs of 32 images in batches of 8 */
	uint64_t d1[B], d2[B], d3[B];
	int sizes[B], boxes_ok = 1, distinct = 0, same;

	fashion_config_default(&fc);
	fc.images = 32;
	fc.seed = 9;
	fashion_dataset_new(&fc, &ds);
	full_list(&augs);
	sampler_config_default(&sc, SAMPLER_SHUFFLE);
	s = sampler_new(ds, &sc, NULL);
	run(ds, s, &augs, 1, B, d1, &boxes_ok, sizes);
	run(ds, s, &augs, 3, B, d2, &boxes_ok, sizes);
	run(ds, s, &augs, 2, B, d3, &boxes_ok, sizes);
	same = memcmp(d1, d2, sizeof d1) == 0 && memcmp(d1, d3, sizeof d1) == 0;
	for (int k = 1; k < B; k++)
		distinct += sizes[k] != sizes[0];
	ok(same, "1, 2 and 3 workers give identical batches (images, boxes, order) over 2.5 epochs");
	ok(d1[0] != d1[4], "epoch 2 differs from epoch 1 (reshuffled, re-augmented)");
	ok(boxes_ok, "every box lies inside its batch image");
	ok(distinct > 0, "multiscale: batch sizes vary (%d..)", sizes[0]);
	sampler_free(s);
	dataset_free(ds);
}

static void test_collate(const struct dataset *ds)
{
	struct loader_config cfg;
	struct loader *l;
	const struct loader_batch *b;
	struct image im;
	int good = 1, epochs_ok = 1;
	const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };

	loader_config_default(&cfg);
	cfg.batch = 10;
	cfg.size = 128;
	cfg.workers = 2;
	l = loader_new_config(ds, NULL, NULL, &cfg);
	ok(l != NULL, "loader without sampler and augmentation");
	loader_next(l, &b);
	ok(b->n == 10 && b->width == 128 && b->epoch == 0 && b->indices[3] == 3, "batch 0: samples 0..9 at 128x128");
	ds->render(ds, 3, &im);
	for (int c = 0; c < 3; c++)
		for (int p = 0; p < 128 * 128; p++) {
			float want = (im.data[3 * p + c] / 255.f - mean[c]) / std[c];

			good &= fabsf(b->images[(size_t)3 * 128 * 128 * 3 + (size_t)c * 128 * 128 + p] - want) < 1e-5f;
		}
	ok(good, "image 3 is NCHW, (p/255 - mean_c) / std_c");
	{
		const struct dataset_box *db = dataset_image_boxes(ds, 3);
		int same = b->counts[3] == (int)ds->images[3].box_count;

		for (int j = 0; same && j < b->counts[3]; j++)
			same &= b->boxes[(3 * b->max_boxes + j) * 4] == db[j].x0 && b->boxes[(3 * b->max_boxes + j) * 4 + 3] == db[j].y1
				&& b->classes[3 * b->max_boxes + j] == db[j].cls;
		ok(same, "image 3's boxes and classes, unchanged at the same size");
	}
	image_fini(&im);
	/* 64 images in batches of 10: 6 full batches and one of 4 per epoch */
	for (int k = 1; k < 14; k++) {
		loader_next(l, &b);
		int e = k / 7, last = k % 7 == 6;

		epochs_ok &= b->epoch == e && b->n == (last ? 4 : 10) && b->last_in_epoch == last && b->number == (size_t)k;
	}
	ok(epochs_ok, "epochs of 7 batches, the last one short and flagged");
	{
		struct loader_stats st;

		loader_stats(l, &st);
		ok(st.batches == 14 && st.samples == 128 && st.skipped == 0 && st.wait_fraction >= 0 && st.wait_fraction <= 1,
			"stats: 14 batches, 128 samples, waiting %.0f%% of the time", 100 * st.wait_fraction);
	}
	loader_free(l);
	cfg.drop_last = 1;
	l = loader_new_config(ds, NULL, NULL, &cfg);
	epochs_ok = 1;
	for (int k = 0; k < 12; k++) {
		loader_next(l, &b);
		epochs_ok &= b->n == 10 && b->epoch == k / 6 && b->last_in_epoch == (k % 6 == 5);
	}
	ok(epochs_ok, "drop_last: 6 full batches per epoch");
	loader_free(l);
}

static void test_broken(void)
{
	static const char *files[] = { "rgb.png", "truncated.jpg", "rgb.jpg", "corrupt.jpg", "missing.png", "grey.png" };
	char root[4096];
	const char *top = getenv("top_srcdir");
	struct dataset *ds;
	struct loader *l;
	const struct loader_batch *b;
	struct loader_stats st;

	snprintf(root, sizeof root, "%s/tests/data/images", top && *top ? top : TOP_SRCDIR);
	ds = dataset_new("files", root);
	dataset_class_add(ds, "thing", 1);
	for (int i = 0; i < 6; i++) {
		struct dataset_box box = { 4, 4, 20, 20, 256, 0, 0, 0, i };

		dataset_image_add(ds, 100 + i, files[i], 64, 48);
		dataset_box_add(ds, &box);
	}
	l = loader_new(ds, NULL, NULL, 6, 64, 2, 1);
	b = NULL;
	int rc = loader_next(l, &b);

	ok(rc == 0 && b->n == 3 && b->skipped == 3, "3 of 6 files load, 3 are skipped (n = %d)", b ? b->n : -1);
	ok(b->indices[0] == 0 && b->indices[1] == 2 && b->indices[2] == 5, "the good ones keep their order");
	loader_stats(l, &st);
	/* the workers may be batches ahead, possibly mid-epoch: at least 3 */
	ok(st.skipped >= 3 && strstr(st.last_error, "files: image") && (strstr(st.last_error, ".jpg") || strstr(st.last_error, ".png")),
		"skips counted and named: %s", st.last_error);
	ok(loader_next(l, &b) == 0 && b->n == 3 && b->epoch == 1, "the next epoch goes on");
	loader_free(l);
	dataset_free(ds);
}

static void test_shutdown(const struct dataset *ds)
{
	struct aug_list augs;
	const struct loader_batch *b;
	int good = 1;

	full_list(&augs);
	for (int t = 0; t < 5; t++) {
		struct loader *l = loader_new(ds, NULL, &augs, 8, 96, 2, (uint64_t)t);

		good &= l != NULL;
		if (t % 2 == 0)
			good &= loader_next(l, &b) == 0;
		loader_free(l); /* workers are mid-batch */
	}
	ok(good, "loader_free mid-epoch joins and frees (5 times)");
	ok(loader_new(ds, NULL, NULL, 0, 96, 2, 1) == NULL && strstr(det_error_message(), "batch"), "batch 0 refused: %s",
		det_error_message());
}

int main(void)
{
	struct fashion_config cfg;
	struct dataset *ds;

	fashion_config_default(&cfg);
	cfg.images = 64;
	if (fashion_dataset_new(&cfg, &ds) < 0) {
		ok(0, "fashion scenes: %s", det_error_message());
		return tap_done();
	}
	test_determinism();
	test_collate(ds);
	test_broken();
	test_shutdown(ds);
	dataset_free(ds);
	return tap_done();
}
