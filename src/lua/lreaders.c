/* lreaders.c: det.core.readers — det.data.voc{...}, det.data.yolo{...} and
 * det.data.open(path): read a dataset into a det.dataset object. Expected
 * failures (no such folder, a broken YAML) return nil, message; problems in
 * single records are printed (the first 10 and a one-line summary) unless
 * quiet = true, and stay countable through ds:report(). */
#include <lauxlib.h>
#include <string.h>

#include "core/error.h"
#include "data/doctor.h"
#include "data/voc.h"
#include "data/yolo.h"
#include "lua/ldata.h"
#include "lua/ldet.h"

#define SHOWN 10

/* What the reader said, kept until the read is over (no Lua inside). */
struct problem_log {
	char first[SHOWN][512];
	size_t n;
};

static void log_problem(void *ctx, const char *msg)
{
	struct problem_log *log = ctx;

	if (log->n < SHOWN)
		snprintf(log->first[log->n], sizeof log->first[0], "%s", msg);
	log->n++;
}

/* Raises on an option key that is not in allowed (a NULL-terminated list). */
static void check_keys(lua_State *L, int t, const char *fname, const char *const *allowed, const char *list)
{
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		int known = 0;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			for (const char *const *a = allowed; *a && !known; a++)
				known = strcmp(lua_tostring(L, -1), *a) == 0;
		if (!known)
			luaL_error(L, "%s: unknown option '%s' (expected %s)", fname, luaL_tolstring(L, -1, NULL), list);
	}
}

