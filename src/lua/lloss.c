/* lloss.c: det.core.loss — loss configuration objects (fields readable and
 * writable, unknown keys rejected by name, printable) and loss:compute on
 * Lua arrays, over src/det/loss.h. */
#include "lua/lloss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lua/ldet.h"

enum field {
	F_ALPHA = 1 << 0, F_GAMMA = 1 << 1, F_BETA = 1 << 2, F_SMOOTHING = 1 << 3,
	F_EPS = 1 << 4, F_MODE = 1 << 5, F_REDUCTION = 1 << 6, F_WEIGHT = 1 << 7,
	F_CLASS_WEIGHT = 1 << 8, F_KIND = 1 << 9,
};

static const struct {
	const char *name;
	enum field f;
} field_names[] = {
	{ "alpha", F_ALPHA }, { "gamma", F_GAMMA }, { "beta", F_BETA },
	{ "smoothing", F_SMOOTHING }, { "eps", F_EPS }, { "mode", F_MODE },
	{ "reduction", F_REDUCTION }, { "weight", F_WEIGHT },
	{ "class_weight", F_CLASS_WEIGHT }, { "kind", F_KIND },
};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

/* The fields each kind has (every kind also has reduction, weight, kind). */
static unsigned kind_fields(enum det_loss_kind k)
{
	unsigned common = F_REDUCTION | F_WEIGHT | F_KIND;
	unsigned cls = common | F_CLASS_WEIGHT;

	switch (k) {
	case DET_LOSS_FOCAL: case DET_LOSS_VFL:
		return cls | F_ALPHA | F_GAMMA;
	case DET_LOSS_QFL:
		return cls | F_BETA;
	case DET_LOSS_BCE: case DET_LOSS_CENTERNESS:
		return cls;
	case DET_LOSS_CE:
		return cls | F_SMOOTHING;
	case DET_LOSS_SMOOTH_L1:
		return common | F_BETA;
	case DET_LOSS_IOU:
		return common | F_EPS | F_MODE;
	case DET_LOSS_GIOU: case DET_LOSS_DIOU: case DET_LOSS_CIOU:
		return common | F_EPS;
	default:
		return common;
	}
}

static enum field field_of(const char *key)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(key, field_names[i].name) == 0)
			return field_names[i].f;
	return 0;
}

/* "alpha, gamma, reduction, ..." for the kind: the list an error shows. */
static void push_field_list(lua_State *L, enum det_loss_kind k)
{
	luaL_Buffer b;
	int first = 1;

	luaL_buffinit(L, &b);
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!(kind_fields(k) & field_names[i].f) || field_names[i].f == F_KIND)
			continue;
		if (!first)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, field_names[i].name);
		first = 0;
	}
	luaL_pushresult(&b);
}

struct det_loss *lloss_check(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LLOSS_NAME);
}

static int loss_gc(lua_State *L)
{
	det_loss_fini(lloss_check(L, 1));
	return 0;
}

/* A float as the short decimal that reads back to it (1e-07, not
 * 1.0000000116861e-07). */
static void push_float(lua_State *L, float v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.7g", (double)v);
	lua_pushnumber(L, strtod(buf, NULL));
}

/* Pushes the value of a field. */
static void push_field(lua_State *L, const struct det_loss *l, enum field f)
{
	switch (f) {
	case F_ALPHA: push_float(L, l->alpha); break;
	case F_GAMMA: push_float(L, l->gamma); break;
	case F_BETA: push_float(L, l->beta); break;
	case F_SMOOTHING: push_float(L, l->smoothing); break;
	case F_EPS: push_float(L, l->eps); break;
	case F_WEIGHT: push_float(L, l->weight); break;
	case F_MODE: lua_pushstring(L, l->log_iou ? "log" : "linear"); break;
	case F_REDUCTION: lua_pushstring(L, det_loss_reduction_name(l->reduction)); break;
	case F_KIND: lua_pushstring(L, det_loss_kind_name(l->kind)); break;
	case F_CLASS_WEIGHT:
		if (l->nclass_weight == 0) {
			lua_pushnil(L);
			break;
		}
		lua_createtable(L, l->nclass_weight, 0);
		for (int c = 0; c < l->nclass_weight; c++) {
			push_float(L, l->class_weight[c]);
			lua_rawseti(L, -2, c + 1);
		}
		break;
	}
}

