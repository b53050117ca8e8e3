/* board.c: what the run's panels share (the metrics store, samples, lr
 * plan, colour mode), the layouts that place them by terminal size, the
 * status bar's run text, the log's feed of events and evaluations, and the
 * screen keys: focus, zoom, help. */
#include "tui/board.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curses.h>

#include "core/atomic.h"
#include "core/error.h"
#include "data/draw.h"
#include "data/imageio.h"
#include "train/metrics.h"
#include "train/samples.h"
#include "tui/output.h"
#include "tui/screen.h"
#include "tui/status.h"
#include "tui/style.h"
#include "tui/text.h"

/* The workbench with a run: charts and the AP table over the samples, the
 * log and the prompt's output. First fit wins. A slot "a|b" stacks panels:
 * one shows, Tab/F2 walk all of them (doc/architecture.md, "80x24"). */
const struct layout board_layouts[] = {
	{
		.name = "large",
		.min_rows = 44,
		.min_cols = 150,
		.rows = {
			{ .weight = 2, .panels = { "curves", "lr", "ap" }, .widths = { 5, 3, 5 } },
			{ .weight = 3, .panels = { "samples", "log", "output" }, .widths = { 4, 3, 4 } },
		},
		.bottom = { "status", "prompt" },
	},
	{
		.name = "medium",
		.min_rows = 30,
		.min_cols = 100,
		.rows = {
			{ .weight = 1, .panels = { "curves|lr", "ap" }, .widths = { 1, 1 } },
			{ .weight = 1, .panels = { "samples|log", "output" }, .widths = { 2, 3 } },
		},
		.bottom = { "status", "prompt" },
	},
	{
		.name = "small",
		.min_rows = 0,
		.min_cols = 0,
		.rows = {
			{ .weight = 3, .panels = { "curves|lr", "ap|samples|log" }, .widths = { 1, 1 } },
			{ .weight = 2, .panels = { "output" } },
		},
		.bottom = { "status", "prompt" },
	},
};
const int board_nlayouts = (int)(sizeof board_layouts / sizeof board_layouts[0]);

/* `detbench watch`: no prompt, the log instead of the prompt's output. */
const struct layout board_watch_layouts[] = {
	{
		.name = "watch-large",
		.min_rows = 44,
		.min_cols = 150,
		.rows = {
			{ .weight = 3, .panels = { "curves", "ap" }, .widths = { 1, 1 } },
			{ .weight = 2, .panels = { "lr", "samples", "log" }, .widths = { 3, 3, 4 } },
		},
		.bottom = { "status" },
	},
	{
		.name = "watch-medium",
		.min_rows = 30,
		.min_cols = 100,
		.rows = {
			{ .weight = 3, .panels = { "curves", "ap" }, .widths = { 1, 1 } },
			{ .weight = 2, .panels = { "lr|samples", "log" }, .widths = { 1, 2 } },
		},
		.bottom = { "status" },
	},
	{
		.name = "watch-small",
		.min_rows = 0,
		.min_cols = 0,
		.rows = {
			{ .weight = 3, .panels = { "curves|lr", "ap|samples" }, .widths = { 1, 1 } },
			{ .weight = 1, .panels = { "log" } },
		},
		.bottom = { "status" },
	},
};
const int board_watch_nlayouts = (int)(sizeof board_watch_layouts / sizeof board_watch_layouts[0]);

