/* lnn.c: det.core.nn — the "det.graph" class: building nodes (one generic
 * g:op with the op's options in a table), marking outputs, planning,
 * forward and backward with tensors in and out, and the parameter store's
 * slabs and names. lua/det/nn.lua builds blocks and models on top. Axes and
 * slice bounds are 1-based here, like everything in Lua. */
#include "lua/lnn.h"

#include <string.h>

#include "core/error.h"
#include "nn/checkpoint.h"
#include "lua/ldet.h"
#include "lua/loptim.h"
#include "lua/ltensor.h"

struct lgraph {
	struct nn_graph *g; /* owned; NULL once closed */
};

static struct lgraph *tolgraph(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LGRAPH_NAME);
}

struct nn_graph *lgraph_check(lua_State *L, int arg)
{
	struct lgraph *p = tolgraph(L, arg);

	if (!p->g)
		luaL_argerror(L, arg, "graph is closed");
	return p->g;
}

static int g_gc(lua_State *L)
{
	struct lgraph *p = tolgraph(L, 1);

	nn_graph_free(p->g);
	p->g = NULL;
	return 0;
}

/* <close>: not while an experiment holds it */
static int g_gc_close(lua_State *L)
{
	lpin_check(L, 1, "graph <close>", "an experiment");
	return g_gc(L);
}

/* det.core.nn.graph{ seed = 0, share = other_graph } -> g */
static int l_graph(lua_State *L)
{
	struct lgraph *p;
	struct nn_store *share = NULL;
	lua_Integer seed = 0;

	if (lua_istable(L, 1)) {
		if (lua_getfield(L, 1, "seed") != LUA_TNIL)
			seed = luaL_checkinteger(L, -1);
		if (lua_getfield(L, 1, "share") != LUA_TNIL)
			share = nn_graph_store(lgraph_check(L, -1));
		lua_pop(L, 2);
	}
	p = lua_newuserdatauv(L, sizeof(*p), 1);
	p->g = NULL;
	luaL_setmetatable(L, LGRAPH_NAME);
	if (!(p->g = nn_graph_new(share, (uint64_t)seed)))
		return luaL_error(L, "%s", det_error_message());
	return 1;
}

/* Returns a builder's node id to Lua, or raises its message. */
static int push_id(lua_State *L, int id)
{
	if (id < 0) {
		/* the message names the nodes already; no file:line in front */
		lua_pushstring(L, det_error_message());
		return lua_error(L);
	}
	lua_pushinteger(L, id);
	return 1;
}

static int check_node(lua_State *L, struct nn_graph *g, int arg)
{
	lua_Integer id = luaL_checkinteger(L, arg);

	luaL_argcheck(L, id >= 0 && id < nn_graph_node_count(g), arg, "not a node of this graph");
	return (int)id;
}

/* g:input(name, shape) -> id */
static int g_input(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int64_t shape[NN_MAX_DIMS];
	int ndim = ltensor_checkshape(L, 3, shape);

	return push_id(L, nn_graph_input(g, name, ndim, shape));
}

/* g:param(name, shape[, init = "zeros"[, options[, flags]]]) -> id;
 * options as det.tensor.init's, flags "norm" or "bias" */
