/* test_augment: each box-aware augmentation keeps boxes on their objects
 * (draw one object, augment, the box still bounds the object's pixels within
 * 1 px, and fits them where the transform allows), photometric ones leave
 * boxes alone, and the randomness depends only on (seed, epoch, index). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

#include "core/error.h"
#include "core/rng.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image.h"

#define W0 96
#define H0 80

/* A white ellipse on black; its box is the tight box of its pixels. */
static void make_object(struct aug_sample *s, int cx, int cy, int rx, int ry, const uint8_t col[3])
{
	struct aug_box b = { 1e9f, 1e9f, -1, -1, 0, 0, 0 };

	aug_sample_init(s);
	image_init(&s->im, W0, H0, 3);
	memset(s->im.data, 0, W0 * H0 * 3);
	for (int y = 0; y < H0; y++)
		for (int x = 0; x < W0; x++) {
			float dx = (x + 0.5f - cx) / rx, dy = (y + 0.5f - cy) / ry;

			if (dx * dx + dy * dy <= 1) {
				memcpy(s->im.data + (y * W0 + x) * 3, col, 3);
				b.x0 = fminf(b.x0, (float)x), b.x1 = fmaxf(b.x1, x + 1.f);
				b.y0 = fminf(b.y0, (float)y), b.y1 = fmaxf(b.y1, y + 1.f);
			}
		}
	aug_sample_push(s, &b);
}

/* Tight box (edge coordinates) of the pixels matching `want`: grey level
 * >= 128 when col is NULL, else exactly col. Returns the pixel count. */
static int pixel_box(const struct image *im, const uint8_t *col, float b[4])
{
	int n = 0;

	b[0] = b[1] = 1e9f, b[2] = b[3] = -1;
	for (int y = 0; y < im->height; y++)
		for (int x = 0; x < im->width; x++) {
			const uint8_t *p = im->data + ((size_t)y * im->width + x) * 3;
			int hit = col ? memcmp(p, col, 3) == 0 : (p[0] + p[1] + p[2]) >= 3 * 128;

			if (hit) {
				n++;
				b[0] = fminf(b[0], (float)x), b[2] = fmaxf(b[2], x + 1.f);
				b[1] = fminf(b[1], (float)y), b[3] = fmaxf(b[3], y + 1.f);
			}
		}
	return n;
}

/* pixel_box of colour col, looking only within 3 px of box b (the same
 * image may land twice in a mosaic). */
static int pixel_box_near(const struct image *im, const uint8_t *col, const struct aug_box *b, float p[4])
{
	int n = 0;

	p[0] = p[1] = 1e9f, p[2] = p[3] = -1;
	for (int y = (int)b->y0 - 3; y < (int)b->y1 + 3; y++)
		for (int x = (int)b->x0 - 3; x < (int)b->x1 + 3; x++) {
			if (x < 0 || y < 0 || x >= im->width || y >= im->height
				|| memcmp(im->data + ((size_t)y * im->width + x) * 3, col, 3) != 0)
				continue;
			n++;
			p[0] = fminf(p[0], (float)x), p[2] = fmaxf(p[2], x + 1.f);
			p[1] = fminf(p[1], (float)y), p[3] = fmaxf(p[3], y + 1.f);
		}
	return n;
}

static int bounds(const struct aug_box *b, const float p[4])
{
	return p[0] >= b->x0 - 1 && p[1] >= b->y0 - 1 && p[2] <= b->x1 + 1 && p[3] <= b->y1 + 1;
}

static int tight(const struct aug_box *b, const float p[4])
{
	return fabsf(p[0] - b->x0) <= 1 && fabsf(p[1] - b->y0) <= 1 && fabsf(p[2] - b->x1) <= 1 && fabsf(p[3] - b->y1) <= 1;
}

struct gcase {
	const char *name;
	int tight;          /* the box must also fit the pixels within 1 px */
	const char *k1; float v1;
	const char *k2; float v2;
};

