/* test_widgets.c: the screen's widgets rendered into a cell grid and read
 * back as text: braille chart (axes, ticks, legend, marks, dashed future,
 * EMA, log scale), sparkline, the AP table (columns, sorting, worst rows,
 * narrow widths) and the half-block image renderer (colours, mono dither,
 * boxes, labels, zoom). Exact expected text where the layout is fixed. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "tui/aptable.h"
#include "tui/cells.h"
#include "tui/chart.h"
#include "tui/imgview.h"
#include "tui/text.h"

static char *text_of(struct cells *cb)
{
	static char *last;

	free(last);
	last = cells_to_text(cb);
	return last;
}

static const char *line_of(struct cells *cb, int y)
{
	static char buf[2048];
	char *t = text_of(cb), *p = t;

	for (int i = 0; i < y && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL)
		return "";
	size_t n = strcspn(p, "\n");

	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void test_sparkline(void)
{
	double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, flat[] = { 2, 2, 2 }, gap[] = { 1, NAN, 3 };
	char out[64];
	int n = sparkline(v, 8, 8, out, sizeof out);

	ok(n == 8 && strcmp(out, "▁▂▃▄▅▆▇█") == 0, "sparkline of a ramp ('%s')", out);
	sparkline(v, 8, 4, out, sizeof out);
	ok(strcmp(out, "▁▃▆█") == 0, "the last 4 values rescaled ('%s')", out);
	sparkline(flat, 3, 8, out, sizeof out);
	ok(strcmp(out, "▄▄▄") == 0, "flat values sit in the middle ('%s')", out);
	sparkline(gap, 3, 8, out, sizeof out);
	ok(strcmp(out, "▁ █") == 0, "a NaN is a gap ('%s')", out);
}

static void test_chart(void)
{
	struct cells cb;
	double x[5] = { 0, 1, 2, 3, 4 }, y[5] = { 4, 3, 2, 1, 0 }, mark = 2;
	struct chart_series s = { "loss", x, y, 5, CELL_RGB(255, 0, 0), -1 };
	struct chart_opts o = { .title = "train" };
	char lab[16];

	cells_init(&cb, 6, 24);
	chart_draw(&cb, 0, 0, 6, 24, &s, 1, &o);

	ok(strcmp(line_of(&cb, 0), "train ━ loss 0") == 0, "title and legend with the last value ('%s')", line_of(&cb, 0));
	ok(strcmp(line_of(&cb, 1), "4┤⠉⠒⠢⢄⣀") == 0, "top tick label and the line's start ('%s')", line_of(&cb, 1));
	ok(strcmp(line_of(&cb, 3), " │          ⠈⠉⠒⠢⠤⢄⣀") == 0, "two labels at 4 rows, the line goes on ('%s')", line_of(&cb, 3));
	ok(strcmp(line_of(&cb, 4), "0┤                 ⠉⠑⠢⠤⣀") == 0, "bottom tick label ('%s')", line_of(&cb, 4));
	ok(strcmp(line_of(&cb, 5), " └0────────────────────4") == 0, "x axis with end ticks ('%s')", line_of(&cb, 5));
	{
		/* the line reaches the bottom-right dot: cell (4, 23), dot column 1, row 3 = 0x80 */
		struct cell *c = cells_at(&cb, 4, 23);

		ok(c && (c->cp & 0x80) && c->fg == CELL_RGB(255, 0, 0), "the last point in the last cell, in colour (U+%04X)",
			c ? c->cp : 0);
	}
	cells_fini(&cb);

	/* a mark, and a dashed future */
	{
		double fx[9] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 }, fy[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
		struct chart_series f = { "lr", fx, fy, 9, CELL_RGB(0, 255, 0), 2 };
		struct chart_opts mo = { .marks = &mark, .nmarks = 1, .mark_color = CELL_RGB(1, 2, 3) };
		int solid = 0, dashed_gaps = 0, marks = 0;

		cells_init(&cb, 10, 40);
		chart_draw(&cb, 0, 0, 10, 40, &f, 1, &mo);
		for (int r = 1; r < 9; r++)
			for (int c = 0; c < 40; c++) {
				struct cell *k = cells_at(&cb, r, c);

				if (k->fg == CELL_RGB(1, 2, 3))
					marks++;
			}
		/* the flat line sits in one row: find it */
		for (int r = 1; r < 9; r++) {
			int on = 0, first_gap = -1;

			for (int c = 0; c < 40; c++) {
				struct cell *k = cells_at(&cb, r, c);

				if (k->fg == CELL_RGB(0, 255, 0) && k->cp >= 0x2800 && k->cp < 0x2900)
					on++;
				else if (on && first_gap < 0 && c < 39)
					first_gap = c;
			}
			if (on) {
				solid = on;
				dashed_gaps = first_gap;
			}
		}
		ok(marks >= 6, "the mark is a dotted vertical line (%d cells)", marks);
		ok(solid > 0 && solid < 36 && dashed_gaps > 0, "the future is dashed (%d cells drawn, first gap at %d)", solid,
			dashed_gaps);
		cells_fini(&cb);
	}
	/* log scale labels */
	{
		double ly[3] = { 1e-4, 1e-2, 1 }, lx[3] = { 0, 1, 2 };
		struct chart_series l = { "lr", lx, ly, 3, CELL_RGB(0, 0, 255), -1 };
		struct chart_opts lo = { .logy = 1 };

		cells_init(&cb, 7, 30);
		chart_draw(&cb, 0, 0, 7, 30, &l, 1, &lo);
		ok(strncmp(line_of(&cb, 1), "      1┤", strlen("      1┤")) == 0, "log scale: top label 1 ('%s')", line_of(&cb, 1));
		ok(strncmp(line_of(&cb, 3), "   0.01┤", strlen("   0.01┤")) == 0, "log scale: middle label 0.01 ('%s')",
			line_of(&cb, 3));
		ok(strncmp(line_of(&cb, 5), "1.0e-04┤", strlen("1.0e-04┤")) == 0, "log scale: bottom label 1e-4 ('%s')",
			line_of(&cb, 5));
		cells_fini(&cb);
	}
	/* EMA */
	{
		double in[4] = { 1, 0, 0, 0 }, out[4];

		chart_ema(in, 4, 0.5, out);
		tap_close(out[0], 1.0, 0, 1e-12);
		tap_close(out[1], 0.5 / 1.5, 0, 1e-12);
		tap_close(out[3], 0.125 / 1.875, 0, 1e-12);
	}
	chart_tick_label(0.0031, lab, sizeof lab);
	ok(strcmp(lab, "0.0031") == 0, "tick label 0.0031 ('%s')", lab);
	chart_tick_label(12000, lab, sizeof lab);
	ok(strcmp(lab, "12k") == 0, "tick label 12k ('%s')", lab);
	chart_tick_label(1180, lab, sizeof lab);
	ok(strcmp(lab, "1180") == 0, "tick label 1180, not 1.18e+03 ('%s')", lab);
	/* one point: one x label, not the same number three times */
	{
		double x1[1] = { 1062 }, y1[1] = { 0.349 };
		struct chart_series one = { "AP", x1, y1, 1, CELL_RGB(255, 0, 0), -1 };
		const char *t;

		cells_init(&cb, 8, 40);
		chart_draw(&cb, 0, 0, 8, 40, &one, 1, NULL);
		t = text_of(&cb);
		ok(strstr(t, "1062") != NULL && strstr(strstr(t, "1062") + 4, "1062") == NULL,
		   "a single evaluation: its step once on the x axis");
		cells_fini(&cb);
	}
	/* steps 1..172: the middle tick is a whole step (87), not 86.5 */
	{
		double xs[2] = { 1, 172 }, ys[2] = { 2.0, 1.0 };
		struct chart_series two = { "loss", xs, ys, 2, CELL_RGB(255, 0, 0), -1 };
		struct chart_opts so = { .xlabel = "step", .xint = 1 };
		const char *t;

		cells_init(&cb, 8, 60);
		chart_draw(&cb, 0, 0, 8, 60, &two, 1, &so);
		t = text_of(&cb);
		ok(strstr(t, "86.5") == NULL && strstr(t, "87") != NULL, "an integer x axis: middle tick 87, not 86.5");
		cells_fini(&cb);
	}
	/* no data */
	{
		struct chart_series e = { "loss", x, y, 0, CELL_RGB(255, 0, 0), -1 };

		cells_init(&cb, 6, 30);
		chart_draw(&cb, 0, 0, 6, 30, &e, 1, NULL);
		ok(strstr(text_of(&cb), "(no data yet)") != NULL, "an empty chart says so");
		cells_fini(&cb);
	}
}

