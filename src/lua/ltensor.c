/* ltensor.c: det.core.tensor — the "det.tensor" class: making tensors from
 * shapes and nested tables, seeded initialisers, 1-based indexing and
 * views (t[i], slice, select, reshape, permute), reductions, conversion to
 * Lua tables and PyTorch-like printing. */
#include "lua/ltensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lua/ldet.h"

struct ltensor {
	struct tensor *t; /* owned handle; NULL once closed */
};

static struct ltensor *toltensor(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LTENSOR_NAME);
}

struct tensor *ltensor_check(lua_State *L, int arg)
{
	struct ltensor *p = toltensor(L, arg);

	if (!p->t)
		luaL_argerror(L, arg, "tensor is closed");
	return p->t;
}

struct tensor *ltensor_test(lua_State *L, int arg)
{
	struct ltensor *p = luaL_testudata(L, arg, LTENSOR_NAME);

	return p ? p->t : NULL;
}

static int t_gc(lua_State *L)
{
	struct ltensor *p = toltensor(L, 1);

	tensor_free(p->t);
	p->t = NULL;
	return 0;
}

/* Pushes an empty box (t == NULL) with the class metatable. */
static struct ltensor *box(lua_State *L)
{
	struct ltensor *p = lua_newuserdatauv(L, sizeof(*p), 1);

	p->t = NULL;
	luaL_setmetatable(L, LTENSOR_NAME);
	return p;
}

void ltensor_push(lua_State *L, struct tensor *t)
{
	struct ltensor *p;

	if (!t)
		luaL_error(L, "%s", det_error_message());
	p = lua_newuserdatauv(L, sizeof(*p), 1);
	p->t = t;
	luaL_setmetatable(L, LTENSOR_NAME);
}

void ltensor_push_borrowed(lua_State *L, struct tensor *t, int owner)
{
	owner = lua_absindex(L, owner);
	ltensor_push(L, t);
	lua_pushvalue(L, owner);
	lua_setiuservalue(L, -2, 1);
}

int ltensor_checkshape(lua_State *L, int arg, int64_t *shape)
{
	int n;

	luaL_checktype(L, arg, LUA_TTABLE);
	n = (int)luaL_len(L, arg);
	luaL_argcheck(L, n >= 1 && n <= TENSOR_MAX_DIMS, arg, "a shape has 1 to 5 dimensions");
	for (int d = 0; d < n; d++) {
		lua_Integer s = 0;
		lua_geti(L, arg, d + 1);
		if (!lua_isinteger(L, -1) || (s = lua_tointeger(L, -1)) < 0)
			luaL_argerror(L, arg, "shape sizes must be non-negative integers");
		shape[d] = s;
		lua_pop(L, 1);
	}
	return n;
}

void ltensor_pushshape(lua_State *L, int ndim, const int64_t *shape)
{
	lua_createtable(L, ndim, 0);
	for (int d = 0; d < ndim; d++) {
		lua_pushinteger(L, shape[d]);
		lua_rawseti(L, -2, d + 1);
	}
}

/* Shape of a nested table of numbers; raises on ragged input. */
static int nested_shape(lua_State *L, int idx, int64_t *shape, int d)
{
	int64_t n;

	if (lua_type(L, idx) != LUA_TTABLE)
		return d;
	if (d >= TENSOR_MAX_DIMS)
		luaL_error(L, "det.tensor: more than %d nested levels", TENSOR_MAX_DIMS);
	n = (int64_t)luaL_len(L, idx);
	shape[d] = n;
	if (n == 0)
		return d + 1;
	lua_geti(L, idx, 1);
	d = nested_shape(L, lua_gettop(L), shape, d + 1);
	lua_pop(L, 1);
	return d;
}

static void nested_fill(lua_State *L, int idx, const int64_t *shape, int ndim, int d, float **out)
{
	int64_t n = 0;

	if (d == ndim) {
		int isnum;
		lua_Number v = lua_tonumberx(L, idx, &isnum);
		if (!isnum)
			luaL_error(L, "det.tensor: element is a %s, not a number", luaL_typename(L, idx));
		*(*out)++ = (float)v;
		return;
	}
	if (lua_type(L, idx) != LUA_TTABLE || (n = (int64_t)luaL_len(L, idx)) != shape[d])
		luaL_error(L, "det.tensor: ragged nested table (dimension %d should have %d entries)",
			d + 1, (int)shape[d]);
	for (int64_t i = 1; i <= n; i++) {
		lua_geti(L, idx, i);
		nested_fill(L, lua_gettop(L), shape, ndim, d + 1, out);
		lua_pop(L, 1);
	}
}

