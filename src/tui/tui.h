/* tui.h: the workbench screen: a full-screen ncurses view with an output
 * area, a status bar and the Lua prompt (readline's callback interface) at
 * the bottom, laid out by the screen manager (screen.h) so later panels
 * (charts, AP table, images, log) slot in. */
#ifndef DET_TUI_TUI_H
#define DET_TUI_TUI_H

#include <stdint.h>

struct host;
struct board;

/* Brings the screen up early, so that what runs before the prompt (-e
 * code, FILE.lua) prints into the output area and can be interrupted with
 * Ctrl-C; tui_run then opens the prompt. Optional: tui_run opens the
 * screen itself. On a terminal that cannot hold the screen (TERM=dumb)
 * nothing changes and tui_run gives a plain line prompt. Returns 0, or -1
 * with a message on stderr when the screen could not start. */
int tui_open(struct host *h);

/* Runs the interactive workbench on the terminal until the user quits
 * (Ctrl-D on an empty line, or os.exit()). While it runs, print(), values,
 * errors and whatever is written to fd 1 and 2 show in the output area.
 * Returns the exit status: 0, 1 when the screen could not start (with a
 * message on stderr), 129 after a hangup (SIGHUP), 143 after SIGTERM. */
int tui_run(struct host *h);

/* The workbench's screen manager while it is up (NULL otherwise), for
 * the code that adds panels and layouts (screen.h), and its status bar
 * (status.h). Main thread only. */
struct screen *tui_screen(void);
struct panel *tui_status_panel(void);

/* Registers fn to run on the main thread when the terminal hangs up or
 * SIGTERM arrives, after the history is saved and before the workbench
 * exits (a running training saves its checkpoint here). At most 8. Returns
 * 0, or -1 when the table is full. */
int tui_on_hangup(void (*fn)(void *ctx), void *ctx);

/* Sets the one idle hook: fn(ctx) runs on the main thread about every
 * 100 ms while the workbench waits for keys (not while a chunk runs), so
 * it may call Lua (the trainer's callbacks). NULL removes it. */
void tui_on_idle(void (*fn)(void *ctx), void *ctx);

/* The run's panels of the open workbench (board.h), for det.ui; NULL when
 * the screen is not up. */
struct board *tui_board(void);
/* Hands the samples panel n samples (train/samples.h; copied) with the
 * class names, from the evaluation at step: 0, 1 when the screen is not up, or DET_ENOMEM. For callers
 * that must not see curses (the experiment's binding). */
struct train_sample;
int tui_samples_show(const struct train_sample *s, int n, const char *const *names, int nnames, int64_t step);

#endif