static void test_aptable(void)
{
	double h1[3] = { 0.1, 0.3, 0.5 }, h2[2] = { 0.2, 0.1 };
	struct ap_row rows[3] = {
		{ "Shirt", 0.1, 0.3, 0.05, 40, 55, -0.1, h2, 2 },
		{ "Bag", 0.5, 0.8, 0.5, 30, 31, 0.2, h1, 3 },
		{ "Sneaker", 0.75, 0.9, 0.8, 20, 22, NAN, NULL, 0 },
	};
	struct ap_opts o = { .sort = AP_COL_AP, .desc = 1, .worst = 1 };
	struct cells cb;

	ap_rows_sort(rows, 3, AP_COL_AP, 1);
	ok(strcmp(rows[0].name, "Sneaker") == 0 && strcmp(rows[2].name, "Shirt") == 0, "sorted by AP, largest first");
	cells_init(&cb, 5, 80);
	ap_table_draw(&cb, 0, 0, 5, 80, rows, 3, &o);
	ok(strcmp(line_of(&cb, 0), "class              AP▼  AP50  AP75    GT  pred                        Δ history") == 0,
		"header, the sort column marked ('%s')", line_of(&cb, 0));
	ok(strcmp(line_of(&cb, 1), "Sneaker          0.750 0.900 0.800    20    22 ████████████▊····") == 0,
		"a row: numbers and a bar of 3/4 ('%s')", line_of(&cb, 1));
	ok(strcmp(line_of(&cb, 2), "Bag              0.500 0.800 0.500    30    31 ████████▌········ +0.200 ▁▄█") == 0,
		"a row with its delta and history ('%s')", line_of(&cb, 2));
	ok(strcmp(line_of(&cb, 3), "Shirt            0.100 0.300 0.050    40    55 █▊··············· -0.100 █▁") == 0,
		"the worst row ('%s')", line_of(&cb, 3));
	ok(cells_at(&cb, 3, 0)->fg != CELL_DEFAULT && (cells_at(&cb, 3, 0)->attr & CELL_BOLD),
		"the worst class is highlighted");
	ok(cells_at(&cb, 1, 0)->fg == CELL_DEFAULT, "the others are not");
	cells_fini(&cb);

	cells_init(&cb, 4, 40);
	ap_rows_sort(rows, 3, AP_COL_NAME, 0);
	o.sort = AP_COL_NAME, o.desc = 0;
	ap_table_draw(&cb, 0, 0, 4, 40, rows, 3, &o);
	ok(strcmp(line_of(&cb, 0), "class▲         AP    GT  pred") == 0, "narrow: fewer columns ('%s')", line_of(&cb, 0));
	ok(strncmp(line_of(&cb, 1), "Bag", 3) == 0 && strncmp(line_of(&cb, 3), "Sneaker", 7) == 0,
		"sorted by name");
	cells_fini(&cb);
	cells_init(&cb, 2, 80);
	o.scroll = 0;
	ok(ap_table_draw(&cb, 0, 0, 2, 80, rows, 3, &o) == 1, "a short panel shows what fits");
	cells_fini(&cb);
}

