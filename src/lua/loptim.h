/* loptim.h: the Lua class of optimisers ("det.optim"), for the bindings
 * that bind one to a model's parameter slab (the engine, the trainer). */
#ifndef DET_LUA_LOPTIM_H
#define DET_LUA_LOPTIM_H

#include <lauxlib.h>

#include "nn/optim.h"

#define LOPTIM_NAME "det.optim"

/* The optimiser at index arg, or raises "det.optim expected". The object
 * stays owned by its Lua box: keep the box reachable (e.g. in the
 * experiment's table or the model's uservalue) while the C side uses it.
 * Once a model is bound (optim_bind), opt:step(table, table) refuses to
 * rebind it; loptim_release_arrays frees the slabs such calls made. */
struct optim *loptim_check(lua_State *L, int arg);
void loptim_release_arrays(lua_State *L, int arg);

int luaopen_det_optim(lua_State *L);

#endif
