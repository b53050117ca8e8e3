/* ldetector.c: det.core.detector — the C detector (src/det/detector.h) as a
 * Lua object ("det.detector"), made by model:detector{...} from a config
 * table (lua/det/model.lua fills it), with the training step, prediction
 * and loss weights reachable from Lua. The trainer takes the struct with
 * ldetector_check and calls detector_train_step on its own thread. */
#include "lua/ldetector.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "data/loader.h"
#include "lua/laug.h"
#include "lua/ldet.h"
#include "lua/lloss.h"
#include "lua/lnn.h"
#include "lua/loptim.h"

struct ldetector {
	struct detector *d;
};

struct detector *ldetector_check(lua_State *L, int arg)
{
	struct ldetector *p = luaL_checkudata(L, arg, LDETECTOR_NAME);

	if (!p->d)
		luaL_argerror(L, arg, "detector is freed");
	return p->d;
}

static int d_gc(lua_State *L)
{
	struct ldetector *p = luaL_checkudata(L, 1, LDETECTOR_NAME);

	detector_free(p->d);
	p->d = NULL;
	return 0;
}

/* <close>: not while an experiment holds it */
static int d_gc_close(lua_State *L)
{
	lpin_check(L, 1, "detector <close>", "an experiment");
	return d_gc(L);
}

