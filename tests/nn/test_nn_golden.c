/* test_nn_golden.c: forward and backward of batch norm (train and eval),
 * group norm, pools, resize, activations and softmax against PyTorch 1.13
 * (tests/golden/nn/nn.txt, made by make_nn.py there). Agreement means
 * |ours - torch| <= 1e-5 |torch| + 1e-6 * max|torch| for every element: a
 * relative 1e-5, with an absolute floor at a millionth of the tensor's scale
 * for elements that are sums cancelling to near zero. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threads.h"
#include "nn/graph.h"
#include "nn/ops.h"
#include "tests/tap.h"

#define RTOL 1e-5

struct arr {
	char name[64];
	int ndim;
	int64_t shape[5];
	int64_t n;
	float *v;
};

struct gcase {
	char name[64], op[32], kv[256];
	struct arr a[16];
	int na;
};

static const struct arr *get(const struct gcase *c, const char *name)
{
	for (int i = 0; i < c->na; i++)
		if (!strcmp(c->a[i].name, name))
			return &c->a[i];
	return NULL;
}

static double kv(const struct gcase *c, const char *key, double def)
{
	char pat[40];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(c->kv, pat);
	return p ? atof(p + strlen(pat)) : def;
}

/* Reads the next case; 0 at the end of the file. */
static int read_case(FILE *f, struct gcase *c)
{
	char word[64];

	for (int i = 0; i < c->na; i++)
		free(c->a[i].v);
	memset(c, 0, sizeof(*c));
	if (fscanf(f, " case %63s %31s", c->name, c->op) != 2)
		return 0;
	if (!fgets(c->kv, sizeof(c->kv), f))
		return 0;
	while (fscanf(f, " %63s", word) == 1 && strcmp(word, "end")) {
		struct arr *a = &c->a[c->na++];
		snprintf(a->name, sizeof(a->name), "%s", word);
		if (fscanf(f, "%d", &a->ndim) != 1)
			return 0;
		a->n = 1;
		for (int d = 0; d < a->ndim; d++) {
			long long s;
			if (fscanf(f, "%lld", &s) != 1)
				return 0;
			a->shape[d] = s;
			a->n *= s;
		}
		a->v = malloc(sizeof(float) * (size_t)a->n);
		for (int64_t i = 0; i < a->n; i++)
			if (fscanf(f, "%f", &a->v[i]) != 1)
				return 0;
	}
	return 1;
}

static int close_to(const char *what, const char *cname, const float *got, const struct arr *want)
{
	double scale = 0, worst = 0;
	int64_t at = 0, bad = 0;

	if (!got || !want) {
		ok(0, "%s %s: missing", cname, what);
		return 0;
	}
	for (int64_t i = 0; i < want->n; i++)
		scale = fmax(scale, fabs(want->v[i]));
	for (int64_t i = 0; i < want->n; i++) {
		double err = fabs((double)got[i] - want->v[i]);
		double tol = RTOL * fabs(want->v[i]) + 1e-6 * scale;
		if (err > tol)
			bad++;
		if (err / tol > worst) {
			worst = err / tol;
			at = i;
		}
	}
	return ok(bad == 0, "%s %s matches PyTorch (%lld values; worst error/tolerance %.3f at %lld: %.9g vs %.9g)",
		cname, what, (long long)want->n, worst, (long long)at, got[at], want->v[at]);
}

/* A parameter node holding a copy of a fixture array. */
static int param_from(struct nn_graph *g, const char *name, const struct arr *a)
{
	int id = nn_graph_param(g, name, a->ndim, a->shape, NULL, 0);
	struct nn_store *s = nn_graph_store(g);

	memcpy(s->data + s->params[nn_graph_node(g, id)->param].offset, a->v, sizeof(float) * (size_t)a->n);
	return id;
}

static float *grad_of(struct nn_graph *g, int node)
{
	struct nn_store *s = nn_graph_store(g);

	return s->grad + s->params[nn_graph_node(g, node)->param].offset;
}

