/* lsample.c: det.core.sample — ds:sampler(spec) builds a sampler (data/
 * sampler.h) from a spec made by det.sample.* (lua/det/sample.lua) and keeps
 * it with the dataset for the loader. A weights function is called here,
 * once per image on the calling thread; workers only see the array. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/sampler.h"
#include "lua/laug.h"
#include "lua/ldet.h"
#include "lua/ldata.h"

#define SAMPLER_NAME "det.sampler"

struct lsampler {
	struct sampler *s;
};

static struct sampler *checksampler(lua_State *L, int idx)
{
	struct lsampler *p = luaL_checkudata(L, idx, SAMPLER_NAME);

	if (p->s == NULL)
		luaL_argerror(L, idx, "sampler is closed");
	return p->s;
}

const struct sampler *lsample_dataset_sampler(lua_State *L, int idx)
{
	struct lsampler *p;

	ldataset_state(L, idx);
	lua_getfield(L, -1, "sampler");
	p = luaL_testudata(L, -1, SAMPLER_NAME);
	lua_pop(L, 2);
	return p ? p->s : NULL;
}

static int sampler_gc(lua_State *L)
{
	struct lsampler *p = luaL_checkudata(L, 1, SAMPLER_NAME);

	sampler_free(p->s);
	p->s = NULL;
	return 0;
}

/* <close>: not while an experiment holds it */
static int sampler_gc_close(lua_State *L)
{
	lpin_check(L, 1, "sampler <close>", "an experiment or a loader");
	return sampler_gc(L);
}

static const char *const kind_names[] = { "sequential", "shuffle", "repeat_factor", "class_aware", "weights", NULL };

/* Calls fn(ds:item(i), i) for every image; leaves nothing on the stack. */
static float *eval_weights(lua_State *L, int ds_idx, int fn_idx, size_t n)
{
	float *w = lua_newuserdatauv(L, sizeof(float) * (n ? n : 1), 0); /* freed by Lua if fn raises */

	for (size_t i = 0; i < n; i++) {
		lua_pushvalue(L, fn_idx);
		lua_getfield(L, ds_idx, "item");
		lua_pushvalue(L, ds_idx);
		lua_pushinteger(L, (lua_Integer)i + 1);
		lua_call(L, 2, 1);
		lua_pushinteger(L, (lua_Integer)i + 1);
		lua_call(L, 2, 1);
		if (!lua_isnumber(L, -1))
			luaL_error(L, "det.sample.weights: the function returned %s for image %d, expected a number",
				luaL_typename(L, -1), (int)i + 1);
		w[i] = (float)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	return w;
}

/* ds:sampler(spec) -> sampler; ds:sampler() -> the current one or nil; ds:sampler(false) clears. */
static int ds_sampler(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	struct sampler_config cfg;
	struct lsampler *p;
	const float *w = NULL;
	int kind;

	if (lua_gettop(L) < 2) {
		ldataset_state(L, 1);
		lua_getfield(L, -1, "sampler");
		return 1;
	}
	if (lua_isnil(L, 2) || (lua_isboolean(L, 2) && !lua_toboolean(L, 2))) {
		ldataset_state(L, 1);
		lua_pushnil(L);
		lua_setfield(L, -2, "sampler");
		lua_settop(L, 1);
		return 1;
	}
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "kind");
	kind = luaL_checkoption(L, -1, NULL, kind_names);
	lua_pop(L, 1);
	sampler_config_default(&cfg, (enum sampler_kind)kind);
	lua_getfield(L, 2, "threshold");
	if (!lua_isnil(L, -1))
		cfg.threshold = (float)luaL_checknumber(L, -1);
	lua_getfield(L, 2, "shuffle");
	if (!lua_isnil(L, -1))
		cfg.shuffle = lua_toboolean(L, -1);
	lua_getfield(L, 2, "num_samples");
	if (!lua_isnil(L, -1)) {
		lua_Integer n = luaL_checkinteger(L, -1);

		luaL_argcheck(L, n >= 0, 2, "num_samples must be >= 0");
		cfg.num_samples = (size_t)n;
	}
	lua_pop(L, 3);
	if (kind == SAMPLER_WEIGHTS) {
		lua_getfield(L, 2, "fn");
		luaL_argcheck(L, lua_isfunction(L, -1), 2, "det.sample.weights needs a function");
		w = eval_weights(L, 1, lua_gettop(L), ds->nimages);
	}
	p = lua_newuserdatauv(L, sizeof *p, 0);
	p->s = NULL;
	luaL_setmetatable(L, SAMPLER_NAME);
	p->s = sampler_new(ds, &cfg, w);
	if (p->s == NULL)
		return luaL_error(L, "ds:sampler: %s", det_error_message());
	ldataset_state(L, 1);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "sampler");
	lua_pop(L, 1);
	return 1;
}

