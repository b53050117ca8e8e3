/* output.h: the output panel: the scrollback of everything printed (print(),
 * values, errors, what C code writes to stdout and stderr, the echoed input),
 * wrapped to the panel's width, scrolled with PgUp/PgDn. */
#ifndef DET_TUI_OUTPUT_H
#define DET_TUI_OUTPUT_H

#include <stddef.h>

#include "tui/panel.h"
#include "tui/style.h"

extern const struct panel_class output_panel_class;

/* Scrollback of at most max_lines lines (the oldest go first). */
void *output_state_new(int max_lines);

/* Appends text in a role (ROLE_TEXT, ROLE_ERROR, ROLE_STDERR, ROLE_NOTE,
 * ROLE_PROMPT for echoed input: its leading "> "/">> " is coloured). Text
 * may hold partial lines and split UTF-8; tabs are expanded, "\r" restarts
 * the line (progress bars), escape sequences and other control characters
 * are dropped, invalid UTF-8 shows as '?'. */
void output_append(struct panel *p, enum tui_role role, const char *text, size_t len);
/* Ends an unfinished line, so what follows starts on its own line. */
void output_newline(struct panel *p);
/* Scrolls by n rows (positive: back in time); 0 returns to the end. */
void output_scroll(struct panel *p, int rows);
/* Whether the view is scrolled back (not following the end). */
int output_scrolled(const struct panel *p);
/* The number of lines kept, and line i (0 = oldest) without its role. */
int output_count(const struct panel *p);
const char *output_line(const struct panel *p, int i, size_t *len);

#endif
