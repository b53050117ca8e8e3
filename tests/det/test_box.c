/* test_box.c: the IoU family and the box coders against torchvision
 * fixtures (tests/golden/det/gen_det.py), plus edge cases. */
#include <math.h>
#include <string.h>

#include "det/box.h"
#include "tests/tap.h"
#include "tests/det/fixture.h"

static void check_matrix(const struct fixture *fx, enum det_iou_kind kind, const char *name)
{
	size_t na, nb, nref;
	const float *a = fx_get(fx, "box.a", &na), *b = fx_get(fx, "box.b", &nb);
	const float *ref = fx_get(fx, name, &nref);
	float out[4096];

	na /= 4, nb /= 4;
	det_box_iou_matrix(kind, a, na, b, nb, DET_BOX_EPS, out);
	double w = fx_worst(out, ref, nref, 1e-5, 1e-5);
	ok(nref == na * nb && w <= 1, "%s matrix (%zux%zu, degenerate boxes) matches torchvision "
		"(worst %.3g of tolerance)", name, na, nb, w);
	/* the pair version is the matrix's diagonal */
	float pairs[64], diag[64];
	det_box_iou_pairs(kind, a, b, nb, DET_BOX_EPS, pairs);
	for (size_t i = 0; i < nb; i++)
		diag[i] = out[i * nb + i];
	ok(fx_worst(pairs, diag, nb, 0, 0) == 0, "%s pairs equal the matrix diagonal", name);
}