/* det.tensor(shape_or_values) -> t: a zero tensor of a shape {2, 3}, or the
 * values of a nested table {{1, 2}, {3, 4}} (det.tensor.from). */
static int l_new(lua_State *L)
{
	int64_t shape[TENSOR_MAX_DIMS];
	struct ltensor *p;
	int ndim, values = lua_toboolean(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_geti(L, 1, 1);
	if (lua_type(L, -1) == LUA_TTABLE || luaL_len(L, 1) == 0 || values) {
		float *w;
		lua_pop(L, 1);
		ndim = nested_shape(L, 1, shape, 0);
		p = box(L);
		if (!(p->t = tensor_new(ndim, shape)))
			return luaL_error(L, "%s", det_error_message());
		w = p->t->data;
		nested_fill(L, 1, shape, ndim, 0, &w);
		return 1;
	}
	lua_pop(L, 1);
	ndim = ltensor_checkshape(L, 1, shape);
	p = box(L);
	if (!(p->t = tensor_new(ndim, shape)))
		return luaL_error(L, "%s", det_error_message());
	return 1;
}

/* det.tensor.from(values): always reads values (a flat {1, 2, 3} too). */
static int l_from(lua_State *L)
{
	lua_settop(L, 1);
	lua_pushboolean(L, 1);
	return l_new(L);
}

static float fill_value(float v, void *ctx)
{
	(void)v;
	return *(float *)ctx;
}

/* det.tensor.full(shape, v) */
static int l_full(lua_State *L)
{
	int64_t shape[TENSOR_MAX_DIMS];
	int ndim = ltensor_checkshape(L, 1, shape);
	float v = (float)luaL_checknumber(L, 2);
	struct ltensor *p = box(L);

	if (!(p->t = tensor_new(ndim, shape)))
		return luaL_error(L, "%s", det_error_message());
	tensor_apply(p->t, fill_value, &v);
	return 1;
}

/* Reads { gain=, mode="fan_in"|"fan_out", mean=, std=, low=, high=, value= }
 * at index arg into spec (after its defaults). */
static void init_options(lua_State *L, int arg, struct tensor_init_spec *spec)
{
	if (lua_isnoneornil(L, arg))
		return;
	luaL_checktype(L, arg, LUA_TTABLE);
	switch (spec->kind) {
	case TENSOR_INIT_CONSTANT:
		if (lua_getfield(L, arg, "value") != LUA_TNIL)
			spec->a = (float)luaL_checknumber(L, -1);
		lua_pop(L, 1);
		break;
	case TENSOR_INIT_NORMAL:
		if (lua_getfield(L, arg, "mean") != LUA_TNIL)
			spec->a = (float)luaL_checknumber(L, -1);
		if (lua_getfield(L, arg, "std") != LUA_TNIL)
			spec->b = (float)luaL_checknumber(L, -1);
		lua_pop(L, 2);
		break;
	case TENSOR_INIT_UNIFORM:
		if (lua_getfield(L, arg, "low") != LUA_TNIL)
			spec->a = (float)luaL_checknumber(L, -1);
		if (lua_getfield(L, arg, "high") != LUA_TNIL)
			spec->b = (float)luaL_checknumber(L, -1);
		lua_pop(L, 2);
		break;
	default:
		if (lua_getfield(L, arg, "gain") != LUA_TNIL)
			spec->a = (float)luaL_checknumber(L, -1);
		if (lua_getfield(L, arg, "mode") != LUA_TNIL) {
			const char *m = luaL_checkstring(L, -1);
			if (strcmp(m, "fan_in") && strcmp(m, "fan_out"))
				luaL_error(L, "init mode must be \"fan_in\" or \"fan_out\", not \"%s\"", m);
			spec->b = !strcmp(m, "fan_out");
		}
		lua_pop(L, 2);
	}
}

/* det.tensor.init(t, kind, seed[, options]) -> t: fills t in place. */
static int l_init(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	const char *kind = luaL_checkstring(L, 2);
	lua_Integer seed = luaL_checkinteger(L, 3);
	struct tensor_init_spec spec;
	struct rng r;

	if (tensor_init_parse(kind, &spec))
		return luaL_argerror(L, 2, det_error_message());
	init_options(L, 4, &spec);
	rng_init(&r, (uint64_t)seed, 0);
	tensor_init(t, &spec, &r);
	lua_settop(L, 1);
	return 1;
}

/* det.tensor.randn(shape, seed[, mean, std]) and det.tensor.rand(shape, seed[, low, high]) */
static int random_tensor(lua_State *L, enum tensor_init kind, float a, float b)
{
	int64_t shape[TENSOR_MAX_DIMS];
	int ndim = ltensor_checkshape(L, 1, shape);
	lua_Integer seed = luaL_checkinteger(L, 2);
	struct tensor_init_spec spec = { kind, (float)luaL_optnumber(L, 3, a), (float)luaL_optnumber(L, 4, b) };
	struct ltensor *p = box(L);
	struct rng r;

	if (!(p->t = tensor_new(ndim, shape)))
		return luaL_error(L, "%s", det_error_message());
	rng_init(&r, (uint64_t)seed, 0);
	tensor_init(p->t, &spec, &r);
	return 1;
}

static int l_randn(lua_State *L)
{
	return random_tensor(L, TENSOR_INIT_NORMAL, 0, 1);
}

static int l_rand(lua_State *L)
{
	return random_tensor(L, TENSOR_INIT_UNIFORM, 0, 1);
}

/* ---- methods ---- */

static int t_shape(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);

	ltensor_pushshape(L, t->ndim, t->shape);
	return 1;
}

