/* loss.c: the detection losses. Each loss is one static function that
 * returns a unit's loss and, when asked, writes its gradient beside it, so
 * forward and backward can never drift apart; det_loss_forward/backward add
 * weights and the reduction. Formulas follow the reference each names. */
#include "det/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const kind_names[DET_LOSS_NKINDS] = {
	"focal", "bce", "centerness", "ce", "qfl", "vfl", "l1", "smooth_l1",
	"iou", "giou", "diou", "ciou", "dfl",
};
static const char *const reduction_names[] = { "none", "sum", "mean" };

int det_loss_kind_parse(const char *name)
{
	for (int k = 0; k < DET_LOSS_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

const char *det_loss_kind_name(enum det_loss_kind kind)
{
	return (unsigned)kind < DET_LOSS_NKINDS ? kind_names[kind] : "?";
}

int det_loss_reduction_parse(const char *name)
{
	for (int r = 0; r < 3; r++)
		if (strcmp(name, reduction_names[r]) == 0)
			return r;
	return -1;
}

const char *det_loss_reduction_name(enum det_loss_reduction r)
{
	return (unsigned)r < 3 ? reduction_names[r] : "?";
}

void det_loss_init(struct det_loss *l, enum det_loss_kind kind)
{
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->reduction = DET_REDUCE_MEAN;
	l->alpha = kind == DET_LOSS_VFL ? 0.75f : 0.25f;
	l->gamma = 2.0f;
	l->beta = kind == DET_LOSS_QFL ? 2.0f : 1.0f;
	l->eps = 1e-7f;
	l->weight = 1.0f;
}

void det_loss_fini(struct det_loss *l)
{
	free(l->class_weight);
	l->class_weight = NULL;
	l->nclass_weight = 0;
}

int det_loss_set_class_weight(struct det_loss *l, const float *w, int n)
{
	float *copy = NULL;

	if (n > 0) {
		copy = malloc((size_t)n * sizeof(*copy));
		if (copy == NULL)
			return det_error_set(DET_ENOMEM, "loss %s: no memory for %d class weights",
				det_loss_kind_name(l->kind), n);
		memcpy(copy, w, (size_t)n * sizeof(*copy));
	}
	free(l->class_weight);
	l->class_weight = copy;
	l->nclass_weight = n > 0 ? n : 0;
	return 0;
}

float det_loss_avg_factor(double num_pos)
{
	return num_pos > 1.0 ? (float)num_pos : 1.0f;
}

enum layout { ELEMENT, BOX, ROW };

static enum layout layout_of(enum det_loss_kind k)
{
	switch (k) {
	case DET_LOSS_IOU: case DET_LOSS_GIOU: case DET_LOSS_DIOU: case DET_LOSS_CIOU:
		return BOX;
	case DET_LOSS_CE: case DET_LOSS_DFL:
		return ROW;
	default:
		return ELEMENT;
	}
}

size_t det_loss_units(const struct det_loss *l, size_t rows, size_t cols)
{
	return layout_of(l->kind) == ELEMENT ? rows * cols : rows;
}

int det_loss_check(const struct det_loss *l, size_t rows, size_t cols)
{
	const char *name = det_loss_kind_name(l->kind);

	if ((unsigned)l->kind >= DET_LOSS_NKINDS || (unsigned)l->reduction > DET_REDUCE_MEAN)
		return det_error_set(DET_EINVAL, "loss: unknown kind %d or reduction %d",
			(int)l->kind, (int)l->reduction);
	if (layout_of(l->kind) == BOX && cols != 4)
		return det_error_set(DET_EINVAL, "loss %s: boxes have 4 values, got %zu", name, cols);
	if (l->kind == DET_LOSS_DFL && rows > 0 && cols < 2)
		return det_error_set(DET_EINVAL, "loss dfl: needs at least 2 bins, got %zu", cols);
	if (l->nclass_weight > 0 && (size_t)l->nclass_weight != cols)
		return det_error_set(DET_EINVAL, "loss %s: %d class weights for %zu classes",
			name, l->nclass_weight, cols);
	if (l->kind == DET_LOSS_CE && (l->smoothing < 0 || l->smoothing > 1))
		return det_error_set(DET_EINVAL, "loss ce: smoothing %g is outside [0, 1]",
			(double)l->smoothing);
	return 0;
}

/* ---- element-wise losses: x a logit or value, y its target ------------ */

static float sigmoidf(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* BCE with logits: max(x, 0) - x y + log(1 + exp(-|x|)); d/dx = s(x) - y. */
static float bce_unit(float x, float y, float *dx)
{
	if (dx)
		*dx = sigmoidf(x) - y;
	return fmaxf(x, 0.0f) - x * y + log1pf(expf(-fabsf(x)));
}

/* |u|^e and its derivative e |u|^(e-1) sign(u) (0 at u = 0 unless e = 1). */
static float powabs(float u, float e, float *d)
{
	float a = fabsf(u);

	if (d) {
		if (e == 1.0f)
			*d = u > 0 ? 1.0f : u < 0 ? -1.0f : 0.0f;
		else
			*d = a > 0 ? e * powf(a, e - 1) * (u > 0 ? 1.0f : -1.0f) : 0.0f;
	}
	return powf(a, e);
}

/* torchvision sigmoid_focal_loss (Lin et al. 2017):
 *   p = s(x), p_t = p y + (1 - p)(1 - y), m = 1 - p_t,
 *   loss = a_t BCE(x, y) m^g,  a_t = a y + (1 - a)(1 - y) (1 when a < 0);
 *   d/dx = a_t [(p - y) m^g + BCE g m^(g-1) dm/dx],  dm/dx = -p (1 - p)(2y - 1). */
static float focal_unit(const struct det_loss *l, float x, float y, float *dx)
{
	float p = sigmoidf(x);
	float dce, ce = bce_unit(x, y, dx ? &dce : NULL);
	float pt = p * y + (1 - p) * (1 - y);
	float m = 1 - pt;
	float dmg, mg = powabs(m, l->gamma, dx ? &dmg : NULL);
	float at = l->alpha >= 0 ? l->alpha * y + (1 - l->alpha) * (1 - y) : 1.0f;

	if (dx) {
		float dm = -p * (1 - p) * (2 * y - 1);

		*dx = at * (dce * mg + ce * dmg * dm);
	}
	return at * (ce * mg);
}

/* Quality focal loss (Li et al. 2020, GFL; mmdet quality_focal_loss):
 *   loss = BCE(x, y) |y - s(x)|^b,  y the IoU-quality target (0 for negatives). */
static float qfl_unit(const struct det_loss *l, float x, float y, float *dx)
{
	float p = sigmoidf(x);
	float dce, ce = bce_unit(x, y, dx ? &dce : NULL);
	float dw, w = powabs(p - y, l->beta, dx ? &dw : NULL);

	if (dx)
		*dx = dce * w + ce * dw * p * (1 - p);
	return ce * w;
}

/* Varifocal loss (Zhang et al. 2021; mmdet varifocal_loss, iou_weighted):
 *   loss = BCE(x, q) w,  w = q for q > 0, a |s(x) - q|^g otherwise. */
static float vfl_unit(const struct det_loss *l, float x, float y, float *dx)
{
	float p = sigmoidf(x);
	float dce, ce = bce_unit(x, y, dx ? &dce : NULL);
	float w, dw = 0;

	if (y > 0) {
		w = y;
	} else {
		w = l->alpha * powabs(p - y, l->gamma, dx ? &dw : NULL);
		dw *= l->alpha * p * (1 - p);
	}
	if (dx)
		*dx = dce * w + ce * dw;
	return ce * w;
}

/* torch smooth_l1_loss: z = |x - y|, 0.5 z^2 / b when z < b, else z - 0.5 b. */
static float smooth_l1_unit(const struct det_loss *l, float x, float y, float *dx)
{
	float u = x - y, z = fabsf(u), b = l->beta;

	if (z < b) {
		if (dx)
			*dx = u / b;
		return 0.5f * z * z / b;
	}
	if (dx)
		*dx = u > 0 ? 1.0f : u < 0 ? -1.0f : 0.0f;
	return z - 0.5f * b;
}

static float element_unit(const struct det_loss *l, float x, float y, float *dx)
{
	switch (l->kind) {
	case DET_LOSS_FOCAL:
		return focal_unit(l, x, y, dx);
	case DET_LOSS_BCE: case DET_LOSS_CENTERNESS:
		return bce_unit(x, y, dx);
	case DET_LOSS_QFL:
		return qfl_unit(l, x, y, dx);
	case DET_LOSS_VFL:
		return vfl_unit(l, x, y, dx);
	case DET_LOSS_L1:
		if (dx)
			*dx = x > y ? 1.0f : x < y ? -1.0f : 0.0f;
		return fabsf(x - y);
	case DET_LOSS_SMOOTH_L1:
		if (l->beta <= 0) {
			struct det_loss l1 = *l;

			l1.kind = DET_LOSS_L1;
			return element_unit(&l1, x, y, dx);
		}
		return smooth_l1_unit(l, x, y, dx);
	default:
		DET_ASSERT(0, "loss kind %d is not element-wise", (int)l->kind);
	}
}

/* ---- box losses: p the predicted box, t the target --------------------- */

/* d max(a, b)/da as torch.maximum: 1, 1/2 on a tie, 0. */
static float sel_max(float a, float b)
{
	return a > b ? 1.0f : a == b ? 0.5f : 0.0f;
}

static float sel_min(float a, float b)
{
	return a < b ? 1.0f : a == b ? 0.5f : 0.0f;
}

/* torchvision generalized_box_iou_loss / distance_box_iou_loss /
 * complete_box_iou_loss, and 1 - IoU. With I the intersection (0 unless both
 * sides are > 0), U = |p| + |t| - I, iou = I / (U + eps), C the enclosing box:
 *   iou:  1 - iou                     (log_iou: -ln max(iou, eps))
 *   giou: 1 - iou + (|C| - U) / (|C| + eps)
 *   diou: 1 - iou + rho^2 / (cw^2 + ch^2 + eps)
 *   ciou: diou + alpha v, v = 4/pi^2 (atan(wt/ht) - atan(wp/hp))^2,
 *         alpha = v / (1 - iou + v + eps) held constant (torch.no_grad).
 * dp (4) receives d loss / d p. Gradients are accumulated on the 4 coordinates
 * through the intermediate quantities (dI, dU, dC, ...). */
static float box_unit(const struct det_loss *l, const float *p, const float *t, float *dp)
{
	const float eps = l->eps;
	float x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
	float x1g = t[0], y1g = t[1], x2g = t[2], y2g = t[3];
	float xk1 = fmaxf(x1, x1g), yk1 = fmaxf(y1, y1g);
	float xk2 = fminf(x2, x2g), yk2 = fminf(y2, y2g);
	int overlap = yk2 > yk1 && xk2 > xk1;
	float iw = overlap ? xk2 - xk1 : 0.0f, ih = overlap ? yk2 - yk1 : 0.0f;
	float inter = overlap ? iw * ih : 0.0f;
	float wp = x2 - x1, hp = y2 - y1;
	float uni = wp * hp + (x2g - x1g) * (y2g - y1g) - inter;
	float iou = inter / (uni + eps);
	float xc1 = fminf(x1, x1g), yc1 = fminf(y1, y1g);
	float xc2 = fmaxf(x2, x2g), yc2 = fmaxf(y2, y2g);
	float cw = xc2 - xc1, ch = yc2 - yc1;
	float loss, g_iou, g_c = 0, g_diag = 0, g_cd = 0, diag = 0, cd = 0;
	float cx = 0, cy = 0, v = 0, alpha = 0;

	switch (l->kind) {
	case DET_LOSS_IOU:
		if (l->log_iou) {
			loss = -logf(fmaxf(iou, eps));
			g_iou = iou > eps ? -1.0f / iou : 0.0f;
		} else {
			loss = 1 - iou;
			g_iou = -1.0f;
		}
		break;
	case DET_LOSS_GIOU: {
		float area_c = cw * ch;

		loss = 1 - (iou - (area_c - uni) / (area_c + eps));
		g_iou = -1.0f;
		/* term = (C - U) / (C + eps): dterm = (dC - dU)/(C+eps) - (C-U)/(C+eps)^2 dC */
		g_c = 1.0f / (area_c + eps) - (area_c - uni) / ((area_c + eps) * (area_c + eps));
		/* the -dU/(C+eps) part joins the union's gradient below */
		break;
	}
	default: /* DIOU, CIOU */
		diag = cw * cw + ch * ch + eps;
		cx = (x2 + x1) / 2 - (x1g + x2g) / 2;
		cy = (y2 + y1) / 2 - (y1g + y2g) / 2;
		cd = cx * cx + cy * cy;
		loss = 1 - iou + cd / diag;
		g_iou = -1.0f;
		g_cd = 1.0f / diag;
		g_diag = -cd / (diag * diag);
		if (l->kind == DET_LOSS_CIOU) {
			float d = atanf((x2g - x1g) / (y2g - y1g)) - atanf(wp / hp);

			v = (float)(4.0 / (M_PI * M_PI)) * d * d;
			alpha = v / (1 - iou + v + eps);
			loss = loss + alpha * v;
		}
		break;
	}
	if (dp == NULL)
		return loss;

	/* iou = I / (U + eps) */
	float g_inter = g_iou / (uni + eps);
	float g_uni = -g_iou * inter / ((uni + eps) * (uni + eps));
	if (l->kind == DET_LOSS_GIOU)
		g_uni += -1.0f / (cw * ch + eps);
	/* U = wp hp + |t| - I */
	g_inter -= g_uni;
	float g_wp = g_uni * hp, g_hp = g_uni * wp;
	/* I = iw ih with iw = min(x2, x2g) - max(x1, x1g) */
	float g_iw = overlap ? g_inter * ih : 0.0f, g_ih = overlap ? g_inter * iw : 0.0f;
	float gx1 = -g_iw * sel_max(x1, x1g), gx2 = g_iw * sel_min(x2, x2g);
	float gy1 = -g_ih * sel_max(y1, y1g), gy2 = g_ih * sel_min(y2, y2g);
	/* the enclosing box: giou through |C| = cw ch, diou through cw^2 + ch^2 */
	float g_cw = g_c * ch + g_diag * 2 * cw, g_ch = g_c * cw + g_diag * 2 * ch;

	gx1 -= g_cw * sel_min(x1, x1g);
	gx2 += g_cw * sel_max(x2, x2g);
	gy1 -= g_ch * sel_min(y1, y1g);
	gy2 += g_ch * sel_max(y2, y2g);
	/* centre distance rho^2 = cx^2 + cy^2, cx = (x1 + x2)/2 - ... */
	gx1 += g_cd * cx;
	gx2 += g_cd * cx;
	gy1 += g_cd * cy;
	gy2 += g_cd * cy;
	if (l->kind == DET_LOSS_CIOU && hp != 0) {
		/* alpha v with v = K (atan(wt/ht) - atan(r))^2, r = wp / hp */
		float d = atanf((x2g - x1g) / (y2g - y1g)) - atanf(wp / hp);
		float r = wp / hp;
		float g_r = alpha * (float)(4.0 / (M_PI * M_PI)) * 2 * d * (-1.0f / (1 + r * r));

		g_wp += g_r / hp;
		g_hp -= g_r * r / hp;
	}
	gx1 -= g_wp;
	gx2 += g_wp;
	gy1 -= g_hp;
	gy2 += g_hp;
	dp[0] = gx1, dp[1] = gy1, dp[2] = gx2, dp[3] = gy2;
	return loss;
}

/* ---- row losses: a row of logits ---------------------------------------- */

/* log-softmax of x (n) into lp; returns nothing, lp may not alias x. */
static void log_softmax(const float *x, size_t n, float *lp)
{
	float mx = x[0];
	double s = 0;

	for (size_t c = 1; c < n; c++)
		mx = fmaxf(mx, x[c]);
	for (size_t c = 0; c < n; c++)
		s += exp((double)(x[c] - mx));
	float lse = mx + (float)log(s);
	for (size_t c = 0; c < n; c++)
		lp[c] = x[c] - lse;
}

/* torch cross_entropy(weight=w, label_smoothing=e), one row with class y:
 *   loss = (1 - e) w_y (-lp_y) + e/C sum_c w_c (-lp_c)
 *   d/dx_j = p_j [(1 - e) w_y + e/C sum_c w_c] - (1 - e) w_y [j = y] - e/C w_j.
 * lp is scratch (cols floats). */
static float ce_row(const struct det_loss *l, const float *x, size_t cols, int y,
	float *lp, float *dx)
{
	const float *cw = l->class_weight;
	float e = l->smoothing, wy = cw ? cw[y] : 1.0f;
	double smooth = 0, wsum = 0;

	log_softmax(x, cols, lp);
	for (size_t c = 0; c < cols; c++) {
		float w = cw ? cw[c] : 1.0f;

		smooth += (double)w * -lp[c];
		wsum += w;
	}
	float loss = (1 - e) * wy * -lp[y] + e / (float)cols * (float)smooth;
	if (dx) {
		float a = (1 - e) * wy + e / (float)cols * (float)wsum;

		for (size_t c = 0; c < cols; c++)
			dx[c] = expf(lp[c]) * a - e / (float)cols * (cw ? cw[c] : 1.0f);
		dx[y] -= (1 - e) * wy;
	}
	return loss;
}

/* Distribution focal loss (Li et al. 2020, GFL; mmdet distribution_focal_loss):
 * y in [0, n-1] between bins yl = min(floor(y), n-2) and yr = yl + 1:
 *   loss = (yr - y) (-lp_yl) + (y - yl) (-lp_yr)
 *   d/dx_j = p_j - (yr - y) [j = yl] - (y - yl) [j = yr]. */
static float dfl_row(const float *x, size_t n, float y, float *lp, float *dx)
{
	y = fminf(fmaxf(y, 0.0f), (float)(n - 1));
	int yl = (int)floorf(y);
	if (yl > (int)n - 2)
		yl = (int)n - 2;
	int yr = yl + 1;
	float wl = (float)yr - y, wr = y - (float)yl;

	log_softmax(x, n, lp);
	if (dx) {
		for (size_t c = 0; c < n; c++)
			dx[c] = expf(lp[c]);
		dx[yl] -= wl;
		dx[yr] -= wr;
	}
	return wl * -lp[yl] + wr * -lp[yr];
}

/* ---- weights and reduction ---------------------------------------------- */

/* One pass over the units: the forward (sum or per unit) and, with dpred,
 * the backward. g_scalar is the upstream gradient for reduced losses. */
static int loss_run(const struct det_loss *l, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight, float avg_factor,
	float *out, const float *dout, float *dpred)
{
	int rc = det_loss_check(l, rows, cols);
	if (rc)
		return rc;
	enum layout lay = layout_of(l->kind);
	size_t units = det_loss_units(l, rows, cols);
	const float *cwt = l->class_weight;
	float lp_small[128]; /* DFL's 17 bins and most class counts: no allocation per call */
	float *lp = NULL;
	double total = 0, count = 0;

	if (lay == ROW && rows > 0) {
		lp = cols <= 128 ? lp_small : malloc(cols * sizeof(*lp));
		if (lp == NULL)
			return det_error_set(DET_ENOMEM, "loss %s: no memory for %zu logits",
				det_loss_kind_name(l->kind), cols);
	}
	/* the mean's denominator first: the backward needs it before the loop */
	if (l->reduction == DET_REDUCE_MEAN) {
		if (avg_factor > 0) {
			count = avg_factor;
		} else if (l->kind == DET_LOSS_CE) {
			for (size_t r = 0; r < rows; r++)
				if (target[r] >= 0)
					count += cwt ? cwt[(int)target[r]] : 1.0f;
		} else {
			count = (double)units;
		}
	}
	float g_scale = 0;
	if (dpred && l->reduction != DET_REDUCE_NONE)
		g_scale = l->reduction == DET_REDUCE_MEAN ? (count > 0 ? (float)(dout[0] / count) : 0.0f)
			: dout[0];

	for (size_t u = 0; u < units; u++) {
		float k = l->weight * (weight ? weight[u] : 1.0f), loss;
		float g = dpred ? (l->reduction == DET_REDUCE_NONE ? dout[u] : g_scale) * k : 0;

		switch (lay) {
		case ELEMENT: {
			float dx;

			if (cwt)
				k *= cwt[u % cols], g *= cwt[u % cols];
			loss = element_unit(l, pred[u], target[u], dpred ? &dx : NULL);
			if (dpred)
				dpred[u] = g * dx;
			break;
		}
		case BOX:
			loss = box_unit(l, pred + 4 * u, target + 4 * u, dpred ? dpred + 4 * u : NULL);
			if (dpred)
				for (int c = 0; c < 4; c++)
					dpred[4 * u + c] *= g;
			break;
		default: {
			float *dx = dpred ? dpred + u * cols : NULL;

			if (l->kind == DET_LOSS_CE) {
				int y = (int)target[u];

				if (target[u] < 0) {
					loss = 0;
					if (dx)
						memset(dx, 0, cols * sizeof(*dx));
					break;
				}
				if (y >= (int)cols) {
					if (lp != lp_small)
						free(lp);
					return det_error_set(DET_EINVAL,
						"loss ce: row %zu has class %d, outside 0..%zu", u, y, cols - 1);
				}
				loss = ce_row(l, pred + u * cols, cols, y, lp, dx);
			} else {
				loss = dfl_row(pred + u * cols, cols, target[u], lp, dx);
			}
			if (dx)
				for (size_t c = 0; c < cols; c++)
					dx[c] *= g;
			break;
		}
		}
		if (out && l->reduction == DET_REDUCE_NONE)
			out[u] = k * loss;
		total += (double)k * loss;
	}
	if (lp != lp_small)
		free(lp);
	if (out && l->reduction == DET_REDUCE_SUM)
		out[0] = (float)total;
	if (out && l->reduction == DET_REDUCE_MEAN)
		out[0] = count > 0 ? (float)(total / count) : 0.0f;
	return 0;
}

int det_loss_forward(const struct det_loss *l, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight, float avg_factor,
	float *out)
{
	return loss_run(l, rows, cols, pred, target, weight, avg_factor, out, NULL, NULL);
}

int det_loss_backward(const struct det_loss *l, size_t rows, size_t cols,
	const float *pred, const float *target, const float *weight, float avg_factor,
	const float *dout, float *dpred)
{
	return loss_run(l, rows, cols, pred, target, weight, avg_factor, NULL, dout, dpred);
}
