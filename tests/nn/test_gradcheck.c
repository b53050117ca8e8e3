/* test_gradcheck.c: every op's backward against central finite differences
 * (the checker and its tolerance are in gradcheck.h), inputs kept away from
 * kinks, and the checker shown to fail on deliberately wrong gradients. */
#include "core/error.h"
#include "core/threads.h"
#include "tests/nn/gradcheck.h"

static const int64_t X4[4] = { 2, 3, 5, 6 };

/* A fresh graph whose input x is a parameter of shape X4 (or shape). */
static struct nn_graph *setup(int *x, int ndim, const int64_t *shape)
{
	struct nn_graph *g = nn_graph_new(NULL, 7);

	*x = gc_param(g, "x", ndim ? ndim : 4, ndim ? shape : X4);
	return g;
}

static void check(struct nn_graph *g, int out, const char *what)
{
	if (out < 0) {
		ok(0, "%s: build failed: %s", what, det_error_message());
		nn_graph_free(g);
		return;
	}
	ok(gc_check(g, out, what, NULL) == 0, "%s: backward matches finite differences", what);
	nn_graph_free(g);
}

static void unary(enum nn_op op, float kink1, float kink2, float spread, const char *what)
{
	int x;
	struct nn_graph *g = setup(&x, 0, NULL);
	float *xv = gc_data(g, x);

	for (int i = 0; i < 180; i++)
		xv[i] *= spread;
	if (!isnan(kink1))
		gc_away(xv, 180, kink1, 0.05f);
	if (!isnan(kink2))
		gc_away(xv, 180, kink2, 0.05f);
	check(g, op == NN_OP_LEAKY_RELU ? nn_graph_leaky_relu(g, what, x, 0.1f) :
		nn_graph_unary(g, op, what, x), what);
}

/* 1/x on inputs in [0.5, 1.5] and [-1.5, -0.5] (away from the pole) */
static void reciprocal_case(void)
{
	int x;
	struct nn_graph *g = setup(&x, 0, NULL);
	float *xv = gc_data(g, x);

	for (int i = 0; i < 180; i++)
		xv[i] = (xv[i] < 0 ? -1.0f : 1.0f) * (0.5f + fminf(fabsf(xv[i]), 1.0f));
	check(g, nn_graph_unary(g, NN_OP_RECIPROCAL, "reciprocal", x), "reciprocal");
}

static void conv_cases(void)
{
	static const struct { int cin, cout, k, stride, pad, dil, groups, bias; const char *what; } cs[] = {
		{ 3, 4, 3, 1, 1, 1, 1, 1, "conv2d 3x3/1 pad 1 with bias" },
		{ 3, 4, 3, 2, 1, 1, 1, 0, "conv2d 3x3/2 pad 1" },
		{ 4, 6, 1, 1, 0, 1, 1, 1, "conv2d 1x1" },
		{ 4, 4, 3, 1, 2, 2, 4, 1, "conv2d depthwise 3x3 dilation 2" },
		{ 4, 6, 3, 1, 1, 1, 2, 0, "conv2d groups 2" },
	};
	for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
		int64_t xs[4] = { 2, cs[c].cin, 5, 6 }, ws[4] = { cs[c].cout, cs[c].cin / cs[c].groups, cs[c].k, cs[c].k };
		int64_t bs[1] = { cs[c].cout };
		int x, w, b = -1;
		struct nn_graph *g = setup(&x, 4, xs);
		w = gc_param(g, "w", 4, ws);
		if (cs[c].bias)
			b = gc_param(g, "b", 1, bs);
		check(g, nn_graph_conv2d(g, "conv", x, w, b, cs[c].stride, cs[c].pad, cs[c].dil, cs[c].groups),
			cs[c].what);
	}
}

/* Weights that are not a parameter but a node's output (two parameters
 * stacked by a concat, as det.head.fcos runs conv_reg and conv_centerness
 * as one conv): the plan must keep them for the backward-data, though the
 * conv's forward was their last forward reader. */
