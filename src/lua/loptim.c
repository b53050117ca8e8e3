/* loptim.c: det.core.optim — optimiser objects whose hyper-parameters read
 * and write as fields (opt.lr = 0.003), stepped on a model's slab (bound
 * from C by the engine) or on plain Lua arrays, with state save and load. */
#include "lua/loptim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/error.h"
#include "lua/ldet.h"

/* The Lua box. p, g: slabs made for opt:step(params, grads) on Lua tables
 * (owned; NULL when the optimiser is bound to a model instead). */
struct loptim {
	struct optim *opt;
	float *p, *g;
	size_t n;
};

static struct loptim *toloptim(lua_State *L, int arg)
{
	return luaL_checkudata(L, arg, LOPTIM_NAME);
}

struct optim *loptim_check(lua_State *L, int arg)
{
	struct loptim *b = toloptim(L, arg);

	if (!b->opt)
		luaL_argerror(L, arg, "optimiser is closed");
	return b->opt;
}

void loptim_release_arrays(lua_State *L, int arg)
{
	struct loptim *b = toloptim(L, arg);

	if (b->opt && b->p && optim_params(b->opt) == b->p)
		optim_unbind(b->opt);
	free(b->p);
	free(b->g);
	b->p = b->g = NULL;
	b->n = 0;
}

static int o_gc(lua_State *L)
{
	struct loptim *b = toloptim(L, 1);

	optim_free(b->opt);
	b->opt = NULL;
	loptim_release_arrays(L, 1);
	return 0;
}

/* opt:close() and <close>: not while a training run holds the optimiser */
static int o_close(lua_State *L)
{
	lpin_check(L, 1, "opt:close", "an experiment");
	return o_gc(L);
}

static const char *kname(struct optim *opt)
{
	return optim_kind_name(optim_kind(opt));
}

static int is_adam(struct optim *opt)
{
	return optim_kind(opt) == OPTIM_ADAM || optim_kind(opt) == OPTIM_ADAMW;
}

/* Pushes "lr, momentum, ..., extra1, extra2" for error messages. */
static void push_valid(lua_State *L, struct optim *opt, const char *const *extra)
{
	luaL_Buffer b;
	int first = 1;

	luaL_buffinit(L, &b);
	for (const char *const *k = optim_keys(optim_kind(opt)); *k; k++, first = 0) {
		if (!first)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, *k);
	}
	for (; extra && *extra; extra++) {
		luaL_addstring(&b, ", ");
		luaL_addstring(&b, *extra);
	}
	luaL_pushresult(&b);
}

static const char *const config_extra_adam[] = { "betas", "groups", NULL };
static const char *const config_extra[] = { "groups", NULL };
static const char *const read_extra_adam[] = { "betas", "kind", "step_count", "grad_norm", "params",
	"ema_decay", "groups", NULL };
static const char *const read_extra[] = { "kind", "step_count", "grad_norm", "params", "ema_decay",
	"groups", NULL };

static int unknown_key(lua_State *L, struct optim *opt, const char *key, const char *what,
                       const char *const *extra)
{
	push_valid(L, opt, extra);
	return luaL_error(L, "det.optim.%s: %s '%s' (valid: %s)", kname(opt), what, key, lua_tostring(L, -1));
}

