/* linspect.c: det.core.inspect — the failure inspector's C half. Adds
 * r:_failures_list, r:_summary_table, r:_heatmap, r:_hardest_list,
 * r:_suspects_list and r:export_suspects to the evaluation result class, and
 * ds:drop / ds:relabel to datasets. lua/det/inspect.lua wraps the private
 * ("_") ones into the public r:failures{}, r:summary(), r:confusion_map{},
 * r:hardest{}, r:suspects{}. */
#define _GNU_SOURCE /* open_memstream */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "data/coco.h"
#include "data/dataset.h"
#include "eval/failures.h"
#include "eval/suspect.h"
#include "lua/ldata.h"
#include "lua/ldet.h"
#include "lua/leval.h"
#include "tui/inspector.h"
#include "tui/tui.h"

static double opt_number(lua_State *L, int t, const char *key, double def)
{
	double v = def;

	if (lua_istable(L, t)) {
		lua_getfield(L, t, key);
		if (!lua_isnil(L, -1))
			v = luaL_checknumber(L, -1);
		lua_pop(L, 1);
	}
	return v;
}

static const char *opt_string(lua_State *L, int t, const char *key)
{
	const char *s = NULL;

	if (lua_istable(L, t)) {
		lua_getfield(L, t, key);
		if (!lua_isnil(L, -1)) {
			if (lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "option '%s' must be a string", key);
			s = lua_tostring(L, -1);
		}
		lua_pop(L, 1); /* the string stays alive: it is in the options table */
	}
	return s;
}

static int class_index(const struct eval_gt *gt, const char *name)
{
	for (int k = 0; k < gt->ncats; k++)
		if (strcmp(gt->cat_names[k], name) == 0)
			return k;
	return -1;
}

/* The class option: a name or a 1-based index; -1 when absent. */
static int opt_class(lua_State *L, int t, const struct eval_gt *gt)
{
	int k = -1;

	if (!lua_istable(L, t))
		return -1;
	lua_getfield(L, t, "class");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		lua_Integer i = luaL_checkinteger(L, -1);

		if (i < 1 || i > gt->ncats)
			luaL_error(L, "class %d out of range (1..%d)", (int)i, gt->ncats);
		k = (int)i - 1;
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		k = class_index(gt, lua_tostring(L, -1));
		if (k < 0)
			luaL_error(L, "no class named '%s'", lua_tostring(L, -1));
	} else if (!lua_isnil(L, -1)) {
		luaL_error(L, "class must be a name or an index");
	}
	lua_pop(L, 1);
	return k;
}