static int g_param(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	const char *name = luaL_checkstring(L, 2);
	int64_t shape[NN_MAX_DIMS];
	int ndim = ltensor_checkshape(L, 3, shape);
	const char *kind = luaL_optstring(L, 4, "zeros");
	const char *flags = luaL_optstring(L, 6, "");
	struct tensor_init_spec spec;

	if (tensor_init_parse(kind, &spec))
		return luaL_argerror(L, 4, det_error_message());
	if (lua_istable(L, 5)) {
		/* the same option names as det.tensor.init */
		switch (spec.kind) {
		case TENSOR_INIT_CONSTANT:
			if (lua_getfield(L, 5, "value") != LUA_TNIL)
				spec.a = (float)luaL_checknumber(L, -1);
			lua_pop(L, 1);
			break;
		case TENSOR_INIT_NORMAL:
		case TENSOR_INIT_UNIFORM:
			if (lua_getfield(L, 5, spec.kind == TENSOR_INIT_NORMAL ? "mean" : "low") != LUA_TNIL)
				spec.a = (float)luaL_checknumber(L, -1);
			if (lua_getfield(L, 5, spec.kind == TENSOR_INIT_NORMAL ? "std" : "high") != LUA_TNIL)
				spec.b = (float)luaL_checknumber(L, -1);
			lua_pop(L, 2);
			break;
		default:
			if (lua_getfield(L, 5, "gain") != LUA_TNIL)
				spec.a = (float)luaL_checknumber(L, -1);
			if (lua_getfield(L, 5, "mode") != LUA_TNIL)
				spec.b = !strcmp(luaL_checkstring(L, -1), "fan_out");
			lua_pop(L, 2);
		}
	}
	return push_id(L, nn_graph_param(g, name, ndim, shape, &spec,
		(strstr(flags, "norm") ? NN_PARAM_NORM : 0) | (strstr(flags, "bias") ? NN_PARAM_BIAS : 0)));
}

static const char *const op_lua_names[] = {
	"conv2d", "batchnorm", "groupnorm", "relu", "leaky_relu", "silu", "sigmoid", "hardswish",
	"mish", "tanh", "maxpool", "avgpool", "global_avgpool", "resize_nearest", "resize_bilinear",
	"add", "mul", "scale", "concat", "slice", "reshape", "permute", "sum", "mean", "softmax",
	"log_softmax", "relu6", "reciprocal", NULL,
};

/* An integer option (default def); a {h, w} pair fills two slots. */
static void opt_int2(lua_State *L, int opts, const char *key, int def, int *a, int *b)
{
	*a = *b = def;
	if (!opts)
		return;
	if (lua_getfield(L, opts, key) == LUA_TTABLE) {
		lua_geti(L, -1, 1);
		lua_geti(L, -2, 2);
		*a = (int)luaL_checkinteger(L, -2);
		*b = (int)luaL_checkinteger(L, -1);
		lua_pop(L, 2);
	} else if (!lua_isnil(L, -1))
		*a = *b = (int)luaL_checkinteger(L, -1);
	lua_pop(L, 1);
}

static int opt_int(lua_State *L, int opts, const char *key, int def)
{
	int a, b;

	opt_int2(L, opts, key, def, &a, &b);
	return a;
}

static float opt_num(lua_State *L, int opts, const char *key, float def)
{
	float v = def;

	if (opts && lua_getfield(L, opts, key) != LUA_TNIL)
		v = (float)luaL_checknumber(L, -1);
	if (opts)
		lua_pop(L, 1);
	return v;
}

/* g:op(op, name, { sources }, { options }) -> id. Options by op:
 *   conv2d: stride, pad, dil (number or {h, w}), groups
 *   batchnorm: eps, momentum; groupnorm: groups, eps; leaky_relu: slope
 *   maxpool/avgpool: k, stride, pad; resize_*: size = {h, w}
 *   scale: a, b (y = a x + b); concat: axis; slice: axis, first, last (inclusive)
 *   reshape: shape; permute: perm; sum/mean: axes = {...}; softmax: axis */