const char *const board_help_lines[] = {
	"Screen keys (work everywhere, also while you type)",
	"  F1                help (this list); any key closes it",
	"  F2 / Shift-Tab    focus the next / previous panel; a title marked +name",
	"                    shares its place: focus brings it up, Esc leaves it up",
	"  Tab               focus the next panel when the prompt line is empty",
	"                    (otherwise Tab completes)",
	"  F3                zoom the focused panel to the full screen, again to return",
	"  Esc               give the focus back to the prompt",
	"  PgUp / PgDn       scroll the prompt's output",
	"  Ctrl-L            redraw     Ctrl-C  interrupt     Ctrl-D  quit (empty line)",
	"In a focused panel",
	"  ?                 help",
	"  curves, lr:       e  EMA smoothing on/off    l  log scale on/off",
	"  ap:               s  sort by the next column    r  reverse the order",
	"                    Up/Down/PgUp/PgDn  scroll",
	"  samples:          Left/Right  previous/next image    z  zoom into a box",
	"                    o  TP/FP/FN colours on/off    g  GT boxes on/off",
	"  log:              Up/Down/PgUp/PgDn  scroll    End  follow the end",
	"detbench watch      q / Ctrl-C / Ctrl-D quit; the keys above without a prompt",
	NULL,
};

struct board *board_new(struct screen *s, struct metrics *m)
{
	struct board *b = calloc(1, sizeof *b);

	if (b == NULL)
		return NULL;
	b->screen = s;
	b->m = m ? metrics_retain(m) : NULL;
	b->follow_current = m == NULL;
	b->mode = cell_mode_detect(has_colors() ? COLORS : 0);
	b->ascii = !tui_text_utf8();
	b->serial = 1;
	b->active = -1;
	return b;
}

static void samples_free(struct board *b)
{
	for (int i = 0; i < b->nsamples; i++) {
		image_fini(&b->samples[i].im);
		free(b->samples[i].boxes);
	}
	free(b->samples);
	for (int i = 0; i < b->nnames; i++)
		free(b->names[i]);
	free(b->names);
	b->samples = NULL, b->nsamples = 0, b->names = NULL, b->nnames = 0;
}

void board_free(struct board *b)
{
	if (b == NULL)
		return;
	metrics_follow_free(b->follower);
	metrics_free(b->m);
	samples_free(b);
	free(b->plan_x);
	free(b->plan_lr);
	free(b);
}

int board_samples_set(struct board *b, const struct board_sample *s, int n, const char *const *names, int nnames)
{
	samples_free(b);
	b->samples = calloc((size_t)(n > 0 ? n : 1), sizeof *b->samples);
	b->names = calloc((size_t)(nnames > 0 ? nnames : 1), sizeof *b->names);
	if (b->samples == NULL || b->names == NULL)
		goto nomem;
	for (int i = 0; i < n; i++) {
		struct board_sample *d = &b->samples[i];
		size_t bytes = (size_t)s[i].im.width * (size_t)s[i].im.height * (size_t)s[i].im.channels;

		b->nsamples = i + 1;
		*d = s[i];
		d->im.data = NULL, d->boxes = NULL;
		if (image_init(&d->im, s[i].im.width, s[i].im.height, s[i].im.channels) != 0)
			goto nomem;
		memcpy(d->im.data, s[i].im.data, bytes);
		d->boxes = malloc((size_t)(s[i].nboxes > 0 ? s[i].nboxes : 1) * sizeof *d->boxes);
		if (d->boxes == NULL)
			goto nomem;
		memcpy(d->boxes, s[i].boxes, (size_t)s[i].nboxes * sizeof *d->boxes);
	}
	for (int i = 0; i < nnames && names; i++) {
		if ((b->names[i] = strdup(names[i] ? names[i] : "?")) == NULL)
			goto nomem;
		b->nnames = i + 1;
	}
	b->samples_serial++;
	b->samples_step = -1;
	b->serial++;
	return 0;
nomem:
	samples_free(b);
	return det_error_set(DET_ENOMEM, "ui: out of memory copying %d samples", n);
}