static void test_geometric(void)
{
	static const struct gcase cases[] = {
		{ "hflip", 1, NULL, 0, NULL, 0 },
		{ "vflip", 1, NULL, 0, NULL, 0 },
		{ "rot90", 1, NULL, 0, NULL, 0 },
		{ "expand", 1, NULL, 0, NULL, 0 },
		{ "affine", 0, NULL, 0, NULL, 0 },                      /* rotation: corners' box bounds */
		{ "affine", 1, "degrees", 0, "translate", 0.05f },       /* scale + shift only: tight */
		{ "affine", 0, "degrees", 45, "shear", 10 },
		{ "crop", 0, "min_iou", 0, NULL, 0 },
		{ "crop", 0, "min_iou", -1, "min_visible", 0.6f },
	};
	const uint8_t white[3] = { 255, 255, 255 };

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct aug_op op;
		int k = aug_kind_find(cases[c].name), good = 1, kept = 0, changed = 0, trials = 40;

		aug_op_init(&op, (enum aug_kind)k);
		if (cases[c].k1)
			op.param[aug_param_find(op.kind, cases[c].k1)] = cases[c].v1;
		if (cases[c].k2)
			op.param[aug_param_find(op.kind, cases[c].k2)] = cases[c].v2;
		for (int t = 0; t < trials; t++) {
			struct aug_sample s;
			float p[4];
			int n, n0;

			make_object(&s, 35, 30, 14, 10, white);
			n0 = pixel_box(&s.im, NULL, p);
			struct aug_box before = s.boxes[0];

			if (aug_op_apply(&op, NULL, &s, rng_mix(77, (uint64_t)t)) < 0) {
				good = 0;
				tap_diag("%s failed: %s", cases[c].name, det_error_message());
				aug_sample_fini(&s);
				break;
			}
			n = pixel_box(&s.im, NULL, p);
			changed += s.n && memcmp(&before, &s.boxes[0], sizeof before) != 0;
			if (s.n == 1) {
				kept++;
				if (!bounds(&s.boxes[0], p) || (cases[c].tight && !tight(&s.boxes[0], p))) {
					tap_diag("%s trial %d: box (%.1f %.1f %.1f %.1f) pixels (%.0f %.0f %.0f %.0f)", cases[c].name, t,
						s.boxes[0].x0, s.boxes[0].y0, s.boxes[0].x1, s.boxes[0].y1, p[0], p[1], p[2], p[3]);
					good = 0;
				}
			} else if (s.n == 0 && n > n0 / 2) {
				tap_diag("%s trial %d: box dropped with %d of %d pixels visible", cases[c].name, t, n, n0);
				good = 0;
			}
			aug_sample_fini(&s);
		}
		ok(good && kept > 0 && changed > 0, "%s%s%s: box %s the object's pixels within 1 px (%d/%d kept, %d moved)",
			cases[c].name, cases[c].k1 ? " " : "", cases[c].k1 ? cases[c].k1 : "",
			cases[c].tight ? "fits" : "bounds", kept, trials, changed);
	}
}

static void test_photometric(void)
{
	static const char *names[] = { "brightness", "contrast", "saturation", "hue", "gamma", "greyscale", "noise", "blur", "cutout" };
	const uint8_t col[3] = { 200, 120, 60 };

	for (size_t c = 0; c < sizeof names / sizeof names[0]; c++) {
		struct aug_op op;
		int good = 1, pixels_changed = 0;

		aug_op_init(&op, (enum aug_kind)aug_kind_find(names[c]));
		if (op.kind == AUG_CUTOUT)
			op.param[1] = 0.2f;
		for (int t = 0; t < 20; t++) {
			struct aug_sample s, ref;
			float p[4];

			make_object(&s, 40, 38, 16, 12, col);
			make_object(&ref, 40, 38, 16, 12, col);
			aug_op_apply(&op, NULL, &s, rng_mix(5, (uint64_t)t));
			pixels_changed += memcmp(s.im.data, ref.im.data, W0 * H0 * 3) != 0;
			good &= s.im.width == W0 && s.im.height == H0;
			if (op.kind == AUG_CUTOUT) {
				good &= s.n == 0 || memcmp(&s.boxes[0], &ref.boxes[0], sizeof ref.boxes[0]) == 0;
			} else {
				good &= s.n == 1 && memcmp(&s.boxes[0], &ref.boxes[0], sizeof ref.boxes[0]) == 0;
				/* the object still stands out where it was: its pixels, by a threshold midway */
				if (op.kind != AUG_NOISE && op.kind != AUG_HUE) {
					uint8_t lo = 255, hi = 0;

					for (int i = 0; i < W0 * H0 * 3; i += 3) {
						uint8_t g = (uint8_t)((s.im.data[i] + s.im.data[i + 1] + s.im.data[i + 2]) / 3);

						lo = g < lo ? g : lo, hi = g > hi ? g : hi;
					}
					for (int i = 0; i < W0 * H0 * 3; i += 3) {
						int g = (s.im.data[i] + s.im.data[i + 1] + s.im.data[i + 2]) / 3;
						uint8_t v = g * 2 >= lo + hi ? 255 : 0;

						s.im.data[i] = s.im.data[i + 1] = s.im.data[i + 2] = v;
					}
					pixel_box(&s.im, NULL, p);
					if (!tight(&s.boxes[0], p)) {
						tap_diag("%s trial %d: pixels (%.0f %.0f %.0f %.0f) box (%.0f %.0f %.0f %.0f)", names[c], t,
							p[0], p[1], p[2], p[3], s.boxes[0].x0, s.boxes[0].y0, s.boxes[0].x1, s.boxes[0].y1);
						good = 0;
					}
				}
			}
			aug_sample_fini(&s);
			aug_sample_fini(&ref);
		}
		ok(good && pixels_changed > 0, "%s: pixels change (%d/20), boxes stay on the object", names[c], pixels_changed);
	}
}

