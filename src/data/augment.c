/* augment.c: the box-aware augmentation operations (geometric, photometric,
 * multi-image), the parameter table that names and bounds them, and the
 * list runner that seeds each operation from (seed, epoch, index, position). */
#include "data/augment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/imageio.h"

/* ---- the table of operations --------------------------------------------- */

#define P(n, d, l, h, doc) { n, d, l, h, doc }
const struct aug_kind_info aug_kinds[AUG_NKINDS] = {
	[AUG_HFLIP] = { "hflip", 0.5f, 0, { { 0 } } },
	[AUG_VFLIP] = { "vflip", 0.5f, 0, { { 0 } } },
	[AUG_ROT90] = { "rot90", 0.5f, 0, { { 0 } } },
	[AUG_AFFINE] = { "affine", 1.0f, 5, {
		P("degrees", 10, 0, 180, "rotation uniform in [-degrees, degrees]"),
		P("translate", 0.1f, 0, 0.5f, "shift uniform in [-t, t] of the side"),
		P("scale", 0.1f, 0, 0.95f, "zoom uniform in [1-scale, 1+scale]"),
		P("shear", 0, 0, 45, "shear uniform in [-shear, shear] degrees, each axis"),
		P("fill", 114, 0, 255, "grey level of uncovered pixels") } },
	[AUG_BRIGHTNESS] = { "brightness", 1.0f, 1, {
		P("delta", 0.2f, 0, 1, "add uniform [-delta, delta] x 255") } },
	[AUG_CONTRAST] = { "contrast", 1.0f, 2, {
		P("lower", 0.8f, 0, 10, "factor lower bound"), P("upper", 1.25f, 0, 10, "factor upper bound") } },
	[AUG_SATURATION] = { "saturation", 1.0f, 2, {
		P("lower", 0.8f, 0, 10, "factor lower bound"), P("upper", 1.25f, 0, 10, "factor upper bound") } },
	[AUG_HUE] = { "hue", 1.0f, 1, {
		P("delta", 0.02f, 0, 0.5f, "hue turn uniform in [-delta, delta] of a full turn") } },
	[AUG_GAMMA] = { "gamma", 1.0f, 2, {
		P("lower", 0.8f, 0.05f, 10, "gamma lower bound"), P("upper", 1.25f, 0.05f, 10, "gamma upper bound") } },
	[AUG_GREYSCALE] = { "greyscale", 0.1f, 0, { { 0 } } },
	[AUG_NOISE] = { "noise", 1.0f, 1, {
		P("std", 0.02f, 0, 1, "standard deviation, fraction of 255") } },
	[AUG_BLUR] = { "blur", 0.5f, 1, {
		P("sigma", 1.0f, 0.1f, 10, "Gaussian sigma uniform in [0.1, sigma] px") } },
	[AUG_CROP] = { "crop", 1.0f, 6, {
		P("min_iou", -1, -1, 1, "crop must have IoU >= min_iou with some box; -1: SSD's schedule"),
		P("min_visible", 0.3f, 0, 1, "boxes keeping less of their area are dropped"),
		P("min_scale", 0.3f, 0.01f, 1, "crop side lower bound, fraction of the side"),
		P("max_scale", 1.0f, 0.01f, 1, "crop side upper bound"),
		P("min_aspect", 0.5f, 0.1f, 10, "crop aspect (w/h) lower bound"),
		P("max_aspect", 2.0f, 0.1f, 10, "crop aspect upper bound") } },
	[AUG_EXPAND] = { "expand", 0.5f, 2, {
		P("max_ratio", 4, 1, 16, "canvas side uniform in [1, max_ratio] x the image's"),
		P("fill", 114, 0, 255, "grey level of the canvas") } },
	[AUG_MULTISCALE] = { "multiscale", 1.0f, 3, {
		P("min", 0.5f, 0.1f, 1, "smallest batch size, fraction of size"),
		P("max", 1.5f, 1, 4, "largest batch size, fraction of size"),
		P("step", 32, 1, 256, "sizes are multiples of step") } },
	[AUG_CUTOUT] = { "cutout", 0.5f, 3, {
		P("holes", 1, 1, 32, "number of holes"),
		P("size", 0.25f, 0.01f, 1, "hole side uniform in [size/2, size] of the short side"),
		P("max_occluded", 0.6f, 0, 1, "boxes more occluded than this are dropped") } },
	[AUG_MOSAIC] = { "mosaic", 1.0f, 1, {
		P("fill", 114, 0, 255, "grey level where no image lands") } },
	[AUG_MIXUP] = { "mixup", 0.1f, 1, {
		P("alpha", 32, 0.1f, 1000, "blend ratio ~ Beta(alpha, alpha)") } },
};
#undef P

int aug_kind_find(const char *name)
{
	for (int k = 0; k < AUG_NKINDS; k++)
		if (strcmp(aug_kinds[k].name, name) == 0)
			return k;
	return -1;
}

int aug_param_find(enum aug_kind k, const char *name)
{
	for (int i = 0; i < aug_kinds[k].nparams; i++)
		if (strcmp(aug_kinds[k].params[i].name, name) == 0)
			return i;
	return -1;
}

void aug_op_init(struct aug_op *op, enum aug_kind k)
{
	memset(op, 0, sizeof *op);
	op->kind = k;
	op->p = aug_kinds[k].p;
	for (int i = 0; i < aug_kinds[k].nparams; i++)
		op->param[i] = aug_kinds[k].params[i].def;
}

