/* ldata.h: the Lua class of datasets ("det.dataset"), shared by every
 * binding that makes or uses one (fashion scenes, COCO, VOC, YOLO, doctor,
 * export, augmentation). Each binding adds its own methods to the class with
 * ldataset_add_methods, so no file lists them all. */
#ifndef DET_LUA_LDATA_H
#define DET_LUA_LDATA_H

#include <lauxlib.h>

#include "data/dataset.h"

#define LDATASET_NAME "det.dataset"

/* The Lua-side box: the C dataset plus a slot for per-binding state. */
struct ldataset {
	struct dataset *ds; /* owned; NULL once closed */
};

/* Pushes an empty dataset object (ds == NULL) and returns its box: make the
 * box first, then the dataset, and store it in box->ds, so an error in
 * between leaks nothing (the liolib.c pattern). */
struct ldataset *ldataset_box(lua_State *L);
/* Pushes a dataset object owning ds. If Lua cannot allocate the box, ds is
 * freed before the error propagates. */
void ldataset_push(lua_State *L, struct dataset *ds);
/* The dataset at index arg, or raises "dataset expected". */
struct dataset *ldataset_check(lua_State *L, int arg);
/* Adds methods (callable as ds:name(...)) to the dataset class. */
void ldataset_add_methods(lua_State *L, const luaL_Reg *methods);

int luaopen_det_data(lua_State *L);

#endif
