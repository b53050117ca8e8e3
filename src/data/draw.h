/* draw.h: drawing into 8-bit RGB images for previews: rectangles, text in
 * a tiny built-in bitmap font (stb_easy_font), and labelled boxes with one
 * colour per class. Everything clips at the image border. */
#ifndef DET_DATA_DRAW_H
#define DET_DATA_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

struct aug_box;

/* A distinct colour for class c (a fixed 20-colour palette, cycled). */
void draw_class_color(int c, uint8_t rgb[3]);
/* Fills [x0, x1) x [y0, y1). */
void draw_fill(struct image *im, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
/* Outline of the box (x0, y0, x1, y1) in pixel-edge coordinates, `thick`
 * pixels wide, inside the box. */
void draw_rect(struct image *im, float x0, float y0, float x1, float y1, const uint8_t rgb[3], int thick);
/* Text with its top-left corner at (x, y); returns its width in pixels. */
int draw_text(struct image *im, int x, int y, const char *text, const uint8_t rgb[3]);
int draw_text_width(const char *text);
int draw_text_height(void);
/* Boxes with a label ("name" over a filled tag) in the class colour.
 * names may be NULL (labels then show the class number). */
void draw_boxes(struct image *im, const struct aug_box *boxes, size_t n, const char *const *names, int nclasses);

#endif
