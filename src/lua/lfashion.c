/* lfashion.c: det.core.fashion — det.data.fashion{...}, the built-in scenes
 * made of Fashion-MNIST items (src/data/fashion.h). Bad options raise;
 * missing data files return nil, message. */
#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "lua/laug.h"
#include "lua/ldet.h"
#include "lua/ldata.h"

static const char *const keys[] = { "split", "images", "size", "seed", "min_objects", "max_objects", "classes",
	"class_weights", "skew", "background", "min_scale", "max_scale", "max_iou", NULL };

static void check_keys(lua_State *L, int t)
{
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		int known = 0;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			for (const char *const *k = keys; *k && !known; k++)
				known = strcmp(lua_tostring(L, -1), *k) == 0;
		if (!known)
			luaL_error(L, "det.data.fashion: unknown option '%s' (expected split, images, size, seed, min_objects, "
				"max_objects, classes, class_weights, skew, background, min_scale, max_scale, max_iou)",
				luaL_tolstring(L, -1, NULL));
	}
}

/* Pushes option key as a number and returns 1, or returns 0 when absent. */
static int opt_number(lua_State *L, int t, const char *key)
{
	lua_getfield(L, t, key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	if (!lua_isnumber(L, -1))
		luaL_error(L, "det.data.fashion: %s must be a number, got %s", key, luaL_typename(L, -1));
	return 1;
}

static int get_int(lua_State *L, int t, const char *key, int cur)
{
	if (!opt_number(L, t, key))
		return cur;
	lua_Number v = lua_tonumber(L, -1);

	lua_pop(L, 1);
	if (v != floor(v) || v < -2147483647.0 || v > 2147483647.0)
		luaL_error(L, "det.data.fashion: %s must be an integer, got %g", key, v);
	return (int)v;
}

static float get_float(lua_State *L, int t, const char *key, float cur)
{
	if (!opt_number(L, t, key))
		return cur;
	float v = (float)lua_tonumber(L, -1);

	lua_pop(L, 1);
	return v;
}

/* A class given as a name ("Shirt") or a 1-based Fashion-MNIST label. */
static int class_arg(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tostring(L, idx);

		for (int c = 0; c < FASHION_CLASSES; c++)
			if (strcmp(s, fashion_class_names[c]) == 0)
				return c;
		return luaL_error(L, "det.data.fashion: unknown class '%s' (classes: T-shirt/top, Trouser, Pullover, "
			"Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot)", s);
	}
	if (lua_isinteger(L, idx) && lua_tointeger(L, idx) >= 1 && lua_tointeger(L, idx) <= FASHION_CLASSES)
		return (int)lua_tointeger(L, idx) - 1;
	return luaL_error(L, "det.data.fashion: a class is a name or a number 1..10, got %s", luaL_tolstring(L, idx, NULL));
}

