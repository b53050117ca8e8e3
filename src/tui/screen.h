/* screen.h: the screen manager. It owns the panels, places them with a
 * layout chosen by the terminal's size, routes keys, and redraws only the
 * panels marked dirty, in one doupdate() (no flicker).
 *
 * A layout is rows of panels (by name) sharing the height by weight, each
 * row sharing its width by weight, above a stack of fixed-height panels on
 * the bottom edge (the status bar and the prompt). Names of panels that are
 * not registered are skipped, so a layout may name panels of later issues.
 * A slot may name a stack, "ap|samples|lr": one of them is placed (the
 * focused one; else the one the focus was last given back from, to the
 * prompt; else the first), and focus (Tab, F2, screen_focus_set) walks
 * every member, bringing a hidden one up, so a small terminal still
 * reaches every panel. */
#ifndef DET_TUI_SCREEN_H
#define DET_TUI_SCREEN_H

#include "tui/panel.h"

#define LAYOUT_MAX_ROWS 4
#define LAYOUT_MAX_COLS 4
#define LAYOUT_MAX_BOTTOM 4
#define SCREEN_MAX_PANELS 16
#define LAYOUT_STACK_MAX 4  /* panels in one stacked slot */

struct layout_row {
	int weight; /* share of the free height; 0 ends the list */
	const char *panels[LAYOUT_MAX_COLS]; /* left to right, NULL ends */
	int widths[LAYOUT_MAX_COLS];         /* shares of the width (0 = 1) */
};

struct layout {
	const char *name;
	int min_rows, min_cols; /* the smallest terminal it suits */
	struct layout_row rows[LAYOUT_MAX_ROWS];
	const char *bottom[LAYOUT_MAX_BOTTOM]; /* top to bottom, NULL ends */
};

struct screen;

/* layouts: tried in order, the first whose minimum fits is used (the last
 * one is the fallback). The array must outlive the screen. */
struct screen *screen_new(const struct layout *layouts, int nlayouts);
/* Frees the screen and its panels (their class's free). */
void screen_free(struct screen *s);

/* Registers a panel (the screen then owns it). Returns it, or NULL when
 * the table is full. */
struct panel *screen_add(struct screen *s, const struct panel_class *cls, void *state);
struct panel *screen_panel(struct screen *s, const char *name);
/* The panels a slot names ("ap|samples": stacked), registered ones only, in
 * order, into out (at most LAYOUT_STACK_MAX); returns how many. An unknown
 * name sets *bad (may be NULL) to its position in spec, else -1. */
int screen_stack(struct screen *s, const char *spec, struct panel **out, int *bad);

/* The panel that holds the terminal cursor (the prompt); it is refreshed
 * last and gets every key the others leave. */
void screen_set_cursor(struct screen *s, struct panel *p);
/* Shows one panel over the whole layout area, or NULL for the layout. */
void screen_zoom(struct screen *s, struct panel *p);
/* Asks for a new layout at the next update (terminal or prompt resized). */
void screen_relayout(struct screen *s);
/* Redraws everything at the next update (Ctrl-L). */
void screen_touch_all(struct screen *s);

/* Lays out again if needed, draws the dirty panels and updates the
 * terminal in one go. */
void screen_update(struct screen *s);
/* Gives every panel with a tick handler the time; marks those with news
 * dirty. Returns the union of their flags. */
int screen_tick(struct screen *s, long long now_ms);
/* Offers a key to the panels (the cursor panel last). Returns the union of
 * the handlers' flags. */
int screen_key(struct screen *s, int ch);

/* Focus: the panel that gets keys first (NULL: the cursor panel, the
 * prompt). screen_focus_next moves it by dir (+1/-1) over the panels of
 * the layout's rows in layout order, stacked ones included (focusing a
 * hidden one brings it up in its slot), then back to the prompt; returns
 * the new focus. */
void screen_focus_set(struct screen *s, struct panel *p);
struct panel *screen_focus(const struct screen *s);
struct panel *screen_focus_next(struct screen *s, int dir);
/* The zoomed panel, or NULL. */
struct panel *screen_zoomed(const struct screen *s);
/* Replaces the layout table (it must outlive the screen); relays out. */
void screen_set_layouts(struct screen *s, const struct layout *layouts, int nlayouts);

/* The layout in use (after the last update). */
const struct layout *screen_layout(const struct screen *s);

#endif