int main(void)
{
	struct fixture *fx = fx_load("det.txt");
	size_t n;

	if (!ok(fx != NULL, "fixture det.txt loads"))
		return tap_done();
	check_matrix(fx, DET_IOU_PLAIN, "box.iou");
	check_matrix(fx, DET_IOU_GIOU, "box.giou");
	check_matrix(fx, DET_IOU_DIOU, "box.diou");
	check_matrix(fx, DET_IOU_CIOU, "box.ciou");

	/* the vectorised path (m >= 16): b twice over gives the fixture's columns twice */
	{
		size_t na, nb;
		const float *a = fx_get(fx, "box.a", &na), *b = fx_get(fx, "box.b", &nb);
		const float *ref = fx_get(fx, "box.iou", NULL);
		float b2[80], out[240], want[240] = { 0 };

		na /= 4, nb /= 4;
		memcpy(b2, b, nb * 4 * sizeof(float));
		memcpy(b2 + nb * 4, b, nb * 4 * sizeof(float));
		det_box_iou_matrix(DET_IOU_PLAIN, a, na, b2, 2 * nb, DET_BOX_EPS, out);
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < 2 * nb; j++)
				want[i * 2 * nb + j] = ref[i * nb + j % nb];
		ok(fx_worst(out, want, na * 2 * nb, 1e-5, 1e-5) <= 1,
			"IoU matrix, vectorised path (%zu x %zu) matches torchvision", na, 2 * nb);
		int same = 1;
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < 2 * nb; j++) {
				float o = det_box_iou_one(DET_IOU_PLAIN, a + 4 * i, b2 + 4 * j, DET_BOX_EPS);
				float v = out[i * 2 * nb + j];

				same &= (o == v) || (o != o && v != v);
			}
		ok(same, "vectorised IoU is bit-identical to det_box_iou_one");
	}

	/* edge cases */
	{
		float z[4] = { 5, 5, 5, 5 }, a[4] = { 0, 0, 10, 10 }, o;

		o = det_box_iou_one(DET_IOU_PLAIN, a, a, DET_BOX_EPS);
		ok(o == 1.0f, "identical boxes: IoU 1 (%g)", (double)o);
		o = det_box_iou_one(DET_IOU_PLAIN, z, z, DET_BOX_EPS);
		ok(isnan(o), "zero-area box with itself: IoU is 0/0 = NaN as torchvision (%g)", (double)o);
		o = det_box_iou_one(DET_IOU_PLAIN, z, a, DET_BOX_EPS);
		ok(o == 0.0f, "zero-area box inside another: IoU 0");
		o = det_box_iou_one(DET_IOU_DIOU, z, z, DET_BOX_EPS);
		ok(isnan(o), "DIoU of a point with itself is NaN too (IoU term)");
		float out[1] = { 42 };
		det_box_iou_matrix(DET_IOU_GIOU, a, 0, a, 1, DET_BOX_EPS, out);
		ok(out[0] == 42, "no boxes: the matrix writes nothing");
	}

	/* RetinaNet coder */
	{
		size_t m;
		const float *anc = fx_get(fx, "coder.anchors", &m), *bx = fx_get(fx, "coder.boxes", NULL);
		const float *din = fx_get(fx, "coder.in_deltas", NULL);
		float d[64], b[64], g[64], dd[64];
		struct det_box_coder c;

		n = m / 4;
		det_box_coder_init(&c);
		det_box_coder_encode(&c, anc, bx, n, d);
		ok(fx_worst(d, fx_get(fx, "coder.deltas", NULL), m, 1e-5, 1e-5) <= 1,
			"BoxCoder(1,1,1,1).encode matches torchvision");
		det_box_coder_decode(&c, anc, din, n, b);
		ok(fx_worst(b, fx_get(fx, "coder.decoded", NULL), m, 1e-5, 1e-4) <= 1,
			"BoxCoder decode (one dw beyond the clamp) matches torchvision");
		c.wx = c.wy = 10, c.ww = c.wh = 5;
		det_box_coder_encode(&c, anc, bx, n, d);
		ok(fx_worst(d, fx_get(fx, "coder2.deltas", NULL), m, 1e-5, 1e-5) <= 1,
			"BoxCoder(10,10,5,5).encode matches torchvision");
		det_box_coder_decode(&c, anc, din, n, b);
		ok(fx_worst(b, fx_get(fx, "coder2.decoded", NULL), m, 1e-5, 1e-4) <= 1,
			"BoxCoder(10,10,5,5).decode matches torchvision");
		/* decode backward vs central differences of sum(g * decode) */
		for (size_t i = 0; i < m; i++)
			g[i] = (float)((i * 7) % 5) - 2.0f;
		det_box_coder_decode_backward(&c, anc, din, n, g, dd);
		double worst = 0;
		for (size_t i = 0; i < m; i++) {
			float dp[64], dm[64], h = 1e-3f;
			double fp = 0, fm = 0;

			memcpy(dp, din, m * sizeof(float));
			memcpy(dm, din, m * sizeof(float));
			dp[i] += h, dm[i] -= h;
			det_box_coder_decode(&c, anc, dp, n, b);
			for (size_t k = 0; k < m; k++)
				fp += (double)g[k] * b[k];
			det_box_coder_decode(&c, anc, dm, n, b);
			for (size_t k = 0; k < m; k++)
				fm += (double)g[k] * b[k];
			double fd = (fp - fm) / (2 * h), e = fabs(fd - dd[i]) / (1e-2 + 1e-2 * fabs(fd));
			if (e > worst)
				worst = e;
		}
		ok(worst <= 1, "BoxCoder decode backward matches central differences (worst %.3g)", worst);
	}

	/* FCOS */
	{
		size_t m;
		const float *pts = fx_get(fx, "fcos.points", &m), *s = fx_get(fx, "fcos.stride", NULL);
		const float *bx = fx_get(fx, "coder.boxes", NULL), *lin = fx_get(fx, "fcos.in_ltrb", NULL);
		float d[64], b[64], back[64], g[64], dl[64], c[16];

		n = m / 2;
		det_box_fcos_encode(pts, bx, s, n, d);
		ok(fx_worst(d, fx_get(fx, "fcos.ltrb", NULL), 4 * n, 1e-5, 1e-5) <= 1,
			"FCOS encode matches BoxLinearCoder(normalize_by_size)");
		det_box_fcos_decode(pts, lin, s, n, b);
		ok(fx_worst(b, fx_get(fx, "fcos.decoded", NULL), 4 * n, 1e-5, 1e-4) <= 1,
			"FCOS decode matches BoxLinearCoder");
		det_box_fcos_encode(pts, b, s, n, back);
		ok(fx_worst(back, lin, 4 * n, 1e-4, 1e-4) <= 1, "FCOS encode(decode(d)) = d");
		for (size_t i = 0; i < 4 * n; i++)
			g[i] = 1.0f;
		det_box_fcos_decode_backward(s, n, g, dl);
		ok(dl[0] == -s[0] && dl[2] == s[0] && dl[5] == -s[1], "FCOS decode backward: -s, -s, s, s");
		float ltrb[8] = { 1, 2, 1, 2, 1, 1, 3, 0 };
		det_box_fcos_centerness(ltrb, 2, c);
		ok(c[0] == 1.0f && c[1] == 0.0f, "centerness: 1 at the centre, 0 on an edge");
		float l2[4] = { 1, 1, 4, 2 };
		det_box_fcos_centerness(l2, 1, c);
		ok(tap_close(c[0], sqrt(0.25 * 0.5), 1e-6, 0), "centerness sqrt(1/4 * 1/2)");
	}
	ok(det_iou_kind_parse("ciou") == DET_IOU_CIOU && det_iou_kind_parse("x") == -1,
		"kind names parse");
	fx_free(fx);
	return tap_done();
}