static void conv_stacked_case(void)
{
	int64_t xs[4] = { 2, 3, 5, 6 }, was[4] = { 2, 3, 3, 3 }, wbs[4] = { 1, 3, 3, 3 };
	int x, wa, wb, w, y, parts[2];
	struct nn_graph *g = setup(&x, 4, xs);

	wa = gc_param(g, "wa", 4, was);
	wb = gc_param(g, "wb", 4, wbs);
	parts[0] = wa, parts[1] = wb;
	w = nn_graph_concat(g, "stacked", parts, 2, 0);
	y = nn_graph_conv2d(g, "conv", x, w, -1, 1, 1, 1, 1);
	y = nn_graph_unary(g, NN_OP_TANH, "tanh", y);
	y = nn_graph_unary(g, NN_OP_SIGMOID, "sigmoid", y);
	check(g, y, "conv2d on weights stacked by a concat (kept for its backward)");
}

/* Norm inputs whose statistics groups (blocks of len values, in pairs
 * mirrored v, -v) have mean exactly 0 and no value within 0.3 of it, and a
 * scale near 1 with zero shift: every normalised output stays >= 0.2 away
 * from the ReLU kink, far beyond what a step of h moves it. */
static void mirror(struct nn_graph *g, int x, int gm, int bt, int blocks, int len, int step, int stride)
{
	float *xv = gc_data(g, x), *gv = gc_data(g, gm), *bv = gc_data(g, bt);

	for (int b = 0; b < blocks; b++)
		for (int i = 0; i < len; i++) {
			float v = xv[b * step + i];
			v = v >= 0 ? v + 0.3f : v - 0.3f;
			xv[b * step + i] = v;
			xv[b * step + i + stride] = -v;
		}
	for (int c = 0; c < 4; c++) {
		gv[c] = 1.0f + 0.1f * gv[c];
		bv[c] = 0;
	}
}

static void norm_cases(void)
{
	int64_t c[1] = { 4 }, xs[4] = { 2, 4, 3, 5 };
	int x, gm, bt, y;
	struct nn_graph *g;

	for (int relu = 0; relu < 2; relu++) {
		g = setup(&x, 4, xs);
		gm = gc_param(g, "bn.weight", 1, c);
		bt = gc_param(g, "bn.bias", 1, c);
		y = nn_graph_batchnorm(g, "bn", x, gm, bt, 1e-5f, 0.1f);
		if (relu) {
			/* channel c of sample 1 mirrors channel c of sample 0 */
			mirror(g, x, gm, bt, 4, 15, 15, 60);
			y = nn_graph_unary(g, NN_OP_RELU, "relu", y);
		}
		check(g, y, relu ? "batchnorm (train) + ReLU, folded" : "batchnorm (train)");
	}
	/* frozen scale: running statistics, as a frozen backbone's BN */
	g = setup(&x, 4, xs);
	gm = gc_param(g, "bn.weight", 1, c);
	bt = gc_param(g, "bn.bias", 1, c);
	y = nn_graph_batchnorm(g, "bn", x, gm, bt, 1e-5f, 0.1f);
	nn_store_freeze(nn_graph_store(g), "bn.weight", 1);
	check(g, y, "batchnorm with frozen scale (running statistics)");

	for (int relu = 0; relu < 2; relu++) {
		g = setup(&x, 4, xs);
		gm = gc_param(g, "gn.weight", 1, c);
		bt = gc_param(g, "gn.bias", 1, c);
		y = nn_graph_groupnorm(g, "gn", x, gm, bt, 2, 1e-5f);
		if (relu) {
			/* each (n, group) block of 30: the second 15 mirror the first */
			mirror(g, x, gm, bt, 4, 15, 30, 15);
			y = nn_graph_unary(g, NN_OP_RELU, "relu", y);
		}
		check(g, y, relu ? "groupnorm (2 groups) + ReLU, folded" : "groupnorm (2 groups)");
	}

	/* a norm + ReLU that a 1x1 conv reads: the plan re-computes the norm's
	 * output for the conv's backward (dw) from x and the saved statistics */
	for (int gn = 0; gn < 2; gn++) {
		int64_t ws[4] = { 3, 4, 1, 1 };
		int w, r, o;
		g = setup(&x, 4, xs);
		gm = gc_param(g, gn ? "gn.weight" : "bn.weight", 1, c);
		bt = gc_param(g, gn ? "gn.bias" : "bn.bias", 1, c);
		w = gc_param(g, "conv.weight", 4, ws);
		if (gn) {
			mirror(g, x, gm, bt, 4, 15, 30, 15);
			y = nn_graph_groupnorm(g, "gn", x, gm, bt, 2, 1e-5f);
		} else {
			mirror(g, x, gm, bt, 4, 15, 15, 60);
			y = nn_graph_batchnorm(g, "bn", x, gm, bt, 1e-5f, 0.1f);
		}
		r = nn_graph_unary(g, NN_OP_RELU, "relu", y);
		o = nn_graph_conv2d(g, "conv", r, w, -1, 1, 0, 1, 1);
		nn_graph_output(g, o);
		nn_graph_plan(g);
		ok(nn_graph_node(g, y)->remat == 1 && nn_graph_node(g, y)->fused_relu,
			"%s + ReLU before a conv: folded and planned for re-computation", gn ? "groupnorm" : "batchnorm");
		check(g, o, gn ? "groupnorm + ReLU re-computed for a 1x1 conv's backward" :
			"batchnorm + ReLU re-computed for a 1x1 conv's backward");
	}
}