static void test_image(void)
{
	struct image im;
	struct cells cb;
	struct img_box boxes[2] = {
		{ 2, 2, 6, 6, 1, 0, 0, IMG_FN },
		{ 8, 0, 16, 8, 2, 0.87f, 1, IMG_FP },
	};
	const char *names[3] = { "a", "Shirt", "Bag" };
	struct img_opts o = { .mode = CELL_MODE_TRUE, .zoom = -1, .names = names, .nnames = 3 };

	image_init(&im, 16, 8, 3);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 16; x++) {
			uint8_t *p = im.data + (y * 16 + x) * 3;

			p[0] = (uint8_t)(y < 4 ? 200 : 10), p[1] = 20, p[2] = (uint8_t)(x * 16);
		}
	cells_init(&cb, 4, 16);
	img_draw(&cb, 0, 0, 4, 16, &im, NULL, 0, &o);
	{
		struct cell *c = cells_at(&cb, 0, 3);

		ok(c->cp == 0x2580 && c->fg == CELL_RGB(200, 20, 48) && c->bg == CELL_RGB(200, 20, 48),
			"1:1 — the cell's top and bottom pixels (fg %06x)", c->fg & 0xffffff);
		c = cells_at(&cb, 2, 0);
		ok(c->fg == CELL_RGB(10, 20, 0), "the lower half of the image");
	}
	{
		struct image back;
		int same = 1;

		img_cells_rasterise(&cb, &back);
		same = back.width == 16 && back.height == 8 && memcmp(back.data, im.data, 16 * 8 * 3) == 0;
		ok(same, "at 1:1 the cells re-rasterise to the source exactly");
		image_fini(&back);
	}
	cells_clear(&cb);
	o.labels = 1;
	img_draw(&cb, 0, 0, 4, 16, &im, boxes, 2, &o);
	{
		const char *t = text_of(&cb); /* one call: text_of frees the previous text */

		ok(strstr(t, "Bag 0.87") != NULL, "a prediction's label with its score:\n%s", t);
	}
	ok(cells_at(&cb, 0, 8)->bg == img_class_color(2), "the label in the class colour");
	ok(strstr(text_of(&cb), "Shirt") != NULL, "the GT label");
	{
		/* the prediction's right edge at x = 15: top pixel of row 1 */
		struct cell *c = cells_at(&cb, 1, 15);

		ok(c->fg == img_class_color(2), "the box outline in the class colour");
	}
	cells_clear(&cb);
	o.outcomes = 1;
	img_draw(&cb, 0, 0, 4, 16, &im, boxes, 2, &o);
	ok(cells_at(&cb, 1, 15)->fg == img_outcome_color(IMG_FP), "outcome mode: the FP box in red");
	ok(strstr(text_of(&cb), "(missed)") != NULL, "outcome mode: the FN is named missed");
	cells_fini(&cb);

	/* zoom: the box (2..6) with its margin fills the view */
	cells_init(&cb, 8, 16);
	o.outcomes = 0, o.labels = 0;
	{
		int box_cells[2] = { 0, 0 };

		for (int z = 0; z < 2; z++) {
			o.zoom = z ? 0 : -1;
			cells_clear(&cb);
			img_draw(&cb, 0, 0, 8, 16, &im, boxes, 2, &o);
			for (int y = 0; y < 8; y++)
				for (int x = 0; x < 16; x++)
					box_cells[z] += cells_at(&cb, y, x)->fg == img_class_color(1) ||
					                cells_at(&cb, y, x)->bg == img_class_color(1);
		}
		ok(box_cells[1] > box_cells[0], "zoomed: the box is drawn larger (%d cells, %d before)", box_cells[1], box_cells[0]);
	}
	cells_fini(&cb);

	/* monochrome: dithered half blocks, no colours */
	cells_init(&cb, 4, 16);
	memset(im.data, 255, 16 * 8 * 3);
	memset(im.data, 0, 16 * 4 * 3);
	o.mode = CELL_MODE_MONO, o.zoom = -1;
	img_draw(&cb, 0, 0, 4, 16, &im, NULL, 0, &o);
	ok(strcmp(line_of(&cb, 0), "") == 0 && strcmp(line_of(&cb, 3), "████████████████") == 0,
		"mono: black is blank, white is full blocks");
	ok(cells_at(&cb, 3, 0)->fg == CELL_DEFAULT, "mono: no colour");
	{
		memset(im.data, 128, 16 * 8 * 3);
		cells_clear(&cb);
		img_draw(&cb, 0, 0, 4, 16, &im, NULL, 0, &o);
		int on = 0;

		for (int y = 0; y < 4; y++)
			for (int x = 0; x < 16; x++) {
				uint32_t cp = cells_at(&cb, y, x)->cp;

				on += cp == 0x2588 ? 2 : cp == 0x2580 || cp == 0x2584 ? 1 : 0;
			}
		ok(on == 64, "mono: mid grey dithers to half the pixels (%d of 128)", on);
	}
	cells_fini(&cb);
	image_fini(&im);
}