int board_samples_from(struct board *b, const struct train_sample *s, int n, const char *const *names, int nnames,
	int64_t step)
{
	struct board_sample *bs = calloc((size_t)n + 1, sizeof *bs);
	int rc;

	if (bs == NULL)
		return det_error_set(DET_ENOMEM, "ui: out of memory for %d samples", n);
	for (int i = 0; i < n; i++) {
		snprintf(bs[i].name, sizeof bs[i].name, "%s", s[i].name);
		bs[i].im = s[i].im; /* borrowed: board_samples_set copies */
		bs[i].boxes = calloc((size_t)s[i].nboxes + 1, sizeof *bs[i].boxes);
		if (bs[i].boxes == NULL) {
			for (int k = 0; k < i; k++)
				free(bs[k].boxes);
			free(bs);
			return det_error_set(DET_ENOMEM, "ui: out of memory for %d samples", n);
		}
		for (int k = 0; k < s[i].nboxes; k++) {
			const struct train_sample_box *x = &s[i].boxes[k];

			bs[i].boxes[k] = (struct img_box){ x->x0, x->y0, x->x1, x->y1, x->cls, x->score, x->pred, IMG_NONE };
		}
		bs[i].nboxes = s[i].nboxes;
		img_boxes_match(bs[i].boxes, bs[i].nboxes);
	}
	rc = board_samples_set(b, bs, n, names, nnames);
	b->samples_step = rc == 0 ? step : -1;
	for (int i = 0; i < n; i++)
		free(bs[i].boxes);
	free(bs);
	return rc;
}

void board_samples_follow(struct board *b, const char *dir)
{
	snprintf(b->samples_dir, sizeof b->samples_dir, "%s", dir ? dir : "");
	b->samples_mtime_ns = -1;
	b->samples_ino = 0;
	b->last_samples_ms = 0;
}

/* Reads the followed samples.json when it changed (a rename gives it a new
 * inode; a rewrite a new mtime). A half-replaced set (its PNGs already
 * removed) fails quietly and is read again at the next check. */
static void samples_poll(struct board *b)
{
	char path[4200];
	struct stat st;
	struct train_sample *s = NULL;
	char **names = NULL;
	int n = 0, nnames = 0;
	int64_t step;
	long long mt;

	snprintf(path, sizeof path, "%s/samples.json", b->samples_dir);
	if (stat(path, &st) != 0)
		return;
	mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (mt == b->samples_mtime_ns && (unsigned long long)st.st_ino == b->samples_ino)
		return;
	if (train_samples_read(b->samples_dir, &step, &s, &n, &names, &nnames) != 0)
		return;
	if (board_samples_from(b, s, n, (const char *const *)names, nnames, step) == 0)
		b->samples_mtime_ns = mt, b->samples_ino = (unsigned long long)st.st_ino;
	train_samples_free(s, n);
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
}

int board_plan_set(struct board *b, const double *steps, const double *lr, int n)
{
	double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x), *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);

	if (x == NULL || y == NULL) {
		free(x);
		free(y);
		return det_error_set(DET_ENOMEM, "ui: out of memory for an lr plan of %d steps", n);
	}
	if (n > 0) {
		memcpy(x, steps, (size_t)n * sizeof *x);
		memcpy(y, lr, (size_t)n * sizeof *y);
	}
	free(b->plan_x);
	free(b->plan_lr);
	b->plan_x = x, b->plan_lr = y, b->nplan = n;
	b->serial++;
	return 0;
}

struct board *board_of(struct panel *p)
{
	return *(struct board **)p->state;
}

