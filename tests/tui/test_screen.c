/* test_screen.c: the screen manager on a dummy terminal: layouts chosen by
 * size, rows and columns shared by weight, bottom panels sized by
 * want_rows, unknown panel names skipped, zoom, key routing (the cursor
 * panel last, HANDLED stops), ticks, and drawing only dirty panels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tests/tap.h"
#include "tui/screen.h"

struct fake {
	int draws, keys, want, ticks;
	int handles; /* the key this panel takes */
	char mark;
};

static void fake_draw(struct panel *p)
{
	struct fake *f = p->state;

	f->draws++;
	werase(p->win);
	mvwaddch(p->win, 0, 0, (chtype)f->mark);
}

static int fake_key(struct panel *p, int ch)
{
	struct fake *f = p->state;

	f->keys++;
	return ch == f->handles ? PANEL_HANDLED | PANEL_REDRAW : PANEL_IGNORED;
}

static int fake_want(const struct panel *p, int cols)
{
	(void)cols;
	return ((struct fake *)p->state)->want;
}

static int fake_tick(struct panel *p, long long now)
{
	struct fake *f = p->state;

	f->ticks++;
	return now % 2 ? PANEL_REDRAW : 0;
}

#define FAKE_CLASS(id, wantfn) \
	static const struct panel_class id = { .name = #id, .min_rows = 1, .min_cols = 1, \
		.want_rows = wantfn, .draw = fake_draw, .key = fake_key, .tick = fake_tick }
FAKE_CLASS(output, NULL);
FAKE_CLASS(curves, NULL);
FAKE_CLASS(ap, NULL);
FAKE_CLASS(status, fake_want);
FAKE_CLASS(prompt, fake_want);

static const struct layout layouts[] = {
	{ .name = "wide", .min_rows = 40, .min_cols = 120,
	  .rows = { { .weight = 2, .panels = { "curves", "ap", "samples" }, .widths = { 1, 3, 1 } },
	            { .weight = 1, .panels = { "output" } } },
	  .bottom = { "status", "prompt" } },
	{ .name = "small", .min_rows = 0, .min_cols = 0,
	  .rows = { { .weight = 1, .panels = { "output" } } },
	  .bottom = { "status", "prompt" } },
};

int main(void)
{
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr = newterm("xterm-256color", out, in);
	struct fake fo = { .mark = 'o', .handles = KEY_PPAGE }, fc = { .mark = 'c' }, fa = { .mark = 'a' },
		fs = { .mark = 's', .want = 1 }, fp = { .mark = 'p', .want = 2, .handles = 'x' };
	struct screen *s;
	struct panel *po, *pc, *pa, *ps, *pp;

	ok(scr != NULL, "a dummy terminal");
	if (scr == NULL)
		return tap_done();
	s = screen_new(layouts, 2);
	po = screen_add(s, &output, &fo);
	pc = screen_add(s, &curves, &fc);
	pa = screen_add(s, &ap, &fa);
	ps = screen_add(s, &status, &fs);
	pp = screen_add(s, &prompt, &fp);
	screen_set_cursor(s, pp);
	ok(screen_panel(s, "ap") == pa && screen_panel(s, "samples") == NULL, "panels are found by name");

	resizeterm(24, 80);
	screen_update(s);
	ok(strcmp(screen_layout(s)->name, "small") == 0, "80x24 gets the small layout");
	ok(pp->y == 22 && pp->rows == 2, "the prompt takes its two rows at the bottom (y %d, rows %d)", pp->y, pp->rows);
	ok(ps->y == 21 && ps->rows == 1, "the status bar sits right above (y %d)", ps->y);
	ok(po->y == 0 && po->rows == 21 && po->cols == 80, "the output takes the rest (%dx%d)", po->cols, po->rows);
	ok(pc->win == NULL && pa->win == NULL, "panels the layout leaves out have no window");
	ok(fo.draws == 1 && fs.draws == 1 && fp.draws == 1, "each placed panel is drawn once");

	screen_update(s);
	ok(fo.draws == 1 && fp.draws == 1, "an update with nothing dirty draws nothing");
	panel_touch(po);
	screen_update(s);
	ok(fo.draws == 2 && fs.draws == 1, "only the dirty panel is drawn again");

	resizeterm(48, 160);
	screen_update(s);
	ok(strcmp(screen_layout(s)->name, "wide") == 0, "160x48 gets the wide layout");
	ok(pc->y == 0 && pc->x == 0 && pc->cols == 40 && pa->x == 40 && pa->cols == 120,
		"a row is shared by width weights, an unknown panel skipped (curves %d, ap %d at %d)",
		pc->cols, pa->cols, pa->x);
	ok(pc->rows == 30 && po->y == 30 && po->rows == 15,
		"rows are shared by height weights (%d and %d)", pc->rows, po->rows);

	screen_zoom(s, pa);
	screen_update(s);
	ok(pa->y == 0 && pa->rows == 45 && pa->cols == 160 && pc->win == NULL && po->win == NULL,
		"a zoomed panel takes the whole layout area alone");
	screen_zoom(s, NULL);
	screen_update(s);
	ok(pc->win != NULL && po->win != NULL, "unzoomed, the layout is back");

	fp.want = 5;
	screen_relayout(s);
	screen_update(s);
	ok(pp->rows == 5 && pp->y == 43 && ps->y == 42, "a prompt that wants more rows gets them");

	fo.keys = fp.keys = 0;
	ok((screen_key(s, KEY_PPAGE) & PANEL_HANDLED) && fo.keys == 1 && fp.keys == 0,
		"a key the output takes stops there");
	ok((screen_key(s, 'x') & PANEL_HANDLED) && fp.keys == 1, "other keys reach the cursor panel, last");
	ok(screen_key(s, 'q') == 0, "a key nobody takes comes back with no flags");

	fc.ticks = 0;
	screen_tick(s, 3);
	ok(fc.ticks == 1 && pc->dirty, "a tick with news marks the panel dirty");

	resizeterm(3, 20);
	screen_update(s);
	ok(pp->win != NULL && pp->rows == 2, "a tiny terminal keeps the prompt (%d rows)", pp->rows);

	screen_free(s);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return tap_done();
}
