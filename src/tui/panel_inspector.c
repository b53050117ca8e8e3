/* panel_inspector.c: the failure inspector panel (inspector.h): the list
 * of failures on the left, the image around the current object on the
 * right (imgview.h half blocks), marks for label problems and their export.
 * One inspector per screen; its state is this file's. */
#include "tui/inspector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "core/atomic.h"
#include "core/error.h"
#include "core/json.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/imageio.h"
#include "tui/board.h"
#include "tui/cells.h"
#include "tui/imgview.h"
#include "tui/screen.h"
#include "tui/tui.h"

static const double score_steps[] = { 0, 0.3, 0.5, 0.7 };
static const char *const size_names[] = { "all", "small", "medium", "large" };

struct inspector {
	struct screen *screen;
	struct panel *panel;
	const struct dataset *ds;
	struct inspector_item *items;
	unsigned char *marked;
	size_t n;
	size_t *visible;      /* indices of the items the filters let through */
	size_t nvisible;
	size_t cur, top;      /* position in visible, first row shown */
	int full;             /* 1: the whole image, 0: zoomed on the object */
	int size_filter;      /* 0 all, 1 small, 2 medium, 3 large */
	int score_filter;     /* index into score_steps */
	char title[128];
	char export_path[1024];
	char message[1100];   /* the last action's result, on the title row */
	struct cells cb;
	struct image im;      /* the current image, cached */
	long im_index;        /* its dataset index, -1 when none */
	char im_error[160];
};

static struct inspector the;

static int size_class(double area)
{
	return area < 32.0 * 32.0 ? 1 : area < 96.0 * 96.0 ? 2 : 3;
}

static void refilter(struct inspector *s)
{
	size_t keep = s->nvisible > 0 ? s->visible[s->cur] : 0;

	s->nvisible = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct inspector_item *it = &s->items[i];

		if (s->size_filter && size_class(it->area) != s->size_filter)
			continue;
		if (!it->fn && it->score < score_steps[s->score_filter])
			continue;
		s->visible[s->nvisible++] = i;
	}
	s->cur = 0;
	for (size_t v = 0; v < s->nvisible; v++)
		if (s->visible[v] >= keep) {
			s->cur = v;
			break;
		}
	s->top = 0;
}

int inspector_open(struct screen *sc, const struct dataset *ds, const struct inspector_item *items, size_t n,
	const char *title, const char *export_path)
{
	struct inspector *s = &the;
	struct inspector_item *copy = malloc((n + 1) * sizeof *copy);
	unsigned char *marked = calloc(n + 1, 1);
	size_t *visible = malloc((n + 1) * sizeof *visible);

	if (copy == NULL || marked == NULL || visible == NULL) {
		free(copy);
		free(marked);
		free(visible);
		return det_error_set(DET_ENOMEM, "out of memory opening the inspector");
	}
	memcpy(copy, items, n * sizeof *copy);
	free(s->items);
	free(s->marked);
	free(s->visible);
	s->items = copy;
	s->marked = marked;
	s->visible = visible;
	s->n = n;
	s->nvisible = 0;
	s->cur = s->top = 0;
	s->ds = ds;
	s->full = 0;
	s->size_filter = 0;
	s->score_filter = 0;
	s->message[0] = '\0';
	snprintf(s->title, sizeof s->title, "%s", title ? title : "failures");
	snprintf(s->export_path, sizeof s->export_path, "%s", export_path ? export_path : "marks.json");
	image_fini(&s->im);
	s->im_index = -1;
	refilter(s);
	if (sc == NULL)
		return 0;
	s->screen = sc;
	s->panel = screen_panel(sc, "inspector");
	if (s->panel == NULL && (s->panel = screen_add(sc, &inspector_panel_class, s)) == NULL)
		return det_error_set(DET_ENOMEM, "the screen has no room for the inspector panel");
	screen_zoom(sc, s->panel);
	screen_focus_set(sc, s->panel);
	screen_touch_all(sc);
	return 0;
}

size_t inspector_marks(size_t *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < the.n; i++)
		if (the.marked[i]) {
			if (k < max)
				out[k] = i;
			k++;
		}
	return k;
}

int inspector_export(const char *path)
{
	size_t k = 0;
	struct atomic_file af;
	FILE *f;
	int rc = atomic_file_open(&af, path);

	if (rc < 0)
		return rc;
	f = af.f;
	fputc('[', f);
	for (size_t i = 0; i < the.n; i++) {
		const struct inspector_item *it = &the.items[i];

		if (!the.marked[i])
			continue;
		fprintf(f, "%s\n{\"image\": %lld, \"box\": [%.17g, %.17g, %.17g, %.17g], \"class\": ", k++ ? "," : "",
			(long long)it->image_id, it->box[0], it->box[1], it->box[2], it->box[3]);
		json_write_string(f, it->cls);
		fprintf(f, ", \"reason\": \"marked\", \"kind\": ");
		json_write_string(f, it->kind);
		fprintf(f, ", \"score\": %.6g", it->score);
		if (it->other[0]) {
			fprintf(f, ", \"confused_with\": ");
			json_write_string(f, it->other);
		}
		fputc('}', f);
	}
	fprintf(f, "%s]\n", k ? "\n" : "");
	return atomic_file_commit(&af);
}