void board_title(struct panel *p, struct cells *cb, const char *title, const char *hint)
{
	uint32_t fg = p->focus ? CELL_RGB(0, 0, 0) : CELL_RGB(150, 150, 150);
	uint32_t bg = p->focus ? CELL_RGB(90, 170, 230) : CELL_DEFAULT;
	int attr = p->focus ? CELL_BOLD : CELL_UNDERLINE;

	for (int x = 0; x < cb->cols; x++)
		cells_put(cb, 0, x, ' ', fg, bg, attr);
	cells_text(cb, 0, 1, title, fg, bg, attr | CELL_BOLD, cb->cols - 2);
	/* focused: its keys; else the panels stacked with it ("+samples +log",
	 * or "+2" when the names do not fit) */
	char more[16];
	int tw = tui_text_width(title, strlen(title));

	if (!p->focus && p->stack_n > 1 && p->stack_next[0]) {
		hint = p->stack_next;
		if ((int)strlen(hint) + tw + 4 > cb->cols) {
			/* "+N" always shows, over the title's end if need be */
			snprintf(more, sizeof more, " +%d", p->stack_n - 1);
			if ((int)strlen(more) + 1 <= cb->cols)
				cells_text(cb, 0, cb->cols - (int)strlen(more) - 1, more, fg, bg, attr, -1);
			hint = NULL;
		}
	} else if (!p->focus) {
		hint = NULL;
	}
	if (hint) {
		int w = tui_text_width(hint, strlen(hint));

		if (w + tw + 4 <= cb->cols)
			cells_text(cb, 0, cb->cols - w - 1, hint, fg, bg, attr, -1);
	}
	/* a monochrome focus shows as reverse video */
	if (p->focus && board_of(p)->mode == CELL_MODE_MONO)
		for (int x = 0; x < cb->cols; x++)
			cells_at(cb, 0, x)->attr |= CELL_REVERSE;
}

void board_blit(struct panel *p, struct cells *cb)
{
	werase(p->win);
	cells_blit(cb, p->win, 0, 0, board_of(p)->mode);
}

/* ---- the status bar and the log ---- */

static void fmt_duration(double s, char *buf, size_t size)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, size, "?");
	else if (s >= 3600)
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else
		snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static long rss_mb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

static void status_update(struct board *b)
{
	struct metrics_progress pr;
	char info[1024], eta[32], steps[64], extra[160] = "";
	const char *sep = b->ascii ? " | " : " \xc2\xb7 ", *state;
	double v;
	long rss = b->watch ? -1 : rss_mb();
	size_t len;

	if (b->status == NULL || b->m == NULL)
		return;
	metrics_progress_get(b->m, &pr);
	state = metrics_state_names[pr.state >= 0 && pr.state < METRICS_NSTATES ? pr.state : 0];
	fmt_duration(pr.eta_s, eta, sizeof eta);
	if (pr.total_steps > 0)
		snprintf(steps, sizeof steps, "%lld/%lld", (long long)pr.step, (long long)pr.total_steps);
	else
		snprintf(steps, sizeof steps, "%lld", (long long)pr.step);
	char loss[48] = "", lr[48] = "";
	if (metrics_series_last(b->m, "loss", &v) == 0)
		snprintf(loss, sizeof loss, "%sloss %.4g", sep, v);
	if (metrics_series_last(b->m, "lr", &v) == 0)
		snprintf(lr, sizeof lr, "%slr %.2e", sep, v);
	snprintf(extra, sizeof extra, "%s%s", loss, lr);
	if (!isfinite(pr.images_per_s) && metrics_series_last(b->m, "images_per_s", &v) == 0)
		pr.images_per_s = v;
	snprintf(info, sizeof info, "%s%s%s%sep %.2f%sstep %s%s%sETA %s%s%.0f img/s", b->watch ? "" : state,
		b->watch ? "" : sep, pr.name[0] ? pr.name : "run", sep, pr.epoch, sep, steps, extra, sep, eta, sep,
		isfinite(pr.images_per_s) ? pr.images_per_s : 0.0);
	if (metrics_series_last(b->m, "data_wait", &v) == 0) {
		len = strlen(info);
		snprintf(info + len, sizeof info - len, "%sdata wait %.0f%%", sep, 100 * v);
	}
	if (rss >= 0) {
		len = strlen(info);
		snprintf(info + len, sizeof info - len, "%sRSS %ld MB", sep, rss);
	}
	/* shorter forms for narrow terminals, tab-separated, longest first (the
	 * status bar shows the first that fits): the state, the run, progress
	 * and loss matter most at a glance; throughput and memory least */
	const char *st = b->watch ? "" : state, *st_sep = b->watch ? "" : sep, *name = pr.name[0] ? pr.name : "run";
	len = strlen(info);
	snprintf(info + len, sizeof info - len, "\t%s%s%s%sep %.2f%sstep %s%s%sETA %s", st, st_sep, name, sep,
		pr.epoch, sep, steps, extra, sep, eta);
	len = strlen(info);
	snprintf(info + len, sizeof info - len, "\t%s%s%s%sep %.2f%sstep %s%s%sETA %s", st, st_sep, name, sep,
		pr.epoch, sep, steps, loss, sep, eta);
	len = strlen(info);
	snprintf(info + len, sizeof info - len, "\t%s%s%s%sstep %s%s", st, st_sep, name, sep, steps, loss);
	len = strlen(info);
	snprintf(info + len, sizeof info - len, "\t%s%sstep %s%s", st, st_sep, steps, loss);
	if (b->watch)
		status_set(b->status, STATUS_STATE, state);
	if (strcmp(info, b->status_text) != 0) {
		snprintf(b->status_text, sizeof b->status_text, "%s", info);
		status_set(b->status, STATUS_INFO, info);
	}
}

