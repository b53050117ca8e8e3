/* lsched.c: det.core.sched — schedule objects over src/train/sched: made
 * from a kind and a table of keys (each checked), evaluated with s:lr(step,
 * epoch), fields readable and writable, printable; Lua functions of (step,
 * epoch) wrap into a C schedule that calls back on the Lua thread. */
#include "lua/lsched.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lua/ldet.h"

struct lsched {
	struct sched *s;
};

/* A Lua function held by one or more C schedules (clones share it). */
struct lfn {
	lua_State *L;  /* the main thread: the registry lives there */
	int ref;
	int refs;
};

/* The Lua thread evaluating a schedule right now (s:lr, plot); a Lua
 * function schedule evaluated anywhere else yields NaN. */
static _Thread_local lua_State *current_L;
/* Set when the Lua function failed; its message is on current_L's stack. */
static _Thread_local int fn_failed;

static struct lsched *tolsched(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LSCHED_NAME);
}

struct sched *lsched_check(lua_State *L, int arg)
{
	struct lsched *b = tolsched(L, arg);

	if (!b->s)
		luaL_argerror(L, arg, "schedule is closed");
	return b->s;
}

static int s_gc(lua_State *L)
{
	struct lsched *b = tolsched(L, 1);
	lua_State *saved = current_L;

	current_L = L;
	sched_free(b->s);
	current_L = saved;
	b->s = NULL;
	return 0;
}

static struct lsched *box(lua_State *L)
{
	struct lsched *b = lua_newuserdatauv(L, sizeof *b, 0);

	b->s = NULL;
	luaL_setmetatable(L, LSCHED_NAME);
	return b;
}

static double lfn_call(void *ud, double step, double epoch)
{
	struct lfn *f = ud;
	lua_State *L = current_L;
	double v;
	int isnum;

	if (!L || fn_failed)
		return NAN;
	lua_rawgeti(L, LUA_REGISTRYINDEX, f->ref);
	lua_pushinteger(L, (lua_Integer)step);
	if (isnan(epoch))
		lua_pushnil(L);
	else
		lua_pushnumber(L, epoch);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
		fn_failed = 1;
		return NAN;
	}
	v = lua_tonumberx(L, -1, &isnum);
	if (!isnum) {
		lua_pushfstring(L, "det.sched.fn: the function returned %s at step %d, not a number",
		                luaL_typename(L, -1), (int)step);
		fn_failed = 1;
		return NAN;
	}
	lua_pop(L, 1);
	return v;
}

static void lfn_retain(void *ud)
{
	((struct lfn *)ud)->refs++;
}

static void lfn_free(void *ud)
{
	struct lfn *f = ud;

	if (--f->refs == 0) {
		luaL_unref(current_L ? current_L : f->L, LUA_REGISTRYINDEX, f->ref);
		free(f);
	}
}

/* Applies the table at idx to s: numbers, strings, milestones. */
static void configure(lua_State *L, struct sched *s, int idx)
{
	const char *kind = sched_kind_name(s->kind);

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key;
		int rc;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "det.sched.%s: configuration keys are names, got a %s", kind, luaL_typename(L, -2));
		key = lua_tostring(L, -2);
		if (lua_type(L, -1) == LUA_TNUMBER) {
			rc = sched_set(s, key, lua_tonumber(L, -1));
		} else if (lua_type(L, -1) == LUA_TBOOLEAN && strcmp(key, "cycle_momentum") == 0) {
			rc = sched_set(s, key, lua_toboolean(L, -1));
		} else if (lua_type(L, -1) == LUA_TSTRING) {
			rc = sched_set_str(s, key, lua_tostring(L, -1));
		} else if (lua_istable(L, -1) && strcmp(key, "milestones") == 0) {
			lua_Integer n = luaL_len(L, -1);
			double *m = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *m, 0);
			for (lua_Integer i = 1; i <= n; i++) {
				int isnum;
				lua_geti(L, -2, i);
				m[i - 1] = lua_tonumberx(L, -1, &isnum);
				if (!isnum)
					luaL_error(L, "det.sched.multistep: milestones[%d] is not a number", (int)i);
				lua_pop(L, 1);
			}
			rc = sched_set_milestones(s, m, (size_t)n);
			lua_pop(L, 1);
		} else {
			rc = sched_set(s, key, NAN);   /* names the key, or says what it takes */
			if (rc == 0 || strstr(det_error_message(), "must be"))
				det_error_set(DET_EINVAL, "sched.%s: %s takes a number, not a %s", kind, key,
				              luaL_typename(L, -1));
		}
		if (rc)
			luaL_error(L, "det.%s", det_error_message());
		lua_pop(L, 1);
	}
}

