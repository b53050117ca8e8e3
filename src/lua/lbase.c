/* lbase.c: det.core.base — version, thread count, build facts. */
#include <lauxlib.h>

#include "config.h"
#include "core/threads.h"
#include "lua/ldet.h"

/* det.threads([n]) -> n: reads or sets the compute thread count. */
static int l_threads(lua_State *L)
{
	if (!lua_isnoneornil(L, 1)) {
		lua_Integer n = luaL_checkinteger(L, 1);

		luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be between 1 and 1024");
		det_threads_set((int)n);
	}
	lua_pushinteger(L, det_threads_get());
	return 1;
}

static const luaL_Reg base_funcs[] = {
	{ "threads", l_threads },
	{ NULL, NULL },
};

int luaopen_det_base(lua_State *L)
{
	luaL_newlib(L, base_funcs);
	lua_pushstring(L, PACKAGE_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushstring(L, det_blas_corename());
	lua_setfield(L, -2, "blas_core");
	lua_pushstring(L, DET_DOCDIR);
	lua_setfield(L, -2, "docdir");
	return 1;
}
