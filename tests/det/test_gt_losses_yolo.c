/* test_gt_losses_yolo.c: detector_gt_losses (det/detector.h) for the YOLO
 * head (task-aligned targets, DFL or exp distances), on a two-level graph
 * whose outputs are set to seeded random values. A box's value equals
 * YOLOv8's training loss (det_yolo_loss) run on that box's positives alone,
 * renormalised from max(S_j, 1) to the per-box means; the values recombine
 * into detector_loss's batch loss; a box no point is assigned to (too small,
 * or no prediction inside it overlaps it) is NaN; values come image by
 * image, box by box; a training step after gt_losses allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/loader.h"
#include "det/detector.h"
#include "det/yolo.h"
#include "nn/graph.h"
#include "tests/tap.h"

/* allocation counting (tests/alloc_count.h; ld --wrap in src/det/local.mk) */
#include "tests/alloc_count.h"

#define NB 2   /* the graph's batch */
#define IMG 32 /* input side: P3 4x4 (stride 8) and P4 2x2 (stride 16) */
#define NC 3   /* classes */
#define MB 3   /* boxes per image at most */
#define P 20   /* points per image */
#define RMAX 4 /* the largest reg_max tried */
#define NBMAX (4 * (RMAX + 1))

struct head {
	struct nn_graph *g;
	int input;
	int cls[2], box[2];
	int R;
	/* the outputs as rows n*P + p, the layout det/yolo.h reads */
	float cls_rows[NB * P * NC], box_rows[NB * P * NBMAX];
	float points[2 * P], strides[P];
};

/* cls (NB, NC, h, h) and box (NB, 4 (R+1), h, h) per level: 1x1 convs of an
 * (NB, 4, h, h) input, so that the detector finds output nodes of the
 * right shapes; their values are then overwritten by head_set */
static int head_build(struct head *h, int R)
{
	struct tensor_init_spec nrm = { TENSOR_INIT_NORMAL, 0, 1 };
	char name[64];
	int p = 0;

	memset(h, 0, sizeof(*h));
	h->R = R;
	h->g = nn_graph_new(NULL, 7);
	for (int l = 0; l < 2; l++) {
		const int side = IMG / (8 << l);
		int64_t xs[4] = { NB, 4, side, side };
		const int cout[2] = { NC, 4 * (R + 1) };
		int x;

		snprintf(name, sizeof(name), "x%d", l);
		x = nn_graph_input(h->g, name, 4, xs);
		if (l == 0)
			h->input = x;
		for (int k = 0; k < 2; k++) {
			int64_t ws[4] = { cout[k], 4, 1, 1 };
			int w, y;

			snprintf(name, sizeof(name), "w%d_%d", l, k);
			w = nn_graph_param(h->g, name, 4, ws, &nrm, 0);
			snprintf(name, sizeof(name), "head.p%d.%s", l + 3, k == 0 ? "cls" : "box");
			if ((y = nn_graph_conv2d(h->g, name, x, w, -1, 1, 0, 1, 1)) < 0)
				return y;
			nn_graph_output(h->g, y);
			*(k == 0 ? &h->cls[l] : &h->box[l]) = y;
		}
		for (int y = 0; y < side; y++)
			for (int xx = 0; xx < side; xx++, p++) {
				h->points[2 * p] = (xx + 0.5f) * (8 << l);
				h->points[2 * p + 1] = (y + 0.5f) * (8 << l);
				h->strides[p] = (float)(8 << l);
			}
	}
	return nn_graph_forward(h->g);
}

/* Writes the rows into the graph's output nodes (NCHW per level). */
static void head_scatter(struct head *h)
{
	const size_t nb = 4 * (size_t)(h->R + 1);

	for (int l = 0; l < 2; l++) {
		const int side = IMG / (8 << l), hw = side * side, off = l == 0 ? 0 : 16;
		float *cv = nn_graph_value(h->g, h->cls[l]), *bv = nn_graph_value(h->g, h->box[l]);

		for (int n = 0; n < NB; n++)
			for (int yx = 0; yx < hw; yx++) {
				const size_t r = (size_t)n * P + off + yx;
				for (int c = 0; c < NC; c++)
					cv[((size_t)n * NC + c) * hw + yx] = h->cls_rows[r * NC + c];
				for (size_t k = 0; k < nb; k++)
					bv[((size_t)n * nb + k) * hw + yx] = h->box_rows[r * nb + k];
			}
	}
}

/* seeded outputs: logits N(0,1) - 1; distance logits N(0,1) (R > 0: the
 * expectation near R / 2 strides) or 0.3 N(0,1) + log 1.5 (R = 0) */
