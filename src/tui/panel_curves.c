/* panel_curves.c: the curves panel (each training loss part, and the
 * validation AP figures below it when there is room) and the learning-rate
 * panel (the lr so far and the schedule's future, dashed). Both mark the
 * steps where a hyper-parameter was changed live. Keys: e EMA, l log. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "train/metrics.h"
#include "tui/board.h"
#include "tui/chart.h"

#define MAX_POINTS 4096
#define OPT_LOG 0

/* Series that are not loss parts. */
static int not_a_loss(const char *name)
{
	static const char *const others[] = { "lr", "momentum", "grad_norm", "images_per_s", "ips", "data_wait",
		"epoch", "num_pos", "scale", NULL };

	for (int i = 0; others[i]; i++)
		if (strcmp(name, others[i]) == 0)
			return 1;
	return strncmp(name, "lr", 2) == 0 || strncmp(name, "mem", 3) == 0;
}

static const uint32_t palette[] = {
	CELL_RGB(90, 170, 240), CELL_RGB(240, 120, 60), CELL_RGB(100, 210, 100), CELL_RGB(220, 90, 200),
	CELL_RGB(230, 210, 80), CELL_RGB(80, 210, 210), CELL_RGB(200, 200, 200), CELL_RGB(240, 80, 80),
};

struct pts {
	double *x, *y;
	int n;
};

static void pts_free(struct pts *p)
{
	free(p->x);
	free(p->y);
}

static int pts_load(struct metrics *m, const char *name, struct pts *out)
{
	struct metrics_point *pt = malloc(MAX_POINTS * sizeof *pt);
	size_t n;

	out->n = 0;
	out->x = out->y = NULL;
	if (pt == NULL)
		return -1;
	n = metrics_series_copy(m, name, pt, MAX_POINTS, NULL);
	out->x = malloc((n + 1) * sizeof *out->x);
	out->y = malloc((n + 1) * sizeof *out->y);
	if (out->x == NULL || out->y == NULL) {
		free(pt);
		pts_free(out);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out->x[i] = (double)pt[i].step, out->y[i] = pt[i].value;
	out->n = (int)n;
	free(pt);
	return 0;
}

/* Steps of the live hyper-parameter changes (malloc'd; *n). */
static double *set_marks(struct metrics *m, int *n)
{
	size_t total = metrics_event_count(m), first = total > 4096 ? total - 4096 : 0;
	struct metrics_event *ev = malloc(4096 * sizeof *ev);
	double *marks = malloc(4096 * sizeof *marks);
	size_t got;

	*n = 0;
	if (ev == NULL || marks == NULL) {
		free(ev);
		free(marks);
		return NULL;
	}
	got = metrics_events_copy(m, first, ev, 4096);
	for (size_t i = 0; i < got; i++)
		if (ev[i].kind == METRICS_EV_SET)
			marks[(*n)++] = (double)ev[i].step;
	free(ev);
	return marks;
}

static void curves_draw(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct board *b = bp->b;
	struct cells *cb = &bp->cb;
	struct chart_series s[8];
	struct pts pts[8] = { 0 };
	int ns = 0, nmarks = 0, evals_h = 0;
	double *marks = NULL;
	char hint[64];

	cells_resize(cb, p->rows, p->cols);
	snprintf(hint, sizeof hint, "e EMA%s  l log%s", bp->smooth > 0 ? "*" : "", bp->opt[OPT_LOG] ? "*" : "");
	board_title(p, cb, "loss", hint);
	if (b->m == NULL) {
		cells_text(cb, 2, 2, "no run yet: exp:train() or detbench watch RUN_DIR", CELL_RGB(128, 128, 128),
			CELL_DEFAULT, 0, p->cols - 2);
		board_blit(p, cb);
		return;
	}
	marks = set_marks(b->m, &nmarks);
	{
		size_t nser = metrics_series_count(b->m);

		/* "loss" (the total) first, then the parts */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < nser && ns < 8; i++) {
				char name[METRICS_NAME_MAX];

				if (metrics_series_name(b->m, i, name, sizeof name) != 0 || not_a_loss(name))
					continue;
				if ((pass == 0) != (strcmp(name, "loss") == 0))
					continue;
				if (pts_load(b->m, name, &pts[ns]) != 0)
					continue;
				s[ns] = (struct chart_series){ strdup(name), pts[ns].x, pts[ns].y, pts[ns].n,
					palette[ns % 8], -1 };
				ns++;
			}
	}
	/* the validation figures below, when there is room and an evaluation */
	{
		size_t ne = metrics_eval_count(b->m);

		if (ne > 0 && p->rows >= 16)
			evals_h = (p->rows - 1) * 2 / 5;
		struct chart_opts o = { .smooth = bp->smooth, .logy = bp->opt[OPT_LOG], .marks = marks,
			.nmarks = nmarks, .ascii = b->ascii, .xlabel = "step", .xint = 1 };

		chart_draw(cb, 1, 0, p->rows - 1 - evals_h, p->cols - 1, s, ns, &o);
		if (evals_h >= 4) {
			double *x = malloc(ne * sizeof *x), *y[3];
			static const char *const names[3] = { "AP", "AP50", "AP75" };
			struct chart_series es[3];
			struct chart_opts eo = { .title = "val", .marks = marks, .nmarks = nmarks, .ascii = b->ascii };

			for (int k = 0; k < 3; k++)
				y[k] = malloc(ne * sizeof *y[k]);
			if (x && y[0] && y[1] && y[2]) {
				for (size_t i = 0; i < ne; i++) {
					struct metrics_eval e;

					x[i] = NAN, y[0][i] = y[1][i] = y[2][i] = NAN;
					if (metrics_eval_get(b->m, (long)i, &e) == 0) {
						x[i] = (double)e.step;
						for (int k = 0; k < 3; k++)
							y[k][i] = e.stats[k];
						metrics_eval_fini(&e);
					}
				}
				for (int k = 0; k < 3; k++)
					es[k] = (struct chart_series){ names[k], x, y[k], (int)ne, palette[(k + 2) % 8], -1 };
				chart_draw(cb, p->rows - evals_h, 0, evals_h, p->cols - 1, es, 3, &eo);
			}
			free(x);
			for (int k = 0; k < 3; k++)
				free(y[k]);
		}
	}
	for (int k = 0; k < ns; k++) {
		free((char *)s[k].name);
		pts_free(&pts[k]);
	}
	free(marks);
	board_blit(p, cb);
	bp->seen = b->serial;
}

