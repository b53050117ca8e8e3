/* plot.c: PNG line charts (axes, ticks, legend) and the run directory's
 * standard plots from a metrics store and the last evaluation. */
#include "train/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/imageio.h"
#include "eval/coco_eval.h"
#include "train/metrics.h"

static void put(struct image *im, int x, int y, const uint8_t c[3])
{
	if (x < 0 || y < 0 || x >= im->width || y >= im->height)
		return;
	memcpy(im->data + ((size_t)y * im->width + x) * 3, c, 3);
}

/* Bresenham, 2 px thick */
static void line(struct image *im, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
	int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, err = dx + dy;
	for (;;) {
		put(im, x0, y0, c);
		put(im, x0, y0 + 1, c);
		if (x0 == x1 && y0 == y1)
			break;
		int e2 = 2 * err;
		if (e2 >= dy) {
			err += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += sy;
		}
	}
}

/* A "nice" tick step for a range split into about n parts. */
static double nice_step(double range, int n)
{
	double raw = range / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void fmt_num(char *buf, size_t n, double v)
{
	if (v != 0 && (fabs(v) < 1e-3 || fabs(v) >= 1e5))
		snprintf(buf, n, "%.0e", v);
	else
		snprintf(buf, n, "%g", v);
}

int plot_png(const char *path, const struct plot_series *s, size_t ns, const struct plot_opts *o)
{
	const int W = o->width > 0 ? o->width : 800, H = o->height > 0 ? o->height : 450;
	const int L = 70, R = 20, T = 30, B = 50;
	struct image im;
	if (image_init(&im, W, H, 3))
		return det_error_set(DET_ENOMEM, "out of memory for plot %s", path);
	memset(im.data, 255, (size_t)W * H * 3);
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++) {
			double x = s[k].x[i], y = s[k].y[i];
			if (!isfinite(x) || !isfinite(y) || (o->logy && y <= 0))
				continue;
			if (o->logy)
				y = log10(y);
			x0 = fmin(x0, x);
			x1 = fmax(x1, x);
			y0 = fmin(y0, y);
			y1 = fmax(y1, y);
		}
	if (isfinite(o->ymin) && isfinite(o->ymax) && o->ymin < o->ymax) {
		y0 = o->logy ? log10(o->ymin) : o->ymin;
		y1 = o->logy ? log10(o->ymax) : o->ymax;
	}
	if (!isfinite(x0)) {
		x0 = 0;
		x1 = 1;
		y0 = 0;
		y1 = 1;
	}
	if (x1 <= x0)
		x1 = x0 + 1;
	if (y1 <= y0) {
		y0 -= 0.5;
		y1 += 0.5;
	}
	const int pw = W - L - R, ph = H - T - B;
	const uint8_t black[3] = { 0, 0, 0 }, grid[3] = { 225, 225, 225 }, grey[3] = { 90, 90, 90 };
	/* grid and ticks */
	char buf[32];
	double xs = nice_step(x1 - x0, 8);
	for (double v = ceil(x0 / xs) * xs; v <= x1 + 1e-9 * xs; v += xs) {
		int px = L + (int)lround((v - x0) / (x1 - x0) * pw);
		draw_fill(&im, px, T, px + 1, T + ph, grid);
		fmt_num(buf, sizeof buf, v);
		draw_text(&im, px - draw_text_width(buf) / 2, T + ph + 6, buf, grey);
	}
	double ys = o->logy ? 1 : nice_step(y1 - y0, 6);
	if (o->logy && y1 - y0 < 2)
		ys = nice_step(y1 - y0, 4);
	for (double v = ceil(y0 / ys) * ys; v <= y1 + 1e-9 * ys; v += ys) {
		int py = T + ph - (int)lround((v - y0) / (y1 - y0) * ph);
		draw_fill(&im, L, py, L + pw, py + 1, grid);
		if (o->logy)
			snprintf(buf, sizeof buf, "%.3g", pow(10, v));
		else
			fmt_num(buf, sizeof buf, v);
		draw_text(&im, L - 6 - draw_text_width(buf), py - draw_text_height() / 2, buf, grey);
	}
	draw_fill(&im, L, T, L + 1, T + ph, black);
	draw_fill(&im, L, T + ph, L + pw, T + ph + 1, black);
	if (o->title)
		draw_text(&im, L, 8, o->title, black);
	if (o->xlabel)
		draw_text(&im, L + pw / 2 - draw_text_width(o->xlabel) / 2, H - 18, o->xlabel, grey);
	/* series */
	for (size_t k = 0; k < ns; k++) {
		uint8_t c[3];
		draw_class_color((int)k, c);
		int have = 0, lx = 0, ly = 0;
		for (size_t i = 0; i < s[k].n; i++) {
			double x = s[k].x[i], y = s[k].y[i];
			if (!isfinite(x) || !isfinite(y) || (o->logy && y <= 0)) {
				have = 0;
				continue;
			}
			if (o->logy)
				y = log10(y);
			int px = L + (int)lround((x - x0) / (x1 - x0) * pw);
			int py = T + ph - (int)lround((y - y0) / (y1 - y0) * ph);
			if (py < T)
				py = T;
			if (py > T + ph)
				py = T + ph;
			if (have)
				line(&im, lx, ly, px, py, c);
			else if (s[k].n == 1 || i + 1 == s[k].n || !isfinite(s[k].y[i + 1]))
				draw_fill(&im, px - 2, py - 2, px + 3, py + 3, c);
			lx = px;
			ly = py;
			have = 1;
		}
		/* legend, top right, one row per series */
		int ty = T + 6 + (int)k * (draw_text_height() + 4);
		int tw = s[k].name ? draw_text_width(s[k].name) : 0;
		draw_fill(&im, L + pw - tw - 26, ty + 2, L + pw - tw - 12, ty + 5, c);
		if (s[k].name)
			draw_text(&im, L + pw - tw - 6, ty, s[k].name, black);
	}
	int rc = imageio_write_png(path, &im);
	image_fini(&im);
	return rc;
}