int aug_op_check(const struct aug_op *op)
{
	const struct aug_kind_info *ki = &aug_kinds[op->kind];

	if (!(op->p >= 0 && op->p <= 1))
		return det_error_set(DET_EINVAL, "aug.%s: p must be in [0, 1], got %g", ki->name, op->p);
	for (int i = 0; i < ki->nparams; i++) {
		const struct aug_param_info *pi = &ki->params[i];

		if (!(op->param[i] >= pi->lo && op->param[i] <= pi->hi))
			return det_error_set(DET_EINVAL, "aug.%s: %s must be in [%g, %g], got %g",
				ki->name, pi->name, pi->lo, pi->hi, op->param[i]);
	}
	if (ki->nparams >= 2 && strcmp(ki->params[0].name, "lower") == 0 && op->param[0] > op->param[1])
		return det_error_set(DET_EINVAL, "aug.%s: lower (%g) > upper (%g)", ki->name, op->param[0], op->param[1]);
	if (op->kind == AUG_CROP && (op->param[2] > op->param[3] || op->param[4] > op->param[5]))
		return det_error_set(DET_EINVAL, "aug.crop: min_scale/min_aspect must not exceed max_scale/max_aspect");
	return 0;
}

/* ---- samples ------------------------------------------------------------- */

void aug_sample_init(struct aug_sample *s)
{
	memset(s, 0, sizeof *s);
}

void aug_sample_fini(struct aug_sample *s)
{
	image_fini(&s->im);
	free(s->boxes);
	memset(s, 0, sizeof *s);
}

int aug_sample_push(struct aug_sample *s, const struct aug_box *b)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct aug_box *p = realloc(s->boxes, cap * sizeof *p);

		if (p == NULL)
			return det_error_set(DET_ENOMEM, "out of memory for sample boxes");
		s->boxes = p;
		s->cap = cap;
	}
	s->boxes[s->n++] = *b;
	return 0;
}

int aug_sample_load(const struct dataset *ds, size_t i, struct aug_sample *s)
{
	const struct dataset_image *di;
	const struct dataset_box *b;
	char why[1024];
	int rc;

	s->n = 0;
	image_fini(&s->im);
	if (i >= ds->nimages)
		return det_error_set(DET_EINVAL, "%s: image %zu out of range (%zu images)", ds->name, i, ds->nimages);
	di = &ds->images[i];
	if (ds->render) {
		rc = ds->render(ds, i, &s->im);
	} else if (di->file == NULL) {
		rc = det_error_set(DET_EINVAL, "no file recorded");
	} else {
		char path[4096];

		if (di->file[0] == '/' || ds->root == NULL)
			snprintf(path, sizeof path, "%s", di->file);
		else
			snprintf(path, sizeof path, "%s/%s", ds->root, di->file);
		rc = imageio_load(path, &s->im);
	}
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", det_error_message());
		image_fini(&s->im);
		return det_error_set(rc, "%s: image %zu (id %lld%s%s): %s", ds->name, i, (long long)di->id,
			di->file ? ", " : "", di->file ? di->file : "", why);
	}
	/* boxes are recorded for width x height; follow the real pixels if not */
	float fx = di->width > 0 ? (float)s->im.width / di->width : 1;
	float fy = di->height > 0 ? (float)s->im.height / di->height : 1;

	b = dataset_image_boxes(ds, i);
	for (size_t k = 0; k < di->box_count; k++) {
		struct aug_box ab = { b[k].x0 * fx, b[k].y0 * fy, b[k].x1 * fx, b[k].y1 * fy,
			b[k].cls, b[k].iscrowd, b[k].ignore };

		if ((rc = aug_sample_push(s, &ab)) < 0)
			return rc;
	}
	return 0;
}

uint64_t aug_sample_seed(uint64_t seed, int64_t epoch, uint64_t index)
{
	return rng_mix(rng_mix(seed, (uint64_t)epoch), index);
}

/* ---- box bookkeeping ----------------------------------------------------- */

void aug_boxes_clip(struct aug_sample *s, const float *mapped_area)
{
	const float W = (float)s->im.width, H = (float)s->im.height;
	size_t m = 0;

	for (size_t k = 0; k < s->n; k++) {
		struct aug_box b = s->boxes[k];
		float before = mapped_area ? mapped_area[k] : (b.x1 - b.x0) * (b.y1 - b.y0);

		b.x0 = fminf(fmaxf(b.x0, 0), W);
		b.x1 = fminf(fmaxf(b.x1, 0), W);
		b.y0 = fminf(fmaxf(b.y0, 0), H);
		b.y1 = fminf(fmaxf(b.y1, 0), H);
		float w = b.x1 - b.x0, h = b.y1 - b.y0;

		if (w < AUG_MIN_SIDE || h < AUG_MIN_SIDE || w * h < AUG_MIN_AREA * before)
			continue;
		s->boxes[m++] = b;
	}
	s->n = m;
}

static float *areas_of(const struct aug_sample *s)
{
	float *a = malloc(sizeof(float) * (s->n ? s->n : 1));

	if (a)
		for (size_t k = 0; k < s->n; k++)
			a[k] = (s->boxes[k].x1 - s->boxes[k].x0) * (s->boxes[k].y1 - s->boxes[k].y0);
	return a;
}

/* Replaces s->im by a new image (takes ownership of im's data). */
static void sample_set_image(struct aug_sample *s, struct image *im)
{
	image_fini(&s->im);
	s->im = *im;
	memset(im, 0, sizeof *im);
}