static void head_set(struct head *h, uint64_t seed)
{
	const size_t nb = 4 * (size_t)(h->R + 1);
	struct rng r;

	rng_init(&r, seed, 1);
	for (size_t i = 0; i < NB * P * NC; i++)
		h->cls_rows[i] = rng_normal(&r) - 1.f;
	for (size_t i = 0; i < NB * P * nb; i++)
		h->box_rows[i] = h->R > 0 ? rng_normal(&r) : 0.3f * rng_normal(&r) + logf(1.5f);
	head_scatter(h);
}

static void config(struct detector_config *c, const struct head *h, float wc, float wb, float wd,
	enum det_loss_kind ck, enum det_loss_kind bk)
{
	detector_config_default(c, DETECTOR_YOLO);
	c->classes = NC;
	c->nlevels = 2;
	c->input = h->input;
	c->reg_max = h->R;
	for (int l = 0; l < 2; l++) {
		c->levels[l].level = l + 3;
		c->levels[l].stride = (float)(8 << l);
		c->levels[l].cls = h->cls[l];
		c->levels[l].box = h->box[l];
	}
	c->w_cls = wc, c->w_box = wb, c->w_dfl = wd;
	det_loss_init(&c->cls_loss, ck);
	det_loss_init(&c->box_loss, bk);
}

struct gts {
	float boxes[NB * MB * 4];
	int32_t classes[NB * MB];
	int counts[NB];
	size_t indices[NB];
};

static void batch_set(struct loader_batch *b, struct gts *s, int n)
{
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->width = b->height = IMG;
	b->max_boxes = MB;
	b->boxes = s->boxes;
	b->classes = s->classes;
	b->counts = s->counts;
	b->indices = s->indices;
}

/* the training's targets for the batch, from the same assigner */
static int targets(const struct detector_config *c, const struct head *h, const struct loader_batch *b,
	struct det_yolo_opts *o, struct det_yolo_targets *t)
{
	det_yolo_opts_default(o, NC, h->R);
	o->topk = c->tal_topk, o->alpha = c->tal_alpha, o->beta = c->tal_beta;
	o->cls_loss = c->cls_loss, o->box_loss = c->box_loss;
	o->w_cls = c->w_cls, o->w_box = c->w_box, o->w_dfl = c->w_dfl;
	return det_yolo_assign(o, b->n, P, h->points, h->strides, h->cls_rows, h->box_rows, b->boxes, b->classes,
		b->counts, b->max_boxes, t);
}

/* The reference of box j of image n: det_yolo_loss on the box's positives
 * alone (a one-image batch of m rows with their targets), which divides
 * every part by max(S_j, 1), S_j = sum of the positives' u; rescaled to
 *   w_cls cls sum / m + (w_box box sum + w_dfl dfl sum) / S_j.
 * *m_out: the positives, *s_out: S_j. NaN without positives. */
static double reference(const struct det_yolo_opts *o, const struct head *h, const struct det_yolo_targets *t,
	int n, int j, size_t *m_out, double *s_out)
{
	const size_t nb = 4 * (size_t)(h->R + 1);
	float pts[2 * P], st[P], cls[P * NC], box[P * NBMAX];
	struct det_yolo_targets tj;
	struct det_yolo_losses yl;
	size_t m = 0;
	double S = 0, v = NAN;

	memset(&tj, 0, sizeof(tj));
	tj.gt = malloc(P * sizeof(int));
	tj.cls = malloc(P * sizeof(int));
	tj.score = malloc(P * sizeof(float));
	tj.gtbox = malloc(P * 4 * sizeof(float));
	if (!tj.gt || !tj.cls || !tj.score || !tj.gtbox)
		goto out;
	for (size_t p = 0; p < P; p++) {
		const size_t r = (size_t)n * P + p;
		if (t->gt[r] != j)
			continue;
		memcpy(pts + 2 * m, h->points + 2 * p, 2 * sizeof(float));
		st[m] = h->strides[p];
		memcpy(cls + m * NC, h->cls_rows + r * NC, NC * sizeof(float));
		memcpy(box + m * nb, h->box_rows + r * nb, nb * sizeof(float));
		tj.gt[m] = 0;
		tj.cls[m] = t->cls[r];
		tj.score[m] = t->score[r];
		memcpy(tj.gtbox + 4 * m, t->gtbox + 4 * r, 4 * sizeof(float));
		S += t->score[r];
		m++;
	}
	tj.rows = m, tj.npos = m, tj.sum = S;
	if (m && det_yolo_loss(o, 1, m, pts, st, cls, box, &tj, &yl, NULL, NULL) == 0) {
		const double S1 = S > 1 ? S : 1;
		v = S1 * (o->w_cls * yl.cls / (double)m + (o->w_box * yl.box + (h->R > 0 ? o->w_dfl * yl.dfl : 0)) / S);
	}
out:
	det_yolo_targets_free(&tj);
	*m_out = m;
	*s_out = S;
	return v;
}