/* sampler:epoch(e [, seed]) -> { 1-based image indices } (e counts from 0) */
static int s_epoch(lua_State *L)
{
	struct sampler *s = checksampler(L, 1);
	lua_Integer e = luaL_optinteger(L, 2, 0), seed = luaL_optinteger(L, 3, 1);
	size_t *order, n;

	if (sampler_epoch(s, (uint64_t)seed, e, &order, &n) < 0)
		return luaL_error(L, "sampler:epoch: %s", det_error_message());
	lua_createtable(L, (int)n, 0);
	for (size_t k = 0; k < n; k++) {
		lua_pushinteger(L, (lua_Integer)order[k] + 1);
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
	free(order);
	return 1;
}

static size_t check_image(lua_State *L, struct sampler *s, int arg)
{
	lua_Integer i = luaL_checkinteger(L, arg);

	luaL_argcheck(L, i >= 1 && (size_t)i <= sampler_size(s), arg, "image index out of range");
	return (size_t)i - 1;
}

static int s_repeat_factor(lua_State *L)
{
	struct sampler *s = checksampler(L, 1);

	lua_pushnumber(L, sampler_repeat_factor(s, check_image(L, s, 2)));
	return 1;
}

static int s_class_repeat_factor(lua_State *L)
{
	struct sampler *s = checksampler(L, 1);

	lua_pushnumber(L, sampler_class_repeat_factor(s, (int)luaL_checkinteger(L, 2) - 1));
	return 1;
}

static int s_probability(lua_State *L)
{
	struct sampler *s = checksampler(L, 1);

	lua_pushnumber(L, sampler_probability(s, check_image(L, s, 2)));
	return 1;
}

static int s_kind(lua_State *L)
{
	lua_pushstring(L, sampler_kind_name(sampler_kind(checksampler(L, 1))));
	return 1;
}

static int s_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)sampler_size(checksampler(L, 1)));
	return 1;
}

static int s_tostring(lua_State *L)
{
	struct lsampler *p = luaL_checkudata(L, 1, SAMPLER_NAME);

	if (p->s == NULL)
		lua_pushliteral(L, "<sampler (closed)>");
	else
		lua_pushfstring(L, "<sampler %s over %d images>", sampler_kind_name(sampler_kind(p->s)), (int)sampler_size(p->s));
	return 1;
}

static const luaL_Reg s_methods[] = {
	{ "epoch", s_epoch },
	{ "repeat_factor", s_repeat_factor },
	{ "class_repeat_factor", s_class_repeat_factor },
	{ "probability", s_probability },
	{ "kind", s_kind },
	{ NULL, NULL },
};

static const luaL_Reg s_meta[] = {
	{ "__gc", sampler_gc },
	{ "__close", sampler_gc_close },
	{ "__len", s_len },
	{ "__tostring", s_tostring },
	{ NULL, NULL },
};

static const luaL_Reg ds_methods[] = {
	{ "sampler", ds_sampler },
	{ NULL, NULL },
};

int luaopen_det_sample(lua_State *L)
{
	if (luaL_newmetatable(L, SAMPLER_NAME)) {
		luaL_setfuncs(L, s_meta, 0);
		luaL_newlib(L, s_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	ldataset_add_methods(L, ds_methods);
	lua_createtable(L, 0, 1);
	lua_createtable(L, 5, 0);
	for (int k = 0; kind_names[k]; k++) {
		lua_pushstring(L, kind_names[k]);
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "kinds");
	return 1;
}
