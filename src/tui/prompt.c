/* prompt.c: the prompt panel (see prompt.h). Readline never touches the
 * terminal: it reads bytes we hand it (rl_getc_function), draws through
 * rl_redisplay_function into the panel's window, and leaves signals,
 * SIGWINCH and terminal modes to curses. */
#include "tui/prompt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "core/error.h"
#include "lua/host.h"
#include "tui/history.h"
#include "tui/output.h"
#include "tui/screen.h"
#include "tui/style.h"
#include "tui/text.h"

#define PROMPT_FIRST "> "
#define PROMPT_MORE ">> "
#define MAX_SHOWN_MATCHES 400

struct prompt {
	struct host *host;
	struct screen *screen;
	struct panel *self, *output;
	char *history_path;
	struct prompt_hooks hooks;
	char *pending;     /* the lines of an unfinished statement, joined by "\n" */
	char *line;        /* the line readline just accepted */
	int have_line, done, started;
	unsigned char queue[64]; /* bytes waiting for readline */
	int qhead, qtail;
};

/* Readline's callbacks carry no context: the one prompt. */
static struct prompt *the_prompt;

static void queue_push(struct prompt *pr, const char *bytes, int n)
{
	for (int i = 0; i < n && pr->qtail < (int)sizeof pr->queue; i++)
		pr->queue[pr->qtail++] = (unsigned char)bytes[i];
}

/* A curses key as the bytes readline expects from a terminal. */
static void queue_key(struct prompt *pr, int ch)
{
	static const struct { int key; const char *seq; } keys[] = {
		{ KEY_UP, "\033[A" }, { KEY_DOWN, "\033[B" },
		{ KEY_RIGHT, "\033[C" }, { KEY_LEFT, "\033[D" },
		{ KEY_HOME, "\033[H" }, { KEY_END, "\033[F" },
		{ KEY_DC, "\033[3~" }, { KEY_IC, "\033[2~" },
		{ KEY_BACKSPACE, "\177" }, { KEY_ENTER, "\r" },
	};
	static const struct { const char *name; const char *seq; } named[] = {
		{ "kLFT5", "\033[1;5D" }, { "kRIT5", "\033[1;5C" }, /* ctrl-arrows */
		{ "kLFT3", "\033[1;3D" }, { "kRIT3", "\033[1;3C" }, /* alt-arrows */
		{ "kUP5", "\033[1;5A" }, { "kDN5", "\033[1;5B" },
	};
	char c;

	if (ch >= 0 && ch < 256) {
		c = (char)ch;
		queue_push(pr, &c, 1);
		return;
	}
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].key == ch) {
			queue_push(pr, keys[i].seq, (int)strlen(keys[i].seq));
			return;
		}
	{
		const char *name = keyname(ch);

		for (size_t i = 0; name && i < sizeof named / sizeof named[0]; i++)
			if (strcmp(named[i].name, name) == 0) {
				queue_push(pr, named[i].seq, (int)strlen(named[i].seq));
				return;
			}
	}
	/* other function keys mean nothing to readline */
}

static int rl_getc_cb(FILE *f)
{
	struct prompt *pr = the_prompt;

	(void)f;
	/* readline asked for more than was typed: wait for the next key */
	while (pr->qhead == pr->qtail) {
		int ch = pr->self->win ? wgetch(pr->self->win) : ERR;

		pr->qhead = pr->qtail = 0;
		if (ch == ERR) {
			if (pr->self->win == NULL)
				return 7; /* Ctrl-G: abort whatever readline waits for */
			continue;
		}
		if (ch != KEY_RESIZE)
			queue_key(pr, ch);
		else
			screen_relayout(pr->screen);
	}
	return pr->queue[pr->qhead++];
}

static int rl_input_available_cb(void)
{
	return the_prompt->qhead != the_prompt->qtail;
}

/* Lays out prompt + line, wrapped to cols. When w is not NULL, draws rows
 * first..first+maxrows-1. Returns the rows the whole thing takes; *crow and
 * *ccol get the cursor's row and column. */