/* The summary line of evaluation i. */
static void log_eval(struct board *b, size_t i)
{
	struct metrics_eval e;
	char line[512];
	int worst = -1;

	if (metrics_eval_get(b->m, (long)i, &e) != 0)
		return;
	for (int c = 0; c < e.ncats; c++)
		if (!isnan(e.cls[c].ap) && (worst < 0 || e.cls[c].ap < e.cls[worst].ap))
			worst = c;
	snprintf(line, sizeof line, "%6lld eval  AP %.3f AP50 %.3f AP75 %.3f", (long long)e.step, e.stats[0],
		e.stats[1], e.stats[2]);
	board_log_append(b->log, ROLE_NOTE, line);
	if (worst >= 0) {
		snprintf(line, sizeof line, "%6s       worst %s %.3f", "", e.cls[worst].name, e.cls[worst].ap);
		board_log_append(b->log, ROLE_TEXT, line);
	}
	metrics_eval_fini(&e);
}

/* Event kinds as the log shows them (5 columns). */
static const char *const short_kind[METRICS_NEVENTS] = { "info", "set", "ckpt", "NaN", "eval", "stop", "state",
	"error" };

/* New events and evaluations into the log, in the order they happened:
 * an evaluation's summary goes where its EVAL event is. */
static void log_feed(struct board *b)
{
	size_t nev = metrics_event_count(b->m), nevals = metrics_eval_count(b->m);
	struct metrics_event ev[32];

	if (b->log == NULL)
		return;
	if (nev < b->logged_events || nevals < b->logged_evals) /* a new run (the follower cleared the store) */
		b->logged_events = 0, b->logged_evals = 0;
	while (b->logged_events < nev) {
		size_t got = metrics_events_copy(b->m, b->logged_events, ev, 32);

		if (got == 0) {
			b->logged_events = nev;
			break;
		}
		for (size_t i = 0; i < got; i++) {
			char line[METRICS_TEXT_MAX + 64];
			enum tui_role role = ev[i].kind == METRICS_EV_NAN || ev[i].kind == METRICS_EV_ERROR ? ROLE_ERROR
				: ev[i].kind == METRICS_EV_SET || ev[i].kind == METRICS_EV_EARLY_STOP ? ROLE_STDERR : ROLE_TEXT;

			if (ev[i].kind == METRICS_EV_EVAL) {
				if (b->logged_evals < nevals)
					log_eval(b, b->logged_evals++);
				continue;
			}
			snprintf(line, sizeof line, "%6lld %-5s %s", (long long)ev[i].step,
				short_kind[ev[i].kind >= 0 && ev[i].kind < METRICS_NEVENTS ? ev[i].kind : 0], ev[i].text);
			board_log_append(b->log, (int)role, line);
		}
		b->logged_events += got;
	}
	/* evaluations without an event (an older log) */
	while (b->logged_evals < nevals)
		log_eval(b, b->logged_evals++);
}

