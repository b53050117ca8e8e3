/* lbox.c: det.core.box — the IoU family and NMS on Lua tables of boxes,
 * over src/det/box.h and src/det/nms.h. Boxes are {x0, y0, x1, y1}. */
#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "det/box.h"
#include "det/nms.h"
#include "lua/ldet.h"

/* Reads a box {x0,y0,x1,y1} or an array of them at idx into a float buffer
 * owned by a userdata pushed on the stack; *single says which it was. */
static float *read_boxes(lua_State *L, int idx, const char *what, size_t *n, int *single)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	size_t len = (size_t)luaL_len(L, idx);

	lua_geti(L, idx, 1);
	*single = lua_type(L, -1) == LUA_TNUMBER;
	lua_pop(L, 1);
	*n = *single ? 1 : len;
	float *v = lua_newuserdatauv(L, (*n * 4 + 1) * sizeof(float), 0);
	for (size_t i = 0; i < *n; i++) {
		if (!*single) {
			lua_geti(L, idx, (lua_Integer)i + 1);
			if (!lua_istable(L, -1) || luaL_len(L, -1) != 4)
				luaL_error(L, "%s[%d] must be a box {x0, y0, x1, y1}", what, (int)i + 1);
		} else if (len != 4) {
			luaL_error(L, "%s must be a box {x0, y0, x1, y1} or an array of boxes", what);
		}
		int t = lua_gettop(L);
		for (int k = 0; k < 4; k++) {
			lua_geti(L, *single ? idx : t, k + 1);
			if (lua_type(L, -1) != LUA_TNUMBER)
				luaL_error(L, "%s[%d][%d] must be a number", what, (int)i + 1, k + 1);
			v[4 * i + k] = (float)lua_tonumber(L, -1);
			lua_pop(L, 1);
		}
		if (!*single)
			lua_pop(L, 1);
	}
	return v;
}

/* core.box.iou(a, b [, kind]) -> number for two boxes, else an n x m matrix. */
static int l_iou(lua_State *L)
{
	const char *kname = luaL_optstring(L, 3, "iou");
	int kind = det_iou_kind_parse(kname);
	size_t n, m;
	int sa, sb;

	if (kind < 0)
		return luaL_argerror(L, 3, lua_pushfstring(L, "unknown IoU kind '%s'", kname));
	const float *a = read_boxes(L, 1, "a", &n, &sa);
	const float *b = read_boxes(L, 2, "b", &m, &sb);
	float *out = lua_newuserdatauv(L, (n * m + 1) * sizeof(float), 0);
	det_box_iou_matrix(kind, a, n, b, m, DET_BOX_EPS, out);
	if (sa && sb) {
		lua_pushnumber(L, out[0]);
		return 1;
	}
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, (int)m, 0);
		for (size_t j = 0; j < m; j++) {
			lua_pushnumber(L, out[i * m + j]);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* core.box.nms(boxes, scores, iou, opts) -> keep (1-based), kept scores.
 * opts: classes, method, sigma, score_threshold, max_dets; unknown keys raise. */
static int l_nms(lua_State *L)
{
	static const char *const keys[] = { "classes", "method", "sigma", "score_threshold",
		"max_dets", NULL };
	struct det_nms_opts o;
	size_t n;
	int single;

	det_nms_opts_init(&o);
	lua_settop(L, 4);
	const float *boxes = read_boxes(L, 1, "boxes", &n, &single);
	if (single)
		return luaL_argerror(L, 1, "an array of boxes expected");
	luaL_checktype(L, 2, LUA_TTABLE);
	if ((size_t)luaL_len(L, 2) != n)
		return luaL_error(L, "nms: %d boxes but %d scores", (int)n, (int)luaL_len(L, 2));
	o.iou_threshold = (float)luaL_optnumber(L, 3, 0.5);
	float *scores = lua_newuserdatauv(L, (n + 1) * sizeof(float), 0);
	for (size_t i = 0; i < n; i++) {
		lua_geti(L, 2, (lua_Integer)i + 1);
		if (lua_type(L, -1) != LUA_TNUMBER)
			return luaL_error(L, "nms: scores[%d] must be a number", (int)i + 1);
		scores[i] = (float)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	int *classes = NULL;
	if (!lua_isnil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 4)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
			int known = 0;

			for (int i = 0; keys[i]; i++)
				known |= strcmp(k, keys[i]) == 0;
			if (!known)
				return luaL_error(L, "nms: unknown option '%s' (options: classes, method, "
					"sigma, score_threshold, max_dets)", k);
			lua_pop(L, 1);
		}
		if (lua_getfield(L, 4, "method") != LUA_TNIL) {
			const char *m = luaL_checkstring(L, -1);
			int method = det_nms_method_parse(m);

			if (method < 0)
				return luaL_error(L, "nms: unknown method '%s' (greedy, soft_linear, "
					"soft_gaussian, diou)", m);
			o.method = method;
		}
		if (lua_getfield(L, 4, "sigma") != LUA_TNIL)
			o.sigma = (float)luaL_checknumber(L, -1);
		if (lua_getfield(L, 4, "score_threshold") != LUA_TNIL)
			o.score_threshold = (float)luaL_checknumber(L, -1);
		if (lua_getfield(L, 4, "max_dets") != LUA_TNIL)
			o.max_dets = (int)luaL_checkinteger(L, -1);
		lua_pop(L, 4);
		if (lua_getfield(L, 4, "classes") != LUA_TNIL) {
			int ct = lua_gettop(L);

			luaL_checktype(L, ct, LUA_TTABLE);
			if ((size_t)luaL_len(L, ct) != n)
				return luaL_error(L, "nms: %d boxes but %d classes", (int)n, (int)luaL_len(L, ct));
			classes = lua_newuserdatauv(L, (n + 1) * sizeof(int), 0);
			/* any integers: shift so the smallest is 0 */
			lua_Integer lo = 0;
			for (size_t i = 0; i < n; i++) {
				lua_geti(L, ct, (lua_Integer)i + 1);
				if (!lua_isinteger(L, -1))
					return luaL_error(L, "nms: classes[%d] must be an integer", (int)i + 1);
				lua_Integer c = lua_tointeger(L, -1);
				if (i == 0 || c < lo)
					lo = c;
				lua_pop(L, 1);
			}
			for (size_t i = 0; i < n; i++) {
				lua_geti(L, ct, (lua_Integer)i + 1);
				lua_Integer c = lua_tointeger(L, -1) - lo;
				if (c > 1 << 24)
					return luaL_error(L, "nms: class ids span more than 2^24");
				classes[i] = (int)c;
				lua_pop(L, 1);
			}
		}
	}
	int *keep = lua_newuserdatauv(L, (n + 1) * sizeof(int), 0);
	float *ks = lua_newuserdatauv(L, (n + 1) * sizeof(float), 0);
	long nk = det_nms_run(&o, boxes, scores, classes, n, keep, ks);
	if (nk < 0)
		return luaL_error(L, "%s", det_error_message());
	lua_createtable(L, (int)nk, 0);
	lua_createtable(L, (int)nk, 0);
	for (long i = 0; i < nk; i++) {
		lua_pushinteger(L, keep[i] + 1);
		lua_rawseti(L, -3, i + 1);
		lua_pushnumber(L, ks[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 2;
}

static const luaL_Reg box_funcs[] = {
	{ "iou", l_iou },
	{ "nms", l_nms },
	{ NULL, NULL },
};

int luaopen_det_box(lua_State *L)
{
	luaL_newlib(L, box_funcs);
	return 1;
}
