/* test_loss.c: every loss against torch (values with reduction none, sum and
 * mean; gradients from autograd) on the fixtures of gen_det.py, every
 * gradient against central finite differences, and the checker itself
 * shown to reject wrong gradients.
 *
 * Finite-difference tolerance. The forward runs in float32, so the loss of a
 * unit carries a rounding error of a few ulp, d ~ 1e-7 |l|. A central
 * difference with step h then errs by about d/h (rounding) + h^2 f'''/6
 * (truncation). Logits are O(1) and boxes O(100), so h = 1e-2 for both
 * gives a rounding error near 1e-5 and a truncation error well under 1e-4
 * of the largest gradient; we accept |fd - g| <= 2e-3 max|g| + 1e-2 |g|,
 * twenty times the expected error and still far below what a wrong term
 * (a dropped factor, a flipped sign, a 10% slip) produces, as the last
 * tests show. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "det/loss.h"
#include "tests/tap.h"
#include "tests/det/fixture.h"

static struct fixture *fx;

static const float *get(const char *a, const char *b, size_t *n)
{
	char name[96];

	snprintf(name, sizeof(name), "%s%s", a, b);
	return fx_get(fx, name, n);
}

/* S = sum_u up[u] loss_u(x) (reduction none). CIoU's alpha is a constant
 * in its gradient (torchvision computes it under no_grad), so for CIoU the
 * sum is diou_u(x) + alpha0_u v_u(x) with alpha0 taken at the base point. */
static double loss_sum(const struct det_loss *l, size_t rows, size_t cols, const float *x,
	const float *target, const float *weight, const float *up, const float *alpha0, float *lo)
{
	size_t units = det_loss_units(l, rows, cols);
	double s = 0;

	if (l->kind != DET_LOSS_CIOU) {
		det_loss_forward(l, rows, cols, x, target, weight, 0, lo);
		for (size_t u = 0; u < units; u++)
			s += (double)up[u] * lo[u];
		return s;
	}
	struct det_loss d = *l;
	d.kind = DET_LOSS_DIOU;
	det_loss_forward(&d, rows, cols, x, target, weight, 0, lo);
	for (size_t u = 0; u < units; u++) {
		const float *p = x + 4 * u, *t = target + 4 * u;
		double a = atan((double)(t[2] - t[0]) / (t[3] - t[1])) - atan((double)(p[2] - p[0]) / (p[3] - p[1]));
		double v = 4.0 / (M_PI * M_PI) * a * a;

		s += (double)up[u] * (lo[u] + (weight ? weight[u] : 1.0f) * l->weight * alpha0[u] * v);
	}
	return s;
}

/* CIoU's alpha = v / (1 - iou + v + eps) at x, per unit. */
static void ciou_alpha(const struct det_loss *l, size_t rows, const float *x, const float *target,
	float *alpha0)
{
	struct det_loss d = *l;
	float *one_minus_iou = malloc((rows + 1) * sizeof(float));

	d.kind = DET_LOSS_IOU;
	d.weight = 1;
	d.log_iou = 0;
	det_loss_forward(&d, rows, 4, x, target, NULL, 0, one_minus_iou);
	for (size_t u = 0; u < rows; u++) {
		const float *p = x + 4 * u, *t = target + 4 * u;
		float a = atanf((t[2] - t[0]) / (t[3] - t[1])) - atanf((p[2] - p[0]) / (p[3] - p[1]));
		float v = (float)(4.0 / (M_PI * M_PI)) * a * a;

		alpha0[u] = v / (one_minus_iou[u] + v + l->eps);
	}
	free(one_minus_iou);
}

/* Worst ratio of |fd - g| to the tolerance over all inputs, for the
 * central differences of loss_sum. */
static double gradcheck(const struct det_loss *l0, size_t rows, size_t cols, const float *pred,
	const float *target, const float *weight, const float *up, const float *grad)
{
	struct det_loss l = *l0;
	size_t units = det_loss_units(&l, rows, cols), np = rows * cols;
	float *x = malloc(np * sizeof(float)), *lo = malloc(units * sizeof(float));
	float *alpha0 = malloc((units + 1) * sizeof(float));
	double gmax = 0, worst = 0;
	const float h = 1e-2f;

	l.reduction = DET_REDUCE_NONE;
	if (l.kind == DET_LOSS_CIOU)
		ciou_alpha(&l, rows, pred, target, alpha0);
	memcpy(x, pred, np * sizeof(float));
	for (size_t i = 0; i < np; i++)
		gmax = fmax(gmax, fabs(grad[i]));
	for (size_t i = 0; i < np; i++) {
		double sp, sm;

		x[i] = pred[i] + h;
		sp = loss_sum(&l, rows, cols, x, target, weight, up, alpha0, lo);
		x[i] = pred[i] - h;
		sm = loss_sum(&l, rows, cols, x, target, weight, up, alpha0, lo);
		x[i] = pred[i];
		double fd = (sp - sm) / (2.0 * (double)h);
		double e = fabs(fd - grad[i]) / (2e-3 * gmax + 1e-2 * fabs(grad[i]) + 1e-12);
		if (e > worst)
			worst = e;
	}
	free(x);
	free(lo);
	free(alpha0);
	return worst;
}

