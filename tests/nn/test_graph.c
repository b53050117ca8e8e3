/* test_graph.c: the graph as a whole — error messages naming both nodes,
 * the memory plan (reuse, and results bit-identical to a plan without
 * reuse), a steady-state step that allocates nothing (malloc and friends
 * are wrapped with ld --wrap and counted), bit-identical runs for the same
 * seed and thread count, freezing, train/eval plans, shared stores. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "tests/nn/nets.h"
#include "tests/tap.h"

/* ---- allocation counting (ld --wrap=malloc,...) ---- */
static long nalloc;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n) { nalloc++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { nalloc++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { nalloc++; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { nalloc++; return __real_aligned_alloc(a, n); }

static const int small[4] = { 1, 1, 1, 1 };

static void fill_input(struct nn_graph *g, int in, uint64_t seed)
{
	struct rng r;
	float *x = nn_graph_value(g, in);

	rng_init(&r, seed, 0);
	for (int64_t i = 0; i < nn_graph_node(g, in)->numel; i++)
		x[i] = rng_normal(&r);
}

/* One training step's passes: forward, dL/dy = y (L = |y|^2 / 2), backward. */
static void step(struct nn_graph *g, int out)
{
	int64_t n = nn_graph_node(g, out)->numel;

	nn_graph_forward(g);
	memcpy(nn_graph_grad(g, out), nn_graph_value(g, out), sizeof(float) * (size_t)n);
	nn_graph_backward(g);
}

static void errors(void)
{
	struct nn_graph *g = nn_graph_new(NULL, 1);
	int64_t xs[4] = { 2, 256, 8, 8 }, ws[4] = { 64, 128, 1, 1 }, b[1] = { 3 };
	int x = nn_graph_input(g, "backbone.layer3", 4, xs);
	int w = nn_graph_param(g, "neck.lateral3.weight", 4, ws, NULL, 0);
	int n = nn_graph_node_count(g);

	ok(nn_graph_conv2d(g, "neck.lateral3", x, w, -1, 1, 0, 1, 1) == DET_EINVAL &&
		!strcmp(det_error_message(), "neck.lateral3 expects 128 input channels, got 256 from backbone.layer3"),
		"channel mismatch names both nodes: %s", det_error_message());
	ok(nn_graph_node_count(g) == n, "a failed builder leaves the graph as it was");
	w = nn_graph_param(g, "bias", 1, b, NULL, 0);
	ok(nn_graph_binary(g, NN_OP_ADD, "head.add", x, w) == DET_EINVAL &&
		strstr(det_error_message(), "(3) from bias does not broadcast to (2, 256, 8, 8) from backbone.layer3"),
		"broadcast mismatch names both nodes: %s", det_error_message());
	ok(nn_graph_op(g, NN_OP_BATCHNORM, "bn", &x, 1, NULL) == DET_EINVAL &&
		!strcmp(det_error_message(), "bn: batchnorm takes 3 sources, got 1"),
		"a wrong number of sources is refused: %s", det_error_message());
	ok(nn_graph_param(g, "bias", 1, xs, NULL, 0) == DET_EINVAL &&
		strstr(det_error_message(), "exists with shape (3)"),
		"a parameter reused with another shape is refused: %s", det_error_message());
	nn_graph_free(g);
}

/* Builds the small ResNet; out/in returned. */
static struct nn_graph *small_net(struct nn_store *st, int n, int *in, int *out)
{
	struct nn_graph *g = nn_graph_new(st, 5);

	*out = net_resnet(g, n, 32, 8, small, in);
	nn_graph_output(g, *out);
	return g;
}

static void plan_and_alloc(void)
{
	int in, out;
	struct nn_graph *g = small_net(NULL, 2, &in, &out);
	struct nn_graph_stats s0, s1;
	long before;

	nn_graph_plan(g);
	fill_input(g, in, 1);
	step(g, out);
	nn_graph_stats(g, &s0);
	before = nalloc;
	for (int i = 0; i < 5; i++) {
		fill_input(g, in, 2 + (uint64_t)i);
		step(g, out);
	}
	nn_graph_stats(g, &s1);
	ok(nalloc == before, "5 steady-state training steps call malloc/calloc/realloc %ld times (0 expected)",
		nalloc - before);
	ok(s1.allocations == s0.allocations && s1.plans == s0.plans,
		"no replanning or arena growth across steps (%d plans, %d allocations)", s1.plans, s1.allocations);
	{
		int shared = 0, adds = 0;
		for (int i = 0; i < nn_graph_node_count(g); i++) {
			adds += nn_graph_node(g, i)->op == NN_OP_ADD;
			shared += nn_graph_node(g, i)->grad_share >= 0;
		}
		ok(adds == 4 && shared == 4, "each residual add hands its gradient buffer to its branch (%d of %d)",
			shared, adds);
		shared = 0;
		for (int i = 0; i < nn_graph_node_count(g); i++)
			shared += nn_graph_node(g, i)->grad_alias;
		ok(shared == 4, "and to its shortcut too, copying nothing (%d of %d)", shared, adds);
	}
	ok(s1.arena_bytes < s1.naive_bytes * 6 / 10,
		"the plan reuses memory: arena %zu KiB vs %zu KiB one buffer each", s1.arena_bytes >> 10,
		s1.naive_bytes >> 10);
	{
		/* switching modes replans; coming back reuses the arena */
		struct nn_graph_stats se, st;
		nn_graph_set_train(g, 0);
		nn_graph_forward(g);
		nn_graph_stats(g, &se);
		ok(se.arena_bytes < s1.arena_bytes, "evaluation needs less (%zu KiB vs %zu KiB for training)",
			se.arena_bytes >> 10, s1.arena_bytes >> 10);
		nn_graph_set_train(g, 1);
		step(g, out);
		nn_graph_stats(g, &st);
		ok(st.allocations == s1.allocations, "train -> eval -> train grows nothing");
	}
	nn_graph_free(g);
}

/* Marking every node an output keeps every buffer alive (no reuse, no
 * folding): the results must be bit-identical to the planned graph's. */
static void plan_is_exact(void)
{
	int in, out, in2, out2;
	struct nn_graph *g = small_net(NULL, 2, &in, &out), *h = small_net(NULL, 2, &in2, &out2);
	struct nn_store *sg = nn_graph_store(g), *sh = nn_graph_store(h);
	int64_t n = nn_graph_node(g, out)->numel;
	int same_y, same_g, same_s;

	for (int i = 0; i < nn_graph_node_count(h); i++)
		nn_graph_output(h, i);
	nn_graph_plan(g);
	nn_graph_plan(h);
	fill_input(g, in, 3);
	fill_input(h, in2, 3);
	step(g, out);
	nn_graph_forward(h);
	for (int i = 0; i < nn_graph_node_count(h); i++) {
		const struct nn_node *nd = nn_graph_node(h, i);
		if (nd->dy && nd->op != NN_OP_PARAM)
			memset(nd->dy, 0, sizeof(float) * (size_t)nd->numel);
	}
	memcpy(nn_graph_grad(h, out2), nn_graph_value(h, out2), sizeof(float) * (size_t)n);
	nn_graph_backward(h);
	same_y = !memcmp(nn_graph_value(g, out), nn_graph_value(h, out2), sizeof(float) * (size_t)n);
	same_g = !memcmp(sg->grad, sh->grad, sizeof(float) * sg->count);
	same_s = !memcmp(sg->state, sh->state, sizeof(float) * sg->nstate);
	ok(same_y && same_g && same_s,
		"planned arena (reuse, folded ReLUs) and one-buffer-per-node give bit-identical outputs, "
		"gradients and running statistics");
	nn_graph_free(g);
	nn_graph_free(h);
}

static void determinism(void)
{
	int in, out, in2, out2;
	struct nn_graph *g, *h;
	int same = 1;

	for (int threads = 1; threads <= 2; threads++) {
		det_threads_set(threads);
		g = small_net(NULL, 2, &in, &out);
		h = small_net(NULL, 2, &in2, &out2);
		nn_graph_plan(g);
		nn_graph_plan(h);
		for (int s = 0; s < 3; s++) {
			fill_input(g, in, 10 + (uint64_t)s);
			fill_input(h, in2, 10 + (uint64_t)s);
			step(g, out);
			step(h, out2);
		}
		same = !memcmp(nn_graph_store(g)->data, nn_graph_store(h)->data,
			sizeof(float) * nn_graph_store(g)->count) &&
			!memcmp(nn_graph_store(g)->grad, nn_graph_store(h)->grad,
				sizeof(float) * nn_graph_store(g)->count) &&
			!memcmp(nn_graph_value(g, out), nn_graph_value(h, out2),
				sizeof(float) * (size_t)nn_graph_node(g, out)->numel);
		ok(same, "same seed, %d thread%s: parameters, gradients and outputs bit-identical after 3 steps",
			threads, threads > 1 ? "s" : "");
		nn_graph_free(g);
		nn_graph_free(h);
	}
}

static void freezing(void)
{
	int in, out, in2, out2;
	struct nn_graph *g = small_net(NULL, 2, &in, &out), *h = small_net(NULL, 2, &in2, &out2);
	struct nn_store *sg = nn_graph_store(g), *sh = nn_graph_store(h);
	int k = nn_store_freeze(sh, "layer1", 1), frozen_zero = 1, others_same = 1, nonzero = 0;

	ok(k == 6, "freezing layer1 matches its 6 parameters (%d)", k);
	ok(nn_store_freeze(sh, "layer", 0) == 0, "a prefix matches whole name parts only");
	/* a frozen norm scale switches that norm to running statistics, which
	 * changes the forward; freeze only the convolutions for the comparison */
	nn_store_freeze(sh, "layer1", 0);
	ok(nn_store_freeze(sh, "layer1.0.conv1", 1) == 1 && nn_store_freeze(sh, "layer1.0.conv2", 1) == 1,
		"freeze one parameter by its full name");
	nn_graph_plan(g);
	nn_graph_plan(h);
	fill_input(g, in, 4);
	fill_input(h, in2, 4);
	step(g, out);
	step(h, out2);
	for (int i = 0; i < sh->nparams; i++) {
		const struct nn_param *p = &sh->params[i];
		for (size_t e = 0; e < p->count; e++) {
			float a = sg->grad[p->offset + e], b = sh->grad[p->offset + e];
			if (p->frozen)
				frozen_zero &= b == 0;
			else if (!strncmp(p->name, "layer2", 6) || !strncmp(p->name, "layer3", 6) ||
				!strncmp(p->name, "layer4", 6))
				others_same &= a == b;
			nonzero += !p->frozen && b != 0;
		}
	}
	ok(frozen_zero, "frozen parameters get no gradient");
	ok(others_same && nonzero > 0, "parameters after the frozen convolutions get the same gradients as unfrozen");
	{
		const struct nn_node *stem = nn_graph_node(h, nn_graph_find(h, "conv1"));
		ok(stem && stem->run_backward, "the stem still runs backward (it feeds trainable layer2)");
	}
	nn_store_freeze(sh, "", 1);
	nn_graph_plan(h);
	ok(!nn_graph_node(h, nn_graph_find(h, "conv1"))->run_backward,
		"with everything frozen no node runs backward");
	nn_graph_free(g);
	nn_graph_free(h);
}

static void shared_store(void)
{
	int in, out, in2, out2, close = 1;
	struct nn_graph *g = small_net(NULL, 2, &in, &out);
	struct nn_store *st = nn_graph_store(g);
	size_t count = st->count;
	struct nn_graph *h = small_net(st, 1, &in2, &out2);
	int64_t c = nn_graph_node(g, out)->numel / 2;

	ok(st->count == count && st->nparams == nn_store_find(st, "layer4.0.downsample.1.bias") + 1,
		"a second graph on the same store adds no parameters");
	nn_graph_set_train(g, 0);
	nn_graph_set_train(h, 0);
	nn_graph_plan(g);
	nn_graph_plan(h);
	fill_input(g, in, 6);
	memcpy(nn_graph_value(h, in2), nn_graph_value(g, in), sizeof(float) * (size_t)nn_graph_node(h, in2)->numel);
	nn_graph_forward(g);
	nn_graph_forward(h);
	for (int64_t i = 0; i < c; i++)
		close &= tap_close(nn_graph_value(g, out)[i], nn_graph_value(h, out2)[i], 1e-5, 1e-6);
	ok(close, "evaluation at batch 1 matches the first sample of batch 2 on shared parameters");
	nn_graph_free(g);
	ok(st == nn_graph_store(h) && st->count == count, "the store outlives the graph that made it");
	nn_graph_free(h);
}

static void names(void)
{
	int in, out;
	struct nn_graph *g = small_net(NULL, 1, &in, &out);
	struct nn_store *s = nn_graph_store(g);
	const struct nn_param *p = &s->params[nn_store_find(s, "layer2.0.downsample.0.weight")];
	size_t total = 0;

	ok(p->ndim == 4 && p->shape[0] == 16 && p->shape[1] == 8 && p->shape[2] == 1,
		"hierarchical parameter names: layer2.0.downsample.0.weight is (16, 8, 1, 1)");
	for (int i = 0; i < s->nparams; i++) {
		ok(i == 0 || s->params[i].offset == s->params[i - 1].offset + s->params[i - 1].count,
			"%s at %zu in the slab", s->params[i].name, s->params[i].offset) ;
		total += s->params[i].count;
		if (i > 2)
			break;
	}
	for (int i = 4; i < s->nparams; i++)
		total += s->params[i].count;
	ok(total == s->count, "parameters tile one slab of %zu floats", s->count);
	ok(nn_store_find_buffer(s, "layer1.0.bn2.running_var") >= 0, "running statistics are named buffers");
	nn_graph_free(g);
}

static void nonfinite(void)
{
	struct nn_graph *g = nn_graph_new(NULL, 1);
	int64_t sh[2] = { 2, 3 };
	struct tensor_init_spec big = { TENSOR_INIT_CONSTANT, 1e30f, 0 };
	int x = nn_graph_input(g, "x", 2, sh), w = nn_graph_param(g, "w", 2, sh, &big, 0);
	int y = nn_graph_binary(g, NN_OP_MUL, "head.gate", x, w);
	int z = nn_graph_binary(g, NN_OP_MUL, "head.square", y, y);
	float *xv;

	nn_graph_output(g, z);
	nn_graph_plan(g);
	xv = nn_graph_value(g, x);
	for (int i = 0; i < 6; i++)
		xv[i] = 1;
	ok(nn_graph_forward(g) == 0, "without checking, an overflow passes silently");
	nn_graph_set_check(g, 1);
	ok(nn_graph_forward(g) == DET_ENUM &&
		!strcmp(det_error_message(), "head.square (mul): output has inf at element 0 (its inputs are finite)"),
		"checking names the node where inf appears: %s", det_error_message());
	xv[4] = NAN;
	ok(nn_graph_forward(g) == DET_ENUM && !strcmp(det_error_message(), "x (input): data has nan at element 4"),
		"and a NaN in the input data: %s", det_error_message());
	nn_graph_free(g);
}

/* --hash THREADS: 3 training steps of the small ResNet, then one FNV-1a
 * hash of every output, gradient, parameter and running statistic (for
 * tests/nn/determinism.sh, which compares separate processes). */
static int print_hash(int threads)
{
	int in, out;
	struct nn_graph *g;
	struct nn_store *s;
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	det_threads_set(threads);
	g = small_net(NULL, 2, &in, &out);
	nn_graph_plan(g);
	for (int i = 0; i < 3; i++) {
		fill_input(g, in, 20 + (uint64_t)i);
		step(g, out);
	}
	s = nn_graph_store(g);
#define MIX(ptr, bytes) \
	for (p = (const unsigned char *)(ptr); p < (const unsigned char *)(ptr) + (bytes); p++) \
		h = (h ^ *p) * 1099511628211ULL
	MIX(nn_graph_value(g, out), sizeof(float) * (size_t)nn_graph_node(g, out)->numel);
	MIX(s->grad, sizeof(float) * s->count);
	MIX(s->data, sizeof(float) * s->count);
	MIX(s->state, sizeof(float) * s->nstate);
#undef MIX
	printf("%016llx\n", (unsigned long long)h);
	nn_graph_free(g);
	return 0;
}

/* Two outputs, one feeding the other: the caller's gradient of the first
 * adds to what flows back from the second. y1 = x w, y2 = y1^2,
 * L = sum y1 + sum y2 -> dL/dw = x (1 + 2 y1). */
static void chained_outputs(void)
{
	struct nn_graph *g = nn_graph_new(NULL, 1);
	int64_t sh[1] = { 5 };
	struct tensor_init_spec n = { TENSOR_INIT_NORMAL, 0, 1 };
	int x = nn_graph_input(g, "x", 1, sh), w = nn_graph_param(g, "w", 1, sh, &n, 0);
	int y1 = nn_graph_binary(g, NN_OP_MUL, "y1", x, w), y2 = nn_graph_binary(g, NN_OP_MUL, "y2", y1, y1);
	const float *wv, *gw;
	int good = 1;

	nn_graph_output(g, y1);
	nn_graph_output(g, y2);
	nn_graph_plan(g);
	for (int i = 0; i < 5; i++)
		nn_graph_value(g, x)[i] = (float)i - 2;
	nn_graph_forward(g);
	for (int i = 0; i < 5; i++)
		nn_graph_grad(g, y1)[i] = nn_graph_grad(g, y2)[i] = 1;
	nn_graph_backward(g);
	wv = nn_graph_store(g)->data;
	gw = nn_graph_store(g)->grad;
	for (int i = 0; i < 5; i++) {
		float xi = (float)i - 2, y = xi * wv[i];
		good &= tap_close(gw[i], xi * (1 + 2 * y), 1e-6, 1e-6);
	}
	ok(good, "an output that feeds another output gets both gradients");
	nn_graph_free(g);
}

/* Re-computed norm outputs: in the small ResNet every batch norm with a
 * ReLU that a conv or the max-pool reads again in the backward is made again
 * there (its forward buffer dies at its last forward reader), the others not;
 * the arena is at least the plan's peak of live buffers; a norm whose output
 * the caller reads, or whose input another re-computed norm needs, keeps its
 * value; and re-computation gives the same bits as keeping the value. */
static void recompute(void)
{
	int in, out;
	struct nn_graph *g = small_net(NULL, 2, &in, &out);
	struct nn_graph_stats st;
	int n, remade = 0, relu_norms = 0, timeline = 1, step_at, rc, pooled = -1, pools = 0;
	size_t peak;

	nn_graph_plan(g);
	n = nn_graph_node_count(g);
	for (int i = 0; i < n; i++) {
		const struct nn_node *nd = nn_graph_node(g, i);
		if (nd->op == NN_OP_MAXPOOL && nd->pool_norm >= 0)
			pooled = nd->pool_norm, pools++;
	}
	for (int i = 0; i < n; i++) {
		const struct nn_node *nd = nn_graph_node(g, i);
		if (nd->op != NN_OP_BATCHNORM)
			continue;
		if (i == pooled) {
			/* the stem's norm: its max-pool applies it, nothing stored */
			relu_norms += nd->fused_relu;
			timeline &= nd->remat == 0 && nd->y == NULL && nd->live[0][0] == -1 && nd->dy != NULL;
			continue;
		}
		relu_norms += nd->fused_relu;
		remade += nd->remat != 0;
		if (nd->remat != 0 && !nd->fused_relu)
			timeline = 0; /* bn2 and the shortcut's norm feed the add, which reads no value back */
		if (nd->remat)
			timeline &= nd->live[0][1] < n && nd->live[2][0] >= n && nd->live[2][1] < 2 * n &&
				nd->y_remat != NULL;
	}
	ok(relu_norms == 5 && pools == 1 && remade == 4 && timeline,
		"of the 5 norms with a ReLU, the stem's is applied by its max-pool (%d, no value stored) and the "
		"others are re-computed in the backward (%d of %d), their forward buffers die in the forward",
		pools, remade, relu_norms - pools);
	{
		/* the norms without a ReLU are bn2 and the shortcut's, read only by
		 * the residual add: it applies them, they store no value */
		int folded = 0, stored = 0, plain = 0;
		for (int i = 0; i < n; i++) {
			const struct nn_node *nd = nn_graph_node(g, i);
			if (nd->op == NN_OP_BATCHNORM && !nd->fused_relu)
				plain++;
			for (int s = 0; s < 2 && nd->op == NN_OP_ADD; s++)
				if (nd->add_norm[s] >= 0) {
					folded++;
					stored += nn_graph_node(g, nd->add_norm[s])->y != NULL;
				}
		}
		ok(pooled >= 0 && nn_graph_node(g, pooled)->norm_pool >= 0 &&
			nn_graph_node(g, nn_graph_node(g, pooled)->norm_pool)->pool_norm == pooled,
			"the stem's norm runs its max-pool's backward with its own, channel by channel");
		ok(plain > 0 && folded == plain && stored == 0,
			"the %d norms read only by a residual add are applied by the add (%d), none stores a value (%d)",
			plain, folded, stored);
	}
	nn_graph_stats(g, &st);
	rc = nn_graph_peak(g, &step_at, &peak, NULL, 0);
	ok(rc == 0 && peak <= st.arena_bytes && peak > 0,
		"the arena (%zu KiB) holds the plan's peak of live buffers (%zu KiB at step %d)",
		st.arena_bytes >> 10, peak >> 10, step_at);
	nn_graph_set_train(g, 0);
	nn_graph_plan(g);
	remade = 0;
	for (int i = 0; i < n; i++)
		remade += nn_graph_node(g, i)->remat != 0;
	ok(remade == 0, "evaluation re-computes nothing (%d)", remade);
	nn_graph_free(g);

	{
		/* conv -> bn (also an output) -> relu -> conv; conv -> bn_a -> bn_b -> conv */
		struct nn_graph *h = nn_graph_new(NULL, 3), *k = nn_graph_new(NULL, 3);
		struct nn_graph *gs[2] = { h, k };
		int64_t xs[4] = { 2, 3, 6, 6 }, ws[4] = { 4, 3, 3, 3 }, w2s[4] = { 4, 4, 1, 1 }, cs[1] = { 4 };
		struct tensor_init_spec nrm = { TENSOR_INIT_NORMAL, 0, 1 };
		struct tensor_init_spec one = { TENSOR_INIT_CONSTANT, 1, 0 }, zero = { TENSOR_INIT_CONSTANT, 0, 0 };
		int ids[2][6], same;

		for (int v = 0; v < 2; v++) {
			struct nn_graph *q = gs[v];
			int x = nn_graph_input(q, "x", 4, xs);
			int w = nn_graph_param(q, "w", 4, ws, &nrm, 0), w2 = nn_graph_param(q, "w2", 4, w2s, &nrm, 0);
			int ga = nn_graph_param(q, "a.weight", 1, cs, &one, NN_PARAM_NORM);
			int ba = nn_graph_param(q, "a.bias", 1, cs, &zero, NN_PARAM_NORM);
			int gb = nn_graph_param(q, "b.weight", 1, cs, &one, NN_PARAM_NORM);
			int bb = nn_graph_param(q, "b.bias", 1, cs, &zero, NN_PARAM_NORM);
			int c = nn_graph_conv2d(q, "conv", x, w, -1, 1, 1, 1, 1);
			int a = nn_graph_batchnorm(q, "a", c, ga, ba, 1e-5f, 0.1f);
			int b = v ? nn_graph_batchnorm(q, "b", a, gb, bb, 1e-5f, 0.1f) : a;
			int r = nn_graph_unary(q, NN_OP_RELU, "relu", b);
			int o = nn_graph_conv2d(q, "conv2", r, w2, -1, 1, 0, 1, 1);
			nn_graph_output(q, o);
			if (!v)
				nn_graph_output(q, a);
			ids[v][0] = x, ids[v][1] = a, ids[v][2] = b, ids[v][3] = o;
			nn_graph_plan(q);
			fill_input(q, x, 9);
			nn_graph_forward(q);
			memcpy(nn_graph_grad(q, o), nn_graph_value(q, o), sizeof(float) * (size_t)nn_graph_node(q, o)->numel);
			if (!v)
				memset(nn_graph_grad(q, a), 0, sizeof(float) * (size_t)nn_graph_node(q, a)->numel);
			nn_graph_backward(q);
		}
		ok(!nn_graph_node(h, ids[0][1])->remat && !nn_graph_node(h, ids[0][1])->fused_relu,
			"a norm the caller reads as an output keeps its value (no re-computation, no folded ReLU)");
		ok(!nn_graph_node(k, ids[1][1])->remat && nn_graph_node(k, ids[1][2])->remat,
			"a norm whose output another re-computed norm reads is not re-computed itself (a %d, b %d)",
			nn_graph_node(k, ids[1][1])->remat, nn_graph_node(k, ids[1][2])->remat);
		same = nn_graph_value(k, ids[1][2]) == nn_graph_node(k, ids[1][2])->y_fwd &&
			nn_graph_node(k, ids[1][2])->remat == 1;
		ok(same, "after backward a re-computed norm points at its forward buffer again, ready for the next step");
		nn_graph_free(h);
		nn_graph_free(k);
	}
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--hash"))
		return print_hash(atoi(argv[2]));
	/* split every loop, as on big inputs, so 2 threads really share the work */
	det_threads_set_grain(1);
	det_threads_set(2);
	errors();
	plan_and_alloc();
	plan_is_exact();
	determinism();
	freezing();
	shared_store();
	names();
	nonfinite();
	chained_outputs();
	recompute();
	return tap_done();
}
