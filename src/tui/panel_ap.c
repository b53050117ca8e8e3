/* panel_ap.c: the per-class AP panel: the latest evaluation's classes with
 * the change since the one before and each class's AP history. Keys: s
 * sort by the next column, r reverse, arrows/PgUp/PgDn scroll. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "train/metrics.h"
#include "tui/aptable.h"
#include "tui/board.h"

#define OPT_SORT 0
#define OPT_DESC 1
#define OPT_SCROLL 2
#define MAX_HIST 64

static void ap_draw(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct board *b = bp->b;
	struct cells *cb = &bp->cb;
	size_t ne = b->m ? metrics_eval_count(b->m) : 0;
	struct metrics_eval last = { 0 }, prev = { 0 };
	struct ap_row *rows = NULL;
	double *hist = NULL;
	int have_prev = 0, nh = 0;
	char title[96];

	cells_resize(cb, p->rows, p->cols);
	if (ne == 0 || metrics_eval_get(b->m, -1, &last) != 0) {
		board_title(p, cb, "per-class AP", "s sort  r reverse");
		cells_text(cb, 2, 2, "no evaluation yet", CELL_RGB(128, 128, 128), CELL_DEFAULT, 0, p->cols - 2);
		board_blit(p, cb);
		bp->seen = b->serial;
		return;
	}
	snprintf(title, sizeof title, "per-class AP @ step %lld  (AP %.3f)", (long long)last.step, last.stats[0]);
	board_title(p, cb, title, "s sort  r reverse");
	have_prev = ne >= 2 && metrics_eval_get(b->m, -2, &prev) == 0;
	nh = ne < MAX_HIST ? (int)ne : MAX_HIST;
	rows = calloc((size_t)(last.ncats > 0 ? last.ncats : 1), sizeof *rows);
	hist = calloc((size_t)(last.ncats > 0 ? last.ncats : 1) * (size_t)nh, sizeof *hist);
	if (rows && hist) {
		for (int c = 0; c < last.ncats; c++) {
			const struct metrics_class_ap *k = &last.cls[c];

			rows[c] = (struct ap_row){ k->name, k->ap, k->ap50, k->ap75, (long)k->ngt, (long)k->ndet, NAN,
				hist + (size_t)c * (size_t)nh, nh };
			if (have_prev && c < prev.ncats && strcmp(prev.cls[c].name, k->name) == 0)
				rows[c].delta = k->ap - prev.cls[c].ap;
		}
		/* each class's AP over the last nh evaluations */
		for (int i = 0; i < nh; i++) {
			struct metrics_eval e;

			if (metrics_eval_get(b->m, (long)(ne - (size_t)nh) + i, &e) != 0)
				continue;
			for (int c = 0; c < last.ncats; c++)
				hist[(size_t)c * (size_t)nh + (size_t)i] =
					c < e.ncats && strcmp(e.cls[c].name, last.cls[c].name) == 0 ? e.cls[c].ap : NAN;
			metrics_eval_fini(&e);
		}
		ap_rows_sort(rows, last.ncats, bp->opt[OPT_SORT], bp->opt[OPT_DESC]);
		if (bp->opt[OPT_SCROLL] > last.ncats - (p->rows - 2))
			bp->opt[OPT_SCROLL] = last.ncats - (p->rows - 2);
		if (bp->opt[OPT_SCROLL] < 0)
			bp->opt[OPT_SCROLL] = 0;
		{
			struct ap_opts o = { .sort = bp->opt[OPT_SORT], .desc = bp->opt[OPT_DESC],
				.worst = last.ncats >= 6 ? 3 : 1, .scroll = bp->opt[OPT_SCROLL], .ascii = b->ascii };

			ap_table_draw(cb, 1, 0, p->rows - 1, p->cols, rows, last.ncats, &o);
		}
	}
	free(rows);
	free(hist);
	metrics_eval_fini(&last);
	if (have_prev)
		metrics_eval_fini(&prev);
	board_blit(p, cb);
	bp->seen = b->serial;
}

static int ap_key(struct panel *p, int ch)
{
	struct board_panel *bp = p->state;

	if (!p->focus)
		return PANEL_IGNORED;
	switch (ch) {
	case 's':
		bp->opt[OPT_SORT] = (bp->opt[OPT_SORT] + 1) % AP_NCOLS;
		/* names A to Z, figures largest first */
		bp->opt[OPT_DESC] = bp->opt[OPT_SORT] != AP_COL_NAME;
		break;
	case 'r': bp->opt[OPT_DESC] = !bp->opt[OPT_DESC]; break;
	case KEY_UP: bp->opt[OPT_SCROLL]--; break;
	case KEY_DOWN: bp->opt[OPT_SCROLL]++; break;
	case KEY_PPAGE: bp->opt[OPT_SCROLL] -= p->rows - 2; break;
	case KEY_NPAGE: bp->opt[OPT_SCROLL] += p->rows - 2; break;
	default: return PANEL_IGNORED;
	}
	return PANEL_HANDLED | PANEL_REDRAW;
}

static int ap_tick(struct panel *p, long long now_ms)
{
	struct board_panel *bp = p->state;

	(void)now_ms;
	return bp->seen != bp->b->serial ? PANEL_REDRAW : 0;
}

static void ap_free(struct panel *p)
{
	struct board_panel *bp = p->state;

	cells_fini(&bp->cb);
	free(bp);
}

const struct panel_class ap_panel_class = {
	.name = "ap",
	.min_rows = 4,
	.min_cols = 30,
	.draw = ap_draw,
	.key = ap_key,
	.tick = ap_tick,
	.free = ap_free,
};
