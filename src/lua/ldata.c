/* ldata.c: det.core.data — the dataset class: length, classes, one image's
 * boxes, printing. Readers, generators and tools add methods to it. */
#include "lua/ldata.h"
#include "lua/ldet.h"

#include <string.h>

static struct ldataset *toldataset(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LDATASET_NAME);
}

struct dataset *ldataset_check(lua_State *L, int arg)
{
	struct ldataset *p = toldataset(L, arg);

	if (p->ds == NULL)
		luaL_argerror(L, arg, "dataset is closed");
	return p->ds;
}

static int ds_gc(lua_State *L)
{
	struct ldataset *p = toldataset(L, 1);

	dataset_free(p->ds);
	p->ds = NULL;
	return 0;
}

/* <close>: not while an experiment or a loader reads the dataset */
static int ds_close(lua_State *L)
{
	lpin_check(L, 1, "dataset <close>", "an experiment or a loader");
	return ds_gc(L);
}

static int ds_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)ldataset_check(L, 1)->nimages);
	return 1;
}

static int ds_tostring(lua_State *L)
{
	struct ldataset *p = toldataset(L, 1);

	if (p->ds == NULL)
		lua_pushliteral(L, "<dataset (closed)>");
	else
		lua_pushfstring(L, "<dataset %s: %d images, %d boxes, %d classes>", p->ds->name,
			(int)p->ds->nimages, (int)p->ds->nboxes, p->ds->nclasses);
	return 1;
}

/* ds:classes() -> { "T-shirt", ... } (1-based; index = class + 1) */
static int ds_classes(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);

	lua_createtable(L, ds->nclasses, 0);
	for (int c = 0; c < ds->nclasses; c++) {
		lua_pushstring(L, ds->class_names[c]);
		lua_rawseti(L, -2, c + 1);
	}
	return 1;
}

/* ds:item(i) -> { id, file, width, height, boxes = { {x0,y0,x1,y1, class=, name=, ...} } } */
static int ds_item(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	lua_Integer i = luaL_checkinteger(L, 2);
	const struct dataset_image *im;
	const struct dataset_box *b;

	luaL_argcheck(L, i >= 1 && (size_t)i <= ds->nimages, 2, "image index out of range");
	im = &ds->images[i - 1];
	b = dataset_image_boxes(ds, (size_t)i - 1);
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, im->id);
	lua_setfield(L, -2, "id");
	if (im->file) {
		lua_pushstring(L, im->file);
		lua_setfield(L, -2, "file");
	}
	lua_pushinteger(L, im->width);
	lua_setfield(L, -2, "width");
	lua_pushinteger(L, im->height);
	lua_setfield(L, -2, "height");
	lua_createtable(L, (int)im->box_count, 0);
	for (size_t k = 0; k < im->box_count; k++) {
		lua_createtable(L, 4, 5);
		lua_pushnumber(L, b[k].x0), lua_rawseti(L, -2, 1);
		lua_pushnumber(L, b[k].y0), lua_rawseti(L, -2, 2);
		lua_pushnumber(L, b[k].x1), lua_rawseti(L, -2, 3);
		lua_pushnumber(L, b[k].y1), lua_rawseti(L, -2, 4);
		lua_pushinteger(L, b[k].cls + 1);
		lua_setfield(L, -2, "class");
		lua_pushstring(L, ds->class_names[b[k].cls]);
		lua_setfield(L, -2, "name");
		lua_pushnumber(L, b[k].area);
		lua_setfield(L, -2, "area");
		lua_pushboolean(L, b[k].iscrowd);
		lua_setfield(L, -2, "iscrowd");
		lua_pushboolean(L, b[k].ignore);
		lua_setfield(L, -2, "ignore");
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
	lua_setfield(L, -2, "boxes");
	return 1;
}

/* ds:report() -> what the reader skipped, clipped and why */
static int ds_report(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);

	lua_createtable(L, 0, 5);
	lua_pushinteger(L, (lua_Integer)ds->report.images_skipped);
	lua_setfield(L, -2, "images_skipped");
	lua_pushinteger(L, (lua_Integer)ds->report.boxes_skipped);
	lua_setfield(L, -2, "boxes_skipped");
	lua_pushinteger(L, (lua_Integer)ds->report.boxes_clipped);
	lua_setfield(L, -2, "boxes_clipped");
	lua_pushinteger(L, (lua_Integer)ds->report.duplicates);
	lua_setfield(L, -2, "duplicates");
	if (ds->report.first_problem[0]) {
		lua_pushstring(L, ds->report.first_problem);
		lua_setfield(L, -2, "first_problem");
	}
	return 1;
}

/* No ds:close(): loaders, samplers and running experiments point into the
 * dataset (their Lua objects keep it reachable), so only the collector
 * knows when it may go; a close under a loader's workers freed their
 * images mid-read. */
static const luaL_Reg ds_methods[] = {
	{ "classes", ds_classes },
	{ "item", ds_item },
	{ "report", ds_report },
	{ NULL, NULL },
};

static const luaL_Reg ds_meta[] = {
	{ "__gc", ds_gc },
	{ "__close", ds_close },
	{ "__len", ds_len },
	{ "__tostring", ds_tostring },
	{ NULL, NULL },
};

/* Creates the metatable once per state; its __index is the method table. */
static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LDATASET_NAME)) {
		luaL_setfuncs(L, ds_meta, 0);
		luaL_newlib(L, ds_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}

void ldataset_add_methods(lua_State *L, const luaL_Reg *methods)
{
	createmeta(L);
	luaL_getmetatable(L, LDATASET_NAME);
	lua_getfield(L, -1, "__index");
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 2);
}

struct ldataset *ldataset_box(lua_State *L)
{
	struct ldataset *p = lua_newuserdatauv(L, sizeof *p, 1);

	p->ds = NULL;
	createmeta(L);
	luaL_setmetatable(L, LDATASET_NAME);
	return p;
}

static int push_protected(lua_State *L)
{
	ldataset_box(L);
	return 1;
}

void ldataset_push(lua_State *L, struct dataset *ds)
{
	lua_pushcfunction(L, push_protected);
	if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
		dataset_free(ds);
		lua_error(L);
	}
	((struct ldataset *)lua_touserdata(L, -1))->ds = ds;
}

int luaopen_det_data(lua_State *L)
{
	createmeta(L);
	lua_newtable(L);
	return 1;
}