static int known_key(struct optim *opt, const char *key)
{
	for (const char *const *k = optim_keys(optim_kind(opt)); *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

/* Sets one hyper-parameter from the value at idx (number or boolean). */
static void set_field(lua_State *L, struct optim *opt, const char *key, int idx)
{
	double v;

	if (strcmp(key, "betas") == 0 && is_adam(opt)) {
		luaL_checktype(L, idx, LUA_TTABLE);
		lua_geti(L, idx, 1);
		lua_geti(L, idx, 2);
		if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1))
			luaL_error(L, "det.optim.%s: betas must be two numbers {beta1, beta2}", kname(opt));
		double b1 = lua_tonumber(L, -2), b2 = lua_tonumber(L, -1);
		lua_pop(L, 2);
		double old1 = optim_config(opt)->beta1;
		if (optim_set(opt, "beta1", b1) || optim_set(opt, "beta2", b2)) {
			optim_config(opt)->beta1 = old1;
			luaL_error(L, "det.optim.%s", det_error_message());
		}
		return;
	}
	if (strcmp(key, "ema") == 0 && lua_istable(L, idx)) {
		lua_getfield(L, idx, "decay");
		lua_getfield(L, idx, "warmup");
		if (!lua_isnumber(L, -2) || (!lua_isnil(L, -1) && !lua_isnumber(L, -1)))
			luaL_error(L, "det.optim.%s: ema takes a decay or { decay = d, warmup = n }", kname(opt));
		if (optim_set(opt, "ema", lua_tonumber(L, -2)) ||
		    optim_set(opt, "ema_warmup", lua_isnil(L, -1) ? 0 : lua_tonumber(L, -1)))
			luaL_error(L, "det.optim.%s", det_error_message());
		lua_pop(L, 2);
		return;
	}
	if (!known_key(opt, key))
		unknown_key(L, opt, key, "no hyper-parameter", is_adam(opt) ? config_extra_adam : config_extra);
	if (optim_key_is_flag(key)) {
		if (!lua_isboolean(L, idx))
			luaL_error(L, "det.optim.%s: %s takes true or false, got %s", kname(opt), key, luaL_typename(L, idx));
		v = lua_toboolean(L, idx);
	} else {
		if (!lua_isnumber(L, idx))
			luaL_error(L, "det.optim.%s: %s takes a number, got %s", kname(opt), key, luaL_typename(L, idx));
		v = lua_tonumber(L, idx);
	}
	if (optim_set(opt, key, v))
		luaL_error(L, "det.optim.%s", det_error_message());
}

/* groups = { { match = "norm|bias", weight_decay = 0, lr_mult = 2, l1 = 0 }, ... } */
static void add_groups(lua_State *L, struct optim *opt, int idx)
{
	lua_Integer n;

	luaL_checktype(L, idx, LUA_TTABLE);
	n = luaL_len(L, idx);
	for (lua_Integer i = 1; i <= n; i++) {
		struct optim_group g = { .lr_mult = 1 };
		int t;

		lua_geti(L, idx, i);
		t = lua_gettop(L);
		if (!lua_istable(L, t))
			luaL_error(L, "det.optim.%s: groups[%d] must be a table", kname(opt), (int)i);
		lua_pushnil(L);
		while (lua_next(L, t)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
			if (strcmp(k, "match") == 0 && lua_type(L, -1) == LUA_TSTRING) {
				g.match = (char *)lua_tostring(L, -1);
			} else if (strcmp(k, "lr_mult") == 0 && lua_isnumber(L, -1)) {
				g.lr_mult = lua_tonumber(L, -1);
			} else if (strcmp(k, "weight_decay") == 0 && lua_isnumber(L, -1)) {
				g.has_weight_decay = 1;
				g.weight_decay = lua_tonumber(L, -1);
			} else if (strcmp(k, "l1") == 0 && lua_isnumber(L, -1)) {
				g.has_l1 = 1;
				g.l1 = lua_tonumber(L, -1);
			} else {
				luaL_error(L, "det.optim.%s: groups[%d] has a bad key '%s' (valid: match (a string), "
				           "lr_mult, weight_decay, l1 (numbers))", kname(opt), (int)i, k);
			}
			lua_pop(L, 1);
		}
		if (!g.match)
			luaL_error(L, "det.optim.%s: groups[%d] needs match = \"name|norm|bias\"", kname(opt), (int)i);
		if (optim_group_add(opt, &g))
			luaL_error(L, "det.optim.%s", det_error_message());
		lua_pop(L, 1);
	}
}

/* Warns (Lua's warn(), shown with warn "@on" or lua -W) about the main
 * hyper-parameters left at their defaults: the darknet lesson. */