void board_idle_layouts(struct board *b, const struct layout *l, int n)
{
	b->idle = l, b->nidle = n;
	b->active = -1; /* decided at the next tick */
}

static void layouts_choose(struct board *b)
{
	int want = b->m != NULL || b->nsamples > 0 || b->watch || b->idle == NULL;

	if (b->has_user || want == b->active)
		return;
	b->active = want;
	if (want)
		screen_set_layouts(b->screen, b->watch ? board_watch_layouts : board_layouts,
			b->watch ? board_watch_nlayouts : board_nlayouts);
	else
		screen_set_layouts(b->screen, b->idle, b->nidle);
	screen_touch_all(b->screen);
}

int board_layout_set(struct board *b, const struct layout *l)
{
	int k = 0;

	if (l == NULL) {
		b->has_user = 0;
		b->active = -1;
		layouts_choose(b);
		return 0;
	}
	memset(&b->user, 0, sizeof b->user);
	b->user.name = "user";
	for (int r = 0; r < LAYOUT_MAX_ROWS && l->rows[r].weight > 0; r++) {
		b->user.rows[r].weight = l->rows[r].weight;
		for (int c = 0; c < LAYOUT_MAX_COLS && l->rows[r].panels[c]; c++) {
			struct panel *st[LAYOUT_STACK_MAX];
			int bad;

			if (screen_stack(b->screen, l->rows[r].panels[c], st, &bad) == 0 || bad >= 0)
				return det_error_set(DET_EINVAL, "ui.layout: no panel called '%.*s' (curves, lr, ap, samples, "
					"log, output)", (int)strcspn(l->rows[r].panels[c] + (bad > 0 ? bad : 0), "|"),
					l->rows[r].panels[c] + (bad > 0 ? bad : 0));
			snprintf(b->user_names[k], sizeof b->user_names[k], "%s", l->rows[r].panels[c]);
			b->user.rows[r].panels[c] = b->user_names[k++];
			b->user.rows[r].widths[c] = l->rows[r].widths[c];
		}
	}
	for (int i = 0; i < LAYOUT_MAX_BOTTOM && l->bottom[i]; i++) {
		snprintf(b->user_names[k], sizeof b->user_names[k], "%s", l->bottom[i]);
		b->user.bottom[i] = b->user_names[k++];
	}
	if (l->bottom[0] == NULL) {
		b->user.bottom[0] = "status";
		if (!b->watch)
			b->user.bottom[1] = "prompt";
	}
	b->has_user = 1;
	screen_set_layouts(b->screen, &b->user, 1);
	screen_touch_all(b->screen);
	return 0;
}

int board_follow(struct board *b, const char *path)
{
	struct metrics *m;
	struct metrics_follower *f;
	char file[4096];
	struct stat st;

	if (path == NULL) {
		board_samples_follow(b, NULL);
		metrics_follow_free(b->follower);
		b->follower = NULL;
		metrics_free(b->m);
		b->m = NULL;
		b->follow_current = 1;
		b->serial++;
		return 0;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(file, sizeof file, "%s/metrics.jsonl", path);
		board_samples_follow(b, path);
	} else {
		char dir[4096];
		const char *slash = strrchr(path, '/');

		snprintf(file, sizeof file, "%s", path);
		snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
		board_samples_follow(b, dir);
	}
	if ((m = metrics_new(0)) == NULL)
		return det_error_set(DET_ENOMEM, "ui: out of memory following %s", file);
	if ((f = metrics_follow_new(file, m)) == NULL) {
		metrics_free(m);
		return DET_ENOMEM;
	}
	metrics_follow_poll(f);
	metrics_follow_free(b->follower);
	metrics_free(b->m);
	b->follower = f, b->m = m;
	b->follow_current = 0;
	b->version = 0;
	b->logged_events = b->logged_evals = 0;
	b->serial++;
	return 0;
}