static int render(WINDOW *w, int cols, int first, int maxrows, int *crow, int *ccol)
{
	const char *prompt = rl_display_prompt ? rl_display_prompt : "";
	const char *buf = rl_line_buffer ? rl_line_buffer : "";
	int end = rl_end, point = rl_point, row = 0, col = 0, seg;

	if (cols < 2)
		cols = 2;
	*crow = *ccol = 0;
	/* seg 0: the prompt; seg 1: the line */
	for (seg = 0; seg < 2; seg++) {
		const char *s = seg ? buf : prompt;
		int n = seg ? end : (int)strlen(prompt), i = 0;

		while (i <= n) {
			char tmp[8];
			const char *out = s + i;
			int len, width, step;
			attr_t attr = tui_style_attr(seg ? ROLE_TEXT : ROLE_PROMPT);

			if (seg == 1 && i == point) {
				*crow = row, *ccol = col;
			}
			if (i == n)
				break;
			if (s[i] == '\n') {
				row++, col = 0;
				if (w && row >= first && row < first + maxrows) {
					wattrset(w, tui_style_attr(ROLE_PROMPT));
					mvwaddstr(w, row - first, 0, PROMPT_MORE);
				}
				col = (int)strlen(PROMPT_MORE);
				i++;
				continue;
			}
			if (s[i] == '\t') {
				out = "        ";
				len = width = 8 - col % 8;
				step = 1;
			} else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				tmp[0] = '^';
				tmp[1] = s[i] == 0x7f ? '?' : (char)(s[i] + '@');
				out = tmp;
				len = width = 2;
				step = 1;
			} else {
				step = len = tui_text_next(s + i, (size_t)(n - i), &width);
				if ((unsigned char)s[i] >= 0x80 && !tui_text_utf8()) {
					out = "?";
					len = width = 1;
				}
			}
			if (col + width > cols) {
				row++, col = 0;
			}
			if (w && row >= first && row < first + maxrows) {
				wattrset(w, attr);
				mvwaddnstr(w, row - first, col, out, len);
			}
			col += width;
			i += step;
		}
	}
	if (*ccol >= cols) { /* a full row: the cursor waits on the next */
		(*crow)++;
		*ccol = 0;
	}
	return (*crow > row ? *crow : row) + 1;
}

static int max_rows(void)
{
	return LINES / 3 > 1 ? LINES / 3 : 1;
}

static int prompt_want_rows(const struct panel *p, int cols)
{
	int crow, ccol, rows;

	(void)p;
	if (!the_prompt || !the_prompt->started)
		return 1;
	rows = render(NULL, cols, 0, 0, &crow, &ccol);
	return rows < max_rows() ? rows : max_rows();
}

static void prompt_draw(struct panel *p)
{
	int crow, ccol, first = 0, rows;

	werase(p->win);
	if (!the_prompt->started)
		return;
	rows = render(NULL, p->cols, 0, 0, &crow, &ccol);
	(void)rows;
	if (crow >= p->rows)
		first = crow - p->rows + 1;
	render(p->win, p->cols, first, p->rows, &crow, &ccol);
	wattrset(p->win, A_NORMAL);
	wmove(p->win, crow - first, ccol < p->cols ? ccol : p->cols - 1);
}

static void rl_redisplay_cb(void)
{
	struct prompt *pr = the_prompt;
	struct panel *p = pr->self;

	p->dirty = 1;
	if (p->win && prompt_want_rows(p, p->cols) != p->rows)
		screen_relayout(pr->screen);
}

static void rl_line_cb(char *line)
{
	the_prompt->line = line;
	the_prompt->have_line = 1;
}

/* Echoes an accepted line into the output, "> " before the first of its
 * lines, ">> " before the others. */
static void echo_input(struct prompt *pr, const char *line, int more)
{
	const char *s = line;

	output_newline(pr->output);
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		const char *pre = more ? PROMPT_MORE : PROMPT_FIRST;

		output_append(pr->output, ROLE_PROMPT, pre, strlen(pre));
		output_append(pr->output, ROLE_PROMPT, s, n);
		output_append(pr->output, ROLE_PROMPT, "\n", 1);
		if (nl == NULL)
			break;
		s = nl + 1;
		more = 1;
	}
}

static int blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s == '\0';
}

static void remember(struct prompt *pr, const char *entry)
{
	HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;

	if (blank(entry) || (last && strcmp(last->line, entry) == 0))
		return;
	add_history(entry);
	stifle_history(TUI_HISTORY_MAX);
	if (pr->history_path && tui_history_save(pr->history_path) != 0) {
		const char *msg = det_error_message();

		output_append(pr->output, ROLE_ERROR, msg, strlen(msg));
		output_append(pr->output, ROLE_ERROR, "\n", 1);
	}
}