static const float tiny_box[4] = { 0, 0, 1, 1 }, big[4] = { 8, 6, 22, 24 }, mid[4] = { 2, 14, 30, 31 },
	other[4] = { 4, 4, 28, 20 };

/* a background row's classification loss: sum_c cls_loss(z_c, 0) (bce:
 * softplus(z_c); vfl: alpha sigmoid(z_c)^gamma softplus(z_c)), by hand */
static double background(const struct det_loss *l, const float *z)
{
	double v = 0;

	for (int c = 0; c < NC; c++) {
		const double sp = (z[c] > 0 ? z[c] : 0) + log1p(exp(-fabs(z[c]))), p = 1 / (1 + exp(-z[c]));
		v += l->kind == DET_LOSS_VFL ? l->alpha * pow(p, l->gamma) * sp : sp;
	}
	return v;
}

static void check(const char *what, int R, enum det_loss_kind ck, enum det_loss_kind bk)
{
	struct head h;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct det_yolo_opts o;
	struct det_yolo_targets t;
	struct detector_losses lo;
	struct gts s;
	float out[NB * MB];
	int rc;

	memset(&t, 0, sizeof(t));
	rc = head_build(&h, R);
	ok(rc == 0, "%s: graph built (%s)", what, rc ? det_error_message() : "ok");
	head_set(&h, 11 + (uint64_t)R);
	config(&cfg, &h, 0.7f, 5.f, 2.f, ck, bk); /* weights the values must carry */
	d = detector_new(&cfg);
	ok(d != NULL, "%s: detector made (%s)", what, d ? "ok" : det_error_message());

	/* image 0: the tiny box (no point inside it), a big box and one that
	 * overlaps it (shared points go to the higher IoU); image 1: one box */
	memset(&s, 0, sizeof(s));
	memcpy(s.boxes, tiny_box, sizeof(tiny_box));
	memcpy(s.boxes + 4, big, sizeof(big));
	memcpy(s.boxes + 8, mid, sizeof(mid));
	memcpy(s.boxes + MB * 4, other, sizeof(other));
	s.classes[0] = 0, s.classes[1] = 1, s.classes[2] = 2, s.classes[MB] = 0;
	s.counts[0] = 3, s.counts[1] = 1;
	batch_set(&b, &s, 2);
	for (int i = 0; i < NB * MB; i++)
		out[i] = -1;
	rc = detector_gt_losses(d, h.g, &b, out);
	ok(rc == 0, "%s: per-box losses (%s)", what, rc ? det_error_message() : "ok");
	ok(isnan(out[0]), "%s: the box no point is assigned to is NaN (got %g)", what, out[0]);
	rc = targets(&cfg, &h, &b, &o, &t);
	ok(rc == 0, "%s: the training's targets (%s)", what, rc ? det_error_message() : "ok");
	{
		const int img[3] = { 0, 0, 1 }, box[3] = { 1, 2, 0 };
		for (int k = 0; k < 3; k++) {
			size_t m;
			double S, ref = reference(&o, &h, &t, img[k], box[k], &m, &S);
			ok(m > 0 && isfinite(ref) && tap_close(out[k + 1], ref, 1e-4, 1e-5),
				"%s: value %d (image %d box %d, %zu points, S_j %.4f) = det_yolo_loss on its points, "
				"renormalised (%.6f vs %.6f)", what, k + 1, img[k], box[k], m, S, out[k + 1], ref);
		}
	}
	ok(out[4] == -1.f, "%s: nothing written past the batch's boxes", what);

	/* one box per image: the values recombine into detector_loss's batch
	 * loss. Box and DFL only (w_cls 0): sum_j S_j v_j = max(S, 1) total. */
	memset(&s, 0, sizeof(s));
	memcpy(s.boxes, mid, sizeof(mid));
	memcpy(s.boxes + MB * 4, other, sizeof(other));
	s.classes[0] = 2, s.classes[MB] = 1;
	s.counts[0] = s.counts[1] = 1;
	batch_set(&b, &s, 2);
	for (int part = 0; part < 2; part++) {
		struct detector_config *dc = detector_config_get(d);
		double sum = 0, S = 0, bg = 0;

		dc->w_cls = part == 0 ? 0.f : 0.7f;
		dc->w_box = dc->w_dfl = part == 0 ? 1.f : 0.f;
		if (part == 0)
			dc->w_box = 5.f, dc->w_dfl = 2.f;
		rc = detector_gt_losses(d, h.g, &b, out) || targets(dc, &h, &b, &o, &t) || detector_loss(d, h.g, &b, &lo);
		ok(rc == 0, "%s: one box per image (%s)", what, rc ? det_error_message() : "ok");
		for (int n = 0; n < 2; n++) {
			size_t m = 0;
			double Sn = 0;
			for (size_t p = 0; p < P; p++) {
				const size_t r = (size_t)n * P + p;
				if (t.gt[r] == 0)
					m++, Sn += t.score[r];
				else
					bg += background(&dc->cls_loss, h.cls_rows + r * NC);
			}
			sum += part == 0 ? Sn * out[n] : (double)m * out[n];
			S += Sn;
		}
		/* the classification part: the background rows (target 0) are
		 * outside every box's value, so they are added by hand */
		if (part == 1)
			sum += dc->w_cls * bg;
		const double ref = (S > 1 ? S : 1) * lo.total;
		ok(isfinite(out[0]) && isfinite(out[1]) && tap_close(sum, ref, 1e-4, 1e-5),
			"%s: %s: the values weighted by %s recombine into detector_loss's total x max(S, 1) "
			"(%.6f vs %.6f, S %.4f)", what, part == 0 ? "box + dfl" : "cls", part == 0 ? "S_j" : "the positives",
			sum, ref, S);
	}
	{
		struct detector_config *dc = detector_config_get(d);
		dc->w_cls = 0.7f, dc->w_box = 5.f, dc->w_dfl = 2.f;
	}

	/* TAL picks positives among the points whose prediction overlaps the
	 * box: with every distance 0 (R > 0: bin 0 certain; R = 0: exp(-30))
	 * image 1's box has no positive, in gt_losses as in training */
	{
		const size_t nb = 4 * (size_t)(R + 1);
		float out2[NB * MB];
		size_t pos1 = 0;

		rc = detector_gt_losses(d, h.g, &b, out);
		for (size_t r = P; r < 2 * P; r++)
			for (size_t k = 0; k < nb; k++)
				h.box_rows[r * nb + k] = R > 0 ? (k % (size_t)(R + 1) == 0 ? 40.f : 0.f) : -30.f;
		head_scatter(&h);
		rc = rc || detector_gt_losses(d, h.g, &b, out2);
		ok(rc == 0 && isfinite(out2[0]) && out2[0] == out[0] && isnan(out2[1]),
			"%s: a box no prediction overlaps is NaN (image 0's value unchanged, %g; image 1's %g)", what,
			out2[0], out2[1]);
		rc = detector_loss(d, h.g, &b, &lo) || targets(detector_config_get(d), &h, &b, &o, &t);
		for (size_t r = P; r < 2 * P; r++)
			pos1 += t.gt[r] >= 0;
		ok(rc == 0 && pos1 == 0 && t.npos > 0 && lo.num_pos == (double)t.npos,
			"%s: the training assigns it no point either (%g positives, all in image 0)", what, lo.num_pos);
		head_set(&h, 11 + (uint64_t)R);
	}

	/* the training's steady step allocates nothing, gt_losses in between
	 * included: training on one image of three boxes, gt_losses on two
	 * images of one box (more rows, fewer boxes: scratch shared with the
	 * training would be reallocated to other sizes) */
	{
		struct gts st;
		struct loader_batch bt;
		struct detector *d2 = detector_new(&cfg); /* fresh scratch */
		long before;

		memset(&st, 0, sizeof(st));
		memcpy(st.boxes, tiny_box, sizeof(tiny_box));
		memcpy(st.boxes + 4, big, sizeof(big));
		memcpy(st.boxes + 8, mid, sizeof(mid));
		st.classes[1] = 1, st.classes[2] = 2;
		st.counts[0] = 3;
		batch_set(&bt, &st, 1);
		rc = !d2 || detector_loss(d2, h.g, &bt, &lo) || detector_loss(d2, h.g, &bt, &lo) ||
			detector_gt_losses(d2, h.g, &b, out);
		before = nalloc;
		for (int i = 0; i < 3; i++)
			rc = rc || detector_loss(d2, h.g, &bt, &lo);
		ok(rc == 0 && nalloc == before, "%s: 3 training losses after a gt_losses allocate %ld times (0 expected)",
			what, nalloc - before);
		detector_free(d2);
	}

	/* a class out of range names the image and box */
	s.classes[MB] = NC;
	rc = detector_gt_losses(d, h.g, &b, out);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "box 0 has class 3"), "%s: a bad class is named (%s)",
		what, det_error_message());
	det_yolo_targets_free(&t);
	detector_free(d);
	nn_graph_free(h.g);
}

int main(void)
{
	check("yolo reg_max 4, ciou, bce", 4, DET_LOSS_BCE, DET_LOSS_CIOU);
	check("yolo reg_max 0, giou, vfl", 0, DET_LOSS_VFL, DET_LOSS_GIOU);
	return tap_done();
}
