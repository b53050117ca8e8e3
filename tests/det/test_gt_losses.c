/* test_gt_losses.c: detector_gt_losses (det/detector.h), the per-GT-box loss
 * behind the inspector's "box the model never fits", on a tiny graph whose
 * head outputs are set to constants per class: a box's value equals a hand
 * sigmoid focal loss over one location's logits plus the box and quality
 * parts detector_loss reports for a batch of that box alone (FCOS with
 * centerness and GIoU assigned by fcos and by atss, RetinaNet with L1 and no quality, loss weights
 * 1 / 2 / 0.5); a box no location is assigned to is NaN; values come image
 * by image, box by box; a box labelled with another class costs more, by
 * exactly the difference of the two focal rows. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "data/loader.h"
#include "det/detector.h"
#include "nn/graph.h"
#include "tests/tap.h"

#define NB 2   /* the graph's batch */
#define IMG 32 /* input side */
#define NC 3   /* classes */
#define MB 3   /* boxes per image at most */

#include "tests/det/tiny_head.h"

static const float logit[NC] = { 2.f, -1.f, -2.5f }; /* class k's logit everywhere */

/* every output constant: cls channel a*C + k = logit[k], box 0.8 (FCOS) or
 * 0.1 (RetinaNet deltas), quality 0.3 */
static void set_outputs(struct tiny *t, int A, enum detector_kind kind)
{
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 3; k++) {
			if (t->out[l][k] < 0)
				continue;
			const struct nn_node *nd = nn_graph_node(t->g, t->out[l][k]);
			float *v = nn_graph_value(t->g, t->out[l][k]);
			const int64_t hw = nd->shape[2] * nd->shape[3], ch = nd->shape[1];

			for (int64_t i = 0; i < nd->numel; i++)
				v[i] = k == 0 ? logit[((i / hw) % ch) % NC] : k == 1 ? (kind == DETECTOR_FCOS ? 0.8f : 0.1f) : 0.3f;
		}
	(void)A;
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

/* torchvision's sigmoid_focal_loss (alpha 0.25, gamma 2) summed over a row
 * of logits with a one-hot target at cls */
static double focal_row(int cls)
{
	double s = 0;

	for (int k = 0; k < NC; k++) {
		const double p = 1 / (1 + exp(-logit[k])), y = k == cls;
		const double ce = -(y * log(p) + (1 - y) * log(1 - p)), pt = p * y + (1 - p) * (1 - y);
		s += (y ? 0.25 : 0.75) * ce * (1 - pt) * (1 - pt);
	}
	return s;
}

/* the value for a batch of the one box (x0..y1, cls): hand focal plus
 * detector_loss's box and quality parts */
static double reference(struct detector *d, struct tiny *t, const float *box, int cls, int quality)
{
	struct gts s;
	struct loader_batch b;
	struct detector_losses lo;

	memset(&s, 0, sizeof(s));
	memcpy(s.boxes, box, 4 * sizeof(float));
	s.classes[0] = cls;
	s.counts[0] = 1;
	batch_set(&b, &s, 1);
	if (detector_loss(d, t->g, &b, &lo) || lo.num_pos < 1)
		return NAN;
	return 1.0 * focal_row(cls) + 2.0 * lo.box + (quality ? 0.5 * lo.quality : 0);
}

