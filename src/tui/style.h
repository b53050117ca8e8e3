/* style.h: the screen's few visual roles (error text, the prompt, the status
 * bar...) mapped to curses attributes: colours when the terminal has them
 * and NO_COLOR is unset, bold/reverse/dim otherwise. */
#ifndef DET_TUI_STYLE_H
#define DET_TUI_STYLE_H

#include <curses.h>

enum tui_role {
	ROLE_TEXT = 0, /* ordinary output */
	ROLE_ERROR,    /* Lua errors and tracebacks */
	ROLE_STDERR,   /* what C code wrote to stderr */
	ROLE_PROMPT,   /* "> " and ">> ", also in echoed input */
	ROLE_NOTE,     /* completion lists, "^C", hints */
	ROLE_STATUS,   /* the status bar */
	ROLE_STATUS_KEY, /* the state word in the status bar */
	ROLE_MARK,     /* "more below" marks */
	ROLE_COUNT
};

/* Call once after initscr/newterm. Honours NO_COLOR (set and not empty). */
void tui_style_init(void);
attr_t tui_style_attr(enum tui_role role);
/* Whether colours are in use (for tests and the man page's promise). */
int tui_style_color(void);

#endif
