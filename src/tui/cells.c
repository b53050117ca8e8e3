/* cells.c: the cell grid the widgets draw into, its text and ANSI forms,
 * colour quantisation (xterm 256 and ANSI 8) and the blit into curses. */
#include "tui/cells.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "core/error.h"
#include "tui/text.h"

const char *const cell_mode_names[4] = { "mono", "8", "256", "truecolor" };

enum cell_mode cell_mode_detect(int colors)
{
	const char *nc = getenv("NO_COLOR"), *ct = getenv("COLORTERM");

	if (nc && *nc)
		return CELL_MODE_MONO;
	if (colors < 8)
		return CELL_MODE_MONO;
	if (ct && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0))
		return CELL_MODE_TRUE;
	if (colors >= 256)
		return CELL_MODE_256;
	return CELL_MODE_8;
}

int cells_init(struct cells *cb, int rows, int cols)
{
	memset(cb, 0, sizeof *cb);
	return cells_resize(cb, rows, cols);
}

void cells_fini(struct cells *cb)
{
	free(cb->c);
	memset(cb, 0, sizeof *cb);
}

int cells_resize(struct cells *cb, int rows, int cols)
{
	size_t n;
	struct cell *c;

	if (rows < 0)
		rows = 0;
	if (cols < 0)
		cols = 0;
	n = (size_t)rows * (size_t)cols;
	c = realloc(cb->c, (n ? n : 1) * sizeof *c);
	if (c == NULL)
		return det_error_set(DET_ENOMEM, "cells: out of memory for %dx%d cells", rows, cols);
	cb->c = c;
	cb->rows = rows, cb->cols = cols;
	cells_clear(cb);
	return 0;
}

void cells_clear(struct cells *cb)
{
	for (int i = 0; i < cb->rows * cb->cols; i++)
		cb->c[i] = (struct cell){ ' ', CELL_DEFAULT, CELL_DEFAULT, 0 };
}

struct cell *cells_at(struct cells *cb, int y, int x)
{
	if (y < 0 || x < 0 || y >= cb->rows || x >= cb->cols)
		return NULL;
	return &cb->c[y * cb->cols + x];
}

void cells_put(struct cells *cb, int y, int x, uint32_t cp, uint32_t fg, uint32_t bg, int attr)
{
	struct cell *c = cells_at(cb, y, x);

	if (c)
		*c = (struct cell){ cp, fg, bg, (uint8_t)attr };
}

int cells_text(struct cells *cb, int y, int x, const char *s, uint32_t fg, uint32_t bg, int attr, int max)
{
	size_t n = strlen(s);
	int written = 0;

	while (n > 0 && (max < 0 || written < max) && x + written < cb->cols) {
		unsigned cp;
		int k = tui_text_decode(s, n, &cp);
		struct cell *c;

		if (k <= 0) {
			cp = '?';
			k = 1;
		}
		c = cells_at(cb, y, x + written);
		if (c) {
			c->cp = cp;
			c->fg = fg;
			if (bg != CELL_DEFAULT)
				c->bg = bg;
			c->attr = (uint8_t)attr;
		}
		written++;
		s += k;
		n -= (size_t)k;
	}
	return written;
}

int cells_printf(struct cells *cb, int y, int x, uint32_t fg, uint32_t bg, int attr, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return cells_text(cb, y, x, buf, fg, bg, attr, -1);
}

