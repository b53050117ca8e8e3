/* yolo.c: the YOLOv8-style head's box decoding (distribution expectation or
 * exp), task-aligned targets with YOLOv8's normalised alignment scores, and
 * the cls / CIoU / DFL losses with their gradients. Formulas in yolo.h. */
#include "det/yolo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "det/assign.h"
#include "det/box.h"

/* exp's argument is clamped here (R = 0), so the distance stays finite */
#define YOLO_T_MAX 20.f

void det_yolo_opts_default(struct det_yolo_opts *o, int classes, int reg_max)
{
	memset(o, 0, sizeof(*o));
	o->classes = classes;
	o->reg_max = reg_max;
	o->topk = 10;
	o->alpha = 0.5f;
	o->beta = 6.f;
	det_loss_init(&o->cls_loss, DET_LOSS_BCE);
	det_loss_init(&o->box_loss, DET_LOSS_CIOU);
	o->w_cls = 0.5f;
	o->w_box = 7.5f;
	o->w_dfl = 1.5f;
}

void det_yolo_targets_free(struct det_yolo_targets *t)
{
	free(t->gt);
	free(t->cls);
	free(t->score);
	free(t->gtbox);
	det_assign_work_free(&t->tal);
	for (int i = 0; i < DET_YOLO_NWORK; i++)
		free(t->work[i].p);
	memset(t, 0, sizeof(*t));
}

/* Scratch slot i of t with room for count elements of size bytes (+1, so
 * that an empty batch still gets a pointer); NULL when out of memory. */
static void *work(struct det_yolo_targets *t, int i, size_t count, size_t size)
{
	size_t bytes = (count + 1) * size;

	if (bytes > t->work[i].cap) {
		free(t->work[i].p);
		t->work[i].cap = 0;
		if (!(t->work[i].p = malloc(bytes)))
			return NULL;
		t->work[i].cap = bytes;
	}
	return t->work[i].p;
}

/* d_k and, when prob is not NULL, the softmax of side k (R + 1 values) */
static float side_dist(int R, const float *raw, size_t step, int k, float *prob)
{
	if (R == 0)
		return expf(fminf(raw[(size_t)k * step], YOLO_T_MAX));
	const float *z = raw + (size_t)k * (R + 1) * step;
	float m = z[0], sum = 0, d = 0;
	float tmp[65];
	float *p = prob ? prob : tmp;

	for (int j = 1; j <= R; j++)
		m = fmaxf(m, z[(size_t)j * step]);
	for (int j = 0; j <= R; j++) {
		p[j] = expf(z[(size_t)j * step] - m);
		sum += p[j];
	}
	for (int j = 0; j <= R; j++) {
		p[j] /= sum;
		d += (float)j * p[j];
	}
	return d;
}

void det_yolo_decode_one(int reg_max, const float *raw, size_t step, float px, float py, float s,
	float *box, float *d)
{
	float dd[4];

	for (int k = 0; k < 4; k++)
		dd[k] = side_dist(reg_max, raw, step, k, NULL);
	box[0] = px - s * dd[0];
	box[1] = py - s * dd[1];
	box[2] = px + s * dd[2];
	box[3] = py + s * dd[3];
	if (d)
		memcpy(d, dd, sizeof(dd));
}

static float sigmoidf(float x)
{
	return 1.f / (1.f + expf(-x));
}