static float check_num(lua_State *L, int idx, const char *key, double lo, double hi)
{
	if (lua_type(L, idx) != LUA_TNUMBER)
		luaL_error(L, "loss field '%s' must be a number, got %s", key, luaL_typename(L, idx));
	double v = lua_tonumber(L, idx);
	if (!(v >= lo && v <= hi))
		luaL_error(L, "loss field '%s' = %f is outside [%f, %f]", key, (lua_Number)v, (lua_Number)lo, (lua_Number)hi);
	return (float)v;
}

/* Sets field key from the value at idx; raises on a wrong key or value. */
static void set_field(lua_State *L, struct det_loss *l, const char *key, int idx)
{
	enum field f = field_of(key);

	if (f == 0 || !(kind_fields(l->kind) & f)) {
		push_field_list(L, l->kind);
		luaL_error(L, "loss %s has no field '%s' (fields: %s)", det_loss_kind_name(l->kind), key,
			lua_tostring(L, -1));
	}
	switch (f) {
	case F_ALPHA:
		/* focal: a negative alpha turns the balance off (torchvision) */
		l->alpha = check_num(L, idx, key, l->kind == DET_LOSS_FOCAL ? -1 : 0, 1);
		break;
	case F_GAMMA: l->gamma = check_num(L, idx, key, 0, 100); break;
	case F_BETA: l->beta = check_num(L, idx, key, 0, 1e30); break;
	case F_SMOOTHING: l->smoothing = check_num(L, idx, key, 0, 1); break;
	case F_EPS: l->eps = check_num(L, idx, key, 0, 1); break;
	case F_WEIGHT: l->weight = check_num(L, idx, key, -1e30, 1e30); break;
	case F_MODE: {
		static const char *const modes[] = { "linear", "log", NULL };
		const char *s = lua_tostring(L, idx);
		int m = -1;

		for (int i = 0; s && modes[i]; i++)
			if (strcmp(s, modes[i]) == 0)
				m = i;
		if (m < 0)
			luaL_error(L, "loss field 'mode' must be \"linear\" or \"log\"");
		l->log_iou = m;
		break;
	}
	case F_REDUCTION: {
		const char *s = lua_tostring(L, idx);
		int r = s ? det_loss_reduction_parse(s) : -1;

		if (r < 0)
			luaL_error(L, "loss field 'reduction' must be \"none\", \"sum\" or \"mean\"");
		l->reduction = r;
		break;
	}
	case F_CLASS_WEIGHT: {
		if (lua_isnil(L, idx)) {
			det_loss_set_class_weight(l, NULL, 0);
			break;
		}
		luaL_checktype(L, idx, LUA_TTABLE);
		int n = (int)luaL_len(L, idx);
		float *w = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(float), 0);
		for (int c = 0; c < n; c++) {
			lua_geti(L, idx, c + 1);
			w[c] = check_num(L, -1, "class_weight[]", 0, 1e30);
			lua_pop(L, 1);
		}
		if (det_loss_set_class_weight(l, w, n))
			luaL_error(L, "%s", det_error_message());
		lua_pop(L, 1);
		break;
	}
	case F_KIND:
		luaL_error(L, "loss field 'kind' is read-only");
		break;
	}
}

static int loss_newindex(lua_State *L)
{
	struct det_loss *l = lloss_check(L, 1);

	set_field(L, l, luaL_checkstring(L, 2), 3);
	return 0;
}

static int loss_tostring(lua_State *L)
{
	struct det_loss *l = lloss_check(L, 1);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	lua_pushfstring(L, "det.loss.%s{", det_loss_kind_name(l->kind));
	luaL_addvalue(&b);
	int first = 1;
	for (size_t i = 0; i < NFIELDS; i++) {
		enum field f = field_names[i].f;

		if (!(kind_fields(l->kind) & f) || f == F_KIND || (f == F_CLASS_WEIGHT && !l->nclass_weight))
			continue;
		luaL_addstring(&b, first ? " " : ", ");
		first = 0;
		luaL_addstring(&b, field_names[i].name);
		luaL_addstring(&b, " = ");
		if (f == F_CLASS_WEIGHT) {
			lua_pushfstring(L, "{%d weights}", l->nclass_weight);
		} else {
			char num[32];

			push_field(L, l, f);
			if (lua_type(L, -1) == LUA_TSTRING) {
				lua_pushfstring(L, "\"%s\"", lua_tostring(L, -1));
			} else {
				snprintf(num, sizeof(num), "%.7g", lua_tonumber(L, -1));
				lua_pushstring(L, num);
			}
			lua_remove(L, -2);
		}
		luaL_addvalue(&b);
	}
	luaL_addstring(&b, " }");
	luaL_pushresult(&b);
	return 1;
}

