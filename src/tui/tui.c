/* tui.c: the workbench's main loop: brings the screen up (curses on the
 * terminal, fd 1/2 captured, the panels registered), reads keys, hands them
 * to the screen manager, and takes everything down again on every way out:
 * Ctrl-D, os.exit() (atexit), a failed assertion (the fatal hook), SIGHUP
 * and SIGTERM. Signal handlers only set flags (and ask Lua to stop through
 * host_interrupt); the Lua state is only ever touched on this thread. */
#include "tui/tui.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>
#include <lua.h>
#include <term.h>
#include <readline/readline.h>

#include "config.h"
#include "core/error.h"
#include "lua/host.h"
#include "tui/board.h"
#include "tui/capture.h"
#include "tui/history.h"
#include "tui/output.h"
#include "tui/prompt.h"
#include "tui/screen.h"
#include "tui/status.h"
#include "tui/style.h"
#include "tui/text.h"

#define OUTPUT_LINES 20000
#define REFRESH_MS 50 /* while a chunk prints, redraw at most this often */

/* Layouts by terminal size, first fit wins. Panels of later issues (charts,
 * AP table, samples, log) are added by name; names not registered are
 * skipped. */
static const struct layout layouts[] = {
	{
		.name = "default",
		.min_rows = 0,
		.min_cols = 0,
		.rows = { { .weight = 1, .panels = { "output" } } },
		.bottom = { "status", "prompt" },
	},
};

struct tui {
	struct host *host;
	struct screen *screen;
	struct panel *output, *status, *prompt;
	struct board *board; /* the run's panels (board.h) */
	struct capture *capture;
	SCREEN *term;
	FILE *tty;
	char *history; /* the history file's path (NULL: none) */
	struct sigaction old_int, old_hup, old_term;
	int opened;    /* tui_open ran */
	int line_mode; /* the terminal cannot hold the screen: plain readline */
	int up;      /* curses is on the terminal */
	int running; /* a chunk runs */
	long long last_draw;
};

static struct tui *the_tui;
static volatile sig_atomic_t got_sigint, got_hangup, chunk_running;
static struct host *volatile signal_host;

static struct {
	void (*fn)(void *ctx);
	void *ctx;
} hangup_hooks[8];
static int nhangup_hooks;

struct board *tui_board(void)
{
	return the_tui ? the_tui->board : NULL;
}

int tui_samples_show(const struct train_sample *s, int n, const char *const *names, int nnames, int64_t step)
{
	if (the_tui == NULL || the_tui->board == NULL)
		return 1;
	return board_samples_from(the_tui->board, s, n, names, nnames, step);
}

int tui_on_hangup(void (*fn)(void *ctx), void *ctx)
{
	if (nhangup_hooks == (int)(sizeof hangup_hooks / sizeof hangup_hooks[0]))
		return -1;
	hangup_hooks[nhangup_hooks].fn = fn;
	hangup_hooks[nhangup_hooks].ctx = ctx;
	nhangup_hooks++;
	return 0;
}

/* Idle hook (the trainer's binding registers one): called about every
 * 100 ms from the prompt loop below, between keys, never while a chunk
 * runs, so it may call Lua (experiment callbacks) on the main thread. */
static void (*idle_fn)(void *ctx);
static void *idle_ctx;

void tui_on_idle(void (*fn)(void *ctx), void *ctx)
{
	idle_fn = fn;
	idle_ctx = ctx;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Puts the terminal back: on exit, os.exit() (atexit) and the fatal path. */
static void tui_restore(void)
{
	struct tui *t = the_tui;

	if (t == NULL || !t->up)
		return;
	t->up = 0;
	capture_restore_fds(t->capture);
	endwin();
}

static void on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
}

static void on_hangup(int sig)
{
	got_hangup = sig;
	if (chunk_running && signal_host)
		host_interrupt(signal_host); /* async-signal safe */
}

static void captured(void *ctx, int is_stderr, const char *text, size_t len)
{
	struct tui *t = ctx;

	output_append(t->output, is_stderr ? ROLE_STDERR : ROLE_TEXT, text, len);
}