static int t_dim(lua_State *L)
{
	lua_pushinteger(L, ltensor_check(L, 1)->ndim);
	return 1;
}

static int t_numel(lua_State *L)
{
	lua_pushinteger(L, ltensor_check(L, 1)->numel);
	return 1;
}

static int t_len(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);

	lua_pushinteger(L, t->ndim ? t->shape[0] : 0);
	return 1;
}

/* Reads 1-based indices from arg..arg+ndim-1 into idx (0-based). */
static void check_index(lua_State *L, const struct tensor *t, int arg, int64_t *idx)
{
	for (int d = 0; d < t->ndim; d++) {
		lua_Integer i = luaL_checkinteger(L, arg + d);
		if (i < 1 || i > t->shape[d])
			luaL_error(L, "index %d out of range for dimension %d of size %d", (int)i, d + 1,
				(int)t->shape[d]);
		idx[d] = i - 1;
	}
}

/* t:get(i, j, ...) -> number (1-based, one index per dimension) */
static int t_get(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int64_t idx[TENSOR_MAX_DIMS];

	check_index(L, t, 2, idx);
	lua_pushnumber(L, tensor_get(t, idx));
	return 1;
}

/* t:set(i, j, ..., v) */
static int t_set(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int64_t idx[TENSOR_MAX_DIMS];

	check_index(L, t, 2, idx);
	tensor_set(t, idx, (float)luaL_checknumber(L, 2 + t->ndim));
	return 0;
}

/* The owner a view of the tensor at arg must keep alive: the tensor itself. */
static void push_view(lua_State *L, struct tensor *v, int parent)
{
	if (!v)
		luaL_error(L, "%s", det_error_message());
	ltensor_push_borrowed(L, v, parent);
}

/* t[i]: a number for 1-D tensors, else the view t:select(1, i) */
static int t_index(lua_State *L)
{
	if (lua_isinteger(L, 2)) {
		struct tensor *t = ltensor_check(L, 1);
		lua_Integer i = lua_tointeger(L, 2);
		if (t->ndim == 0 || i < 1 || i > t->shape[0])
			return luaL_error(L, "index %d out of range (1 to %d)", (int)i, t->ndim ? (int)t->shape[0] : 0);
		if (t->ndim == 1) {
			lua_pushnumber(L, t->data[(i - 1) * t->stride[0]]);
			return 1;
		}
		push_view(L, tensor_select(t, 0, i - 1), 1);
		return 1;
	}
	luaL_getmetafield(L, 1, "methods");
	lua_pushvalue(L, 2);
	lua_rawget(L, -2);
	return 1;
}

/* t[i] = v for 1-D tensors; t[i] = number fills the slice for others */
static int t_newindex(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	lua_Integer i = luaL_checkinteger(L, 2);
	float v = (float)luaL_checknumber(L, 3);
	struct tensor *s;

	if (t->ndim == 0 || i < 1 || i > t->shape[0])
		return luaL_error(L, "index %d out of range (1 to %d)", (int)i, t->ndim ? (int)t->shape[0] : 0);
	if (t->ndim == 1) {
		t->data[(i - 1) * t->stride[0]] = v;
		return 0;
	}
	if (!(s = tensor_select(t, 0, i - 1)))
		return luaL_error(L, "%s", det_error_message());
	tensor_apply(s, fill_value, &v);
	tensor_free(s);
	return 0;
}

