/* aptable.c: the per-class AP table widget. */
#include "tui/aptable.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/chart.h"

const char *const ap_col_names[AP_NCOLS] = { "class", "AP", "AP50", "AP75", "GT", "pred", "delta" };

static double col_value(const struct ap_row *r, int col)
{
	switch (col) {
	case AP_COL_AP: return r->ap;
	case AP_COL_AP50: return r->ap50;
	case AP_COL_AP75: return r->ap75;
	case AP_COL_GT: return (double)r->ngt;
	case AP_COL_DET: return (double)r->ndet;
	case AP_COL_DELTA: return r->delta;
	default: return 0;
	}
}

static int sort_col, sort_desc;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct ap_row *a = pa, *b = pb;
	int c = 0;

	if (sort_col == AP_COL_NAME) {
		c = strcmp(a->name, b->name);
		return sort_desc ? -c : c;
	}
	double va = col_value(a, sort_col), vb = col_value(b, sort_col);

	if (isnan(va) != isnan(vb))
		return isnan(va) ? 1 : -1;
	if (!isnan(va) && va != vb)
		c = va < vb ? -1 : 1;
	if (sort_desc)
		c = -c;
	return c ? c : strcmp(a->name, b->name);
}

void ap_rows_sort(struct ap_row *rows, int n, int col, int desc)
{
	sort_col = col, sort_desc = desc;
	qsort(rows, (size_t)n, sizeof *rows, cmp_rows);
}

/* Columns that fit: which are shown and their widths. */
struct cols {
	int name, bar, ap50, ap75, delta, spark;
};

static void fit(int cols, struct cols *c)
{
	/* name 12, AP 5, AP50 5, AP75 5, GT 5, pred 5, bar 10, delta 6, spark 8 (+ spaces) */
	c->ap50 = c->ap75 = c->delta = 1;
	c->spark = 8;
	c->bar = 10;
	c->name = 12;
	for (;;) {
		int w = c->name + 6 + (c->ap50 ? 6 : 0) + (c->ap75 ? 6 : 0) + 12 + (c->bar ? c->bar + 1 : 0) +
		        (c->delta ? 7 : 0) + (c->spark ? 9 : 0);

		if (w <= cols) {
			/* spare width widens the name, then the bar */
			int spare = cols - w;

			c->name += spare > 4 ? 4 : spare;
			spare -= spare > 4 ? 4 : spare;
			if (c->bar)
				c->bar += spare > 10 ? 10 : spare;
			return;
		}
		if (c->spark)
			c->spark = 0;
		else if (c->delta)
			c->delta = 0;
		else if (c->ap75)
			c->ap75 = 0;
		else if (c->ap50)
			c->ap50 = 0;
		else if (c->bar && c->name > 10)
			c->name--;
		else if (c->bar)
			c->bar = 0;
		else if (c->name > 6)
			c->name--;
		else
			return;
	}
}

static void num(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "%5s", "-");
	else
		snprintf(buf, size, "%5.3f", v);
}