/* While a chunk runs nobody calls wgetch, which is where curses applies a
 * resize: look at the terminal's size ourselves. */
static void follow_resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(fileno(t->tty), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
	    (ws.ws_row != LINES || ws.ws_col != COLS)) {
		resizeterm(ws.ws_row, ws.ws_col);
		screen_relayout(t->screen);
		screen_touch_all(t->screen);
	}
}

static void refresh_now(struct tui *t)
{
	long long now = now_ms();

	if (t->running)
		follow_resize(t);
	capture_drain(t->capture, captured, t);
	if (t->board)
		board_tick(t->board, now);
	screen_tick(t->screen, now);
	screen_update(t->screen);
	t->last_draw = now;
}

/* The host's output: into the output panel, drawn as it comes while a
 * chunk runs (at most every REFRESH_MS). */
static void sink(void *ctx, const char *text, size_t len, int is_error)
{
	struct tui *t = ctx;

	/* what io.write or C code wrote before this comes first */
	fflush(stdout);
	capture_drain(t->capture, captured, t);
	output_append(t->output, is_error ? ROLE_ERROR : ROLE_TEXT, text, len);
	if (t->running && now_ms() - t->last_draw >= REFRESH_MS) {
		fflush(stdout);
		fflush(stderr);
		refresh_now(t);
	}
}

/* While a chunk runs, a count hook redraws what it printed (at most every
 * REFRESH_MS), so a long loop shows its progress. It only draws; Ctrl-C's
 * hook (host_interrupt) replaces it, and the host clears it after the chunk. */
static void refresh_hook(lua_State *L, lua_Debug *ar)
{
	struct tui *t = the_tui;

	(void)L, (void)ar;
	if (t && t->running && now_ms() - t->last_draw >= REFRESH_MS) {
		fflush(stdout);
		fflush(stderr);
		refresh_now(t);
	}
}

static void show_memory(struct tui *t)
{
	lua_State *L = host_lua(t->host);
	char buf[64];
	int kb = lua_gc(L, LUA_GCCOUNT, 0);

	if (t->board && t->board->m)
		return; /* the run's figures hold the bar */

	if (kb >= 10 * 1024)
		snprintf(buf, sizeof buf, "Lua %d MB", kb / 1024);
	else
		snprintf(buf, sizeof buf, "Lua %d KB", kb);
	status_set(t->status, STATUS_INFO, buf);
}

static void before_eval(void *ctx)
{
	struct tui *t = ctx;

	t->running = 1;
	chunk_running = 1;
	status_set(t->status, STATUS_STATE, "running (Ctrl-C interrupts)");
	/* while Lua runs, Ctrl-C is a signal (SIGINT -> host_interrupt) */
	noraw();
	cbreak();
	refresh_now(t);
	lua_sethook(host_lua(t->host), refresh_hook, LUA_MASKCOUNT, 20000);
}

static void after_eval(void *ctx)
{
	struct tui *t = ctx;

	lua_sethook(host_lua(t->host), NULL, 0, 0);
	fflush(stdout);
	fflush(stderr);
	chunk_running = 0;
	t->running = 0;
	capture_drain(t->capture, captured, t);
	output_newline(t->output);
	status_set(t->status, STATUS_STATE, "ready");
	show_memory(t);
	raw();
}

static void note(struct tui *t, const char *text)
{
	output_append(t->output, ROLE_NOTE, text, strlen(text));
}

static void show_keys(struct tui *t)
{
	note(t,
		"Keys: Enter run   Tab complete   Up/Down history   Ctrl-R search history\n"
		"      PgUp/PgDn scroll the output   Ctrl-L redraw   F1 this list\n"
		"      Ctrl-C interrupt (or clear the line)   Ctrl-D quit (on an empty line)\n"
		"      other editing keys are readline's (emacs mode; see readline(3))\n");
}

static void fatal_hook(void)
{
	tui_restore();
}

/* Captured text the screen never showed, written to the restored fds. */
static void leftover(void *ctx, int is_stderr, const char *text, size_t len)
{
	(void)ctx;
	if (write(is_stderr ? STDERR_FILENO : STDOUT_FILENO, text, len) < 0) {
		/* the terminal is gone: nowhere left to say it */
	}
}

