/* lexperiment.h: the Lua class of trainers ("det.trainer", made by
 * det.core.experiment.new and wrapped by det.experiment{...}); `detbench
 * run` reads the C trainer behind a recipe's experiment. */
#ifndef DET_LUA_LEXPERIMENT_H
#define DET_LUA_LEXPERIMENT_H

#include <lauxlib.h>

struct trainer;

/* The trainer at index arg (borrowed: it lives as long as the Lua value),
 * or raises "det.trainer expected". */
struct trainer *lexperiment_trainer(lua_State *L, int arg);

#endif
