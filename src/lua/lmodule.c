/* lmodule.c: the entry point of det/core.so, loaded by a stock lua5.4 when
 * lua/det/init.lua does require "det.core". The detbench program links the
 * same library and preloads det.core instead. */
#include <lua.h>

#include "lua/ldet.h"

int luaopen_det_core(lua_State *L);

int luaopen_det_core(lua_State *L)
{
	return det_lua_open_core(L);
}
