/* status.c: the status bar panel. */
#include "tui/status.h"

#include <stdlib.h>
#include <string.h>

#include "tui/style.h"
#include "tui/text.h"

struct status {
	char *title;
	char *field[STATUS_NFIELDS];
};

void *status_state_new(const char *title)
{
	struct status *st = calloc(1, sizeof *st);

	if (st && (st->title = strdup(title)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

static void status_free(struct panel *p)
{
	struct status *st = p->state;

	for (int i = 0; i < STATUS_NFIELDS; i++)
		free(st->field[i]);
	free(st->title);
	free(st);
}

void status_set(struct panel *p, enum status_field f, const char *text)
{
	struct status *st = p->state;

	if ((text == NULL && st->field[f] == NULL) ||
	    (text && st->field[f] && strcmp(text, st->field[f]) == 0))
		return;
	free(st->field[f]);
	st->field[f] = text ? strdup(text) : NULL;
	p->dirty = 1;
}

static void put(WINDOW *w, const char *s, int *room)
{
	int n = 0, cells = 0, len = (int)strlen(s), cw;

	while (n < len) {
		int k = tui_text_next(s + n, (size_t)(len - n), &cw);

		if (cells + cw > *room)
			break;
		cells += cw;
		n += k;
	}
	waddnstr(w, s, n);
	*room -= cells;
}

static void status_draw(struct panel *p)
{
	struct status *st = p->state;
	const char *sep = tui_text_utf8() ? " \xe2\x94\x82 " : " | ";
	const char *hint = st->field[STATUS_HINT];
	int room = p->cols, hint_w;

	wbkgdset(p->win, ' ' | tui_style_attr(ROLE_STATUS));
	werase(p->win);
	wmove(p->win, 0, 0);
	wattrset(p->win, tui_style_attr(ROLE_STATUS));
	put(p->win, " ", &room);
	put(p->win, st->title, &room);
	if (st->field[STATUS_STATE]) {
		put(p->win, sep, &room);
		wattrset(p->win, tui_style_attr(ROLE_STATUS_KEY));
		put(p->win, st->field[STATUS_STATE], &room);
		wattrset(p->win, tui_style_attr(ROLE_STATUS));
	}
	if (st->field[STATUS_INFO]) {
		/* alternatives, longest first, separated by tabs: the first that
		 * fits, else the last cut at the edge */
		const char *info = st->field[STATUS_INFO];
		int need = room - tui_text_width(sep, strlen(sep));

		for (;;) {
			const char *tab = strchr(info, '\t');
			int len = tab ? (int)(tab - info) : (int)strlen(info);

			if (!tab || tui_text_width(info, (size_t)len) <= need) {
				char *one = strndup(info, (size_t)len);

				put(p->win, sep, &room);
				if (one)
					put(p->win, one, &room);
				free(one);
				break;
			}
			info = tab + 1;
		}
	}
	/* the hint holds alternatives, longest first, separated by tabs */
	while (hint) {
		const char *tab = strchr(hint, '\t');
		int len = tab ? (int)(tab - hint) : (int)strlen(hint);

		hint_w = tui_text_width(hint, (size_t)len) + 1;
		if (room >= hint_w + 2) {
			wmove(p->win, 0, p->cols - hint_w);
			waddnstr(p->win, hint, len);
			break;
		}
		hint = tab ? tab + 1 : NULL;
	}
	wattrset(p->win, A_NORMAL);
}

static int status_want_rows(const struct panel *p, int cols)
{
	(void)p, (void)cols;
	return 1;
}

const struct panel_class status_panel_class = {
	.name = "status",
	.min_rows = 1,
	.min_cols = 1,
	.want_rows = status_want_rows,
	.draw = status_draw,
	.key = NULL,
	.tick = NULL,
	.resize = NULL,
	.free = status_free,
};
