/* test_yolo.c: the YOLO head's box decoding, task-aligned targets with
 * YOLOv8's normalised scores, and the cls / box / DFL losses: values on
 * hand-made cases, and the gradients against central finite differences
 * (targets held fixed, as YOLOv8 detaches them) for reg_max 4 and 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "det/box.h"
#include "det/yolo.h"
#include "tests/tap.h"

/* allocation counting (tests/alloc_count.h) (ld --wrap=malloc,... in yolo.mk): a steady state
 * of assign + loss on the same targets allocates nothing */
#include "tests/alloc_count.h"

static void decode_cases(void)
{
	/* R = 4: side k's logits peak hard at bin k (0..3) -> distance k */
	float raw[20], box[4], d[4];
	for (int k = 0; k < 4; k++)
		for (int j = 0; j <= 4; j++)
			raw[k * 5 + j] = j == k ? 30.f : 0.f;
	det_yolo_decode_one(4, raw, 1, 100, 50, 8, box, d);
	ok(fabsf(d[0]) < 1e-4f && fabsf(d[1] - 1) < 1e-4f && fabsf(d[2] - 2) < 1e-4f && fabsf(d[3] - 3) < 1e-4f,
		"dfl decode: distances are the expectation (%g %g %g %g)", d[0], d[1], d[2], d[3]);
	ok(fabsf(box[0] - 100) < 1e-3f && fabsf(box[1] - 42) < 1e-3f && fabsf(box[2] - 116) < 1e-3f &&
		fabsf(box[3] - 74) < 1e-3f, "dfl decode: box (x - s l, y - s t, x + s r, y + s b)");
	/* uniform logits: the middle, R / 2 */
	memset(raw, 0, sizeof(raw));
	det_yolo_decode_one(4, raw, 1, 0, 0, 1, box, d);
	ok(fabsf(d[2] - 2) < 1e-5f, "dfl decode: uniform logits give R / 2");
	/* R = 0: exp(t), values spaced by step */
	float r0[8] = { logf(2), 0, 0, 0, logf(3), 0, logf(0.5f), 0 };
	det_yolo_decode_one(0, r0, 2, 10, 10, 4, box, d);
	ok(fabsf(d[0] - 2) < 1e-5f && fabsf(d[1] - 1) < 1e-5f && fabsf(d[2] - 3) < 1e-5f && fabsf(d[3] - 0.5f) < 1e-5f,
		"exp decode with a stride between the values");
}

/* two levels: 4x4 at stride 8 and 2x2 at stride 16 (a 32x32 input) */
#define P 20
#define NIMG 2
#define MAXB 2

static float points[P * 2], strides[P];
static const float gt[NIMG * MAXB * 4] = { 2, 3, 14, 15, 12, 8, 31, 30, 4, 4, 28, 20, 0, 0, 0, 0 };
static const int32_t gcls[NIMG * MAXB] = { 0, 2, 1, -1 };
static const int counts[NIMG] = { 2, 1 };

static void make_points(void)
{
	int p = 0;
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++, p++)
			points[2 * p] = (x + 0.5f) * 8, points[2 * p + 1] = (y + 0.5f) * 8, strides[p] = 8;
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 2; x++, p++)
			points[2 * p] = (x + 0.5f) * 16, points[2 * p + 1] = (y + 0.5f) * 16, strides[p] = 16;
}

static double total(const struct det_yolo_opts *o, const float *cls, const float *box,
	struct det_yolo_targets *t)
{
	struct det_yolo_losses l;
	det_yolo_loss(o, NIMG, P, points, strides, cls, box, t, &l, NULL, NULL);
	return l.total;
}

