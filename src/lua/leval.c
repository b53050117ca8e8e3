/* leval.c: det.core.eval — COCO evaluation from Lua. coco(gt, results)
 * returns a "det.eval.result" holding the GT, the detections and what the
 * evaluator found: stats, per-class AP, TIDE, confusion, PR curves and the
 * outcome of every detection and GT box. */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/error.h"
#include "eval/coco_eval.h"
#include "lua/ldata.h"
#include "lua/ldet.h"
#include "lua/leval.h"

#define RESULT_NAME "det.eval.result"

struct lresult {
	struct eval_gt *gt;
	struct eval_dets *dets;
	struct eval_result *r;
};

static struct lresult *checkresult(lua_State *L, int arg)
{
	struct lresult *p = luaL_checkudata(L, arg, RESULT_NAME);

	if (p->r == NULL)
		luaL_argerror(L, arg, "evaluation result is closed");
	return p;
}

void leval_check(lua_State *L, int arg, const struct eval_gt **gt, const struct eval_dets **dets,
	const struct eval_result **r)
{
	struct lresult *p = checkresult(L, arg);

	*gt = p->gt;
	*dets = p->dets;
	*r = p->r;
}

static int r_gc(lua_State *L)
{
	struct lresult *p = luaL_checkudata(L, 1, RESULT_NAME);

	eval_result_free(p->r);
	eval_dets_free(p->dets);
	eval_gt_free(p->gt);
	p->r = NULL;
	p->dets = NULL;
	p->gt = NULL;
	return 0;
}

/* Runs one of the print functions into a Lua string. */
static void push_printed(lua_State *L, const struct lresult *p, int what)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		luaL_error(L, "out of memory");
	if (what == 0)
		eval_summary_print(p->r, f);
	else if (what == 1)
		eval_per_class_print(p->r, p->gt, f);
	else if (what == 2)
		eval_tide_print(p->r, p->gt, f);
	else
		eval_json_print(p->r, p->gt, f);
	fclose(f);
	lua_pushlstring(L, buf, len);
	free(buf);
}

static int r_tostring(lua_State *L)
{
	struct lresult *p = luaL_checkudata(L, 1, RESULT_NAME);

	if (p->r == NULL)
		lua_pushliteral(L, "<evaluation result (closed)>");
	else
		push_printed(L, p, 0);
	return 1;
}

/* r:report{ per_class = true, tide = true, json = false } -> string */
static int r_report(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	luaL_Buffer b;
	int per_class = 1, tide = 0;

	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "json");
		if (lua_toboolean(L, -1)) {
			push_printed(L, p, 3);
			return 1;
		}
		lua_getfield(L, 2, "per_class");
		per_class = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
		lua_getfield(L, 2, "tide");
		tide = lua_toboolean(L, -1);
		lua_pop(L, 3);
	}
	luaL_buffinit(L, &b);
	push_printed(L, p, 0);
	luaL_addvalue(&b);
	if (per_class) {
		luaL_addchar(&b, '\n');
		push_printed(L, p, 1);
		luaL_addvalue(&b);
	}
	if (tide) {
		luaL_addchar(&b, '\n');
		push_printed(L, p, 2);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	return 1;
}

