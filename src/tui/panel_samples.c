/* panel_samples.c: the samples panel: validation images of the last
 * evaluation with GT and predicted boxes (imgview.h). Keys: Left/Right
 * images, z zoom into the next box, o TP/FP/FN colours, g GT boxes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tui/text.h"
#include "tui/board.h"
#include "tui/imgview.h"

#define OPT_INDEX 0
#define OPT_ZOOM 1     /* box index + 1 (0: whole image) */
#define OPT_OUTCOMES 2
#define OPT_HIDE_GT 3

int samples_panel_current(struct panel *p)
{
	struct board_panel *bp = p->state;

	return bp->opt[OPT_INDEX];
}

static void samples_draw(struct panel *p)
{
	struct board_panel *bp = p->state;
	struct board *b = bp->b;
	struct cells *cb = &bp->cb;
	char title[160];

	cells_resize(cb, p->rows, p->cols);
	if (bp->opt[OPT_INDEX] >= b->nsamples)
		bp->opt[OPT_INDEX] = 0, bp->opt[OPT_ZOOM] = 0;
	if (b->nsamples > 0 && bp->opt[OPT_ZOOM] > b->samples[bp->opt[OPT_INDEX]].nboxes)
		bp->opt[OPT_ZOOM] = 0; /* new samples with fewer boxes */
	if (b->nsamples == 0) {
		board_title(p, cb, "samples", NULL);
		cells_text(cb, 2, 2, "no samples yet (after the first evaluation)", CELL_RGB(128, 128, 128), CELL_DEFAULT,
			0, p->cols - 2);
	} else {
		const struct board_sample *s = &b->samples[bp->opt[OPT_INDEX]];
		struct img_opts o = { .mode = b->mode, .outcomes = bp->opt[OPT_OUTCOMES], .hide_gt = bp->opt[OPT_HIDE_GT],
			.min_score = 0.3f, .names = (const char *const *)b->names, .nnames = b->nnames,
			.zoom = bp->opt[OPT_ZOOM] - 1, .labels = 1 };
		int npred = 0, ngt = 0;
		char step[40] = "";

		for (int i = 0; i < s->nboxes; i++)
			s->boxes[i].pred ? npred++ : ngt++;
		/* the evaluation's step first: at 80x24 the counts are what gets cut */
		if (b->samples_step >= 0)
			snprintf(step, sizeof step, " step %lld", (long long)b->samples_step);
		snprintf(title, sizeof title, "samples %d/%d %s%s  %d GT, %d pred%s%s", bp->opt[OPT_INDEX] + 1, b->nsamples,
			s->name, step, ngt, npred, o.outcomes ? "  TP/FP/FN" : "", o.zoom >= 0 ? "  zoomed" : "");
		/* narrow: a shorter title rather than a cut one (room for the
		 * " +N" of a stacked place): "@step", no comma, no mode words */
		if (tui_text_width(title, strlen(title)) + 6 > p->cols) {
			if (b->samples_step >= 0)
				snprintf(step, sizeof step, " @%lld", (long long)b->samples_step);
			snprintf(title, sizeof title, "samples %d/%d %s%s  %d GT %d pred", bp->opt[OPT_INDEX] + 1, b->nsamples,
				s->name, step, ngt, npred);
		}
		board_title(p, cb, title, "<- -> z o g");
		img_draw(cb, 1, 0, p->rows - 1, p->cols, &s->im, s->boxes, s->nboxes, &o);
	}
	board_blit(p, cb);
	bp->seen = b->samples_serial;
}

static int samples_key(struct panel *p, int ch)
{
	struct board_panel *bp = p->state;
	struct board *b = bp->b;

	if (!p->focus || b->nsamples == 0)
		return PANEL_IGNORED;
	switch (ch) {
	case KEY_RIGHT:
	case 'n':
		bp->opt[OPT_INDEX] = (bp->opt[OPT_INDEX] + 1) % b->nsamples;
		bp->opt[OPT_ZOOM] = 0;
		break;
	case KEY_LEFT:
	case 'p':
		bp->opt[OPT_INDEX] = (bp->opt[OPT_INDEX] + b->nsamples - 1) % b->nsamples;
		bp->opt[OPT_ZOOM] = 0;
		break;
	case 'z':
		bp->opt[OPT_ZOOM] = (bp->opt[OPT_ZOOM] + 1) % (b->samples[bp->opt[OPT_INDEX]].nboxes + 1);
		break;
	case 'o': bp->opt[OPT_OUTCOMES] = !bp->opt[OPT_OUTCOMES]; break;
	case 'g': bp->opt[OPT_HIDE_GT] = !bp->opt[OPT_HIDE_GT]; break;
	default: return PANEL_IGNORED;
	}
	return PANEL_HANDLED | PANEL_REDRAW;
}

static int samples_tick(struct panel *p, long long now_ms)
{
	struct board_panel *bp = p->state;

	(void)now_ms;
	return bp->seen != bp->b->samples_serial ? PANEL_REDRAW : 0;
}

static void samples_free(struct panel *p)
{
	struct board_panel *bp = p->state;

	cells_fini(&bp->cb);
	free(bp);
}

const struct panel_class samples_panel_class = {
	.name = "samples",
	.min_rows = 4,
	.min_cols = 16,
	.draw = samples_draw,
	.key = samples_key,
	.tick = samples_tick,
	.free = samples_free,
};