static int g_op(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int op = luaL_checkoption(L, 2, NULL, op_lua_names) + NN_OP_CONV2D;
	const char *name = luaL_optstring(L, 3, NULL);
	int src[NN_MAX_SRC], nsrc, opts = lua_istable(L, 5) ? 5 : 0;
	struct nn_op_params p = { 0 };
	int *I = p.i;

	luaL_checktype(L, 4, LUA_TTABLE);
	nsrc = (int)luaL_len(L, 4);
	luaL_argcheck(L, nsrc >= 1 && nsrc <= NN_MAX_SRC, 4, "1 to 16 source nodes");
	for (int s = 0; s < nsrc; s++) {
		lua_geti(L, 4, s + 1);
		src[s] = check_node(L, g, lua_gettop(L));
		lua_pop(L, 1);
	}
	switch (op) {
	case NN_OP_CONV2D:
		opt_int2(L, opts, "stride", 1, &I[0], &I[1]);
		opt_int2(L, opts, "pad", 0, &I[2], &I[3]);
		opt_int2(L, opts, "dil", 1, &I[4], &I[5]);
		I[6] = opt_int(L, opts, "groups", 1);
		break;
	case NN_OP_BATCHNORM:
		p.f[0] = opt_num(L, opts, "eps", 1e-5f);
		p.f[1] = opt_num(L, opts, "momentum", 0.1f);
		break;
	case NN_OP_GROUPNORM:
		I[1] = opt_int(L, opts, "groups", 32);
		p.f[0] = opt_num(L, opts, "eps", 1e-5f);
		break;
	case NN_OP_LEAKY_RELU:
		p.f[0] = opt_num(L, opts, "slope", 0.01f);
		/* the backward reads the sign of y, which a negative slope flips */
		luaL_argcheck(L, p.f[0] >= 0, 5, "leaky_relu's slope must be >= 0");
		break;
	case NN_OP_MAXPOOL:
	case NN_OP_AVGPOOL:
		opt_int2(L, opts, "k", 2, &I[0], &I[1]);
		opt_int2(L, opts, "stride", I[0], &I[2], &I[3]);
		if (opts) {
			int sh, sw;
			opt_int2(L, opts, "stride", -1, &sh, &sw);
			if (sh < 0) {
				I[2] = I[0];
				I[3] = I[1];
			}
		}
		opt_int2(L, opts, "pad", 0, &I[4], &I[5]);
		break;
	case NN_OP_RESIZE_NEAREST:
	case NN_OP_RESIZE_BILINEAR:
		opt_int2(L, opts, "size", 0, &I[0], &I[1]);
		break;
	case NN_OP_SCALE:
		p.f[0] = opt_num(L, opts, "a", 1);
		p.f[1] = opt_num(L, opts, "b", 0);
		break;
	case NN_OP_CONCAT:
	case NN_OP_SOFTMAX:
	case NN_OP_LOG_SOFTMAX:
		I[0] = opt_int(L, opts, "axis", 2) - 1;
		break;
	case NN_OP_SLICE:
		I[0] = opt_int(L, opts, "axis", 2) - 1;
		I[1] = opt_int(L, opts, "first", 1) - 1;
		I[2] = opt_int(L, opts, "last", 0);
		break;
	case NN_OP_RESHAPE: {
		int64_t shape[NN_MAX_DIMS];
		int ndim;
		luaL_argcheck(L, opts, 5, "reshape needs { shape = {...} }");
		lua_getfield(L, opts, "shape");
		luaL_argcheck(L, lua_istable(L, -1), 5, "reshape needs { shape = {...} }");
		ndim = (int)luaL_len(L, -1);
		luaL_argcheck(L, ndim >= 1 && ndim <= NN_MAX_DIMS, 5, "a shape has 1 to 5 dimensions");
		for (int d = 0; d < ndim; d++) {
			lua_geti(L, -1, d + 1);
			shape[d] = luaL_checkinteger(L, -1);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		return push_id(L, nn_graph_reshape(g, name, src[0], ndim, shape));
	}
	case NN_OP_PERMUTE:
	case NN_OP_SUM:
	case NN_OP_MEAN: {
		int n;
		const char *key = op == NN_OP_PERMUTE ? "perm" : "axes";
		unsigned mask = 0;
		if (!opts || lua_getfield(L, opts, key) != LUA_TTABLE) {
			if (op == NN_OP_PERMUTE)
				return luaL_argerror(L, 5, "permute needs { perm = {...} }");
			I[0] = 0x1f; /* everything */
			if (opts)
				lua_pop(L, 1);
			break;
		}
		n = (int)luaL_len(L, -1);
		for (int d = 0; d < n && d < NN_MAX_DIMS; d++) {
			lua_geti(L, -1, d + 1);
			int v = (int)luaL_checkinteger(L, -1) - 1;
			lua_pop(L, 1);
			if (op == NN_OP_PERMUTE)
				I[d] = v;
			else if (v >= 0 && v < NN_MAX_DIMS)
				mask |= 1u << v;
		}
		lua_pop(L, 1);
		if (op != NN_OP_PERMUTE)
			I[0] = (int)mask;
		break;
	}
	default:
		break;
	}
	return push_id(L, nn_graph_op(g, (enum nn_op)op, name, src, nsrc, &p));
}

/* g:output(id): marks an output */
static int g_output(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);

	nn_graph_output(g, check_node(L, g, 2));
	return 0;
}

