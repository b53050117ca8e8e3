/* test_detector.c: the detector glue (det/detector.h) on a tiny graph whose
 * outputs are 1x1 convolutions of an input: detector_loss's gradient with
 * respect to every head output passes a central finite-difference check
 * (FCOS with centerness and with IoU quality and ATSS, RetinaNet with L1 and
 * with GIoU; where a target is the IoU of the predicted box — the IoU
 * quality, QFL — that target is held constant as in mmdetection, so the box
 * outputs are checked in the other cases only), the outputs are checked against the config (a misfit names
 * the level and output), a class id out of range names the image and box,
 * decoding maps boxes back through the loader's letterbox record, and a
 * steady state of loss + backward allocates nothing with any assigner
 * (malloc/calloc/realloc wrapped with ld --wrap, src/det/local.mk). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/loader.h"
#include "det/detector.h"
#include "nn/graph.h"
#include "tests/tap.h"

/* allocation counting (tests/alloc_count.h): the wrapped allocators count, then call libc's */
#include "tests/alloc_count.h"

#define NB 2   /* batch */
#define IMG 32 /* input side */
#define NC 3   /* classes */

#include "tests/det/tiny_head.h"

/* two images: three boxes and one box */
static float boxes[NB * 4 * 4] = {
	3, 4, 14, 15,   17, 2, 30, 20,   6, 18, 27, 31,   0, 0, 0, 0,
	8, 6, 22, 24,   0, 0, 0, 0,      0, 0, 0, 0,      0, 0, 0, 0,
};
static int32_t classes[NB * 4] = { 0, 2, 1, 0, 1, 0, 0, 0 };
static int counts[NB] = { 3, 1 };
static size_t indices[NB] = { 10, 11 };
static float transform[NB * 4] = { 0.5f, 0.5f, 0, 4, 2, 2, 0, 0 };

static void batch_init(struct loader_batch *b, float *images)
{
	memset(b, 0, sizeof(*b));
	b->n = NB;
	b->width = b->height = IMG;
	b->images = images;
	b->max_boxes = 4;
	b->boxes = boxes;
	b->classes = classes;
	b->counts = counts;
	b->indices = indices;
	b->transform = transform;
}

/* Sets every output to small random values, then compares the analytic
 * gradient with (L(v + e) - L(v - e)) / 2e for a sample of elements. */
static void gradcheck(const char *what, enum detector_kind kind, int A, enum detector_quality q,
	enum detector_assigner asg, enum det_loss_kind box, enum det_loss_kind cls, int skip_box)
{
	struct tiny t;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct detector_losses lo;
	struct rng r;
	int checked = 0, bad = 0, rc;
	double worst = 0;

	rng_init(&r, 3, 0);
	rc = tiny_build(&t, A, q != DETECTOR_QUALITY_NONE, 0);
	ok(rc == 0, "%s: tiny graph built (%s)", what, rc ? det_error_message() : "ok");
	tiny_config(&cfg, &t, kind, A);
	cfg.quality = q;
	cfg.assigner = asg;
	cfg.atss_anchor_scale = 2; /* 16 px anchors at P3 suit a 32 px image */
	cfg.box_loss.kind = box;
	cfg.cls_loss.kind = cls;
	cfg.w_cls = 1.0f, cfg.w_box = 2.0f, cfg.w_quality = 0.5f;
	d = detector_new(&cfg);
	ok(d != NULL, "%s: detector made (%s)", what, d ? "ok" : det_error_message());
	batch_init(&b, NULL);
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 3; k++) {
			if (t.out[l][k] < 0)
				continue;
			const struct nn_node *nd = nn_graph_node(t.g, t.out[l][k]);
			float *v = nn_graph_value(t.g, t.out[l][k]);
			for (int64_t i = 0; i < nd->numel; i++)
				v[i] = (float)(rng_uniform(&r) - 0.5) * (k == 1 && kind == DETECTOR_FCOS ? 1.0f : 2.0f)
					+ (k == 1 && kind == DETECTOR_FCOS ? 0.8f : 0);
		}
	rc = detector_loss(d, t.g, &b, &lo);
	ok(rc == 0 && lo.num_pos > 0 && isfinite(lo.total), "%s: loss %.4f (cls %.4f box %.4f quality %.4f, %g positives)",
		what, lo.total, lo.cls, lo.box, lo.quality, lo.num_pos);
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 3; k++) {
			if (t.out[l][k] < 0)
				continue;
			const struct nn_node *nd = nn_graph_node(t.g, t.out[l][k]);
			float *v = nn_graph_value(t.g, t.out[l][k]);
			float *gr = nn_graph_grad(t.g, t.out[l][k]);
			float *an = malloc((size_t)nd->numel * sizeof(float));

			memcpy(an, gr, (size_t)nd->numel * sizeof(float));
			for (int64_t i = 0; i < nd->numel; i++) {
				const float e = 1e-3f, keep = v[i];
				struct detector_losses lp, lm;
				double num;

				/* every box/quality element (few), a stride through the logits */
				if ((k == 0 && i % 3) || (k == 1 && skip_box))
					continue;
				v[i] = keep + e;
				detector_loss(d, t.g, &b, &lp);
				v[i] = keep - e;
				detector_loss(d, t.g, &b, &lm);
				v[i] = keep;
				num = ((double)lp.total - lm.total) / (2 * e);
				double err = fabs(num - an[i]) / (fabs(num) + fabs(an[i]) + 1e-2);
				if (err > worst)
					worst = err;
				if (err > 3e-2 && fabs(num - an[i]) > 2e-3) {
					if (bad < 5)
						tap_diag("%s: %s[%lld]: analytic %.6f numeric %.6f", what, nd->name, (long long)i,
							an[i], num);
					bad++;
				}
				checked++;
			}
			free(an);
		}
	ok(bad == 0 && checked > 0, "%s: gradient of the total w.r.t. the outputs matches finite differences "
		"(%d elements, worst relative %.2g)", what, checked, worst);
	detector_free(d);
	nn_graph_free(t.g);
}

