/* gradcheck.h: a central finite-difference checker for graph gradients,
 * shared by the nn tests. The loss is L = sum_i r_i y_i over the output y
 * with fixed random weights r (so dL/dy = r is what backward receives),
 * summed in double. Each sampled parameter element p gets
 *   num = (L(p + h) - L(p - h)) / 2h
 * and must agree with backward's analytic value ana:
 *   |num - ana| <= rtol * max(|num|, |ana|) + atol.
 *
 * Why float32 is enough here: forward is deterministic, so the outputs the
 * perturbation does not touch are bit-identical in L(p+h) and L(p-h) and
 * cancel exactly; only the m touched outputs add rounding noise of about
 * sqrt(m) * 2^-24 * |r y| / h ~ 1e-5 for m <= 100, |y| ~ 1 and h = 1e-2,
 * while the truncation error h^2/6 |f'''| is ~2e-5 for smooth ops of O(1)
 * curvature. rtol = 1e-2, atol = 1e-3 is therefore well above the noise and
 * well below a wrong gradient (a missing factor, a wrong sign, a dropped
 * term are all >= 5% of the value); test_gradcheck shows a 3% error fails. */
#ifndef DET_TESTS_NN_GRADCHECK_H
#define DET_TESTS_NN_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/graph.h"
#include "tests/tap.h"

#define GC_H 1e-2
#define GC_RTOL 1e-2
#define GC_ATOL 1e-3
#define GC_SAMPLES 24

/* Corrupts the analytic gradient of parameter pi after backward (the
 * checker's self-test uses it); NULL in normal use. */
typedef void (*gc_corrupt_fn)(float *grad, size_t count, int pi);

static double gc_loss(struct nn_graph *g, int out, const float *r)
{
	const float *y;
	double l = 0;
	int64_t n = nn_graph_node(g, out)->numel;

	nn_graph_forward(g);
	y = nn_graph_value(g, out);
	for (int64_t i = 0; i < n; i++)
		l += (double)r[i] * y[i];
	return l;
}

/* Checks every trainable parameter of g (up to GC_SAMPLES elements each)
 * against the output node out. Returns the number of mismatches and prints
 * the worst one as a diagnostic. */
static int gc_check(struct nn_graph *g, int out, const char *what, gc_corrupt_fn corrupt)
{
	struct nn_store *s = nn_graph_store(g);
	int64_t n;
	float *r, *ana;
	struct rng rg;
	int bad = 0, checked = 0;
	double worst = 0;
	char worst_at[160] = "";

	nn_graph_output(g, out);
	nn_graph_set_train(g, 1);
	if (nn_graph_plan(g)) {
		printf("# plan failed: %s\n", det_error_message());
		return 1;
	}
	n = nn_graph_node(g, out)->numel;
	r = malloc(sizeof(float) * (size_t)n);
	ana = malloc(sizeof(float) * s->count);
	rng_init(&rg, 99, 1);
	for (int64_t i = 0; i < n; i++)
		r[i] = rng_uniform(&rg) * 2 - 1;
	nn_graph_forward(g);
	memcpy(nn_graph_grad(g, out), r, sizeof(float) * (size_t)n);
	nn_graph_backward(g);
	memcpy(ana, s->grad, sizeof(float) * s->count);
	for (int pi = 0; pi < s->nparams; pi++) {
		struct nn_param *p = &s->params[pi];
		if (p->frozen)
			continue;
		if (corrupt)
			corrupt(ana + p->offset, p->count, pi);
		for (int k = 0; k < GC_SAMPLES && (size_t)k < p->count; k++) {
			size_t e = p->count <= GC_SAMPLES || k == 0 ? (size_t)k : rng_below(&rg, (uint32_t)p->count);
			float *v = s->data + p->offset + e, keep = *v;
			double lp, lm, num, a = ana[p->offset + e], err, tol;
			*v = keep + (float)GC_H;
			lp = gc_loss(g, out, r);
			*v = keep - (float)GC_H;
			lm = gc_loss(g, out, r);
			*v = keep;
			/* the step actually taken in float32 */
			num = (lp - lm) / ((double)(keep + (float)GC_H) - (double)(keep - (float)GC_H));
			err = fabs(num - a);
			tol = GC_RTOL * fmax(fabs(num), fabs(a)) + GC_ATOL;
			checked++;
			if (err > tol)
				bad++;
			if (err / tol > worst) {
				worst = err / tol;
				snprintf(worst_at, sizeof(worst_at), "%s[%zu]: numeric %.6g analytic %.6g",
					p->name, e, num, a);
			}
		}
	}
	printf("# %s: %d values, worst error/tolerance %.3f at %s\n", what, checked, worst, worst_at);
	free(r);
	free(ana);
	return bad;
}

/* A parameter used as an op's input, values drawn N(0, 1) then shaped by the caller. */
static int gc_param(struct nn_graph *g, const char *name, int ndim, const int64_t *shape)
{
	struct tensor_init_spec init = { TENSOR_INIT_NORMAL, 0, 1 };

	return nn_graph_param(g, name, ndim, shape, &init, 0);
}

static float *gc_data(struct nn_graph *g, int node)
{
	struct nn_store *s = nn_graph_store(g);

	return s->data + s->params[nn_graph_node(g, node)->param].offset;
}

/* Moves values away from a kink at k: |x - k| >= gap (x - k keeps its sign). */
static void gc_away(float *x, size_t n, float k, float gap)
{
	for (size_t i = 0; i < n; i++)
		if (fabsf(x[i] - k) < gap)
			x[i] = x[i] >= k ? k + gap + fabsf(x[i] - k) : k - gap - fabsf(x[i] - k);
}

#endif