/* exit() with the screen up: os.exit(), or main leaving early. */
static void at_exit(void)
{
	struct tui *t = the_tui;

	if (t && t->up) {
		prompt_history_save(t->prompt);
		fflush(stdout);
		fflush(stderr);
		tui_restore();
		capture_drain(t->capture, leftover, NULL);
	}
}

/* Brings curses up on the terminal; returns 0 or -1 with a message. */
static int screen_open(struct tui *t)
{
	int fd = dup(STDOUT_FILENO);

	if (fd < 0 || (t->tty = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "detbench: can't open the terminal for the screen\n");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	t->term = newterm(NULL, t->tty, stdin);
	if (t->term == NULL) {
		const char *term = getenv("TERM");

		fprintf(stderr, "detbench: can't open the screen on this terminal (TERM=%s); "
			"use `detbench run FILE` or pipe Lua into detbench\n", term ? term : "unset");
		fclose(t->tty);
		t->tty = NULL;
		return -1;
	}
	set_term(t->term);
	t->up = 1;
	/* At the prompt the terminal is raw: Ctrl-C, Ctrl-Z, Ctrl-S arrive as
	 * keys, in order with what was typed before them. While a chunk runs
	 * it is cbreak, so Ctrl-C is a signal that reaches the chunk. */
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	set_escdelay(25);
	curs_set(1);
	tui_style_init();
	return 0;
}

/* Whether the terminal can hold the screen: it is known and can move the
 * cursor (TERM=dumb, as in an editor's shell buffer, cannot). */
static int terminal_usable(void)
{
	int err = 0, usable;
	const char *cup;

	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return 0;
	cup = tigetstr("cup");
	usable = cup != NULL && cup != (const char *)-1;
	del_curterm(cur_term);
	return usable;
}

/* The one workbench of the process (readline and curses are global). */
static struct tui tui_state;

struct screen *tui_screen(void)
{
	return the_tui ? the_tui->screen : NULL;
}

struct panel *tui_status_panel(void)
{
	return the_tui ? the_tui->status : NULL;
}

static void signals_restore(struct tui *t)
{
	signal_host = NULL;
	sigaction(SIGINT, &t->old_int, NULL);
	sigaction(SIGHUP, &t->old_hup, NULL);
	sigaction(SIGTERM, &t->old_term, NULL);
}

int tui_open(struct host *h)
{
	static int registered;
	struct tui *t = &tui_state;
	struct sigaction sa;

	if (t->opened)
		return 0;
	memset(t, 0, sizeof *t);
	t->host = h;
	t->history = tui_history_path();
	setlocale(LC_CTYPE, "");
	tui_text_init();
	/* our handlers first, so curses keeps its hands off SIGINT and SIGTERM */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &t->old_int);
	sa.sa_handler = on_hangup;
	sigaction(SIGHUP, &sa, &t->old_hup);
	sigaction(SIGTERM, &sa, &t->old_term);
	signal_host = h;

	if (!terminal_usable()) {
		/* no screen, but still a prompt with editing and history */
		t->line_mode = 1;
		t->opened = 1;
		return 0;
	}
	prompt_init_readline();
	if (screen_open(t) != 0) {
		free(t->history);
		t->history = NULL;
		signals_restore(t);
		return -1;
	}
	t->opened = 1;
	the_tui = t;
	if (!registered) {
		atexit(at_exit);
		registered = 1;
	}
	det_fatal_hook_set(fatal_hook);
	t->capture = capture_start();

	{
		static const struct prompt_hooks hooks_template = { before_eval, after_eval, NULL };
		struct prompt_hooks hooks = hooks_template;
		char title[64];

		hooks.ctx = t;
		snprintf(title, sizeof title, "detbench %s", PACKAGE_VERSION);
		t->screen = screen_new(layouts, (int)(sizeof layouts / sizeof layouts[0]));
		t->output = screen_add(t->screen, &output_panel_class, output_state_new(OUTPUT_LINES));
		t->status = screen_add(t->screen, &status_panel_class, status_state_new(title));
		t->prompt = screen_add(t->screen, &prompt_panel_class,
			prompt_state_new(h, t->screen, t->output, t->history, &hooks));
		DET_ASSERT(t->screen && t->output && t->output->state && t->status && t->status->state &&
			t->prompt && t->prompt->state, "out of memory opening the screen");
		t->board = board_new(t->screen, NULL);
		DET_ASSERT(t->board && board_add_panels(t->board, t->status, t->output, t->prompt) == 0,
			"out of memory opening the screen");
		board_idle_layouts(t->board, layouts, (int)(sizeof layouts / sizeof layouts[0]));
	}
	screen_set_cursor(t->screen, t->prompt);
	status_set(t->status, STATUS_HINT, tui_text_utf8()
		? "Tab complete \xc2\xb7 F2 panels \xc2\xb7 F1 keys \xc2\xb7 Ctrl-D quit\tF1 keys \xc2\xb7 Ctrl-D quit\tF1 keys"
		: "Tab complete, F2 panels, F1 keys, Ctrl-D quit\tF1 keys, Ctrl-D quit\tF1 keys");
	show_memory(t);
	if (t->capture == NULL) {
		output_append(t->output, ROLE_ERROR, det_error_message(), strlen(det_error_message()));
		output_append(t->output, ROLE_ERROR, "\n", 1);
	}
	{
		char hello[200];

		snprintf(hello, sizeof hello,
			"detbench %s (%s, det loaded): help() or ? name for docs, F1 for keys.\n",
			PACKAGE_VERSION, LUA_RELEASE);
		note(t, hello);
	}
	host_set_sink(h, sink, t);
	prompt_start(t->prompt);
	/* until tui_run: whatever the caller runs (-e, FILE) is a running chunk */
	before_eval(t);
	return 0;
}