/* The store's lr plan (the trainer publishes it) into the board, when it
 * changed. A plan from det.ui.plan stays until the store has one. */
static void plan_sync(struct board *b, int new_store)
{
	uint64_t serial;
	size_t n = metrics_plan_copy(b->m, NULL, NULL, 0, &serial);

	if (new_store && n == 0 && b->plan_from_store) {
		board_plan_set(b, NULL, NULL, 0);
		b->plan_from_store = 0;
	}
	if (n == 0 || (!new_store && serial == b->plan_serial))
		return;
	double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);

	if (x && y) {
		size_t got = metrics_plan_copy(b->m, x, y, n, &serial);

		if (got < n)
			n = got;
		if (board_plan_set(b, x, y, (int)n) == 0)
			b->plan_from_store = 1, b->plan_serial = serial;
	}
	free(x);
	free(y);
}

int board_tick(struct board *b, long long now_ms)
{
	int flags = 0;

	if (b->samples_dir[0] && now_ms - b->last_samples_ms >= 500) {
		b->last_samples_ms = now_ms;
		samples_poll(b);
	}

	if (b->follower && now_ms - b->last_follow_ms >= 200) {
		b->last_follow_ms = now_ms;
		if (metrics_follow_poll(b->follower) < 0 && b->log)
			board_log_append(b->log, ROLE_ERROR, det_error_message());
	}

	if (b->follow_current) {
		struct metrics *m = metrics_current_get();

		if (m != b->m) {
			metrics_free(b->m);
			b->m = m;
			b->version = 0;
			b->logged_events = b->logged_evals = 0;
			b->serial++;
			flags |= PANEL_REDRAW;
		} else {
			metrics_free(m);
		}
	}
	layouts_choose(b);
	if (b->m) {
		uint64_t v = metrics_version(b->m);

		if (v != b->version) {
			plan_sync(b, b->version == 0);
			b->version = v;
			b->serial++;
			log_feed(b);
			flags |= PANEL_REDRAW;
		}
		/* the status bar at most 4 times a second (RSS and ETA move anyway) */
		if (now_ms - b->last_status_ms >= 250) {
			b->last_status_ms = now_ms;
			status_update(b);
		}
	}
	return flags;
}

/* ---- keys ---- */

static void help_toggle(struct board *b)
{
	if (b->help == NULL)
		return;
	if (screen_zoomed(b->screen) == b->help) {
		screen_zoom(b->screen, b->zoom_before_help);
	} else {
		b->zoom_before_help = screen_zoomed(b->screen);
		screen_zoom(b->screen, b->help);
	}
	screen_touch_all(b->screen);
}

int board_key(struct board *b, int ch, int prompt_empty)
{
	struct panel *focus = screen_focus(b->screen);

	if (b->help && screen_zoomed(b->screen) == b->help) {
		help_toggle(b); /* any key closes the help */
		return PANEL_HANDLED;
	}
	if (ch == KEY_F(1) || (ch == '?' && (focus || b->watch))) {
		help_toggle(b);
		return PANEL_HANDLED;
	}
	if (ch == KEY_F(2) || (ch == '\t' && (focus || prompt_empty || b->watch))) {
		screen_focus_next(b->screen, +1);
		return PANEL_HANDLED;
	}
	if (ch == KEY_BTAB) {
		screen_focus_next(b->screen, -1);
		return PANEL_HANDLED;
	}
	if (ch == KEY_F(3)) {
		struct panel *p = focus ? focus : b->output;

		screen_zoom(b->screen, screen_zoomed(b->screen) == p ? NULL : p);
		screen_touch_all(b->screen);
		return PANEL_HANDLED;
	}
	if (ch == 27 && focus) {
		screen_focus_set(b->screen, NULL);
		return PANEL_HANDLED;
	}
	return PANEL_IGNORED;
}

