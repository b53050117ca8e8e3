/* lsched.h: the Lua class of learning-rate schedules ("det.sched"), for the
 * bindings that hand a schedule to the trainer. */
#ifndef DET_LUA_LSCHED_H
#define DET_LUA_LSCHED_H

#include <lauxlib.h>

#include "train/sched.h"

#define LSCHED_NAME "det.sched"

/* The schedule at index arg, or raises "det.sched expected". It stays
 * owned by its Lua box: take a sched_clone() for a trainer thread. A
 * schedule with sched_has_function() calls Lua and yields NaN unless it is
 * evaluated through s:lr on the Lua thread. */
struct sched *lsched_check(lua_State *L, int arg);

int luaopen_det_sched(lua_State *L);

#endif