static void warn_defaults(lua_State *L, struct optim *opt, int cfg)
{
	static const char *const quiet[] = { "dampening", "decoupled", "l1", "clip", "ema", "ema_warmup",
		"amsgrad", "centered", "nesterov", NULL };
	luaL_Buffer b;
	int n = 0;

	luaL_buffinit(L, &b);
	for (const char *const *k = optim_keys(optim_kind(opt)); *k; k++) {
		const char *const *q;
		int given = 0;
		double v;
		char num[64];

		for (q = quiet; *q && strcmp(*q, *k) != 0; q++)
			;
		if (*q)
			continue;
		if (lua_istable(L, cfg)) {
			const char *name = strncmp(*k, "beta", 4) == 0 ? "betas" : *k;
			given = lua_getfield(L, cfg, name) != LUA_TNIL;
			lua_pop(L, 1);
		}
		if (given)
			continue;
		optim_get(opt, *k, &v);
		snprintf(num, sizeof num, "%s%s=%g", n++ ? ", " : "", *k, v);
		luaL_addstring(&b, num);
	}
	luaL_pushresult(&b);
	if (n) {
		lua_pushfstring(L, "det.optim.%s: using defaults %s", kname(opt), lua_tostring(L, -1));
		lua_warning(L, lua_tostring(L, -1), 0);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* optim.new(kind, { lr = ..., ... }) -> optimiser */
static int l_new(lua_State *L)
{
	const char *kind = luaL_checkstring(L, 1);
	int k = optim_kind_parse(kind);
	struct loptim *b;
	int cfg = 2;

	if (k < 0)
		return luaL_error(L, "det.optim: unknown optimiser '%s' (valid: sgd, adam, adamw, rmsprop)", kind);
	if (!lua_isnoneornil(L, cfg))
		luaL_checktype(L, cfg, LUA_TTABLE);
	b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	luaL_setmetatable(L, LOPTIM_NAME);
	b->opt = optim_new((enum optim_kind)k, NULL);
	if (!b->opt)
		return luaL_error(L, "det.optim.%s: %s", kind, det_error_message());
	if (lua_istable(L, cfg)) {
		/* first every key must be known; then they apply in the order of
		 * optim_keys (momentum before nesterov, ...), whatever the table's */
		lua_pushnil(L);
		while (lua_next(L, cfg)) {
			const char *key;
			if (lua_type(L, -2) != LUA_TSTRING)
				return luaL_error(L, "det.optim.%s: configuration keys are names, got a %s", kind,
				                  luaL_typename(L, -2));
			key = lua_tostring(L, -2);
			if (!known_key(b->opt, key) && strcmp(key, "groups") != 0 &&
			    !(strcmp(key, "betas") == 0 && is_adam(b->opt)))
				unknown_key(L, b->opt, key, "no hyper-parameter",
				            is_adam(b->opt) ? config_extra_adam : config_extra);
			lua_pop(L, 1);
		}
		if (lua_getfield(L, cfg, "betas") != LUA_TNIL)
			set_field(L, b->opt, "betas", lua_gettop(L));
		lua_pop(L, 1);
		for (const char *const *key = optim_keys(optim_kind(b->opt)); *key; key++) {
			if (lua_getfield(L, cfg, *key) != LUA_TNIL)
				set_field(L, b->opt, *key, lua_gettop(L));
			lua_pop(L, 1);
		}
		if (lua_getfield(L, cfg, "groups") != LUA_TNIL)
			add_groups(L, b->opt, lua_gettop(L));
		lua_pop(L, 1);
	}
	warn_defaults(L, b->opt, cfg);
	return 1;
}

static void push_groups(lua_State *L, struct optim *opt)
{
	size_t n = optim_group_count(opt);

	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const struct optim_group *g = optim_group_get(opt, i);
		lua_createtable(L, 0, 4);
		lua_pushstring(L, g->match);
		lua_setfield(L, -2, "match");
		lua_pushnumber(L, g->lr_mult);
		lua_setfield(L, -2, "lr_mult");
		if (g->has_weight_decay) {
			lua_pushnumber(L, g->weight_decay);
			lua_setfield(L, -2, "weight_decay");
		}
		if (g->has_l1) {
			lua_pushnumber(L, g->l1);
			lua_setfield(L, -2, "l1");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static int o_index(lua_State *L)
{
	struct optim *opt;
	const char *key = luaL_checkstring(L, 2);
	double v;

	toloptim(L, 1);
	luaL_getmetatable(L, LOPTIM_NAME);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, key);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 3);
	opt = loptim_check(L, 1);
	if (strcmp(key, "kind") == 0) {
		lua_pushstring(L, kname(opt));
	} else if (strcmp(key, "step_count") == 0) {
		lua_pushinteger(L, (lua_Integer)optim_step_count(opt));
	} else if (strcmp(key, "grad_norm") == 0) {
		lua_pushnumber(L, optim_grad_norm(opt));
	} else if (strcmp(key, "params") == 0) {
		lua_pushinteger(L, (lua_Integer)optim_size(opt));
	} else if (strcmp(key, "ema_decay") == 0) {
		lua_pushnumber(L, optim_ema_decay(opt));
	} else if (strcmp(key, "groups") == 0) {
		push_groups(L, opt);
	} else if (strcmp(key, "betas") == 0 && is_adam(opt)) {
		lua_createtable(L, 2, 0);
		lua_pushnumber(L, optim_config(opt)->beta1);
		lua_rawseti(L, -2, 1);
		lua_pushnumber(L, optim_config(opt)->beta2);
		lua_rawseti(L, -2, 2);
	} else if (known_key(opt, key)) {
		optim_get(opt, key, &v);
		if (optim_key_is_flag(key))
			lua_pushboolean(L, v != 0);
		else
			lua_pushnumber(L, v);
	} else {
		return unknown_key(L, opt, key, "has no field", is_adam(opt) ? read_extra_adam : read_extra);
	}
	return 1;
}

static int o_newindex(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	const char *key = luaL_checkstring(L, 2);

	if (strcmp(key, "kind") == 0 || strcmp(key, "step_count") == 0 || strcmp(key, "grad_norm") == 0 ||
	    strcmp(key, "params") == 0 || strcmp(key, "ema_decay") == 0 || strcmp(key, "groups") == 0)
		return luaL_error(L, "det.optim.%s: %s is read-only", kname(opt), key);
	set_field(L, opt, key, 3);
	return 0;
}

static int o_tostring(lua_State *L)
{
	struct loptim *b = toloptim(L, 1);
	char line[512];

	if (!b->opt) {
		lua_pushliteral(L, "<det.optim (closed)>");
		return 1;
	}
	optim_describe(b->opt, line, sizeof line);
	lua_pushfstring(L, "<det.optim %s>", line);
	return 1;
}

/* ---- stepping on Lua tables ----------------------------------------- */

/* Is t (at idx) a flat array of numbers? Otherwise a table name -> array. */
static int is_flat(lua_State *L, int idx)
{
	int flat;

	lua_geti(L, idx, 1);
	flat = lua_isnumber(L, -1);
	lua_pop(L, 1);
	return flat;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Builds the segment list for a table of params: one segment "params" for
 * a flat array, one per name (sorted) for a table of arrays, flagged bias
 * or norm when the name contains "bias" or "norm". The names are Lua
 * strings kept alive by the params table; the list is a Lua userdata
 * pushed on the stack (so an error frees it). */
static struct optim_segment *layout(lua_State *L, int idx, size_t *nseg, size_t *n, int *flat)
{
	struct optim_segment *segs;
	size_t count = 0, off = 0;

	luaL_checktype(L, idx, LUA_TTABLE);
	*flat = is_flat(L, idx);
	if (*flat) {
		segs = lua_newuserdatauv(L, sizeof *segs, 0);
		segs[0] = (struct optim_segment){ "params", 0, (size_t)luaL_len(L, idx), 0 };
		*nseg = 1;
		*n = segs[0].count;
		return segs;
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1))
			luaL_error(L, "opt:step: params must be an array of numbers or a table of named arrays");
		count++;
		lua_pop(L, 1);
	}
	segs = lua_newuserdatauv(L, (count ? count : 1) * sizeof *segs, 0);
	count = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		segs[count++].name = lua_tostring(L, -2);
		lua_pop(L, 1);
	}
	qsort(segs, count, sizeof *segs, cmp_str);
	for (size_t i = 0; i < count; i++) {
		lua_getfield(L, idx, segs[i].name);
		segs[i].offset = off;
		segs[i].count = (size_t)luaL_len(L, -1);
		segs[i].flags = (strstr(segs[i].name, "bias") ? OPTIM_BIAS : 0) |
		                (strstr(segs[i].name, "norm") ? OPTIM_NORM : 0);
		off += segs[i].count;
		lua_pop(L, 1);
	}
	*nseg = count;
	*n = off;
	return segs;
}

