/* lcoco.c: det.core.coco — COCO JSON in and out of Lua: read{} makes a
 * det.dataset (det.data.coco), ds:export_coco(dir) writes one out. */
#include <lauxlib.h>
#include <string.h>

#include "core/error.h"
#include "data/coco.h"
#include "lua/ldata.h"
#include "lua/ldet.h"

static const char *opt_string(lua_State *L, int t, const char *key)
{
	const char *s;

	lua_getfield(L, t, key);
	s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
	lua_pop(L, 1);
	return s;
}

static int opt_bool(lua_State *L, int t, const char *key)
{
	int b;

	lua_getfield(L, t, key);
	b = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return b;
}

/* det.data.coco{ annotations = "instances.json", images = "dir/",
 *   check_files = false, quiet = false } -> dataset | nil, message */
static int l_read(lua_State *L)
{
	struct coco_read_options opt = { 0 };
	const char *ann;
	struct ldataset *box;
	struct dataset *ds = NULL;

	luaL_checktype(L, 1, LUA_TTABLE);
	ann = opt_string(L, 1, "annotations");
	luaL_argcheck(L, ann != NULL, 1, "annotations = \"FILE.json\" expected");
	opt.image_root = opt_string(L, 1, "images");
	opt.check_files = opt_bool(L, 1, "check_files");
	opt.quiet = opt_bool(L, 1, "quiet");
	box = ldataset_box(L);
	if (coco_read_opts(ann, &opt, &ds) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	box->ds = ds;
	return 1;
}

/* ds:export_coco(dir) -> true | nil, message: DIR/annotations.json, and
 * DIR/images/NNNNNN.png for a generated dataset. */
static int l_export(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	const char *dir = luaL_checkstring(L, 2);

	if (coco_export(ds, dir) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* core.coco._write(ds, "file.json") -> true | nil, message (the JSON alone) */
static int l_write(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	const char *path = luaL_checkstring(L, 2);

	if (coco_write(ds, path) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg ds_methods[] = {
	{ "export_coco", l_export },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "coco", l_read },      /* det.data.coco (lua/det/data.lua merges this table) */
	{ "_write", l_write },
	{ NULL, NULL },
};

int luaopen_det_coco(lua_State *L)
{
	ldataset_add_methods(L, ds_methods);
	luaL_newlib(L, funcs);
	return 1;
}