/* Batch norm (+ ReLU) read only by a max-pool: the plan folds the norm
 * into the pool (its output is never stored; the pool's forward and
 * backward apply it to the norm's input). Inputs mirrored as in
 * norm_cases, so nothing sits near the ReLU's kink. */
static void bn_pool_cases(void)
{
	int64_t c[1] = { 4 }, xs[4] = { 2, 4, 6, 6 };
	int x, gm, bt, y, p;
	struct nn_graph *g;

	for (int relu = 0; relu < 2; relu++) {
		g = setup(&x, 4, xs);
		gm = gc_param(g, "bn.weight", 1, c);
		bt = gc_param(g, "bn.bias", 1, c);
		mirror(g, x, gm, bt, 4, 36, 36, 144);
		y = nn_graph_batchnorm(g, "bn", x, gm, bt, 1e-5f, 0.1f);
		if (relu)
			y = nn_graph_unary(g, NN_OP_RELU, "relu", y);
		p = nn_graph_pool(g, NN_OP_MAXPOOL, "maxpool", y, 3, 2, 1);
		nn_graph_plan(g);
		ok(nn_graph_node(g, p)->pool_norm >= 0 && nn_graph_value(g, y) == NULL,
			"batchnorm%s read only by a max-pool: folded into the pool, its output not stored",
			relu ? " + ReLU" : "");
		check(g, p, relu ? "batchnorm + ReLU applied by its max-pool 3x3/2" :
			"batchnorm applied by its max-pool 3x3/2");
	}
}

/* A batch norm read only by an add of a same-shaped input (ResNet's bn2
 * and its shortcut's norm): the add applies it, the norm stores nothing.
 * With the add's ReLU the other input is lifted by 5, so no sum sits near
 * the kink. */
static void bn_add_cases(void)
{
	int64_t c[1] = { 4 }, xs[4] = { 2, 4, 3, 5 };
	static const char *const what[3] = { "batchnorm + add", "batchnorm + batchnorm (both folded)",
		"batchnorm + add + ReLU" };

	for (int k = 0; k < 3; k++) {
		int x, z, gm, bt, gm2, bt2, y, y2 = -1, out;
		struct nn_graph *g = setup(&x, 4, xs);
		gm = gc_param(g, "bn.weight", 1, c);
		bt = gc_param(g, "bn.bias", 1, c);
		z = gc_param(g, "z", 4, xs);
		y = nn_graph_batchnorm(g, "bn", x, gm, bt, 1e-5f, 0.1f);
		if (k == 1) {
			gm2 = gc_param(g, "bn2.weight", 1, c);
			bt2 = gc_param(g, "bn2.bias", 1, c);
			y2 = nn_graph_batchnorm(g, "bn2", z, gm2, bt2, 1e-5f, 0.1f);
		}
		if (k == 2) {
			float *zv = gc_data(g, z);
			for (int i = 0; i < 120; i++)
				zv[i] += 5.0f;
		}
		out = nn_graph_binary(g, NN_OP_ADD, "add", y, k == 1 ? y2 : z);
		if (k == 2)
			out = nn_graph_unary(g, NN_OP_RELU, "relu", out);
		nn_graph_plan(g);
		{
			const struct nn_node *A = nn_graph_node(g, k == 2 ? nn_graph_node(g, out)->alias : out);
			ok(A->add_norm[0] == y && (k == 1 ? A->add_norm[1] == y2 : A->add_norm[1] < 0) &&
				nn_graph_value(g, y) == NULL && (k != 1 || nn_graph_value(g, y2) == NULL),
				"%s: the norm%s folded into the add, no value stored", what[k], k == 1 ? "s" : "");
		}
		check(g, out, what[k]);
	}
}