static void run_case(const struct gcase *c)
{
	struct nn_graph *g = nn_graph_new(NULL, 1);
	struct nn_store *s = nn_graph_store(g);
	const struct arr *xa = get(c, "x"), *dya = get(c, "dy");
	int x = param_from(g, "x", xa), w = -1, b = -1, y = -1, k = (int)kv(c, "k", 1);
	int stride = (int)kv(c, "stride", 1), pad = (int)kv(c, "pad", 0), train = 1;
	char what[96];

	if (get(c, "weight")) {
		w = param_from(g, "weight", get(c, "weight"));
		b = param_from(g, "bias", get(c, "bias"));
	}
	if (!strcmp(c->op, "batchnorm")) {
		y = nn_graph_batchnorm(g, "bn", x, w, b, (float)kv(c, "eps", 1e-5), (float)kv(c, "momentum", 0.1));
		memcpy(s->state + s->buffers[0].offset, get(c, "running_mean")->v, sizeof(float) * (size_t)xa->shape[1]);
		memcpy(s->state + s->buffers[1].offset, get(c, "running_var")->v, sizeof(float) * (size_t)xa->shape[1]);
		train = (int)kv(c, "train", 1);
	} else if (!strcmp(c->op, "groupnorm"))
		y = nn_graph_groupnorm(g, "gn", x, w, b, (int)kv(c, "groups", 1), (float)kv(c, "eps", 1e-5));
	else if (!strcmp(c->op, "maxpool"))
		y = nn_graph_pool(g, NN_OP_MAXPOOL, "pool", x, k, stride, pad);
	else if (!strcmp(c->op, "avgpool"))
		y = nn_graph_pool(g, NN_OP_AVGPOOL, "pool", x, k, stride, pad);
	else if (!strcmp(c->op, "global_avgpool"))
		y = nn_graph_unary(g, NN_OP_GLOBAL_AVGPOOL, "gap", x);
	else if (!strcmp(c->op, "nearest") || !strcmp(c->op, "bilinear"))
		y = nn_graph_resize(g, c->op[0] == 'n' ? NN_OP_RESIZE_NEAREST : NN_OP_RESIZE_BILINEAR, "resize",
			x, (int)kv(c, "h", 1), (int)kv(c, "w", 1));
	else if (!strcmp(c->op, "softmax") || !strcmp(c->op, "log_softmax"))
		y = nn_graph_softmax(g, c->op[0] == 's' ? NN_OP_SOFTMAX : NN_OP_LOG_SOFTMAX, "sm", x, (int)kv(c, "axis", 1));
	else if (!strcmp(c->op, "leaky_relu"))
		y = nn_graph_leaky_relu(g, "act", x, 0.1f);
	else {
		static const struct { const char *n; enum nn_op op; } acts[] = {
			{ "relu", NN_OP_RELU }, { "silu", NN_OP_SILU }, { "sigmoid", NN_OP_SIGMOID },
			{ "hardswish", NN_OP_HARDSWISH }, { "mish", NN_OP_MISH }, { "tanh", NN_OP_TANH },
		};
		for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
			if (!strcmp(c->op, acts[i].n))
				y = nn_graph_unary(g, acts[i].op, "act", x);
	}
	if (y < 0) {
		ok(0, "%s: cannot build (%s)", c->name, det_error_message());
		nn_graph_free(g);
		return;
	}
	nn_graph_output(g, y);
	if (!train) {
		/* evaluation: the forward in eval mode, the backward through frozen
		 * statistics (what a frozen scale selects in training mode) */
		nn_graph_set_train(g, 0);
		nn_graph_forward(g);
		close_to("y (eval)", c->name, nn_graph_value(g, y), get(c, "y"));
		nn_graph_set_train(g, 1);
		nn_store_freeze(s, "weight", 1);
	}
	nn_graph_plan(g);
	nn_graph_forward(g);
	memcpy(nn_graph_grad(g, y), dya->v, sizeof(float) * (size_t)dya->n);
	nn_graph_backward(g);
	if (train)
		close_to("y", c->name, nn_graph_value(g, y), get(c, "y"));
	close_to("dx", c->name, grad_of(g, x), get(c, "dx"));
	if (w >= 0) {
		if (train)
			close_to("dweight", c->name, grad_of(g, w), get(c, "dweight"));
		close_to("dbias", c->name, grad_of(g, b), get(c, "dbias"));
	}
	if (get(c, "running_mean_after")) {
		snprintf(what, sizeof(what), "running_mean");
		close_to(what, c->name, s->state + s->buffers[0].offset, get(c, "running_mean_after"));
		close_to("running_var", c->name, s->state + s->buffers[1].offset, get(c, "running_var_after"));
	}
	nn_graph_free(g);
}

/* The vectorised exp behind sigmoid, SiLU and Mish, over the whole float
 * range, against double-precision formulas: 1e-6 relative (a few ulp). */
static void exp_accuracy(void)
{
	enum { N = 36001 };
	static float x[N], y[N];
	double worst[3] = { 0 };
	static const enum nn_op ops[3] = { NN_OP_SIGMOID, NN_OP_SILU, NN_OP_MISH };
	static const char *const names[3] = { "sigmoid", "silu", "mish" };

	for (int i = 0; i < N; i++)
		x[i] = -90.0f + 0.005f * (float)i;
	for (int k = 0; k < 3; k++) {
		nn_act_forward(ops[k], 0, x, y, N);
		for (int i = 0; i < N; i++) {
			double v = x[i], s = 1 / (1 + exp(-v));
			double want = k == 0 ? s : k == 1 ? v * s : v * tanh(log1p(exp(v)));
			if (fabs(want) > 1e-30)
				worst[k] = fmax(worst[k], fabs(y[i] - want) / fabs(want));
		}
		ok(worst[k] < 1e-6, "%s over [-90, 90]: worst relative error %.2g against double", names[k], worst[k]);
	}
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	FILE *f;
	struct gcase c = { 0 };
	int cases = 0;

	det_threads_set(2);
	snprintf(path, sizeof(path), "%s/tests/golden/nn/nn.txt", top ? top : TOP_SRCDIR);
	if (!(f = fopen(path, "r"))) {
		ok(0, "open %s", path);
		return tap_done();
	}
	while (read_case(f, &c)) {
		run_case(&c);
		cases++;
	}
	for (int i = 0; i < c.na; i++)
		free(c.a[i].v);
	fclose(f);
	ok(cases >= 30, "read %d cases", cases);
	exp_accuracy();
	return tap_done();
}
