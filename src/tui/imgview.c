/* imgview.c: the half-block image renderer. The source (or the zoomed
 * crop) is area-resampled to the cell grid's pixels (cols x 2 rows),
 * boxes are drawn on those pixels (1 px outlines; GT dashed), then every
 * cell takes '▀' with fg = top pixel, bg = bottom pixel, and labels are
 * written as text over the boxes' top edges. */
#include "tui/imgview.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/draw.h"
#include "data/imageio.h"

#define UPPER_HALF 0x2580u
#define LOWER_HALF 0x2584u
#define FULL_BLOCK 0x2588u

uint32_t img_class_color(int c)
{
	uint8_t rgb[3];

	draw_class_color(c, rgb);
	return CELL_RGB(rgb[0], rgb[1], rgb[2]);
}

uint32_t img_outcome_color(int outcome)
{
	switch (outcome) {
	case IMG_TP: return CELL_RGB(60, 220, 60);
	case IMG_FP: return CELL_RGB(240, 50, 50);
	case IMG_FN: return CELL_RGB(255, 170, 0);
	default: return CELL_RGB(200, 200, 200);
	}
}

static void set_px(struct image *im, int x, int y, uint32_t c)
{
	uint8_t *p;

	if (x < 0 || y < 0 || x >= im->width || y >= im->height)
		return;
	p = im->data + ((size_t)y * (size_t)im->width + (size_t)x) * 3;
	p[0] = (uint8_t)CELL_R(c), p[1] = (uint8_t)CELL_G(c), p[2] = (uint8_t)CELL_B(c);
}

/* A 1-pixel outline; dashed draws 2 of every 4 pixels. */
static void outline(struct image *im, int x0, int y0, int x1, int y1, uint32_t c, int dashed)
{
	for (int x = x0; x <= x1; x++)
		if (!dashed || ((x - x0) & 2) == 0) {
			set_px(im, x, y0, c);
			set_px(im, x, y1, c);
		}
	for (int y = y0; y <= y1; y++)
		if (!dashed || ((y - y0) & 2) == 0) {
			set_px(im, x0, y, c);
			set_px(im, x1, y, c);
		}
}

static const uint8_t bayer4[4][4] = { { 0, 8, 2, 10 }, { 12, 4, 14, 6 }, { 3, 11, 1, 9 }, { 15, 7, 13, 5 } };

static int visible(const struct img_box *b, const struct img_opts *o)
{
	if (b->pred)
		return !o->hide_pred && b->score >= o->min_score;
	if (o->hide_gt)
		return 0;
	/* in outcome mode a matched GT is shown by its TP prediction */
	return !(o->outcomes && b->outcome == IMG_TP);
}

static uint32_t box_color(const struct img_box *b, const struct img_opts *o)
{
	return o->outcomes ? img_outcome_color(b->outcome) : img_class_color(b->cls);
}