/* Runs what readline accepted: gathers continuation lines, then evaluates. */
static void take_line(struct prompt *pr, char *line)
{
	char *joined;
	size_t n;
	enum host_result r;

	echo_input(pr, line, pr->pending != NULL);
	n = (pr->pending ? strlen(pr->pending) + 1 : 0) + strlen(line) + 1;
	joined = malloc(n);
	if (joined == NULL) {
		free(line);
		return;
	}
	snprintf(joined, n, "%s%s%s", pr->pending ? pr->pending : "", pr->pending ? "\n" : "", line);
	free(line);
	free(pr->pending);
	pr->pending = NULL;
	if (blank(joined)) {
		free(joined);
		rl_callback_handler_install(PROMPT_FIRST, rl_line_cb);
		return;
	}
	if (pr->hooks.before_eval)
		pr->hooks.before_eval(pr->hooks.ctx);
	r = host_eval(pr->host, joined);
	if (pr->hooks.after_eval)
		pr->hooks.after_eval(pr->hooks.ctx);
	if (r == HOST_INCOMPLETE) {
		pr->pending = joined;
		rl_callback_handler_install(PROMPT_MORE, rl_line_cb);
		return;
	}
	remember(pr, joined);
	free(joined);
	rl_callback_handler_install(PROMPT_FIRST, rl_line_cb);
}

static int prompt_key(struct panel *p, int ch)
{
	struct prompt *pr = p->state;
	int rows = p->rows, flags = PANEL_HANDLED | PANEL_REDRAW;

	if (!pr->started || pr->done)
		return PANEL_IGNORED;
	queue_key(pr, ch);
	while (pr->qhead != pr->qtail && !pr->done) {
		rl_callback_read_char();
		if (pr->have_line) {
			char *line = pr->line;

			pr->have_line = 0;
			pr->line = NULL;
			if (line == NULL) {
				pr->done = 1;
				flags |= PANEL_QUIT;
			} else {
				take_line(pr, line);
			}
		}
	}
	pr->qhead = pr->qtail = 0;
	if (p->win && prompt_want_rows(p, p->cols) != rows)
		flags |= PANEL_RESIZE;
	return flags;
}

/* Completion: candidates come from det.complete.candidates(word). */
static char **complete_cb(const char *text, int start, int end)
{
	struct prompt *pr = the_prompt;
	lua_State *L = host_lua(pr->host);
	int top = lua_gettop(L);
	char **matches = NULL;
	size_t n = 0;

	(void)start, (void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	rl_completion_suppress_append = 1;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "det.complete");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
		goto out;
	lua_getfield(L, -1, "candidates");
	lua_pushstring(L, text);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
		goto out;
	n = lua_rawlen(L, -1);
	if (n == 0)
		goto out;
	matches = calloc(n + 2, sizeof *matches);
	if (matches == NULL)
		goto out;
	for (size_t i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i);
		matches[i] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
		lua_pop(L, 1);
	}
	/* matches[0]: what replaces the word, their longest common prefix */
	{
		size_t common = strlen(matches[1]);

		for (size_t i = 2; i <= n; i++) {
			size_t k = 0;

			while (k < common && matches[i][k] == matches[1][k])
				k++;
			common = k;
		}
		if (n == 1) {
			matches[0] = matches[1];
			matches[1] = NULL;
		} else {
			matches[0] = strndup(matches[1], common);
		}
	}
out:
	lua_settop(L, top);
	return matches;
}

/* Ambiguous completions are listed in the output panel, in columns, by their
 * last name (det.data.fashion shows as "fashion"). */
