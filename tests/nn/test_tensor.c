/* test_tensor.c: tensor views share storage and outlive their parent, copies
 * follow strides, initialisers have the variances their papers give and are
 * seeded, the printer aligns and elides like PyTorch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/tensor.h"
#include "tests/tap.h"

static void views(void)
{
	int64_t sh[3] = { 2, 3, 4 }, flat[1] = { -1 }, bad[2] = { 5, 5 };
	struct tensor *t = tensor_new(3, sh), *v, *s, *p, *c;
	int64_t idx[3] = { 1, 2, 3 };
	int perm[3] = { 2, 0, 1 };

	for (int64_t i = 0; i < t->numel; i++)
		t->data[i] = (float)i;
	ok(tensor_get(t, idx) == 23, "row-major element (1, 2, 3) is 23");
	v = tensor_reshape(t, 1, flat);
	ok(v && v->ndim == 1 && v->shape[0] == 24 && v->data == t->data, "reshape with -1 is a view");
	ok(!tensor_reshape(t, 2, bad) && strstr(det_error_message(), "cannot view (2, 3, 4)"),
		"a bad reshape names both shapes: %s", det_error_message());
	s = tensor_slice(t, 2, 1, 4, 2);
	ok(s && s->shape[2] == 2 && s->data[0] == 1 && s->data[s->stride[2]] == 3 && !tensor_is_contiguous(s),
		"slice [1:4:2] of the last axis is a strided view");
	ok(!tensor_reshape(s, 1, flat), "a strided view cannot be reshaped");
	p = tensor_permute(t, perm);
	idx[0] = 3; idx[1] = 1; idx[2] = 2;
	ok(p && p->shape[0] == 4 && tensor_get(p, idx) == 23, "permute (2, 0, 1) reads the same element");
	c = tensor_contiguous(p);
	ok(c && tensor_is_contiguous(c) && c->data[1] == 4 && tensor_get(c, idx) == 23,
		"a contiguous copy of a permuted view follows its strides");
	tensor_free(t);
	v->data[23] = -1;
	ok(tensor_get(p, idx) == -1, "views keep the storage alive after the parent is freed");
	tensor_free(v);
	tensor_free(s);
	tensor_free(p);
	tensor_free(c);
}

static double variance(const struct tensor *t)
{
	double s = 0, ss = 0;

	for (int64_t i = 0; i < t->numel; i++) {
		s += t->data[i];
		ss += (double)t->data[i] * t->data[i];
	}
	s /= (double)t->numel;
	return ss / (double)t->numel - s * s;
}

static void initialisers(void)
{
	int64_t sh[4] = { 64, 32, 3, 3 };
	struct tensor *t = tensor_new(4, sh), *u = tensor_new(4, sh);
	struct tensor_init_spec spec;
	struct rng r;
	const double fan_in = 32 * 9, fan_out = 64 * 9;
	float mx = 0;

	tensor_init_parse("kaiming_normal", &spec);
	rng_init(&r, 1, 0);
	tensor_init(t, &spec, &r);
	ok(fabs(variance(t) / (2 / fan_in) - 1) < 0.05, "kaiming_normal: variance 2/fan_in (%.5f vs %.5f)",
		variance(t), 2 / fan_in);
	spec.b = 1; /* fan_out mode */
	rng_init(&r, 1, 0);
	tensor_init(u, &spec, &r);
	ok(fabs(variance(u) / (2 / fan_out) - 1) < 0.05, "kaiming_normal fan_out: variance 2/fan_out");
	tensor_init_parse("xavier_uniform", &spec);
	rng_init(&r, 2, 0);
	tensor_init(t, &spec, &r);
	for (int64_t i = 0; i < t->numel; i++)
		mx = fmaxf(mx, fabsf(t->data[i]));
	ok(mx <= sqrt(6 / (fan_in + fan_out)) && mx > 0.99 * sqrt(6 / (fan_in + fan_out)),
		"xavier_uniform: bound sqrt(6 / (fan_in + fan_out))");
	ok(fabs(variance(t) / (2 / (fan_in + fan_out)) - 1) < 0.05, "xavier_uniform: variance 2/(fan_in + fan_out)");
	tensor_init_parse("kaiming_uniform", &spec);
	rng_init(&r, 3, 0);
	tensor_init(t, &spec, &r);
	ok(fabs(variance(t) / (2 / fan_in) - 1) < 0.05, "kaiming_uniform: variance 2/fan_in");
	rng_init(&r, 3, 0);
	tensor_init(u, &spec, &r);
	ok(!memcmp(t->data, u->data, sizeof(float) * (size_t)t->numel), "the same seed draws the same values");
	ok(tensor_init_parse("he", &spec) == DET_EINVAL && strstr(det_error_message(), "kaiming_normal"),
		"an unknown initialiser lists the known ones");
	tensor_free(t);
	tensor_free(u);
}

static void printing(void)
{
	int64_t sh[2] = { 2, 2 }, big[2] = { 40, 40 }, one[1] = { 3 };
	struct tensor *t = tensor_new(2, sh), *b = tensor_new(2, big), *i = tensor_new(1, one);
	char *s;

	t->data[0] = 1;
	t->data[1] = -2.5f;
	t->data[2] = 30;
	t->data[3] = 4;
	s = tensor_format(t);
	ok(!strcmp(s, "tensor([[ 1.0000, -2.5000],\n        [30.0000,  4.0000]], shape=(2, 2))"),
		"aligned like PyTorch");
	free(s);
	i->data[0] = 1;
	i->data[1] = 20;
	i->data[2] = 3;
	s = tensor_format(i);
	ok(!strcmp(s, "tensor([ 1., 20.,  3.], shape=(3))"), "integers print as 1.: %s", s);
	free(s);
	s = tensor_format(b);
	ok(strstr(s, "[[0., 0., 0.,  ..., 0., 0., 0.],\n") && strstr(s, "...,\n"),
		"1600 elements: rows and columns elided");
	free(s);
	tensor_free(t);
	tensor_free(b);
	tensor_free(i);
}

int main(void)
{
	views();
	initialisers();
	printing();
	return tap_done();
}