/* Copies between a Lua table shaped like the layout and a float slab. */
static void copy_table(lua_State *L, int idx, const struct optim_segment *segs, size_t nseg, int flat,
                       float *x, int to_lua, const char *what)
{
	for (size_t s = 0; s < nseg; s++) {
		int t = idx;
		if (!flat) {
			lua_getfield(L, idx, segs[s].name);
			t = lua_gettop(L);
			if (!lua_istable(L, t) || (size_t)luaL_len(L, t) != segs[s].count)
				luaL_error(L, "opt:step: %s.%s must be an array of %d numbers", what, segs[s].name,
				           (int)segs[s].count);
		} else if ((size_t)luaL_len(L, t) != segs[s].count) {
			luaL_error(L, "opt:step: %s must be an array of %d numbers", what, (int)segs[s].count);
		}
		for (size_t i = 0; i < segs[s].count; i++) {
			float *v = &x[segs[s].offset + i];
			if (to_lua) {
				lua_pushnumber(L, *v);
				lua_seti(L, t, (lua_Integer)i + 1);
			} else {
				int isnum;
				lua_geti(L, t, (lua_Integer)i + 1);
				*v = (float)lua_tonumberx(L, -1, &isnum);
				if (!isnum)
					luaL_error(L, "opt:step: %s[%d] is not a number", what, (int)i + 1);
				lua_pop(L, 1);
			}
		}
		if (t != idx)
			lua_pop(L, 1);
	}
}

