/* laug.c: det.core.aug — augmentation operations as values (det.aug.hflip{...}
 * makes one), ds:augment{...} / ds:sample(i) / det.aug.preview, and the
 * threaded loader as ds:loader{...}. Lists and samplers set on a dataset are
 * kept in a weak-keyed registry table, keyed by the dataset object. */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/imageio.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "lua/laug.h"
#include "lua/ldet.h"
#include "lua/ldata.h"

#define OP_NAME "det.aug.op"
#define LIST_NAME "det.aug.list"
#define LOADER_NAME "det.loader"
#define STATE_KEY "det.dataset.state"

/* ---- per-dataset state --------------------------------------------------- */

void ldataset_state(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	ldataset_check(L, idx);
	if (lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_createtable(L, 0, 1);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);
	}
	lua_pushvalue(L, idx);
	if (lua_rawget(L, -2) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, idx);
		lua_pushvalue(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
}

const struct aug_list *laug_dataset_augment(lua_State *L, int idx)
{
	const struct aug_list *l;

	ldataset_state(L, idx);
	lua_getfield(L, -1, "augment");
	l = luaL_testudata(L, -1, LIST_NAME);
	lua_pop(L, 2);
	return l && l->n ? l : NULL;
}

/* ---- operations ---------------------------------------------------------- */

static struct aug_op *checkop(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, OP_NAME);
}

/* core.aug.op(kind, { p = , <param> = ... }) -> op; unknown keys raise. */
static int l_op(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int k = aug_kind_find(name);
	struct aug_op *op;

	if (k < 0)
		return luaL_error(L, "det.aug: unknown augmentation '%s'", name);
	op = lua_newuserdatauv(L, sizeof *op, 0);
	aug_op_init(op, (enum aug_kind)k);
	luaL_setmetatable(L, OP_NAME);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 2) != 0) {
			const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
			int pi = key ? aug_param_find(op->kind, key) : -1;

			if (key == NULL || (pi < 0 && strcmp(key, "p") != 0)) {
				const char *bad = luaL_tolstring(L, -2, NULL);
				luaL_Buffer b;

				luaL_buffinit(L, &b);
				luaL_addstring(&b, "p");
				for (int i = 0; i < aug_kinds[k].nparams; i++) {
					luaL_addstring(&b, ", ");
					luaL_addstring(&b, aug_kinds[k].params[i].name);
				}
				luaL_pushresult(&b);
				return luaL_error(L, "det.aug.%s: unknown option '%s' (expected %s)", name, bad, lua_tostring(L, -1));
			}
			if (!lua_isnumber(L, -1))
				return luaL_error(L, "det.aug.%s: %s must be a number, got %s", name, key, luaL_typename(L, -1));
			if (pi < 0)
				op->p = (float)lua_tonumber(L, -1);
			else
				op->param[pi] = (float)lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
	}
	if (aug_op_check(op) < 0)
		return luaL_error(L, "det.%s", det_error_message());
	return 1;
}

static int op_tostring(lua_State *L)
{
	const struct aug_op *op = checkop(L, 1);
	const struct aug_kind_info *ki = &aug_kinds[op->kind];
	char buf[64];
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	snprintf(buf, sizeof buf, "det.aug.%s{ p = %g", ki->name, (double)op->p);
	luaL_addstring(&b, buf);
	for (int i = 0; i < ki->nparams; i++) {
		snprintf(buf, sizeof buf, ", %s = %g", ki->params[i].name, (double)op->param[i]);
		luaL_addstring(&b, buf);
	}
	luaL_addstring(&b, " }");
	luaL_pushresult(&b);
	return 1;
}

/* op.kind, op.p, op.<param> */
static int op_index(lua_State *L)
{
	const struct aug_op *op = checkop(L, 1);
	const char *key = luaL_checkstring(L, 2);
	int pi;

	if (strcmp(key, "kind") == 0)
		lua_pushstring(L, aug_kinds[op->kind].name);
	else if (strcmp(key, "p") == 0)
		lua_pushnumber(L, op->p);
	else if ((pi = aug_param_find(op->kind, key)) >= 0)
		lua_pushnumber(L, op->param[pi]);
	else
		lua_pushnil(L);
	return 1;
}

