/* test_output.c: the output panel without a terminal to look at: lines,
 * roles, partial writes, tabs, "\r", escape sequences, split UTF-8, the
 * ring's limit, wrapping, scrolling, and a rendered snapshot of the panel
 * drawn into a curses window on a dummy terminal. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tests/tap.h"
#include "tui/output.h"
#include "tui/style.h"
#include "tui/text.h"

static struct panel *panel_new(int max_lines)
{
	struct panel *p = calloc(1, sizeof *p);

	p->cls = &output_panel_class;
	p->state = output_state_new(max_lines);
	return p;
}

static void panel_del(struct panel *p)
{
	if (p->win)
		delwin(p->win);
	p->cls->free(p);
	free(p);
}

static const char *line(struct panel *p, int i)
{
	static char buf[512];
	size_t len;
	const char *s = output_line(p, i, &len);

	snprintf(buf, sizeof buf, "%.*s", (int)len, s);
	return buf;
}

static void put(struct panel *p, const char *s)
{
	output_append(p, ROLE_TEXT, s, strlen(s));
}

/* Row y of the panel's window as text (trailing blanks dropped). */
static const char *row(struct panel *p, int y)
{
	static char buf[512];
	int n = mvwinnstr(p->win, y, 0, buf, (int)sizeof buf - 1);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

int main(void)
{
	struct panel *p;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;

	setlocale(LC_CTYPE, "C.UTF-8");
	tui_text_init();

	p = panel_new(100);
	put(p, "one\ntw");
	put(p, "o\n");
	output_append(p, ROLE_ERROR, "err\n", 4);
	ok(output_count(p) == 3, "three lines from partial writes (got %d)", output_count(p));
	ok(strcmp(line(p, 1), "two") == 0, "a line written in two parts is one line ('%s')", line(p, 1));
	put(p, "a\tb\n");
	ok(strcmp(line(p, 3), "a       b") == 0, "tabs expand to 8-column stops ('%s')", line(p, 3));
	put(p, "10%\r20%\r30%\n");
	ok(strcmp(line(p, 4), "30%") == 0, "\\r restarts the line, as progress bars expect ('%s')", line(p, 4));
	put(p, "x\r\n");
	ok(strcmp(line(p, 5), "x") == 0, "\\r\\n ends a line like \\n ('%s')", line(p, 5));
	put(p, "\033[31mred\033[0m plain\033]0;title\007!\n");
	ok(strcmp(line(p, 6), "red plain!") == 0, "escape sequences are dropped ('%s')", line(p, 6));
	put(p, "caf\xc3");
	put(p, "\xa9 \xff\n");
	ok(strcmp(line(p, 7), "caf\xc3\xa9 ?") == 0, "split UTF-8 joins, invalid bytes show as '?' ('%s')", line(p, 7));
	put(p, "\n\n");
	ok(output_count(p) == 10, "empty lines count (got %d)", output_count(p));
	panel_del(p);

	p = panel_new(16);
	for (int i = 0; i < 40; i++) {
		char b[32];

		snprintf(b, sizeof b, "line %d\n", i);
		put(p, b);
	}
	ok(output_count(p) == 16, "the ring keeps its last 16 lines (got %d)", output_count(p));
	ok(strcmp(line(p, 0), "line 24") == 0, "the oldest go first ('%s')", line(p, 0));

	/* drawing, on a terminal that writes to /dev/null */
	scr = newterm("xterm-256color", out, in);
	ok(scr != NULL, "a dummy terminal for drawing");
	if (scr == NULL)
		return tap_done();
	tui_style_init();
	p->rows = 4, p->cols = 20;
	p->win = newwin(4, 20, 0, 0);
	p->cls->draw(p);
	ok(strcmp(row(p, 3), "line 39") == 0, "the last line is at the bottom ('%s')", row(p, 3));
	ok(strcmp(row(p, 0), "line 36") == 0, "older lines above it ('%s')", row(p, 0));
	put(p, "abcdefghijklmnopqrstuvwxyz0123456789\n");
	p->cls->draw(p);
	{
		char r2[64];

		snprintf(r2, sizeof r2, "%s", row(p, 2));
		ok(strcmp(r2, "abcdefghijklmnopqrst") == 0 && strcmp(row(p, 3), "uvwxyz0123456789") == 0,
			"a long line wraps at the width ('%s' / '%s')", r2, row(p, 3));
	}
	ok(p->cls->key(p, KEY_PPAGE) & PANEL_HANDLED, "PgUp is the output's key");
	ok(output_scrolled(p), "and scrolls the view back");
	p->cls->draw(p);
	ok(strcmp(row(p, 3), "line 37 more below") == 0 || strstr(row(p, 3), "more below") != NULL,
		"a scrolled view marks that there is more below ('%s')", row(p, 3));
	put(p, "new\n");
	p->cls->draw(p);
	ok(strncmp(row(p, 0), "line 3", 6) == 0, "new output does not move a scrolled view ('%s')", row(p, 0));
	for (int i = 0; i < 5; i++)
		p->cls->key(p, KEY_NPAGE);
	ok(!output_scrolled(p), "PgDn returns to the end");
	p->cls->draw(p);
	ok(strcmp(row(p, 3), "new") == 0, "which shows the newest line ('%s')", row(p, 3));
	for (int i = 0; i < 50; i++)
		p->cls->key(p, KEY_PPAGE);
	p->cls->draw(p);
	{
		char oldest[64];

		snprintf(oldest, sizeof oldest, "%s", line(p, 0));
		ok(strcmp(row(p, 0), oldest) == 0, "scrolling stops at the oldest line ('%s')", row(p, 0));
	}
	panel_del(p);

	p = panel_new(100);
	p->rows = 3, p->cols = 40;
	p->win = newwin(3, 40, 0, 0);
	output_append(p, ROLE_PROMPT, "> x = 1\n", 8);
	p->cls->draw(p);
	ok(strcmp(row(p, 2), "> x = 1") == 0, "echoed input draws as written ('%s')", row(p, 2));
	ok((mvwinch(p->win, 2, 0) & A_COLOR) == (tui_style_attr(ROLE_PROMPT) & A_COLOR),
		"its prompt in the prompt's colour");
	ok((mvwinch(p->win, 2, 3) & A_COLOR) == 0, "the code in the default colour");
	panel_del(p);

	ok(tui_text_width("aug", 3) == 3, "the width of ASCII text is its length");
	ok(tui_text_width("caf\xc3\xa9", 5) == 4, "UTF-8 characters are one cell");
	ok(tui_text_width("\xe4\xb8\xad", 3) == 2, "CJK characters two");
	ok(tui_text_wrap("abcdef", 6, 3, NULL, 0) == 2, "wrapping counts rows");

	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return tap_done();
}
