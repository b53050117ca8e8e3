/* output.c: the output panel. Lines live in a ring of at most max_lines
 * entries, each with one role. The view is anchored to a (line, row) pair
 * when scrolled back, so new output does not move what the reader looks
 * at; when not scrolled it follows the end. */
#include "tui/output.h"

#include <stdlib.h>
#include <string.h>

#include "tui/text.h"

struct out_line {
	char *s;
	int len, cap;
	int width; /* cells, for tab stops */
	enum tui_role role;
};

struct output {
	struct out_line *lines;
	int cap, first, count; /* the ring */
	long long seq0;        /* absolute number of lines[first] */
	int open;              /* the last line takes more text */
	/* the view: following the end, or anchored at (line, row) at the bottom */
	int follow;
	long long anchor;
	int anchor_row;
	/* input state carried across appends */
	int esc;          /* 0 none, 1 after ESC, 2 inside CSI, 3 inside OSC */
	int cr;           /* a "\r" waits: the next text restarts the line */
	char pend[4];     /* the start of a UTF-8 character cut by the append */
	int npend;
	int *starts;      /* scratch: row starts of one line */
	int nstarts;
};

void *output_state_new(int max_lines)
{
	struct output *o = calloc(1, sizeof *o);

	if (o == NULL)
		return NULL;
	o->cap = max_lines > 16 ? max_lines : 16;
	o->lines = calloc((size_t)o->cap, sizeof *o->lines);
	if (o->lines == NULL) {
		free(o);
		return NULL;
	}
	o->follow = 1;
	return o;
}

static void output_free(struct panel *p)
{
	struct output *o = p->state;

	for (int i = 0; i < o->count; i++)
		free(o->lines[(o->first + i) % o->cap].s);
	free(o->lines);
	free(o->starts);
	free(o);
}

static struct out_line *line_at(const struct output *o, long long seq)
{
	return &o->lines[(o->first + (int)(seq - o->seq0)) % o->cap];
}

static struct out_line *line_new(struct output *o, enum tui_role role)
{
	struct out_line *l;

	if (o->count == o->cap) {
		l = &o->lines[o->first];
		free(l->s);
		memset(l, 0, sizeof *l);
		o->first = (o->first + 1) % o->cap;
		o->count--;
		o->seq0++;
		if (!o->follow && o->anchor < o->seq0)
			o->anchor = o->seq0, o->anchor_row = 0;
	}
	l = &o->lines[(o->first + o->count) % o->cap];
	o->count++;
	memset(l, 0, sizeof *l);
	l->role = role;
	o->open = 1;
	return l;
}

static void line_add(struct out_line *l, const char *s, int n, int width)
{
	if (l->len + n + 1 > l->cap) {
		int cap = (l->len + n + 1) * 2;
		char *ns = realloc(l->s, (size_t)cap);

		if (ns == NULL)
			return; /* out of memory: the text is dropped, not the session */
		l->s = ns;
		l->cap = cap;
	}
	memcpy(l->s + l->len, s, (size_t)n);
	l->len += n;
	l->s[l->len] = '\0';
	l->width += width;
}

/* The line that takes the next character: the open one when its role
 * matches, else a new one. */
static struct out_line *current(struct output *o, enum tui_role role)
{
	struct out_line *l = o->count ? line_at(o, o->seq0 + o->count - 1) : NULL;

	if (l == NULL || !o->open || (l->role != role && l->len > 0))
		return line_new(o, role);
	if (o->cr) {
		l->len = 0, l->width = 0;
		o->cr = 0;
	}
	l->role = role;
	return l;
}

void output_newline(struct panel *p)
{
	struct output *o = p->state;

	o->open = 0;
	o->cr = 0;
	p->dirty = 1;
}