/* A generated dataset for mosaic and mixup: image i holds one ellipse of a
 * colour unique to i, class i. */
static void colour_of(int i, uint8_t col[3])
{
	col[0] = (uint8_t)(40 + 20 * i), col[1] = (uint8_t)(250 - 15 * i), col[2] = (uint8_t)(100 + 7 * i);
}

static int render_ellipse(const struct dataset *ds, size_t i, struct image *out)
{
	struct aug_sample s;
	uint8_t col[3];
	const struct dataset_box *b = dataset_image_boxes(ds, i);

	colour_of((int)i, col);
	make_object(&s, (int)(b->x0 + b->x1) / 2, (int)(b->y0 + b->y1) / 2, 12 + (int)i % 5, 9 + (int)i % 4, col);
	*out = s.im;
	free(s.boxes);
	return 0;
}

static struct dataset *ellipse_dataset(int n)
{
	struct dataset *ds = dataset_new("ellipses", NULL);

	ds->render = render_ellipse;
	for (int i = 0; i < n; i++) {
		struct aug_sample s;
		uint8_t col[3];
		struct dataset_box db = { 0 };

		colour_of(i, col);
		make_object(&s, 20 + 5 * i, 18 + 4 * i, 12 + i % 5, 9 + i % 4, col);
		dataset_image_add(ds, i, NULL, W0, H0);
		db.x0 = s.boxes[0].x0, db.y0 = s.boxes[0].y0, db.x1 = s.boxes[0].x1, db.y1 = s.boxes[0].y1;
		db.cls = i;
		dataset_box_add(ds, &db);
		aug_sample_fini(&s);
	}
	return ds;
}

static void test_multi_image(void)
{
	struct dataset *ds = ellipse_dataset(8);
	struct aug_op op;
	int good = 1, boxes = 0, mixed = 0;

	aug_op_init(&op, AUG_MOSAIC);
	for (int t = 0; t < 30; t++) {
		struct aug_sample s;

		aug_sample_init(&s);
		aug_sample_load(ds, (size_t)t % 8, &s);
		if (aug_op_apply(&op, ds, &s, rng_mix(9, (uint64_t)t)) < 0) {
			good = 0;
			tap_diag("mosaic: %s", det_error_message());
			break;
		}
		good &= s.im.width == W0 && s.im.height == W0; /* S = long side */
		for (size_t k = 0; k < s.n; k++) {
			const struct aug_box *b = &s.boxes[k];
			uint8_t col[3];
			float p[4];

			colour_of(b->cls, col);
			if (pixel_box_near(&s.im, col, b, p) == 0 || !bounds(b, p)
				|| (b->x0 > 0 && b->y0 > 0 && b->x1 < s.im.width && b->y1 < s.im.height && !tight(b, p))) {
				tap_diag("mosaic trial %d box %zu (class %d): (%.0f %.0f %.0f %.0f) pixels (%.0f %.0f %.0f %.0f)", t, k,
					b->cls, b->x0, b->y0, b->x1, b->y1, p[0], p[1], p[2], p[3]);
				good = 0;
			}
		}
		boxes += (int)s.n;
		aug_sample_fini(&s);
	}
	ok(good && boxes > 30, "mosaic: 4 images on one canvas, each box bounds its object's pixels, fits unless cut (%d boxes in 30)", boxes);

	aug_op_init(&op, AUG_MIXUP);
	for (int t = 0; t < 10; t++) {
		struct aug_sample s, ref;

		aug_sample_init(&s);
		aug_sample_init(&ref);
		aug_sample_load(ds, 0, &s);
		aug_sample_load(ds, 0, &ref);
		aug_op_apply(&op, ds, &s, rng_mix(3, (uint64_t)t));
		if (!(s.n == 2 && memcmp(&s.boxes[0], &ref.boxes[0], sizeof ref.boxes[0]) == 0)) {
			tap_diag("mixup trial %d: %zu boxes", t, s.n);
			good = 0;
		}
		if (s.n == 2) {
			struct aug_sample o;

			aug_sample_init(&o);
			aug_sample_load(ds, (size_t)s.boxes[1].cls, &o);
			good &= tap_close(s.boxes[1].x0, o.boxes[0].x0, 0, 1e-4) && tap_close(s.boxes[1].y1, o.boxes[0].y1, 0, 1e-4);
			aug_sample_fini(&o);
		}
		mixed += memcmp(s.im.data, ref.im.data, W0 * H0 * 3) != 0;
		aug_sample_fini(&s);
		aug_sample_fini(&ref);
	}
	ok(good && mixed == 10, "mixup: blended pixels, both images' boxes kept unchanged");
	dataset_free(ds);
}