/* det.data.fashion{ split=, images=, size=, seed=, ... } -> dataset | nil, message */
static int l_fashion(lua_State *L)
{
	struct fashion_config cfg;
	struct ldataset *box;
	struct dataset *ds;
	const char *s;
	int rc, t = 1;

	fashion_config_default(&cfg);
	if (lua_isnoneornil(L, 1))
		lua_newtable(L), lua_replace(L, 1);
	luaL_checktype(L, 1, LUA_TTABLE);
	check_keys(L, t);
	lua_getfield(L, t, "split");
	s = lua_tostring(L, -1);
	if (!lua_isnil(L, -1)) {
		if (s && strcmp(s, "train") == 0)
			cfg.split = FASHION_TRAIN;
		else if (s && strcmp(s, "test") == 0)
			cfg.split = FASHION_TEST;
		else
			return luaL_error(L, "det.data.fashion: split must be \"train\" or \"test\"");
	}
	lua_pop(L, 1);
	{
		int n = get_int(L, t, "images", (int)cfg.images);

		if (n < 1)
			return luaL_error(L, "det.data.fashion: images must be >= 1, got %d", n);
		cfg.images = (size_t)n;
	}
	cfg.size = get_int(L, t, "size", cfg.size);
	cfg.seed = (uint64_t)get_int(L, t, "seed", (int)cfg.seed);
	cfg.min_objects = get_int(L, t, "min_objects", cfg.min_objects);
	cfg.max_objects = get_int(L, t, "max_objects", cfg.max_objects);
	if (cfg.min_objects > cfg.max_objects) {
		lua_getfield(L, t, "max_objects");
		if (lua_isnil(L, -1))
			cfg.max_objects = cfg.min_objects;
		lua_pop(L, 1);
	}
	cfg.min_scale = get_float(L, t, "min_scale", cfg.min_scale);
	cfg.max_scale = get_float(L, t, "max_scale", cfg.max_scale);
	cfg.max_iou = get_float(L, t, "max_iou", cfg.max_iou);
	lua_getfield(L, t, "classes");
	if (!lua_isnil(L, -1)) {
		luaL_argcheck(L, lua_istable(L, -1), 1, "classes must be a list of class names or numbers");
		cfg.nclasses = (int)luaL_len(L, -1);
		if (cfg.nclasses < 1 || cfg.nclasses > FASHION_CLASSES)
			return luaL_error(L, "det.data.fashion: classes lists 1..10 classes, got %d", cfg.nclasses);
		for (int c = 0; c < cfg.nclasses; c++) {
			lua_rawgeti(L, -1, c + 1);
			cfg.classes[c] = class_arg(L, -1);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, t, "class_weights");
	if (!lua_isnil(L, -1)) {
		luaL_argcheck(L, lua_istable(L, -1), 1, "class_weights must be a list of numbers");
		if ((int)luaL_len(L, -1) != cfg.nclasses)
			return luaL_error(L, "det.data.fashion: class_weights has %d values for %d classes",
				(int)luaL_len(L, -1), cfg.nclasses);
		for (int c = 0; c < cfg.nclasses; c++) {
			lua_rawgeti(L, -1, c + 1);
			if (!lua_isnumber(L, -1))
				return luaL_error(L, "det.data.fashion: class_weights[%d] is not a number", c + 1);
			cfg.class_weights[c] = (float)lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, t, "skew");
	if (!lua_isnil(L, -1)) {
		float k = (float)luaL_checknumber(L, -1);

		if (!(k >= 1))
			return luaL_error(L, "det.data.fashion: skew must be >= 1 (the first class is skew times the last), got %g", k);
		fashion_config_skew(&cfg, k);
	}
	lua_pop(L, 1);
	lua_getfield(L, t, "background");
	if (!lua_isnil(L, -1)) {
		static const char *const bgs[] = { "noise", "gradient", "texture", "mixed", NULL };
		int i = 0;

		s = lua_tostring(L, -1);
		while (s && bgs[i] && strcmp(bgs[i], s) != 0)
			i++;
		if (s == NULL || bgs[i] == NULL)
			return luaL_error(L, "det.data.fashion: background must be \"noise\", \"gradient\", \"texture\" or \"mixed\"");
		cfg.background = (enum fashion_background)i;
	}
	lua_pop(L, 1);

	box = ldataset_box(L);
	rc = fashion_dataset_new(&cfg, &ds);
	if (rc == DET_EINVAL)
		return luaL_error(L, "det.data.fashion: %s", det_error_message());
	if (rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	box->ds = ds;
	return 1;
}

int luaopen_det_fashion(lua_State *L)
{
	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, l_fashion);
	lua_setfield(L, -2, "fashion");
	lua_createtable(L, FASHION_CLASSES, 0);
	for (int c = 0; c < FASHION_CLASSES; c++) {
		lua_pushstring(L, fashion_class_names[c]);
		lua_rawseti(L, -2, c + 1);
	}
	lua_setfield(L, -2, "fashion_classes");
	/* lua/det/data.lua copies the functions of sub-tables marked so into det.data */
	lua_pushliteral(L, "data");
	lua_setfield(L, -2, "_into");
	return 1;
}