/* A residual block whose add hands its gradient buffer to both inputs
 * (grad_alias): u = bn(x) feeds a conv and the add, r = bn(conv(u)); the
 * conv adds its dx into the shared buffer only after r's backward read it. */
static void residual_alias_case(void)
{
	int64_t c[1] = { 4 }, xs[4] = { 2, 4, 3, 5 }, ws[4] = { 4, 4, 3, 3 };
	int x, g1, b1, g2, b2, w, u, r, a, out;
	struct nn_graph *g = setup(&x, 4, xs);

	g1 = gc_param(g, "bn1.weight", 1, c);
	b1 = gc_param(g, "bn1.bias", 1, c);
	g2 = gc_param(g, "bn2.weight", 1, c);
	b2 = gc_param(g, "bn2.bias", 1, c);
	w = gc_param(g, "conv.weight", 4, ws);
	u = nn_graph_batchnorm(g, "bn1", x, g1, b1, 1e-5f, 0.1f);
	r = nn_graph_batchnorm(g, "bn2", nn_graph_conv2d(g, "conv", u, w, -1, 1, 1, 1, 1), g2, b2, 1e-5f, 0.1f);
	a = nn_graph_binary(g, NN_OP_ADD, "add", r, u);
	out = nn_graph_unary(g, NN_OP_TANH, "tanh", a);
	nn_graph_output(g, out);
	nn_graph_plan(g);
	ok(nn_graph_node(g, a)->grad_share == 0 && nn_graph_node(g, a)->grad_alias &&
		nn_graph_node(g, u)->dy == nn_graph_node(g, a)->dy && nn_graph_node(g, r)->dy == nn_graph_node(g, a)->dy,
		"residual add: both inputs' gradients are the add's buffer");
	check(g, out, "residual add sharing its gradient with both inputs");
}

/* Distinct values 0.05 apart in random order: no max-pool tie within +-h. */
static void distinct(float *x, int n)
{
	struct rng r;

	rng_init(&r, 3, 3);
	for (int i = 0; i < n; i++)
		x[i] = 0.05f * (float)(i - n / 2);
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(&r, (uint32_t)i + 1);
		float t = x[i];
		x[i] = x[j];
		x[j] = t;
	}
}

static void pool_cases(void)
{
	int x;
	struct nn_graph *g;

	g = setup(&x, 0, NULL);
	distinct(gc_data(g, x), 180);
	check(g, nn_graph_pool(g, NN_OP_MAXPOOL, "maxpool", x, 3, 2, 1), "maxpool 3x3/2 pad 1");
	g = setup(&x, 0, NULL);
	distinct(gc_data(g, x), 180);
	check(g, nn_graph_pool(g, NN_OP_MAXPOOL, "maxpool", x, 2, 2, 0), "maxpool 2x2/2");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_pool(g, NN_OP_AVGPOOL, "avgpool", x, 3, 2, 1), "avgpool 3x3/2 pad 1");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_unary(g, NN_OP_GLOBAL_AVGPOOL, "gap", x), "global average pool");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_resize(g, NN_OP_RESIZE_NEAREST, "up", x, 10, 12), "nearest x2");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_resize(g, NN_OP_RESIZE_NEAREST, "rs", x, 7, 4), "nearest to 7x4");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_resize(g, NN_OP_RESIZE_BILINEAR, "up", x, 10, 12), "bilinear x2");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_resize(g, NN_OP_RESIZE_BILINEAR, "rs", x, 7, 4), "bilinear to 7x4");
}

