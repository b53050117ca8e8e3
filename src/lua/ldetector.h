/* ldetector.h: the Lua class of detectors ("det.detector", made by
 * model:detector{...}). The trainer's binding reads the C struct behind
 * the Lua value and calls detector_train_step / detector_predict on it
 * from its own thread (keep the Lua value reachable meanwhile). */
#ifndef DET_LUA_LDETECTOR_H
#define DET_LUA_LDETECTOR_H

#include <lauxlib.h>

#include "det/detector.h"

#define LDETECTOR_NAME "det.detector"

/* The detector at index arg (borrowed), or raises "det.detector expected". */
struct detector *ldetector_check(lua_State *L, int arg);

#endif