int det_yolo_assign(const struct det_yolo_opts *o, int nimg, size_t P, const float *points,
	const float *stride, const float *cls, const float *box, const float *gt, const int32_t *gt_cls,
	const int *counts, int max_boxes, struct det_yolo_targets *t)
{
	const int C = o->classes;
	const size_t rows = (size_t)nimg * P, nb = 4 * (size_t)(o->reg_max + 1);
	int rc = 0;

	if (o->reg_max < 0 || o->reg_max > 64)
		return det_error_set(DET_EINVAL, "yolo: reg_max is 0..64, got %d", o->reg_max);
	if (t->rows < rows) {
		det_yolo_targets_free(t);
		t->gt = malloc((rows + 1) * sizeof(int));
		t->cls = malloc((rows + 1) * sizeof(int));
		t->score = malloc((rows + 1) * sizeof(float));
		t->gtbox = malloc((rows + 1) * 4 * sizeof(float));
		if (!t->gt || !t->cls || !t->score || !t->gtbox) {
			det_yolo_targets_free(t);
			return det_error_set(DET_ENOMEM, "yolo: no memory for %zu anchors' targets", rows);
		}
		t->rows = rows;
	}
	t->sum = 0;
	t->npos = 0;
	float *sc = work(t, 0, P * C, sizeof(float));
	float *pb = work(t, 1, P * 4, sizeof(float));
	float *met = work(t, 2, P, sizeof(float));
	float *iou = work(t, 3, P, sizeof(float));
	int *labels = work(t, 4, (size_t)max_boxes, sizeof(int));
	float *amax = work(t, 5, (size_t)max_boxes, sizeof(float));
	float *omax = work(t, 6, (size_t)max_boxes, sizeof(float));
	if (!sc || !pb || !met || !iou || !labels || !amax || !omax)
		return det_error_set(DET_ENOMEM, "yolo: no memory to assign %zu anchors", P);
	for (int n = 0; n < nimg; n++) {
		const float *g4 = gt + (size_t)n * max_boxes * 4;
		const int32_t *gc = gt_cls + (size_t)n * max_boxes;
		const size_t ng = (size_t)counts[n];
		int *asg = t->gt + (size_t)n * P;

		for (size_t j = 0; j < ng; j++) {
			if (gc[j] < 0 || gc[j] >= C) {
				return det_error_set(DET_EINVAL, "yolo: batch image %d box %zu has class %d, the head has %d "
					"classes", n, j, (int)gc[j], C);
			}
			labels[j] = gc[j];
		}
		for (size_t p = 0; p < P; p++) {
			const size_t r = (size_t)n * P + p;
			for (int c = 0; c < C; c++)
				sc[p * C + c] = sigmoidf(cls[r * C + c]);
			det_yolo_decode_one(o->reg_max, box + r * nb, 1, points[2 * p], points[2 * p + 1], stride[p],
				pb + 4 * p, NULL);
		}
		if (ng == 0) {
			for (size_t p = 0; p < P; p++)
				asg[p] = -1, met[p] = 0;
		} else if ((rc = det_assign_tal_work(sc, (size_t)C, pb, points, P, g4, labels, ng, o->topk, o->alpha,
			        o->beta, asg, met, &t->tal)) < 0) {
			return rc;
		}
		/* YOLOv8's normalisation: u = t * max IoU / max t over each gt's positives */
		for (size_t j = 0; j < ng; j++)
			amax[j] = omax[j] = 0;
		for (size_t p = 0; p < P; p++) {
			int j = asg[p];
			if (j < 0)
				continue;
			float v = det_box_iou_one(DET_IOU_PLAIN, pb + 4 * p, g4 + 4 * (size_t)j, 0);
			iou[p] = v == v && v > 0 ? v : 0;
			amax[j] = fmaxf(amax[j], met[p]);
			omax[j] = fmaxf(omax[j], iou[p]);
		}
		for (size_t p = 0; p < P; p++) {
			const size_t r = (size_t)n * P + p;
			int j = asg[p];
			if (j < 0) {
				t->cls[r] = -1;
				t->score[r] = 0;
				memset(t->gtbox + 4 * r, 0, 4 * sizeof(float));
				continue;
			}
			t->cls[r] = labels[j];
			t->score[r] = met[p] * omax[j] / (amax[j] + 1e-9f);
			memcpy(t->gtbox + 4 * r, g4 + 4 * (size_t)j, 4 * sizeof(float));
			t->sum += t->score[r];
			t->npos++;
		}
	}
	return 0;
}

