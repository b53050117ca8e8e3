/* aptable.h: the per-class AP table widget: class, AP, AP50, AP75, GT and
 * prediction counts, a bar of AP, the change since the previous
 * evaluation and a sparkline of the class's AP history; sortable by any
 * column, the worst classes highlighted. Draws into cells (cells.h). */
#ifndef DET_TUI_APTABLE_H
#define DET_TUI_APTABLE_H

#include <stddef.h>

#include "tui/cells.h"

struct ap_row {
	const char *name;
	double ap, ap50, ap75;  /* in [0, 1]; NaN: no GT */
	long ngt, ndet;
	double delta;           /* AP change since the previous evaluation (NaN: none) */
	const double *hist;     /* AP at each evaluation so far, oldest first */
	int nhist;
};

enum ap_col { AP_COL_NAME, AP_COL_AP, AP_COL_AP50, AP_COL_AP75, AP_COL_GT, AP_COL_DET, AP_COL_DELTA, AP_NCOLS };
extern const char *const ap_col_names[AP_NCOLS]; /* "class", "AP", ... */

struct ap_opts {
	int sort;      /* enum ap_col */
	int desc;      /* 1: largest first (names: Z to A) */
	int worst;     /* highlight this many lowest-AP classes (0: none) */
	int scroll;    /* first row shown */
	int ascii;     /* no block characters */
};

/* Sorts rows in place by a column (NaN last, ties by name). */
void ap_rows_sort(struct ap_row *rows, int n, int col, int desc);

/* Draws the table in (y0, x0, rows, cols): a header row (the sort column
 * marked), then one row per class. Narrow tables drop the sparkline, the
 * delta, AP75/AP50 and the bar, in that order. Returns the number of
 * class rows that fit. */
int ap_table_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct ap_row *r, int n,
	const struct ap_opts *o);

#endif