static void show_matches_cb(char **matches, int n, int max_len)
{
	struct prompt *pr = the_prompt;
	int width = pr->output->cols > 0 ? pr->output->cols : 80, colw, ncols, shown;
	char *row;

	(void)max_len;
	colw = 1;
	for (int i = 1; i <= n; i++) {
		const char *s = matches[i], *d = strrchr(s, '.'), *c = strrchr(s, ':');
		int w;

		if (c > d)
			d = c;
		w = tui_text_width(d ? d + 1 : s, strlen(d ? d + 1 : s));
		if (w + 2 > colw)
			colw = w + 2;
	}
	ncols = width / colw > 0 ? width / colw : 1;
	shown = n < MAX_SHOWN_MATCHES ? n : MAX_SHOWN_MATCHES;
	row = malloc((size_t)width * 4 + (size_t)colw * 4 + 8);
	if (row == NULL)
		return;
	echo_input(pr, rl_line_buffer, pr->pending != NULL);
	for (int i = 0; i < shown; i += ncols) {
		size_t len = 0;

		for (int k = 0; k < ncols && i + k < shown; k++) {
			const char *s = matches[1 + i + k], *d = strrchr(s, '.'), *c = strrchr(s, ':');
			size_t sl;
			int w;

			if (c > d)
				d = c;
			s = d ? d + 1 : s;
			sl = strlen(s);
			w = tui_text_width(s, sl);
			memcpy(row + len, s, sl);
			len += sl;
			if (k + 1 < ncols && i + k + 1 < shown)
				for (; w < colw; w++)
					row[len++] = ' ';
		}
		row[len++] = '\n';
		output_append(pr->output, ROLE_NOTE, row, len);
	}
	if (shown < n) {
		int m = snprintf(row, (size_t)width * 4, "... and %d more\n", n - shown);

		output_append(pr->output, ROLE_NOTE, row, (size_t)m);
	}
	free(row);
	rl_forced_update_display();
}

/* Readline commands bound below. */
static int cmd_clear_screen(int count, int key)
{
	(void)count, (void)key;
	screen_touch_all(the_prompt->screen);
	return 0;
}

void *prompt_state_new(struct host *h, struct screen *s, struct panel *output,
	const char *history_path, const struct prompt_hooks *hooks)
{
	struct prompt *pr = calloc(1, sizeof *pr);

	if (pr == NULL)
		return NULL;
	pr->host = h;
	pr->screen = s;
	pr->output = output;
	if (history_path && (pr->history_path = strdup(history_path)) == NULL) {
		free(pr);
		return NULL;
	}
	if (hooks)
		pr->hooks = *hooks;
	return pr;
}

void prompt_init_readline(void)
{
	static char word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^#~!";
	static int done;

	if (done)
		return;
	done = 1;
	rl_readline_name = "detbench";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0; /* LINES/COLUMNS would freeze curses' size */
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	/* what readline would print itself (newlines, bells) goes nowhere */
	rl_outstream = fopen("/dev/null", "w");
	rl_getc_function = rl_getc_cb;
	rl_input_available_hook = rl_input_available_cb;
	rl_redisplay_function = rl_redisplay_cb;
	rl_attempted_completion_function = complete_cb;
	rl_completion_display_matches_hook = show_matches_cb;
	rl_completer_word_break_characters = word_breaks;
	rl_basic_word_break_characters = word_breaks;
	rl_initialize();
	rl_variable_bind("show-all-if-ambiguous", "on");
	rl_variable_bind("bell-style", "none");
	rl_variable_bind("enable-bracketed-paste", "off");
	if (tui_text_utf8()) {
		rl_variable_bind("input-meta", "on");
		rl_variable_bind("output-meta", "on");
		rl_variable_bind("convert-meta", "off");
	}
	rl_bind_keyseq("\033[1;5C", rl_forward_word);
	rl_bind_keyseq("\033[1;5D", rl_backward_word);
	rl_bind_keyseq("\033[1;3C", rl_forward_word);
	rl_bind_keyseq("\033[1;3D", rl_backward_word);
	rl_bind_keyseq("\033[3~", rl_delete);
	rl_bind_keyseq("\033[H", rl_beg_of_line);
	rl_bind_keyseq("\033[F", rl_end_of_line);
	rl_bind_key('\f', cmd_clear_screen);
	using_history();
	stifle_history(TUI_HISTORY_MAX);
}

void prompt_start(struct panel *p)
{
	struct prompt *pr = p->state;

	prompt_init_readline();
	the_prompt = pr;
	pr->self = p;
	if (pr->history_path && tui_history_load(pr->history_path) != 0) {
		const char *msg = det_error_message();

		output_append(pr->output, ROLE_ERROR, msg, strlen(msg));
		output_append(pr->output, ROLE_ERROR, "\n", 1);
	}
	pr->started = 1;
	rl_callback_handler_install(PROMPT_FIRST, rl_line_cb);
}