/* g:shape(id) -> { ... } */
static int g_shape(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	const struct nn_node *nd = nn_graph_node(g, check_node(L, g, 2));

	ltensor_pushshape(L, nd->ndim, nd->shape);
	return 1;
}

/* g:node(id) -> { name =, op =, shape =, sources = {...}, flops = } */
static int g_node(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int id = check_node(L, g, 2);
	const struct nn_node *nd = nn_graph_node(g, id);

	lua_createtable(L, 0, 5);
	lua_pushstring(L, nd->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, nn_op_name(nd->op));
	lua_setfield(L, -2, "op");
	ltensor_pushshape(L, nd->ndim, nd->shape);
	lua_setfield(L, -2, "shape");
	lua_createtable(L, nd->nsrc, 0);
	for (int s = 0; s < nd->nsrc; s++) {
		lua_pushinteger(L, nd->src[s]);
		lua_rawseti(L, -2, s + 1);
	}
	lua_setfield(L, -2, "sources");
	lua_pushnumber(L, nn_graph_node_flops(g, id));
	lua_setfield(L, -2, "flops");
	return 1;
}

/* g:rename(id, name) */
static int g_rename(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);

	if (nn_graph_rename(g, check_node(L, g, 2), luaL_checkstring(L, 3)))
		return luaL_error(L, "%s", det_error_message());
	return 0;
}

/* g:flops(id) -> forward FLOPs of one node */
static int g_flops(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);

	lua_pushnumber(L, nn_graph_node_flops(g, check_node(L, g, 2)));
	return 1;
}

static int g_count(lua_State *L)
{
	lua_pushinteger(L, nn_graph_node_count(lgraph_check(L, 1)));
	return 1;
}

/* g:find(name) -> id or nil */
static int g_find(lua_State *L)
{
	int id = nn_graph_find(lgraph_check(L, 1), luaL_checkstring(L, 2));

	if (id < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, id);
	return 1;
}

/* g:train([on]) -> on: reads or sets training mode */
static int g_train(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);

	if (!lua_isnone(L, 2))
		nn_graph_set_train(g, lua_toboolean(L, 2));
	lua_pushboolean(L, nn_graph_is_train(g));
	return 1;
}

static int g_plan(lua_State *L)
{
	if (nn_graph_plan(lgraph_check(L, 1)))
		return luaL_error(L, "%s", det_error_message());
	return 0;
}

/* Copies a tensor into a node's buffer (same element count). */
static void copy_in(lua_State *L, float *dst, const struct nn_node *nd, int arg)
{
	struct tensor *t = ltensor_check(L, arg);

	if (t->numel != nd->numel)
		luaL_error(L, "%s expects %d values, got a tensor of %d", nd->name, (int)nd->numel, (int)t->numel);
	if (!dst)
		luaL_error(L, "%s has no buffer here (no gradient flows to it?)", nd->name);
	if (tensor_is_contiguous(t))
		memcpy(dst, t->data, sizeof(float) * (size_t)t->numel);
	else {
		struct tensor *flat = tensor_contiguous(t);
		if (flat)
			memcpy(dst, flat->data, sizeof(float) * (size_t)t->numel);
		tensor_free(flat);
	}
}

/* g:set_input(id, tensor): copies into an input node */
static int g_set_input(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int id = check_node(L, g, 2);

	luaL_argcheck(L, nn_graph_node(g, id)->op == NN_OP_INPUT, 2, "not an input node");
	copy_in(L, nn_graph_value(g, id), nn_graph_node(g, id), 3);
	return 0;
}