static void test_colors(void)
{
	ok(cell_rgb_to_256(CELL_RGB(255, 0, 0)) == 196, "pure red is 196");
	ok(cell_rgb_to_256(CELL_RGB(128, 128, 128)) == 244, "mid grey is on the grey ramp (%d)",
		cell_rgb_to_256(CELL_RGB(128, 128, 128)));
	ok(cell_rgb_to_8(CELL_RGB(250, 240, 10)) == 3, "yellow in 8 colours");
	setenv("NO_COLOR", "1", 1);
	ok(cell_mode_detect(256) == CELL_MODE_MONO, "NO_COLOR: mono");
	unsetenv("NO_COLOR");
	setenv("COLORTERM", "truecolor", 1);
	ok(cell_mode_detect(256) == CELL_MODE_TRUE, "COLORTERM=truecolor: 24-bit");
	ok(cell_mode_detect(2) == CELL_MODE_MONO, "2 colours: mono");
	unsetenv("COLORTERM");
	ok(cell_mode_detect(256) == CELL_MODE_256 && cell_mode_detect(8) == CELL_MODE_8, "256 and 8");
	{
		struct cells cb;
		char *a;

		cells_init(&cb, 1, 2);
		cells_put(&cb, 0, 0, 0x2580, CELL_RGB(1, 2, 3), CELL_RGB(4, 5, 6), 0);
		a = cells_to_ansi(&cb, CELL_MODE_TRUE);
		ok(a && strstr(a, "\033[38;2;1;2;3m\033[48;2;4;5;6m▀") != NULL, "ANSI 24-bit form");
		free(a);
		cells_fini(&cb);
	}
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	tui_text_init();
	test_sparkline();
	test_chart();
	test_aptable();
	test_image();
	test_colors();
	return tap_done();
}
