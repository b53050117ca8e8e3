/* prompt.h: the prompt panel: GNU readline's callback interface living in a
 * curses window. Keys arrive from the screen manager (curses codes are turned
 * back into the sequences readline binds); lines go to the Lua host, with
 * continuation lines (">> ") for unfinished statements, as lua.c does.
 * History is kept in a file; Tab completes globals, fields and methods
 * through lua/det/complete.lua. Readline is global state: one prompt per
 * process. */
#ifndef DET_TUI_PROMPT_H
#define DET_TUI_PROMPT_H

#include <signal.h>

#include "tui/panel.h"

struct host;
struct screen;

extern const struct panel_class prompt_panel_class;

/* What the workbench does around each chunk the prompt runs. */
struct prompt_hooks {
	void (*before_eval)(void *ctx);
	void (*after_eval)(void *ctx);
	void *ctx;
};

/* history_path may be NULL (no history file). output is the panel that
 * shows echoed input and completion lists. */
void *prompt_state_new(struct host *h, struct screen *s, struct panel *output,
	const char *history_path, const struct prompt_hooks *hooks);

/* Configures readline (no terminal handling, our input and drawing) and
 * initialises it. Call before curses starts: readline reads the terminal's
 * description through the same terminfo library. Idempotent. */
void prompt_init_readline(void);

/* Sets readline up (call once the screen is up and p is registered), and
 * takes it down again (saves the history). */
void prompt_start(struct panel *p);
void prompt_stop(struct panel *p);

/* Ctrl-C at an idle prompt: drops the line and any unfinished statement. */
void prompt_cancel(struct panel *p);
/* Saves the history now (returns 0 or a DET_E* code with a message). */
int prompt_history_save(struct panel *p);
/* Whether readline has read end of file (Ctrl-D on an empty line). */
int prompt_done(const struct panel *p);

/* The prompt without the screen, for terminals that cannot address the
 * cursor (TERM=dumb): readline() draws the line itself; history, completion
 * and continuation lines work as in the workbench. *sigint_flag is set by
 * the caller's SIGINT handler; at the prompt it clears the line. Returns
 * the exit status at end of input. */
int prompt_line_mode(struct host *h, const char *history_path, volatile sig_atomic_t *sigint_flag);

#endif