/* ---- geometric ----------------------------------------------------------- */

static void op_hflip(struct aug_sample *s)
{
	const int W = s->im.width, H = s->im.height;

	for (int y = 0; y < H; y++) {
		uint8_t *r = s->im.data + (size_t)y * W * 3;

		for (int a = 0, b = W - 1; a < b; a++, b--)
			for (int c = 0; c < 3; c++) {
				uint8_t t = r[3 * a + c];

				r[3 * a + c] = r[3 * b + c];
				r[3 * b + c] = t;
			}
	}
	for (size_t k = 0; k < s->n; k++) {
		float x0 = s->boxes[k].x0;

		s->boxes[k].x0 = W - s->boxes[k].x1;
		s->boxes[k].x1 = W - x0;
	}
}

static void op_vflip(struct aug_sample *s)
{
	const int W = s->im.width, H = s->im.height;
	const size_t row = (size_t)W * 3;
	uint8_t tmp[4096 * 3];

	for (int a = 0, b = H - 1; a < b; a++, b--)
		for (size_t off = 0; off < row; off += sizeof tmp) {
			size_t n = row - off < sizeof tmp ? row - off : sizeof tmp;

			memcpy(tmp, s->im.data + a * row + off, n);
			memcpy(s->im.data + a * row + off, s->im.data + b * row + off, n);
			memcpy(s->im.data + b * row + off, tmp, n);
		}
	for (size_t k = 0; k < s->n; k++) {
		float y0 = s->boxes[k].y0;

		s->boxes[k].y0 = H - s->boxes[k].y1;
		s->boxes[k].y1 = H - y0;
	}
}

/* Rotates k quarter turns counter-clockwise (as np.rot90): (x, y) in a W x H
 * image goes to (y, W - x) in the H x W result for one turn. */
static int op_rot90(struct aug_sample *s, int k)
{
	for (int t = 0; t < k; t++) {
		const int W = s->im.width, H = s->im.height;
		struct image out;
		int rc;

		if ((rc = image_init(&out, H, W, 3)) < 0)
			return rc;
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++) {
				/* source pixel (x, y) -> destination (y, W-1-x) */
				uint8_t *d = out.data + ((size_t)(W - 1 - x) * H + y) * 3;
				const uint8_t *p = s->im.data + ((size_t)y * W + x) * 3;

				d[0] = p[0], d[1] = p[1], d[2] = p[2];
			}
		sample_set_image(s, &out);
		for (size_t i = 0; i < s->n; i++) {
			struct aug_box b = s->boxes[i];

			s->boxes[i].x0 = b.y0;
			s->boxes[i].x1 = b.y1;
			s->boxes[i].y0 = W - b.x1;
			s->boxes[i].y1 = W - b.x0;
		}
	}
	return 0;
}

/* dst(x, y) = src(Minv (x + .5, y + .5) - .5), bilinear; outside -> fill.
 * Minv is 2x3 row-major, mapping destination to source (edge coordinates). */
static void warp_affine(const struct image *src, struct image *dst, const double *mi, uint8_t fill)
{
	const int W = src->width, H = src->height;

	for (int y = 0; y < dst->height; y++) {
		uint8_t *o = dst->data + (size_t)y * dst->width * 3;

		for (int x = 0; x < dst->width; x++) {
			double u = mi[0] * (x + 0.5) + mi[1] * (y + 0.5) + mi[2] - 0.5;
			double v = mi[3] * (x + 0.5) + mi[4] * (y + 0.5) + mi[5] - 0.5;
			int i = (int)floor(u), j = (int)floor(v);
			float fx = (float)(u - i), fy = (float)(v - j);

			if (i < -1 || j < -1 || i >= W || j >= H) {
				o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = fill;
				continue;
			}
			if (i >= 0 && j >= 0 && i + 1 < W && j + 1 < H) { /* all four taps inside */
				const uint8_t *p0 = src->data + ((size_t)j * W + i) * 3, *p1 = p0 + (size_t)W * 3;
				const float a = (1 - fx) * (1 - fy), b = fx * (1 - fy), cc = (1 - fx) * fy, d = fx * fy;

				for (int c = 0; c < 3; c++)
					o[3 * x + c] = (uint8_t)(a * p0[c] + b * p0[3 + c] + cc * p1[c] + d * p1[3 + c] + 0.5f);
				continue;
			}
			for (int c = 0; c < 3; c++) {
				float p00 = (i >= 0 && j >= 0) ? src->data[((size_t)j * W + i) * 3 + c] : fill;
				float p10 = (i + 1 < W && j >= 0) ? src->data[((size_t)j * W + i + 1) * 3 + c] : fill;
				float p01 = (i >= 0 && j + 1 < H) ? src->data[((size_t)(j + 1) * W + i) * 3 + c] : fill;
				float p11 = (i + 1 < W && j + 1 < H) ? src->data[((size_t)(j + 1) * W + i + 1) * 3 + c] : fill;
				float top = p00 + (p10 - p00) * fx, bot = p01 + (p11 - p01) * fx;

				o[3 * x + c] = (uint8_t)(top + (bot - top) * fy + 0.5f);
			}
		}
	}
}

/* Ultralytics random_perspective without perspective:
 * M = T S R C with C moving the centre to the origin, R rotation+scale,
 * S shear, T translation back to the centre plus a random shift. */