/* One fixture case: values (none), torch gradient, finite differences. */
static void check_case(const char *name, const struct det_loss *l0, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight)
{
	struct det_loss l = *l0;
	size_t nl, ng, units = det_loss_units(&l, rows, cols);
	const float *rl = get(name, ".loss", &nl), *up = get(name, ".up", NULL);
	const float *rg = get(name, ".grad", &ng);
	float *lo = malloc(units * sizeof(float)), *g = malloc(rows * cols * sizeof(float));

	l.reduction = DET_REDUCE_NONE;
	det_loss_forward(&l, rows, cols, pred, target, weight, 0, lo);
	double wv = nl == units ? fx_worst(lo, rl, units, 1e-5, 1e-5) : 1e30;
	det_loss_backward(&l, rows, cols, pred, target, weight, 0, up, g);
	double wg = ng == rows * cols ? fx_worst(g, rg, ng, 1e-4, 1e-5) : 1e30;
	ok(wv <= 1, "%s: %zu losses match torch (worst %.2g of tolerance)", name, units, wv);
	ok(wg <= 1, "%s: gradient matches torch autograd (worst %.2g)", name, wg);
	double wf = gradcheck(&l, rows, cols, pred, target, weight, up, g);
	ok(wf <= 1, "%s: gradient matches central differences (worst %.2g)", name, wf);
	free(lo);
	free(g);
}

/* A reduced value against its fixture. */
static void check_reduced(const char *name, const struct det_loss *l0, enum det_loss_reduction r,
	size_t rows, size_t cols, const float *pred, const float *target, const float *weight)
{
	struct det_loss l = *l0;
	float v;
	const float *ref = fx_get(fx, name, NULL);

	l.reduction = r;
	det_loss_forward(&l, rows, cols, pred, target, weight, 0, &v);
	ok(ref && tap_close(v, ref[0], 1e-5, 1e-6), "%s = %.7g (torch %.7g)", name, (double)v,
		ref ? (double)ref[0] : NAN);
}