void prompt_stop(struct panel *p)
{
	struct prompt *pr = p->state;

	if (!pr->started)
		return;
	pr->started = 0;
	rl_callback_handler_remove();
	prompt_history_save(p);
}

void prompt_cancel(struct panel *p)
{
	struct prompt *pr = p->state;

	if (!pr->started)
		return;
	if (rl_end > 0 || pr->pending) {
		echo_input(pr, rl_line_buffer, pr->pending != NULL);
		output_append(pr->output, ROLE_NOTE, "^C\n", 3);
	}
	free(pr->pending);
	pr->pending = NULL;
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_replace_line("", 0);
	rl_point = rl_end = 0;
	rl_callback_handler_install(PROMPT_FIRST, rl_line_cb);
	p->dirty = 1;
}

int prompt_history_save(struct panel *p)
{
	struct prompt *pr = p->state;

	if (pr->history_path == NULL)
		return 0;
	return tui_history_save(pr->history_path);
}

int prompt_done(const struct panel *p)
{
	return ((const struct prompt *)p->state)->done;
}

/* A new window (after a layout): keys with curses codes, and a timeout so
 * the main loop wakes up for captured output and signals. */
static void prompt_resize(struct panel *p)
{
	keypad(p->win, TRUE);
	wtimeout(p->win, 100);
}

static void prompt_free(struct panel *p)
{
	struct prompt *pr = p->state;

	if (pr->started)
		prompt_stop(p);
	if (the_prompt == pr)
		the_prompt = NULL;
	free(pr->pending);
	free(pr->history_path);
	free(pr);
}

/* Line mode, for terminals that cannot hold the screen: plain readline()
 * (it draws itself), with the same history file, completion and
 * continuation lines. */
static volatile sig_atomic_t *line_sigint;

static int line_signal_hook(void)
{
	if (line_sigint && *line_sigint) {
		*line_sigint = 0;
		rl_replace_line("", 0);
		rl_point = rl_end = 0;
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

int prompt_line_mode(struct host *h, const char *history_path, volatile sig_atomic_t *sigint_flag)
{
	struct prompt *pr = prompt_state_new(h, NULL, NULL, history_path, NULL);
	char *line;

	if (pr == NULL)
		return 1;
	the_prompt = pr;
	line_sigint = sigint_flag;
	rl_readline_name = "detbench";
	rl_attempted_completion_function = complete_cb;
	rl_signal_event_hook = line_signal_hook;
	rl_catch_signals = 0; /* SIGINT reaches the caller's handler; the hook clears the line */
	{
		static char word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^#~!";

		rl_completer_word_break_characters = word_breaks;
	}
	using_history();
	stifle_history(TUI_HISTORY_MAX);
	if (history_path && tui_history_load(history_path) != 0)
		fprintf(stderr, "%s\n", det_error_message());
	while ((line = readline(pr->pending ? PROMPT_MORE : PROMPT_FIRST)) != NULL) {
		size_t n = (pr->pending ? strlen(pr->pending) + 1 : 0) + strlen(line) + 1;
		char *joined = malloc(n);

		if (joined == NULL) {
			free(line);
			break;
		}
		snprintf(joined, n, "%s%s%s", pr->pending ? pr->pending : "", pr->pending ? "\n" : "", line);
		free(line);
		free(pr->pending);
		pr->pending = NULL;
		if (host_eval(h, joined) == HOST_INCOMPLETE) {
			pr->pending = joined;
			continue;
		}
		if (!blank(joined)) {
			add_history(joined);
			if (history_path && tui_history_save(history_path) != 0)
				fprintf(stderr, "%s\n", det_error_message());
		}
		free(joined);
	}
	rl_signal_event_hook = NULL;
	line_sigint = NULL;
	the_prompt = NULL;
	free(pr->pending);
	free(pr->history_path);
	free(pr);
	return 0;
}

const struct panel_class prompt_panel_class = {
	.name = "prompt",
	.min_rows = 1,
	.min_cols = 4,
	.want_rows = prompt_want_rows,
	.draw = prompt_draw,
	.key = prompt_key,
	.tick = NULL,
	.resize = prompt_resize,
	.free = prompt_free,
};