static void tensor_cases(void)
{
	int x, b, y, parts[3];
	struct nn_graph *g;
	int64_t c[4] = { 1, 3, 1, 1 }, c1[1] = { 3 }, row[4] = { 1, 1, 1, 6 }, same[4] = { 2, 3, 5, 6 };

	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, same);
	check(g, nn_graph_binary(g, NN_OP_ADD, "add", x, b), "add");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 1, c1);
	check(g, nn_graph_binary(g, NN_OP_ADD, "add", x, b), "add a per-channel bias (C)");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, row);
	check(g, nn_graph_binary(g, NN_OP_ADD, "add", x, b), "add broadcast (1, 1, 1, W)");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, same);
	gc_away(gc_data(g, x), 180, 0, 0.05f);
	for (int i = 0; i < 180; i++)
		gc_data(g, b)[i] = 0.005f * gc_data(g, b)[i];
	y = nn_graph_binary(g, NN_OP_ADD, "add", x, b);
	check(g, nn_graph_unary(g, NN_OP_RELU, "relu", y), "add + ReLU, folded");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, same);
	check(g, nn_graph_binary(g, NN_OP_MUL, "mul", x, b), "mul");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, c);
	check(g, nn_graph_binary(g, NN_OP_MUL, "mul", x, b), "mul per-channel (1, C, 1, 1)");
	g = setup(&x, 0, NULL);
	b = gc_param(g, "b", 4, row);
	check(g, nn_graph_binary(g, NN_OP_MUL, "mul", x, b), "mul broadcast (1, 1, 1, W)");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_binary(g, NN_OP_MUL, "sq", x, x), "mul x * x (two slots, one gradient)");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_scale(g, "scale", x, -1.5f, 0.25f), "scale");
	g = setup(&x, 0, NULL);
	parts[0] = x;
	parts[1] = gc_param(g, "b", 4, same);
	parts[2] = x;
	check(g, nn_graph_concat(g, "cat", parts, 3, 1), "concat 3 along channels (x twice)");
	g = setup(&x, 0, NULL);
	parts[0] = x;
	parts[1] = gc_param(g, "b", 4, same);
	check(g, nn_graph_concat(g, "cat", parts, 2, 3), "concat along width");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_slice(g, "slice", x, 1, 1, 3), "slice channels 1:3");
	g = setup(&x, 0, NULL);
	{
		int64_t sh[2] = { 6, -1 };
		y = nn_graph_reshape(g, "flat", x, 2, sh);
		y = nn_graph_unary(g, NN_OP_TANH, "tanh", y);
		check(g, y, "reshape (folded: sole reader) then tanh");
	}
	g = setup(&x, 0, NULL);
	{
		int64_t sh[2] = { 6, -1 };
		int r = nn_graph_reshape(g, "flat", x, 2, sh), t = nn_graph_unary(g, NN_OP_SIGMOID, "s", x);
		int64_t sh2[4] = { 2, 3, 5, 6 };
		r = nn_graph_reshape(g, "back", r, 4, sh2);
		check(g, nn_graph_binary(g, NN_OP_MUL, "m", r, t), "reshape of a shared value (copied)");
	}
	g = setup(&x, 0, NULL);
	{
		int perm[4] = { 0, 2, 3, 1 };
		check(g, nn_graph_permute(g, "nhwc", x, perm), "permute to NHWC");
	}
	g = setup(&x, 0, NULL);
	check(g, nn_graph_reduce(g, NN_OP_SUM, "sum", x, (1u << 1) | (1u << 3)), "sum over C and W");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_reduce(g, NN_OP_MEAN, "mean", x, 0xf), "mean of everything");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_softmax(g, NN_OP_SOFTMAX, "softmax", x, 1), "softmax over channels");
	g = setup(&x, 0, NULL);
	check(g, nn_graph_softmax(g, NN_OP_LOG_SOFTMAX, "lsm", x, 3), "log-softmax over width");
}

