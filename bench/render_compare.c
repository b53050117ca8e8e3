/* render_compare.c: the samples panel's half-block renderer (tui/imgview.h)
 * beside Debian's libchafa on the same Fashion scenes: fidelity (PSNR of
 * the cells re-rasterised at 2x6 sub-pixels per cell against the source
 * area-resampled to the same grid) and time per image. Chafa is asked for
 * half blocks (the same symbols), blocks+quadrants, and sextants, in
 * truecolor. Built by `make bench` when pkg-config finds chafa.
 *
 *   bench/render_compare [IMAGES=64] [COLS=56] [ROWS=28]
 *
 * PSNR = 10 log10(255^2 / MSE), MSE over all sub-pixels and channels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <chafa.h>

#include "data/dataset.h"
#include "data/fashion.h"
#include "data/imageio.h"
#include "tui/cells.h"
#include "tui/imgview.h"

#define SUBW 2
#define SUBH 6

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Coverage of sub-pixel (sx, sy) of a SUBW x SUBH cell by symbol cp's
 * foreground: 1, 0, or -1 when the symbol is not one we know. */
static int covered(uint32_t cp, int sx, int sy)
{
	int top = sy < SUBH / 2, left = sx == 0;

	switch (cp) {
	case ' ': return 0;
	case 0x2588: return 1;                 /* █ */
	case 0x2580: return top;               /* ▀ */
	case 0x2584: return !top;              /* ▄ */
	case 0x258c: return left;              /* ▌ */
	case 0x2590: return !left;             /* ▐ */
	case 0x2598: return top && left;       /* ▘ */
	case 0x259d: return top && !left;      /* ▝ */
	case 0x2596: return !top && left;      /* ▖ */
	case 0x2597: return !top && !left;     /* ▗ */
	case 0x259a: return top == left;       /* ▚ */
	case 0x259e: return top != left;       /* ▞ */
	case 0x2599: return !(top && !left);   /* ▙ */
	case 0x259b: return !(!top && !left);  /* ▛ */
	case 0x259c: return !(!top && left);   /* ▜ */
	case 0x259f: return !(top && left);    /* ▟ */
	default: break;
	}
	if (cp >= 0x1fb00 && cp <= 0x1fb3b) {
		/* sextants: patterns 1..62 without 21 (▌) and 42 (▐); bit 2*row + col */
		int p = (int)(cp - 0x1fb00) + 1;

		if (p >= 21)
			p++;
		if (p >= 42)
			p++;
		return (p >> (2 * (sy / 2) + sx)) & 1;
	}
	return -1;
}

struct grid {
	int cols, rows;
	uint32_t *cp, *fg, *bg; /* 0xRRGGBB */
};

/* Re-rasterises a grid into out (cols*SUBW x rows*SUBH RGB); counts unknown symbols. */
static void rasterise(const struct grid *g, uint8_t *out, int *unknown)
{
	int w = g->cols * SUBW;

	for (int r = 0; r < g->rows; r++)
		for (int c = 0; c < g->cols; c++) {
			int i = r * g->cols + c;

			for (int sy = 0; sy < SUBH; sy++)
				for (int sx = 0; sx < SUBW; sx++) {
					int cov = covered(g->cp[i], sx, sy);
					uint32_t col;
					uint8_t *p = out + ((size_t)(r * SUBH + sy) * (size_t)w + (size_t)(c * SUBW + sx)) * 3;

					if (cov < 0) {
						(*unknown)++;
						/* an unknown symbol: half fg, half bg */
						col = ((((g->fg[i] >> 16) & 255) + ((g->bg[i] >> 16) & 255)) / 2) << 16 |
						      ((((g->fg[i] >> 8) & 255) + ((g->bg[i] >> 8) & 255)) / 2) << 8 |
						      (((g->fg[i] & 255) + (g->bg[i] & 255)) / 2);
					} else {
						col = cov ? g->fg[i] : g->bg[i];
					}
					p[0] = (uint8_t)(col >> 16), p[1] = (uint8_t)(col >> 8), p[2] = (uint8_t)col;
				}
		}
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
	double se = 0;

	for (size_t i = 0; i < n; i++) {
		double d = (double)a[i] - (double)b[i];

		se += d * d;
	}
	se /= (double)n;
	return se > 0 ? 10 * log10(255.0 * 255.0 / se) : 99;
}

static void grid_alloc(struct grid *g, int cols, int rows)
{
	g->cols = cols, g->rows = rows;
	g->cp = calloc((size_t)(cols * rows), sizeof *g->cp);
	g->fg = calloc((size_t)(cols * rows), sizeof *g->fg);
	g->bg = calloc((size_t)(cols * rows), sizeof *g->bg);
}

static void grid_free(struct grid *g)
{
	free(g->cp);
	free(g->fg);
	free(g->bg);
}