/* sched.new(kind, { key = value, ... }) -> schedule */
static int l_new(lua_State *L)
{
	const char *kind = luaL_checkstring(L, 1);
	int k = sched_kind_parse(kind);
	struct lsched *b;

	if (k < 0 || k == SCHED_WARMUP || k == SCHED_FUNCTION)
		return luaL_error(L, "det.sched: unknown schedule '%s' (valid: constant, step, multistep, exponential, "
		                  "polynomial, cosine, cosine_restarts, cyclic, onecycle; warmup and fn wrap)", kind);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	b = box(L);
	b->s = sched_new((enum sched_kind)k);
	if (!b->s)
		return luaL_error(L, "det.sched.%s: %s", kind, det_error_message());
	if (lua_istable(L, 2))
		configure(L, b->s, 2);
	return 1;
}

/* sched.warmup(s, { steps = n, start = f }) -> a new schedule wrapping a copy of s */
static int l_warmup(lua_State *L)
{
	struct sched *inner = lsched_check(L, 1);
	struct lsched *b;
	struct sched *w;

	luaL_checktype(L, 2, LUA_TTABLE);
	b = box(L);
	w = sched_new(SCHED_WARMUP);
	if (!w)
		return luaL_error(L, "det.sched.warmup: %s", det_error_message());
	b->s = w;
	configure(L, w, 2);
	if (isnan(w->steps))
		return luaL_error(L, "det.sched.warmup: steps is not set (the number of warm-up steps)");
	w->inner = sched_clone(inner);
	if (!w->inner)
		return luaL_error(L, "det.sched.warmup: %s", det_error_message());
	return 1;
}

/* sched.fn(function(step, epoch) return lr end) -> schedule */
static int l_fn(lua_State *L)
{
	struct lsched *b;
	struct lfn *f;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	b = box(L);
	f = malloc(sizeof *f);
	if (!f)
		return luaL_error(L, "det.sched.fn: out of memory");
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	f->L = lua_tothread(L, -1);
	lua_pop(L, 1);
	lua_pushvalue(L, 1);
	f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	f->refs = 1;
	b->s = sched_function_new(lfn_call, lfn_retain, lfn_free, f);
	if (!b->s) {
		lfn_free(f);
		return luaL_error(L, "det.sched.fn: out of memory");
	}
	return 1;
}

/* s:lr(step [, epoch]) -> lr */
static int s_lr(lua_State *L)
{
	struct sched *s = lsched_check(L, 1);
	double step = luaL_checknumber(L, 2);
	double epoch = luaL_optnumber(L, 3, NAN);
	lua_State *saved = current_L;
	double v;

	luaL_argcheck(L, step >= 0, 2, "step must be >= 0");
	if (sched_check(s))
		return luaL_error(L, "det.%s", det_error_message());
	if (s->per_epoch && isnan(epoch))
		return luaL_error(L, "det.sched.%s counts epochs: call s:lr(step, epoch)", sched_kind_name(s->kind));
	current_L = L;
	fn_failed = 0;
	v = sched_lr(s, step, epoch);
	current_L = saved;
	if (fn_failed) {
		fn_failed = 0;
		return lua_error(L);
	}
	lua_pushnumber(L, v);
	return 1;
}

/* s:momentum(step [, epoch]) -> the momentum the schedule sets, or nil */
static int s_momentum(lua_State *L)
{
	struct sched *s = lsched_check(L, 1);
	double m = sched_momentum(s, luaL_checknumber(L, 2), luaL_optnumber(L, 3, NAN));

	if (isnan(m))
		lua_pushnil(L);
	else
		lua_pushnumber(L, m);
	return 1;
}

/* s:bind(lr, steps): fills lr and steps where they were left out */
static int s_bind(lua_State *L)
{
	struct sched *s = lsched_check(L, 1);

	sched_bind(s, luaL_optnumber(L, 2, NAN), luaL_optnumber(L, 3, NAN));
	lua_settop(L, 1);
	return 1;
}