/* core.aug.kinds: { { name=, p=, params = { { name=, default=, min=, max=, doc= } } } } */
static void push_kinds(lua_State *L)
{
	lua_createtable(L, AUG_NKINDS, 0);
	for (int k = 0; k < AUG_NKINDS; k++) {
		const struct aug_kind_info *ki = &aug_kinds[k];

		lua_createtable(L, 0, 3);
		lua_pushstring(L, ki->name);
		lua_setfield(L, -2, "name");
		lua_pushnumber(L, ki->p);
		lua_setfield(L, -2, "p");
		lua_createtable(L, ki->nparams, 0);
		for (int i = 0; i < ki->nparams; i++) {
			lua_createtable(L, 0, 5);
			lua_pushstring(L, ki->params[i].name);
			lua_setfield(L, -2, "name");
			lua_pushnumber(L, ki->params[i].def);
			lua_setfield(L, -2, "default");
			lua_pushnumber(L, ki->params[i].lo);
			lua_setfield(L, -2, "min");
			lua_pushnumber(L, ki->params[i].hi);
			lua_setfield(L, -2, "max");
			lua_pushstring(L, ki->params[i].doc);
			lua_setfield(L, -2, "doc");
			lua_rawseti(L, -2, i + 1);
		}
		lua_setfield(L, -2, "params");
		lua_rawseti(L, -2, k + 1);
	}
}

/* ---- ds:augment ---------------------------------------------------------- */

/* Appends the ops of table/op at idx to list (nested lists flatten). */
static void collect(lua_State *L, int idx, struct aug_list *list, int depth)
{
	struct aug_op *op = luaL_testudata(L, idx, OP_NAME);

	if (op) {
		if (list->n >= AUG_MAX_OPS)
			luaL_error(L, "ds:augment: at most %d operations", AUG_MAX_OPS);
		list->ops[list->n++] = *op;
		return;
	}
	if (!lua_istable(L, idx) || depth > 4)
		luaL_error(L, "ds:augment: expected det.aug operations, got %s", luaL_typename(L, idx));
	for (lua_Integer i = 1, n = luaL_len(L, idx); i <= n; i++) {
		lua_rawgeti(L, idx, i);
		collect(L, lua_absindex(L, -1), list, depth + 1);
		lua_pop(L, 1);
	}
}

/* ds:augment{ ops... } -> ds; ds:augment() -> { ops... } */
static int ds_augment(lua_State *L)
{
	ldataset_check(L, 1);
	if (lua_gettop(L) < 2) {
		const struct aug_list *l = laug_dataset_augment(L, 1);

		lua_createtable(L, l ? l->n : 0, 0);
		for (int i = 0; l && i < l->n; i++) {
			struct aug_op *op = lua_newuserdatauv(L, sizeof *op, 0);

			*op = l->ops[i];
			luaL_setmetatable(L, OP_NAME);
			lua_rawseti(L, -2, i + 1);
		}
		return 1;
	}
	struct aug_list *list = lua_newuserdatauv(L, sizeof *list, 0);

	memset(list, 0, sizeof *list);
	luaL_setmetatable(L, LIST_NAME);
	if (!lua_isnil(L, 2) && !(lua_isboolean(L, 2) && !lua_toboolean(L, 2)))
		collect(L, 2, list, 0);
	ldataset_state(L, 1);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "augment");
	lua_settop(L, 1);
	return 1;
}

/* ---- samples as Lua tables ----------------------------------------------- */

static void push_boxes(lua_State *L, const struct dataset *ds, const struct aug_box *b, size_t n)
{
	lua_createtable(L, (int)n, 0);
	for (size_t k = 0; k < n; k++) {
		lua_createtable(L, 4, 2);
		lua_pushnumber(L, b[k].x0), lua_rawseti(L, -2, 1);
		lua_pushnumber(L, b[k].y0), lua_rawseti(L, -2, 2);
		lua_pushnumber(L, b[k].x1), lua_rawseti(L, -2, 3);
		lua_pushnumber(L, b[k].y1), lua_rawseti(L, -2, 4);
		lua_pushinteger(L, b[k].cls + 1);
		lua_setfield(L, -2, "class");
		if (b[k].cls >= 0 && b[k].cls < ds->nclasses) {
			lua_pushstring(L, ds->class_names[b[k].cls]);
			lua_setfield(L, -2, "name");
		}
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
}

static void push_sample(lua_State *L, const struct dataset *ds, size_t i, const struct aug_sample *s, int pixels)
{
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, (lua_Integer)i + 1);
	lua_setfield(L, -2, "index");
	lua_pushinteger(L, s->im.width);
	lua_setfield(L, -2, "width");
	lua_pushinteger(L, s->im.height);
	lua_setfield(L, -2, "height");
	push_boxes(L, ds, s->boxes, s->n);
	lua_setfield(L, -2, "boxes");
	if (pixels) {
		lua_pushlstring(L, (const char *)s->im.data, (size_t)s->im.width * s->im.height * 3);
		lua_setfield(L, -2, "pixels");
	}
}