static void setnum(lua_State *L, const char *k, double v)
{
	if (isnan(v))
		return; /* absent = undefined (no GT) */
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

/* r.stats: { AP = , AP50 = , ..., [1..12] in pycocotools' order } */
static void push_stats(lua_State *L, const struct eval_result *r)
{
	lua_createtable(L, 12, 12);
	for (int i = 0; i < 12; i++) {
		lua_pushnumber(L, r->stats[i]);
		lua_rawseti(L, -2, i + 1);
		lua_pushnumber(L, r->stats[i]);
		lua_setfield(L, -2, eval_stat_names[i]);
	}
}

static int r_stats(lua_State *L)
{
	push_stats(L, checkresult(L, 1)->r);
	return 1;
}

static int r_per_class(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);

	lua_createtable(L, p->r->ncats, 0);
	for (int k = 0; k < p->r->ncats; k++) {
		const struct eval_class *c = &p->r->cls[k];

		lua_createtable(L, 0, 10);
		lua_pushstring(L, p->gt->cat_names[k]);
		lua_setfield(L, -2, "class");
		lua_pushinteger(L, p->gt->cat_ids[k]);
		lua_setfield(L, -2, "id");
		setnum(L, "AP", c->ap);
		setnum(L, "AP50", c->ap50);
		setnum(L, "AP75", c->ap75);
		lua_pushinteger(L, (lua_Integer)c->ngt);
		lua_setfield(L, -2, "gt");
		lua_pushinteger(L, (lua_Integer)c->ndet);
		lua_setfield(L, -2, "dets");
		setnum(L, "f1", c->f1);
		setnum(L, "f1_threshold", c->f1_threshold);
		lua_rawseti(L, -2, k + 1);
	}
	return 1;
}

static void push_errs(lua_State *L, const double *dap, const size_t *count)
{
	lua_createtable(L, 0, EVAL_NERR);
	for (int e = 0; e < EVAL_NERR; e++) {
		lua_pushnumber(L, dap[e]);
		lua_setfield(L, -2, eval_error_names[e]);
	}
	lua_setfield(L, -2, "dAP");
	lua_createtable(L, 0, EVAL_NERR);
	for (int e = 0; e < EVAL_NERR; e++) {
		lua_pushinteger(L, (lua_Integer)count[e]);
		lua_setfield(L, -2, eval_error_names[e]);
	}
	lua_setfield(L, -2, "count");
}

/* r:tide() -> { AP50, dAP = { Cls, Loc, Both, Dupe, Bkg, Miss }, count = {...},
 *   FalsePos, FalseNeg, per_class = { [name] = { AP50, dAP, count } } } (AP points) */
static int r_tide(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	const struct eval_tide *t = &p->r->tide;

	lua_createtable(L, 0, 6);
	lua_pushnumber(L, t->ap);
	lua_setfield(L, -2, "AP50");
	push_errs(L, t->dap, t->count);
	lua_pushnumber(L, t->dap_fp);
	lua_setfield(L, -2, "FalsePos");
	lua_pushnumber(L, t->dap_fn);
	lua_setfield(L, -2, "FalseNeg");
	lua_createtable(L, 0, p->r->ncats);
	for (int k = 0; k < p->r->ncats; k++) {
		lua_createtable(L, 0, 3);
		setnum(L, "AP50", p->r->cls[k].tide_ap);
		push_errs(L, p->r->cls[k].tide_dap, p->r->cls[k].tide_count);
		lua_setfield(L, -2, p->gt->cat_names[k]);
	}
	lua_setfield(L, -2, "per_class");
	return 1;
}

/* r:confusion{ conf = 0.25, iou = 0.5 } -> { classes = {..., "background"},
 *   matrix = { [gt row] = { [predicted column] = count } } } */
static int r_confusion(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	double conf = 0.25, iou = 0.5;
	size_t *m = NULL;
	int K = p->gt->ncats;

	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "conf");
		conf = luaL_optnumber(L, -1, conf);
		lua_getfield(L, 2, "iou");
		iou = luaL_optnumber(L, -1, iou);
		lua_pop(L, 2);
	}
	if (eval_confusion(p->gt, p->dets, conf, iou, &m) < 0)
		return luaL_error(L, "%s", det_error_message());
	lua_createtable(L, 0, 4);
	lua_createtable(L, K + 1, 0);
	for (int k = 0; k < K; k++) {
		lua_pushstring(L, p->gt->cat_names[k]);
		lua_rawseti(L, -2, k + 1);
	}
	lua_pushliteral(L, "background");
	lua_rawseti(L, -2, K + 1);
	lua_setfield(L, -2, "classes");
	lua_createtable(L, K + 1, 0);
	for (int a = 0; a <= K; a++) {
		lua_createtable(L, K + 1, 0);
		for (int b = 0; b <= K; b++) {
			lua_pushinteger(L, (lua_Integer)m[(size_t)a * (size_t)(K + 1) + (size_t)b]);
			lua_rawseti(L, -2, b + 1);
		}
		lua_rawseti(L, -2, a + 1);
	}
	lua_setfield(L, -2, "matrix");
	lua_pushnumber(L, conf);
	lua_setfield(L, -2, "conf");
	lua_pushnumber(L, iou);
	lua_setfield(L, -2, "iou");
	free(m);
	return 1;
}