int cell_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = p, b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static char *sb_done(struct sbuf *b)
{
	if (b->s == NULL && !b->failed)
		sb_add(b, "", 0);
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

char *cells_to_text(const struct cells *cb)
{
	struct sbuf b = { 0 };

	for (int y = 0; y < cb->rows; y++) {
		int end = cb->cols;

		while (end > 0 && cb->c[y * cb->cols + end - 1].cp == ' ')
			end--;
		for (int x = 0; x < end; x++) {
			char u[5];

			sb_add(&b, u, (size_t)cell_utf8(cb->c[y * cb->cols + x].cp, u));
		}
		sb_add(&b, "\n", 1);
	}
	return sb_done(&b);
}

/* xterm's 256 colours: 16 system, a 6x6x6 cube (levels 0, 95, 135, 175,
 * 215, 255) and 24 greys (8 + 10k). */
static const int cube_level[6] = { 0, 95, 135, 175, 215, 255 };

static int cube_index(int v)
{
	return v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40;
}

static int dist2(uint32_t a, uint32_t b)
{
	int dr = (int)CELL_R(a) - (int)CELL_R(b), dg = (int)CELL_G(a) - (int)CELL_G(b),
	    db = (int)CELL_B(a) - (int)CELL_B(b);

	/* a cheap perceptual weighting (green counts most) */
	return 2 * dr * dr + 4 * dg * dg + 3 * db * db;
}

uint32_t cell_256_to_rgb(int i)
{
	static const uint8_t sys[16][3] = {
		{ 0, 0, 0 }, { 205, 0, 0 }, { 0, 205, 0 }, { 205, 205, 0 }, { 0, 0, 238 }, { 205, 0, 205 },
		{ 0, 205, 205 }, { 229, 229, 229 }, { 127, 127, 127 }, { 255, 0, 0 }, { 0, 255, 0 },
		{ 255, 255, 0 }, { 92, 92, 255 }, { 255, 0, 255 }, { 0, 255, 255 }, { 255, 255, 255 },
	};

	if (i < 16)
		return CELL_RGB(sys[i][0], sys[i][1], sys[i][2]);
	if (i < 232) {
		i -= 16;
		return CELL_RGB(cube_level[i / 36], cube_level[(i / 6) % 6], cube_level[i % 6]);
	}
	return CELL_RGB(8 + 10 * (i - 232), 8 + 10 * (i - 232), 8 + 10 * (i - 232));
}

int cell_rgb_to_256(uint32_t rgb)
{
	int r = (int)CELL_R(rgb), g = (int)CELL_G(rgb), b = (int)CELL_B(rgb);
	int ci = 16 + 36 * cube_index(r) + 6 * cube_index(g) + cube_index(b);
	int grey = (r + g + b) / 3, gi = grey < 8 ? 0 : grey > 238 ? 23 : (grey - 3) / 10;

	gi += 232;
	return dist2(rgb, cell_256_to_rgb(gi)) < dist2(rgb, cell_256_to_rgb(ci)) ? gi : ci;
}

int cell_rgb_to_8(uint32_t rgb)
{
	int best = 0, bd = 1 << 30;

	for (int i = 0; i < 8; i++) {
		int d = dist2(rgb, cell_256_to_rgb(i));

		if (d < bd)
			bd = d, best = i;
	}
	return best;
}

static void sgr_color(struct sbuf *b, uint32_t c, int is_bg, enum cell_mode mode)
{
	char buf[32];
	int n;

	if (c == CELL_DEFAULT)
		n = snprintf(buf, sizeof buf, "\033[%dm", is_bg ? 49 : 39);
	else if (mode == CELL_MODE_TRUE)
		n = snprintf(buf, sizeof buf, "\033[%d;2;%u;%u;%um", is_bg ? 48 : 38, CELL_R(c), CELL_G(c), CELL_B(c));
	else if (mode == CELL_MODE_256)
		n = snprintf(buf, sizeof buf, "\033[%d;5;%dm", is_bg ? 48 : 38, cell_rgb_to_256(c));
	else
		n = snprintf(buf, sizeof buf, "\033[%dm", (is_bg ? 40 : 30) + cell_rgb_to_8(c));
	sb_add(b, buf, (size_t)n);
}

char *cells_to_ansi(const struct cells *cb, enum cell_mode mode)
{
	struct sbuf b = { 0 };

	for (int y = 0; y < cb->rows; y++) {
		uint32_t fg = ~0u, bg = ~0u;
		int attr = -1;

		for (int x = 0; x < cb->cols; x++) {
			const struct cell *c = &cb->c[y * cb->cols + x];
			char u[5];

			if (c->attr != attr) {
				sb_add(&b, "\033[0m", 4);
				if (c->attr & CELL_BOLD)
					sb_add(&b, "\033[1m", 4);
				if (c->attr & CELL_DIM)
					sb_add(&b, "\033[2m", 4);
				if (c->attr & CELL_UNDERLINE)
					sb_add(&b, "\033[4m", 4);
				if (c->attr & CELL_REVERSE)
					sb_add(&b, "\033[7m", 4);
				attr = c->attr;
				fg = bg = ~0u;
			}
			if (mode != CELL_MODE_MONO && c->fg != fg)
				sgr_color(&b, fg = c->fg, 0, mode);
			if (mode != CELL_MODE_MONO && c->bg != bg)
				sgr_color(&b, bg = c->bg, 1, mode);
			sb_add(&b, u, (size_t)cell_utf8(c->cp, u));
		}
		sb_add(&b, "\033[0m\n", 5);
	}
	return sb_done(&b);
}

/* A curses colour number for c in mode (-1: the default colour). */
static int curses_color(uint32_t c, enum cell_mode mode)
{
	if (c == CELL_DEFAULT)
		return -1;
	if (mode == CELL_MODE_TRUE)
		return (int)(c & 0xffffff);
	if (mode == CELL_MODE_256)
		return cell_rgb_to_256(c);
	return cell_rgb_to_8(c);
}

void cells_blit(const struct cells *cb, WINDOW *w, int y, int x, enum cell_mode mode)
{
	/* direct colour only where the terminal takes it */
	if (mode == CELL_MODE_TRUE && COLORS < 0x1000000)
		mode = COLORS >= 256 ? CELL_MODE_256 : CELL_MODE_8;
	if (mode == CELL_MODE_256 && COLORS < 256)
		mode = CELL_MODE_8;
	if (mode != CELL_MODE_MONO && !has_colors())
		mode = CELL_MODE_MONO;
	for (int r = 0; r < cb->rows; r++)
		for (int k = 0; k < cb->cols; k++) {
			const struct cell *c = &cb->c[r * cb->cols + k];
			wchar_t wc[2] = { (wchar_t)c->cp, 0 };
			attr_t a = 0;
			int pair = 0;
			cchar_t cc;

			if (c->attr & CELL_BOLD)
				a |= A_BOLD;
			if (c->attr & CELL_DIM)
				a |= A_DIM;
			if (c->attr & CELL_REVERSE)
				a |= A_REVERSE;
			if (c->attr & CELL_UNDERLINE)
				a |= A_UNDERLINE;
			if (mode != CELL_MODE_MONO && (c->fg != CELL_DEFAULT || c->bg != CELL_DEFAULT)) {
				pair = alloc_pair(curses_color(c->fg, mode), curses_color(c->bg, mode));
				if (pair < 0)
					pair = 0;
			}
			if (!tui_text_utf8() && c->cp > 0x7e)
				wc[0] = c->cp >= 0x2800 && c->cp < 0x2900 ? '.' : '#';
			setcchar(&cc, wc, a, (short)(pair < 0x7fff ? pair : 0), &pair);
			mvwadd_wch(w, y + r, x + k, &cc);
		}
}