struct sample_opts {
	int augment, pixels;
	lua_Integer epoch;
	uint64_t seed;
};

static void read_sample_opts(lua_State *L, int t, struct sample_opts *o, const char *fname)
{
	o->augment = 1, o->pixels = 1, o->epoch = 0, o->seed = 1;
	if (lua_isnoneornil(L, t))
		return;
	luaL_checktype(L, t, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";

		if (strcmp(k, "augment") == 0)
			o->augment = lua_toboolean(L, -1);
		else if (strcmp(k, "pixels") == 0)
			o->pixels = lua_toboolean(L, -1);
		else if (strcmp(k, "epoch") == 0)
			o->epoch = luaL_checkinteger(L, -1);
		else if (strcmp(k, "seed") == 0)
			o->seed = (uint64_t)luaL_checkinteger(L, -1);
		else if (strcmp(k, "file") && strcmp(k, "cols") && strcmp(k, "cell") && strcmp(k, "start") && strcmp(k, "indices"))
			luaL_error(L, "%s: unknown option '%s' (expected augment, pixels, epoch, seed%s)", fname, k,
				strcmp(fname, "det.aug.preview") == 0 ? ", file, cols, cell, start, indices" : "");
		lua_pop(L, 1);
	}
}

/* Loads sample i and applies the list; on failure pushes nil, message and
 * returns 0 (the sample is freed). */
static int load_augmented(lua_State *L, const struct dataset *ds, const struct aug_list *list, size_t i,
	const struct sample_opts *o, struct aug_sample *s)
{
	aug_sample_init(s);
	if (aug_sample_load(ds, i, s) < 0 ||
		(o->augment && list && aug_list_apply(list, ds, s, o->seed, o->epoch, i) < 0)) {
		aug_sample_fini(s);
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 0;
	}
	return 1;
}

/* ds:sample(i [, { augment = true, epoch = 0, seed = 1, pixels = true }]) -> sample | nil, message */
static int ds_sample(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	lua_Integer i = luaL_checkinteger(L, 2);
	const struct aug_list *list = laug_dataset_augment(L, 1);
	struct sample_opts o;
	struct aug_sample s;

	luaL_argcheck(L, i >= 1 && (size_t)i <= ds->nimages, 2, "image index out of range");
	read_sample_opts(L, 3, &o, "ds:sample");
	if (!load_augmented(L, ds, list, (size_t)i - 1, &o, &s))
		return 2;
	push_sample(L, ds, (size_t)i - 1, &s, o.pixels);
	aug_sample_fini(&s);
	return 1;
}

static int opt_int(lua_State *L, int t, const char *key, int def)
{
	int v = def;

	if (lua_istable(L, t)) {
		lua_getfield(L, t, key);
		if (!lua_isnil(L, -1))
			v = (int)luaL_checkinteger(L, -1);
		lua_pop(L, 1);
	}
	return v;
}

/* det.aug.preview(ds, n [, { file=, seed=, epoch=, cols=, cell=, start=, indices=, augment= }])
 * -> { sample, ... } [, message for the file] */