static int op_affine(const struct aug_op *op, struct aug_sample *s, struct rng *r)
{
	const double W = s->im.width, H = s->im.height, DEG = M_PI / 180;
	double a = (2 * rng_uniform(r) - 1) * op->param[0] * DEG;
	double sc = 1 + (2 * rng_uniform(r) - 1) * op->param[2];
	double shx = tan((2 * rng_uniform(r) - 1) * op->param[3] * DEG);
	double shy = tan((2 * rng_uniform(r) - 1) * op->param[3] * DEG);
	double tx = (0.5 + (2 * rng_uniform(r) - 1) * op->param[1]) * W;
	double ty = (0.5 + (2 * rng_uniform(r) - 1) * op->param[1]) * H;
	double R[4] = { sc * cos(a), sc * sin(a), -sc * sin(a), sc * cos(a) };
	/* A = S R (2x2); then M(x) = A (x - c) + t */
	double A[4] = { R[0] + shx * R[2], R[1] + shx * R[3], shy * R[0] + R[2], shy * R[1] + R[3] };
	double det = A[0] * A[3] - A[1] * A[2];
	double m[6] = { A[0], A[1], tx - A[0] * W / 2 - A[1] * H / 2,
	                A[2], A[3], ty - A[2] * W / 2 - A[3] * H / 2 };
	double mi[6];
	struct image out;
	float *area;
	int rc;

	if (fabs(det) < 1e-9)
		return 0;
	mi[0] = A[3] / det, mi[1] = -A[1] / det, mi[3] = -A[2] / det, mi[4] = A[0] / det;
	mi[2] = -(mi[0] * m[2] + mi[1] * m[5]);
	mi[5] = -(mi[3] * m[2] + mi[4] * m[5]);
	if ((rc = image_init(&out, s->im.width, s->im.height, 3)) < 0)
		return rc;
	warp_affine(&s->im, &out, mi, (uint8_t)op->param[4]);
	sample_set_image(s, &out);
	area = malloc(sizeof(float) * (s->n ? s->n : 1));
	if (area == NULL)
		return det_error_set(DET_ENOMEM, "out of memory in aug.affine");
	for (size_t k = 0; k < s->n; k++) {
		struct aug_box *b = &s->boxes[k];
		double cx[4] = { b->x0, b->x1, b->x1, b->x0 }, cy[4] = { b->y0, b->y0, b->y1, b->y1 };
		double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;

		for (int q = 0; q < 4; q++) {
			double X = m[0] * cx[q] + m[1] * cy[q] + m[2], Y = m[3] * cx[q] + m[4] * cy[q] + m[5];

			x0 = fmin(x0, X), x1 = fmax(x1, X), y0 = fmin(y0, Y), y1 = fmax(y1, Y);
		}
		b->x0 = (float)x0, b->y0 = (float)y0, b->x1 = (float)x1, b->y1 = (float)y1;
		area[k] = (float)((x1 - x0) * (y1 - y0));
	}
	aug_boxes_clip(s, area);
	free(area);
	return 0;
}

/* Copies the w x h window at (x, y) of src into a new image (parts outside
 * src are filled), so crop, expand and mosaic share one routine. */
static void blit(const struct image *src, int sx, int sy, struct image *dst, int dx, int dy, int w, int h)
{
	for (int y = 0; y < h; y++) {
		int ys = sy + y, yd = dy + y, x0 = 0, x1 = w;

		if (ys < 0 || ys >= src->height || yd < 0 || yd >= dst->height)
			continue;
		if (sx + x0 < 0) x0 = -sx;
		if (dx + x0 < 0) x0 = -dx;
		if (sx + x1 > src->width) x1 = src->width - sx;
		if (dx + x1 > dst->width) x1 = dst->width - dx;
		if (x1 > x0)
			memcpy(dst->data + ((size_t)yd * dst->width + dx + x0) * 3,
				src->data + ((size_t)ys * src->width + sx + x0) * 3, (size_t)(x1 - x0) * 3);
	}
}

