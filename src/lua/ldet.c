/* ldet.c: assembles det.core from the per-module bindings. */
#include "lua/ldet.h"
#include "lua/ldata.h"

#include <lauxlib.h>

static const luaL_Reg submodules[] = {
	{ "base", luaopen_det_base },
	{ "tensor", luaopen_det_tensor },
	{ "nn", luaopen_det_nn },
	{ "data", luaopen_det_data },
	{ "optim", luaopen_det_optim },
	{ "sched", luaopen_det_sched },
	{ "box", luaopen_det_box },
	{ "loss", luaopen_det_loss },
	{ "readers", luaopen_det_readers },
	{ "doctor", luaopen_det_doctor },
	{ "fashion", luaopen_det_fashion }, { "aug", luaopen_det_aug }, { "sample", luaopen_det_sample },
	{ "coco", luaopen_det_coco }, { "eval", luaopen_det_eval },
	{ "inspect", luaopen_det_inspect },
	{ "experiment", luaopen_det_experiment },
	{ "detector", luaopen_det_detector },
	{ "ui", luaopen_det_ui },
	{ NULL, NULL },
};

int det_lua_open_core(lua_State *L)
{
	lua_newtable(L);
	for (const luaL_Reg *m = submodules; m->name; m++) {
		lua_pushcfunction(L, m->func);
		lua_call(L, 0, 1);
		lua_setfield(L, -2, m->name);
	}
	return 1;
}
