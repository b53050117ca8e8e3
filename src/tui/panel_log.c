/* panel_log.c: the log panel (events, evaluation summaries, warnings of
 * the run: the output panel's scrollback under another name, fed by
 * board.c) and the help panel (every key); and board_panel_new. */
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tui/board.h"
#include "tui/output.h"
#include "tui/style.h"

#define LOG_LINES 5000

/* The log shares the output panel's code: its state is an output state
 * (board_panel.extra), handed to output_panel_class through a stand-in
 * panel with the same window. */
static struct panel as_output(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct panel o = *p;

	o.cls = &output_panel_class;
	o.state = bp->extra;
	return o;
}

static void log_draw(struct panel *p)
{
	struct panel o = as_output(p);

	output_panel_class.draw(&o);
	if (p->focus) {
		mvwaddstr(p->win, 0, p->cols > 6 ? p->cols - 6 : 0, " log ");
		mvwchgat(p->win, 0, p->cols > 6 ? p->cols - 6 : 0, 5, A_REVERSE | A_BOLD, 0, NULL);
	}
}

static int log_key(struct panel *p, int ch)
{
	struct panel o = as_output(p);

	if (!p->focus)
		return PANEL_IGNORED;
	switch (ch) {
	case KEY_UP: output_scroll(&o, 1); break;
	case KEY_DOWN: output_scroll(&o, -1); break;
	case KEY_PPAGE: output_scroll(&o, p->rows - 1); break;
	case KEY_NPAGE: output_scroll(&o, -(p->rows - 1)); break;
	case KEY_END: output_scroll(&o, 0); break;
	default: return PANEL_IGNORED;
	}
	return PANEL_HANDLED | PANEL_REDRAW;
}

static void log_resize(struct panel *p)
{
	struct panel o = as_output(p);

	if (output_panel_class.resize)
		output_panel_class.resize(&o);
}

static void board_panel_free(struct panel *p)
{
	struct board_panel *bp = p->state;

	if (bp->extra) {
		struct panel o = as_output(p);

		o.win = NULL;
		output_panel_class.free(&o);
	}
	cells_fini(&bp->cb);
	free(bp);
}

const struct panel_class log_panel_class = {
	.name = "log",
	.min_rows = 2,
	.min_cols = 10,
	.draw = log_draw,
	.key = log_key,
	.resize = log_resize,
	.free = board_panel_free,
};

static void help_draw(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct cells *cb = &bp->cb;
	int y = 1;

	cells_resize(cb, p->rows, p->cols);
	for (int x = 0; x < p->cols; x++)
		cells_put(cb, 0, x, ' ', CELL_RGB(0, 0, 0), CELL_RGB(90, 170, 230), CELL_BOLD);
	cells_text(cb, 0, 1, "detbench keys (any key closes this)", CELL_RGB(0, 0, 0), CELL_RGB(90, 170, 230), CELL_BOLD,
		-1);
	for (int i = 0; board_help_lines[i] && y < p->rows; i++, y++)
		cells_text(cb, y, 1, board_help_lines[i], board_help_lines[i][0] == ' ' ? CELL_DEFAULT : CELL_RGB(90, 170, 230),
			CELL_DEFAULT, board_help_lines[i][0] == ' ' ? 0 : CELL_BOLD, p->cols - 2);
	board_blit(p, cb);
}

const struct panel_class help_panel_class = {
	.name = "help",
	.min_rows = 1,
	.min_cols = 10,
	.draw = help_draw,
	.free = board_panel_free,
};

void *board_panel_new(struct board *b, const struct panel_class *cls)
{
	struct board_panel *bp = calloc(1, sizeof *bp);

	if (bp == NULL)
		return NULL;
	bp->b = b;
	bp->seen = 0;
	if (cells_init(&bp->cb, 1, 1) != 0) {
		free(bp);
		return NULL;
	}
	if (cls == &log_panel_class && (bp->extra = output_state_new(LOG_LINES)) == NULL) {
		cells_fini(&bp->cb);
		free(bp);
		return NULL;
	}
	if (cls == &ap_panel_class)
		bp->opt[1] = 0; /* sorted by class name, A to Z */
	return bp;
}

void board_log_append(struct panel *log, int role, const char *text)
{
	struct panel o = as_output(log);

	output_append(&o, (enum tui_role)role, text, strlen(text));
	output_append(&o, (enum tui_role)role, "\n", 1);
	log->dirty = 1;
}
