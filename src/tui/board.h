/* board.h: the run's panels on the workbench screen (curves, learning
 * rate, per-class AP, samples, log, help) and what they share: the metrics
 * store they read (train/metrics.h: the current run's, or the one `detbench
 * watch` follows), the samples of the last evaluation, the lr plan, the
 * colour mode, and the keys that move focus, zoom and open the help. Each
 * panel is its own file (panel_*.c); this is the glue. */
#ifndef DET_TUI_BOARD_H
#define DET_TUI_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"
#include "tui/cells.h"
#include "tui/imgview.h"
#include "tui/panel.h"
#include "tui/screen.h"

struct metrics;

/* One validation image with its GT and predicted boxes (img_box). */
struct board_sample {
	char name[64];
	struct image im;
	struct img_box *boxes;
	int nboxes;
};

struct board {
	struct screen *screen;
	struct metrics *m;        /* a reference (metrics_retain), or NULL */
	int follow_current;       /* take metrics_current_get() at each tick */
	uint64_t version;         /* the store's version at the last tick */
	uint64_t serial;          /* bumped when anything a panel shows changed */
	enum cell_mode mode;
	int ascii;                /* no UTF-8: ASCII glyphs */
	/* samples (owned) */
	struct board_sample *samples;
	int nsamples;
	char **names;             /* class names */
	int nnames;
	uint64_t samples_serial;
	int64_t samples_step;     /* the evaluation they come from (-1: unknown) */
	/* the schedule's lr at each step (owned), drawn dashed past the last step */
	double *plan_x, *plan_lr;
	int nplan;
	int plan_from_store;      /* the plan is the store's (metrics_plan_copy), not det.ui.plan's */
	uint64_t plan_serial;     /* the store's plan serial last copied */
	/* panels */
	struct panel *status, *output, *prompt, *log, *help;
	struct panel *zoom_before_help;
	uint64_t logged_events;   /* events copied to the log so far */
	size_t logged_evals;
	long long last_status_ms;
	char status_text[1024];
	int watch;                /* `detbench watch`: no prompt */
	const struct layout *idle;  /* layouts while nothing runs */
	int nidle;
	int active;               /* the board's layouts are in use */
	struct layout user;       /* det.ui.layout{} */
	char user_names[LAYOUT_MAX_ROWS * LAYOUT_MAX_COLS + LAYOUT_MAX_BOTTOM][64];
	int has_user;
	struct metrics_follower *follower; /* board_follow */
	long long last_follow_ms;
	/* a run directory's samples.json (train/samples.h) followed by watch */
	char samples_dir[4096];
	long long last_samples_ms;
	long long samples_mtime_ns;
	unsigned long long samples_ino;
};

/* A board for screen s; the caller registers the panels with board_add_panels.
 * m may be NULL (then follows metrics_current_get()). NULL on ENOMEM. */
struct board *board_new(struct screen *s, struct metrics *m);
void board_free(struct board *b);

/* Registers curves, lr, ap, samples, log and help on the screen (status,
 * output and prompt are the caller's: pass them for the status text and
 * focus). Returns 0 or DET_ENOMEM. */
int board_add_panels(struct board *b, struct panel *status, struct panel *output, struct panel *prompt);

/* Layouts by terminal size, for the workbench (prompt) and for watch. */
extern const struct layout board_layouts[];
extern const int board_nlayouts;
extern const struct layout board_watch_layouts[];
extern const int board_watch_nlayouts;

/* The layouts used while there is no run and no samples (the plain
 * workbench: the prompt's output alone); the board's own once a run
 * appears. A layout set with board_layout_set wins over both. */
void board_idle_layouts(struct board *b, const struct layout *l, int n);
/* Sets one layout for every size (copied; names are copied), or NULL to
 * go back to the layouts by size. 0 or DET_EINVAL naming an unknown panel. */
int board_layout_set(struct board *b, const struct layout *l);

/* The tick (about 10 Hz): polls the store, appends new events and
 * evaluations to the log, updates the status bar at most 4 times a
 * second; returns PANEL_REDRAW when the panels have news. */
int board_tick(struct board *b, long long now_ms);

/* The screen keys (F1/? help, Tab/F2 and Shift-Tab focus, F3 zoom, Esc back
 * to the prompt); prompt_empty says whether Tab may move focus. Returns
 * PANEL_HANDLED when the key was the board's. */
int board_key(struct board *b, int ch, int prompt_empty);

/* Shows the run whose metrics.jsonl is at path (a run directory or the
 * file), followed as it grows, instead of the current run. NULL goes back
 * to the current run. 0 or a negative code with a message. */
int board_follow(struct board *b, const char *path);

/* Replaces the samples (copied). names may be NULL. 0 or DET_ENOMEM. */
int board_samples_set(struct board *b, const struct board_sample *s, int n, const char *const *names, int nnames);
struct train_sample;
/* Replaces the samples with n train_samples (copied; train/samples.h), their
 * boxes matched for the TP/FP/FN colouring, from the evaluation at step
 * (-1: none). The panel keeps the image it shows (index) and its modes.
 * 0 or DET_ENOMEM. */
int board_samples_from(struct board *b, const struct train_sample *s, int n, const char *const *names, int nnames,
	int64_t step);
/* Follows dir/samples.json (written after each evaluation by a run, see
 * train/samples.h): read when it changes, checked twice a second at the
 * tick. NULL or "" stops. */
void board_samples_follow(struct board *b, const char *dir);
/* Replaces the lr plan (copied). 0 or DET_ENOMEM. */
int board_plan_set(struct board *b, const double *steps, const double *lr, int n);

/* The sample shown by the samples panel, drawn at its own resolution with
 * labelled boxes, written as PNG; 0, DET_EINVAL (no sample) or DET_EIO. */
int board_sample_png(struct board *b, const char *path);
/* Writes the whole screen as text (what the terminal shows, UTF-8). */
int board_screen_text(const char *path);

/* The keys, one per line ("F1 / ?   this help"), for the help panel, the
 * man page and the docs. */
extern const char *const board_help_lines[];

/* Shared by the panels: draws cb (sized to p) into p->win, with a title
 * row (reverse when p is focused) and a hint on its right. */
void board_blit(struct panel *p, struct cells *cb);
void board_title(struct panel *p, struct cells *cb, const char *title, const char *hint);
struct board *board_of(struct panel *p);

/* The state every board panel has: the board first (board_of), its cell
 * grid, the board serial it last drew, and a few options of its own. */
struct board_panel {
	struct board *b;
	struct cells cb;
	uint64_t seen;
	int opt[8];
	double smooth;
	void *extra; /* the log's output state */
};

/* A panel's state (its class's free releases it); NULL on ENOMEM. */
void *board_panel_new(struct board *b, const struct panel_class *cls);
/* Appends a line in a role (tui/style.h) to the log panel. */
void board_log_append(struct panel *log, int role, const char *text);
/* The sample the samples panel shows. */
int samples_panel_current(struct panel *p);

/* The panel classes. Their state is board_panel_new(b). */
extern const struct panel_class curves_panel_class, lr_panel_class, ap_panel_class, samples_panel_class,
	log_panel_class, help_panel_class;

#endif