void output_append(struct panel *p, enum tui_role role, const char *text, size_t len)
{
	struct output *o = p->state;
	char buf[8];
	size_t i = 0;

	/* a UTF-8 character cut short by the last append comes first */
	while (o->npend > 0 && i < len) {
		unsigned cp;
		int n;

		o->pend[o->npend++] = text[i++];
		n = tui_text_decode(o->pend, (size_t)o->npend, &cp);
		if (n == 0 && o->npend < 4)
			continue;
		if (n > 0 && tui_text_utf8()) {
			line_add(current(o, role), o->pend, n, tui_text_cp_width(cp));
		} else {
			line_add(current(o, role), "?", 1, 1);
		}
		o->npend = 0;
	}
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (o->esc == 1) { /* ESC x: CSI and OSC run on, others end here */
			o->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
			i++;
			continue;
		}
		if (o->esc == 2) { /* CSI ends with a byte in 0x40..0x7e */
			if (c >= 0x40 && c <= 0x7e)
				o->esc = 0;
			i++;
			continue;
		}
		if (o->esc == 3) { /* OSC ends with BEL or ESC \ */
			if (c == 7)
				o->esc = 0;
			else if (c == 0x1b)
				o->esc = 1;
			i++;
			continue;
		}
		if (c == '\n') { /* "\r\n" ends the line as "\n" does */
			o->cr = 0;
			if (!o->open)
				current(o, role);
			o->open = 0;
			i++;
			continue;
		}
		if (c == '\r') {
			o->cr = 1;
			i++;
			continue;
		}
		if (c == 0x1b) {
			o->esc = 1;
			i++;
			continue;
		}
		if (c == '\t') {
			struct out_line *l = current(o, role);
			int spaces = 8 - l->width % 8;

			line_add(l, "        ", spaces, spaces);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			continue;
		}
		if (c < 0x80) {
			size_t j = i;

			while (j < len && (unsigned char)text[j] >= 0x20 && (unsigned char)text[j] < 0x7f)
				j++;
			line_add(current(o, role), text + i, (int)(j - i), (int)(j - i));
			i = j;
			continue;
		}
		{
			unsigned cp;
			int n = tui_text_decode(text + i, len - i, &cp);

			if (n == 0) { /* the rest of the character comes later */
				memcpy(o->pend, text + i, len - i);
				o->npend = (int)(len - i);
				break;
			}
			if (n < 0 || !tui_text_utf8()) {
				buf[0] = '?';
				line_add(current(o, role), buf, 1, 1);
				i += n < 0 ? 1 : (size_t)n;
				continue;
			}
			line_add(current(o, role), text + i, n, tui_text_cp_width(cp));
			i += (size_t)n;
		}
	}
	p->dirty = 1;
}

/* Rows line seq takes at the panel's width; fills o->starts. */
static int line_rows(struct output *o, long long seq, int cols)
{
	struct out_line *l = line_at(o, seq);
	int rows = tui_text_wrap(l->s ? l->s : "", (size_t)l->len, cols, NULL, 0);

	if (rows > o->nstarts) {
		int *ns = realloc(o->starts, (size_t)rows * sizeof *ns);

		if (ns == NULL)
			return 1;
		o->starts = ns;
		o->nstarts = rows;
	}
	tui_text_wrap(l->s ? l->s : "", (size_t)l->len, cols, o->starts, rows);
	return rows;
}

/* Moves a (line, row) position by n rows (negative: up). Returns the rows
 * it could not move (it stops at either end). */
static int move_pos(struct output *o, long long *seq, int *row, int n, int cols)
{
	long long last = o->seq0 + o->count - 1;

	while (n < 0) {
		if (*row > 0) {
			int d = -n < *row ? -n : *row;

			*row -= d;
			n += d;
		} else if (*seq > o->seq0) {
			(*seq)--;
			*row = line_rows(o, *seq, cols) - 1;
			n++;
		} else {
			break;
		}
	}
	while (n > 0) {
		int rows = line_rows(o, *seq, cols);

		if (*row < rows - 1) {
			int d = n < rows - 1 - *row ? n : rows - 1 - *row;

			*row += d;
			n -= d;
		} else if (*seq < last) {
			(*seq)++;
			*row = 0;
			n--;
		} else {
			break;
		}
	}
	return n;
}

void output_scroll(struct panel *p, int rows)
{
	struct output *o = p->state;
	int cols = p->cols > 0 ? p->cols : 80, height = p->rows > 0 ? p->rows : 1;
	long long seq, last = o->seq0 + o->count - 1;
	int row;

	p->dirty = 1;
	if (rows == 0 || o->count == 0) {
		o->follow = 1;
		return;
	}
	if (o->follow) {
		seq = last;
		row = line_rows(o, seq, cols) - 1;
	} else {
		seq = o->anchor;
		row = o->anchor_row;
	}
	move_pos(o, &seq, &row, -rows, cols);
	/* the top of the view may not pass the first line */
	{
		long long top = seq;
		int top_row = row;

		if (move_pos(o, &top, &top_row, -(height - 1), cols) != 0) {
			seq = o->seq0, row = 0;
			move_pos(o, &seq, &row, height - 1, cols);
		}
	}
	if (seq == last && row >= line_rows(o, last, cols) - 1) {
		o->follow = 1;
		return;
	}
	o->follow = 0;
	o->anchor = seq;
	o->anchor_row = row;
}