/* A small network: every gradient flows through several consumers. */
static void network_case(void)
{
	int x, w1, w2, g1, b1, y, z, s;
	int64_t ws[4] = { 4, 3, 3, 3 }, ws2[4] = { 4, 4, 1, 1 }, c[1] = { 4 };
	struct nn_graph *g = setup(&x, 0, NULL);
	struct tensor_init_spec one = { TENSOR_INIT_CONSTANT, 1, 0 }, zero = { TENSOR_INIT_CONSTANT, 0, 0 };

	w1 = gc_param(g, "conv1.weight", 4, ws);
	w2 = gc_param(g, "conv2.weight", 4, ws2);
	g1 = nn_graph_param(g, "bn.weight", 1, c, &one, NN_PARAM_NORM);
	b1 = nn_graph_param(g, "bn.bias", 1, c, &zero, NN_PARAM_NORM);
	y = nn_graph_conv2d(g, "conv1", x, w1, -1, 1, 1, 1, 1);
	y = nn_graph_batchnorm(g, "bn", y, g1, b1, 1e-5f, 0.1f);
	y = nn_graph_unary(g, NN_OP_SILU, "act", y);
	z = nn_graph_conv2d(g, "conv2", y, w2, -1, 1, 0, 1, 1);
	s = nn_graph_binary(g, NN_OP_ADD, "res", z, y);
	s = nn_graph_pool(g, NN_OP_AVGPOOL, "pool", s, 2, 2, 0);
	s = nn_graph_resize(g, NN_OP_RESIZE_BILINEAR, "up", s, 5, 6);
	s = nn_graph_binary(g, NN_OP_MUL, "gate", s, y);
	check(g, s, "conv-bn-silu-conv residual, pool, upsample, gate");
}

/* The self-test: a 3% error in one parameter's gradient, a sign flip of one
 * element, and a dropped term must each be caught. */
static void scale3(float *gr, size_t n, int pi)
{
	if (pi == 0)
		for (size_t i = 0; i < n; i++)
			gr[i] *= 1.03f;
}

static void flip_one(float *gr, size_t n, int pi)
{
	(void)n;
	if (pi == 1)
		gr[0] = -gr[0];
}

/* An indexing bug: every element gets its neighbour's gradient. */
static void shift_one(float *gr, size_t n, int pi)
{
	if (pi == 0)
		for (size_t i = 0; i + 1 < n; i++)
			gr[i] = gr[i + 1];
}

static void checker_fails(void)
{
	int x, w, y;
	struct nn_graph *g;

	g = setup(&x, 0, NULL);
	w = gc_param(g, "w", 4, X4);
	y = nn_graph_binary(g, NN_OP_MUL, "mul", x, w);
	ok(gc_check(g, y, "self-test: gradient 3% too large", scale3) > 0,
		"the checker fails on a gradient 3%% too large");
	nn_graph_free(g);

	g = setup(&x, 0, NULL);
	w = gc_param(g, "w", 4, X4);
	y = nn_graph_binary(g, NN_OP_MUL, "mul", x, w);
	ok(gc_check(g, y, "self-test: one sign flipped", flip_one) > 0,
		"the checker fails on one gradient element with the wrong sign");
	nn_graph_free(g);

	g = setup(&x, 0, NULL);
	y = nn_graph_unary(g, NN_OP_SILU, "silu", x);
	ok(gc_check(g, y, "self-test: gradients shifted by one element", shift_one) > 0,
		"the checker fails on gradients shifted by one element");
	nn_graph_free(g);
}

int main(void)
{
	/* split every loop, as on big inputs, so 2 threads really share the work */
	det_threads_set_grain(1);
	det_threads_set(2);
	unary(NN_OP_RELU, 0, NAN, 1, "relu");
	unary(NN_OP_LEAKY_RELU, 0, NAN, 1, "leaky_relu");
	unary(NN_OP_SILU, NAN, NAN, 2, "silu");
	unary(NN_OP_SIGMOID, NAN, NAN, 2, "sigmoid");
	unary(NN_OP_HARDSWISH, -3, 3, 2.5f, "hardswish");
	unary(NN_OP_MISH, NAN, NAN, 2, "mish");
	unary(NN_OP_TANH, NAN, NAN, 1, "tanh");
	unary(NN_OP_RELU6, 0, 6, 8, "relu6");
	reciprocal_case();
	conv_cases();
	conv_stacked_case();
	norm_cases();
	pool_cases();
	bn_pool_cases();
	bn_add_cases();
	residual_alias_case();
	tensor_cases();
	network_case();
	checker_fails();
	return tap_done();
}