static int tui_close(struct tui *t)
{
	int status = 0;

	prompt_stop(t->prompt); /* saves the history */
	if (got_hangup) {
		for (int i = 0; i < nhangup_hooks; i++)
			hangup_hooks[i].fn(hangup_hooks[i].ctx);
		status = 128 + got_hangup;
	}
	host_set_sink(t->host, NULL, NULL);
	fflush(stdout);
	fflush(stderr);
	capture_drain(t->capture, captured, t);
	tui_restore();
	capture_stop(t->capture);
	det_fatal_hook_set(NULL);
	the_tui = NULL;
	screen_free(t->screen);
	board_free(t->board);
	delscreen(t->term);
	fclose(t->tty);
	free(t->history);
	signals_restore(t);
	memset(t, 0, sizeof *t);
	return status;
}

int tui_run(struct host *h)
{
	struct tui *t = &tui_state;

	if (!t->opened && tui_open(h) != 0)
		return 1;
	if (t->line_mode) {
		int status = prompt_line_mode(h, t->history, &got_sigint);

		free(t->history);
		signals_restore(t);
		memset(t, 0, sizeof *t);
		return status;
	}
	after_eval(t); /* ready: the prompt takes over */
	got_sigint = 0;
	screen_update(t->screen);

	while (!prompt_done(t->prompt)) {
		WINDOW *w;
		int ch, flags;

		if (got_hangup)
			break;
		if (got_sigint) {
			got_sigint = 0;
			prompt_cancel(t->prompt);
		}
		if (idle_fn)
			idle_fn(idle_ctx);
		refresh_now(t);
		w = t->prompt->win ? t->prompt->win : stdscr;
		ch = wgetch(w);
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			rl_set_screen_size(LINES, COLS);
			screen_relayout(t->screen);
			screen_touch_all(t->screen);
			continue;
		}
		if (board_key(t->board, ch, rl_end == 0) & PANEL_HANDLED)
			continue;
		if (ch == KEY_F(1)) {
			show_keys(t);
			continue;
		}
		if (ch == 3) { /* Ctrl-C */
			prompt_cancel(t->prompt);
			continue;
		}
		if (ch == 26) { /* Ctrl-Z: curses' SIGTSTP handler suspends and resumes */
			raise(SIGTSTP);
			screen_touch_all(t->screen);
			continue;
		}
		flags = screen_key(t->screen, ch);
		if (flags & PANEL_QUIT)
			break;
	}
	return tui_close(t);
}