static int class_arg(lua_State *L, const struct eval_gt *gt, int arg)
{
	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Integer k = luaL_checkinteger(L, arg);

		luaL_argcheck(L, k >= 1 && k <= gt->ncats, arg, "class index out of range");
		return (int)k - 1;
	}
	{
		const char *name = luaL_checkstring(L, arg);

		for (int k = 0; k < gt->ncats; k++)
			if (strcmp(gt->cat_names[k], name) == 0)
				return k;
		return luaL_argerror(L, arg, lua_pushfstring(L, "no class named '%s'", name));
	}
}

static void push_array(lua_State *L, const double *v, size_t n, const char *key)
{
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, key);
}

/* r:pr(class) -> { recall = {}, precision = {}, score = {}, interpolated = {101},
 *   f1, threshold } at IoU 0.5, area all, maxDets 100 */
static int r_pr(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	int k = class_arg(L, p->gt, 2);
	const struct eval_class *c = &p->r->cls[k];
	double interp[EVAL_R];

	for (int ri = 0; ri < EVAL_R; ri++)
		interp[ri] = p->r->precision[eval_pidx(p->r->ncats, 0, ri, k, 0, 2)];
	lua_createtable(L, 0, 7);
	lua_pushstring(L, p->gt->cat_names[k]);
	lua_setfield(L, -2, "class");
	push_array(L, c->pr_recall, c->npr, "recall");
	push_array(L, c->pr_precision, c->npr, "precision");
	push_array(L, c->pr_score, c->npr, "score");
	push_array(L, interp, EVAL_R, "interpolated");
	setnum(L, "f1", c->f1);
	setnum(L, "threshold", c->f1_threshold);
	return 1;
}

static void push_bbox(lua_State *L, const struct eval_box *b)
{
	lua_createtable(L, 4, 0);
	lua_pushnumber(L, b->x), lua_rawseti(L, -2, 1);
	lua_pushnumber(L, b->y), lua_rawseti(L, -2, 2);
	lua_pushnumber(L, b->w), lua_rawseti(L, -2, 3);
	lua_pushnumber(L, b->h), lua_rawseti(L, -2, 4);
	lua_setfield(L, -2, "bbox");
}

static void push_common(lua_State *L, const struct eval_gt *gt, const struct eval_box *b)
{
	lua_pushinteger(L, gt->image_ids[b->img]);
	lua_setfield(L, -2, "image_id");
	lua_pushinteger(L, gt->cat_ids[b->cat]);
	lua_setfield(L, -2, "category_id");
	lua_pushstring(L, gt->cat_names[b->cat]);
	lua_setfield(L, -2, "class");
	push_bbox(L, b);
}

/* r:detections() -> { { image_id, category_id, class, bbox, score, kind,
 *   gt (index into r:ground_truth(), or absent), iou, coco_tp } ... } */
