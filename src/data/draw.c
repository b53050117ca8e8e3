/* draw.c: rectangles, labels and text for preview images. The font is
 * stb_easy_font's (axis-aligned quads), rasterised as filled rectangles. */
#include "data/draw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#include "data/augment.h"

static const uint8_t palette[20][3] = {
	{ 230, 25, 75 }, { 60, 180, 75 }, { 255, 225, 25 }, { 0, 130, 200 }, { 245, 130, 48 },
	{ 145, 30, 180 }, { 70, 240, 240 }, { 240, 50, 230 }, { 210, 245, 60 }, { 250, 190, 212 },
	{ 0, 128, 128 }, { 220, 190, 255 }, { 170, 110, 40 }, { 255, 250, 200 }, { 128, 0, 0 },
	{ 170, 255, 195 }, { 128, 128, 0 }, { 255, 215, 180 }, { 0, 0, 128 }, { 128, 128, 128 },
};

void draw_class_color(int c, uint8_t rgb[3])
{
	memcpy(rgb, palette[(c < 0 ? -c : c) % 20], 3);
}

void draw_fill(struct image *im, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
	x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > im->width ? im->width : x1, y1 = y1 > im->height ? im->height : y1;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			uint8_t *p = im->data + ((size_t)y * im->width + x) * im->channels;

			if (im->channels == 3)
				p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
			else
				p[0] = (uint8_t)((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8);
		}
}

void draw_rect(struct image *im, float fx0, float fy0, float fx1, float fy1, const uint8_t rgb[3], int t)
{
	int x0 = (int)floorf(fx0), y0 = (int)floorf(fy0), x1 = (int)ceilf(fx1), y1 = (int)ceilf(fy1);

	draw_fill(im, x0, y0, x1, y0 + t, rgb);
	draw_fill(im, x0, y1 - t, x1, y1, rgb);
	draw_fill(im, x0, y0, x0 + t, y1, rgb);
	draw_fill(im, x1 - t, y0, x1, y1, rgb);
}

/* stb_easy_font knows ASCII 32..126 only: anything else prints as '?'. */
static void printable(const char *text, char *out, size_t cap)
{
	size_t i = 0;

	for (; text[i] && i + 1 < cap; i++)
		out[i] = (text[i] >= 32 && text[i] < 127) || text[i] == '\n' ? text[i] : '?';
	out[i] = 0;
}

int draw_text_width(const char *text)
{
	char s[256];

	printable(text, s, sizeof s);
	return stb_easy_font_width(s);
}

int draw_text_height(void)
{
	return 12;
}

int draw_text(struct image *im, int x, int y, const char *text, const uint8_t rgb[3])
{
	static _Thread_local char buf[64 * 1024];
	char s[256];
	int quads;

	printable(text, s, sizeof s);
	quads = stb_easy_font_print((float)x, (float)y, s, NULL, buf, sizeof buf);

	for (int q = 0; q < quads; q++) {
		const float *v0 = (const float *)(buf + q * 64), *v2 = (const float *)(buf + q * 64 + 32);

		draw_fill(im, (int)v0[0], (int)v0[1], (int)v2[0], (int)v2[1], rgb);
	}
	return draw_text_width(text);
}

void draw_boxes(struct image *im, const struct aug_box *boxes, size_t n, const char *const *names, int nclasses)
{
	static const uint8_t black[3] = { 0, 0, 0 }, white[3] = { 255, 255, 255 };

	for (size_t k = 0; k < n; k++) {
		const struct aug_box *b = &boxes[k];
		uint8_t col[3];

		draw_class_color(b->cls, col);
		draw_rect(im, b->x0, b->y0, b->x1, b->y1, col, 1);
	}
	for (size_t k = 0; k < n; k++) {
		const struct aug_box *b = &boxes[k];
		char label[64];
		uint8_t col[3];
		int w, x = (int)floorf(b->x0), y = (int)floorf(b->y0) - draw_text_height();

		if (names && b->cls >= 0 && b->cls < nclasses)
			snprintf(label, sizeof label, "%s", names[b->cls]);
		else
			snprintf(label, sizeof label, "%d", (int)b->cls);
		draw_class_color(b->cls, col);
		w = draw_text_width(label);
		if (y < 0)
			y = (int)floorf(b->y0) + 1;
		draw_fill(im, x, y, x + w + 2, y + draw_text_height() - 1, col);
		/* dark text on light colours, light text on dark ones */
		draw_text(im, x + 1, y + 1, label,
			col[0] * 299 + col[1] * 587 + col[2] * 114 > 140000 ? black : white);
	}
}