int det_yolo_loss(const struct det_yolo_opts *o, int nimg, size_t P, const float *points,
	const float *stride, const float *cls, const float *box, struct det_yolo_targets *t,
	struct det_yolo_losses *out, float *dcls, float *dbox)
{
	const int C = o->classes, R = o->reg_max;
	const size_t rows = (size_t)nimg * P, nb = 4 * (size_t)(R + 1), npos = t->npos;
	const float S = (float)(t->sum > 1 ? t->sum : 1);
	const float one = 1.f;
	struct det_loss bl = o->box_loss, dl, cl = o->cls_loss;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->num_pos = (double)npos;
	if (t->rows < rows)
		return det_error_set(DET_EINVAL, "yolo: targets for %zu rows, the outputs have %zu", t->rows, rows);
	if (bl.kind != DET_LOSS_IOU && bl.kind != DET_LOSS_GIOU && bl.kind != DET_LOSS_DIOU && bl.kind != DET_LOSS_CIOU)
		return det_error_set(DET_EINVAL, "yolo: the box loss is iou, giou, diou or ciou (got %s)",
			det_loss_kind_name(bl.kind));
	float *tgt = work(t, 7, rows * C, sizeof(float));
	size_t *prow = work(t, 8, npos, sizeof(size_t));
	float *pbox = work(t, 9, npos * 4, sizeof(float));
	float *gbox = work(t, 10, npos * 4, sizeof(float));
	float *pw = work(t, 11, npos, sizeof(float));
	float *gpb = work(t, 12, npos * 4, sizeof(float));
	float *dist = work(t, 13, npos * 4, sizeof(float));
	float *zl = work(t, 14, npos * nb, sizeof(float));     /* (4 npos, R+1) DFL logits */
	float *zt = work(t, 15, npos * 4, sizeof(float));      /* (4 npos) DFL targets */
	float *zw = work(t, 16, npos * 4, sizeof(float));
	float *zg = work(t, 17, npos * nb, sizeof(float));
	if (!tgt || !prow || !pbox || !gbox || !pw || !gpb || !dist || !zl || !zt || !zw || !zg)
		return det_error_set(DET_ENOMEM, "yolo: no memory for the loss of %zu anchors", rows);
	memset(tgt, 0, (rows * C + 1) * sizeof(float));
	size_t i = 0;
	for (size_t r = 0; r < rows; r++) {
		if (t->gt[r] < 0)
			continue;
		const size_t p = r % P;
		const float px = points[2 * p], py = points[2 * p + 1], s = stride[p];
		const float *g4 = t->gtbox + 4 * r;

		tgt[r * C + t->cls[r]] = t->score[r];
		prow[i] = r;
		pw[i] = t->score[r];
		memcpy(gbox + 4 * i, g4, 4 * sizeof(float));
		det_yolo_decode_one(R, box + r * nb, 1, px, py, s, pbox + 4 * i, dist + 4 * i);
		if (R > 0) {
			const float gd[4] = { (px - g4[0]) / s, (py - g4[1]) / s, (g4[2] - px) / s, (g4[3] - py) / s };
			for (int k = 0; k < 4; k++) {
				memcpy(zl + (4 * i + k) * (R + 1), box + r * nb + (size_t)k * (R + 1), (R + 1) * sizeof(float));
				zt[4 * i + k] = fminf(fmaxf(gd[k], 0.f), (float)R - 0.01f);
				zw[4 * i + k] = 0.25f * pw[i]; /* the mean over the 4 sides */
			}
		}
		i++;
	}
	/* classification over every anchor and class */
	cl.reduction = DET_REDUCE_MEAN;
	if ((rc = det_loss_forward(&cl, rows, C, cls, tgt, NULL, S, &out->cls)) < 0)
		goto out;
	if (dcls && (rc = det_loss_backward(&cl, rows, C, cls, tgt, NULL, S, &one, dcls)) < 0)
		goto out;
	/* CIoU on the positives */
	bl.reduction = DET_REDUCE_MEAN;
	if (npos && (rc = det_loss_forward(&bl, npos, 4, pbox, gbox, pw, S, &out->box)) < 0)
		goto out;
	if (npos && dbox && (rc = det_loss_backward(&bl, npos, 4, pbox, gbox, pw, S, &one, gpb)) < 0)
		goto out;
	/* DFL on the positives' sides */
	det_loss_init(&dl, DET_LOSS_DFL);
	dl.reduction = DET_REDUCE_MEAN;
	if (R > 0 && npos && (rc = det_loss_forward(&dl, 4 * npos, (size_t)R + 1, zl, zt, zw, S, &out->dfl)) < 0)
		goto out;
	if (R > 0 && npos && dbox && (rc = det_loss_backward(&dl, 4 * npos, (size_t)R + 1, zl, zt, zw, S, &one, zg)) < 0)
		goto out;
	out->total = o->w_cls * out->cls + o->w_box * out->box + (R > 0 ? o->w_dfl * out->dfl : 0.f);
	if (dcls)
		for (size_t k = 0; k < rows * C; k++)
			dcls[k] *= o->w_cls;
	if (!dbox)
		goto out;
	memset(dbox, 0, rows * nb * sizeof(float));
	for (i = 0; i < npos; i++) {
		const size_t r = prow[i], p = r % P;
		const float s = stride[p];
		/* box = (x - s d_l, y - s d_t, x + s d_r, y + s d_b) */
		const float gd[4] = { -s * gpb[4 * i], -s * gpb[4 * i + 1], s * gpb[4 * i + 2], s * gpb[4 * i + 3] };
		float *db = dbox + r * nb;

		for (int k = 0; k < 4; k++) {
			const float g = o->w_box * gd[k];
			if (R == 0) {
				/* d = exp(t): dd/dt = d (0 where t was clamped) */
				if (box[r * nb + k] < YOLO_T_MAX)
					db[k] += g * dist[4 * i + k];
				continue;
			}
			float prob[65];
			const float d = side_dist(R, box + r * nb, 1, k, prob);
			for (int j = 0; j <= R; j++) /* dd/dz_j = p_j (j - d) */
				db[(size_t)k * (R + 1) + j] += g * prob[j] * ((float)j - d) +
					o->w_dfl * zg[(4 * i + k) * (R + 1) + j];
		}
	}
out:
	return rc;
}