static int r_detections(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);

	lua_createtable(L, (int)p->dets->n, 0);
	for (size_t i = 0; i < p->dets->n; i++) {
		const struct eval_det_outcome *o = &p->r->det[i];

		lua_createtable(L, 0, 9);
		push_common(L, p->gt, &p->dets->boxes[i]);
		lua_pushnumber(L, p->dets->boxes[i].score);
		lua_setfield(L, -2, "score");
		lua_pushstring(L, eval_det_kind_names[o->kind]);
		lua_setfield(L, -2, "kind");
		if (o->gt >= 0) {
			lua_pushinteger(L, o->gt + 1);
			lua_setfield(L, -2, "gt");
		}
		lua_pushnumber(L, o->iou);
		lua_setfield(L, -2, "iou");
		lua_pushboolean(L, o->coco_tp);
		lua_setfield(L, -2, "coco_tp");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* r:ground_truth() -> { { image_id, category_id, class, bbox, area, id, iscrowd,
 *   kind, det (index into r:detections(), or absent) } ... } */
static int r_ground_truth(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);

	lua_createtable(L, (int)p->gt->n, 0);
	for (size_t i = 0; i < p->gt->n; i++) {
		const struct eval_box *b = &p->gt->boxes[i];
		const struct eval_gt_outcome *o = &p->r->gt[i];

		lua_createtable(L, 0, 9);
		push_common(L, p->gt, b);
		lua_pushnumber(L, b->area);
		lua_setfield(L, -2, "area");
		lua_pushinteger(L, b->id);
		lua_setfield(L, -2, "id");
		lua_pushboolean(L, b->iscrowd);
		lua_setfield(L, -2, "iscrowd");
		lua_pushstring(L, eval_gt_kind_names[o->kind]);
		lua_setfield(L, -2, "kind");
		if (o->det >= 0) {
			lua_pushinteger(L, o->det + 1);
			lua_setfield(L, -2, "det");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int r_index(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "stats") == 0) {
		push_stats(L, p->r);
		return 1;
	}
	if (strcmp(k, "AP") == 0 || strcmp(k, "AP50") == 0 || strcmp(k, "AP75") == 0) {
		lua_pushnumber(L, p->r->stats[k[2] == '\0' ? 0 : k[2] == '5' ? 1 : 2]);
		return 1;
	}
	luaL_getmetatable(L, RESULT_NAME);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

/* Reads a Lua results table: { { image_id, category_id | class, bbox = {x,y,w,h}, score } } */
static int dets_from_table(lua_State *L, int t, const struct eval_gt *gt, struct eval_dets *d)
{
	lua_Integer n = luaL_len(L, t);

	for (lua_Integer i = 1; i <= n; i++) {
		double bb[4], score;
		long img;
		int cat;

		lua_geti(L, t, i);
		if (!lua_istable(L, -1))
			return luaL_error(L, "results[%d]: expected a table {image_id=, category_id=, bbox=, score=}", (int)i);
		lua_getfield(L, -1, "image_id");
		if (!lua_isinteger(L, -1))
			return luaL_error(L, "results[%d]: image_id must be an integer", (int)i);
		img = eval_gt_image_index(gt, lua_tointeger(L, -1));
		if (img < 0)
			return luaL_error(L, "results[%d]: unknown image_id %d", (int)i, (int)lua_tointeger(L, -1));
		lua_getfield(L, -2, "category_id");
		if (lua_isinteger(L, -1)) {
			cat = eval_gt_cat_index(gt, lua_tointeger(L, -1));
			if (cat < 0)
				return luaL_error(L, "results[%d]: unknown category_id %d", (int)i, (int)lua_tointeger(L, -1));
		} else {
			lua_getfield(L, -3, "class");
			if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > gt->ncats)
				return luaL_error(L, "results[%d]: needs category_id or class (1..%d)", (int)i, gt->ncats);
			cat = (int)lua_tointeger(L, -1) - 1;
			lua_pop(L, 1);
		}
		lua_getfield(L, -3, "bbox");
		if (!lua_istable(L, -1))
			return luaL_error(L, "results[%d]: bbox must be {x, y, width, height}", (int)i);
		for (int j = 0; j < 4; j++) {
			lua_geti(L, -1, j + 1);
			if (!lua_isnumber(L, -1))
				return luaL_error(L, "results[%d]: bbox must be {x, y, width, height}", (int)i);
			bb[j] = lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
		lua_getfield(L, -4, "score");
		if (!lua_isnumber(L, -1))
			return luaL_error(L, "results[%d]: score must be a number", (int)i);
		score = lua_tonumber(L, -1);
		lua_pop(L, 5);
		if (eval_dets_add(d, (int32_t)img, cat, bb, score) < 0)
			return luaL_error(L, "%s", det_error_message());
	}
	return 0;
}

/* det.eval.coco(gt, results) -> result | nil, message
 * gt: a det.dataset or a COCO GT file; results: a COCO results file or a
 * table of { image_id, category_id (or class = 1-based), bbox, score }. */
static int l_coco(lua_State *L)
{
	struct lresult *p = lua_newuserdatauv(L, sizeof *p, 0);
	int rc;

	memset(p, 0, sizeof *p);
	luaL_setmetatable(L, RESULT_NAME);
	if (lua_type(L, 1) == LUA_TSTRING)
		rc = eval_gt_read(lua_tostring(L, 1), &p->gt, NULL);
	else
		rc = eval_gt_from_dataset(ldataset_check(L, 1), &p->gt);
	if (rc < 0)
		goto fail;
	if (lua_type(L, 2) == LUA_TSTRING) {
		if ((rc = eval_dets_read(lua_tostring(L, 2), p->gt, &p->dets)) < 0)
			goto fail;
	} else {
		luaL_checktype(L, 2, LUA_TTABLE);
		if ((p->dets = eval_dets_new()) == NULL)
			return luaL_error(L, "out of memory");
		dets_from_table(L, 2, p->gt, p->dets);
	}
	if ((rc = eval_coco_run(p->gt, p->dets, &p->r)) < 0)
		goto fail;
	return 1;
fail:
	lua_pushnil(L);
	lua_pushstring(L, det_error_message());
	return 2;
}

/* r:save(path) -> true | nil, message: the detections as a COCO results
 * file ([{image_id, category_id, bbox, score}], results order). */
static int r_save(lua_State *L)
{
	struct lresult *p = checkresult(L, 1);
	const char *path = luaL_checkstring(L, 2);
	struct atomic_file af;
	FILE *f;

	if (atomic_file_open(&af, path) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	f = af.f;
	fputc('[', f);
	for (size_t i = 0; i < p->dets->n; i++) {
		const struct eval_box *b = &p->dets->boxes[i];

		fprintf(f, "%s{\"image_id\":%lld,\"category_id\":%lld,\"bbox\":[%.17g,%.17g,%.17g,%.17g],\"score\":%.17g}",
			i ? ",\n" : "\n", (long long)p->gt->image_ids[b->img], (long long)p->gt->cat_ids[b->cat], b->x, b->y,
			b->w, b->h, b->score);
	}
	fputs("\n]\n", f);
	if (atomic_file_commit(&af) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void leval_push_result(lua_State *L, struct eval_gt *gt, struct eval_dets *dets, struct eval_result *r)
{
	struct lresult *p = lua_newuserdatauv(L, sizeof *p, 0);

	p->gt = gt;
	p->dets = dets;
	p->r = r;
	if (luaL_getmetatable(L, RESULT_NAME) == LUA_TNIL) {
		lua_pop(L, 1);
		luaL_requiref(L, "det.core.eval", luaopen_det_eval, 0);
		lua_pop(L, 1);
		luaL_getmetatable(L, RESULT_NAME);
	}
	lua_setmetatable(L, -2);
}

static const luaL_Reg methods[] = {
	{ "save", r_save },
	{ "per_class", r_per_class },
	{ "tide", r_tide },
	{ "confusion", r_confusion },
	{ "pr", r_pr },
	{ "detections", r_detections },
	{ "ground_truth", r_ground_truth },
	{ "report", r_report },
	{ "get_stats", r_stats },
	{ "close", r_gc },
	{ NULL, NULL },
};

static const luaL_Reg meta[] = {
	{ "__gc", r_gc },
	{ "__close", r_gc },
	{ "__tostring", r_tostring },
	{ "__index", r_index },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "coco", l_coco },
	{ NULL, NULL },
};

int luaopen_det_eval(lua_State *L)
{
	if (luaL_newmetatable(L, RESULT_NAME)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
