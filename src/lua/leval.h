/* leval.h: what other bindings need of the evaluation result class
 * ("det.eval.result", src/lua/leval.c): pushing a result made in C (the
 * trainer's exp:eval()) and borrowing the parts of one (the inspector). */
#ifndef DET_LUA_LEVAL_H
#define DET_LUA_LEVAL_H

#include <lua.h>

#include "eval/coco_eval.h"

#define LEVAL_RESULT_NAME "det.eval.result"

/* Pushes a result object that takes ownership of gt, dets and r (freed by
 * its __gc). */
void leval_push_result(lua_State *L, struct eval_gt *gt, struct eval_dets *dets, struct eval_result *r);

/* The result at index arg (raises when it is not one or is closed); the
 * pointers stay valid while the result is reachable and not closed. */
void leval_check(lua_State *L, int arg, const struct eval_gt **gt, const struct eval_dets **dets,
	const struct eval_result **r);

#endif