static void misfit(void)
{
	struct tiny t;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct detector_losses lo;
	int rc;

	tiny_build(&t, 1, 1, 1);
	tiny_config(&cfg, &t, DETECTOR_FCOS, 1);
	d = detector_new(&cfg);
	batch_init(&b, NULL);
	rc = detector_loss(d, t.g, &b, &lo);
	ok(rc == DET_EINVAL && strstr(det_error_message(), "P4 cls") && strstr(det_error_message(), "head.p4.cls"),
		"an output of the wrong shape names the level and node: %s", det_error_message());
	detector_free(d);
	nn_graph_free(t.g);

	tiny_build(&t, 1, 1, 0);
	tiny_config(&cfg, &t, DETECTOR_FCOS, 1);
	d = detector_new(&cfg);
	classes[4] = 7;
	rc = detector_loss(d, t.g, &b, &lo);
	classes[4] = 1;
	ok(rc == DET_EINVAL && strstr(det_error_message(), "dataset image 11") && strstr(det_error_message(), "class 7"),
		"a class id past the head's names the image and box: %s", det_error_message());
	detector_free(d);

	cfg.box_loss.kind = DET_LOSS_FOCAL;
	d = detector_new(&cfg);
	ok(d == NULL && strstr(det_error_message(), "loss.box"), "a focal box loss is refused: %s",
		det_error_message());
	tiny_config(&cfg, &t, DETECTOR_FCOS, 1);
	cfg.classes = 0;
	d = detector_new(&cfg);
	ok(d == NULL && strstr(det_error_message(), "classes"), "zero classes refused: %s", det_error_message());
	nn_graph_free(t.g);
}