static double opt_num(lua_State *L, int t, const char *k, double def)
{
	double v = def;

	if (lua_getfield(L, t, k) != LUA_TNIL) {
		if (!lua_isnumber(L, -1))
			luaL_error(L, "detector: '%s' must be a number", k);
		v = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

static const char *opt_str(lua_State *L, int t, const char *k, const char *def)
{
	const char *v = def;

	if (lua_getfield(L, t, k) == LUA_TSTRING)
		v = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays alive in the config table */
	return v;
}

static void opt_loss(lua_State *L, int t, const char *k, struct det_loss *dst)
{
	if (lua_getfield(L, t, k) != LUA_TNIL) {
		struct det_loss *l = lloss_check(L, -1);
		*dst = *l; /* class weights borrowed here; detector_new copies them */
	}
	lua_pop(L, 1);
}

/* det.core.detector.new{ kind, classes, anchors, input, levels = { { level,
 * stride, cls, box, quality, range = {lo, hi}, anchors = { x0,y0,x1,y1,... } } },
 * assigner, center_sampling, atss_topk, atss_anchor_scale, pos_iou, neg_iou,
 * low_quality, quality, loss = { cls, box, quality, weights = {cls, box,
 * quality} }, nms = { method, iou, sigma, score_threshold, max_dets, nms_pre } } */
static int d_new(lua_State *L)
{
	struct detector_config cfg;
	struct ldetector *p;
	const char *kind, *s;

	luaL_checktype(L, 1, LUA_TTABLE);
	kind = opt_str(L, 1, "kind", "fcos");
	if (strcmp(kind, "fcos") && strcmp(kind, "retinanet") && strcmp(kind, "yolo"))
		return luaL_error(L, "detector: kind is fcos, retinanet or yolo (got %s)", kind);
	detector_config_default(&cfg, !strcmp(kind, "fcos") ? DETECTOR_FCOS : !strcmp(kind, "yolo") ? DETECTOR_YOLO :
		DETECTOR_RETINANET);
	cfg.classes = (int)opt_num(L, 1, "classes", 0);
	cfg.anchors = (int)opt_num(L, 1, "anchors", 1);
	cfg.input = (int)opt_num(L, 1, "input", 0);
	if (lua_getfield(L, 1, "levels") != LUA_TTABLE)
		return luaL_error(L, "detector: levels (a list) missing");
	cfg.nlevels = (int)luaL_len(L, -1);
	if (cfg.nlevels < 1 || cfg.nlevels > DETECTOR_MAX_LEVELS)
		return luaL_error(L, "detector: 1..%d levels (got %d)", DETECTOR_MAX_LEVELS, cfg.nlevels);
	for (int l = 0; l < cfg.nlevels; l++) {
		struct detector_level *lv = &cfg.levels[l];
		int t;

		lua_geti(L, -1, l + 1);
		t = lua_gettop(L);
		lv->level = (int)opt_num(L, t, "level", 3 + l);
		lv->stride = (float)opt_num(L, t, "stride", 0);
		lv->cls = (int)opt_num(L, t, "cls", -1);
		lv->box = (int)opt_num(L, t, "box", -1);
		lv->quality = (int)opt_num(L, t, "quality", -1);
		if (lua_getfield(L, t, "range") == LUA_TTABLE) {
			lua_geti(L, -1, 1);
			lua_geti(L, -2, 2);
			lv->range[0] = (float)luaL_optnumber(L, -2, -1);
			lv->range[1] = (float)luaL_optnumber(L, -1, HUGE_VAL);
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
		if (lua_getfield(L, t, "anchors") == LUA_TTABLE) {
			int n = (int)luaL_len(L, -1);
			if (n != 4 * cfg.anchors)
				return luaL_error(L, "detector: level %d lists %d anchor numbers, expected %d (4 per anchor)",
					l + 1, n, 4 * cfg.anchors);
			for (int i = 0; i < n; i++) {
				lua_geti(L, -1, i + 1);
				lv->anchors[i] = (float)lua_tonumber(L, -1);
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	s = opt_str(L, 1, "assigner", NULL);
	if (s) {
		if (!strcmp(s, "fcos"))
			cfg.assigner = DETECTOR_ASSIGN_FCOS;
		else if (!strcmp(s, "atss"))
			cfg.assigner = DETECTOR_ASSIGN_ATSS;
		else if (!strcmp(s, "maxiou"))
			cfg.assigner = DETECTOR_ASSIGN_MAXIOU;
		else if (!strcmp(s, "tal"))
			cfg.assigner = DETECTOR_ASSIGN_TAL;
		else
			return luaL_error(L, "detector: assigner is fcos, atss, maxiou or tal (got %s)", s);
	}
	cfg.center_sampling = (float)opt_num(L, 1, "center_sampling", cfg.center_sampling);
	cfg.atss_topk = (int)opt_num(L, 1, "atss_topk", cfg.atss_topk);
	cfg.atss_anchor_scale = (float)opt_num(L, 1, "atss_anchor_scale", cfg.atss_anchor_scale);
	cfg.pos_iou = (float)opt_num(L, 1, "pos_iou", cfg.pos_iou);
	cfg.neg_iou = (float)opt_num(L, 1, "neg_iou", cfg.neg_iou);
	cfg.reg_max = (int)opt_num(L, 1, "reg_max", cfg.reg_max);
	cfg.tal_topk = (int)opt_num(L, 1, "tal_topk", cfg.tal_topk);
	cfg.tal_alpha = (float)opt_num(L, 1, "tal_alpha", cfg.tal_alpha);
	cfg.tal_beta = (float)opt_num(L, 1, "tal_beta", cfg.tal_beta);
	if (lua_getfield(L, 1, "low_quality") != LUA_TNIL)
		cfg.low_quality = lua_toboolean(L, -1);
	lua_pop(L, 1);
	s = opt_str(L, 1, "quality", NULL);
	if (s) {
		if (!strcmp(s, "none"))
			cfg.quality = DETECTOR_QUALITY_NONE;
		else if (!strcmp(s, "centerness"))
			cfg.quality = DETECTOR_QUALITY_CENTERNESS;
		else if (!strcmp(s, "iou"))
			cfg.quality = DETECTOR_QUALITY_IOU;
		else
			return luaL_error(L, "detector: quality is none, centerness or iou (got %s)", s);
	}
	if (lua_getfield(L, 1, "loss") == LUA_TTABLE) {
		int t = lua_gettop(L);
		opt_loss(L, t, "cls", &cfg.cls_loss);
		opt_loss(L, t, "box", &cfg.box_loss);
		opt_loss(L, t, "quality", &cfg.quality_loss);
		if (lua_getfield(L, t, "weights") == LUA_TTABLE) {
			int w = lua_gettop(L);
			cfg.w_cls = (float)opt_num(L, w, "cls", cfg.w_cls);
			cfg.w_box = (float)opt_num(L, w, "box", cfg.w_box);
			cfg.w_quality = (float)opt_num(L, w, "quality", cfg.w_quality);
			cfg.w_dfl = (float)opt_num(L, w, "dfl", cfg.w_dfl);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, 1, "nms") == LUA_TTABLE) {
		int t = lua_gettop(L);
		s = opt_str(L, t, "method", NULL);
		if (s) {
			int m = det_nms_method_parse(s);
			if (m < 0)
				return luaL_error(L, "detector: nms.method is greedy, soft_linear, soft_gaussian or diou (got %s)", s);
			cfg.nms.method = (enum det_nms_method)m;
		}
		cfg.nms.iou_threshold = (float)opt_num(L, t, "iou", cfg.nms.iou_threshold);
		cfg.nms.sigma = (float)opt_num(L, t, "sigma", cfg.nms.sigma);
		cfg.nms.score_threshold = (float)opt_num(L, t, "score_threshold", cfg.nms.score_threshold);
		cfg.nms.max_dets = (int)opt_num(L, t, "max_dets", cfg.nms.max_dets);
		cfg.nms_pre = (int)opt_num(L, t, "nms_pre", cfg.nms_pre);
	}
	lua_pop(L, 1);

	p = lua_newuserdatauv(L, sizeof(*p), 1);
	p->d = NULL;
	luaL_setmetatable(L, LDETECTOR_NAME);
	p->d = detector_new(&cfg);
	if (!p->d)
		return luaL_error(L, "%s", det_error_message());
	return 1;
}

static void push_losses(lua_State *L, const struct detector_losses *o, int quality)
{
	lua_createtable(L, 0, 6);
	lua_pushnumber(L, o->cls);
	lua_setfield(L, -2, "cls");
	lua_pushnumber(L, o->box);
	lua_setfield(L, -2, "box");
	if (quality) {
		lua_pushnumber(L, o->quality);
		lua_setfield(L, -2, "quality");
	}
	lua_pushnumber(L, o->total);
	lua_setfield(L, -2, "total");
	lua_pushnumber(L, o->num_pos);
	lua_setfield(L, -2, "num_pos");
}

/* d:train_step(graph, opt|nil, loader) -> { cls, box, quality, total, num_pos }
 * | nil, message: the loader's next batch, forward, losses, backward, step */
static int d_train_step(lua_State *L)
{
	struct detector *d = ldetector_check(L, 1);
	struct nn_graph *g = lgraph_check(L, 2);
	struct optim *opt = lua_isnoneornil(L, 3) ? NULL : loptim_check(L, 3);
	struct loader *ld = lloader_check(L, 4);
	const struct loader_batch *b;
	struct detector_losses o;

	if (loader_next(ld, &b) < 0 || detector_train_step(d, g, opt, b, &o) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	push_losses(L, &o, detector_config_get(d)->quality != DETECTOR_QUALITY_NONE);
	if (detector_config_get(d)->kind == DETECTOR_YOLO && detector_config_get(d)->reg_max > 0) {
		lua_pushnumber(L, o.dfl);
		lua_setfield(L, -2, "dfl");
	}
	return 1;
}

static void push_dets(lua_State *L, const struct loader_batch *b, const struct detector_dets *dsp,
	size_t *kp);

/* d:predict(graph, loader) -> { { index = dataset image (1-based), dets = {
 * { x0, y0, x1, y1, class = k (1-based), score = s } } }, ... }, last_in_epoch
 * | nil, message: the loader's next batch through the graph and the decoder */
static int d_predict(lua_State *L)
{
	struct detector *d = ldetector_check(L, 1);
	struct nn_graph *g = lgraph_check(L, 2);
	struct loader *ld = lloader_check(L, 3);
	const struct loader_batch *b;
	struct detector_dets ds;
	size_t k = 0;

	detector_dets_init(&ds);
	if (loader_next(ld, &b) < 0 || detector_predict(d, g, b, &ds) < 0) {
		detector_dets_fini(&ds);
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	push_dets(L, b, &ds, &k);
	lua_pushboolean(L, b->last_in_epoch);
	detector_dets_fini(&ds);
	return 2;
}

/* Pushes { { index, dets = { { x0, y0, x1, y1, class =, score = } } } } for
 * the images of b (index: the dataset's, 1-based, or the batch position). */
static void push_dets(lua_State *L, const struct loader_batch *b, const struct detector_dets *dsp,
	size_t *kp)
{
	const struct detector_dets ds = *dsp;
	size_t k = *kp;

	lua_createtable(L, b->n, 0);
	for (int n = 0; n < b->n; n++) {
		int j = 0;
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, (lua_Integer)(b->indices ? b->indices[n] : (size_t)n) + 1);
		lua_setfield(L, -2, "index");
		lua_newtable(L);
		for (; k < ds.n && ds.det[k].image == n; k++) {
			const struct detector_det *e = &ds.det[k];
			lua_createtable(L, 4, 2);
			for (int i = 0; i < 4; i++) {
				lua_pushnumber(L, e->box[i]);
				lua_rawseti(L, -2, i + 1);
			}
			lua_pushinteger(L, e->cls + 1);
			lua_setfield(L, -2, "class");
			lua_pushnumber(L, e->score);
			lua_setfield(L, -2, "score");
			lua_rawseti(L, -2, ++j);
		}
		lua_setfield(L, -2, "dets");
		lua_rawseti(L, -2, n + 1);
	}
	*kp = k;
}

/* d:decode(graph) -> the same list as d:predict, for the batch the graph
 * last ran (m:forward(tensor)); boxes in the input's pixels */
static int d_decode(lua_State *L)
{
	struct detector *d = ldetector_check(L, 1);
	struct nn_graph *g = lgraph_check(L, 2);
	const struct nn_node *in = nn_graph_node(g, detector_config_get(d)->input);
	struct loader_batch b;
	struct detector_dets ds;
	size_t k = 0;

	if (!in || in->ndim != 4)
		return luaL_error(L, "d:decode: the graph has no (N, 3, H, W) input");
	memset(&b, 0, sizeof(b));
	b.n = (int)in->shape[0];
	b.height = (int)in->shape[2];
	b.width = (int)in->shape[3];
	detector_dets_init(&ds);
	if (detector_decode(d, g, &b, &ds) < 0) {
		detector_dets_fini(&ds);
		lua_pushnil(L);
		lua_pushstring(L, det_error_message());
		return 2;
	}
	push_dets(L, &b, &ds, &k);
	detector_dets_fini(&ds);
	return 1;
}

/* d:weights() -> { cls, box, quality }; d:weights{ cls =, box =, quality = } sets */
static int d_weights(lua_State *L)
{
	struct detector_config *c = detector_config_get(ldetector_check(L, 1));

	if (lua_istable(L, 2)) {
		/* a misspelt part ({ bx = 2 }) used to be ignored without a word */
		for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
			if (strcmp(k, "cls") && strcmp(k, "box") && strcmp(k, "quality") && strcmp(k, "dfl"))
				return luaL_error(L, "d:weights: unknown loss part '%s' (expected cls, box, quality, dfl)", k);
			if (!lua_isnumber(L, -1) || lua_tonumber(L, -1) < 0)
				return luaL_error(L, "d:weights: %s must be a number >= 0", k);
		}
		c->w_cls = (float)opt_num(L, 2, "cls", c->w_cls);
		c->w_box = (float)opt_num(L, 2, "box", c->w_box);
		c->w_quality = (float)opt_num(L, 2, "quality", c->w_quality);
		c->w_dfl = (float)opt_num(L, 2, "dfl", c->w_dfl);
	}
	lua_createtable(L, 0, 3);
	lua_pushnumber(L, c->w_cls);
	lua_setfield(L, -2, "cls");
	lua_pushnumber(L, c->w_box);
	lua_setfield(L, -2, "box");
	lua_pushnumber(L, c->w_quality);
	lua_setfield(L, -2, "quality");
	lua_pushnumber(L, c->w_dfl);
	lua_setfield(L, -2, "dfl");
	return 1;
}

static int d_tostring(lua_State *L)
{
	struct ldetector *p = luaL_checkudata(L, 1, LDETECTOR_NAME);
	const struct detector_config *c;
	static const char *assigners[] = { "fcos", "atss", "maxiou", "tal" };
	static const char *kinds[] = { "fcos", "retinanet", "yolo" };

	if (!p->d) {
		lua_pushstring(L, "<det.detector (freed)>");
		return 1;
	}
	c = detector_config_get(p->d);
	lua_pushfstring(L, "<det.detector %s: %d classes, %d levels, %d anchors, assigner %s, loss %s + %s%s%s>",
		kinds[c->kind], c->classes, c->nlevels, c->anchors,
		assigners[c->assigner], det_loss_kind_name(c->cls_loss.kind), det_loss_kind_name(c->box_loss.kind),
		c->quality != DETECTOR_QUALITY_NONE ? " + " : "",
		c->quality != DETECTOR_QUALITY_NONE ? det_loss_kind_name(c->quality_loss.kind) : "");
	return 1;
}

static const luaL_Reg methods[] = {
	{ "train_step", d_train_step },
	{ "predict", d_predict },
	{ "decode", d_decode },
	{ "weights", d_weights },
	{ NULL, NULL },
};

static const luaL_Reg metameths[] = {
	{ "__index", NULL },
	{ "__gc", d_gc },
	{ "__close", d_gc_close },
	{ "__tostring", d_tostring },
	{ NULL, NULL },
};

static void createmeta(lua_State *L)
{
	luaL_newmetatable(L, LDETECTOR_NAME);
	luaL_setfuncs(L, metameths, 0);
	luaL_newlibtable(L, methods);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

int luaopen_det_detector(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "new", d_new },
		{ NULL, NULL },
	};

	createmeta(L);
	luaL_newlib(L, funcs);
	return 1;
}