static void push_bbox(lua_State *L, const double b[4], const char *key)
{
	lua_createtable(L, 4, 0);
	for (int i = 0; i < 4; i++) {
		lua_pushnumber(L, b[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, key);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/* lowercase TIDE error names: "cls", "loc", "both", "dupe", "bkg", "miss" */
static const char *const kind_names[EVAL_NERR] = { "cls", "loc", "both", "dupe", "bkg", "miss" };

/* r:failures_list{ class=, kind=, sort=, min_score=, size= } -> { item... } */
static int r_failures_list(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	struct fail_query q = { -1, FAIL_KIND_ANY, FAIL_SORT_SCORE, 0, FAIL_ANY_SIZE };
	struct failure *v;
	size_t n;
	const char *s;

	leval_check(L, 1, &gt, &dets, &r);
	q.cat = opt_class(L, 2, gt);
	if ((s = opt_string(L, 2, "kind")) != NULL) {
		if (strcmp(s, "fp") == 0)
			q.kind = FAIL_KIND_FP;
		else if (strcmp(s, "fn") == 0)
			q.kind = FAIL_KIND_FN;
		else if (strcmp(s, "all") == 0)
			q.kind = FAIL_KIND_ANY;
		else {
			q.kind = -100;
			for (int e = 0; e < EVAL_NERR; e++)
				if (strcasecmp(s, kind_names[e]) == 0)
					q.kind = e;
			if (q.kind == -100)
				return luaL_error(L, "kind '%s': expected fp, fn, cls, loc, both, dupe, bkg or miss", s);
		}
	}
	if ((s = opt_string(L, 2, "sort")) != NULL) {
		if (strcmp(s, "score") == 0)
			q.sort = FAIL_SORT_SCORE;
		else if (strcmp(s, "iou") == 0)
			q.sort = FAIL_SORT_IOU;
		else if (strcmp(s, "size") == 0)
			q.sort = FAIL_SORT_SIZE;
		else
			return luaL_error(L, "sort '%s': expected score, iou or size", s);
	}
	if ((s = opt_string(L, 2, "size")) != NULL) {
		q.size = FAIL_ANY_SIZE;
		for (int z = 0; z < 3; z++)
			if (strcmp(s, fail_size_names[z]) == 0)
				q.size = (enum fail_size)z;
		if (q.size == FAIL_ANY_SIZE)
			return luaL_error(L, "size '%s': expected small, medium or large", s);
	}
	q.min_score = opt_number(L, 2, "min_score", 0);
	if (eval_failures(gt, dets, r, &q, &v, &n) < 0)
		return luaL_error(L, "%s", det_error_message());
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const struct failure *f = &v[i];

		lua_createtable(L, 0, 16);
		set_int(L, "image_id", gt->image_ids[f->img]);
		set_str(L, "class", gt->cat_names[f->cat]);
		set_str(L, "kind", kind_names[f->kind]);
		set_str(L, "side", f->fn ? "fn" : "fp");
		set_num(L, "score", f->score);
		set_num(L, "iou", f->iou);
		set_num(L, "area", f->area);
		set_str(L, "size", fail_size_names[fail_size_of(f->area)]);
		push_bbox(L, f->box, "bbox");
		if (f->det >= 0) {
			const struct eval_box *d = &dets->boxes[f->det];
			double db[4] = { d->x, d->y, d->w, d->h };

			set_int(L, "det", f->det + 1);
			push_bbox(L, db, "det_bbox");
			set_str(L, "predicted", gt->cat_names[d->cat]);
		}
		if (f->gt >= 0) {
			const struct eval_box *b = &gt->boxes[f->gt];
			double gb[4] = { b->x, b->y, b->w, b->h };

			set_int(L, "gt", f->gt + 1);
			set_int(L, "gt_id", b->id);
			push_bbox(L, gb, "gt_bbox");
			set_str(L, "gt_class", gt->cat_names[b->cat]);
		}
		if (f->other >= 0)
			set_str(L, "confused_with", gt->cat_names[f->other]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(v);
	return 1;
}

static void push_printed_summary(lua_State *L, const struct fail_class_summary *s, int K, const struct eval_gt *gt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		luaL_error(L, "out of memory");
	eval_failure_summary_print(s, K, gt, f);
	fclose(f);
	lua_pushlstring(L, buf, len);
	free(buf);
}

/* r:summary_table{ sort = "AP" } -> rows, text */
static int r_summary_table(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	struct fail_class_summary *s;
	const char *col;

	leval_check(L, 1, &gt, &dets, &r);
	col = opt_string(L, 2, "sort");
	if (eval_failure_summary(gt, dets, r, &s) < 0)
		return luaL_error(L, "%s", det_error_message());
	if (col && eval_failure_summary_sort(s, gt->ncats, col) < 0) {
		free(s);
		return luaL_error(L, "%s", det_error_message());
	}
	lua_createtable(L, gt->ncats, 0);
	for (int i = 0; i < gt->ncats; i++) {
		const struct fail_class_summary *c = &s[i];

		lua_createtable(L, 0, 10);
		set_str(L, "class", gt->cat_names[c->cat]);
		if (!isnan(c->ap)) {
			set_num(L, "AP", c->ap);
			set_num(L, "AP50", c->ap50);
		}
		lua_createtable(L, 0, EVAL_NERR);
		for (int e = 0; e < EVAL_NERR; e++)
			set_num(L, eval_error_names[e], c->dap[e]);
		lua_setfield(L, -2, "dAP");
		lua_createtable(L, 0, EVAL_NERR);
		for (int e = 0; e < EVAL_NERR; e++)
			set_int(L, eval_error_names[e], (lua_Integer)c->count[e]);
		lua_setfield(L, -2, "count");
		if (c->confused_with >= 0) {
			set_str(L, "confused_with", gt->cat_names[c->confused_with]);
			set_int(L, "confused_count", (lua_Integer)c->confused_count);
		}
		set_int(L, "gt", (lua_Integer)c->ngt);
		lua_createtable(L, 0, 3);
		for (int z = 0; z < 3; z++)
			set_int(L, fail_size_names[z], (lua_Integer)c->missed[z]);
		lua_setfield(L, -2, "missed");
		lua_rawseti(L, -2, i + 1);
	}
	push_printed_summary(L, s, gt->ncats, gt);
	free(s);
	return 2;
}

/* r:heatmap{ conf = 0.25, iou = 0.5, ascii = false } -> text */
static int r_heatmap(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	size_t *m = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ascii = 0;

	leval_check(L, 1, &gt, &dets, &r);
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "ascii");
		ascii = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if (eval_confusion(gt, dets, opt_number(L, 2, "conf", 0.25), opt_number(L, 2, "iou", 0.5), &m) < 0)
		return luaL_error(L, "%s", det_error_message());
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free(m);
		return luaL_error(L, "out of memory");
	}
	eval_confusion_heatmap_print(gt, m, !ascii, f);
	fclose(f);
	free(m);
	lua_pushlstring(L, buf, len);
	free(buf);
	return 1;
}

/* r:hardest_list{ n = 10, min_score = 0.3 } -> { {image_id, errors, fp, fn} ... } */
static int r_hardest_list(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	struct fail_image *v;
	size_t n, top;

	leval_check(L, 1, &gt, &dets, &r);
	top = (size_t)opt_number(L, 2, "n", 10);
	if (eval_hardest_images(gt, dets, r, opt_number(L, 2, "min_score", 0.3), &v, &n) < 0)
		return luaL_error(L, "%s", det_error_message());
	if (n > top)
		n = top;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 4);
		set_int(L, "image_id", gt->image_ids[v[i].img]);
		set_int(L, "errors", (lua_Integer)v[i].errors);
		set_int(L, "fp", (lua_Integer)v[i].fp);
		set_int(L, "fn", (lua_Integer)v[i].fn);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(v);
	return 1;
}

/* t[key]: a boolean, or a number (0: false); def when absent */
static int opt_flag(lua_State *L, int t, const char *key, int def)
{
	int v = def;

	if (lua_getfield(L, t, key) != LUA_TNIL)
		v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) != 0 : lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* r:suspects_list{ top =, min_score =, wrong_iou =, missing_iou =, fit_iou =,
 *   bad_weight =, margin =, calibrate =, explain =, losses = { per GT } } -> { item ... } */
static int r_suspects_list(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	struct suspect_opts o;
	struct suspect *v;
	double *losses = NULL;
	size_t n, top;

	leval_check(L, 1, &gt, &dets, &r);
	suspect_opts_default(&o);
	o.wrong_iou = opt_number(L, 2, "wrong_iou", o.wrong_iou);
	o.missing_iou = opt_number(L, 2, "missing_iou", o.missing_iou);
	o.fit_iou = opt_number(L, 2, "fit_iou", o.fit_iou);
	o.min_score = opt_number(L, 2, "min_score", o.min_score);
	o.bad_weight = opt_number(L, 2, "bad_weight", o.bad_weight);
	top = (size_t)opt_number(L, 2, "top", (double)(gt->n + dets->n));
	if (lua_istable(L, 2)) {
		o.calibrate = opt_flag(L, 2, "calibrate", o.calibrate);
		o.explain = opt_flag(L, 2, "explain", o.explain);
		o.margin = opt_flag(L, 2, "margin", o.margin);
		lua_getfield(L, 2, "losses");
		if (lua_istable(L, -1)) {
			if ((size_t)luaL_len(L, -1) != gt->n)
				return luaL_error(L, "losses: expected one per GT box (%d), got %d", (int)gt->n,
					(int)luaL_len(L, -1));
			losses = lua_newuserdatauv(L, (gt->n + 1) * sizeof *losses, 0); /* freed by Lua */
			for (size_t g = 0; g < gt->n; g++) {
				lua_geti(L, -2, (lua_Integer)g + 1);
				losses[g] = luaL_checknumber(L, -1);
				lua_pop(L, 1);
			}
			o.losses = losses;
		}
		/* leave the losses table (and its buffer) on the stack until the end */
	}
	if (eval_suspects(gt, dets, &o, &v, &n) < 0)
		return luaL_error(L, "%s", det_error_message());
	if (n > top)
		n = top;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const struct suspect *x = &v[i];
		int cls = x->cat >= 0 ? x->cat : x->suggested;

		lua_createtable(L, 0, 12);
		set_int(L, "image_id", gt->image_ids[x->img]);
		push_bbox(L, x->box, "box");
		set_str(L, "class", gt->cat_names[cls]);
		set_str(L, "reason", suspect_reason_names[x->reason]);
		set_num(L, "score", x->score);
		set_num(L, "iou", x->iou);
		if (x->suggested >= 0)
			set_str(L, "suggested", gt->cat_names[x->suggested]);
		if (x->gt >= 0) {
			set_int(L, "gt", x->gt + 1);
			set_int(L, "gt_id", gt->boxes[x->gt].id);
		}
		if (x->det >= 0) {
			const struct eval_box *d = &dets->boxes[x->det];
			double db[4] = { d->x, d->y, d->w, d->h };

			set_int(L, "det", x->det + 1);
			push_bbox(L, db, "det_box");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(v);
	return 1;
}

static int reason_index(const char *s)
{
	for (int i = 0; i < SUSPECT_NREASONS; i++)
		if (strcmp(s, suspect_reason_names[i]) == 0)
			return i;
	return -1;
}

static void read_box(lua_State *L, int t, const char *key, double b[4], int item)
{
	lua_getfield(L, t, key);
	if (!lua_istable(L, -1))
		luaL_error(L, "item %d: %s must be {x, y, w, h}", item, key);
	for (int j = 0; j < 4; j++) {
		lua_geti(L, -1, j + 1);
		if (!lua_isnumber(L, -1))
			luaL_error(L, "item %d: %s must be {x, y, w, h}", item, key);
		b[j] = lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* r:export_suspects(list, path) -> true | nil, message (atomic JSON) */
static int r_export_suspects(lua_State *L)
{
	const struct eval_gt *gt;
	const struct eval_dets *dets;
	const struct eval_result *r;
	const char *path;
	struct suspect *v;
	lua_Integer n;

	leval_check(L, 1, &gt, &dets, &r);
	luaL_checktype(L, 2, LUA_TTABLE);
	path = luaL_checkstring(L, 3);
	n = luaL_len(L, 2);
	v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *v, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		struct suspect *x = &v[i - 1];
		long img;

		memset(x, 0, sizeof *x);
		lua_geti(L, 2, i);
		if (!lua_istable(L, -1))
			return luaL_error(L, "item %d: expected a suspect table", (int)i);
		lua_getfield(L, -1, "image_id");
		img = lua_isinteger(L, -1) ? eval_gt_image_index(gt, lua_tointeger(L, -1)) : -1;
		if (img < 0)
			return luaL_error(L, "item %d: unknown or missing image_id", (int)i);
		x->img = (int32_t)img;
		lua_getfield(L, -2, "reason");
		x->reason = (uint8_t)(lua_isstring(L, -1) ? reason_index(lua_tostring(L, -1)) : -1);
		if (!lua_isstring(L, -1) || reason_index(lua_tostring(L, -1)) < 0)
			return luaL_error(L, "item %d: reason must be wrong_class, missing_box or bad_box", (int)i);
		lua_getfield(L, -3, "class");
		x->cat = lua_isstring(L, -1) ? class_index(gt, lua_tostring(L, -1)) : -1;
		lua_getfield(L, -4, "suggested");
		x->suggested = lua_isstring(L, -1) ? class_index(gt, lua_tostring(L, -1)) : -1;
		lua_getfield(L, -5, "score");
		x->score = luaL_optnumber(L, -1, 0);
		lua_getfield(L, -6, "gt");
		x->gt = lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && (size_t)lua_tointeger(L, -1) <= gt->n
			? (int32_t)lua_tointeger(L, -1) - 1 : -1;
		lua_pop(L, 6);
		if (x->reason == SUSPECT_MISSING_BOX)
			x->cat = -1; /* the class written is the suggested one */
		if (x->cat < 0 && x->suggested < 0)
			return luaL_error(L, "item %d: class or suggested must name a class", (int)i);
		read_box(L, -1, "box", x->box, (int)i);
		lua_pop(L, 1);
	}
	if (eval_suspects_write_json(gt, v, (size_t)n, path) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- corrected datasets ---- */

/* A corrected copy renders its images with the original's generator: the
 * original (kept alive from Lua) is the copy's gen. */
static int copy_render(const struct dataset *ds, size_t i, struct image *out)
{
	const struct dataset *orig = ds->gen;

	return orig->render(orig, i, out);
}

struct edit {
	int drop;          /* remove the box */
	int cls;           /* new class, or -1 */
};

/* Finds the box an item names in image ii: by annotation id (gt_id), else by
 * class and box (within half a pixel). Returns its global index or -1. */
static long find_box(const struct dataset *ds, size_t ii, lua_Integer gt_id, int has_id, int cls, const double b[4])
{
	const struct dataset_image *im = &ds->images[ii];

	for (size_t k = im->box_start; k < im->box_start + im->box_count; k++) {
		const struct dataset_box *x = &ds->boxes[k];

		if (has_id) {
			if (x->id == gt_id)
				return (long)k;
			continue;
		}
		if ((cls < 0 || x->cls == cls) && fabs(x->x0 - b[0]) <= 0.5 && fabs(x->y0 - b[1]) <= 0.5 &&
		    fabs((x->x1 - x->x0) - b[2]) <= 0.5 && fabs((x->y1 - x->y0) - b[3]) <= 0.5)
			return (long)k;
	}
	return -1;
}

struct image_id {
	int64_t id;
	size_t index;
};

static int cmp_image_id(const void *a, const void *b)
{
	const struct image_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int ds_class_index(const struct dataset *ds, const char *name)
{
	for (int c = 0; c < ds->nclasses; c++)
		if (strcmp(ds->class_names[c], name) == 0)
			return c;
	return -1;
}

/* ds:drop(list, {write=}) / ds:relabel(list, {write=}) -> new ds, counts */
static int correct(lua_State *L, int relabel)
{
	struct dataset *ds = ldataset_check(L, 1);
	struct ldataset *box;
	struct dataset *out;
	struct edit *ed;
	size_t *adds_img = NULL;  /* image of each added box */
	struct dataset_box *adds = NULL;
	struct image_id *ids;
	size_t nadd = 0, changed = 0, skipped = 0;
	int64_t next_id = 1;
	lua_Integer n;
	const char *write;

	luaL_checktype(L, 2, LUA_TTABLE);
	write = opt_string(L, 3, "write");
	n = luaL_len(L, 2);
	ed = lua_newuserdatauv(L, (ds->nboxes + 1) * sizeof *ed, 0);
	adds = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *adds, 0);
	adds_img = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *adds_img, 0);
	ids = lua_newuserdatauv(L, (ds->nimages + 1) * sizeof *ids, 0);
	for (size_t j = 0; j < ds->nimages; j++) {
		ids[j].id = ds->images[j].id;
		ids[j].index = j;
	}
	qsort(ids, ds->nimages, sizeof *ids, cmp_image_id);
	for (size_t k = 0; k < ds->nboxes; k++) {
		ed[k].drop = 0;
		ed[k].cls = -1;
		if (ds->boxes[k].id >= next_id)
			next_id = ds->boxes[k].id + 1;
	}
	for (lua_Integer i = 1; i <= n; i++) {
		double b[4];
		lua_Integer image_id, gt_id = 0;
		int has_id, cls = -1, to = -1;
		const char *reason;
		long ii = -1, k;

		lua_geti(L, 2, i);
		if (!lua_istable(L, -1))
			return luaL_error(L, "item %d: expected a table (a suspect or failure)", (int)i);
		lua_getfield(L, -1, "image_id");
		if (!lua_isinteger(L, -1))
			return luaL_error(L, "item %d: image_id missing", (int)i);
		image_id = lua_tointeger(L, -1);
		lua_getfield(L, -2, "gt_id");
		has_id = lua_isinteger(L, -1);
		if (has_id)
			gt_id = lua_tointeger(L, -1);
		lua_getfield(L, -3, "reason");
		reason = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
		lua_getfield(L, -4, "class");
		if (lua_isstring(L, -1) && (cls = ds_class_index(ds, lua_tostring(L, -1))) < 0)
			return luaL_error(L, "item %d: the dataset has no class '%s'", (int)i, lua_tostring(L, -1));
		lua_getfield(L, -5, "relabel");
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_getfield(L, -5, "suggested");
		}
		if (lua_isstring(L, -1) && (to = ds_class_index(ds, lua_tostring(L, -1))) < 0)
			return luaL_error(L, "item %d: the dataset has no class '%s'", (int)i, lua_tostring(L, -1));
		lua_pop(L, 5);
		lua_getfield(L, -1, "box");
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			read_box(L, -1, "bbox", b, (int)i);
		} else {
			lua_pop(L, 1);
			read_box(L, -1, "box", b, (int)i);
		}
		lua_pop(L, 1);
		{
			/* binary search in the ids sorted once below the loop's first item */
			size_t lo = 0, hi = ds->nimages;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (ids[mid].id < image_id)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < ds->nimages && ids[lo].id == image_id)
				ii = (long)ids[lo].index;
		}
		if (ii < 0)
			return luaL_error(L, "item %d: the dataset has no image id %d", (int)i, (int)image_id);
		if (strcmp(reason, "missing_box") == 0) {
			if (!relabel || to < 0) {
				skipped++;
				continue;
			}
			memset(&adds[nadd], 0, sizeof adds[nadd]);
			adds[nadd].x0 = (float)b[0];
			adds[nadd].y0 = (float)b[1];
			adds[nadd].x1 = (float)(b[0] + b[2]);
			adds[nadd].y1 = (float)(b[1] + b[3]);
			adds[nadd].area = (float)(b[2] * b[3]);
			adds[nadd].cls = to;
			adds[nadd].id = next_id++;
			adds_img[nadd++] = (size_t)ii;
			changed++;
			continue;
		}
		k = find_box(ds, (size_t)ii, gt_id, has_id, cls, b);
		if (k < 0) {
			skipped++;
			continue;
		}
		if (!relabel) {
			changed += !ed[k].drop;
			ed[k].drop = 1;
		} else if (to >= 0 && to != ds->boxes[k].cls) {
			ed[k].cls = to;
			changed++;
		} else {
			skipped++;
		}
	}
	box = ldataset_box(L);
	{
		char *name = malloc(strlen(ds->name) + 16);

		if (name == NULL)
			return luaL_error(L, "out of memory");
		sprintf(name, "%s (%s)", ds->name, relabel ? "relabelled" : "dropped");
		out = dataset_new(name, ds->root);
		free(name);
	}
	if (out == NULL)
		return luaL_error(L, "out of memory");
	box->ds = out;
	for (int c = 0; c < ds->nclasses; c++)
		if (dataset_class_add(out, ds->class_names[c], ds->class_ids ? ds->class_ids[c] : c) < 0)
			return luaL_error(L, "%s", det_error_message());
	for (size_t j = 0; j < ds->nimages; j++) {
		const struct dataset_image *im = &ds->images[j];

		if (dataset_image_add(out, im->id, im->file, im->width, im->height) < 0)
			return luaL_error(L, "%s", det_error_message());
		for (size_t k = im->box_start; k < im->box_start + im->box_count; k++) {
			struct dataset_box b = ds->boxes[k];

			if (ed[k].drop)
				continue;
			if (ed[k].cls >= 0)
				b.cls = ed[k].cls;
			if (dataset_box_add(out, &b) < 0)
				return luaL_error(L, "%s", det_error_message());
		}
		for (size_t a = 0; a < nadd; a++)
			if (adds_img[a] == j && dataset_box_add(out, &adds[a]) < 0)
				return luaL_error(L, "%s", det_error_message());
	}
	if (ds->render) {
		out->render = copy_render;
		out->gen = ds;
		out->gen_free = NULL;
		/* the copy keeps the original alive: registry[keep][copy] = original (weak keys) */
		lua_getfield(L, LUA_REGISTRYINDEX, "det.inspect.keep");
		lua_pushvalue(L, -2);
		lua_pushvalue(L, 1);
		lua_rawset(L, -3);
		lua_pop(L, 1);
	}
	lua_createtable(L, 0, 3);
	set_int(L, relabel ? "changed" : "dropped", (lua_Integer)changed);
	set_int(L, "skipped", (lua_Integer)skipped);
	if (write) {
		if (coco_write(out, write) < 0) {
			lua_pushnil(L);
			lua_pushstring(L, det_error_message());
			return 2;
		}
		set_str(L, "written", write);
	}
	return 2;
}

static int ds_drop(lua_State *L)
{
	return correct(L, 0);
}

static int ds_relabel(lua_State *L)
{
	return correct(L, 1);
}

/* ---- subsets (folds for out-of-fold predictions) ---- */

/* A subset of a generated dataset renders image i as the original's
 * map[i]; the original is kept alive from Lua like a corrected copy's. */
struct subset_gen {
	const struct dataset *orig;
	size_t n;
	size_t map[];
};

static int subset_render(const struct dataset *ds, size_t i, struct image *out)
{
	const struct subset_gen *g = ds->gen;

	if (i >= g->n)
		return det_error_set(DET_EINVAL, "%s: image %zu out of range (%zu images)", ds->name, i, g->n);
	return g->orig->render(g->orig, g->map[i], out);
}

/* ds:subset(indices) -> new ds: the images at the given 1-based indices, in
 * that order, with their boxes, classes and ids unchanged (so predictions
 * on the subset evaluate against the original too) */
static int ds_subset(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	struct ldataset *box;
	struct dataset *out;
	struct subset_gen *g;
	unsigned char *seen;
	size_t n;

	luaL_checktype(L, 2, LUA_TTABLE);
	n = (size_t)luaL_len(L, 2);
	seen = lua_newuserdatauv(L, ds->nimages + 1, 0);
	memset(seen, 0, ds->nimages + 1);
	g = malloc(sizeof *g + (n + 1) * sizeof g->map[0]);
	if (g == NULL)
		return luaL_error(L, "out of memory");
	g->orig = ds;
	g->n = n;
	for (size_t i = 0; i < n; i++) {
		lua_Integer k;
		int isnum;

		lua_geti(L, 2, (lua_Integer)i + 1);
		k = lua_tointegerx(L, -1, &isnum);
		lua_pop(L, 1);
		if (!isnum || k < 1 || (size_t)k > ds->nimages || seen[k - 1]) {
			free(g);
			if (!isnum)
				return luaL_error(L, "subset: index %d is not an integer", (int)i + 1);
			if (k < 1 || (size_t)k > ds->nimages)
				return luaL_error(L, "subset: index %d is %d, expected 1..%d (the dataset's images)",
					(int)i + 1, (int)k, (int)ds->nimages);
			return luaL_error(L, "subset: image %d is listed twice (index %d)", (int)k, (int)i + 1);
		}
		seen[k - 1] = 1;
		g->map[i] = (size_t)(k - 1);
	}
	box = ldataset_box(L);
	{
		char *name = malloc(strlen(ds->name) + 48);

		if (name == NULL) {
			free(g);
			return luaL_error(L, "out of memory");
		}
		sprintf(name, "%s (%zu of %zu images)", ds->name, n, ds->nimages);
		out = dataset_new(name, ds->root);
		free(name);
	}
	if (out == NULL) {
		free(g);
		return luaL_error(L, "out of memory");
	}
	box->ds = out;
	if (ds->render) {
		out->render = subset_render;
		out->gen = g;
		out->gen_free = free;
	} else {
		free(g);
		g = NULL;
	}
	for (int c = 0; c < ds->nclasses; c++)
		if (dataset_class_add(out, ds->class_names[c], ds->class_ids ? ds->class_ids[c] : c) < 0)
			return luaL_error(L, "%s", det_error_message());
	for (size_t i = 0; i < n; i++) {
		size_t j;
		const struct dataset_image *im;

		lua_geti(L, 2, (lua_Integer)i + 1);
		j = (size_t)lua_tointeger(L, -1) - 1;
		lua_pop(L, 1);
		im = &ds->images[j];
		if (dataset_image_add(out, im->id, im->file, im->width, im->height) < 0)
			return luaL_error(L, "%s", det_error_message());
		for (size_t k = im->box_start; k < im->box_start + im->box_count; k++)
			if (dataset_box_add(out, &ds->boxes[k]) < 0)
				return luaL_error(L, "%s", det_error_message());
	}
	if (ds->render) {
		/* the subset keeps the original alive: registry[keep][subset] = original (weak keys) */
		lua_getfield(L, LUA_REGISTRYINDEX, "det.inspect.keep");
		lua_pushvalue(L, -2);
		lua_pushvalue(L, 1);
		lua_rawset(L, -3);
		lua_pop(L, 1);
	}
	return 1;
}

/* ---- the inspector panel ---- */

static int get_box(lua_State *L, int t, const char *key, double b[4])
{
	int ok = 0;

	lua_getfield(L, t, key);
	if (lua_istable(L, -1)) {
		ok = 1;
		for (int j = 0; j < 4; j++) {
			lua_geti(L, -1, j + 1);
			b[j] = lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return ok;
}

static void get_str(lua_State *L, int t, const char *key, const char *alt, char *out, size_t size)
{
	out[0] = '\0';
	lua_getfield(L, t, key);
	if (!lua_isstring(L, -1) && alt) {
		lua_pop(L, 1);
		lua_getfield(L, t, alt);
	}
	if (lua_isstring(L, -1))
		snprintf(out, size, "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
}

static int name_index(const struct dataset *ds, lua_State *L, int t, const char *key)
{
	int k = -1;

	lua_getfield(L, t, key);
	if (ds && lua_isstring(L, -1))
		k = ds_class_index(ds, lua_tostring(L, -1));
	lua_pop(L, 1);
	return k;
}

/* core.inspect.open(list, ds | nil, { title =, export = }) -> shown (boolean)
 * Items are failures (r:failures) or suspects (r:suspects). The list is
 * kept for det.inspect.marks(); without a screen nothing is drawn. */
static int l_open(lua_State *L)
{
	const struct dataset *ds = lua_isnoneornil(L, 2) ? NULL : ldataset_check(L, 2);
	lua_Integer n;
	struct inspector_item *v;
	struct screen *sc = tui_screen();
	const char *title, *path;

	luaL_checktype(L, 1, LUA_TTABLE);
	title = opt_string(L, 3, "title");
	path = opt_string(L, 3, "export");
	n = luaL_len(L, 1);
	v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *v, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		struct inspector_item *it = &v[i - 1];
		char side[8];
		int t;

		memset(it, 0, sizeof *it);
		lua_geti(L, 1, i);
		t = lua_gettop(L);
		if (!lua_istable(L, t))
			return luaL_error(L, "item %d: expected a failure or suspect table", (int)i);
		lua_getfield(L, t, "image_id");
		it->image_id = lua_tointeger(L, -1);
		lua_getfield(L, t, "image");
		it->image = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) - 1 : -1;
		lua_getfield(L, t, "score");
		it->score = lua_tonumber(L, -1);
		lua_getfield(L, t, "iou");
		it->iou = lua_tonumber(L, -1);
		lua_pop(L, 4);
		get_str(L, t, "class", NULL, it->cls, sizeof it->cls);
		get_str(L, t, "confused_with", "suggested", it->other, sizeof it->other);
		get_str(L, t, "kind", "reason", it->kind, sizeof it->kind);
		get_str(L, t, "side", NULL, side, sizeof side);
		it->fn = strcmp(side, "fn") == 0;
		if (!get_box(L, t, "bbox", it->box))
			get_box(L, t, "box", it->box);
		it->area = it->box[2] * it->box[3];
		it->has_gt = get_box(L, t, "gt_bbox", it->gt_box);
		lua_getfield(L, t, "gt");
		if (!it->has_gt && !lua_isnil(L, -1)) {
			memcpy(it->gt_box, it->box, sizeof it->box);
			it->has_gt = 1;
		}
		lua_pop(L, 1);
		it->has_det = get_box(L, t, "det_bbox", it->det_box) || get_box(L, t, "det_box", it->det_box);
		it->gt_cls = name_index(ds, L, t, "gt_class");
		if (it->gt_cls < 0)
			it->gt_cls = name_index(ds, L, t, "class");
		it->det_cls = name_index(ds, L, t, "predicted");
		if (it->det_cls < 0)
			it->det_cls = name_index(ds, L, t, "suggested");
		if (it->det_cls < 0)
			it->det_cls = it->gt_cls;
		lua_pop(L, 1);
	}
	if (inspector_open(sc, ds, v, (size_t)n, title, path) < 0)
		return luaL_error(L, "%s", det_error_message());
	/* keep the list and the dataset the panel borrows */
	lua_pushvalue(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, "det.inspect.list");
	lua_pushvalue(L, 2);
	lua_setfield(L, LUA_REGISTRYINDEX, "det.inspect.dataset");
	lua_pushboolean(L, sc != NULL);
	return 1;
}

/* core.inspect.marks() -> the marked items of the last list, in list order */
static int l_marks(lua_State *L)
{
	size_t n = inspector_marks(NULL, 0), *idx;

	lua_getfield(L, LUA_REGISTRYINDEX, "det.inspect.list");
	idx = lua_newuserdatauv(L, (n + 1) * sizeof *idx, 0);
	inspector_marks(idx, n);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		if (lua_istable(L, -3))
			lua_geti(L, -3, (lua_Integer)idx[i] + 1);
		else
			lua_pushinteger(L, (lua_Integer)idx[i] + 1);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* core.inspect.export(path) -> true | nil, message */
static int l_export(lua_State *L)
{
	if (inspector_export(luaL_checkstring(L, 1)) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "open", l_open },
	{ "marks", l_marks },
	{ "export", l_export },
	{ NULL, NULL },
};

static const luaL_Reg result_methods[] = {
	{ "_failures_list", r_failures_list },
	{ "_summary_table", r_summary_table },
	{ "_heatmap", r_heatmap },
	{ "_hardest_list", r_hardest_list },
	{ "_suspects_list", r_suspects_list },
	{ "export_suspects", r_export_suspects },
	{ NULL, NULL },
};

static const luaL_Reg ds_methods[] = {
	{ "drop", ds_drop },
	{ "relabel", ds_relabel },
	{ "subset", ds_subset },
	{ NULL, NULL },
};

int luaopen_det_inspect(lua_State *L)
{
	/* the result class: made by det.core.eval (idempotent if it already ran) */
	if (luaL_getmetatable(L, LEVAL_RESULT_NAME) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_pushcfunction(L, luaopen_det_eval);
		lua_call(L, 0, 1);
		lua_pop(L, 1);
		luaL_getmetatable(L, LEVAL_RESULT_NAME);
	}
	lua_getfield(L, -1, "methods");
	luaL_setfuncs(L, result_methods, 0);
	lua_pop(L, 2);
	ldataset_add_methods(L, ds_methods);
	/* copies of generated datasets keep their original alive through this */
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, "det.inspect.keep");
	luaL_newlib(L, funcs);
	return 1;
}