static float box_iou(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
{
	float iw = fminf(a2, b2) - fmaxf(a0, b0), ih = fminf(a3, b3) - fmaxf(a1, b1), inter;

	if (iw <= 0 || ih <= 0)
		return 0;
	inter = iw * ih;
	return inter / ((a2 - a0) * (a3 - a1) + (b2 - b0) * (b3 - b1) - inter);
}

/* SSD random crop (Liu et al. 2016, sec. 2.2 "data augmentation"): up to 50
 * trials of a patch with side in [min_scale, max_scale] and aspect in
 * [min_aspect, max_aspect]; accepted when some box has IoU >= min_iou with it
 * (min_iou < 0: pick per sample from SSD's {whole image, 0.1, 0.3, 0.5, 0.7,
 * 0.9, any}) and at least one box keeps >= min_visible of its area. */
static int op_crop(const struct aug_op *op, struct aug_sample *s, struct rng *r)
{
	static const float ssd[7] = { 2, 0.1f, 0.3f, 0.5f, 0.7f, 0.9f, 0 };
	const float W = (float)s->im.width, H = (float)s->im.height;
	float min_iou = op->param[0];

	if (min_iou < 0) {
		min_iou = ssd[rng_below(r, 7)];
		if (min_iou > 1)
			return 0; /* whole image */
	}
	for (int trial = 0; trial < 50; trial++) {
		float sc = op->param[2] + (op->param[3] - op->param[2]) * rng_uniform(r);
		float ar = op->param[4] + (op->param[5] - op->param[4]) * rng_uniform(r);
		int cw = (int)lroundf(W * sc * sqrtf(ar)), ch = (int)lroundf(H * sc / sqrtf(ar));
		int best = s->n == 0, kept = 0;

		if (cw < 2 || ch < 2 || cw > W || ch > H)
			continue;
		int cx = (int)rng_below(r, (uint32_t)(W - cw + 1)), cy = (int)rng_below(r, (uint32_t)(H - ch + 1));

		for (size_t k = 0; k < s->n; k++) {
			const struct aug_box *b = &s->boxes[k];
			float v = box_iou(b->x0, b->y0, b->x1, b->y1, (float)cx, (float)cy, (float)(cx + cw), (float)(cy + ch));
			float iw = fminf(b->x1, cx + cw) - fmaxf(b->x0, cx), ih = fminf(b->y1, cy + ch) - fmaxf(b->y0, cy);
			float vis = iw > 0 && ih > 0 ? iw * ih / ((b->x1 - b->x0) * (b->y1 - b->y0)) : 0;

			if (v >= min_iou)
				best = 1;
			if (vis >= op->param[1] && vis > 0)
				kept++;
		}
		if (!best || (s->n && !kept))
			continue;
		struct image out;
		size_t m = 0;
		int rc;

		if ((rc = image_init(&out, cw, ch, 3)) < 0)
			return rc;
		blit(&s->im, cx, cy, &out, 0, 0, cw, ch);
		sample_set_image(s, &out);
		float *area = malloc(sizeof(float) * (s->n ? s->n : 1));

		if (area == NULL)
			return det_error_set(DET_ENOMEM, "out of memory in aug.crop");
		for (size_t k = 0; k < s->n; k++) {
			struct aug_box b = s->boxes[k];
			float a = (b.x1 - b.x0) * (b.y1 - b.y0);
			float iw = fminf(b.x1, cx + cw) - fmaxf(b.x0, cx), ih = fminf(b.y1, cy + ch) - fmaxf(b.y0, cy);

			if (!(iw > 0 && ih > 0 && iw * ih >= op->param[1] * a))
				continue;
			b.x0 -= cx, b.x1 -= cx, b.y0 -= cy, b.y1 -= cy;
			area[m] = a;
			s->boxes[m++] = b;
		}
		s->n = m;
		aug_boxes_clip(s, area);
		free(area);
		return 0;
	}
	return 0;
}

/* SSD zoom-out: the image on a canvas ratio times larger, at a random place. */
static int op_expand(const struct aug_op *op, struct aug_sample *s, struct rng *r)
{
	float ratio = 1 + (op->param[0] - 1) * rng_uniform(r);
	int W = s->im.width, H = s->im.height, cw = (int)(W * ratio), ch = (int)(H * ratio);
	struct image out;
	int rc;

	if (cw <= W && ch <= H)
		return 0;
	int ox = (int)rng_below(r, (uint32_t)(cw - W + 1)), oy = (int)rng_below(r, (uint32_t)(ch - H + 1));

	if ((rc = image_init(&out, cw, ch, 3)) < 0)
		return rc;
	memset(out.data, (int)op->param[1], (size_t)cw * ch * 3);
	blit(&s->im, 0, 0, &out, ox, oy, W, H);
	sample_set_image(s, &out);
	for (size_t k = 0; k < s->n; k++) {
		s->boxes[k].x0 += ox, s->boxes[k].x1 += ox;
		s->boxes[k].y0 += oy, s->boxes[k].y1 += oy;
	}
	return 0;
}

/* Cutout (DeVries & Taylor 2017) as Ultralytics applies it to detection:
 * random-colour holes; boxes occluded more than max_occluded are dropped. */
static int op_cutout(const struct aug_op *op, struct aug_sample *s, struct rng *r)
{
	const int W = s->im.width, H = s->im.height, holes = (int)op->param[0];
	const float side = (float)(W < H ? W : H);
	float *occ = calloc(s->n ? s->n : 1, sizeof(float));
	size_t m = 0;

	if (occ == NULL)
		return det_error_set(DET_ENOMEM, "out of memory in aug.cutout");
	for (int h = 0; h < holes; h++) {
		int hw = (int)(side * op->param[1] * (0.5f + 0.5f * rng_uniform(r))) + 1;
		int hh = (int)(side * op->param[1] * (0.5f + 0.5f * rng_uniform(r))) + 1;
		int x0 = (int)rng_below(r, (uint32_t)W) - hw / 2, y0 = (int)rng_below(r, (uint32_t)H) - hh / 2;
		uint32_t col = rng_u32(r);
		int x1 = x0 + hw > W ? W : x0 + hw, y1 = y0 + hh > H ? H : y0 + hh;

		x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
		for (int y = y0; y < y1; y++)
			for (int x = x0; x < x1; x++) {
				uint8_t *p = s->im.data + ((size_t)y * W + x) * 3;

				p[0] = (uint8_t)col, p[1] = (uint8_t)(col >> 8), p[2] = (uint8_t)(col >> 16);
			}
		for (size_t k = 0; k < s->n; k++) {
			const struct aug_box *b = &s->boxes[k];
			float iw = fminf(b->x1, (float)x1) - fmaxf(b->x0, (float)x0);
			float ih = fminf(b->y1, (float)y1) - fmaxf(b->y0, (float)y0);

			if (iw > 0 && ih > 0)
				occ[k] += iw * ih / ((b->x1 - b->x0) * (b->y1 - b->y0));
		}
	}
	for (size_t k = 0; k < s->n; k++)
		if (occ[k] <= op->param[2])
			s->boxes[m++] = s->boxes[k];
	s->n = m;
	free(occ);
	return 0;
}

/* Mosaic (YOLOv4, Ultralytics load_mosaic): four images around a random
 * centre (xc, yc) in [S/2, 3S/2]^2 of a 2S x 2S canvas, S the sample's long
 * side; the central S x S window is kept. The three others are drawn
 * uniformly from ds with the sample's stream. */
static int op_mosaic(const struct aug_op *op, const struct dataset *ds, struct aug_sample *s, struct rng *r)
{
	const int S = s->im.width > s->im.height ? s->im.width : s->im.height, C2 = 2 * S;
	const int xc = S / 2 + (int)rng_below(r, (uint32_t)S + 1), yc = S / 2 + (int)rng_below(r, (uint32_t)S + 1);
	struct aug_sample parts[4], out;
	float *area = NULL;
	int rc = 0;

	if (ds == NULL || ds->nimages == 0)
		return det_error_set(DET_EINVAL, "aug.mosaic needs a dataset to draw images from");
	aug_sample_init(&out);
	parts[0] = *s;
	for (int q = 1; q < 4; q++)
		aug_sample_init(&parts[q]);
	for (int q = 1; q < 4 && rc == 0; q++)
		rc = aug_sample_load(ds, rng_below(r, (uint32_t)ds->nimages), &parts[q]);
	if (rc == 0)
		rc = image_init(&out.im, C2, C2, 3);
	if (rc < 0)
		goto done;
	memset(out.im.data, (int)op->param[0], (size_t)C2 * C2 * 3);
	for (int q = 0; q < 4 && rc == 0; q++) {
		const int w = parts[q].im.width, h = parts[q].im.height;
		int x1a, y1a, x2a, y2a, x1b, y1b;

		switch (q) {
		case 0: x1a = xc - w > 0 ? xc - w : 0, y1a = yc - h > 0 ? yc - h : 0, x2a = xc, y2a = yc;
			x1b = w - (x2a - x1a), y1b = h - (y2a - y1a); break;
		case 1: x1a = xc, y1a = yc - h > 0 ? yc - h : 0, x2a = xc + w < C2 ? xc + w : C2, y2a = yc;
			x1b = 0, y1b = h - (y2a - y1a); break;
		case 2: x1a = xc - w > 0 ? xc - w : 0, y1a = yc, x2a = xc, y2a = yc + h < C2 ? yc + h : C2;
			x1b = w - (x2a - x1a), y1b = 0; break;
		default: x1a = xc, y1a = yc, x2a = xc + w < C2 ? xc + w : C2, y2a = yc + h < C2 ? yc + h : C2;
			x1b = 0, y1b = 0; break;
		}
		blit(&parts[q].im, x1b, y1b, &out.im, x1a, y1a, x2a - x1a, y2a - y1a);
		for (size_t k = 0; k < parts[q].n && rc == 0; k++) {
			struct aug_box b = parts[q].boxes[k];
			float dx = (float)(x1a - x1b) - S / 2, dy = (float)(y1a - y1b) - S / 2;

			b.x0 += dx, b.x1 += dx, b.y0 += dy, b.y1 += dy;
			rc = aug_sample_push(&out, &b);
		}
	}
	if (rc < 0)
		goto done;
	/* keep the central S x S window; original areas decide what stays */
	{
		struct image win;

		if ((rc = image_init(&win, S, S, 3)) < 0)
			goto done;
		blit(&out.im, S / 2, S / 2, &win, 0, 0, S, S);
		image_fini(&out.im);
		out.im = win;
	}
	area = areas_of(&out);
	if (area == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory in aug.mosaic");
		goto done;
	}
	/* each image is cut only by the canvas edges, so clipping to the window is
	 * exact; the drop rule compares with the box's full area */
	aug_boxes_clip(&out, area);
	aug_sample_fini(s);
	*s = out;
	aug_sample_init(&out);
done:
	free(area);
	for (int q = 1; q < 4; q++)
		aug_sample_fini(&parts[q]);
	aug_sample_fini(&out);
	return rc;
}

/* Gamma(a, 1) by Marsaglia and Tsang (2000); a >= 1 here. */
static double gamma_draw(struct rng *r, double a)
{
	double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);

	for (;;) {
		double x = rng_normal(r), v = 1 + c * x, u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = rng_uniform(r);
		if (u < 1 - 0.0331 * x * x * x * x || log(u + 1e-30) < 0.5 * x * x + d * (1 - v + log(v)))
			return d * v;
	}
}

