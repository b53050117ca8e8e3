/* text.c: UTF-8 decoding and wrapping for the panels. The decoder is our own
 * (stateless, so a character split across two reads of a pipe is easy to
 * hold back); widths come from wcwidth() in the user's locale. */
#include "tui/text.h"

#include <langinfo.h>
#include <string.h>
#include <wchar.h>

static int utf8;

void tui_text_init(void)
{
	const char *cs = nl_langinfo(CODESET);

	utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int tui_text_utf8(void)
{
	return utf8;
}

int tui_text_decode(const char *s, size_t n, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned c = u[0], min;
	int len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return -1;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return 0;
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

int tui_text_cp_width(unsigned cp)
{
	int w;

	if (cp < 0x80)
		return cp >= 0x20 && cp != 0x7f ? 1 : 0;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

int tui_text_next(const char *s, size_t n, int *width)
{
	unsigned cp;
	int len = tui_text_decode(s, n, &cp);

	if (len <= 0) {
		*width = 1;
		return 1;
	}
	*width = tui_text_cp_width(cp);
	return len;
}

int tui_text_width(const char *s, size_t n)
{
	int cells = 0, w;

	for (size_t i = 0; i < n;) {
		i += (size_t)tui_text_next(s + i, n - i, &w);
		cells += w;
	}
	return cells;
}

int tui_text_wrap(const char *s, size_t n, int cols, int *starts, int max)
{
	int rows = 1, col = 0, w;
	size_t i = 0;

	if (cols < 1)
		cols = 1;
	if (starts && max > 0)
		starts[0] = 0;
	while (i < n) {
		int len = tui_text_next(s + i, n - i, &w);

		if (col + w > cols && col > 0) {
			if (starts && rows < max)
				starts[rows] = (int)i;
			rows++;
			col = 0;
		}
		col += w;
		i += (size_t)len;
	}
	return rows;
}