/* Loads (renders or reads) image i of the dataset into the cache. */
static void load_image(struct inspector *s, long i)
{
	if (s->im_index == i)
		return;
	image_fini(&s->im);
	s->im_index = i;
	s->im_error[0] = '\0';
	if (s->ds == NULL || i < 0 || (size_t)i >= s->ds->nimages) {
		snprintf(s->im_error, sizeof s->im_error, "no image (no dataset attached: r:attach(ds))");
		return;
	}
	if (s->ds->render) {
		if (s->ds->render(s->ds, (size_t)i, &s->im) < 0)
			snprintf(s->im_error, sizeof s->im_error, "%s", det_error_message());
	} else if (s->ds->images[i].file) {
		char path[4096];

		snprintf(path, sizeof path, "%s%s%s", s->ds->root ? s->ds->root : "", s->ds->root ? "/" : "",
			s->ds->images[i].file);
		if (imageio_load(path, &s->im) < 0)
			snprintf(s->im_error, sizeof s->im_error, "%s", det_error_message());
	}
}

static enum cell_mode mode_of(void)
{
	struct board *b = tui_board();

	return b ? b->mode : CELL_MODE_256;
}

static void draw_title(struct panel *p, struct cells *cb, const char *text, const char *hint)
{
	uint32_t fg = p->focus ? CELL_RGB(0, 0, 0) : CELL_RGB(150, 150, 150);
	uint32_t bg = p->focus ? CELL_RGB(90, 170, 230) : CELL_DEFAULT;
	int attr = p->focus ? CELL_BOLD : CELL_UNDERLINE;

	for (int x = 0; x < cb->cols; x++)
		cells_put(cb, 0, x, ' ', fg, bg, attr | (p->focus && mode_of() == CELL_MODE_MONO ? CELL_REVERSE : 0));
	cells_text(cb, 0, 1, text, fg, bg, attr, cb->cols - 2);
	if (hint) {
		int w = (int)strlen(hint), tw = (int)strlen(text);

		if (w + tw + 4 <= cb->cols)
			cells_text(cb, 0, cb->cols - w - 1, hint, fg, bg, attr, -1);
	}
}

static void box_to_img(const double b[4], int cls, int pred, float score, int outcome, struct img_box *o)
{
	o->x0 = (float)b[0];
	o->y0 = (float)b[1];
	o->x1 = (float)(b[0] + b[2]);
	o->y1 = (float)(b[1] + b[3]);
	o->cls = cls;
	o->pred = pred;
	o->score = score;
	o->outcome = outcome;
}

/* Renders the panel into s->cb (p->rows x p->cols). */
static void inspector_render(struct panel *p)
{
	struct inspector *s = p->state;
	struct cells *cb = &s->cb;
	int list_w = p->cols >= 100 ? 64 : p->cols * 3 / 5, rows = p->rows - 2;
	char line[1400];
	size_t marks = 0;

	cells_resize(cb, p->rows, p->cols);
	for (size_t i = 0; i < s->n; i++)
		marks += s->marked[i];
	snprintf(line, sizeof line, "inspector: %s  %zu/%zu  size %s  score >= %.1f  %s  %zu marked%s%s", s->title,
		s->nvisible ? s->cur + 1 : 0, s->nvisible, size_names[s->size_filter], score_steps[s->score_filter],
		s->full ? "full image" : "zoomed", marks, s->message[0] ? "  " : "", s->message);
	draw_title(p, cb, line, p->focus ? "j/k f s t m x q Esc" : "Tab: focus");
	/* the list */
	snprintf(line, sizeof line, " %-4s %6s %-12s %-11s %5s %5s %s", "#", "image", "class", "kind", "score", "IoU",
		"confused with");
	cells_text(cb, 1, 0, line, CELL_RGB(150, 150, 150), CELL_DEFAULT, CELL_UNDERLINE, list_w);
	if (rows < 1)
		rows = 1;
	if (s->cur < s->top)
		s->top = s->cur;
	if (s->cur >= s->top + (size_t)rows)
		s->top = s->cur - (size_t)rows + 1;
	for (int r = 0; r < rows && s->top + (size_t)r < s->nvisible; r++) {
		size_t v = s->top + (size_t)r, i = s->visible[v];
		const struct inspector_item *it = &s->items[i];
		int sel = v == s->cur;
		char kind[24];

		snprintf(kind, sizeof kind, "%s%s", it->kind, it->fn ? " (fn)" : "");
		snprintf(line, sizeof line, "%s%-4zu %6lld %-12.12s %-11.11s %5.2f %5.2f %s", s->marked[i] ? "*" : " ", i + 1,
			(long long)(it->image >= 0 ? it->image + 1 : it->image_id), it->cls, kind, it->score, it->iou,
			it->other[0] ? it->other : "-");
		cells_text(cb, 2 + r, 0, line, sel ? CELL_RGB(0, 0, 0) : CELL_DEFAULT,
			sel ? CELL_RGB(230, 200, 80) : CELL_DEFAULT, sel ? CELL_BOLD | (mode_of() == CELL_MODE_MONO ? CELL_REVERSE : 0) : 0,
			list_w - 1);
	}
	if (s->nvisible == 0)
		cells_text(cb, 2, 1, "nothing to show (filters: s size, t score)", CELL_RGB(128, 128, 128), CELL_DEFAULT, 0,
			list_w - 1);
	/* the viewer */
	if (s->nvisible > 0 && p->cols - list_w > 4) {
		const struct inspector_item *it = &s->items[s->visible[s->cur]];
		struct img_box boxes[2];
		int nb = 0;

		load_image(s, it->image);
		if (s->im.data) {
			struct img_opts o = { .mode = mode_of(), .outcomes = 1, .names = NULL, .nnames = 0,
				.zoom = s->full ? -1 : 0, .labels = 1 };

			/* the object first (the zoom target): GT green/amber, the prediction red */
			if (it->has_gt)
				box_to_img(it->gt_box, it->gt_cls, 0, 1, it->fn ? IMG_FN : IMG_TP, &boxes[nb++]);
			if (it->has_det)
				box_to_img(it->det_box, it->det_cls, 1, (float)it->score, IMG_FP, &boxes[nb++]);
			if (nb == 0)
				box_to_img(it->box, -1, 0, 1, IMG_FN, &boxes[nb++]);
			img_draw(cb, 1, list_w, p->rows - 2, p->cols - list_w, &s->im, boxes, nb, &o);
			snprintf(line, sizeof line, "GT %s  pred %s", it->has_gt ? (it->fn ? "amber" : "green") : "-",
				it->has_det ? "red" : "-");
			cells_text(cb, p->rows - 1, list_w, line, CELL_RGB(150, 150, 150), CELL_DEFAULT, 0, p->cols - list_w);
		} else {
			cells_text(cb, 2, list_w + 1, s->im_error, CELL_RGB(200, 80, 80), CELL_DEFAULT, 0, p->cols - list_w - 1);
		}
	}
}