static void loss_case(int R, enum det_loss_kind boxk, enum det_loss_kind clsk, const char *what)
{
	const int C = 3;
	const size_t rows = NIMG * P, nb = 4 * (size_t)(R + 1);
	struct det_yolo_opts o;
	struct det_yolo_targets t = { 0 };
	struct det_yolo_losses l;
	struct rng rng;
	float *cls = malloc(rows * C * sizeof(float)), *box = malloc(rows * nb * sizeof(float));
	float *dcls = malloc(rows * C * sizeof(float)), *dbox = malloc(rows * nb * sizeof(float));

	rng_init(&rng, 11, (uint64_t)R + 3);
	det_yolo_opts_default(&o, C, R);
	det_loss_init(&o.box_loss, boxk);
	det_loss_init(&o.cls_loss, clsk);
	o.topk = 4;
	for (size_t i = 0; i < rows * C; i++)
		cls[i] = rng_normal(&rng) - 1.f;
	for (size_t i = 0; i < rows * nb; i++)
		box[i] = R ? rng_normal(&rng) : 0.6f + 0.3f * rng_normal(&rng);
	int rc = det_yolo_assign(&o, NIMG, P, points, strides, cls, box, gt, gcls, counts, MAXB, &t);
	ok(rc == 0, "%s: assign (%s)", what, rc ? det_error_message() : "ok");
	ok(t.npos >= 3 && t.sum > 0, "%s: %zu positives, score sum %g", what, t.npos, t.sum);
	int img1_ok = 1;
	for (size_t p = 0; p < P; p++)
		if (t.gt[P + p] > 0 || (t.gt[P + p] == 0 && t.cls[P + p] != 1))
			img1_ok = 0;
	ok(img1_ok, "%s: image 1's positives all take its one box and class", what);
	/* the normalisation: over each gt's positives, max u = max IoU (the
	 * anchor of largest alignment t gets u = max IoU) */
	int norm_ok = 1;
	for (int n = 0; n < NIMG; n++)
		for (int j = 0; j < counts[n]; j++) {
			float umax = 0, iomax = 0;
			int any = 0;
			for (size_t p = 0; p < P; p++) {
				const size_t r = (size_t)n * P + p;
				float pb[4];
				if (t.gt[r] != j)
					continue;
				any = 1;
				det_yolo_decode_one(R, box + r * nb, 1, points[2 * p], points[2 * p + 1], strides[p], pb, NULL);
				umax = fmaxf(umax, t.score[r]);
				iomax = fmaxf(iomax, det_box_iou_one(DET_IOU_PLAIN, pb, gt + ((size_t)n * MAXB + j) * 4, 0));
			}
			if (any && fabsf(umax - iomax) > 1e-5f * (1 + iomax))
				norm_ok = 0;
		}
	ok(norm_ok, "%s: each gt's largest score target is its positives' largest IoU", what);
	rc = det_yolo_loss(&o, NIMG, P, points, strides, cls, box, &t, &l, dcls, dbox);
	ok(rc == 0 && isfinite(l.total) && l.cls > 0 && l.box > 0 && (R == 0 || l.dfl > 0),
		"%s: losses cls %g box %g dfl %g total %g", what, l.cls, l.box, l.dfl, l.total);
	ok(fabsf(l.total - (o.w_cls * l.cls + o.w_box * l.box + (R ? o.w_dfl * l.dfl : 0))) < 1e-5f,
		"%s: total = 0.5 cls + 7.5 box + 1.5 dfl", what);
	/* finite differences, targets fixed */
	double worst = 0;
	int bad = 0;
	for (int which = 0; which < 2; which++) {
		float *x = which ? box : cls, *g = which ? dbox : dcls;
		size_t n = which ? rows * nb : rows * C;
		for (size_t i = 0; i < n; i++) {
			const float h = R ? 1e-2f : 2e-3f, x0 = x[i];
			x[i] = x0 + h;
			double fp = total(&o, cls, box, &t);
			x[i] = x0 - h;
			double fm = total(&o, cls, box, &t);
			x[i] = x0;
			double num = (fp - fm) / (2 * h), err = fabs(num - g[i]) / (2e-3 + 2e-2 * fabs(num));
			if (err > worst)
				worst = err;
			if (err > 1) {
				if (bad++ < 3)
					tap_diag("%s: %s[%zu] numeric %g analytic %g", what, which ? "box" : "cls", i, num, g[i]);
			}
		}
	}
	ok(bad == 0, "%s: gradients match finite differences (worst error/tolerance %.3f)", what, worst);
	{
		long before = nalloc;
		rc = det_yolo_assign(&o, NIMG, P, points, strides, cls, box, gt, gcls, counts, MAXB, &t);
		rc = rc ? rc : det_yolo_loss(&o, NIMG, P, points, strides, cls, box, &t, &l, dcls, dbox);
		ok(rc == 0 && nalloc == before, "%s: assign + loss again on the same targets allocate %ld times "
			"(0 expected: the scratch is reused)", what, nalloc - before);
	}
	det_yolo_targets_free(&t);
	free(cls);
	free(box);
	free(dcls);
	free(dbox);
}

static void empty_case(void)
{
	struct det_yolo_opts o;
	struct det_yolo_targets t = { 0 };
	struct det_yolo_losses l;
	float cls[NIMG * P], box[NIMG * P * 4], dbox[NIMG * P * 4], dcls[NIMG * P];
	const int zero[NIMG] = { 0, 0 };
	int32_t badc[NIMG * MAXB] = { 0, 5, 0, 0 };

	det_yolo_opts_default(&o, 1, 0);
	for (int i = 0; i < NIMG * P; i++)
		cls[i] = -2;
	for (int i = 0; i < NIMG * P * 4; i++)
		box[i] = 0;
	ok(det_yolo_assign(&o, NIMG, P, points, strides, cls, box, gt, gcls, zero, MAXB, &t) == 0 && t.npos == 0,
		"no boxes: no positives");
	ok(det_yolo_loss(&o, NIMG, P, points, strides, cls, box, &t, &l, dcls, dbox) == 0 && l.box == 0 &&
		fabsf(l.cls - 2 * P * log1pf(expf(-2.f))) < 1e-3f, "no boxes: cls is the background BCE over max(S, 1)");
	det_yolo_opts_default(&o, 3, 0);
	ok(det_yolo_assign(&o, NIMG, P, points, strides, cls, box, gt, badc, counts, MAXB, &t) == DET_EINVAL,
		"a class out of range is refused: %s", det_error_message());
	det_yolo_targets_free(&t);
}

