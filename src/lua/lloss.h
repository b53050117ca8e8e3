/* lloss.h: the Lua class of loss configurations ("det.loss"), made by
 * det.loss.focal{...} and friends. The trainer reads the C struct behind a
 * Lua value with lloss_check and calls det_loss_forward/backward on it. */
#ifndef DET_LUA_LLOSS_H
#define DET_LUA_LLOSS_H

#include <lauxlib.h>

#include "det/loss.h"

#define LLOSS_NAME "det.loss"

/* The loss configuration at index arg (borrowed: it lives as long as the
 * Lua value), or raises "det.loss expected". */
struct det_loss *lloss_check(lua_State *L, int arg);
/* Pushes a new loss object of kind with defaults; returns its struct. */
struct det_loss *lloss_push(lua_State *L, enum det_loss_kind kind);

#endif