/* s:check() -> true | nil, message */
static int s_check(lua_State *L)
{
	if (sched_check(lsched_check(L, 1))) {
		lua_pushnil(L);
		lua_pushfstring(L, "det.%s", det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* s:copy() -> an independent copy */
static int s_copy(lua_State *L)
{
	struct sched *s = lsched_check(L, 1);
	struct lsched *b = box(L);

	b->s = sched_clone(s);
	if (!b->s)
		return luaL_error(L, "det.sched: %s", det_error_message());
	return 1;
}

static int s_index(lua_State *L)
{
	struct sched *s;
	const char *key = luaL_checkstring(L, 2);
	double v;

	tolsched(L, 1);
	luaL_getmetatable(L, LSCHED_NAME);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, key);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 3);
	s = lsched_check(L, 1);
	if (strcmp(key, "kind") == 0) {
		lua_pushstring(L, sched_kind_name(s->kind));
	} else if (strcmp(key, "inner") == 0 && s->kind == SCHED_WARMUP) {
		struct lsched *b = box(L);
		b->s = sched_clone(s->inner);
		if (!b->s)
			return luaL_error(L, "det.sched: %s", det_error_message());
	} else if (strcmp(key, "milestones") == 0 && s->kind == SCHED_MULTISTEP) {
		lua_createtable(L, (int)s->nmilestones, 0);
		for (size_t i = 0; i < s->nmilestones; i++) {
			lua_pushnumber(L, s->milestones[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else if (strcmp(key, "per") == 0) {
		int per_epoch = 0;
		for (const struct sched *t = s; t; t = t->inner)
			per_epoch |= t->per_epoch;
		lua_pushstring(L, per_epoch ? "epoch" : "step");
	} else if (strcmp(key, "mode") == 0 && s->kind == SCHED_CYCLIC) {
		static const char *const modes[] = { "triangular", "triangular2", "exp_range" };
		lua_pushstring(L, modes[s->mode]);
	} else if (strcmp(key, "anneal") == 0 && s->kind == SCHED_ONECYCLE) {
		lua_pushstring(L, s->anneal == SCHED_ANNEAL_LINEAR ? "linear" : "cos");
	} else if (strcmp(key, "cycle_momentum") == 0 && sched_get(s, key, &v) == 0) {
		lua_pushboolean(L, v != 0);
	} else if (sched_get(s, key, &v) == 0) {
		if (isnan(v))
			lua_pushnil(L);
		else
			lua_pushnumber(L, v);
	} else {
		return luaL_error(L, "det.%s", det_error_message());
	}
	return 1;
}

static int s_newindex(lua_State *L)
{
	struct sched *s = lsched_check(L, 1);

	luaL_checkstring(L, 2);
	lua_newtable(L);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_settable(L, -3);
	configure(L, s, lua_gettop(L));
	return 0;
}

static int s_tostring(lua_State *L)
{
	struct lsched *b = tolsched(L, 1);
	char line[512];

	if (!b->s) {
		lua_pushliteral(L, "<det.sched (closed)>");
		return 1;
	}
	sched_describe(b->s, line, sizeof line);
	lua_pushfstring(L, "<det.sched %s>", line);
	return 1;
}

static const luaL_Reg s_methods[] = {
	{ "lr", s_lr },
	{ "momentum", s_momentum },
	{ "bind", s_bind },
	{ "check", s_check },
	{ "copy", s_copy },
	{ "close", s_gc },
	{ NULL, NULL },
};

static const luaL_Reg s_meta[] = {
	{ "__gc", s_gc },
	{ "__close", s_gc },
	{ "__index", s_index },
	{ "__newindex", s_newindex },
	{ "__tostring", s_tostring },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LSCHED_NAME)) {
		luaL_setfuncs(L, s_meta, 0);
		luaL_newlib(L, s_methods);
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
}

/* keys(kind) -> { "lr", ... } */
static int l_keys(lua_State *L)
{
	int k = sched_kind_parse(luaL_checkstring(L, 1));
	int i = 1;

	luaL_argcheck(L, k >= 0, 1, "unknown schedule");
	lua_newtable(L);
	for (const char *const *key = sched_keys((enum sched_kind)k); *key; key++) {
		lua_pushstring(L, *key);
		lua_rawseti(L, -2, i++);
	}
	return 1;
}

static const luaL_Reg sched_funcs[] = {
	{ "new", l_new },
	{ "warmup", l_warmup },
	{ "fn", l_fn },
	{ "keys", l_keys },
	{ NULL, NULL },
};

int luaopen_det_sched(lua_State *L)
{
	createmeta(L);
	luaL_newlib(L, sched_funcs);
	return 1;
}