static int l_preview(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	int n = (int)luaL_optinteger(L, 2, 16);
	const struct aug_list *list = laug_dataset_augment(L, 1);
	struct sample_opts o;
	const char *file = NULL;
	int cols, rows, cell, start, gap = 2;
	struct image grid = { 0 };

	luaL_argcheck(L, n >= 1 && n <= 1024, 2, "preview 1..1024 samples");
	read_sample_opts(L, 3, &o, "det.aug.preview");
	if (lua_istable(L, 3)) {
		lua_getfield(L, 3, "file");
		file = lua_tostring(L, -1); /* kept alive by the options table */
		lua_pop(L, 1);
	}
	cols = opt_int(L, 3, "cols", (int)ceil(sqrt((double)n)));
	cell = opt_int(L, 3, "cell", ds->nimages && ds->images[0].width > 0 && ds->images[0].width <= 512 ? ds->images[0].width : 256);
	start = opt_int(L, 3, "start", 1);
	luaL_argcheck(L, cols >= 1 && cell >= 16 && cell <= 2048, 3, "cols >= 1 and cell in 16..2048");
	rows = (n + cols - 1) / cols;
	if (file) {
		if (image_init(&grid, cols * cell + (cols + 1) * gap, rows * cell + (rows + 1) * gap, 3) < 0)
			return luaL_error(L, "det.aug.preview: %s", det_error_message());
		memset(grid.data, 40, (size_t)grid.width * grid.height * 3);
	}
	lua_createtable(L, n, 0);
	for (int k = 0; k < n; k++) {
		lua_Integer idx;
		struct aug_sample s;

		if (lua_istable(L, 3) && lua_getfield(L, 3, "indices") == LUA_TTABLE) {
			lua_rawgeti(L, -1, k + 1);
			idx = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
			lua_pop(L, 2);
		} else {
			if (lua_istable(L, 3))
				lua_pop(L, 1);
			idx = start + k;
		}
		if (idx < 1 || (size_t)idx > ds->nimages)
			idx = 1 + (idx - 1 + (lua_Integer)ds->nimages * 1000) % (lua_Integer)ds->nimages;
		if (!load_augmented(L, ds, list, (size_t)idx - 1, &o, &s)) {
			/* a broken sample: leave its cell empty, keep its message */
			lua_createtable(L, 0, 2);
			lua_pushinteger(L, idx);
			lua_setfield(L, -2, "index");
			lua_pushvalue(L, -2);
			lua_setfield(L, -2, "error");
			lua_rawseti(L, -4, k + 1);
			lua_pop(L, 2);
			continue;
		}
		push_sample(L, ds, (size_t)idx - 1, &s, o.pixels);
		lua_rawseti(L, -2, k + 1);
		if (file) {
			struct image c;
			struct letterbox lb;
			int cx = gap + (k % cols) * (cell + gap), cy = gap + (k / cols) * (cell + gap);

			if (image_init(&c, cell, cell, 3) == 0 && imageio_letterbox(&s.im, &c, 114, &lb) == 0) {
				for (size_t q = 0; q < s.n; q++) {
					float *b = &s.boxes[q].x0;

					letterbox_boxes(&lb, b, 1);
				}
				draw_boxes(&c, s.boxes, s.n, (const char *const *)ds->class_names, ds->nclasses);
				for (int y = 0; y < cell; y++)
					memcpy(grid.data + ((size_t)(cy + y) * grid.width + cx) * 3, c.data + (size_t)y * cell * 3, (size_t)cell * 3);
			}
			image_fini(&c); /* zeroed by image_init even when it fails */
		}
		aug_sample_fini(&s);
	}
	if (file) {
		int rc = imageio_write_png(file, &grid);

		image_fini(&grid);
		if (rc < 0) {
			lua_pushstring(L, det_error_message());
			return 2;
		}
	}
	return 1;
}

/* ---- ds:loader ----------------------------------------------------------- */

struct lloader {
	struct loader *l;
};

static struct lloader *checkloader(lua_State *L, int idx)
{
	struct lloader *p = luaL_checkudata(L, idx, LOADER_NAME);

	if (p->l == NULL)
		luaL_argerror(L, idx, "loader is closed");
	return p;
}

struct loader *lloader_check(lua_State *L, int idx)
{
	return checkloader(L, idx)->l;
}

static int loader_gc(lua_State *L)
{
	struct lloader *p = luaL_checkudata(L, 1, LOADER_NAME);

	if (p->l) {
		loader_free(p->l);
		p->l = NULL;
		for (int i = 1; i <= 2; i++) {
			lua_getiuservalue(L, 1, i);
			lpin_add(L, -1, -1);
			lua_pop(L, 1);
		}
	}
	return 0;
}

/* ds:loader{ batch=16, size=128, workers=2, seed=1, letterbox=true, drop_last=false,
 *            max_boxes=100, start_epoch=0, mean={...}, std={...}, augment=true } -> loader */