/* ---- the run's plots ---- */

struct xy {
	double *x, *y;
	size_t n;
};

static int take(struct metrics *m, const char *name, struct xy *out)
{
	size_t total;
	metrics_series_copy(m, name, NULL, 0, &total);
	size_t cap = total ? total : 1;
	struct metrics_point *p = malloc(cap * sizeof *p);
	out->x = malloc(cap * sizeof(double));
	out->y = malloc(cap * sizeof(double));
	if (!p || !out->x || !out->y) {
		free(p);
		free(out->x);
		free(out->y);
		out->x = out->y = NULL;
		return -1;
	}
	out->n = metrics_series_copy(m, name, p, cap, NULL);
	for (size_t i = 0; i < out->n; i++) {
		out->x[i] = (double)p[i].step;
		out->y[i] = p[i].value;
	}
	free(p);
	return 0;
}

int plot_run(const char *dir, struct metrics *m, const struct eval_result *r, const struct eval_gt *gt)
{
	char path[1024];
	int written = 0;
	struct plot_opts o = { .xlabel = "step", .ymin = NAN, .ymax = NAN };
	/* losses: the total and every part the store has */
	static const char *const parts[] = { "loss", "cls", "box", "quality", "dfl" };
	struct xy xy[5];
	struct plot_series s[5];
	size_t ns = 0;
	for (size_t i = 0; i < 5; i++) {
		if (take(m, parts[i], &xy[ns]))
			break;
		if (xy[ns].n == 0) {
			free(xy[ns].x);
			free(xy[ns].y);
			continue;
		}
		s[ns] = (struct plot_series){ parts[i], xy[ns].x, xy[ns].y, xy[ns].n };
		ns++;
	}
	if (ns) {
		snprintf(path, sizeof path, "%s/loss.png", dir);
		o.title = "training loss (total and parts)";
		o.logy = 1;
		written += plot_png(path, s, ns, &o) == 0;
	}
	for (size_t i = 0; i < ns; i++) {
		free(xy[i].x);
		free(xy[i].y);
	}
	struct xy lr;
	if (take(m, "lr", &lr) == 0) {
		if (lr.n) {
			struct plot_series one = { "lr", lr.x, lr.y, lr.n };
			snprintf(path, sizeof path, "%s/lr.png", dir);
			o.title = "learning rate";
			o.logy = 0;
			written += plot_png(path, &one, 1, &o) == 0;
		}
		free(lr.x);
		free(lr.y);
	}
	size_t ne = metrics_eval_count(m);
	if (ne) {
		double *x = malloc(ne * sizeof *x), *y = malloc(3 * ne * sizeof *y);
		if (x && y) {
			for (size_t i = 0; i < ne; i++) {
				struct metrics_eval e;
				if (metrics_eval_get(m, (long)i, &e))
					break;
				x[i] = (double)e.step;
				for (int k = 0; k < 3; k++)
					y[k * ne + i] = e.stats[k];
				metrics_eval_fini(&e);
			}
			struct plot_series as[3] = { { "AP", x, y, ne }, { "AP50", x, y + ne, ne }, { "AP75", x, y + 2 * ne, ne } };
			snprintf(path, sizeof path, "%s/ap.png", dir);
			o.title = "validation AP over training";
			o.logy = 0;
			o.ymin = 0;
			o.ymax = 1;
			written += plot_png(path, as, 3, &o) == 0;
		}
		free(x);
		free(y);
	}
	if (r && gt && r->ncats > 0) {
		struct plot_series *ps = calloc((size_t)r->ncats, sizeof *ps);
		char (*names)[80] = calloc((size_t)r->ncats, sizeof *names);
		if (ps && names) {
			for (int k = 0; k < r->ncats; k++) {
				const struct eval_class *c = &r->cls[k];
				snprintf(names[k], sizeof names[k], "%.40s AP50 %.2f", gt->cat_names[k], c->ap50);
				ps[k] = (struct plot_series){ names[k], c->pr_recall, c->pr_precision, c->npr };
			}
			snprintf(path, sizeof path, "%s/pr.png", dir);
			struct plot_opts po = { .title = "precision-recall at IoU 0.5 (last evaluation)", .xlabel = "recall",
				.ymin = 0, .ymax = 1.02 };
			written += plot_png(path, ps, (size_t)r->ncats, &po) == 0;
		}
		free(ps);
		free(names);
	}
	return written;
}