int img_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct image *im,
	const struct img_box *boxes, int n, const struct img_opts *o)
{
	struct image crop = { 0 }, px = { 0 };
	int cx0 = 0, cy0 = 0, cw = im->width, ch = im->height, tw, th, ox, oy;
	double scale;

	if (rows < 1 || cols < 1 || im->width < 1 || im->height < 1)
		return 0;
	if (o->zoom >= 0 && o->zoom < n) {
		const struct img_box *b = &boxes[o->zoom];
		float mw = (b->x1 - b->x0) * 0.25f + 2, mh = (b->y1 - b->y0) * 0.25f + 2;

		cx0 = (int)fmaxf(0, floorf(b->x0 - mw));
		cy0 = (int)fmaxf(0, floorf(b->y0 - mh));
		cw = (int)fminf((float)im->width, ceilf(b->x1 + mw)) - cx0;
		ch = (int)fminf((float)im->height, ceilf(b->y1 + mh)) - cy0;
		if (cw < 1 || ch < 1)
			cx0 = cy0 = 0, cw = im->width, ch = im->height;
	}
	/* the pixels: cols x 2 rows at most, aspect kept */
	scale = fmin((double)cols / cw, 2.0 * rows / ch);
	tw = (int)fmax(1, floor(cw * scale + 0.5));
	th = (int)fmax(1, floor(ch * scale + 0.5));
	if (tw > cols)
		tw = cols;
	if (th > 2 * rows)
		th = 2 * rows;
	if (image_init(&crop, cw, ch, 3) != 0 || image_init(&px, tw, th, 3) != 0) {
		image_fini(&crop);
		return DET_ENOMEM;
	}
	for (int y = 0; y < ch; y++)
		for (int x = 0; x < cw; x++) {
			const uint8_t *s = im->data + ((size_t)(y + cy0) * (size_t)im->width + (size_t)(x + cx0)) * (size_t)im->channels;
			uint8_t *d = crop.data + ((size_t)y * (size_t)cw + (size_t)x) * 3;

			d[0] = s[0];
			d[1] = im->channels >= 3 ? s[1] : s[0];
			d[2] = im->channels >= 3 ? s[2] : s[0];
		}
	imageio_resize(&crop, &px, scale < 1 ? IMAGEIO_AREA : IMAGEIO_BILINEAR);
	image_fini(&crop);
	/* boxes: GT first (dashed), predictions over them */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			const struct img_box *b = &boxes[i];

			if (b->pred != pass || !visible(b, o))
				continue;
			outline(&px, (int)floor((b->x0 - cx0) * scale), (int)floor((b->y0 - cy0) * scale),
				(int)ceil((b->x1 - cx0) * scale) - 1, (int)ceil((b->y1 - cy0) * scale) - 1, box_color(b, o),
				!b->pred);
		}
	/* cells */
	ox = x0 + (cols - tw) / 2;
	oy = y0 + (rows - (th + 1) / 2) / 2;
	for (int r = 0; r < (th + 1) / 2; r++)
		for (int x = 0; x < tw; x++) {
			const uint8_t *t = px.data + ((size_t)(2 * r) * (size_t)tw + (size_t)x) * 3;
			const uint8_t *b = 2 * r + 1 < th ? t + (size_t)tw * 3 : NULL;

			if (o->mode == CELL_MODE_MONO) {
				int lt = (299 * t[0] + 587 * t[1] + 114 * t[2]) / 1000;
				int on_t = lt * 16 > (bayer4[(2 * r) & 3][x & 3] * 2 + 1) * 255 / 2;
				int on_b = 0;

				if (b) {
					int lb = (299 * b[0] + 587 * b[1] + 114 * b[2]) / 1000;

					on_b = lb * 16 > (bayer4[(2 * r + 1) & 3][x & 3] * 2 + 1) * 255 / 2;
				}
				cells_put(cb, oy + r, ox + x, on_t && on_b ? FULL_BLOCK : on_t ? UPPER_HALF : on_b ? LOWER_HALF : ' ',
					CELL_DEFAULT, CELL_DEFAULT, 0);
			} else {
				cells_put(cb, oy + r, ox + x, UPPER_HALF, CELL_RGB(t[0], t[1], t[2]),
					b ? CELL_RGB(b[0], b[1], b[2]) : CELL_DEFAULT, 0);
			}
		}
	/* labels over the top edges (inside the box when at the top row) */
	if (o->labels)
		for (int i = 0; i < n; i++) {
			const struct img_box *b = &boxes[i];
			char text[80], name[48];
			int lx, ly, rows_used = (th + 1) / 2;
			uint32_t c;

			if (!visible(b, o))
				continue;
			if (o->names && b->cls >= 0 && b->cls < o->nnames)
				snprintf(name, sizeof name, "%s", o->names[b->cls]);
			else
				snprintf(name, sizeof name, "%d", b->cls);
			if (b->pred)
				snprintf(text, sizeof text, "%s %.2f", name, (double)b->score);
			else
				snprintf(text, sizeof text, "%s%s", name, o->outcomes && b->outcome == IMG_FN ? " (missed)" : "");
			lx = ox + (int)floor((b->x0 - cx0) * scale);
			ly = oy + (int)floor((b->y0 - cy0) * scale) / 2;
			/* predictions label above the box, GT below its top edge */
			if (b->pred && ly > oy)
				ly--;
			else if (!b->pred)
				ly = oy + (int)ceil((b->y1 - cy0) * scale - 1) / 2;
			if (ly < oy)
				ly = oy;
			if (ly >= oy + rows_used)
				ly = oy + rows_used - 1;
			if (lx < ox)
				lx = ox;
			c = box_color(b, o);
			if (o->mode == CELL_MODE_MONO)
				cells_text(cb, ly, lx, text, CELL_DEFAULT, CELL_DEFAULT, CELL_REVERSE, ox + tw - lx);
			else
				cells_text(cb, ly, lx, text,
					CELL_R(c) * 299 + CELL_G(c) * 587 + CELL_B(c) * 114 > 140000 ? CELL_RGB(0, 0, 0)
						: CELL_RGB(255, 255, 255), c, 0, ox + tw - lx);
		}
	image_fini(&px);
	return 0;
}