/* Decoding: a box-shaped prediction comes back through the letterbox. */
static void decode(void)
{
	struct tiny t;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct detector_dets ds;
	int rc;

	tiny_build(&t, 1, 1, 0);
	tiny_config(&cfg, &t, DETECTOR_FCOS, 1);
	d = detector_new(&cfg);
	batch_init(&b, NULL);
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 3; k++) {
			const struct nn_node *nd = nn_graph_node(t.g, t.out[l][k]);
			float *v = nn_graph_value(t.g, t.out[l][k]);
			for (int64_t i = 0; i < nd->numel; i++)
				v[i] = k == 0 ? -10.f : 0.f;
		}
	/* image 1, level P3 (4x4), position (y 1, x 2): point (20, 12); class 2;
	 * distances exp(t) * 8 = 8 each: box (12, 4, 28, 20) in the batch's
	 * pixels; image 1's transform is scale 2, no pad: (6, 2, 14, 10) */
	{
		float *cls = nn_graph_value(t.g, t.out[0][0]);
		cls[((1 * NC + 2) * 4 + 1) * 4 + 2] = 5.f;
	}
	detector_dets_init(&ds);
	rc = detector_decode(d, t.g, &b, &ds);
	ok(rc == 0 && ds.n == 1, "one detection above the threshold (%zu)", ds.n);
	if (ds.n == 1) {
		const struct detector_det *e = &ds.det[0];
		const float s = 1.f / (1.f + expf(-5.f)) * 0.5f;
		ok(e->image == 1 && e->cls == 2 && fabsf(e->score - s) < 1e-6f, "image 1, class 2, score sigmoid(5) sigmoid(0)");
		ok(fabsf(e->box[0] - 6) < 1e-4f && fabsf(e->box[1] - 2) < 1e-4f && fabsf(e->box[2] - 14) < 1e-4f &&
			fabsf(e->box[3] - 10) < 1e-4f, "box mapped back to the original pixels: %g %g %g %g",
			e->box[0], e->box[1], e->box[2], e->box[3]);
	}
	detector_dets_fini(&ds);
	detector_free(d);
	nn_graph_free(t.g);
}

/* After two warm-up steps (the scratch grows to its size), three more
 * steps of detector_loss + backward on the same batch call no allocator. */
static void steady_state(const char *what, enum detector_kind kind, int A, enum detector_assigner asg)
{
	struct tiny t;
	struct detector_config cfg;
	struct detector *d;
	struct loader_batch b;
	struct detector_losses lo;
	long before = 0;
	int rc = 0;

	if (tiny_build(&t, A, kind == DETECTOR_FCOS, 0)) {
		ok(0, "%s: tiny graph built (%s)", what, det_error_message());
		return;
	}
	tiny_config(&cfg, &t, kind, A);
	cfg.assigner = asg;
	cfg.atss_anchor_scale = 2;
	d = detector_new(&cfg);
	batch_init(&b, NULL);
	for (int step = 0; step < 5 && rc == 0; step++) {
		if (step == 2)
			before = nalloc;
		rc = nn_graph_forward(t.g);
		rc = rc ? rc : detector_loss(d, t.g, &b, &lo);
		rc = rc ? rc : nn_graph_backward(t.g);
	}
	ok(rc == 0 && nalloc - before == 0, "%s: 3 steady steps (loss + backward, %g positives) allocate %ld times (0 expected)%s%s",
		what, lo.num_pos, nalloc - before, rc ? ": " : "", rc ? det_error_message() : "");
	detector_free(d);
	nn_graph_free(t.g);
}

int main(void)
{
	gradcheck("fcos centerness giou", DETECTOR_FCOS, 1, DETECTOR_QUALITY_CENTERNESS, DETECTOR_ASSIGN_FCOS,
		DET_LOSS_GIOU, DET_LOSS_FOCAL, 0);
	gradcheck("fcos centerness atss l1", DETECTOR_FCOS, 1, DETECTOR_QUALITY_CENTERNESS, DETECTOR_ASSIGN_ATSS,
		DET_LOSS_L1, DET_LOSS_FOCAL, 0);
	gradcheck("fcos iou-quality atss diou qfl", DETECTOR_FCOS, 1, DETECTOR_QUALITY_IOU, DETECTOR_ASSIGN_ATSS,
		DET_LOSS_DIOU, DET_LOSS_QFL, 1);
	gradcheck("retinanet maxiou smooth_l1", DETECTOR_RETINANET, 3, DETECTOR_QUALITY_NONE,
		DETECTOR_ASSIGN_MAXIOU, DET_LOSS_SMOOTH_L1, DET_LOSS_FOCAL, 0);
	gradcheck("retinanet atss giou", DETECTOR_RETINANET, 3, DETECTOR_QUALITY_NONE, DETECTOR_ASSIGN_ATSS,
		DET_LOSS_GIOU, DET_LOSS_FOCAL, 0);
	misfit();
	decode();
	steady_state("fcos", DETECTOR_FCOS, 1, DETECTOR_ASSIGN_FCOS);
	steady_state("fcos atss", DETECTOR_FCOS, 1, DETECTOR_ASSIGN_ATSS);
	steady_state("retinanet atss", DETECTOR_RETINANET, 3, DETECTOR_ASSIGN_ATSS);
	steady_state("retinanet maxiou", DETECTOR_RETINANET, 3, DETECTOR_ASSIGN_MAXIOU);
	return tap_done();
}