static void check(const char *what, enum detector_kind kind, int A, enum detector_assigner asg)
{
	const int quality = kind == DETECTOR_FCOS;
	static const float big[4] = { 8, 6, 22, 24 }, other[4] = { 3, 4, 14, 15 }, tiny_box[4] = { 0, 0, 1, 1 };
	struct tiny t;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct gts s;
	float out[NB * MB];
	int rc;

	rc = tiny_build(&t, A, quality, 0);
	ok(rc == 0, "%s: tiny graph built (%s)", what, rc ? det_error_message() : "ok");
	tiny_config(&cfg, &t, kind, A);
	cfg.w_cls = 1.0f, cfg.w_box = 2.0f, cfg.w_quality = 0.5f; /* weights the values must carry */
	cfg.assigner = asg;
	/* the max-IoU matcher would give the tiny box its best anchors; at 0.3
	 * the boxes here have positives without them */
	cfg.low_quality = 0;
	cfg.pos_iou = 0.3f, cfg.neg_iou = 0.2f;
	cfg.atss_anchor_scale = 2; /* 16 px anchors at P3 suit a 32 px image */
	d = detector_new(&cfg);
	ok(d != NULL, "%s: detector made (%s)", what, d ? "ok" : det_error_message());
	set_outputs(&t, A, kind);

	const double ref_big = reference(d, &t, big, 1, quality), ref_other = reference(d, &t, other, 2, quality);
	const double ref_big0 = reference(d, &t, big, 0, quality);

	/* image 0: the tiny box (no location inside it), then the big one;
	 * image 1: another box */
	memset(&s, 0, sizeof(s));
	memcpy(s.boxes, tiny_box, sizeof(tiny_box));
	memcpy(s.boxes + 4, big, sizeof(big));
	memcpy(s.boxes + MB * 4, other, sizeof(other));
	s.classes[0] = 0, s.classes[1] = 1, s.classes[MB] = 2;
	s.counts[0] = 2, s.counts[1] = 1;
	batch_set(&b, &s, 2);
	for (int i = 0; i < NB * MB; i++)
		out[i] = -1;
	rc = detector_gt_losses(d, t.g, &b, out);
	ok(rc == 0, "%s: per-box losses (%s)", what, rc ? det_error_message() : "ok");
	ok(isnan(out[0]), "%s: the box no location is assigned to is NaN (got %g)", what, out[0]);
	ok(isfinite(ref_big) && tap_close(out[1], ref_big, 1e-4, 1e-5),
		"%s: image 0 box 1 = hand focal + detector_loss box/quality of it alone (%.6f vs %.6f)", what, out[1], ref_big);
	ok(isfinite(ref_other) && tap_close(out[2], ref_other, 1e-4, 1e-5),
		"%s: image 1 box 0 comes third, = its reference (%.6f vs %.6f)", what, out[2], ref_other);
	ok(out[3] == -1.f, "%s: nothing written past the batch's boxes", what);

	/* the same box labelled 0 (the class the constant head favours) and 1 */
	memset(&s, 0, sizeof(s));
	memcpy(s.boxes, big, sizeof(big));
	memcpy(s.boxes + MB * 4, big, sizeof(big));
	s.classes[0] = 0, s.classes[MB] = 1;
	s.counts[0] = s.counts[1] = 1;
	batch_set(&b, &s, 2);
	rc = detector_gt_losses(d, t.g, &b, out);
	ok(rc == 0 && out[1] > out[0] && tap_close(out[0], ref_big0, 1e-4, 1e-5) &&
		tap_close((double)out[1] - out[0], focal_row(1) - focal_row(0), 1e-3, 1e-5),
		"%s: the box labelled with the wrong class costs more (%.5f > %.5f), by the focal difference %.5f",
		what, out[1], out[0], focal_row(1) - focal_row(0));

	/* a class out of range names the image and box */
	s.classes[MB] = NC;
	rc = detector_gt_losses(d, t.g, &b, out);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "box 0 has class 3"), "%s: a bad class is named (%s)",
		what, det_error_message());
	detector_free(d);
	nn_graph_free(t.g);
}

int main(void)
{
	check("fcos centerness giou", DETECTOR_FCOS, 1, DETECTOR_ASSIGN_FCOS);
	check("fcos centerness atss", DETECTOR_FCOS, 1, DETECTOR_ASSIGN_ATSS);
	check("retinanet maxiou l1", DETECTOR_RETINANET, 3, DETECTOR_ASSIGN_MAXIOU);
	return tap_done();
}