/* mixup (Zhang et al. 2018; Ultralytics): blend with another image resized
 * to this one, lambda ~ Beta(alpha, alpha); both images' boxes kept. */
static int op_mixup(const struct aug_op *op, const struct dataset *ds, struct aug_sample *s, struct rng *r)
{
	struct aug_sample o;
	struct image rs;
	double a = op->param[0] < 1 ? 1 : op->param[0];
	double g1 = gamma_draw(r, a), g2 = gamma_draw(r, a);
	float lam = (float)(g1 / (g1 + g2));
	int rc;

	if (ds == NULL || ds->nimages == 0)
		return det_error_set(DET_EINVAL, "aug.mixup needs a dataset to draw images from");
	aug_sample_init(&o);
	if ((rc = aug_sample_load(ds, rng_below(r, (uint32_t)ds->nimages), &o)) < 0)
		goto done;
	if ((rc = image_init(&rs, s->im.width, s->im.height, 3)) < 0)
		goto done;
	if ((rc = imageio_resize(&o.im, &rs, IMAGEIO_BILINEAR)) < 0) {
		image_fini(&rs);
		goto done;
	}
	for (size_t i = 0; i < (size_t)rs.width * rs.height * 3; i++)
		s->im.data[i] = (uint8_t)(lam * s->im.data[i] + (1 - lam) * rs.data[i] + 0.5f);
	{
		float fx = (float)rs.width / o.im.width, fy = (float)rs.height / o.im.height;

		for (size_t k = 0; k < o.n && rc == 0; k++) {
			struct aug_box b = o.boxes[k];

			b.x0 *= fx, b.x1 *= fx, b.y0 *= fy, b.y1 *= fy;
			rc = aug_sample_push(s, &b);
		}
	}
	image_fini(&rs);
done:
	aug_sample_fini(&o);
	return rc;
}

