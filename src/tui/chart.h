/* chart.h: line charts in braille (U+2800: 2x4 dots per cell) with y tick
 * labels, x ticks, a legend, several coloured series, EMA smoothing, a log
 * scale, vertical marks (a hyper-parameter changed live) and a dashed tail
 * (a schedule's future); and sparklines (▁▂▃▄▅▆▇█). Both draw into a cell
 * grid (cells.h), so they are tested without a terminal. */
#ifndef DET_TUI_CHART_H
#define DET_TUI_CHART_H

#include "tui/cells.h"

struct chart_series {
	const char *name;
	const double *x, *y; /* n points; NaN y is a gap */
	int n;
	uint32_t color;      /* CELL_RGB */
	int dashed_from;     /* points from this index on are drawn dashed (-1: none) */
};

struct chart_opts {
	const char *title;   /* drawn before the legend (NULL: none) */
	int logy;            /* log10 y axis (values <= 0 skipped) */
	double smooth;       /* EMA weight in [0, 1): s_t = w s_{t-1} + (1-w) y_t,
	                        debiased by 1 - w^t as TensorBoard does; 0: raw */
	const double *marks; /* x positions of vertical marks */
	int nmarks;
	uint32_t mark_color;
	int ascii;           /* no braille: '*' per cell (a terminal without UTF-8) */
	const char *xlabel;  /* a word after the last x tick ("step") */
	int xint;            /* x holds integers (steps): the middle tick is a
	                        whole number, placed where that number falls */
};

/* Draws the chart in the rectangle (y0, x0, rows, cols) of cb: row 0 the
 * title and legend, the last row the x ticks, the left columns the y
 * labels. Needs rows >= 4 and cols >= 16 (else writes "(too small)"). */
void chart_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct chart_series *s, int ns,
	const struct chart_opts *o);

/* The EMA of y[0..n) into out (NaNs carried through, skipped in the
 * average), weight w as in chart_opts.smooth. */
void chart_ema(const double *y, int n, double w, double *out);

/* Formats a tick value in at most 6 characters ("0.0031", "1.2e-05", "240"). */
void chart_tick_label(double v, char *buf, int size);

/* A sparkline of the last `width` values of v[0..n) (n < width: left
 * aligned), one of ▁▂▃▄▅▆▇█ per value scaled between the values' min and
 * max (NaN: ' '; all equal: ▄), written as UTF-8 into out. Returns cells. */
int sparkline(const double *v, int n, int width, char *out, int size);

#endif
