/* screen.c: panel placement, key routing and drawing for the workbench.
 * Every placed panel has its own curses window; an update draws the dirty
 * ones with wnoutrefresh and ends with a single doupdate. */
#include "tui/screen.h"

#include <stdlib.h>
#include <string.h>

struct screen {
	struct panel *panels[SCREEN_MAX_PANELS];
	int npanels;
	const struct layout *layouts;
	int nlayouts;
	const struct layout *layout;
	struct panel *cursor, *zoom, *focus;
	int rows, cols; /* the terminal size of the current layout */
	int relayout;
	/* the layout's row panels in order, stacked ones included (focus walks it) */
	struct panel *ring[SCREEN_MAX_PANELS];
	int nring;
	unsigned long stamp; /* counts focus changes (panel.shown) */
};

struct screen *screen_new(const struct layout *layouts, int nlayouts)
{
	struct screen *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->layouts = layouts;
	s->nlayouts = nlayouts;
	s->relayout = 1;
	return s;
}

void screen_free(struct screen *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->npanels; i++) {
		struct panel *p = s->panels[i];

		if (p->win)
			delwin(p->win);
		if (p->cls->free)
			p->cls->free(p);
		free(p);
	}
	free(s);
}

struct panel *screen_add(struct screen *s, const struct panel_class *cls, void *state)
{
	struct panel *p;

