/* ltensor.h: the Lua class of tensors ("det.tensor"), shared by every
 * binding that hands tensors to Lua or takes them (nn, losses, data). */
#ifndef DET_LUA_LTENSOR_H
#define DET_LUA_LTENSOR_H

#include <lauxlib.h>

#include "core/tensor.h"

#define LTENSOR_NAME "det.tensor"

/* The tensor at index arg, or raises "det.tensor expected". */
struct tensor *ltensor_check(lua_State *L, int arg);
/* The tensor at index arg, or NULL when it is not one. */
struct tensor *ltensor_test(lua_State *L, int arg);
/* Pushes a tensor object owning t (freed with the object). If t is NULL
 * (a failed allocation) raises det_error_message(). */
void ltensor_push(lua_State *L, struct tensor *t);
/* Pushes a tensor object owning t whose memory belongs to the Lua value at
 * index owner (a graph, another tensor): the object keeps it alive. */
void ltensor_push_borrowed(lua_State *L, struct tensor *t, int owner);
/* Reads a shape { d1, d2, ... } (1 to 5 positive integers) at index arg;
 * returns ndim, raises on misuse. */
int ltensor_checkshape(lua_State *L, int arg, int64_t *shape);
/* Pushes a shape as a Lua array. */
void ltensor_pushshape(lua_State *L, int ndim, const int64_t *shape);

int luaopen_det_tensor(lua_State *L);

#endif
