/* lpin.c: objects that C holds on to cannot be closed under it.
 *
 * A trainer keeps raw pointers to its optimiser, graphs, datasets and
 * detector; a loader to its dataset. Their Lua boxes stay alive while the
 * holder does (the holder's user values reference them), so __gc is safe,
 * but an explicit `opt:close()` or a `local ds <close>` scope ending would
 * free the object under a running thread. Holders pin what they hold; the
 * close methods refuse a pinned object with an error that says who holds
 * it. The counts live in a weak-keyed registry table, so a pin never keeps
 * anything alive by itself. */
#include <lauxlib.h>

#include "lua/ldet.h"

static const char PINS[] = "det.pins";

/* The pin table on the stack top (created once). */
static void pins(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, PINS) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_newtable(L);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, PINS);
	}
}

void lpin_add(lua_State *L, int idx, int delta)
{
	idx = lua_absindex(L, idx);
	if (lua_type(L, idx) != LUA_TUSERDATA)
		return;
	pins(L);
	lua_pushvalue(L, idx);
	lua_Integer n = (lua_rawget(L, -2) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0) + delta;
	lua_pop(L, 1);
	lua_pushvalue(L, idx);
	if (n > 0)
		lua_pushinteger(L, n);
	else
		lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

void lpin_table(lua_State *L, int idx, int delta)
{
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx))
		return;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lpin_add(L, -1, delta);
		lua_pop(L, 1);
	}
}

void lpin_check(lua_State *L, int idx, const char *what, const char *holder)
{
	idx = lua_absindex(L, idx);
	pins(L);
	lua_pushvalue(L, idx);
	int pinned = lua_rawget(L, -2) == LUA_TNUMBER && lua_tointeger(L, -1) > 0;
	lua_pop(L, 2);
	if (pinned)
		luaL_error(L, "%s: still in use by %s, which may be using it on another thread (close that first, "
			"or drop it and let it be collected)", what, holder);
}