/* ---- photometric (boxes unchanged) --------------------------------------- */

static uint8_t clamp8(float v)
{
	return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
}

static void apply_lut(struct image *im, const uint8_t lut[3][256])
{
	const size_t n = (size_t)im->width * im->height;

	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 3; c++)
			im->data[3 * i + c] = lut[c][im->data[3 * i + c]];
}

/* TF adjust_contrast: x' = (x - mean_c) f + mean_c, mean per channel. */
static void op_contrast(struct aug_sample *s, float f)
{
	const size_t n = (size_t)s->im.width * s->im.height;
	double sum[3] = { 0, 0, 0 };
	uint8_t lut[3][256];

	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 3; c++)
			sum[c] += s->im.data[3 * i + c];
	for (int c = 0; c < 3; c++) {
		float m = (float)(sum[c] / n);

		for (int v = 0; v < 256; v++)
			lut[c][v] = clamp8((v - m) * f + m);
	}
	apply_lut(&s->im, lut);
}

/* Saturation: x' = g + (x - g) f with g = 0.299 r + 0.587 g + 0.114 b (f = 0: greyscale). */
static void op_saturation(struct aug_sample *s, float f)
{
	const size_t n = (size_t)s->im.width * s->im.height;

	for (size_t i = 0; i < n; i++) {
		uint8_t *p = s->im.data + 3 * i;
		float g = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];

		for (int c = 0; c < 3; c++)
			p[c] = clamp8(g + (p[c] - g) * f);
	}
}

/* Hue turn by angle t (radians) in YIQ: Y kept, (I, Q) rotated. */
static void op_hue(struct aug_sample *s, float t)
{
	const size_t n = (size_t)s->im.width * s->im.height;
	const float c = cosf(t), sn = sinf(t);

	for (size_t i = 0; i < n; i++) {
		uint8_t *p = s->im.data + 3 * i;
		float y = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
		float I = 0.596f * p[0] - 0.274f * p[1] - 0.322f * p[2];
		float Q = 0.211f * p[0] - 0.523f * p[1] + 0.312f * p[2];
		float i2 = c * I - sn * Q, q2 = sn * I + c * Q;

		p[0] = clamp8(y + 0.956f * i2 + 0.621f * q2);
		p[1] = clamp8(y - 0.272f * i2 - 0.647f * q2);
		p[2] = clamp8(y - 1.106f * i2 + 1.703f * q2);
	}
}

/* Approximately Gaussian noise: the sum of four uniform bytes of one draw
 * (Irwin-Hall, n = 4) standardised, times std x 255. */
static void op_noise(struct aug_sample *s, float std, struct rng *r)
{
	const size_t n = (size_t)s->im.width * s->im.height * 3;
	const float k = std * 255 / 147.8f; /* sd of the sum of 4 bytes: sqrt(4 (256^2-1)/12) */

	for (size_t i = 0; i < n; i++) {
		uint32_t u = rng_u32(r);
		int sum = (int)(u & 255) + (int)((u >> 8) & 255) + (int)((u >> 16) & 255) + (int)(u >> 24);

		s->im.data[i] = clamp8(s->im.data[i] + (sum - 510) * k);
	}
}

/* Separable Gaussian blur, radius ceil(3 sigma) (at most 24), edges
 * clamped: each row is copied into a padded float line, then filtered. */
static int op_blur(struct aug_sample *s, float sigma)
{
	const int W = s->im.width, H = s->im.height, C = 3;
	const int R = (int)ceilf(3 * sigma) > 24 ? 24 : (int)ceilf(3 * sigma);
	const int L = (W > H ? W : H) + 2 * R;
	float k[49], sum = 0;
	float *tmp = malloc(sizeof(float) * (size_t)W * H * C), *line = malloc(sizeof(float) * (size_t)L * C);

	if (tmp == NULL || line == NULL) {
		free(tmp);
		free(line);
		return det_error_set(DET_ENOMEM, "out of memory in aug.blur");
	}
	for (int i = -R; i <= R; i++)
		sum += k[i + R] = expf(-(float)(i * i) / (2 * sigma * sigma));
	for (int i = 0; i <= 2 * R; i++)
		k[i] /= sum;
	/* rows: line[(x + R) * C + c] = src(clamp(x), y) */
	for (int y = 0; y < H; y++) {
		const uint8_t *row = s->im.data + (size_t)y * W * C;

		for (int x = -R; x < W + R; x++) {
			int xx = x < 0 ? 0 : x >= W ? W - 1 : x;

			for (int c = 0; c < C; c++)
				line[(x + R) * C + c] = row[xx * C + c];
		}
		for (int x = 0; x < W * C; x++) {
			float v = 0;

			for (int i = 0; i <= 2 * R; i++)
				v += k[i] * line[x + i * C];
			tmp[(size_t)y * W * C + x] = v;
		}
	}
	/* columns, a row of output at a time: out(x, y) = sum_i k_i tmp(x, clamp(y + i - R)) */
	for (int y = 0; y < H; y++) {
		uint8_t *o = s->im.data + (size_t)y * W * C;

		for (int x = 0; x < W * C; x++)
			line[x] = 0;
		for (int i = 0; i <= 2 * R; i++) {
			int yy = y + i - R < 0 ? 0 : y + i - R >= H ? H - 1 : y + i - R;
			const float *r = tmp + (size_t)yy * W * C, w = k[i];

			for (int x = 0; x < W * C; x++)
				line[x] += w * r[x];
		}
		for (int x = 0; x < W * C; x++)
			o[x] = clamp8(line[x]);
	}
	free(tmp);
	free(line);
	return 0;
}

