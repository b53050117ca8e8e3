/* box.c: the IoU family and the FCOS / RetinaNet box encodings. Every entry
 * is computed in float32 in the order torchvision uses, so fixtures from it
 * match to rounding; fused multiply-adds are off for the same reason. */
#pragma GCC optimize("fp-contract=off")
#include "det/box.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const iou_names[] = { "iou", "giou", "diou", "ciou" };

int det_iou_kind_parse(const char *name)
{
	for (int k = 0; k < 4; k++)
		if (strcmp(name, iou_names[k]) == 0)
			return k;
	return -1;
}

const char *det_iou_kind_name(enum det_iou_kind kind)
{
	return (unsigned)kind < 4 ? iou_names[kind] : "?";
}

float det_box_area(const float *b)
{
	return (b[2] - b[0]) * (b[3] - b[1]);
}

float det_box_iou_one(enum det_iou_kind kind, const float *a, const float *b, float eps)
{
	float area_a = det_box_area(a), area_b = det_box_area(b);
	float iw = fmaxf(fminf(a[2], b[2]) - fmaxf(a[0], b[0]), 0.0f);
	float ih = fmaxf(fminf(a[3], b[3]) - fmaxf(a[1], b[1]), 0.0f);
	float inter = iw * ih;
	float uni = area_a + area_b - inter;
	float iou = inter / uni;
	float cw = fmaxf(fmaxf(a[2], b[2]) - fminf(a[0], b[0]), 0.0f);
	float ch = fmaxf(fmaxf(a[3], b[3]) - fminf(a[1], b[1]), 0.0f);

	if (kind == DET_IOU_PLAIN)
		return iou;
	if (kind == DET_IOU_GIOU) {
		float area_c = cw * ch;

		return iou - (area_c - uni) / area_c;
	}
	float diag = cw * cw + ch * ch + eps;
	float dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2;
	float dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2;
	float diou = iou - (dx * dx + dy * dy) / diag;

	if (kind == DET_IOU_DIOU)
		return diou;
	float d = atanf((a[2] - a[0]) / (a[3] - a[1])) - atanf((b[2] - b[0]) / (b[3] - b[1]));
	float v = (float)(4.0 / (M_PI * M_PI)) * d * d;
	float alpha = v / (1 - iou + v + eps);

	return diou - alpha * v;
}

/* Plain IoU rows with b in structure-of-arrays form (bs: x0, y0, x1, y1,
 * area, m floats each) so the inner loop vectorises; the same operations as
 * det_box_iou_one, so the same bits for boxes without NaN. */
static void iou_rows_soa(const float *a, size_t n, const float *bs, size_t m, float *out)
{
	const float *bx0 = bs, *by0 = bs + m, *bx1 = bs + 2 * m, *by1 = bs + 3 * m;
	const float *barea = bs + 4 * m;

	/* one thread does ~4e9 IoU/s here; threads pay only past a few ms of work */
	#pragma omp parallel for schedule(static) if (n * m > 8000000)
	for (size_t i = 0; i < n; i++) {
		const float ax0 = a[4 * i], ay0 = a[4 * i + 1], ax1 = a[4 * i + 2], ay1 = a[4 * i + 3];
		const float aa = (ax1 - ax0) * (ay1 - ay0);
		float *o = out + i * m;

		#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			float lx = ax0 > bx0[j] ? ax0 : bx0[j], ly = ay0 > by0[j] ? ay0 : by0[j];
			float rx = ax1 < bx1[j] ? ax1 : bx1[j], ry = ay1 < by1[j] ? ay1 : by1[j];
			float iw = rx - lx, ih = ry - ly;

			iw = iw > 0 ? iw : 0.0f;
			ih = ih > 0 ? ih : 0.0f;
			float inter = iw * ih;
			o[j] = inter / (aa + barea[j] - inter);
		}
	}
}

void det_box_iou_matrix(enum det_iou_kind kind, const float *a, size_t n,
	const float *b, size_t m, float eps, float *out)
{
	if (kind == DET_IOU_PLAIN && m >= 16) {
		float *bs = malloc(5 * m * sizeof(*bs));

		if (bs) {
			for (size_t j = 0; j < m; j++) {
				for (int k = 0; k < 4; k++)
					bs[k * m + j] = b[4 * j + k];
				bs[4 * m + j] = det_box_area(b + 4 * j);
			}
			iou_rows_soa(a, n, bs, m, out);
			free(bs);
			return;
		}
		/* no memory for the copy: the plain loop below needs none */
	}
	#pragma omp parallel for schedule(static) if (n * m > 262144)
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			out[i * m + j] = det_box_iou_one(kind, a + 4 * i, b + 4 * j, eps);
}

void det_box_iou_pairs(enum det_iou_kind kind, const float *a, const float *b,
	size_t n, float eps, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = det_box_iou_one(kind, a + 4 * i, b + 4 * i, eps);
}

void det_box_fcos_encode(const float *points, const float *boxes, const float *scale,
	size_t n, float *ltrb)
{
	for (size_t i = 0; i < n; i++) {
		float px = points[2 * i], py = points[2 * i + 1];
		const float *bx = boxes + 4 * i;
		float *o = ltrb + 4 * i;
		float s = scale ? scale[i] : 1.0f;

		o[0] = (px - bx[0]) / s;
		o[1] = (py - bx[1]) / s;
		o[2] = (bx[2] - px) / s;
		o[3] = (bx[3] - py) / s;
	}
}