	if (s->npanels == SCREEN_MAX_PANELS || (p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->cls = cls;
	p->state = state;
	p->dirty = 1;
	s->panels[s->npanels++] = p;
	s->relayout = 1;
	return p;
}

struct panel *screen_panel(struct screen *s, const char *name)
{
	for (int i = 0; i < s->npanels; i++)
		if (strcmp(s->panels[i]->cls->name, name) == 0)
			return s->panels[i];
	return NULL;
}

int screen_stack(struct screen *s, const char *spec, struct panel **out, int *bad)
{
	int n = 0;

	if (bad)
		*bad = -1;
	for (const char *at = spec; *at;) {
		size_t len = strcspn(at, "|");
		struct panel *p = NULL;

		for (int i = 0; i < s->npanels && p == NULL; i++)
			if (strlen(s->panels[i]->cls->name) == len && strncmp(s->panels[i]->cls->name, at, len) == 0)
				p = s->panels[i];
		if (p && n < LAYOUT_STACK_MAX)
			out[n++] = p;
		else if (p == NULL && bad && *bad < 0)
			*bad = (int)(at - spec);
		at += len;
		if (*at == '|')
			at++;
	}
	return n;
}

void screen_set_cursor(struct screen *s, struct panel *p)
{
	s->cursor = p;
}

void screen_zoom(struct screen *s, struct panel *p)
{
	s->zoom = p;
	s->relayout = 1;
}

void screen_relayout(struct screen *s)
{
	s->relayout = 1;
}

void screen_touch_all(struct screen *s)
{
	for (int i = 0; i < s->npanels; i++)
		s->panels[i]->dirty = 1;
	clearok(curscr, TRUE);
}

const struct layout *screen_layout(const struct screen *s)
{
	return s->layout;
}

/* Gives p the rectangle (a new window each time: simpler than moving one
 * that may not fit the old terminal size). */
static void place(struct panel *p, int y, int x, int rows, int cols)
{
	if (p->win)
		delwin(p->win);
	p->win = NULL;
	p->y = y, p->x = x, p->rows = rows, p->cols = cols;
	if (rows < 1 || cols < 1 || rows < p->cls->min_rows || cols < p->cls->min_cols)
		return;
	p->win = newwin(rows, cols, y, x);
	if (p->win == NULL)
		return;
	leaveok(p->win, TRUE);
	p->dirty = 1;
	if (p->cls->resize)
		p->cls->resize(p);
}

static const struct layout *pick_layout(const struct screen *s, int rows, int cols)
{
	for (int i = 0; i < s->nlayouts; i++)
		if (rows >= s->layouts[i].min_rows && cols >= s->layouts[i].min_cols)
			return &s->layouts[i];
	return &s->layouts[s->nlayouts - 1];
}

/* Splits `total` cells among n shares; out[i] gets share i's cells. */
static void split(int total, const int *weights, int n, int *out)
{
	int sum = 0, used = 0;

	for (int i = 0; i < n; i++)
		sum += weights[i];
	for (int i = 0; i < n; i++) {
		out[i] = sum > 0 ? total * weights[i] / sum : 0;
		used += out[i];
	}
	if (n > 0)
		out[n - 1] += total - used;
}

static void layout_place(struct screen *s)
{
	const struct layout *l;
	int rows = LINES, cols = COLS, bottom = rows;
	int placed[SCREEN_MAX_PANELS] = { 0 };

	s->rows = rows, s->cols = cols;
	s->layout = l = pick_layout(s, rows, cols);
	s->nring = 0;
	for (int k = 0; k < s->npanels; k++)
		s->panels[k]->stack_n = 1, s->panels[k]->stack_next[0] = '\0';

	/* the bottom edge, from the last row up */
	{
		int nb = 0;

		while (nb < LAYOUT_MAX_BOTTOM && l->bottom[nb])
			nb++;
		for (int i = nb - 1; i >= 0; i--) {
			struct panel *p = screen_panel(s, l->bottom[i]);
			int want;

			if (p == NULL)
				continue;
			want = p->cls->want_rows ? p->cls->want_rows(p, cols) : 1;
			if (want > bottom - 1)
				want = bottom - 1 > 0 ? bottom - 1 : (i == nb - 1 ? bottom : 0);
			bottom -= want;
			place(p, bottom, 0, want, cols);
			for (int k = 0; k < s->npanels; k++)
				if (s->panels[k] == p)
					placed[k] = 1;
		}
	}

	/* the layout's rows over what is left (or the zoomed panel alone) */
	if (s->zoom) {
		place(s->zoom, 0, 0, bottom, cols);
		for (int k = 0; k < s->npanels; k++)
			if (s->panels[k] == s->zoom)
				placed[k] = 1;
	} else {
		int weights[LAYOUT_MAX_ROWS] = { 0 }, heights[LAYOUT_MAX_ROWS], nrows = 0, y = 0;

		for (nrows = 0; nrows < LAYOUT_MAX_ROWS && l->rows[nrows].weight > 0; nrows++)
			for (int c = 0; c < LAYOUT_MAX_COLS && l->rows[nrows].panels[c]; c++) {
				struct panel *st[LAYOUT_STACK_MAX];

				if (screen_stack(s, l->rows[nrows].panels[c], st, NULL) > 0)
					weights[nrows] = l->rows[nrows].weight;
			}
		split(bottom, weights, nrows, heights);
		for (int r = 0; r < nrows; r++) {
			const struct layout_row *lr = &l->rows[r];
			struct panel *ps[LAYOUT_MAX_COLS];
			int w[LAYOUT_MAX_COLS], widths[LAYOUT_MAX_COLS], n = 0, x = 0;

			for (int c = 0; c < LAYOUT_MAX_COLS && lr->panels[c]; c++) {
				struct panel *st[LAYOUT_STACK_MAX];
				int ns = screen_stack(s, lr->panels[c], st, NULL), pick = 0;

				if (ns == 0)
					continue;
				/* the focused member, else the one the focus was left on */
				for (int k = 1; k < ns; k++)
					if (st[k]->shown > st[pick]->shown)
						pick = k;
				for (int k = 0; k < ns; k++)
					if (st[k] == s->focus)
						pick = k;
				for (int k = 0; k < ns; k++) {
					size_t len = 0;

					st[k]->stack_n = ns;
					st[k]->stack_next[0] = '\0';
					for (int j = 1; j < ns; j++) {
						const char *name = st[(k + j) % ns]->cls->name;

						if (len + strlen(name) + 3 < sizeof st[k]->stack_next)
							len += (size_t)snprintf(st[k]->stack_next + len, sizeof st[k]->stack_next - len,
								"%s+%s", j > 1 ? " " : "", name);
					}
					if (s->nring < SCREEN_MAX_PANELS)
						s->ring[s->nring++] = st[k];
				}
				ps[n] = st[pick];
				w[n++] = lr->widths[c] > 0 ? lr->widths[c] : 1;
			}
			split(cols, w, n, widths);
			for (int c = 0; c < n; c++) {
				place(ps[c], y, x, heights[r], widths[c]);
				x += widths[c];
				for (int k = 0; k < s->npanels; k++)
					if (s->panels[k] == ps[c])
						placed[k] = 1;
			}
			y += heights[r];
		}
	}
	for (int k = 0; k < s->npanels; k++)
		if (!placed[k] && s->panels[k]->win) {
			delwin(s->panels[k]->win);
			s->panels[k]->win = NULL;
		}
	/* whatever no panel covers (a tiny terminal) is blank */
	werase(stdscr);
	wnoutrefresh(stdscr);
	s->relayout = 0;
}

void screen_update(struct screen *s)
{
	int any = 0;

	if (s->relayout || s->rows != LINES || s->cols != COLS)
		layout_place(s);
	for (int i = 0; i < s->npanels; i++)
		any |= s->panels[i]->win && s->panels[i]->dirty;
	if (!any)
		return; /* nothing changed: not a byte to the terminal */
	for (int i = 0; i < s->npanels; i++) {
		struct panel *p = s->panels[i];

		if (p->win && p->dirty && p != s->cursor) {
			p->cls->draw(p);
			wnoutrefresh(p->win);
		}
		if (p != s->cursor)
			p->dirty = 0;
	}
	/* the cursor panel last, so the terminal's cursor ends up in it */
	if (s->cursor && s->cursor->win) {
		if (s->cursor->dirty)
			s->cursor->cls->draw(s->cursor);
		leaveok(s->cursor->win, FALSE);
		wnoutrefresh(s->cursor->win);
	}
	if (s->cursor)
		s->cursor->dirty = 0;
	doupdate();
}

int screen_tick(struct screen *s, long long now_ms)
{
	int flags = 0;

	for (int i = 0; i < s->npanels; i++) {
		struct panel *p = s->panels[i];
		int f;

		if (p->cls->tick == NULL)
			continue;
		f = p->cls->tick(p, now_ms);
		if (f & PANEL_REDRAW)
			p->dirty = 1;
		if (f & PANEL_RESIZE)
			s->relayout = 1;
		flags |= f;
	}
	return flags;
}

void screen_focus_set(struct screen *s, struct panel *p)
{
	if (s->focus) {
		s->focus->focus = 0;
		s->focus->dirty = 1;
		/* a stacked panel the focus is given back from (Esc) stays up in its
		 * place; one Tab walks past goes back behind the others */
		if (s->focus->stack_n > 1) {
			if (p == NULL || p == s->cursor)
				s->focus->shown = ++s->stamp;
			s->relayout = 1;
		}
	}
	s->focus = p == s->cursor ? NULL : p;
	if (s->focus) {
		s->focus->focus = 1;
		s->focus->dirty = 1;
		if (s->focus->win == NULL && s->focus->stack_n > 1) /* a hidden member of a stack: bring it up */
			s->relayout = 1;
	}
}

struct panel *screen_focus(const struct screen *s)
{
	return s->focus;
}

struct panel *screen_zoomed(const struct screen *s)
{
	return s->zoom;
}

void screen_set_layouts(struct screen *s, const struct layout *layouts, int nlayouts)
{
	s->layouts = layouts;
	s->nlayouts = nlayouts;
	s->relayout = 1;
}

struct panel *screen_focus_next(struct screen *s, int dir)
{
	struct panel *ring[SCREEN_MAX_PANELS + 1];
	int n = 0, at = 0;

	if (s->zoom || s->nring == 0) {
		/* zoomed: the placed panels only */
		for (int i = 0; i < s->npanels; i++) {
			struct panel *p = s->panels[i];

			if (p->win && p != s->cursor && p->cls->want_rows == NULL && p->cls->key != NULL)
				ring[n++] = p;
		}
	} else {
		for (int i = 0; i < s->nring; i++)
			if (s->ring[i] != s->cursor && s->ring[i]->cls->want_rows == NULL && s->ring[i]->cls->key != NULL)
				ring[n++] = s->ring[i];
	}
	ring[n++] = NULL; /* the prompt */
	for (int i = 0; i < n; i++)
		if (ring[i] == s->focus)
			at = i;
	at = ((at + dir) % n + n) % n;
	screen_focus_set(s, ring[at]);
	return s->focus;
}

int screen_key(struct screen *s, int ch)
{
	int flags = 0;

	/* the focused panel first */
	if (s->focus && s->focus->win && s->focus->cls->key) {
		int f = s->focus->cls->key(s->focus, ch);

		if (f & PANEL_REDRAW)
			s->focus->dirty = 1;
		if (f & PANEL_RESIZE)
			s->relayout = 1;
		if (f & PANEL_HANDLED)
			return f;
		flags |= f;
	}

	for (int i = 0; i <= s->npanels; i++) {
		/* the cursor panel gets the key last */
		struct panel *p = i < s->npanels ? s->panels[i] : s->cursor;
		int f;

		if (p == NULL || p->cls->key == NULL || (i < s->npanels && (p == s->cursor || p == s->focus)))
			continue;
		f = p->cls->key(p, ch);
		if (f & PANEL_REDRAW)
			p->dirty = 1;
		if (f & PANEL_RESIZE)
			s->relayout = 1;
		flags |= f;
		if (f & PANEL_HANDLED)
			break;
	}
	return flags;
}
