/* lui.c: det.ui, the screen from Lua: layout{...}, snapshot(file),
 * samples(ds, {...}) for the samples panel, plan(steps, lrs) for the lr
 * panel's future, focus/zoom(name), log(text), mode(). Without the screen
 * (a pipe, `detbench run`) the calls return nil and a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/imageio.h"
#include "lua/ldata.h"
#include "lua/ldet.h"
#include "lua/leval.h"
#include "train/samples.h"
#include "tui/board.h"
#include "tui/screen.h"
#include "tui/style.h"
#include "tui/tui.h"

static struct board *need_board(lua_State *L)
{
	struct board *b = tui_board();

	if (b == NULL) {
		lua_pushnil(L);
		lua_pushstring(L, "ui: the screen is not up (detbench on a terminal opens it)");
	}
	return b;
}

/* det.ui.layout{ {"curves", "ap", weight=2, widths={2,1}}, {"output"} } or
 * det.ui.layout("auto") */
static int ui_layout(lua_State *L)
{
	struct board *b = need_board(L);
	struct layout l = { 0 };
	int nrows;

	if (b == NULL)
		return 2;
	if (lua_isnoneornil(L, 1) || (lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "auto") == 0)) {
		board_layout_set(b, NULL);
		lua_pushboolean(L, 1);
		return 1;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_newtable(L); /* 2: the joined names of stacks */
	nrows = (int)luaL_len(L, 1);
	if (nrows < 1 || nrows > LAYOUT_MAX_ROWS)
		return luaL_error(L, "ui.layout: 1 to %d rows expected, got %d", LAYOUT_MAX_ROWS, nrows);
	for (int r = 0; r < nrows; r++) {
		int ncols;

		lua_rawgeti(L, 1, r + 1);
		if (!lua_istable(L, -1))
			return luaL_error(L, "ui.layout: row %d is not a table of panel names", r + 1);
		ncols = (int)luaL_len(L, -1);
		if (ncols < 1 || ncols > LAYOUT_MAX_COLS)
			return luaL_error(L, "ui.layout: row %d: 1 to %d panels expected", r + 1, LAYOUT_MAX_COLS);
		lua_getfield(L, -1, "weight");
		l.rows[r].weight = lua_isnil(L, -1) ? 1 : (int)luaL_checkinteger(L, -1);
		lua_pop(L, 1);
		if (l.rows[r].weight < 1)
			return luaL_error(L, "ui.layout: row %d: weight must be >= 1", r + 1);
		lua_getfield(L, -1, "widths");
		for (int c = 0; c < ncols; c++) {
			if (lua_istable(L, -1)) {
				lua_rawgeti(L, -1, c + 1);
				l.rows[r].widths[c] = lua_isnil(L, -1) ? 1 : (int)luaL_checkinteger(L, -1);
				lua_pop(L, 1);
			}
			lua_rawgeti(L, -2, c + 1);
			if (lua_istable(L, -1)) { /* a stack: { "ap", "samples" } -> "ap|samples" */
				luaL_Buffer buf;
				int top = lua_gettop(L), nst = (int)luaL_len(L, top);

				luaL_buffinit(L, &buf);
				for (int k = 1; k <= nst; k++) {
					lua_rawgeti(L, top, k);
					if (lua_type(L, -1) != LUA_TSTRING)
						return luaL_error(L, "ui.layout: row %d, slot %d: a list of panel names expected", r + 1, c + 1);
					if (k > 1)
						luaL_addchar(&buf, '|');
					luaL_addvalue(&buf);
				}
				luaL_pushresult(&buf);
				lua_pushvalue(L, -1);
				lua_rawseti(L, 2, (lua_Integer)luaL_len(L, 2) + 1); /* kept alive until copied */
				l.rows[r].panels[c] = lua_tostring(L, -1);
				lua_pop(L, 2);
			} else {
				l.rows[r].panels[c] = luaL_checkstring(L, -1); /* kept alive by the table until copied */
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1); /* widths */
		lua_pop(L, 1); /* the row (the names stay referenced by argument 1) */
	}
	if (board_layout_set(b, &l) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* det.ui.snapshot("shot") writes shot.txt and (when there are samples) shot.png */
static int ui_snapshot(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct board *b = need_board(L);
	size_t n = strlen(path);
	char txt[4096], png[4096];

	if (b == NULL)
		return 2;
	if (n > 4 && strcmp(path + n - 4, ".txt") == 0)
		n -= 4;
	if (n > 4000)
		return luaL_error(L, "ui.snapshot: path too long");
	snprintf(txt, sizeof txt, "%.*s.txt", (int)n, path);
	snprintf(png, sizeof png, "%.*s.png", (int)n, path);
	screen_update(b->screen);
	if (board_screen_text(txt) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushstring(L, txt);
	if (b->nsamples > 0) {
		if (board_sample_png(b, png) != 0) {
			lua_pushnil(L);
			lua_pushstring(L, det_error_message());
			return 2;
		}
		lua_pushstring(L, png);
		return 2;
	}
	return 1;
}

static float num_field(lua_State *L, int t, int i, const char *name, float def)
{
	float v = def;

	lua_rawgeti(L, t, i);
	if (lua_isnumber(L, -1))
		v = (float)lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (name) {
		lua_getfield(L, t, name);
		if (lua_isnumber(L, -1))
			v = (float)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	return v;
}

/* det.ui.samples(ds, { images = {1, 2, ...}, dets = { [i] = { {x0, y0, x1, y1,
 * class = 1-based or name, score = s}, ... } } }) */
static int ui_samples(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	struct board *b;
	struct board_sample *s;
	int n = 0, max;
	size_t *idx;

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	if ((b = need_board(L)) == NULL)
		return 2;
	max = ds->nimages < 64 ? (int)ds->nimages : 64;
	idx = lua_newuserdatauv(L, (size_t)(max > 0 ? max : 1) * sizeof *idx, 0);
	if (lua_istable(L, 2) && lua_getfield(L, 2, "images") == LUA_TTABLE) {
		for (int i = 1; i <= luaL_len(L, -1) && n < max; i++) {
			lua_Integer k;

			lua_rawgeti(L, -1, i);
			k = luaL_checkinteger(L, -1);
			lua_pop(L, 1);
			if (k < 1 || (size_t)k > ds->nimages)
				return luaL_error(L, "ui.samples: image %d is not in the dataset (1..%d)", (int)k, (int)ds->nimages);
			idx[n++] = (size_t)(k - 1);
		}
	} else {
		for (n = 0; n < (max < 8 ? max : 8); n++)
			idx[n] = (size_t)n;
	}
	lua_settop(L, 3); /* ds, opts, idx */
	s = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *s, 0);
	memset(s, 0, (size_t)(n > 0 ? n : 1) * sizeof *s);
	for (int i = 0; i < n; i++) {
		const struct dataset_image *di = &ds->images[idx[i]];
		const struct dataset_box *gt = dataset_image_boxes(ds, idx[i]);
		int rc, nd = 0, k = 0;

		if (ds->render)
			rc = ds->render(ds, idx[i], &s[i].im);
		else {
			char path[4096];

			snprintf(path, sizeof path, "%s%s%s", ds->root ? ds->root : "", ds->root ? "/" : "", di->file ? di->file : "");
			rc = imageio_load(path, &s[i].im);
		}
		if (rc != 0)
			goto fail;
		snprintf(s[i].name, sizeof s[i].name, "#%zu", idx[i] + 1);
		/* the detections of this image */
		if (lua_istable(L, 2)) {
			lua_getfield(L, 2, "dets");
			if (lua_istable(L, -1)) {
				lua_rawgeti(L, -1, (lua_Integer)idx[i] + 1);
				if (lua_istable(L, -1))
					nd = (int)luaL_len(L, -1);
			} else {
				lua_pushnil(L);
			}
		} else {
			lua_pushnil(L);
			lua_pushnil(L);
		}
		s[i].boxes = calloc(di->box_count + (size_t)nd + 1, sizeof *s[i].boxes);
		if (s[i].boxes == NULL) {
			lua_pop(L, 2);
			det_error_set(DET_ENOMEM, "ui.samples: out of memory");
			goto fail;
		}
		for (size_t g = 0; g < di->box_count; g++, k++)
			s[i].boxes[k] = (struct img_box){ gt[g].x0, gt[g].y0, gt[g].x1, gt[g].y1, gt[g].cls, 1, 0, IMG_NONE };
		for (int d = 1; d <= nd; d++) {
			struct img_box *bx = &s[i].boxes[k];
			int t;

			lua_rawgeti(L, -1, d);
			t = lua_gettop(L);
			if (!lua_istable(L, t))
				return luaL_error(L, "ui.samples: detection %d of image %d is not a table", d, (int)idx[i] + 1);
			bx->x0 = num_field(L, t, 1, "x0", 0), bx->y0 = num_field(L, t, 2, "y0", 0);
			bx->x1 = num_field(L, t, 3, "x1", 0), bx->y1 = num_field(L, t, 4, "y1", 0);
			bx->score = num_field(L, t, 6, "score", 1);
			bx->pred = 1;
			lua_getfield(L, t, "class");
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lua_rawgeti(L, t, 5);
			}
			if (lua_type(L, -1) == LUA_TSTRING) {
				bx->cls = -1;
				for (int c = 0; c < ds->nclasses; c++)
					if (strcmp(ds->class_names[c], lua_tostring(L, -1)) == 0)
						bx->cls = c;
			} else {
				bx->cls = (int)luaL_optinteger(L, -1, 1) - 1;
			}
			lua_pop(L, 2);
			k++;
		}
		lua_pop(L, 2);
		s[i].nboxes = k;
		img_boxes_match(s[i].boxes, k);
	}
	{
		int rc = board_samples_set(b, s, n, (const char *const *)ds->class_names, ds->nclasses);

		for (int i = 0; i < n; i++) {
			image_fini(&s[i].im);
			free(s[i].boxes);
		}
		if (rc != 0) {
			lua_pushnil(L);
			lua_pushstring(L, det_error_message());
			return 2;
		}
	}
	lua_pushinteger(L, n);
	return 1;
fail:
	for (int i = 0; i < n; i++) {
		image_fini(&s[i].im);
		free(s[i].boxes);
	}
	lua_pushnil(L);
	lua_pushstring(L, det_error_message());
	return 2;
}

/* det.ui.show_result(r, ds[, { images = 8, min_score = 0.05 }]) -> n: the
 * first images of ds with the detections of the evaluation result r (a
 * det.eval.result over ds), done in C (a result holds every detection of
 * the set; walking them in Lua would cost the prompt). */
static int ui_show_result(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	const struct dataset *ds;
	struct train_sample *s = NULL;
	struct board *b;
	int want = TRAIN_SAMPLES_SHOWN, n, rc;
	double min_score = TRAIN_SAMPLES_MIN_SCORE;

	leval_check(L, 1, &gt, &dets, &r);
	ds = ldataset_check(L, 2);
	if (lua_istable(L, 3)) {
		lua_getfield(L, 3, "images");
		want = (int)luaL_optinteger(L, -1, want);
		lua_getfield(L, 3, "min_score");
		min_score = luaL_optnumber(L, -1, min_score);
		lua_pop(L, 2);
	}
	if (gt->ncats != ds->nclasses)
		return luaL_error(L, "ui.show_result: the result has %d classes, the dataset %d (a result on another dataset?)",
			gt->ncats, ds->nclasses);
	if ((b = need_board(L)) == NULL)
		return 2;
	if ((n = train_samples_from_eval(ds, NULL, want, gt, dets, min_score, &s)) < 0 ||
	    (rc = board_samples_from(b, s, n, (const char *const *)ds->class_names, ds->nclasses, -1)) != 0) {
		train_samples_free(s, n > 0 ? n : 0);
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	train_samples_free(s, n);
	lua_pushinteger(L, n);
	return 1;
}

/* det.ui.plan(lrs) or det.ui.plan(steps, lrs): the lr per step, for the lr
 * panel's dashed future. */
static int ui_plan(lua_State *L)
{
	int two = lua_istable(L, 2), n;
	double *x, *y;
	struct board *b;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = (int)luaL_len(L, two ? 2 : 1);
	if ((b = need_board(L)) == NULL)
		return 2;
	x = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *x, 0);
	y = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *y, 0);
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, two ? 2 : 1, i + 1);
		y[i] = luaL_checknumber(L, -1);
		lua_pop(L, 1);
		if (two) {
			lua_rawgeti(L, 1, i + 1);
			x[i] = luaL_checknumber(L, -1);
			lua_pop(L, 1);
		} else {
			x[i] = i + 1;
		}
	}
	if (board_plan_set(b, x, y, n) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	b->plan_from_store = 0;
	lua_pushinteger(L, n);
	return 1;
}

static struct panel *panel_arg(lua_State *L, struct board *b, int arg)
{
	const char *name = luaL_checkstring(L, arg);
	struct panel *p = screen_panel(b->screen, name);

	if (p == NULL)
		luaL_error(L, "ui: no panel called '%s' (curves, lr, ap, samples, log, output)", name);
	return p;
}

/* det.ui.focus(name) / det.ui.focus() (back to the prompt) */
static int ui_focus(lua_State *L)
{
	struct board *b = need_board(L);

	if (b == NULL)
		return 2;
	screen_focus_set(b->screen, lua_isnoneornil(L, 1) ? NULL : panel_arg(L, b, 1));
	lua_pushboolean(L, 1);
	return 1;
}

/* det.ui.zoom(name) / det.ui.zoom() (the layout again) */
static int ui_zoom(lua_State *L)
{
	struct board *b = need_board(L);

	if (b == NULL)
		return 2;
	screen_zoom(b->screen, lua_isnoneornil(L, 1) ? NULL : panel_arg(L, b, 1));
	screen_touch_all(b->screen);
	lua_pushboolean(L, 1);
	return 1;
}

static int ui_log(lua_State *L)
{
	const char *text = luaL_checkstring(L, 1);
	struct board *b = need_board(L);

	if (b == NULL)
		return 2;
	board_log_append(b->log, ROLE_TEXT, text);
	lua_pushboolean(L, 1);
	return 1;
}

/* det.ui.watch(RUN_DIR) / det.ui.watch() (back to the current run) */
static int ui_watch(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);
	struct board *b = need_board(L);

	if (b == NULL)
		return 2;
	if (board_follow(b, path) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int ui_mode(lua_State *L)
{
	struct board *b = need_board(L);

	if (b == NULL)
		return 2;
	lua_pushstring(L, cell_mode_names[b->mode]);
	lua_pushstring(L, screen_layout(b->screen) ? screen_layout(b->screen)->name : "none");
	return 2;
}

int luaopen_det_ui(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "layout", ui_layout }, { "snapshot", ui_snapshot }, { "samples", ui_samples }, { "plan", ui_plan },
		{ "show_result", ui_show_result },
		{ "focus", ui_focus }, { "zoom", ui_zoom }, { "log", ui_log }, { "mode", ui_mode }, { "watch", ui_watch }, { NULL, NULL },
	};

	luaL_newlib(L, fns);
	return 1;
}