/* g:forward() -> true, or nil, message when checking found a NaN/Inf */
static int g_forward(lua_State *L)
{
	int rc = nn_graph_forward(lgraph_check(L, 1));

	if (rc == DET_ENUM) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	if (rc)
		return luaL_error(L, "%s", det_error_message());
	lua_pushboolean(L, 1);
	return 1;
}

/* g:check(on): stop forward/backward at the first NaN or Inf, naming the node */
static int g_check(lua_State *L)
{
	nn_graph_set_check(lgraph_check(L, 1), lua_toboolean(L, 2));
	return 0;
}

/* g:set_grad(id, tensor) -> true: the gradient of an output, before
 * backward; false (and nothing copied) when no gradient flows through it
 * (everything upstream frozen) */
static int g_set_grad(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int id = check_node(L, g, 2);
	float *dst = nn_graph_grad(g, id);

	ltensor_check(L, 3);
	if (!dst || !nn_graph_node(g, id)->run_backward) {
		lua_pushboolean(L, 0);
		return 1;
	}
	copy_in(L, dst, nn_graph_node(g, id), 3);
	lua_pushboolean(L, 1);
	return 1;
}

/* g:backward() -> true, or nil, message when checking found a NaN/Inf */
static int g_backward(lua_State *L)
{
	int rc = nn_graph_backward(lgraph_check(L, 1));

	if (rc == DET_ENUM) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	if (rc)
		return luaL_error(L, "%s", det_error_message());
	lua_pushboolean(L, 1);
	return 1;
}

/* A copy of a node's value (grad = 0) or gradient (grad = 1) as a new tensor. */
static int push_copy(lua_State *L, int grad)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int id = check_node(L, g, 2);
	const struct nn_node *nd = nn_graph_node(g, id);
	const float *src = grad ? nn_graph_grad(g, id) : nn_graph_value(g, id);
	struct tensor *t;

	if (!src)
		return luaL_error(L, "%s has no %s yet (run forward%s first)", nd->name, grad ? "gradient" : "value",
			grad ? " and backward" : "");
	if (!(t = tensor_new(nd->ndim, nd->shape)))
		return luaL_error(L, "%s", det_error_message());
	memcpy(t->data, src, sizeof(float) * (size_t)nd->numel);
	ltensor_push(L, t);
	return 1;
}

static int g_value(lua_State *L) { return push_copy(L, 0); }
static int g_grad(lua_State *L) { return push_copy(L, 1); }

static void push_entry(lua_State *L, const struct nn_param *p)
{
	lua_createtable(L, 0, 7);
	lua_pushstring(L, p->name);
	lua_setfield(L, -2, "name");
	ltensor_pushshape(L, p->ndim, p->shape);
	lua_setfield(L, -2, "shape");
	lua_pushinteger(L, (lua_Integer)p->offset);
	lua_setfield(L, -2, "offset");
	lua_pushinteger(L, (lua_Integer)p->count);
	lua_setfield(L, -2, "count");
	lua_pushboolean(L, (p->flags & NN_PARAM_NORM) != 0);
	lua_setfield(L, -2, "norm");
	lua_pushboolean(L, (p->flags & NN_PARAM_BIAS) != 0);
	lua_setfield(L, -2, "bias");
	lua_pushboolean(L, p->frozen);
	lua_setfield(L, -2, "frozen");
}