void det_box_fcos_decode(const float *points, const float *ltrb, const float *scale,
	size_t n, float *boxes)
{
	for (size_t i = 0; i < n; i++) {
		float px = points[2 * i], py = points[2 * i + 1];
		const float *d = ltrb + 4 * i;
		float *o = boxes + 4 * i;
		float s = scale ? scale[i] : 1.0f;

		o[0] = px - d[0] * s;
		o[1] = py - d[1] * s;
		o[2] = px + d[2] * s;
		o[3] = py + d[3] * s;
	}
}

void det_box_fcos_decode_backward(const float *scale, size_t n, const float *dboxes,
	float *dltrb)
{
	for (size_t i = 0; i < n; i++) {
		float s = scale ? scale[i] : 1.0f;

		dltrb[4 * i + 0] = -dboxes[4 * i + 0] * s;
		dltrb[4 * i + 1] = -dboxes[4 * i + 1] * s;
		dltrb[4 * i + 2] = dboxes[4 * i + 2] * s;
		dltrb[4 * i + 3] = dboxes[4 * i + 3] * s;
	}
}

void det_box_fcos_centerness(const float *ltrb, size_t n, float *out)
{
	for (size_t i = 0; i < n; i++) {
		const float *d = ltrb + 4 * i;

		if (d[0] <= 0 || d[1] <= 0 || d[2] <= 0 || d[3] <= 0) {
			out[i] = 0;
			continue;
		}
		out[i] = sqrtf(fminf(d[0], d[2]) / fmaxf(d[0], d[2]) *
			(fminf(d[1], d[3]) / fmaxf(d[1], d[3])));
	}
}

void det_box_coder_init(struct det_box_coder *c)
{
	c->wx = c->wy = c->ww = c->wh = 1.0f;
	c->clamp = (float)log(1000.0 / 16);
}

void det_box_coder_encode(const struct det_box_coder *c, const float *anchors,
	const float *boxes, size_t n, float *deltas)
{
	for (size_t i = 0; i < n; i++) {
		const float *an = anchors + 4 * i, *bx = boxes + 4 * i;
		float wa = an[2] - an[0], ha = an[3] - an[1];
		float xa = an[0] + 0.5f * wa, ya = an[1] + 0.5f * ha;
		float w = bx[2] - bx[0], h = bx[3] - bx[1];
		float x = bx[0] + 0.5f * w, y = bx[1] + 0.5f * h;
		float *o = deltas + 4 * i;

		o[0] = c->wx * (x - xa) / wa;
		o[1] = c->wy * (y - ya) / ha;
		o[2] = c->ww * logf(w / wa);
		o[3] = c->wh * logf(h / ha);
	}
}

void det_box_coder_decode(const struct det_box_coder *c, const float *anchors,
	const float *deltas, size_t n, float *boxes)
{
	for (size_t i = 0; i < n; i++) {
		const float *an = anchors + 4 * i, *d = deltas + 4 * i;
		float wa = an[2] - an[0], ha = an[3] - an[1];
		float xa = an[0] + 0.5f * wa, ya = an[1] + 0.5f * ha;
		float dw = fminf(d[2] / c->ww, c->clamp), dh = fminf(d[3] / c->wh, c->clamp);
		float x = d[0] / c->wx * wa + xa, y = d[1] / c->wy * ha + ya;
		float hw = 0.5f * (expf(dw) * wa), hh = 0.5f * (expf(dh) * ha);
		float *o = boxes + 4 * i;

		o[0] = x - hw;
		o[1] = y - hh;
		o[2] = x + hw;
		o[3] = y + hh;
	}
}

/* x0 = x - hw, x1 = x + hw with x = dx/wx wa + xa, hw = exp(dw/ww) wa / 2:
 * d/ddx = (dx0 + dx1) wa / wx, d/ddw = (dx1 - dx0) hw / ww (0 if clamped). */
void det_box_coder_decode_backward(const struct det_box_coder *c, const float *anchors,
	const float *deltas, size_t n, const float *dboxes, float *ddeltas)
{
	for (size_t i = 0; i < n; i++) {
		const float *an = anchors + 4 * i, *d = deltas + 4 * i, *g = dboxes + 4 * i;
		float wa = an[2] - an[0], ha = an[3] - an[1];
		float dw = d[2] / c->ww, dh = d[3] / c->wh;
		float hw = 0.5f * (expf(fminf(dw, c->clamp)) * wa);
		float hh = 0.5f * (expf(fminf(dh, c->clamp)) * ha);
		float *o = ddeltas + 4 * i;

		o[0] = (g[0] + g[2]) * wa / c->wx;
		o[1] = (g[1] + g[3]) * ha / c->wy;
		o[2] = dw > c->clamp ? 0.0f : (g[2] - g[0]) * hw / c->ww;
		o[3] = dh > c->clamp ? 0.0f : (g[3] - g[1]) * hh / c->wh;
	}
}
