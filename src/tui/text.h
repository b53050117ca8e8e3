/* text.h: UTF-8 text as the screen lays it out: one character's length in
 * bytes and width in terminal cells, and where a line wraps. Invalid bytes
 * count as one cell (they are cleaned before they reach a panel). */
#ifndef DET_TUI_TEXT_H
#define DET_TUI_TEXT_H

#include <stddef.h>

/* Reads the locale's character set; call after setlocale(LC_CTYPE, ""). */
void tui_text_init(void);
/* Whether the terminal takes UTF-8 (else the screen sticks to ASCII). */
int tui_text_utf8(void);

/* Decodes the character at s (n > 0 bytes available). Returns its length in
 * bytes, 0 when the sequence is cut short by n (more bytes to come), or -1
 * when s[0] does not start a valid character. *cp gets the code point. */
int tui_text_decode(const char *s, size_t n, unsigned *cp);
/* The cells a code point takes: 0 (combining), 1 or 2. */
int tui_text_cp_width(unsigned cp);
/* One character at s: its byte length (>= 1) and, in *width, its cells. */
int tui_text_next(const char *s, size_t n, int *width);
/* Cells taken by n bytes of text. */
int tui_text_width(const char *s, size_t n);

/* Wraps n bytes of text into rows of at most `cols` cells. Returns the
 * number of rows (at least 1); when starts is not NULL, starts[k] gets the
 * byte offset where row k begins (for k < max). */
int tui_text_wrap(const char *s, size_t n, int cols, int *starts, int max);

#endif