/* Ours: img_draw into exactly cols x rows (the image's aspect matches). */
static void render_ours(const struct image *im, struct grid *g)
{
	struct cells cb;
	struct img_opts o = { .mode = CELL_MODE_TRUE, .zoom = -1 };

	cells_init(&cb, g->rows, g->cols);
	img_draw(&cb, 0, 0, g->rows, g->cols, im, NULL, 0, &o);
	for (int i = 0; i < g->cols * g->rows; i++) {
		g->cp[i] = cb.c[i].cp;
		g->fg[i] = cb.c[i].fg & 0xffffff;
		g->bg[i] = cb.c[i].bg & 0xffffff;
	}
	cells_fini(&cb);
}

static void render_chafa(const struct image *im, struct grid *g, ChafaSymbolTags tags)
{
	ChafaSymbolMap *sm = chafa_symbol_map_new();
	ChafaCanvasConfig *cfg = chafa_canvas_config_new();
	ChafaCanvas *cv;

	chafa_symbol_map_add_by_tags(sm, tags);
	chafa_canvas_config_set_geometry(cfg, g->cols, g->rows);
	chafa_canvas_config_set_canvas_mode(cfg, CHAFA_CANVAS_MODE_TRUECOLOR);
	chafa_canvas_config_set_symbol_map(cfg, sm);
	chafa_canvas_config_set_work_factor(cfg, 1.0f);
	cv = chafa_canvas_new(cfg);
	chafa_canvas_draw_all_pixels(cv, CHAFA_PIXEL_RGB8, im->data, im->width, im->height, im->width * 3);
	for (int r = 0; r < g->rows; r++)
		for (int c = 0; c < g->cols; c++) {
			gint fg, bg;

			g->cp[r * g->cols + c] = chafa_canvas_get_char_at(cv, c, r);
			chafa_canvas_get_colors_at(cv, c, r, &fg, &bg);
			g->fg[r * g->cols + c] = (uint32_t)fg & 0xffffff;
			g->bg[r * g->cols + c] = (uint32_t)bg & 0xffffff;
		}
	chafa_canvas_unref(cv);
	chafa_canvas_config_unref(cfg);
	chafa_symbol_map_unref(sm);
}

int main(int argc, char **argv)
{
	int nimages = argc > 1 ? atoi(argv[1]) : 64, cols = argc > 2 ? atoi(argv[2]) : 56,
	    rows = argc > 3 ? atoi(argv[3]) : 28;
	struct fashion_config fc;
	struct dataset *ds;
	const char *names[4] = { "ours: half blocks", "chafa: half blocks", "chafa: blocks+quadrants", "chafa: sextants" };
	ChafaSymbolTags tags[4] = { 0, CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID | CHAFA_SYMBOL_TAG_HALF,
		CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID | CHAFA_SYMBOL_TAG_HALF | CHAFA_SYMBOL_TAG_QUAD,
		CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID | CHAFA_SYMBOL_TAG_HALF | CHAFA_SYMBOL_TAG_SEXTANT };
	double sum_psnr[4] = { 0 }, sum_t[4] = { 0 };
	int unknown[4] = { 0 };
	int w = cols * SUBW, h = rows * SUBH;
	uint8_t *raster = malloc((size_t)w * (size_t)h * 3);
	struct image ref = { 0 };

	fashion_config_default(&fc);
	fc.split = FASHION_TEST;
	fc.images = (size_t)nimages;
	fc.size = 128;
	if (fashion_dataset_new(&fc, &ds) != 0) {
		fprintf(stderr, "render_compare: no Fashion scenes (%s)\n", "dataset-fashion-mnist missing?");
		return 1;
	}
	image_init(&ref, w, h, 3);
	printf("render_compare: %d Fashion scenes of 128x128 into %dx%d cells, truecolor; PSNR of the cells "
	       "re-rasterised at %dx%d sub-pixels per cell vs the source area-resampled to %dx%d\n",
		nimages, cols, rows, SUBW, SUBH, w, h);
	for (int i = 0; i < nimages; i++) {
		struct image im = { 0 };

		if (ds->render(ds, (size_t)i, &im) != 0)
			continue;
		imageio_resize(&im, &ref, IMAGEIO_AREA);
		for (int k = 0; k < 4; k++) {
			struct grid g;
			double t0;

			grid_alloc(&g, cols, rows);
			t0 = now();
			if (k == 0)
				render_ours(&im, &g);
			else
				render_chafa(&im, &g, tags[k]);
			sum_t[k] += now() - t0;
			rasterise(&g, raster, &unknown[k]);
			sum_psnr[k] += psnr(raster, ref.data, (size_t)w * (size_t)h * 3);
			grid_free(&g);
		}
		image_fini(&im);
	}
	printf("%-26s %10s %12s %10s\n", "renderer", "PSNR dB", "ms/image", "unknown");
	for (int k = 0; k < 4; k++)
		printf("%-26s %10.2f %12.3f %10d\n", names[k], sum_psnr[k] / nimages, 1e3 * sum_t[k] / nimages, unknown[k]);
	image_fini(&ref);
	free(raster);
	dataset_free(ds);
	return 0;
}