/* t:select(dim, i): the view with dimension dim fixed at i (1-based) */
static int t_select(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int dim = (int)luaL_checkinteger(L, 2);
	lua_Integer i = luaL_checkinteger(L, 3);

	push_view(L, tensor_select(t, dim - 1, i - 1), 1);
	return 1;
}

/* t:slice(dim, first, last[, step]): the view of elements first..last
 * (1-based, inclusive, like string.sub) along dim */
static int t_slice(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int dim = (int)luaL_checkinteger(L, 2);
	lua_Integer first = luaL_checkinteger(L, 3);
	lua_Integer last = luaL_optinteger(L, 4, dim >= 1 && dim <= t->ndim ? t->shape[dim - 1] : 0);
	lua_Integer step = luaL_optinteger(L, 5, 1);

	push_view(L, tensor_slice(t, dim - 1, first - 1, last, step), 1);
	return 1;
}

/* t:reshape(d1, d2, ...) or t:reshape{d1, ...}: a view (contiguous t); -1 infers one size */
static int t_reshape(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int64_t shape[TENSOR_MAX_DIMS];
	int n;

	if (lua_istable(L, 2)) {
		n = (int)luaL_len(L, 2);
		luaL_argcheck(L, n >= 1 && n <= TENSOR_MAX_DIMS, 2, "a shape has 1 to 5 dimensions");
		for (int d = 0; d < n; d++) {
			lua_geti(L, 2, d + 1);
			shape[d] = luaL_checkinteger(L, -1);
			lua_pop(L, 1);
		}
	} else {
		n = lua_gettop(L) - 1;
		luaL_argcheck(L, n >= 1 && n <= TENSOR_MAX_DIMS, 2, "a shape has 1 to 5 dimensions");
		for (int d = 0; d < n; d++)
			shape[d] = luaL_checkinteger(L, d + 2);
	}
	push_view(L, tensor_reshape(t, n, shape), 1);
	return 1;
}

/* t:permute(p1, p2, ...): a view with dimensions reordered (1-based) */
static int t_permute(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);
	int perm[TENSOR_MAX_DIMS];

	for (int d = 0; d < t->ndim; d++)
		perm[d] = (int)luaL_checkinteger(L, d + 2) - 1;
	push_view(L, tensor_permute(t, perm), 1);
	return 1;
}

static int t_contiguous(lua_State *L)
{
	ltensor_push(L, tensor_contiguous(ltensor_check(L, 1)));
	return 1;
}

/* t:copy(src) -> t: copies src's values into t (same shape) */
static int t_copy(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1), *s = ltensor_check(L, 2);

	if (tensor_copy(t, s))
		return luaL_error(L, "%s", det_error_message());
	lua_settop(L, 1);
	return 1;
}

static int t_fill(lua_State *L)
{
	float v = (float)luaL_checknumber(L, 2);

	tensor_apply(ltensor_check(L, 1), fill_value, &v);
	lua_settop(L, 1);
	return 1;
}

struct stats {
	double sum, min, max;
};

static float acc_stats(float v, void *ctx)
{
	struct stats *s = ctx;

	s->sum += v;
	s->min = fmin(s->min, v);
	s->max = fmax(s->max, v);
	return v;
}

/* t:sum(), t:mean(), t:min(), t:max() over all elements (in double) */
static int reduce(lua_State *L, int what)
{
	struct tensor *t = ltensor_check(L, 1);
	struct stats s = { 0, INFINITY, -INFINITY };

	tensor_apply(t, acc_stats, &s);
	lua_pushnumber(L, what == 0 ? s.sum : what == 1 ? (t->numel ? s.sum / (double)t->numel : NAN) :
		what == 2 ? s.min : s.max);
	return 1;
}

static int t_sum(lua_State *L) { return reduce(L, 0); }
static int t_mean(lua_State *L) { return reduce(L, 1); }
static int t_min(lua_State *L) { return reduce(L, 2); }
static int t_max(lua_State *L) { return reduce(L, 3); }

static void push_nested(lua_State *L, const struct tensor *t, int d, const float *p)
{
	lua_createtable(L, (int)t->shape[d], 0);
	for (int64_t i = 0; i < t->shape[d]; i++) {
		if (d == t->ndim - 1)
			lua_pushnumber(L, p[i * t->stride[d]]);
		else
			push_nested(L, t, d + 1, p + i * t->stride[d]);
		lua_rawseti(L, -2, i + 1);
	}
}

/* t:totable() -> nested Lua arrays of numbers */
static int t_totable(lua_State *L)
{
	struct tensor *t = ltensor_check(L, 1);

	if (t->ndim == 0)
		lua_pushnumber(L, t->data[0]);
	else
		push_nested(L, t, 0, t->data);
	return 1;
}

