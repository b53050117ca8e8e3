/* panel.h: what a panel of the workbench screen is. As in htop, a panel is a
 * const table of functions plus metadata (one file per panel); its handlers
 * return flags and the screen manager (screen.h) decides what to redraw. */
#ifndef DET_TUI_PANEL_H
#define DET_TUI_PANEL_H

#include <curses.h>

/* What a key handler did; the manager acts on the union of the flags. */
enum panel_flags {
	PANEL_IGNORED = 0, /* not mine: offer the key to the next panel */
	PANEL_HANDLED = 1, /* consumed */
	PANEL_REDRAW = 2,  /* this panel's content changed */
	PANEL_RESIZE = 4,  /* the panel wants another size: lay the screen out again */
	PANEL_QUIT = 8,    /* leave the workbench */
};

struct panel;

struct panel_class {
	const char *name; /* what layouts call it: "output", "prompt", "status" */
	int min_rows, min_cols; /* below this it is not placed */
	/* Rows wanted at this width for panels on the bottom edge (the status
	 * bar, the prompt); NULL for panels that take what the layout gives. */
	int (*want_rows)(const struct panel *p, int cols);
	/* Draws the whole panel into p->win (no refresh: the manager does it). */
	void (*draw)(struct panel *p);
	/* A key, curses code or byte; NULL when the panel takes no keys. */
	int (*key)(struct panel *p, int ch);
	/* Called after p->win got a new size (NULL: nothing to do). */
	void (*resize)(struct panel *p);
	/* Called about ten times a second, also while a chunk runs, with the
	 * monotonic time in ms: a live panel polls its source (the metrics
	 * store) and returns PANEL_REDRAW when it has news. NULL: static. */
	int (*tick)(struct panel *p, long long now_ms);
	/* Frees p->state (NULL: nothing to free). */
	void (*free)(struct panel *p);
};

struct panel {
	const struct panel_class *cls;
	WINDOW *win;          /* NULL while the layout leaves the panel out */
	int y, x, rows, cols; /* where it is */
	int dirty;            /* draw it at the next screen update */
	int focus;            /* it has the focus (keys go to it first) */
	/* A layout slot may hold a stack of panels ("ap|samples"), one shown at
	 * a time (screen.h). stack_n is the stack's size (1: alone), stack_next
	 * names the others for the title row ("+samples"). */
	int stack_n;
	char stack_next[48];
	unsigned long shown;  /* when the focus was last given back from it (the stack shows the latest) */
	void *state;          /* the panel's own data */
};

/* Marks a panel for drawing at the next screen update. */
static inline void panel_touch(struct panel *p)
{
	if (p)
		p->dirty = 1;
}

#endif