static void test_determinism(void)
{
	struct dataset *ds = ellipse_dataset(8);
	struct aug_list list = { 0 };
	static const char *all[] = { "mosaic", "hflip", "vflip", "rot90", "affine", "crop", "expand", "cutout",
		"brightness", "contrast", "saturation", "hue", "gamma", "greyscale", "noise", "blur", "mixup" };
	int same = 1, differ = 0, applied = 0, n = 0;

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		aug_op_init(&list.ops[list.n], (enum aug_kind)aug_kind_find(all[i]));
		list.ops[list.n].p = 0.5f;
		list.n++;
	}
	for (int idx = 0; idx < 40; idx++) {
		struct aug_sample a, b, c;

		aug_sample_init(&a), aug_sample_init(&b), aug_sample_init(&c);
		aug_sample_load(ds, (size_t)idx % 8, &a);
		aug_sample_load(ds, (size_t)idx % 8, &b);
		aug_sample_load(ds, (size_t)idx % 8, &c);
		aug_list_apply(&list, ds, &a, 42, 3, (uint64_t)idx);
		aug_list_apply(&list, ds, &b, 42, 3, (uint64_t)idx);
		aug_list_apply(&list, ds, &c, 42, 4, (uint64_t)idx);
		same &= a.n == b.n && a.im.width == b.im.width && a.im.height == b.im.height
			&& memcmp(a.im.data, b.im.data, (size_t)a.im.width * a.im.height * 3) == 0
			&& (a.n == 0 || memcmp(a.boxes, b.boxes, a.n * sizeof *a.boxes) == 0);
		differ += a.im.width != c.im.width || a.im.height != c.im.height
			|| memcmp(a.im.data, c.im.data, (size_t)a.im.width * a.im.height * 3) != 0;
		applied += a.im.width != W0 || a.im.height != H0;
		n++;
		aug_sample_fini(&a), aug_sample_fini(&b), aug_sample_fini(&c);
	}
	ok(same, "the full list under one (seed, epoch, index) gives identical pixels and boxes");
	ok(differ >= n - 1, "another epoch gives another augmentation (%d/%d differ)", differ, n);

	/* the probability p is respected */
	{
		struct aug_list one = { 1, { { 0 } } };
		int hits = 0;

		aug_op_init(&one.ops[0], AUG_HFLIP);
		one.ops[0].p = 0.3f;
		for (int idx = 0; idx < 1000; idx++) {
			struct aug_sample s;

			make_object(&s, 20, 30, 10, 8, (const uint8_t[3]){ 255, 255, 255 });
			aug_list_apply(&one, NULL, &s, 1, 0, (uint64_t)idx);
			hits += s.boxes[0].x0 > W0 / 2;
			aug_sample_fini(&s);
		}
		/* binomial(1000, 0.3): sd 14.5; allow 4 sd */
		ok(abs(hits - 300) < 58, "hflip{p=0.3} flips %d of 1000 (300 +- 58)", hits);
	}
	dataset_free(ds);
}

static void test_params(void)
{
	struct aug_op op;

	ok(aug_kind_find("mosaic") == AUG_MOSAIC && aug_kind_find("nope") == -1, "kinds found by name");
	aug_op_init(&op, AUG_CONTRAST);
	ok(op.p == 1 && op.param[0] == 0.8f && op.param[1] == 1.25f, "defaults filled");
	op.param[0] = 2;
	ok(aug_op_check(&op) == DET_EINVAL && strstr(det_error_message(), "lower"), "lower > upper refused: %s", det_error_message());
	aug_op_init(&op, AUG_AFFINE);
	op.param[aug_param_find(AUG_AFFINE, "degrees")] = 500;
	ok(aug_op_check(&op) == DET_EINVAL && strstr(det_error_message(), "degrees"), "out of range refused: %s", det_error_message());
	{
		struct aug_list l = { 1, { { 0 } } };

		aug_op_init(&l.ops[0], AUG_MULTISCALE);
		int lo = 1 << 30, hi = 0, bad = 0;

		for (uint64_t b = 0; b < 200; b++) {
			int s = aug_list_batch_size(&l, 128, 7, b);

			lo = s < lo ? s : lo, hi = s > hi ? s : hi;
			bad += s % 32 != 0 || s != aug_list_batch_size(&l, 128, 7, b);
		}
		ok(!bad && lo == 64 && hi == 192 && aug_list_max_size(&l, 128) == 192,
			"multiscale: per-batch sizes are multiples of 32 in [64, 192] (%d..%d)", lo, hi);
	}
}

int main(void)
{
	test_params();
	test_geometric();
	test_photometric();
	test_multi_image();
	test_determinism();
	return tap_done();
}