static int t_tostring(lua_State *L)
{
	struct ltensor *p = toltensor(L, 1);
	char *s;

	if (!p->t) {
		lua_pushliteral(L, "tensor(closed)");
		return 1;
	}
	if (!(s = tensor_format(p->t)))
		return luaL_error(L, "out of memory");
	lua_pushstring(L, s);
	free(s);
	return 1;
}

/* t:print(): print(tostring(t)) */
static int t_print(lua_State *L)
{
	lua_getglobal(L, "print");
	lua_pushvalue(L, 1);
	lua_call(L, 1, 0);
	return 0;
}

static int t_is_contiguous(lua_State *L)
{
	lua_pushboolean(L, tensor_is_contiguous(ltensor_check(L, 1)));
	return 1;
}

/* Element-wise arithmetic for the prompt: tensor op tensor (same shape) or
 * tensor op number, into a new contiguous tensor. */
static int arith(lua_State *L, char op)
{
	struct tensor *a = ltensor_test(L, 1), *b = ltensor_test(L, 2), *ca, *cb = NULL, *r;
	float k = 0;
	int swap = 0;

	if (!a) {
		swap = 1;
		a = b;
		b = NULL;
		k = (float)luaL_checknumber(L, 1);
	} else if (!b)
		k = (float)luaL_checknumber(L, 2);
	if (b && !tensor_same_shape(a, b))
		return luaL_error(L, "tensor arithmetic needs equal shapes");
	ca = tensor_contiguous(a);
	if (b)
		cb = tensor_contiguous(b);
	r = tensor_new(a->ndim, a->shape);
	if (!ca || (b && !cb) || !r) {
		tensor_free(ca);
		tensor_free(cb);
		tensor_free(r);
		return luaL_error(L, "%s", det_error_message());
	}
	for (int64_t i = 0; i < a->numel; i++) {
		float x = ca->data[i], y = cb ? cb->data[i] : k;
		if (swap) {
			float t = x;
			x = y;
			y = t;
		}
		r->data[i] = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
	}
	tensor_free(ca);
	tensor_free(cb);
	ltensor_push(L, r);
	return 1;
}

static int t_add(lua_State *L) { return arith(L, '+'); }
static int t_sub(lua_State *L) { return arith(L, '-'); }
static int t_mul(lua_State *L) { return arith(L, '*'); }
static int t_div(lua_State *L) { return arith(L, '/'); }

static int t_unm(lua_State *L)
{
	lua_settop(L, 1);
	lua_pushnumber(L, -1);
	return arith(L, '*');
}

static const luaL_Reg methods[] = {
	{ "shape", t_shape },
	{ "dim", t_dim },
	{ "numel", t_numel },
	{ "get", t_get },
	{ "set", t_set },
	{ "select", t_select },
	{ "slice", t_slice },
	{ "reshape", t_reshape },
	{ "permute", t_permute },
	{ "contiguous", t_contiguous },
	{ "clone", t_contiguous },
	{ "copy", t_copy },
	{ "fill", t_fill },
	{ "sum", t_sum },
	{ "mean", t_mean },
	{ "min", t_min },
	{ "max", t_max },
	{ "totable", t_totable },
	{ "is_contiguous", t_is_contiguous },
	{ "print", t_print },
	{ NULL, NULL },
};

static const luaL_Reg metamethods[] = {
	{ "__index", t_index },
	{ "__newindex", t_newindex },
	{ "__len", t_len },
	{ "__add", t_add },
	{ "__sub", t_sub },
	{ "__mul", t_mul },
	{ "__div", t_div },
	{ "__unm", t_unm },
	{ "__tostring", t_tostring },
	{ "__gc", t_gc },
	{ "__close", t_gc },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LTENSOR_NAME)) {
		luaL_setfuncs(L, metamethods, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "methods");
		lua_pushliteral(L, "det.tensor");
		lua_setfield(L, -2, "__name");
	}
	lua_pop(L, 1);
}

static const luaL_Reg funcs[] = {
	{ "new", l_new },
	{ "from", l_from },
	{ "full", l_full },
	{ "randn", l_randn },
	{ "rand", l_rand },
	{ "init", l_init },
	{ NULL, NULL },
};

static int l_call(lua_State *L)
{
	lua_remove(L, 1); /* the module table */
	return l_new(L);
}

int luaopen_det_tensor(lua_State *L)
{
	createmeta(L);
	luaL_newlib(L, funcs);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, l_call);
	lua_setfield(L, -2, "__call");
	lua_setmetatable(L, -2);
	return 1;
}