int output_scrolled(const struct panel *p)
{
	return !((const struct output *)p->state)->follow;
}

int output_count(const struct panel *p)
{
	return ((const struct output *)p->state)->count;
}

const char *output_line(const struct panel *p, int i, size_t *len)
{
	const struct output *o = p->state;
	const struct out_line *l = &o->lines[(o->first + i) % o->cap];

	*len = (size_t)l->len;
	return l->s ? l->s : "";
}

/* Draws row k of a line at screen row y. */
static void draw_row(struct panel *p, struct output *o, const struct out_line *l,
	int rows, int k, int y)
{
	int start = o->starts[k], end = k + 1 < rows ? o->starts[k + 1] : l->len;

	wmove(p->win, y, 0);
	if (l->role == ROLE_PROMPT) {
		/* echoed input: the "> " / ">> " part in the prompt's colour */
		int pre = 0;

		if (k == 0) {
			while (pre < l->len && l->s[pre] == '>')
				pre++;
			if (pre < l->len && l->s[pre] == ' ')
				pre++;
		}
		wattrset(p->win, tui_style_attr(ROLE_PROMPT));
		waddnstr(p->win, l->s + start, pre);
		wattrset(p->win, tui_style_attr(ROLE_TEXT));
		waddnstr(p->win, l->s + start + pre, end - start - pre);
	} else {
		wattrset(p->win, tui_style_attr(l->role));
		waddnstr(p->win, l->s + start, end - start);
	}
}

static void output_draw(struct panel *p)
{
	struct output *o = p->state;
	long long seq;
	int row, y = p->rows - 1;

	werase(p->win);
	if (o->count > 0) {
		if (o->follow) {
			seq = o->seq0 + o->count - 1;
			row = line_rows(o, seq, p->cols) - 1;
		} else {
			seq = o->anchor;
			row = o->anchor_row;
		}
		while (y >= 0 && seq >= o->seq0) {
			struct out_line *l = line_at(o, seq);
			int rows = line_rows(o, seq, p->cols);

			if (row >= rows)
				row = rows - 1;
			for (int k = row; k >= 0 && y >= 0; k--)
				draw_row(p, o, l, rows, k, y--);
			seq--;
			row = 1 << 30;
		}
	}
	if (!o->follow) {
		static const char mark[] = " more below: PgDn ";

		wattrset(p->win, tui_style_attr(ROLE_MARK));
		if (p->cols > (int)sizeof mark)
			mvwaddstr(p->win, p->rows - 1, p->cols - (int)sizeof mark + 1, mark);
	}
	wattrset(p->win, A_NORMAL);
}

static int output_key(struct panel *p, int ch)
{
	int page = p->rows > 2 ? p->rows - 2 : 1;

	switch (ch) {
	case KEY_PPAGE:
		output_scroll(p, page);
		return PANEL_HANDLED | PANEL_REDRAW;
	case KEY_NPAGE:
		output_scroll(p, -page);
		return PANEL_HANDLED | PANEL_REDRAW;
	case KEY_SR: /* shift-up */
		output_scroll(p, 1);
		return PANEL_HANDLED | PANEL_REDRAW;
	case KEY_SF: /* shift-down */
		output_scroll(p, -1);
		return PANEL_HANDLED | PANEL_REDRAW;
	default:
		return PANEL_IGNORED;
	}
}

static void output_resize(struct panel *p)
{
	struct output *o = p->state;

	/* rows of the anchor line change with the width: keep it valid */
	if (!o->follow && o->count > 0) {
		int rows = line_rows(o, o->anchor, p->cols);

		if (o->anchor_row >= rows)
			o->anchor_row = rows - 1;
	}
}

const struct panel_class output_panel_class = {
	.name = "output",
	.min_rows = 1,
	.min_cols = 10,
	.want_rows = NULL,
	.draw = output_draw,
	.key = output_key,
	.tick = NULL,
	.resize = output_resize,
	.free = output_free,
};