/* Reads "name v1 v2 ..." rows of tests/golden/zoo/yolo_loss.txt. */
static int golden_row(FILE *f, const char *name, double *v, int max)
{
	char key[32];
	int n = 0;

	rewind(f);
	while (fscanf(f, "%31s", key) == 1) {
		if (key[0] == '#') {
			int c;
			while ((c = fgetc(f)) != '\n' && c != EOF)
				;
			continue;
		}
		if (strcmp(key, name)) {
			int c;
			while ((c = fgetc(f)) != '\n' && c != EOF)
				;
			continue;
		}
		while (n < max && fscanf(f, "%lf", &v[n]) == 1)
			n++;
		return n;
	}
	return -1;
}

/* The loss parts and gradients for fixed targets against PyTorch
 * (make_yolo_loss.py: Ultralytics' v8DetectionLoss with torchvision's
 * CIoU loss, float64). */
static void golden_case(void)
{
	char path[1024];
	const char *top = getenv("top_srcdir");
	FILE *f;
	double dims[3], v[512];
	float pts[64], st[32], cls[64], box[512], dcls[64], dbox[512];
	int gt_[32], gc_[32];
	float score[32], gtb[128];

	snprintf(path, sizeof(path), "%s/tests/golden/zoo/yolo_loss.txt", top ? top : TOP_SRCDIR);
	f = fopen(path, "r");
	if (!f) {
		ok(0, "golden: cannot open %s", path);
		return;
	}
	golden_row(f, "dims", dims, 3);
	const int Pn = (int)dims[0], C = (int)dims[1], R = (int)dims[2], nb = 4 * (R + 1);
	int n;
#define READ(name, dst, count) do { n = golden_row(f, name, v, 512); for (int i = 0; i < n && i < (count); i++) (dst)[i] = v[i]; } while (0)
	READ("points", pts, 2 * Pn);
	READ("strides", st, Pn);
	READ("cls", cls, Pn * C);
	READ("box", box, Pn * nb);
	READ("gt", gt_, Pn);
	READ("gtcls", gc_, Pn);
	READ("score", score, Pn);
	READ("gtbox", gtb, 4 * Pn);
#undef READ
	struct det_yolo_opts o;
	struct det_yolo_targets t = { .rows = (size_t)Pn, .gt = gt_, .cls = gc_, .score = score, .gtbox = gtb };
	struct det_yolo_losses l;
	double want[4], wc[64], wb[512];

	for (int i = 0; i < Pn; i++)
		if (gt_[i] >= 0)
			t.sum += score[i], t.npos++;
	det_yolo_opts_default(&o, C, R);
	ok(det_yolo_loss(&o, 1, (size_t)Pn, pts, st, cls, box, &t, &l, dcls, dbox) == 0, "golden: loss runs");
	golden_row(f, "losses", want, 4);
	ok(fabs(l.cls - want[0]) < 1e-5 * (1 + fabs(want[0])) && fabs(l.box - want[1]) < 1e-5 * (1 + fabs(want[1])) &&
		fabs(l.dfl - want[2]) < 1e-5 * (1 + fabs(want[2])) && fabs(l.total - want[3]) < 1e-5 * (1 + fabs(want[3])),
		"golden: cls %g box %g dfl %g total %g as PyTorch (%g %g %g %g)", l.cls, l.box, l.dfl, l.total,
		want[0], want[1], want[2], want[3]);
	golden_row(f, "dcls", wc, 64);
	golden_row(f, "dbox", wb, 512);
	double worst = 0;
	for (int i = 0; i < Pn * C; i++)
		worst = fmax(worst, fabs(dcls[i] - wc[i]));
	for (int i = 0; i < Pn * nb; i++)
		worst = fmax(worst, fabs(dbox[i] - wb[i]));
	ok(worst < 1e-5, "golden: d total / d cls and d box as PyTorch's autograd (max |diff| %.2g)", worst);
	/* the arrays are this test's; the scratch the loss grew is the library's */
	t.gt = NULL, t.cls = NULL, t.score = NULL, t.gtbox = NULL;
	det_yolo_targets_free(&t);
	fclose(f);
}

int main(void)
{
	make_points();
	decode_cases();
	loss_case(4, DET_LOSS_GIOU, DET_LOSS_BCE, "reg_max 4, giou, bce");
	loss_case(4, DET_LOSS_DIOU, DET_LOSS_VFL, "reg_max 4, diou, vfl");
	loss_case(0, DET_LOSS_GIOU, DET_LOSS_BCE, "reg_max 0, giou, bce");
	empty_case();
	golden_case();
	return tap_done();
}
