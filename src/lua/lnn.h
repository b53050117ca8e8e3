/* lnn.h: the Lua class of compute graphs ("det.graph"), for bindings that
 * work on a model built in Lua (the optimiser binds to its slabs, the
 * trainer runs its forward and backward, losses read its outputs). */
#ifndef DET_LUA_LNN_H
#define DET_LUA_LNN_H

#include <lauxlib.h>

#include "nn/graph.h"

#define LGRAPH_NAME "det.graph"

/* The graph at index arg, or raises "det.graph expected". Its store
 * (nn_graph_store) holds the parameter, gradient and statistics slabs. */
struct nn_graph *lgraph_check(lua_State *L, int arg);

int luaopen_det_nn(lua_State *L);

#endif
