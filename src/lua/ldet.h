/* ldet.h: the C half of the `det` Lua module ("det.core").
 * lua/det/init.lua requires it and builds the public `det` table on top. */
#ifndef DET_LUA_LDET_H
#define DET_LUA_LDET_H

#include <lua.h>

/* Opens det.core: a table with one sub-table per C module (core, nn, det,
 * data, eval, train, ui), each made by that module's luaopen_det_<module>. */
int det_lua_open_core(lua_State *L);

/* One luaopen per binding file (src/lua/l<module>.c). */
int luaopen_det_base(lua_State *L);
int luaopen_det_tensor(lua_State *L);
int luaopen_det_nn(lua_State *L);
int luaopen_det_optim(lua_State *L);
int luaopen_det_sched(lua_State *L);
int luaopen_det_box(lua_State *L);
int luaopen_det_loss(lua_State *L);
int luaopen_det_readers(lua_State *L);
int luaopen_det_doctor(lua_State *L);
int luaopen_det_fashion(lua_State *L), luaopen_det_aug(lua_State *L), luaopen_det_sample(lua_State *L);

int luaopen_det_coco(lua_State *L), luaopen_det_eval(lua_State *L);
int luaopen_det_inspect(lua_State *L);
int luaopen_det_experiment(lua_State *L);
int luaopen_det_detector(lua_State *L);
int luaopen_det_ui(lua_State *L);

/* Pins (src/lua/lpin.c): a C object holding another's pointer pins its box;
 * close methods refuse a pinned box. lpin_add changes the count of the
 * userdata at idx (other values are ignored), lpin_table that of every value
 * of the table at idx; lpin_check raises "<what>: still in use by <holder>". */
void lpin_add(lua_State *L, int idx, int delta);
void lpin_table(lua_State *L, int idx, int delta);
void lpin_check(lua_State *L, int idx, const char *what, const char *holder);
#endif
