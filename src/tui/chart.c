/* chart.c: braille line charts and sparklines drawn into cells.
 *
 * The plot area of W x H cells is a dot grid of 2W x 4H; a point (x, y)
 * goes to dot column round((x - xmin) / (xmax - xmin) * (2W - 1)) and dot
 * row round((ymax - y) / (ymax - ymin) * (4H - 1)); consecutive points are
 * joined with Bresenham's line. A cell shows U+2800 + its dot bits in the
 * colour of the last series that set one of them. */
#include "tui/chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Braille dot bits by (dot column, dot row) within a cell. */
static const uint8_t braille_bit[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };

void chart_ema(const double *y, int n, double w, double *out)
{
	double s = 0, norm = 0;

	for (int i = 0; i < n; i++) {
		if (isnan(y[i])) {
			out[i] = NAN;
			continue;
		}
		s = w * s + (1 - w) * y[i];
		norm = w * norm + (1 - w);
		out[i] = s / norm;
	}
}

void chart_tick_label(double v, char *buf, int size)
{
	double a = fabs(v);

	if (v == 0)
		snprintf(buf, (size_t)size, "0");
	else if (a >= 1e6)
		snprintf(buf, (size_t)size, "%.3gM", v / 1e6);
	else if (a >= 1e4)
		snprintf(buf, (size_t)size, "%.3gk", v / 1e3);
	else if (a < 1e-3)
		snprintf(buf, (size_t)size, "%.1e", v);
	else if (a >= 1e3)
		snprintf(buf, (size_t)size, "%.0f", v); /* 1180, not 1.18e+03 (steps) */
	else
		snprintf(buf, (size_t)size, "%.3g", v);
}

struct plot {
	int w, h;       /* cells */
	uint8_t *bits;  /* series dots per cell */
	uint8_t *mbits; /* mark dots per cell */
	uint32_t *color;
	double xmin, xmax, ymin, ymax;
};

static void dot(struct plot *p, int dx, int dy, uint32_t color, int mark)
{
	int cx, cy;

	if (dx < 0 || dy < 0 || dx >= 2 * p->w || dy >= 4 * p->h)
		return;
	cx = dx / 2, cy = dy / 4;
	if (mark) {
		p->mbits[cy * p->w + cx] |= braille_bit[dx % 2][dy % 4];
	} else {
		p->bits[cy * p->w + cx] |= braille_bit[dx % 2][dy % 4];
		p->color[cy * p->w + cx] = color;
	}
}

static int to_dx(const struct plot *p, double x)
{
	double span = p->xmax - p->xmin;

	return (int)lround(span > 0 ? (x - p->xmin) / span * (2 * p->w - 1) : 0);
}

static int to_dy(const struct plot *p, double y)
{
	return (int)lround((p->ymax - y) / (p->ymax - p->ymin) * (4 * p->h - 1));
}

/* Bresenham from (x0, y0) to (x1, y1); *count numbers the dots so a dashed
 * line shows 3 of every 6. */
static void line(struct plot *p, int x0, int y0, int x1, int y1, uint32_t color, int dashed, int *count)
{
	int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
	int err = dx + dy;

	for (;;) {
		if (!dashed || (*count / 3) % 2 == 0)
			dot(p, x0, y0, color, 0);
		(*count)++;
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * err;

		if (e2 >= dy)
			err += dy, x0 += sx;
		if (e2 <= dx)
			err += dx, y0 += sy;
	}
}

/* The values a series is drawn with: smoothed, log10'd. malloc'd. */
static double *series_values(const struct chart_series *s, const struct chart_opts *o)
{
	double *v = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *v);

	if (v == NULL)
		return NULL;
	if (o->smooth > 0) {
		/* the future (dashed) part of a series is a plan: never smoothed */
		int n = s->dashed_from >= 0 && s->dashed_from < s->n ? s->dashed_from : s->n;

		chart_ema(s->y, n, o->smooth, v);
		for (int i = n; i < s->n; i++)
			v[i] = s->y[i];
	} else {
		memcpy(v, s->y, (size_t)s->n * sizeof *v);
	}
	if (o->logy)
		for (int i = 0; i < s->n; i++)
			v[i] = v[i] > 0 ? log10(v[i]) : NAN;
	return v;
}

static uint32_t dim_color(uint32_t c)
{
	return CELL_RGB(CELL_R(c) / 2 + 40, CELL_G(c) / 2 + 40, CELL_B(c) / 2 + 40);
}

static void draw_series(struct plot *p, const struct chart_series *s, const double *v, uint32_t color)
{
	int have = 0, px = 0, py = 0, count = 0;

	for (int i = 0; i < s->n; i++) {
		int qx, qy, dashed;

		if (isnan(v[i]) || isnan(s->x[i])) {
			have = 0;
			continue;
		}
		qx = to_dx(p, s->x[i]), qy = to_dy(p, v[i]);
		dashed = s->dashed_from >= 0 && i > s->dashed_from;
		if (have)
			line(p, px, py, qx, qy, color, dashed, &count);
		else
			dot(p, qx, qy, color, 0);
		have = 1, px = qx, py = qy;
	}
}