/* ---- compute on Lua arrays ---------------------------------------------- */

/* Reads t (at idx) as rows: a flat array of numbers (rows n, cols 1) or an
 * array of equal-length arrays. Returns a float buffer owned by a userdata
 * pushed on the stack. want_cols 0 = any. */
static float *read_matrix(lua_State *L, int idx, const char *what, size_t *rows, size_t *cols,
	int allow_flat)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	size_t n = (size_t)luaL_len(L, idx), c = 0;
	int nested = 0;

	if (n > 0) {
		lua_geti(L, idx, 1);
		nested = lua_istable(L, -1);
		c = nested ? (size_t)luaL_len(L, -1) : 1;
		lua_pop(L, 1);
	}
	if (!nested && n > 0 && !allow_flat)
		luaL_error(L, "%s must be an array of rows ({{...}, {...}})", what);
	float *v = lua_newuserdatauv(L, (n * c + 1) * sizeof(float), 0);
	for (size_t r = 0; r < n; r++) {
		lua_geti(L, idx, (lua_Integer)r + 1);
		if (nested) {
			if (!lua_istable(L, -1) || (size_t)luaL_len(L, -1) != c)
				luaL_error(L, "%s[%d] must be an array of %d numbers", what, (int)r + 1, (int)c);
			for (size_t k = 0; k < c; k++) {
				lua_geti(L, -1, (lua_Integer)k + 1);
				if (lua_type(L, -1) != LUA_TNUMBER)
					luaL_error(L, "%s[%d][%d] must be a number", what, (int)r + 1, (int)k + 1);
				v[r * c + k] = (float)lua_tonumber(L, -1);
				lua_pop(L, 1);
			}
		} else {
			if (lua_type(L, -1) != LUA_TNUMBER)
				luaL_error(L, "%s[%d] must be a number", what, (int)r + 1);
			v[r] = (float)lua_tonumber(L, -1);
		}
		lua_pop(L, 1);
	}
	*rows = n;
	*cols = c;
	return v;
}

static void push_matrix(lua_State *L, const float *v, size_t rows, size_t cols, int nested)
{
	lua_createtable(L, (int)rows, 0);
	for (size_t r = 0; r < rows; r++) {
		if (nested) {
			lua_createtable(L, (int)cols, 0);
			for (size_t c = 0; c < cols; c++) {
				lua_pushnumber(L, v[r * cols + c]);
				lua_rawseti(L, -2, (lua_Integer)c + 1);
			}
		} else {
			lua_pushnumber(L, v[r]);
		}
		lua_rawseti(L, -2, (lua_Integer)r + 1);
	}
}

/* loss:compute(pred, target [, {weight=, avg_factor=}]) -> value, grad
 * value: a number, or per-unit losses for reduction "none";
 * grad: d value / d pred (with d value = 1, or 1 per unit for "none"),
 * shaped like pred. ce targets are 1-based classes (0 or less: ignored). */