/* opt:step() steps the bound model; opt:step(params, grads) steps plain Lua
 * arrays (flat, or tables of named arrays) and writes params (and the
 * clipped grads) back. Returns the gradient norm before clipping, or nil
 * and a message when the gradients hold a NaN or Inf. */
static int o_step(lua_State *L)
{
	struct loptim *b = toloptim(L, 1);
	struct optim *opt = loptim_check(L, 1);
	int rc;

	if (!lua_isnoneornil(L, 2)) {
		size_t nseg, n;
		int flat;
		struct optim_segment *segs = layout(L, 2, &nseg, &n, &flat);
		luaL_checktype(L, 3, LUA_TTABLE);
		if (optim_is_bound(opt) && (!b->p || optim_params(opt) != b->p))
			return luaL_error(L, "opt:step: this optimiser is bound to a model; call opt:step() without tables");
		if (n == 0)
			return luaL_error(L, "opt:step: no parameters");
		if (b->n != n) {
			float *p = realloc(b->p, n * sizeof *p), *g;
			if (p)
				b->p = p;
			g = p ? realloc(b->g, n * sizeof *g) : NULL;
			if (g)
				b->g = g;
			if (!p || !g)
				return luaL_error(L, "opt:step: out of memory for %d parameters", (int)n);
			b->n = n;
		}
		copy_table(L, 2, segs, nseg, flat, b->p, 0, "params");
		copy_table(L, 3, segs, nseg, flat, b->g, 0, "grads");
		if (optim_bind(opt, b->p, b->g, n, segs, nseg))
			return luaL_error(L, "opt:step: %s", det_error_message());
		rc = optim_step(opt);
		if (rc == 0) {
			copy_table(L, 2, segs, nseg, flat, b->p, 1, "params");
			copy_table(L, 3, segs, nseg, flat, b->g, 1, "grads");
		}
	} else {
		rc = optim_step(opt);
		if (rc == DET_EINVAL)
			return luaL_error(L, "opt:step: %s", det_error_message());
	}
	if (rc) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushnumber(L, optim_grad_norm(opt));
	return 1;
}

