/* inspector.h: the failure inspector panel (panel_inspector.c): a list of
 * failures or suspects (image, object, score, IoU, error type, confused-with
 * class) beside a half-block view of the image zoomed around the object,
 * GT and prediction drawn. It follows the screen's focus model (board.h):
 * it takes keys only while it has the focus; Esc gives the focus back to
 * the prompt, Tab/F2 moves it. Keys while focused: j/Down next, k/Up
 * previous, PgDn/PgUp by a page, f full image / zoomed, s size filter
 * (all, small, medium, large), t score filter (0, .3, .5, .7), m mark /
 * unmark the object as a label problem, x export the marks, q close. */
#ifndef DET_TUI_INSPECTOR_H
#define DET_TUI_INSPECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "tui/panel.h"

struct dataset;
struct screen;

struct inspector_item {
	int64_t image_id;
	long image;          /* 0-based dataset index, or -1 (no image to show) */
	char cls[48];        /* the class it is filed under */
	char other[48];      /* confused with ("" when none) */
	char kind[16];       /* cls, loc, both, dupe, bkg, miss, or a suspect reason */
	int fn;              /* an object not found (GT side) */
	double score, iou, area;
	double box[4];       /* the object, COCO x, y, w, h */
	int has_gt, has_det;
	double gt_box[4], det_box[4];
	int gt_cls, det_cls; /* class indices for colours (-1: none) */
};

/* Opens (or refills) the inspector on screen s, zoomed over the layout and
 * focused. items are copied; ds is borrowed: the caller keeps it alive
 * until the next open or the screen closes. names: the class names.
 * export_path: where x writes the marks (copied). 0 or DET_ENOMEM. */
int inspector_open(struct screen *s, const struct dataset *ds, const struct inspector_item *items, size_t n,
	const char *title, const char *export_path);
/* The marked items' indices (0-based into the items of the last open),
 * ascending, into out (up to max); returns how many are marked. */
size_t inspector_marks(size_t *out, size_t max);
/* Writes the marks as a JSON array of {image, box, class, kind, score,
 * confused_with} atomically; 0 or DET_EIO. */
int inspector_export(const char *path);

/* For tests: renders the inspector's current state at rows x cols (as if
 * focused or not) and returns its cell grid (owned by the inspector); sends
 * one key as if the panel had (focus = 1) or lacked the focus. */
struct cells;
const struct cells *inspector_snapshot(int rows, int cols, int focus);
int inspector_key_send(int ch, int focus);

extern const struct panel_class inspector_panel_class;

#endif
