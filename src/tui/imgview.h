/* imgview.h: images in the terminal with half blocks: each cell is two
 * pixels, '▀' in the top pixel's colour over the bottom pixel's colour, so
 * a cols x rows area shows cols x 2*rows pixels. Colours go out as 24-bit,
 * or quantised to 256/8 by cells_blit; the monochrome mode (NO_COLOR, 2
 * colours) dithers the luminance (ordered 4x4 Bayer) into ' ▀▄█'. GT and
 * predicted boxes are drawn in class colours with labels and scores, or in
 * TP/FP/FN colours; the view can zoom into one box. */
#ifndef DET_TUI_IMGVIEW_H
#define DET_TUI_IMGVIEW_H

#include "data/image.h"
#include "tui/cells.h"

enum img_outcome { IMG_NONE, IMG_TP, IMG_FP, IMG_FN };

struct img_box {
	float x0, y0, x1, y1; /* pixels of the source image */
	int cls;
	float score;          /* predictions; ignored for GT */
	int pred;             /* 1: a prediction, 0: ground truth */
	int outcome;          /* enum img_outcome (TP/FP for predictions, TP/FN for GT) */
};

struct img_opts {
	enum cell_mode mode;       /* CELL_MODE_MONO dithers; others keep RGB */
	int outcomes;              /* colour by outcome: TP green, FP red, FN amber */
	int hide_gt, hide_pred;
	float min_score;           /* predictions below are not drawn */
	const char *const *names;  /* class names (NULL: numbers) */
	int nnames;
	int zoom;                  /* -1: whole image; else the box to zoom into */
	int labels;                /* 1: label boxes ("Shirt .87") */
};

/* Draws im (1 or 3 channels) scaled to fit (y0, x0, rows, cols), centred,
 * aspect kept, with the boxes. Returns 0 or DET_ENOMEM. */
int img_draw(struct cells *cb, int y0, int x0, int rows, int cols, const struct image *im,
	const struct img_box *boxes, int n, const struct img_opts *o);

/* Sets the outcome of n boxes (GT and predictions of one image): greedy
 * matching at IoU >= 0.5 within a class, highest score first; a matched
 * pair is TP, an unmatched prediction FP, an unmatched GT FN. */
void img_boxes_match(struct img_box *bx, int n);

/* The RGB colour of class c (data/draw.h's palette) and of an outcome. */
uint32_t img_class_color(int c);
uint32_t img_outcome_color(int outcome);

/* Renders the cells back into pixels (2 per cell, '▀' fg over bg; other
 * characters by their covered fraction) into out (initialised here,
 * cols x 2*rows x 3): to measure fidelity against the source. */
int img_cells_rasterise(const struct cells *cb, struct image *out);

#endif