int main(void)
{
	struct det_loss l;
	char name[64];

	fx = fx_load("det.txt");
	if (!ok(fx != NULL, "fixture det.txt loads"))
		return tap_done();

	/* box losses */
	const float *bp = fx_get(fx, "boxloss.pred", NULL), *bt = fx_get(fx, "boxloss.target", NULL);
	const enum det_loss_kind bk[4] = { DET_LOSS_GIOU, DET_LOSS_DIOU, DET_LOSS_CIOU, DET_LOSS_IOU };
	for (int k = 0; k < 4; k++) {
		det_loss_init(&l, bk[k]);
		snprintf(name, sizeof(name), "boxloss.%s", det_loss_kind_name(bk[k]));
		check_case(name, &l, 24, 4, bp, bt, NULL);
		if (bk[k] == DET_LOSS_IOU)
			continue;
		snprintf(name, sizeof(name), "boxloss.%s.sum", det_loss_kind_name(bk[k]));
		check_reduced(name, &l, DET_REDUCE_SUM, 24, 4, bp, bt, NULL);
		snprintf(name, sizeof(name), "boxloss.%s.mean", det_loss_kind_name(bk[k]));
		check_reduced(name, &l, DET_REDUCE_MEAN, 24, 4, bp, bt, NULL);
		/* degenerate pairs: identical, disjoint, points, a box inside another */
		float v[6];
		l.reduction = DET_REDUCE_NONE;
		det_loss_forward(&l, 6, 4, fx_get(fx, "boxdeg.pred", NULL),
			fx_get(fx, "boxdeg.target", NULL), NULL, 0, v);
		snprintf(name, sizeof(name), "boxdeg.%s", det_loss_kind_name(bk[k]));
		ok(fx_worst(v, fx_get(fx, name, NULL), 6, 1e-5, 1e-5) <= 1,
			"%s: zero-area, identical and disjoint pairs match torchvision's eps handling", name);
	}

	/* IoU loss in log mode (UnitBox): -ln max(iou, eps) = -ln(1 - linear loss) */
	{
		float lin[24], lg[24], g[96], up[24];
		const float *bup = fx_get(fx, "boxloss.iou.up", NULL);
		int good = 1;

		det_loss_init(&l, DET_LOSS_IOU);
		l.reduction = DET_REDUCE_NONE;
		det_loss_forward(&l, 24, 4, bp, bt, NULL, 0, lin);
		l.log_iou = 1;
		det_loss_forward(&l, 24, 4, bp, bt, NULL, 0, lg);
		for (int i = 0; i < 24; i++) {
			good &= tap_close(lg[i], -log(fmax(1.0 - lin[i], 1e-7)), 1e-5, 1e-5);
			up[i] = bup[i];
		}
		ok(good, "iou loss, log mode: -ln max(IoU, eps)");
		/* only the overlapping pairs (the first six) have a finite, smooth log */
		det_loss_backward(&l, 6, 4, bp, bt, NULL, 0, up, g);
		double w = gradcheck(&l, 6, 4, bp, bt, NULL, up, g);
		ok(w <= 1, "iou loss, log mode: gradient matches central differences (worst %.2g)", w);
	}

	/* classification */
	const float *cx = fx_get(fx, "cls.x", NULL), *cy = fx_get(fx, "cls.y", NULL);
	const float al[5] = { 0.25f, -1.0f, 0.5f, 0.75f, 0.25f }, ga[5] = { 2, 2, 0, 1.5f, 1 };
	for (int i = 0; i < 5; i++) {
		det_loss_init(&l, DET_LOSS_FOCAL);
		l.alpha = al[i], l.gamma = ga[i];
		snprintf(name, sizeof(name), "focal%d", i);
		tap_diag("focal alpha %g gamma %g", (double)al[i], (double)ga[i]);
		check_case(name, &l, 8, 5, cx, cy, NULL);
		snprintf(name, sizeof(name), "focal%d.sum", i);
		check_reduced(name, &l, DET_REDUCE_SUM, 8, 5, cx, cy, NULL);
		snprintf(name, sizeof(name), "focal%d.mean", i);
		check_reduced(name, &l, DET_REDUCE_MEAN, 8, 5, cx, cy, NULL);
	}
	const float *cw = fx_get(fx, "cls.w", NULL), *cq = fx_get(fx, "cls.q", NULL);
	det_loss_init(&l, DET_LOSS_BCE);
	check_case("bce", &l, 8, 5, cx, cy, cw);
	check_reduced("bce.mean", &l, DET_REDUCE_MEAN, 8, 5, cx, cy, cw);
	det_loss_init(&l, DET_LOSS_QFL);
	check_case("qfl", &l, 8, 5, cx, cq, NULL);
	det_loss_init(&l, DET_LOSS_VFL);
	check_case("vfl", &l, 8, 5, cx, cq, NULL);

	/* regression */
	const float *rx = fx_get(fx, "reg.x", NULL), *ry = fx_get(fx, "reg.y", NULL);
	det_loss_init(&l, DET_LOSS_L1);
	check_case("l1", &l, 10, 4, rx, ry, NULL);
	const float betas[4] = { 0, 0.5f, 1, 1.0f / 9 };
	for (int i = 0; i < 4; i++) {
		det_loss_init(&l, DET_LOSS_SMOOTH_L1);
		l.beta = betas[i];
		snprintf(name, sizeof(name), "sl1_%d", i);
		tap_diag("smooth_l1 beta %g", (double)betas[i]);
		check_case(name, &l, 10, 4, rx, ry, NULL);
		snprintf(name, sizeof(name), "sl1_%d.mean", i);
		check_reduced(name, &l, DET_REDUCE_MEAN, 10, 4, rx, ry, NULL);
	}

	/* softmax CE: plain, label smoothing, smoothing + class weights */
	const float *ex = fx_get(fx, "ce.x", NULL), *ey = fx_get(fx, "ce.y", NULL);
	const float *ew = fx_get(fx, "ce.w", NULL);
	const float sm[3] = { 0, 0.1f, 0.2f };
	for (int i = 0; i < 3; i++) {
		det_loss_init(&l, DET_LOSS_CE);
		l.smoothing = sm[i];
		if (i == 2)
			det_loss_set_class_weight(&l, ew, 6);
		snprintf(name, sizeof(name), "ce%d", i);
		check_case(name, &l, 9, 6, ex, ey, NULL);
		snprintf(name, sizeof(name), "ce%d.mean", i);
		check_reduced(name, &l, DET_REDUCE_MEAN, 9, 6, ex, ey, NULL);
		float g[54], one = 1;
		l.reduction = DET_REDUCE_MEAN;
		det_loss_backward(&l, 9, 6, ex, ey, NULL, 0, &one, g);
		snprintf(name, sizeof(name), "ce%d.mean_grad", i);
		ok(fx_worst(g, fx_get(fx, name, NULL), 54, 1e-4, 1e-6) <= 1,
			"%s: gradient of the (weighted) mean matches torch", name);
		det_loss_fini(&l);
	}

	/* DFL over 8 bins */
	det_loss_init(&l, DET_LOSS_DFL);
	check_case("dfl", &l, 7, 8, fx_get(fx, "dfl.x", NULL), fx_get(fx, "dfl.y", NULL), NULL);

	/* per-class weights, element weights, avg_factor, reductions */
	{
		float cwts[5] = { 1, 2, 0.5f, 0, 3 }, none[40], none_w[40], s, up[40], g[40];
		double want = 0;

		det_loss_init(&l, DET_LOSS_FOCAL);
		l.reduction = DET_REDUCE_NONE;
		det_loss_forward(&l, 8, 5, cx, cy, NULL, 0, none);
		det_loss_set_class_weight(&l, cwts, 5);
		det_loss_forward(&l, 8, 5, cx, cy, cw, 0, none_w);
		int good = 1;
		for (int i = 0; i < 40; i++) {
			good &= tap_close(none_w[i], none[i] * cwts[i % 5] * cw[i], 1e-6, 1e-9);
			want += (double)none[i] * cwts[i % 5] * cw[i];
			up[i] = 1.0f + 0.1f * (float)(i % 3);
		}
		ok(good, "class weight c scales column c, element weights scale each value");
		l.reduction = DET_REDUCE_MEAN;
		det_loss_forward(&l, 8, 5, cx, cy, cw, det_loss_avg_factor(7), &s);
		ok(tap_close(s, want / 7, 1e-5, 0), "mean with avg_factor 7 = weighted sum / 7");
		det_loss_forward(&l, 8, 5, cx, cy, cw, det_loss_avg_factor(0), &s);
		ok(tap_close(s, want, 1e-5, 0) && det_loss_avg_factor(0) == 1.0f,
			"avg_factor(0 positives) = 1: the sum, never a division by zero");
		l.reduction = DET_REDUCE_NONE;
		det_loss_backward(&l, 8, 5, cx, cy, cw, 0, up, g);
		ok(gradcheck(&l, 8, 5, cx, cy, cw, up, g) <= 1,
			"gradient with class and element weights matches central differences");
		det_loss_fini(&l);
		det_loss_init(&l, DET_LOSS_GIOU);
		l.reduction = DET_REDUCE_MEAN;
		s = 42;
		det_loss_forward(&l, 0, 4, NULL, NULL, NULL, 0, &s);
		ok(s == 0, "no boxes: the mean is 0 (torchvision: 0 * sum)");
		det_loss_init(&l, DET_LOSS_CE);
		float t[2] = { 0, -1 }, x2[6] = { 1, 2, 3, 1, 2, 3 }, v2[2];
		l.reduction = DET_REDUCE_NONE;
		det_loss_forward(&l, 2, 3, x2, t, NULL, 0, v2);
		ok(v2[1] == 0 && v2[0] > 0, "ce: a negative target ignores the row");
		t[0] = 3;
		ok(det_loss_forward(&l, 2, 3, x2, t, NULL, 0, v2) == DET_EINVAL,
			"ce: a class beyond the logits is an error");
		det_loss_init(&l, DET_LOSS_GIOU);
		ok(det_loss_check(&l, 3, 5) == DET_EINVAL, "box losses need 4 values a row");
	}

	/* the checker rejects wrong gradients */
	{
		float g[96], up[24];
		const float *cup = fx_get(fx, "boxloss.ciou.up", NULL);

		det_loss_init(&l, DET_LOSS_DIOU);
		l.reduction = DET_REDUCE_NONE;
		memcpy(up, cup, sizeof(up));
		det_loss_backward(&l, 24, 4, bp, bt, NULL, 0, up, g);
		det_loss_init(&l, DET_LOSS_CIOU);
		ok(gradcheck(&l, 24, 4, bp, bt, NULL, up, g) > 1,
			"checker rejects CIoU's gradient without the aspect term alpha v");
		det_loss_backward(&l, 24, 4, bp, bt, NULL, 0, up, g);
		g[13] *= 1.1f;
		ok(gradcheck(&l, 24, 4, bp, bt, NULL, up, g) > 1,
			"checker rejects a gradient 10%% off in one coordinate");
		float fg[40], fup[40];
		det_loss_init(&l, DET_LOSS_FOCAL);
		for (int i = 0; i < 40; i++)
			fup[i] = 1;
		det_loss_backward(&l, 8, 5, cx, cy, NULL, 0, fup, fg);
		fg[7] = -fg[7];
		ok(gradcheck(&l, 8, 5, cx, cy, NULL, fup, fg) > 1, "checker rejects a flipped sign");
	}
	ok(det_loss_kind_parse("smooth_l1") == DET_LOSS_SMOOTH_L1 && det_loss_kind_parse("?") < 0,
		"kind names parse");
	fx_free(fx);
	return tap_done();
}