/* g:parameters() -> { { name, shape, offset (0-based, in floats), count, norm, bias, frozen }, ... } */
static int g_parameters(lua_State *L)
{
	struct nn_store *s = nn_graph_store(lgraph_check(L, 1));

	lua_createtable(L, s->nparams, 0);
	for (int i = 0; i < s->nparams; i++) {
		push_entry(L, &s->params[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* g:buffers() -> the running statistics, as g:parameters() */
static int g_buffers(lua_State *L)
{
	struct nn_store *s = nn_graph_store(lgraph_check(L, 1));

	lua_createtable(L, s->nbuffers, 0);
	for (int i = 0; i < s->nbuffers; i++) {
		push_entry(L, &s->buffers[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* A borrowed tensor over slab memory; keeps the graph alive. */
static int push_slab(lua_State *L, float *base, int ndim, const int64_t *shape)
{
	struct tensor *t = tensor_wrap(base, ndim, shape);

	ltensor_push_borrowed(L, t, 1);
	return 1;
}

/* g:slab(which) -> 1-D tensor view of "params", "grads" or "state" */
static int g_slab(lua_State *L)
{
	static const char *const which[] = { "params", "grads", "state", NULL };
	struct nn_store *s = nn_graph_store(lgraph_check(L, 1));
	int w = luaL_checkoption(L, 2, NULL, which);
	int64_t n = (int64_t)(w == 2 ? s->nstate : s->count);

	return push_slab(L, w == 0 ? s->data : w == 1 ? s->grad : s->state, 1, &n);
}

/* g:tensor(name[, "grad"]) -> a view of one parameter (or its gradient, or a
 * running-statistics buffer), shaped */
static int g_tensor(lua_State *L)
{
	struct nn_store *s = nn_graph_store(lgraph_check(L, 1));
	const char *name = luaL_checkstring(L, 2);
	int grad = !strcmp(luaL_optstring(L, 3, "value"), "grad");
	int i = nn_store_find(s, name);

	if (i >= 0)
		return push_slab(L, (grad ? s->grad : s->data) + s->params[i].offset, s->params[i].ndim,
			s->params[i].shape);
	if ((i = nn_store_find_buffer(s, name)) >= 0)
		return push_slab(L, s->state + s->buffers[i].offset, 1, s->buffers[i].shape);
	lua_pushnil(L);
	lua_pushfstring(L, "no parameter or buffer named '%s'", name);
	return 2;
}

/* g:freeze(prefix[, frozen = true]) -> number of parameters matched; the
 * optimiser bound with g:bind is re-bound with the new frozen flags */
static int g_freeze(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	const char *prefix = luaL_checkstring(L, 2);
	int frozen = lua_isnone(L, 3) ? 1 : lua_toboolean(L, 3);

	int n = nn_store_freeze(nn_graph_store(g), prefix, frozen);

	/* an optimiser bound to this graph learns the new frozen set at once */
	if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA && luaL_testudata(L, -1, LOPTIM_NAME) &&
		nn_store_bind_optim(nn_graph_store(g), loptim_check(L, -1)))
		return luaL_error(L, "%s", det_error_message());
	lua_pushinteger(L, n);
	return 1;
}

/* g:bind(opt): the optimiser steps this graph's parameters from now on
 * (opt:step() with no arguments); the graph keeps the optimiser alive.
 * g:freeze re-binds it; bind again after adding parameters. */
static int g_bind(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	struct optim *opt = loptim_check(L, 2);

	loptim_release_arrays(L, 2);
	if (nn_store_bind_optim(nn_graph_store(g), opt))
		return luaL_error(L, "%s", det_error_message());
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, 1, 1);
	return 0;
}

/* g:profile(on): time every node's forward and backward from now on (zeroed) */
static int g_profile(lua_State *L)
{
	nn_graph_set_profile(lgraph_check(L, 1), lua_toboolean(L, 2));
	return 0;
}

/* g:times() -> { { name, op, forward, backward }, ... } seconds accumulated
 * per node since profiling was turned on */
static int g_times(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	int n = nn_graph_node_count(g), k = 0;

	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		const struct nn_node *nd = nn_graph_node(g, i);
		if (nd->op == NN_OP_INPUT || nd->op == NN_OP_PARAM)
			continue;
		lua_createtable(L, 0, 4);
		lua_pushstring(L, nd->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, nn_op_name(nd->op));
		lua_setfield(L, -2, "op");
		lua_pushnumber(L, nd->time_fwd);
		lua_setfield(L, -2, "forward");
		lua_pushnumber(L, nd->time_bwd);
		lua_setfield(L, -2, "backward");
		lua_rawseti(L, -2, ++k);
	}
	return 1;
}

/* g:save(path) -> true, or nil, message */
static int g_save(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);

	if (nn_store_save(nn_graph_store(g), luaL_checkstring(L, 2))) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* g:load(path[, strict]) -> { loaded, missing, unexpected }, or nil, message */
static int g_load(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	struct nn_load_report rep;

	if (nn_store_load(nn_graph_store(g), luaL_checkstring(L, 2), lua_toboolean(L, 3), &rep)) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, rep.loaded);
	lua_setfield(L, -2, "loaded");
	lua_pushinteger(L, rep.missing);
	lua_setfield(L, -2, "missing");
	lua_pushinteger(L, rep.unexpected);
	lua_setfield(L, -2, "unexpected");
	return 1;
}

/* g:stats() -> { arena_bytes, naive_bytes, workspace_bytes, plans, allocations,
 * parameters, nodes } */
static int g_stats(lua_State *L)
{
	struct nn_graph *g = lgraph_check(L, 1);
	struct nn_graph_stats st;

	nn_graph_stats(g, &st);
	lua_createtable(L, 0, 7);
	lua_pushinteger(L, (lua_Integer)st.arena_bytes);
	lua_setfield(L, -2, "arena_bytes");
	lua_pushinteger(L, (lua_Integer)st.naive_bytes);
	lua_setfield(L, -2, "naive_bytes");
	lua_pushinteger(L, (lua_Integer)st.workspace_bytes);
	lua_setfield(L, -2, "workspace_bytes");
	lua_pushinteger(L, st.plans);
	lua_setfield(L, -2, "plans");
	lua_pushinteger(L, st.allocations);
	lua_setfield(L, -2, "allocations");
	lua_pushinteger(L, (lua_Integer)nn_graph_store(g)->count);
	lua_setfield(L, -2, "parameters");
	lua_pushinteger(L, nn_graph_node_count(g));
	lua_setfield(L, -2, "nodes");
	return 1;
}

static int g_tostring(lua_State *L)
{
	struct lgraph *p = tolgraph(L, 1);

	if (!p->g)
		lua_pushliteral(L, "<graph (closed)>");
	else
		lua_pushfstring(L, "<graph: %d nodes, %d parameters (%d values), %s>", nn_graph_node_count(p->g),
			nn_graph_store(p->g)->nparams, (int)nn_graph_store(p->g)->count,
			nn_graph_is_train(p->g) ? "training" : "evaluation");
	return 1;
}

static const luaL_Reg methods[] = {
	{ "input", g_input },
	{ "param", g_param },
	{ "op", g_op },
	{ "output", g_output },
	{ "shape", g_shape },
	{ "node", g_node },
	{ "count", g_count },
	{ "rename", g_rename },
	{ "flops", g_flops },
	{ "find", g_find },
	{ "train", g_train },
	{ "plan", g_plan },
	{ "set_input", g_set_input },
	{ "forward", g_forward },
	{ "check", g_check },
	{ "set_grad", g_set_grad },
	{ "backward", g_backward },
	{ "value", g_value },
	{ "grad", g_grad },
	{ "parameters", g_parameters },
	{ "buffers", g_buffers },
	{ "slab", g_slab },
	{ "tensor", g_tensor },
	{ "freeze", g_freeze },
	{ "stats", g_stats },
	{ "bind", g_bind },
	{ "save", g_save },
	{ "profile", g_profile },
	{ "times", g_times },
	{ "load", g_load },
	{ NULL, NULL },
};

static const luaL_Reg metamethods[] = {
	{ "__index", NULL },
	{ "__gc", g_gc },
	{ "__close", g_gc_close },
	{ "__tostring", g_tostring },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LGRAPH_NAME)) {
		luaL_setfuncs(L, metamethods, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}

static const luaL_Reg funcs[] = {
	{ "graph", l_graph },
	{ NULL, NULL },
};

int luaopen_det_nn(lua_State *L)
{
	createmeta(L);
	luaL_newlib(L, funcs);
	return 1;
}