int ap_table_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct ap_row *r, int n,
	const struct ap_opts *o)
{
	static const struct ap_opts none = { .sort = AP_COL_NAME };
	uint32_t head = CELL_RGB(128, 128, 128), bad = CELL_RGB(230, 80, 80), good = CELL_RGB(90, 200, 90);
	struct cols c;
	int x, shown = 0, *worst;

	if (o == NULL)
		o = &none;
	fit(cols, &c);
	/* header */
	{
		const char *mark = o->ascii ? (o->desc ? "v" : "^") : (o->desc ? "\xe2\x96\xbc" : "\xe2\x96\xb2");
		struct {
			int col, width, show, right;
		} h[] = {
			{ AP_COL_NAME, c.name, 1, 0 }, { AP_COL_AP, 5, 1, 1 }, { AP_COL_AP50, 5, c.ap50, 1 },
			{ AP_COL_AP75, 5, c.ap75, 1 }, { AP_COL_GT, 5, 1, 1 }, { AP_COL_DET, 5, 1, 1 },
		};

		x = x0;
		for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
			char t[32];
			int len;

			if (!h[i].show)
				continue;
			snprintf(t, sizeof t, "%s%s", ap_col_names[h[i].col], o->sort == h[i].col ? mark : "");
			len = (int)strlen(ap_col_names[h[i].col]) + (o->sort == h[i].col);
			cells_text(cb, y0, h[i].right ? x + h[i].width - len : x, t, head, CELL_DEFAULT,
				o->sort == h[i].col ? CELL_BOLD : 0, h[i].width);
			x += h[i].width + 1;
		}
		if (c.bar)
			x += c.bar + 1;
		if (c.delta) {
			char t[32];
			int len = 1 + (o->sort == AP_COL_DELTA);

			snprintf(t, sizeof t, "\xce\x94%s", o->sort == AP_COL_DELTA ? mark : "");
			cells_text(cb, y0, x + 6 - len, t, head, CELL_DEFAULT, o->sort == AP_COL_DELTA ? CELL_BOLD : 0, -1);
			x += 7;
		}
		if (c.spark)
			cells_text(cb, y0, x, "history", head, CELL_DEFAULT, 0, c.spark);
	}
	/* the worst: the o->worst lowest APs */
	worst = calloc((size_t)(n > 0 ? n : 1), sizeof *worst);
	if (worst && o->worst > 0)
		for (int k = 0; k < o->worst; k++) {
			int best = -1;

			for (int i = 0; i < n; i++)
				if (!worst[i] && !isnan(r[i].ap) && (best < 0 || r[i].ap < r[best].ap))
					best = i;
			if (best >= 0)
				worst[best] = 1;
		}
	for (int i = o->scroll; i < n && shown < rows - 1; i++, shown++) {
		const struct ap_row *row = &r[i];
		int y = y0 + 1 + shown, is_worst = worst && worst[i];
		uint32_t fg = is_worst ? bad : CELL_DEFAULT;
		char t[64];

		x = x0;
		cells_text(cb, y, x, row->name, fg, CELL_DEFAULT, is_worst ? CELL_BOLD : 0, c.name);
		x += c.name + 1;
		num(t, sizeof t, row->ap);
		cells_text(cb, y, x, t, fg, CELL_DEFAULT, is_worst ? CELL_BOLD : 0, -1);
		x += 6;
		if (c.ap50) {
			num(t, sizeof t, row->ap50);
			cells_text(cb, y, x, t, CELL_DEFAULT, CELL_DEFAULT, 0, -1);
			x += 6;
		}
		if (c.ap75) {
			num(t, sizeof t, row->ap75);
			cells_text(cb, y, x, t, CELL_DEFAULT, CELL_DEFAULT, 0, -1);
			x += 6;
		}
		snprintf(t, sizeof t, "%5ld %5ld", row->ngt, row->ndet);
		cells_text(cb, y, x, t, CELL_DEFAULT, CELL_DEFAULT, 0, -1);
		x += 12;
		if (c.bar) {
			/* eighths of a cell: ▏▎▍▌▋▊▉█ */
			int eighths = isnan(row->ap) ? 0 : (int)lround(fmin(fmax(row->ap, 0), 1) * c.bar * 8);
			uint32_t bc = is_worst ? bad : CELL_RGB(80, 150, 230);

			for (int k = 0; k < c.bar; k++) {
				int e = eighths - 8 * k;

				if (e <= 0)
					cells_put(cb, y, x + k, o->ascii ? '.' : 0x00b7, CELL_RGB(70, 70, 70), CELL_DEFAULT, 0);
				else if (e >= 8)
					cells_put(cb, y, x + k, o->ascii ? '#' : 0x2588, bc, CELL_DEFAULT, 0);
				else
					cells_put(cb, y, x + k, o->ascii ? '#' : 0x2590 - (unsigned)e, bc, CELL_DEFAULT, 0);
			}
			x += c.bar + 1;
		}
		if (c.delta) {
			if (isnan(row->delta))
				snprintf(t, sizeof t, "%6s", "");
			else
				snprintf(t, sizeof t, "%+6.3f", row->delta);
			cells_text(cb, y, x, t, isnan(row->delta) || fabs(row->delta) < 0.0005 ? CELL_DEFAULT
				: row->delta > 0 ? good : bad, CELL_DEFAULT, 0, -1);
			x += 7;
		}
		if (c.spark && row->nhist > 0) {
			sparkline(row->hist, row->nhist, c.spark, t, sizeof t);
			cells_text(cb, y, x, t, CELL_RGB(80, 150, 230), CELL_DEFAULT, 0, c.spark);
		}
	}
	free(worst);
	return shown;
}