static int ds_loader(lua_State *L)
{
	static const char *const keys[] = { "batch", "size", "workers", "seed", "letterbox", "drop_last", "max_boxes",
		"start_epoch", "mean", "std", "augment", "ring", NULL };
	struct dataset *ds = ldataset_check(L, 1);
	struct loader_config cfg;
	const struct aug_list *augs;
	const struct sampler *smp;
	struct lloader *p;
	int augment = 1;

	if (lua_isnoneornil(L, 2))
		lua_settop(L, 1), lua_newtable(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 2) != 0) {
		int known = 0;

		for (const char *const *k = keys; *k && !known; k++)
			known = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), *k) == 0;
		if (!known)
			return luaL_error(L, "ds:loader: unknown option '%s' (expected batch, size, workers, seed, letterbox, "
				"drop_last, max_boxes, start_epoch, mean, std, augment, ring)", luaL_tolstring(L, -2, NULL));
		lua_pop(L, 1);
	}
	loader_config_default(&cfg);
	cfg.batch = (size_t)opt_int(L, 2, "batch", (int)cfg.batch);
	cfg.size = opt_int(L, 2, "size", cfg.size);
	cfg.workers = opt_int(L, 2, "workers", cfg.workers);
	cfg.seed = (uint64_t)opt_int(L, 2, "seed", (int)cfg.seed);
	cfg.max_boxes = opt_int(L, 2, "max_boxes", 100);
	cfg.ring = opt_int(L, 2, "ring", 0);
	cfg.start_epoch = opt_int(L, 2, "start_epoch", 0);
	lua_getfield(L, 2, "letterbox");
	if (!lua_isnil(L, -1))
		cfg.letterbox = lua_toboolean(L, -1);
	lua_getfield(L, 2, "drop_last");
	cfg.drop_last = lua_toboolean(L, -1);
	lua_getfield(L, 2, "augment");
	if (!lua_isnil(L, -1))
		augment = lua_toboolean(L, -1);
	lua_pop(L, 3);
	for (int w = 0; w < 2; w++) {
		lua_getfield(L, 2, w ? "std" : "mean");
		if (!lua_isnil(L, -1)) {
			luaL_argcheck(L, lua_istable(L, -1) && luaL_len(L, -1) == 3, 2, "mean and std are lists of 3 numbers");
			for (int c = 0; c < 3; c++) {
				lua_rawgeti(L, -1, c + 1);
				(w ? cfg.std : cfg.mean)[c] = (float)luaL_checknumber(L, -1);
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	augs = augment ? laug_dataset_augment(L, 1) : NULL;
	smp = lsample_dataset_sampler(L, 1);
	p = lua_newuserdatauv(L, sizeof *p, 2);
	p->l = NULL;
	luaL_setmetatable(L, LOADER_NAME);
	/* keep the dataset and its sampler object alive as long as the loader */
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	ldataset_state(L, 1);
	lua_getfield(L, -1, "sampler");
	lua_setiuservalue(L, -3, 2);
	lua_pop(L, 1);
	p->l = loader_new_config(ds, smp, augs, &cfg);
	if (p->l == NULL)
		return luaL_error(L, "ds:loader: %s", det_error_message());
	/* its workers read the dataset and draw from its sampler */
	for (int i = 1; i <= 2; i++) {
		lua_getiuservalue(L, -1, i);
		lpin_add(L, -1, 1);
		lua_pop(L, 1);
	}
	return 1;
}

/* loader:next() -> { n, width, height, epoch, number, last_in_epoch, skipped,
 *   indices = {...}, boxes = { { {x0,y0,x1,y1,class=}, ... }, ... }, checksum } */
static int loader_next_l(lua_State *L)
{
	struct lloader *p = checkloader(L, 1);
	const struct loader_batch *b;
	double sum = 0;

	if (loader_next(p->l, &b) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_createtable(L, 0, 12);
	lua_pushinteger(L, b->n), lua_setfield(L, -2, "n");
	lua_pushinteger(L, b->width), lua_setfield(L, -2, "width");
	lua_pushinteger(L, b->height), lua_setfield(L, -2, "height");
	lua_pushinteger(L, b->epoch), lua_setfield(L, -2, "epoch");
	lua_pushinteger(L, (lua_Integer)b->number + 1), lua_setfield(L, -2, "number");
	lua_pushboolean(L, b->last_in_epoch), lua_setfield(L, -2, "last_in_epoch");
	lua_pushinteger(L, b->skipped), lua_setfield(L, -2, "skipped");
	lua_createtable(L, b->n, 0);
	for (int i = 0; i < b->n; i++) {
		lua_pushinteger(L, (lua_Integer)b->indices[i] + 1);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "indices");
	lua_createtable(L, b->n, 0);
	for (int i = 0; i < b->n; i++) {
		lua_createtable(L, b->counts[i], 0);
		for (int j = 0; j < b->counts[i]; j++) {
			const float *x = b->boxes + ((size_t)i * b->max_boxes + j) * 4;

			lua_createtable(L, 4, 1);
			for (int q = 0; q < 4; q++) {
				lua_pushnumber(L, x[q]);
				lua_rawseti(L, -2, q + 1);
			}
			lua_pushinteger(L, b->classes[(size_t)i * b->max_boxes + j] + 1);
			lua_setfield(L, -2, "class");
			lua_rawseti(L, -2, j + 1);
		}
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "boxes");
	for (size_t k = 0; k < (size_t)b->n * 3 * b->width * b->height; k++)
		sum += b->images[k] * (double)((k % 7) + 1);
	lua_pushnumber(L, sum);
	lua_setfield(L, -2, "checksum");
	return 1;
}

static int loader_stats_l(lua_State *L)
{
	struct lloader *p = checkloader(L, 1);
	struct loader_stats st;

	loader_stats(p->l, &st);
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)st.batches), lua_setfield(L, -2, "batches");
	lua_pushinteger(L, (lua_Integer)st.samples), lua_setfield(L, -2, "samples");
	lua_pushinteger(L, (lua_Integer)st.skipped), lua_setfield(L, -2, "skipped");
	lua_pushinteger(L, (lua_Integer)st.boxes_truncated), lua_setfield(L, -2, "boxes_truncated");
	lua_pushnumber(L, st.wait_s), lua_setfield(L, -2, "wait_s");
	lua_pushnumber(L, st.elapsed_s), lua_setfield(L, -2, "elapsed_s");
	lua_pushnumber(L, st.wait_fraction), lua_setfield(L, -2, "wait_fraction");
	if (st.last_error[0]) {
		lua_pushstring(L, st.last_error);
		lua_setfield(L, -2, "last_error");
	}
	return 1;
}

static int loader_tostring(lua_State *L)
{
	struct lloader *p = luaL_checkudata(L, 1, LOADER_NAME);

	if (p->l == NULL) {
		lua_pushliteral(L, "<loader (closed)>");
	} else {
		struct loader_stats st;

		loader_stats(p->l, &st);
		lua_pushfstring(L, "<loader: %d batches, %d samples, %d skipped>", (int)st.batches, (int)st.samples, (int)st.skipped);
	}
	return 1;
}

/* ---- registration -------------------------------------------------------- */

static const luaL_Reg op_meta[] = {
	{ "__tostring", op_tostring },
	{ "__index", op_index },
	{ NULL, NULL },
};

static const luaL_Reg loader_methods[] = {
	{ "next", loader_next_l },
	{ "stats", loader_stats_l },
	{ "close", loader_gc },
	{ NULL, NULL },
};

static const luaL_Reg loader_meta[] = {
	{ "__gc", loader_gc },
	{ "__close", loader_gc },
	{ "__tostring", loader_tostring },
	{ NULL, NULL },
};

static const luaL_Reg ds_methods[] = {
	{ "augment", ds_augment },
	{ "sample", ds_sample },
	{ "loader", ds_loader },
	{ NULL, NULL },
};

static const luaL_Reg aug_funcs[] = {
	{ "op", l_op },
	{ "preview", l_preview },
	{ NULL, NULL },
};

int luaopen_det_aug(lua_State *L)
{
	if (luaL_newmetatable(L, OP_NAME))
		luaL_setfuncs(L, op_meta, 0);
	lua_pop(L, 1);
	luaL_newmetatable(L, LIST_NAME);
	lua_pop(L, 1);
	if (luaL_newmetatable(L, LOADER_NAME)) {
		luaL_setfuncs(L, loader_meta, 0);
		luaL_newlib(L, loader_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	ldataset_add_methods(L, ds_methods);
	luaL_newlib(L, aug_funcs);
	push_kinds(L);
	lua_setfield(L, -2, "kinds");
	return 1;
}
