/* test_status.c: the status bar drawn on a dummy terminal: title, state
 * and info on the left, the longest key hint that fits on the right, and
 * no redraw when a field is set to what it already holds. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tests/tap.h"
#include "tui/status.h"
#include "tui/style.h"
#include "tui/text.h"

static const char *row(struct panel *p)
{
	static char buf[512];
	int n = mvwinnstr(p->win, 0, 0, buf, (int)sizeof buf - 1);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return buf;
}

static void draw_at(struct panel *p, int cols)
{
	if (p->win)
		delwin(p->win);
	p->rows = 1, p->cols = cols;
	p->win = newwin(1, cols, 0, 0);
	p->cls->draw(p);
}

int main(void)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	struct panel p = { .cls = &status_panel_class };

	setlocale(LC_CTYPE, "C"); /* ASCII separators: easy to compare */
	tui_text_init();
	scr = newterm("xterm-256color", out, in);
	ok(scr != NULL, "a dummy terminal");
	if (scr == NULL)
		return tap_done();
	tui_style_init();
	p.state = status_state_new("detbench 0.1.0");
	status_set(&p, STATUS_STATE, "ready");
	status_set(&p, STATUS_INFO, "Lua 60 KB");
	status_set(&p, STATUS_HINT, "Tab complete, F1 keys, Ctrl-D quit\tF1 keys");

	draw_at(&p, 80);
	ok(strncmp(row(&p), " detbench 0.1.0 | ready | Lua 60 KB ", 36) == 0, "the left side ('%s')", row(&p));
	ok(strstr(row(&p), "Tab complete, F1 keys, Ctrl-D quit") != NULL &&
		row(&p)[strlen(row(&p)) - 1] == 't', "the full hint at the right edge ('%s')", row(&p));
	ok((mvwinch(p.win, 0, 0) & A_ATTRIBUTES) == tui_style_attr(ROLE_STATUS), "in the status colours");
	ok((mvwinch(p.win, 0, 19) & A_BOLD) != 0, "the state stands out");

	draw_at(&p, 50);
	ok(strstr(row(&p), "Tab complete") == NULL && strstr(row(&p), "F1 keys") != NULL,
		"a narrow bar shows the short hint ('%s')", row(&p));
	draw_at(&p, 30);
	ok(strstr(row(&p), "F1") == NULL && strncmp(row(&p), " detbench 0.1.0 | ready | Lua", 29) == 0,
		"a very narrow one drops the hint and cuts the rest ('%s')", row(&p));

	p.dirty = 0;
	status_set(&p, STATUS_STATE, "ready");
	ok(!p.dirty, "setting a field to its value does not ask for a redraw");
	status_set(&p, STATUS_STATE, "running");
	ok(p.dirty, "a new value does");
	status_set(&p, STATUS_INFO, NULL);
	draw_at(&p, 80);
	ok(strncmp(row(&p), " detbench 0.1.0 | running  ", 27) == 0, "a cleared field is left out ('%s')", row(&p));

	delwin(p.win);
	p.cls->free(&p);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return tap_done();
}