/* ---- snapshots ---- */

int board_sample_png(struct board *b, const char *path)
{
	struct panel *p = screen_panel(b->screen, "samples");
	int i = p ? samples_panel_current(p) : 0, rc;
	struct image im = { 0 };
	const struct board_sample *s;

	if (b->nsamples == 0)
		return det_error_set(DET_EINVAL, "ui.snapshot: no samples to write to %s (none given yet)", path);
	s = &b->samples[i];
	if ((rc = image_init(&im, s->im.width, s->im.height, 3)) != 0)
		return rc;
	for (size_t k = 0; k < (size_t)s->im.width * (size_t)s->im.height; k++)
		for (int c = 0; c < 3; c++)
			im.data[k * 3 + (size_t)c] = s->im.data[k * (size_t)s->im.channels + (size_t)(s->im.channels >= 3 ? c : 0)];
	for (int k = 0; k < s->nboxes; k++) {
		const struct img_box *bx = &s->boxes[k];
		uint32_t c = img_class_color(bx->cls);
		uint8_t rgb[3] = { (uint8_t)CELL_R(c), (uint8_t)CELL_G(c), (uint8_t)CELL_B(c) };
		char label[80];

		draw_rect(&im, bx->x0, bx->y0, bx->x1, bx->y1, rgb, bx->pred ? 2 : 1);
		if (bx->pred) {
			snprintf(label, sizeof label, "%s %.2f",
				bx->cls >= 0 && bx->cls < b->nnames ? b->names[bx->cls] : "?", (double)bx->score);
			draw_text(&im, (int)bx->x0 + 2, (int)bx->y0 + 2, label, rgb);
		}
	}
	rc = imageio_write_png(path, &im);
	image_fini(&im);
	return rc;
}

int board_screen_text(const char *path)
{
	struct atomic_file af;
	FILE *f;

	if (atomic_file_open(&af, path) != 0)
		return det_error_set(DET_EIO, "ui.snapshot: %s", det_error_message());
	f = af.f;
	for (int y = 0; y < LINES; y++) {
		char line[4096];
		int len = 0, end = 0;

		for (int x = 0; x < COLS && len + 8 < (int)sizeof line; x++) {
			cchar_t cc;
			wchar_t wc[CCHARW_MAX + 1] = { 0 };
			attr_t a;
			short pair;

			if (mvwin_wch(curscr, y, x, &cc) == ERR || getcchar(&cc, wc, &a, &pair, NULL) == ERR || wc[0] == 0)
				wc[0] = ' ';
			len += cell_utf8((uint32_t)wc[0], line + len);
			if (wc[0] != ' ')
				end = len;
		}
		fwrite(line, 1, (size_t)end, f);
		fputc('\n', f);
	}
	if (atomic_file_commit(&af) != 0)
		return det_error_set(DET_EIO, "ui.snapshot: %s", det_error_message());
	return 0;
}

int board_add_panels(struct board *b, struct panel *status, struct panel *output, struct panel *prompt)
{
	const struct panel_class *classes[] = { &curves_panel_class, &lr_panel_class, &ap_panel_class,
		&samples_panel_class, &log_panel_class, &help_panel_class };

	b->status = status, b->output = output, b->prompt = prompt;
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
		void *st = board_panel_new(b, classes[i]);
		struct panel *p = st ? screen_add(b->screen, classes[i], st) : NULL;

		if (p == NULL) {
			if (st && classes[i]->free) {
				struct panel tmp = { .cls = classes[i], .state = st };

				classes[i]->free(&tmp);
			}
			return det_error_set(DET_ENOMEM, "ui: out of memory adding the %s panel", classes[i]->name);
		}
		if (classes[i] == &log_panel_class)
			b->log = p;
		if (classes[i] == &help_panel_class)
			b->help = p;
	}
	return 0;
}
