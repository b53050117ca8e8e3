/* watch.c: the `watch` subcommand: its own small main loop (curses, the
 * screen manager with the board's watch layouts, a metrics store filled by
 * a follower of metrics.jsonl), polling the file five times a second. */
#include "tui/watch.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "config.h"
#include "core/error.h"
#include "train/metrics.h"
#include "tui/board.h"
#include "tui/screen.h"
#include "tui/status.h"
#include "tui/style.h"
#include "tui/text.h"

#define POLL_MS 200

static volatile sig_atomic_t watch_signal;

static void on_signal(int sig)
{
	watch_signal = sig;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: detbench watch RUN_DIR\n"
		"Shows the run's panels (curves, learning rate, per-class AP, samples, log,\n"
		"status) for a run another process writes, following RUN_DIR/metrics.jsonl\n"
		"and the samples of its last evaluation (RUN_DIR/samples.json).\n"
		"Keys: q quit, F1 or ? help, Tab/F2 focus, F3 zoom.\n");
}

int watch_main(int argc, char **argv)
{
	char path[4096];
	struct stat st;
	struct metrics *m = NULL;
	struct metrics_follower *fol = NULL;
	struct screen *scr = NULL;
	struct board *b = NULL;
	struct panel *status;
	SCREEN *term;
	FILE *tty;
	int fd, rc = 0;
	long long last_poll = 0;
	struct sigaction sa, old_int, old_hup, old_term;

	if (argc != 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc == 2 ? stdout : stderr);
		return argc == 2 ? 0 : 1;
	}
	if (stat(argv[1], &st) != 0) {
		fprintf(stderr, "detbench watch: no run at %s (no such file or directory)\n", argv[1]);
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		snprintf(path, sizeof path, "%s/metrics.jsonl", argv[1]);
	else
		snprintf(path, sizeof path, "%s", argv[1]);
	if (!isatty(STDOUT_FILENO)) {
		fprintf(stderr, "detbench watch: needs a terminal (standard output is not one)\n");
		return 1;
	}
	setlocale(LC_CTYPE, "");
	tui_text_init();
	m = metrics_new(0);
	fol = m ? metrics_follow_new(path, m) : NULL;
	if (fol == NULL) {
		fprintf(stderr, "detbench watch: %s\n", det_error_message());
		metrics_free(m);
		return 1;
	}
	fd = dup(STDOUT_FILENO);
	tty = fd >= 0 ? fdopen(fd, "w") : NULL;
	term = tty ? newterm(NULL, tty, stdin) : NULL;
	if (term == NULL) {
		const char *t = getenv("TERM");

		fprintf(stderr, "detbench watch: can't open the screen on this terminal (TERM=%s)\n", t ? t : "unset");
		if (tty)
			fclose(tty);
		metrics_follow_free(fol);
		metrics_free(m);
		return 1;
	}
	set_term(term);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGTERM, &sa, &old_term);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	wtimeout(stdscr, 100);
	tui_style_init();

	scr = screen_new(board_watch_layouts, board_watch_nlayouts);
	status = scr ? screen_add(scr, &status_panel_class, status_state_new("detbench watch")) : NULL;
	b = scr ? board_new(scr, m) : NULL;
	if (status == NULL || status->state == NULL || b == NULL || board_add_panels(b, status, NULL, NULL) != 0) {
		endwin();
		fprintf(stderr, "detbench watch: out of memory\n");
		rc = 1;
		goto out;
	}
	b->watch = 1;
	if (S_ISDIR(st.st_mode)) {
		board_samples_follow(b, argv[1]);
	} else {
		char dir[4096];
		const char *slash = strrchr(argv[1], '/');

		snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - argv[1]) : 1, slash ? argv[1] : ".");
		board_samples_follow(b, dir);
	}
	status_set(status, STATUS_STATE, "waiting");
	status_set(status, STATUS_HINT, "q quit \xc2\xb7 F1 keys \xc2\xb7 Tab panels\tq quit \xc2\xb7 F1 keys\tq quit");
	{
		char line[4200];

		snprintf(line, sizeof line, "watching %s", path);
		board_log_append(b->log, ROLE_NOTE, line);
	}
	for (;;) {
		long long now = now_ms();
		int ch, flags;

		if (watch_signal)
			break;
		if (now - last_poll >= POLL_MS) {
			int got = metrics_follow_poll(fol);

			last_poll = now;
			if (got < 0)
				board_log_append(b->log, ROLE_ERROR, det_error_message());
		}
		board_tick(b, now);
		screen_tick(scr, now);
		screen_update(scr);
		ch = wgetch(stdscr);
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			screen_relayout(scr);
			screen_touch_all(scr);
			continue;
		}
		if (ch == 12) { /* Ctrl-L */
			screen_touch_all(scr);
			continue;
		}
		if (board_key(b, ch, 1) & PANEL_HANDLED)
			continue;
		flags = screen_key(scr, ch);
		if (flags & PANEL_HANDLED)
			continue;
		if (ch == 'q' || ch == 'Q' || ch == 3 || ch == 4)
			break;
	}
	endwin();
	if (watch_signal == SIGHUP || watch_signal == SIGTERM)
		rc = 128 + watch_signal;
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	screen_free(scr);
	board_free(b);
	delscreen(term);
	fclose(tty);
	metrics_follow_free(fol);
	metrics_free(m);
	return rc;
}