static void lr_draw(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct board *b = bp->b;
	struct cells *cb = &bp->cb;
	struct pts lr = { 0 };
	struct chart_series s[2];
	int ns = 0, nmarks = 0;
	double *marks = NULL, *fx = NULL, *fy = NULL;
	char hint[32];

	cells_resize(cb, p->rows, p->cols);
	snprintf(hint, sizeof hint, "l log%s", bp->opt[OPT_LOG] ? "*" : "");
	board_title(p, cb, "learning rate", hint);
	if (b->m) {
		marks = set_marks(b->m, &nmarks);
		if (pts_load(b->m, "lr", &lr) == 0 && lr.n > 0) {
			s[ns++] = (struct chart_series){ "lr", lr.x, lr.y, lr.n, palette[4], -1 };
		}
	}
	/* the plan past the last recorded step, dashed (joined to the last point) */
	if (b->nplan > 0) {
		double last = lr.n > 0 ? lr.x[lr.n - 1] : -INFINITY;
		int n = 0;

		fx = malloc((size_t)(b->nplan + 1) * sizeof *fx);
		fy = malloc((size_t)(b->nplan + 1) * sizeof *fy);
		if (fx && fy) {
			if (lr.n > 0)
				fx[n] = lr.x[lr.n - 1], fy[n++] = lr.y[lr.n - 1];
			for (int i = 0; i < b->nplan; i++)
				if (b->plan_x[i] > last)
					fx[n] = b->plan_x[i], fy[n++] = b->plan_lr[i];
			if (n > 1)
				s[ns++] = (struct chart_series){ "plan", fx, fy, n, CELL_RGB(150, 150, 150), 0 };
		}
	}
	{
		struct chart_opts o = { .logy = bp->opt[OPT_LOG], .marks = marks, .nmarks = nmarks, .ascii = b->ascii,
			.xlabel = "step", .xint = 1 };

		chart_draw(cb, 1, 0, p->rows - 1, p->cols - 1, s, ns, &o);
	}
	pts_free(&lr);
	free(fx);
	free(fy);
	free(marks);
	board_blit(p, cb);
	bp->seen = b->serial;
}

static int chart_key(struct panel *p, int ch)
{
	struct board_panel *bp = p->state;

	if (!p->focus)
		return PANEL_IGNORED;
	if (ch == 'e' && p->cls == &curves_panel_class) {
		bp->smooth = bp->smooth > 0 ? 0 : 0.9;
		return PANEL_HANDLED | PANEL_REDRAW;
	}
	if (ch == 'l') {
		bp->opt[OPT_LOG] = !bp->opt[OPT_LOG];
		return PANEL_HANDLED | PANEL_REDRAW;
	}
	return PANEL_IGNORED;
}

static int chart_tick(struct panel *p, long long now_ms)
{
	struct board_panel *bp = p->state;

	(void)now_ms;
	return bp->seen != bp->b->serial ? PANEL_REDRAW : 0;
}

static void panel_free(struct panel *p)
{
	struct board_panel *bp = p->state;

	cells_fini(&bp->cb);
	free(bp);
}

const struct panel_class curves_panel_class = {
	.name = "curves",
	.min_rows = 5,
	.min_cols = 20,
	.draw = curves_draw,
	.key = chart_key,
	.tick = chart_tick,
	.free = panel_free,
};

const struct panel_class lr_panel_class = {
	.name = "lr",
	.min_rows = 5,
	.min_cols = 20,
	.draw = lr_draw,
	.key = chart_key,
	.tick = chart_tick,
	.free = panel_free,
};