static float uniform_in(struct rng *r, float lo, float hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

int aug_op_apply(const struct aug_op *op, const struct dataset *ds, struct aug_sample *s, uint64_t stream_seed)
{
	struct rng r;
	uint8_t lut[3][256];

	rng_init(&r, stream_seed, op->kind);
	switch (op->kind) {
	case AUG_HFLIP: op_hflip(s); return 0;
	case AUG_VFLIP: op_vflip(s); return 0;
	case AUG_ROT90: return op_rot90(s, 1 + (int)rng_below(&r, 3));
	case AUG_AFFINE: return op_affine(op, s, &r);
	case AUG_BRIGHTNESS: {
		float d = uniform_in(&r, -op->param[0], op->param[0]) * 255;

		for (int c = 0; c < 3; c++)
			for (int v = 0; v < 256; v++)
				lut[c][v] = clamp8(v + d);
		apply_lut(&s->im, lut);
		return 0;
	}
	case AUG_CONTRAST: op_contrast(s, uniform_in(&r, op->param[0], op->param[1])); return 0;
	case AUG_SATURATION: op_saturation(s, uniform_in(&r, op->param[0], op->param[1])); return 0;
	case AUG_HUE: op_hue(s, uniform_in(&r, -op->param[0], op->param[0]) * 2 * (float)M_PI); return 0;
	case AUG_GAMMA: {
		float g = uniform_in(&r, op->param[0], op->param[1]);

		for (int v = 0; v < 256; v++)
			lut[0][v] = lut[1][v] = lut[2][v] = clamp8(255 * powf(v / 255.f, g));
		apply_lut(&s->im, lut);
		return 0;
	}
	case AUG_GREYSCALE: op_saturation(s, 0); return 0;
	case AUG_NOISE: op_noise(s, op->param[0], &r); return 0;
	case AUG_BLUR: return op_blur(s, uniform_in(&r, 0.1f, op->param[0]));
	case AUG_CROP: return op_crop(op, s, &r);
	case AUG_EXPAND: return op_expand(op, s, &r);
	case AUG_MULTISCALE: return 0;
	case AUG_CUTOUT: return op_cutout(op, s, &r);
	case AUG_MOSAIC: return op_mosaic(op, ds, s, &r);
	case AUG_MIXUP: return op_mixup(op, ds, s, &r);
	case AUG_NKINDS: break;
	}
	DET_ASSERT(0, "unknown augmentation kind %d", (int)op->kind);
	return DET_EINVAL;
}

int aug_list_apply(const struct aug_list *list, const struct dataset *ds, struct aug_sample *s,
	uint64_t seed, int64_t epoch, uint64_t index)
{
	const uint64_t base = aug_sample_seed(seed, epoch, index);

	if (list == NULL)
		return 0;
	for (int i = 0; i < list->n; i++) {
		const struct aug_op *op = &list->ops[i];
		const uint64_t os = rng_mix(base, (uint64_t)i);
		struct rng coin;
		int rc;

		rng_init(&coin, os, 0x5eed);
		if (op->kind == AUG_MULTISCALE || rng_uniform(&coin) >= op->p)
			continue;
		if ((rc = aug_op_apply(op, ds, s, os)) < 0)
			return rc;
	}
	return 0;
}

static const struct aug_op *find_multiscale(const struct aug_list *list)
{
	for (int i = 0; list && i < list->n; i++)
		if (list->ops[i].kind == AUG_MULTISCALE)
			return &list->ops[i];
	return NULL;
}

int aug_list_batch_size(const struct aug_list *list, int size, uint64_t seed, uint64_t batch)
{
	const struct aug_op *op = find_multiscale(list);
	struct rng r;
	int step, lo, hi;

	if (op == NULL)
		return size;
	rng_init(&r, rng_mix(seed, 0xba7c4), batch);
	if (rng_uniform(&r) >= op->p)
		return size;
	step = (int)op->param[2];
	lo = (int)ceilf(op->param[0] * size / step);
	hi = (int)floorf(op->param[1] * size / step);
	if (lo < 1)
		lo = 1;
	if (hi < lo)
		return size;
	return step * (lo + (int)rng_below(&r, (uint32_t)(hi - lo + 1)));
}

int aug_list_max_size(const struct aug_list *list, int size)
{
	const struct aug_op *op = find_multiscale(list);
	int step, hi;

	if (op == NULL)
		return size;
	step = (int)op->param[2];
	hi = step * (int)floorf(op->param[1] * size / step);
	return hi > size ? hi : size;
}