static void inspector_draw(struct panel *p)
{
	struct inspector *s = p->state;

	inspector_render(p);
	werase(p->win);
	cells_blit(&s->cb, p->win, 0, 0, mode_of());
}

const struct cells *inspector_snapshot(int rows, int cols, int focus)
{
	struct panel p = { .cls = &inspector_panel_class, .rows = rows, .cols = cols, .focus = focus, .state = &the };

	inspector_render(&p);
	return &the.cb;
}

int inspector_key_send(int ch, int focus)
{
	struct panel p = { .cls = &inspector_panel_class, .rows = 20, .cols = 100, .focus = focus, .state = &the };

	return inspector_panel_class.key(&p, ch);
}

static int inspector_key(struct panel *p, int ch)
{
	struct inspector *s = p->state;
	int page = p->rows > 3 ? p->rows - 2 : 1;

	if (!p->focus)
		return PANEL_IGNORED;
	s->message[0] = '\0';
	switch (ch) {
	case 'j':
	case 'n':
	case KEY_DOWN:
		if (s->cur + 1 < s->nvisible)
			s->cur++;
		break;
	case 'k':
	case 'p':
	case KEY_UP:
		if (s->cur > 0)
			s->cur--;
		break;
	case KEY_NPAGE:
		s->cur = s->nvisible == 0 ? 0 : s->cur + (size_t)page < s->nvisible ? s->cur + (size_t)page : s->nvisible - 1;
		break;
	case KEY_PPAGE:
		s->cur = s->cur > (size_t)page ? s->cur - (size_t)page : 0;
		break;
	case 'f':
		s->full = !s->full;
		break;
	case 's':
		s->size_filter = (s->size_filter + 1) % 4;
		refilter(s);
		break;
	case 't':
		s->score_filter = (s->score_filter + 1) % (int)(sizeof score_steps / sizeof score_steps[0]);
		refilter(s);
		break;
	case 'm':
		if (s->nvisible > 0)
			s->marked[s->visible[s->cur]] ^= 1;
		break;
	case 'x':
		if (inspector_export(s->export_path) == 0)
			snprintf(s->message, sizeof s->message, "marks written to %s", s->export_path);
		else
			snprintf(s->message, sizeof s->message, "%s", det_error_message());
		break;
	case 'q':
		if (s->screen) {
			screen_zoom(s->screen, NULL);
			screen_focus_set(s->screen, NULL);
			screen_touch_all(s->screen);
		}
		return PANEL_HANDLED | PANEL_RESIZE;
	default:
		return PANEL_IGNORED;
	}
	return PANEL_HANDLED | PANEL_REDRAW;
}

static void inspector_free(struct panel *p)
{
	struct inspector *s = p->state;

	cells_fini(&s->cb);
	image_fini(&s->im);
	free(s->items);
	free(s->marked);
	free(s->visible);
	memset(s, 0, sizeof *s);
}

const struct panel_class inspector_panel_class = {
	.name = "inspector",
	.min_rows = 6,
	.min_cols = 40,
	.draw = inspector_draw,
	.key = inspector_key,
	.free = inspector_free,
};