int img_cells_rasterise(const struct cells *cb, struct image *out)
{
	int rc = image_init(out, cb->cols, 2 * cb->rows, 3);

	if (rc)
		return rc;
	for (int r = 0; r < cb->rows; r++)
		for (int x = 0; x < cb->cols; x++) {
			const struct cell *c = &cb->c[r * cb->cols + x];
			uint32_t top = c->fg, bot = c->bg;
			uint8_t *t = out->data + ((size_t)(2 * r) * (size_t)cb->cols + (size_t)x) * 3;
			uint8_t *b = t + (size_t)cb->cols * 3;

			if (c->cp == LOWER_HALF)
				top = c->bg, bot = c->fg;
			else if (c->cp == FULL_BLOCK)
				bot = c->fg;
			else if (c->cp == ' ')
				top = c->bg;
			if (top == CELL_DEFAULT)
				top = CELL_RGB(0, 0, 0);
			if (bot == CELL_DEFAULT)
				bot = CELL_RGB(0, 0, 0);
			t[0] = (uint8_t)CELL_R(top), t[1] = (uint8_t)CELL_G(top), t[2] = (uint8_t)CELL_B(top);
			b[0] = (uint8_t)CELL_R(bot), b[1] = (uint8_t)CELL_G(bot), b[2] = (uint8_t)CELL_B(bot);
		}
	return 0;
}

static float box_iou(const struct img_box *a, const struct img_box *b)
{
	float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0), iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
	float inter, uni;

	if (ix <= 0 || iy <= 0)
		return 0;
	inter = ix * iy;
	uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
	return uni > 0 ? inter / uni : 0;
}

void img_boxes_match(struct img_box *bx, int n)
{
	for (;;) {
		int best = -1;

		for (int i = 0; i < n; i++)
			if (bx[i].pred && bx[i].outcome == IMG_NONE && (best < 0 || bx[i].score > bx[best].score))
				best = i;
		if (best < 0)
			break;
		int gt = -1;
		float bi = 0.5f;

		for (int i = 0; i < n; i++)
			if (!bx[i].pred && bx[i].outcome == IMG_NONE && bx[i].cls == bx[best].cls && box_iou(&bx[i], &bx[best]) >= bi)
				bi = box_iou(&bx[i], &bx[best]), gt = i;
		bx[best].outcome = gt >= 0 ? IMG_TP : IMG_FP;
		if (gt >= 0)
			bx[gt].outcome = IMG_TP;
	}
	for (int i = 0; i < n; i++)
		if (!bx[i].pred && bx[i].outcome == IMG_NONE)
			bx[i].outcome = IMG_FN;
}