void chart_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct chart_series *s, int ns,
	const struct chart_opts *o)
{
	static const struct chart_opts none = { 0 };
	char lab[5][16];
	double *vals[16] = { 0 };
	int lw = 0, nlab, h = rows - 2, legend_x;
	struct plot p = { 0 };
	uint32_t axis = CELL_RGB(128, 128, 128);

	if (o == NULL)
		o = &none;
	if (ns > 16)
		ns = 16;
	if (rows < 4 || cols < 16) {
		cells_text(cb, y0, x0, "(too small)", axis, CELL_DEFAULT, 0, cols);
		return;
	}
	/* the ranges, over what is drawn */
	p.xmin = p.ymin = INFINITY;
	p.xmax = p.ymax = -INFINITY;
	for (int k = 0; k < ns; k++) {
		vals[k] = series_values(&s[k], o);
		if (vals[k] == NULL)
			continue;
		for (int i = 0; i < s[k].n; i++) {
			if (isnan(s[k].x[i]))
				continue;
			p.xmin = fmin(p.xmin, s[k].x[i]), p.xmax = fmax(p.xmax, s[k].x[i]);
			if (isfinite(vals[k][i]))
				p.ymin = fmin(p.ymin, vals[k][i]), p.ymax = fmax(p.ymax, vals[k][i]);
			/* the raw values set the range too when smoothing (drawn dim) */
			if (o->smooth > 0 && isfinite(s[k].y[i]) && (!o->logy || s[k].y[i] > 0)) {
				double r = o->logy ? log10(s[k].y[i]) : s[k].y[i];

				p.ymin = fmin(p.ymin, r), p.ymax = fmax(p.ymax, r);
			}
		}
	}
	/* title and legend */
	legend_x = x0;
	if (o->title)
		legend_x += cells_text(cb, y0, legend_x, o->title, CELL_DEFAULT, CELL_DEFAULT, CELL_BOLD, cols) + 1;
	for (int k = 0; k < ns; k++) {
		char item[96], last[16] = "";
		int room = x0 + cols - legend_x;

		for (int i = s[k].n - 1; i >= 0 && vals[k]; i--) {
			if (s[k].dashed_from >= 0 && i > s[k].dashed_from)
				continue;
			if (!isnan(vals[k][i])) {
				chart_tick_label(o->logy ? pow(10, vals[k][i]) : vals[k][i], last, sizeof last);
				break;
			}
		}
		snprintf(item, sizeof item, "%s %s", s[k].name ? s[k].name : "?", last);
		if (room < 4)
			break;
		cells_text(cb, y0, legend_x, o->ascii ? "-" : "\xe2\x94\x81", s[k].color, CELL_DEFAULT, 0, 1);
		legend_x += 4 + cells_text(cb, y0, legend_x + 2, item, CELL_DEFAULT, CELL_DEFAULT, 0, room - 2);
	}
	if (!isfinite(p.xmin) || !isfinite(p.ymin)) {
		cells_text(cb, y0 + rows / 2, x0 + 2, "(no data yet)", axis, CELL_DEFAULT, 0, cols - 2);
		goto out;
	}
	if (p.ymax - p.ymin < 1e-12 * fmax(1.0, fabs(p.ymax))) {
		double pad = o->logy ? 0.5 : fmax(fabs(p.ymax) * 0.1, 0.5);

		p.ymin -= pad, p.ymax += pad;
	}
	/* y labels: top, bottom, and between as rows allow */
	nlab = h >= 9 ? 5 : h >= 5 ? 3 : 2;
	for (int i = 0; i < nlab; i++) {
		double v = p.ymax - (p.ymax - p.ymin) * i / (nlab - 1);
		int len;

		chart_tick_label(o->logy ? pow(10, v) : v, lab[i], sizeof lab[i]);
		len = (int)strlen(lab[i]);
		lw = len > lw ? len : lw;
	}
	p.w = cols - lw - 1, p.h = h;
	p.bits = calloc((size_t)(p.w * p.h), 1);
	p.mbits = calloc((size_t)(p.w * p.h), 1);
	p.color = calloc((size_t)(p.w * p.h), sizeof *p.color);
	if (p.bits == NULL || p.mbits == NULL || p.color == NULL)
		goto out;
	for (int i = 0; i < nlab; i++) {
		int row = y0 + 1 + (int)lround((double)(h - 1) * i / (nlab - 1));
		int len = (int)strlen(lab[i]);

		cells_text(cb, row, x0 + lw - len, lab[i], axis, CELL_DEFAULT, 0, -1);
		cells_text(cb, row, x0 + lw, o->ascii ? "+" : "\xe2\x94\xa4", axis, CELL_DEFAULT, 0, 1);
	}
	for (int r = 0; r < h; r++) {
		struct cell *c = cells_at(cb, y0 + 1 + r, x0 + lw);

		if (c && c->cp == ' ')
			cells_text(cb, y0 + 1 + r, x0 + lw, o->ascii ? "|" : "\xe2\x94\x82", axis, CELL_DEFAULT, 0, 1);
	}
	/* marks, then the raw series dimmed (when smoothing), then the series */
	for (int i = 0; i < o->nmarks; i++) {
		int dx = to_dx(&p, o->marks[i]);

		if (o->marks[i] < p.xmin || o->marks[i] > p.xmax)
			continue;
		for (int dy = 0; dy < 4 * p.h; dy += 2)
			dot(&p, dx, dy, 0, 1);
	}
	if (o->smooth > 0)
		for (int k = 0; k < ns; k++) {
			struct chart_opts raw = *o;
			double *rv;

			raw.smooth = 0;
			if ((rv = series_values(&s[k], &raw)) != NULL) {
				draw_series(&p, &s[k], rv, dim_color(s[k].color));
				free(rv);
			}
		}
	for (int k = 0; k < ns; k++)
		if (vals[k])
			draw_series(&p, &s[k], vals[k], s[k].color);
	for (int cy = 0; cy < p.h; cy++)
		for (int cx = 0; cx < p.w; cx++) {
			uint8_t b = p.bits[cy * p.w + cx], mb = p.mbits[cy * p.w + cx];
			int y = y0 + 1 + cy, x = x0 + lw + 1 + cx;

			if (b)
				cells_put(cb, y, x, o->ascii ? '*' : 0x2800u + b, p.color[cy * p.w + cx], CELL_DEFAULT, 0);
			else if (mb)
				cells_put(cb, y, x, o->ascii ? ':' : 0x2800u + mb,
					o->mark_color ? o->mark_color : CELL_RGB(200, 160, 40), CELL_DEFAULT, 0);
		}
	/* the x axis: corner, rule, tick labels at the ends and the middle */
	{
		int y = y0 + rows - 1, n, mid_cell;
		double mid;
		char xl[3][16];
		int at[3];

		cells_text(cb, y, x0 + lw, o->ascii ? "+" : "\xe2\x94\x94", axis, CELL_DEFAULT, 0, 1);
		for (int x = 0; x < p.w; x++)
			cells_text(cb, y, x0 + lw + 1 + x, o->ascii ? "-" : "\xe2\x94\x80", axis, CELL_DEFAULT, 0, 1);
		chart_tick_label(p.xmin, xl[0], sizeof xl[0]);
		mid = (p.xmin + p.xmax) / 2;
		if (o->xint)
			mid = round(mid);
		chart_tick_label(mid, xl[1], sizeof xl[1]);
		chart_tick_label(p.xmax, xl[2], sizeof xl[2]);
		at[0] = x0 + lw + 1;
		mid_cell = p.xmax > p.xmin ? (int)lround((mid - p.xmin) / (p.xmax - p.xmin) * (p.w - 1)) : p.w / 2;
		at[1] = x0 + lw + 1 + mid_cell - (int)strlen(xl[1]) / 2;
		at[2] = x0 + lw + 1 + p.w - (int)strlen(xl[2]);
		n = p.xmax <= p.xmin ? 1 : p.w >= 24 ? 3 : 2; /* one point: one label */
		for (int i = 0; i < 3; i++) {
			if ((n == 2 && i == 1) || (n == 1 && i > 0))
				continue;
			cells_text(cb, y, at[i], xl[i], axis, CELL_DEFAULT, 0, -1);
		}
		if (o->xlabel && p.w >= 30)
			cells_text(cb, y, at[2] - (int)strlen(o->xlabel) - 2, o->xlabel, axis, CELL_DEFAULT, 0, -1);
	}
out:
	for (int k = 0; k < ns; k++)
		free(vals[k]);
	free(p.bits);
	free(p.mbits);
	free(p.color);
}

int sparkline(const double *v, int n, int width, char *out, int size)
{
	double lo = INFINITY, hi = -INFINITY;
	int first = n > width ? n - width : 0, len = 0, cells = 0;

	for (int i = first; i < n; i++)
		if (!isnan(v[i]))
			lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
	for (int i = first; i < n && len + 4 < size; i++) {
		if (isnan(v[i])) {
			out[len++] = ' ';
		} else {
			int level = hi > lo ? (int)lround((v[i] - lo) / (hi - lo) * 7) : 3;

			len += cell_utf8(0x2581u + (unsigned)level, out + len);
		}
		cells++;
	}
	out[len] = '\0';
	return cells;
}
