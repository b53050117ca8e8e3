/* plot.h: line charts written as PNG files (the run directory's loss, lr,
 * AP-over-time and PR-curve plots), drawn with data/draw.h's helpers and
 * saved with stb_image_write: axes with round-number ticks, a legend, one
 * colour per series, NaN points skipped, optional log-scaled y. */
#ifndef DET_TRAIN_PLOT_H
#define DET_TRAIN_PLOT_H

#include <stddef.h>

struct plot_series {
	const char *name;
	const double *x, *y;
	size_t n;
};

struct plot_opts {
	const char *title, *xlabel;
	int width, height;     /* 0: 800 x 450 */
	int logy;              /* log10 y axis (values <= 0 skipped) */
	double ymin, ymax;     /* both NaN or equal: from the data */
};

/* Draws the series into path (PNG). 0, or DET_EIO / DET_ENOMEM with a
 * message naming the file. Series with no finite point are left out of the
 * plot but kept in the legend. */
int plot_png(const char *path, const struct plot_series *s, size_t ns, const struct plot_opts *o);

struct metrics;
struct eval_result;
struct eval_gt;

/* The run directory's plots from a metrics store: loss.png (the total and
 * every loss part against step), lr.png, ap.png (AP, AP50, AP75 against
 * step, when evaluations exist) and, with r and gt, pr.png (each class's
 * precision-recall curve at IoU 0.5). Returns the number of files written
 * (a failure to write one is counted out and remembered in the message). */
int plot_run(const char *dir, struct metrics *m, const struct eval_result *r, const struct eval_gt *gt);

#endif