static int loss_compute(lua_State *L)
{
	struct det_loss *l = lloss_check(L, 1);
	size_t rows, cols, trows, tcols, wrows = 0, wcols = 0;
	int rowwise = l->kind == DET_LOSS_CE || l->kind == DET_LOSS_DFL;
	int box = l->kind >= DET_LOSS_IOU && l->kind <= DET_LOSS_CIOU;

	lua_settop(L, 4);
	float *pred = read_matrix(L, 2, "pred", &rows, &cols, !rowwise && !box);
	int nested = 0;
	if (rows > 0) {
		lua_geti(L, 2, 1);
		nested = lua_istable(L, -1);
		lua_pop(L, 1);
	}
	float *target = read_matrix(L, 3, "target", &trows, &tcols, 1);
	if (trows != rows || (rowwise ? tcols != 1 : (rows > 0 && tcols != cols)))
		return luaL_error(L, "target has %d x %d values, pred %d x %d%s", (int)trows, (int)tcols,
			(int)rows, (int)cols, rowwise ? " (expected one target per row)" : "");
	if (l->kind == DET_LOSS_CE)
		for (size_t r = 0; r < rows; r++)
			target[r] = target[r] >= 1 ? target[r] - 1 : -1;
	float *weight = NULL, avg = 0;
	size_t units = det_loss_units(l, rows, cols);
	if (lua_istable(L, 4)) {
		if (lua_getfield(L, 4, "weight") != LUA_TNIL) {
			weight = read_matrix(L, lua_gettop(L), "weight", &wrows, &wcols, 1);
			if (wrows * wcols != units)
				return luaL_error(L, "weight has %d values, expected %d (one per loss term)",
					(int)(wrows * wcols), (int)units);
		}
		if (lua_getfield(L, 4, "avg_factor") != LUA_TNIL)
			avg = (float)luaL_checknumber(L, -1);
		lua_pop(L, 1);
	}
	if (det_loss_check(l, rows, cols))
		return luaL_error(L, "%s", det_error_message());
	int none = l->reduction == DET_REDUCE_NONE;
	float *out = lua_newuserdatauv(L, (none ? units : 1) * sizeof(float) + 1, 0);
	float *dout = lua_newuserdatauv(L, (none ? units : 1) * sizeof(float) + 1, 0);
	float *grad = lua_newuserdatauv(L, (rows * cols + 1) * sizeof(float), 0);
	for (size_t u = 0; u < (none ? units : 1); u++)
		dout[u] = 1;
	if (det_loss_forward(l, rows, cols, pred, target, weight, avg, out) ||
	    det_loss_backward(l, rows, cols, pred, target, weight, avg, dout, grad))
		return luaL_error(L, "%s", det_error_message());
	if (none)
		push_matrix(L, out, box || rowwise ? units : rows, cols, !(box || rowwise) && nested);
	else
		lua_pushnumber(L, out[0]);
	push_matrix(L, grad, rows, cols, nested);
	return 2;
}

static const luaL_Reg loss_methods[] = {
	{ "compute", loss_compute },
	{ NULL, NULL },
};

static int loss_index(lua_State *L)
{
	struct det_loss *l = lloss_check(L, 1);
	const char *key = luaL_checkstring(L, 2);
	enum field f = field_of(key);

	for (const luaL_Reg *m = loss_methods; m->name; m++)
		if (strcmp(key, m->name) == 0) {
			lua_pushcfunction(L, m->func);
			return 1;
		}
	if (f == 0 || !(kind_fields(l->kind) & f)) {
		push_field_list(L, l->kind);
		return luaL_error(L, "loss %s has no field '%s' (fields: %s)",
			det_loss_kind_name(l->kind), key, lua_tostring(L, -1));
	}
	push_field(L, l, f);
	return 1;
}

static const luaL_Reg loss_meta[] = {
	{ "__gc", loss_gc },
	{ "__close", loss_gc },
	{ "__index", loss_index },
	{ "__newindex", loss_newindex },
	{ "__tostring", loss_tostring },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LLOSS_NAME)) {
		luaL_setfuncs(L, loss_meta, 0);
		luaL_newlib(L, loss_methods); /* the methods, as a table for det.help */
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
}

struct det_loss *lloss_push(lua_State *L, enum det_loss_kind kind)
{
	struct det_loss *l = lua_newuserdatauv(L, sizeof(*l), 0);

	det_loss_init(l, kind);
	createmeta(L);
	luaL_setmetatable(L, LLOSS_NAME);
	return l;
}

/* core.loss.new(kind, opts) -> loss: opts' keys set fields; unknown keys raise. */
static int l_new(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int kind = det_loss_kind_parse(name);

	if (kind < 0)
		return luaL_argerror(L, 1, lua_pushfstring(L, "unknown loss '%s'", name));
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	struct det_loss *l = lloss_push(L, kind);
	if (lua_istable(L, 2)) {
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			if (lua_type(L, -2) != LUA_TSTRING)
				return luaL_error(L, "det.loss.%s: option keys must be names", name);
			set_field(L, l, lua_tostring(L, -2), lua_gettop(L));
			lua_pop(L, 1);
		}
	}
	return 1;
}

/* core.loss.avg_factor(num_pos) -> max(num_pos, 1) */
static int l_avg_factor(lua_State *L)
{
	lua_pushnumber(L, det_loss_avg_factor(luaL_checknumber(L, 1)));
	return 1;
}

static const luaL_Reg loss_funcs[] = {
	{ "new", l_new },
	{ "avg_factor", l_avg_factor },
	{ NULL, NULL },
};

int luaopen_det_loss(lua_State *L)
{
	createmeta(L);
	luaL_newlib(L, loss_funcs);
	lua_createtable(L, DET_LOSS_NKINDS, 0);
	for (int k = 0; k < DET_LOSS_NKINDS; k++) {
		lua_pushstring(L, det_loss_kind_name(k));
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "kinds");
	return 1;
}
