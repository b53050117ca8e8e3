/* cells.h: a grid of terminal cells (one code point, a foreground and a
 * background colour, attributes) that the screen's widgets draw into. It
 * knows nothing of curses: tests read it back as text, snapshots write it
 * as text or ANSI, and cells_blit puts it into a curses window in the
 * terminal's colour mode (24-bit, 256, 8 colours or none). */
#ifndef DET_TUI_CELLS_H
#define DET_TUI_CELLS_H

#include <stddef.h>
#include <stdint.h>

/* A colour: CELL_RGB(r, g, b), or CELL_DEFAULT (the terminal's own). */
#define CELL_DEFAULT 0u
#define CELL_RGB(r, g, b) (0x1000000u | ((uint32_t)(r) << 16) | ((uint32_t)(g) << 8) | (uint32_t)(b))
#define CELL_R(c) (((c) >> 16) & 0xff)
#define CELL_G(c) (((c) >> 8) & 0xff)
#define CELL_B(c) ((c) & 0xff)

enum cell_attr { CELL_BOLD = 1, CELL_DIM = 2, CELL_REVERSE = 4, CELL_UNDERLINE = 8 };

struct cell {
	uint32_t cp;     /* code point (' ' when blank) */
	uint32_t fg, bg; /* CELL_RGB or CELL_DEFAULT */
	uint8_t attr;    /* enum cell_attr bits */
};

struct cells {
	int rows, cols;
	struct cell *c; /* rows * cols, row-major */
};

/* How colours reach the terminal. */
enum cell_mode {
	CELL_MODE_MONO, /* no colour: NO_COLOR, or a terminal without colours */
	CELL_MODE_8,    /* the 8 ANSI colours (TERM=linux, screen) */
	CELL_MODE_256,  /* xterm's 6x6x6 cube and 24 greys */
	CELL_MODE_TRUE, /* 24-bit */
};
extern const char *const cell_mode_names[4]; /* "mono", "8", "256", "truecolor" */

/* The mode for a terminal with `colors` colours (curses' COLORS, or 0 when
 * unknown) and this environment: NO_COLOR (set, not empty) gives MONO,
 * COLORTERM=truecolor|24bit gives TRUE, else by colors. */
enum cell_mode cell_mode_detect(int colors);

/* Initialises cb to rows x cols blank cells; 0 or DET_ENOMEM. */
int cells_init(struct cells *cb, int rows, int cols);
void cells_fini(struct cells *cb);
/* Resizes (contents blanked); 0 or DET_ENOMEM. */
int cells_resize(struct cells *cb, int rows, int cols);
void cells_clear(struct cells *cb);
/* The cell at (y, x) or NULL when outside. */
struct cell *cells_at(struct cells *cb, int y, int x);
void cells_put(struct cells *cb, int y, int x, uint32_t cp, uint32_t fg, uint32_t bg, int attr);
/* Writes UTF-8 text from (y, x), one code point per cell, at most max
 * cells (max < 0: to the edge). The background of cells already drawn is
 * kept when bg is CELL_DEFAULT. Returns the cells written. */
int cells_text(struct cells *cb, int y, int x, const char *s, uint32_t fg, uint32_t bg, int attr, int max);
/* printf into cells_text. */
int cells_printf(struct cells *cb, int y, int x, uint32_t fg, uint32_t bg, int attr, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* The grid as UTF-8 text, rows ended by '\n', trailing blanks dropped.
 * malloc'd (NULL on ENOMEM). */
char *cells_to_text(const struct cells *cb);
/* The same with SGR escape sequences for the colours in mode (for
 * snapshots and the renderer comparison). malloc'd. */
char *cells_to_ansi(const struct cells *cb, enum cell_mode mode);

/* Colour mapping: the xterm-256 index nearest to rgb (cube or grey ramp),
 * the ANSI 8 index nearest, and the RGB a 256 index stands for. */
int cell_rgb_to_256(uint32_t rgb);
int cell_rgb_to_8(uint32_t rgb);
uint32_t cell_256_to_rgb(int index);

/* Draws the grid into a curses window at (y, x) in mode (colour pairs are
 * allocated with alloc_pair; TRUE falls back to 256 unless the terminal
 * takes direct colour, COLORS >= 2^24). */
typedef struct _win_st WINDOW;
void cells_blit(const struct cells *cb, WINDOW *w, int y, int x, enum cell_mode mode);

/* Encodes a code point as UTF-8 into out (>= 5 bytes); returns the length. */
int cell_utf8(uint32_t cp, char *out);

#endif