/* opt:ema() -> the EMA weights as a flat array (nil when EMA is off) */
static int o_ema(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	const float *e = optim_ema_weights(opt);
	size_t n = optim_size(opt);

	if (!e) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, e[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* opt:config() -> { lr = ..., momentum = ..., ... } (a copy) */
static int o_config(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);

	lua_newtable(L);
	for (const char *const *k = optim_keys(optim_kind(opt)); *k; k++) {
		double v;
		optim_get(opt, *k, &v);
		if (optim_key_is_flag(*k))
			lua_pushboolean(L, v != 0);
		else
			lua_pushnumber(L, v);
		lua_setfield(L, -2, *k);
	}
	return 1;
}

/* opt:state() -> a string holding the state record */
static int o_state(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	size_t size = optim_state_size(opt);
	luaL_Buffer b;
	char *p;

	if (!optim_is_bound(opt))
		return luaL_error(L, "opt:state: %s has no state before its first step or bind", kname(opt));
	p = luaL_buffinitsize(L, &b, size);
	if (optim_state_write(opt, p, size))
		return luaL_error(L, "opt:state: %s", det_error_message());
	luaL_pushresultsize(&b, size);
	return 1;
}

/* opt:load_state(s) -> true | nil, message */
static int o_load_state(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	size_t size;
	const char *s = luaL_checklstring(L, 2, &size);

	if (optim_state_read(opt, s, size)) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* opt:save(path) -> true | nil, message */
static int o_save(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	const char *path = luaL_checkstring(L, 2);
	FILE *f;
	int rc;

	if (!optim_is_bound(opt))
		return luaL_error(L, "opt:save: %s has no state before its first step or bind", kname(opt));
	struct atomic_file af;
	if (atomic_file_open(&af, path) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	f = af.f;
	rc = optim_state_save(opt, f);
	if (rc)
		atomic_file_abort(&af);
	else
		rc = atomic_file_commit(&af);
	if (rc) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* opt:load(path) -> true | nil, message */
static int o_load(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);
	const char *path = luaL_checkstring(L, 2);
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		lua_pushnil(L);
		lua_pushfstring(L, "can't open %s (%s)", path, strerror(errno));
		return 2;
	}
	rc = optim_state_load(opt, f);
	fclose(f);
	if (rc) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, det_error_message());
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* opt:swap_ema() exchanges the bound weights and their EMA */
static int o_swap_ema(lua_State *L)
{
	struct optim *opt = loptim_check(L, 1);

	if (optim_ema_swap(opt))
		return luaL_error(L, "opt:swap_ema: %s", det_error_message());
	return 0;
}

static const luaL_Reg o_methods[] = {
	{ "step", o_step },
	{ "ema", o_ema },
	{ "swap_ema", o_swap_ema },
	{ "config", o_config },
	{ "state", o_state },
	{ "load_state", o_load_state },
	{ "save", o_save },
	{ "load", o_load },
	{ "close", o_close },
	{ NULL, NULL },
};

static const luaL_Reg o_meta[] = {
	{ "__gc", o_gc },
	{ "__close", o_close },
	{ "__index", o_index },
	{ "__newindex", o_newindex },
	{ "__tostring", o_tostring },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	if (luaL_newmetatable(L, LOPTIM_NAME)) {
		luaL_setfuncs(L, o_meta, 0);
		luaL_newlib(L, o_methods);
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
}

/* keys(kind) -> { "lr", "momentum", ... } */
static int l_keys(lua_State *L)
{
	int k = optim_kind_parse(luaL_checkstring(L, 1));
	int i = 1;

	luaL_argcheck(L, k >= 0, 1, "unknown optimiser (sgd, adam, adamw, rmsprop)");
	lua_newtable(L);
	for (const char *const *key = optim_keys((enum optim_kind)k); *key; key++) {
		lua_pushstring(L, *key);
		lua_rawseti(L, -2, i++);
	}
	return 1;
}

static const luaL_Reg optim_funcs[] = {
	{ "new", l_new },
	{ "keys", l_keys },
	{ NULL, NULL },
};

int luaopen_det_optim(lua_State *L)
{
	createmeta(L);
	luaL_newlib(L, optim_funcs);
	return 1;
}