static const char *opt_string(lua_State *L, int t, const char *key, const char *fname)
{
	const char *s;

	lua_getfield(L, t, key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "%s: option '%s' must be a string, got %s", fname, key, luaL_typename(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays alive: the options table holds it */
	return s;
}

static int opt_bool(lua_State *L, int t, const char *key)
{
	int v;

	lua_getfield(L, t, key);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* After a read: nil, message on failure; else prints the problems (unless
 * quiet) and pushes the dataset. */
static int finish(lua_State *L, const char *fname, int rc, struct dataset *ds,
	const struct problem_log *log, int quiet)
{
	char line[700];

	if (rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	ldataset_push(L, ds);
	if (quiet || log->n == 0)
		return 1;
	for (size_t k = 0; k < log->n && k < SHOWN; k++) {
		lua_getglobal(L, "print");
		lua_pushfstring(L, "%s: %s", fname, log->first[k]);
		lua_call(L, 1, 0);
	}
	doctor_reader_summary(ds, 0, line, sizeof line);
	lua_getglobal(L, "print");
	lua_pushfstring(L, "%s: %s: %d images, %d boxes; %s%s", fname, ds->name, (int)ds->nimages,
		(int)ds->nboxes, line, log->n > SHOWN ? " (the first 10 problems are shown)" : "");
	lua_call(L, 1, 0);
	return 1;
}

/* det.data.voc{ root =, split =, classes =, difficult = "ignore"|"skip", keep_missing =, quiet = } */
static int l_voc(lua_State *L)
{
	static const char *const keys[] = { "root", "split", "classes", "difficult", "keep_missing", "quiet", NULL };
	struct voc_options opt = { 0 };
	struct problem_log *log;
	struct dataset *ds = NULL;
	const char *root, *difficult;
	int rc;

	if (lua_type(L, 1) == LUA_TSTRING) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 1);
		lua_setfield(L, -2, "root");
		lua_replace(L, 1);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_keys(L, 1, "det.data.voc", keys, "root, split, classes, difficult, keep_missing, quiet");
	root = opt_string(L, 1, "root", "det.data.voc");
	if (root == NULL)
		return luaL_error(L, "det.data.voc: expected root = \"path/to/VOC2007\"");
	opt.split = opt_string(L, 1, "split", "det.data.voc");
	difficult = opt_string(L, 1, "difficult", "det.data.voc");
	if (difficult && strcmp(difficult, "skip") != 0 && strcmp(difficult, "ignore") != 0)
		return luaL_error(L, "det.data.voc: difficult must be \"ignore\" or \"skip\", got \"%s\"", difficult);
	opt.skip_difficult = difficult && strcmp(difficult, "skip") == 0;
	opt.keep_missing = opt_bool(L, 1, "keep_missing");
	lua_getfield(L, 1, "classes"); /* index 2 */
	if (lua_type(L, 2) == LUA_TSTRING) {
		const char *mode = lua_tostring(L, 2);

		if (strcmp(mode, "voc") == 0)
			opt.classes = VOC_CLASSES_VOC;
		else if (strcmp(mode, "discover") == 0)
			opt.classes = VOC_CLASSES_DISCOVER;
		else
			return luaL_error(L, "det.data.voc: classes must be a list of names, \"voc\" or \"discover\", got \"%s\"", mode);
	} else if (lua_type(L, 2) == LUA_TTABLE) {
		lua_Integer n = luaL_len(L, 2);
		const char **names;

		if (n < 1 || n > 100000)
			return luaL_error(L, "det.data.voc: classes must list at least one name");
		names = lua_newuserdatauv(L, (size_t)n * sizeof *names, 0); /* index 3, freed by the GC */
		for (lua_Integer i = 1; i <= n; i++) {
			if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
				return luaL_error(L, "det.data.voc: classes[%d] must be a string", (int)i);
			names[i - 1] = lua_tostring(L, -1);
			lua_pop(L, 1); /* still referenced by the classes table */
		}
		opt.classes = VOC_CLASSES_LIST;
		opt.names = names;
		opt.nnames = (int)n;
	} else if (!lua_isnil(L, 2)) {
		return luaL_error(L, "det.data.voc: classes must be a list of names, \"voc\" or \"discover\"");
	}
	log = lua_newuserdatauv(L, sizeof *log, 0);
	log->n = 0;
	opt.warn = log_problem;
	opt.warn_ctx = log;
	rc = voc_read(root, &opt, &ds);
	return finish(L, "det.data.voc", rc, ds, log, opt_bool(L, 1, "quiet"));
}

/* det.data.yolo{ images =, labels =, names =, data =, split =, quiet = } */
static int l_yolo(lua_State *L)
{
	static const char *const keys[] = { "images", "labels", "names", "data", "split", "quiet", NULL };
	struct yolo_options opt = { 0 };
	struct problem_log *log;
	struct dataset *ds = NULL;
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_keys(L, 1, "det.data.yolo", keys, "images, labels, names, data, split, quiet");
	opt.images = opt_string(L, 1, "images", "det.data.yolo");
	opt.labels = opt_string(L, 1, "labels", "det.data.yolo");
	opt.names = opt_string(L, 1, "names", "det.data.yolo");
	opt.data = opt_string(L, 1, "data", "det.data.yolo");
	opt.split = opt_string(L, 1, "split", "det.data.yolo");
	if (opt.images == NULL && opt.data == NULL)
		return luaL_error(L, "det.data.yolo: expected images = \"dir/\" (or a .txt list) or data = \"data.yaml\"");
	log = lua_newuserdatauv(L, sizeof *log, 0);
	log->n = 0;
	opt.warn = log_problem;
	opt.warn_ctx = log;
	rc = yolo_read(&opt, &ds);
	return finish(L, "det.data.yolo", rc, ds, log, opt_bool(L, 1, "quiet"));
}

/* det.data.open(path [, { split =, images =, quiet = }]): the format told from the path */
static int l_open(lua_State *L)
{
	static const char *const keys[] = { "split", "images", "quiet", NULL };
	const char *path = luaL_checkstring(L, 1);
	struct doctor_open_options opt = { 0 };
	struct problem_log *log;
	struct dataset *ds = NULL;
	const char *format;
	int quiet = 0, rc;

	lua_settop(L, 2);
	if (!lua_isnil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		check_keys(L, 2, "det.data.open", keys, "split, images, quiet");
		opt.split = opt_string(L, 2, "split", "det.data.open");
		opt.images = opt_string(L, 2, "images", "det.data.open");
		quiet = opt_bool(L, 2, "quiet");
	}
	log = lua_newuserdatauv(L, sizeof *log, 0);
	log->n = 0;
	opt.warn = log_problem;
	opt.warn_ctx = log;
	rc = doctor_open(path, &opt, &ds, &format);
	return finish(L, "det.data.open", rc, ds, log, quiet);
}

static const luaL_Reg readers_funcs[] = {
	{ "voc", l_voc },
	{ "yolo", l_yolo },
	{ "open", l_open },
	{ NULL, NULL },
};

int luaopen_det_readers(lua_State *L)
{
	luaL_newlib(L, readers_funcs);
	lua_createtable(L, 20, 0);
	for (int c = 0; c < 20; c++) {
		lua_pushstring(L, voc_class_names[c]);
		lua_rawseti(L, -2, c + 1);
	}
	lua_setfield(L, -2, "voc_classes");
	return 1;
}
