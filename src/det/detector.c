/* detector.c: dense-head detectors (FCOS, RetinaNet, YOLO) on a graph's outputs —
 * the anchor table of the current feature-map sizes, label assignment per
 * image, the loss parts with their gradients scattered back into the
 * output nodes, decoding with NMS, and one training step. See detector.h
 * for the output layouts and the formulas. */
#include "det/detector.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/loader.h"
#include "det/assign.h"
#include "det/yolo.h"
#include "nn/graph.h"
#include "nn/optim.h"

/* FCOS: t is clamped here before exp, so exp(t) stays finite */
#define FCOS_T_MAX 20.f

struct buf {
	void *p;
	size_t cap; /* bytes */
};

struct level_io {
	int h, w;
	const float *cls, *box, *q;
	float *dcls, *dbox, *dq;
};

struct detector {
	struct detector_config cfg;
	/* the anchor table for the current map sizes */
	int hw[DETECTOR_MAX_LEVELS][2];
	size_t P;                               /* anchors per image */
	size_t level_count[DETECTOR_MAX_LEVELS], level_off[DETECTOR_MAX_LEVELS];
	float level_stride[DETECTOR_MAX_LEVELS], level_range[DETECTOR_MAX_LEVELS * 2];
	struct buf points, anchors, stride;    /* (P, 2), (P, 4), (P) */
	struct level_io io[DETECTOR_MAX_LEVELS];
	int N;                                  /* the graph's batch */
	/* scratch, grown as needed (a steady state allocates nothing) */
	struct buf cls_pred, cls_tgt, cls_w, cls_grad;
	struct buf assigned, iou;
	struct buf pos_row, pos_gt, pos_cls;
	struct buf b_raw, b_pred, b_tgt, b_w, b_w4, b_grad, b_draw, b_gtbox;
	struct buf q_pred, q_tgt, q_grad;
	struct buf dec_scores, dec_boxes, dec_idx, dec_cls, dec_score;
	struct det_yolo_targets yolo_t;         /* YOLO: the batch's targets */
	struct det_assign_work atss_work;       /* ATSS: its per-image tables */
};

static void *grow(struct buf *b, size_t bytes)
{
	if (bytes == 0)
		bytes = 1;
	if (bytes > b->cap) {
		void *p = realloc(b->p, bytes);

		if (!p)
			return NULL;
		b->p = p;
		b->cap = bytes;
	}
	return b->p;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

void detector_config_default(struct detector_config *c, enum detector_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->anchors = 1;
	c->input = 0;
	c->assigner = kind == DETECTOR_FCOS ? DETECTOR_ASSIGN_FCOS : DETECTOR_ASSIGN_MAXIOU;
	c->center_sampling = 1.5f;
	c->atss_topk = 9;
	c->atss_anchor_scale = 8.f;
	c->pos_iou = 0.5f;
	c->neg_iou = 0.4f;
	c->low_quality = 1;
	c->quality = kind == DETECTOR_FCOS ? DETECTOR_QUALITY_CENTERNESS : DETECTOR_QUALITY_NONE;
	det_loss_init(&c->cls_loss, DET_LOSS_FOCAL);
	det_loss_init(&c->box_loss, kind == DETECTOR_FCOS ? DET_LOSS_GIOU : DET_LOSS_L1);
	det_loss_init(&c->quality_loss, DET_LOSS_CENTERNESS);
	c->w_cls = c->w_box = c->w_quality = 1.f;
	det_box_coder_init(&c->coder);
	det_nms_opts_init(&c->nms);
	c->nms.iou_threshold = 0.6f;
	c->nms.score_threshold = 0.05f;
	c->nms.max_dets = 100;
	c->nms_pre = 1000;
	c->reg_max = 16;
	c->tal_topk = 10;
	c->tal_alpha = 0.5f;
	c->tal_beta = 6.f;
	c->w_dfl = 1.f;
	if (kind == DETECTOR_YOLO) { /* YOLOv8's: TAL, BCE + CIoU + DFL, gains 0.5 / 7.5 / 1.5 */
		c->assigner = DETECTOR_ASSIGN_TAL;
		c->quality = DETECTOR_QUALITY_NONE;
		det_loss_init(&c->cls_loss, DET_LOSS_BCE);
		det_loss_init(&c->box_loss, DET_LOSS_CIOU);
		c->w_cls = 0.5f;
		c->w_box = 7.5f;
		c->w_dfl = 1.5f;
	}
	for (int l = 0; l < DETECTOR_MAX_LEVELS; l++) {
		c->levels[l].quality = -1;
		c->levels[l].range[0] = -1.f;
		c->levels[l].range[1] = INFINITY;
	}
}

static int is_box_kind(enum det_loss_kind k)
{
	return k == DET_LOSS_IOU || k == DET_LOSS_GIOU || k == DET_LOSS_DIOU || k == DET_LOSS_CIOU;
}

static int copy_loss(struct det_loss *dst, const struct det_loss *src)
{
	*dst = *src;
	dst->class_weight = NULL;
	dst->nclass_weight = 0;
	return det_loss_set_class_weight(dst, src->class_weight, src->nclass_weight);
}

struct detector *detector_new(const struct detector_config *cfg)
{
	struct detector *d;
	enum det_loss_kind ck = cfg->cls_loss.kind, bk = cfg->box_loss.kind, qk = cfg->quality_loss.kind;

	if (cfg->classes < 1) {
		det_error_set(DET_EINVAL, "detector: classes must be >= 1 (got %d)", cfg->classes);
		return NULL;
	}
	if (cfg->nlevels < 1 || cfg->nlevels > DETECTOR_MAX_LEVELS) {
		det_error_set(DET_EINVAL, "detector: 1..%d levels (got %d)", DETECTOR_MAX_LEVELS, cfg->nlevels);
		return NULL;
	}
	if (cfg->anchors < 1 || cfg->anchors > DETECTOR_MAX_ANCHORS ||
	    (cfg->kind == DETECTOR_FCOS && cfg->anchors != 1)) {
		det_error_set(DET_EINVAL, "detector: %d anchors per position (FCOS has 1, RetinaNet at most %d)",
			cfg->anchors, DETECTOR_MAX_ANCHORS);
		return NULL;
	}
	if (ck != DET_LOSS_FOCAL && ck != DET_LOSS_BCE && ck != DET_LOSS_QFL && ck != DET_LOSS_VFL) {
		det_error_set(DET_EINVAL, "detector: loss.cls is focal, bce, qfl or vfl (got %s)",
			det_loss_kind_name(ck));
		return NULL;
	}
	if (!is_box_kind(bk) && bk != DET_LOSS_L1 && bk != DET_LOSS_SMOOTH_L1) {
		det_error_set(DET_EINVAL, "detector: loss.box is iou, giou, diou, ciou, l1 or smooth_l1 (got %s)",
			det_loss_kind_name(bk));
		return NULL;
	}
	if (cfg->quality != DETECTOR_QUALITY_NONE && qk != DET_LOSS_BCE && qk != DET_LOSS_CENTERNESS &&
	    qk != DET_LOSS_L1 && qk != DET_LOSS_SMOOTH_L1) {
		det_error_set(DET_EINVAL, "detector: loss.quality is centerness, bce, l1 or smooth_l1 (got %s)",
			det_loss_kind_name(qk));
		return NULL;
	}
	if (cfg->cls_loss.nclass_weight && cfg->cls_loss.nclass_weight != cfg->classes) {
		det_error_set(DET_EINVAL, "detector: loss.cls has %d class weights for %d classes",
			cfg->cls_loss.nclass_weight, cfg->classes);
		return NULL;
	}
	if (cfg->kind == DETECTOR_FCOS && cfg->assigner == DETECTOR_ASSIGN_MAXIOU) {
		det_error_set(DET_EINVAL, "detector: the FCOS head assigns with fcos or atss");
		return NULL;
	}
	if (cfg->kind == DETECTOR_RETINANET && cfg->assigner == DETECTOR_ASSIGN_FCOS) {
		det_error_set(DET_EINVAL, "detector: the RetinaNet head assigns with maxiou or atss");
		return NULL;
	}
	if ((cfg->kind == DETECTOR_YOLO) != (cfg->assigner == DETECTOR_ASSIGN_TAL)) {
		det_error_set(DET_EINVAL, "detector: the YOLO head, and only it, assigns with tal");
		return NULL;
	}
	if (cfg->kind == DETECTOR_YOLO && (cfg->anchors != 1 || !is_box_kind(bk) ||
		cfg->quality != DETECTOR_QUALITY_NONE || cfg->reg_max < 0 || cfg->reg_max > 64 || cfg->tal_topk < 1)) {
		det_error_set(DET_EINVAL, "detector: the YOLO head has 1 anchor, no quality branch, an iou-family "
			"box loss (got %s), reg_max 0..64 (got %d) and tal_topk >= 1", det_loss_kind_name(bk), cfg->reg_max);
		return NULL;
	}
	for (int l = 0; l < cfg->nlevels; l++) {
		const struct detector_level *lv = &cfg->levels[l];
		if (!(lv->stride > 0) || lv->cls < 0 || lv->box < 0 ||
		    (cfg->quality != DETECTOR_QUALITY_NONE && lv->quality < 0)) {
			det_error_set(DET_EINVAL, "detector: level %d (P%d) lacks a stride or an output node",
				l + 1, lv->level);
			return NULL;
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		det_error_set(DET_ENOMEM, "detector: out of memory");
		return NULL;
	}
	d->cfg = *cfg;
	d->cfg.cls_loss.class_weight = d->cfg.box_loss.class_weight = d->cfg.quality_loss.class_weight = NULL;
	d->cfg.cls_loss.nclass_weight = d->cfg.box_loss.nclass_weight = d->cfg.quality_loss.nclass_weight = 0;
	if (copy_loss(&d->cfg.cls_loss, &cfg->cls_loss) || copy_loss(&d->cfg.box_loss, &cfg->box_loss) ||
	    copy_loss(&d->cfg.quality_loss, &cfg->quality_loss)) {
		detector_free(d);
		det_error_set(DET_ENOMEM, "detector: out of memory");
		return NULL;
	}
	return d;
}

void detector_free(struct detector *d)
{
	if (!d)
		return;
	struct buf *all[] = { &d->points, &d->anchors, &d->stride, &d->cls_pred, &d->cls_tgt, &d->cls_w,
		&d->cls_grad, &d->assigned, &d->iou, &d->pos_row, &d->pos_gt, &d->pos_cls, &d->b_raw,
		&d->b_pred, &d->b_tgt, &d->b_w, &d->b_w4, &d->b_grad, &d->b_draw, &d->b_gtbox, &d->q_pred, &d->q_tgt,
		&d->q_grad, &d->dec_scores, &d->dec_boxes, &d->dec_idx, &d->dec_cls, &d->dec_score };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		buf_free(all[i]);
	det_loss_fini(&d->cfg.cls_loss);
	det_loss_fini(&d->cfg.box_loss);
	det_loss_fini(&d->cfg.quality_loss);
	det_yolo_targets_free(&d->yolo_t);
	det_assign_work_free(&d->atss_work);
	free(d);
}

struct detector_config *detector_config_get(struct detector *d)
{
	return &d->cfg;
}

void detector_dets_init(struct detector_dets *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void detector_dets_fini(struct detector_dets *ds)
{
	free(ds->det);
	memset(ds, 0, sizeof(*ds));
}

/* ---- the graph's outputs and the anchor table ---- */

static int check_node(struct nn_graph *g, int id, int64_t c, const char *what, int level,
	int64_t *n, int *h, int *w)
{
	const struct nn_node *nd = nn_graph_node(g, id);

	if (!nd)
		return det_error_set(DET_EINVAL, "detector: P%d %s: node %d is not in the graph", level, what, id);
	if (nd->ndim != 4 || nd->shape[1] != c || (*n >= 0 && nd->shape[0] != *n) ||
	    (*h >= 0 && (nd->shape[2] != *h || nd->shape[3] != *w)))
		return det_error_set(DET_EINVAL, "detector: P%d %s output '%s' has shape (%lld, %lld, %lld, %lld), "
			"expected (N, %lld, H, W) like the level's other outputs", level, what, nd->name,
			(long long)nd->shape[0], (long long)nd->shape[1], (long long)(nd->ndim > 2 ? nd->shape[2] : 0),
			(long long)(nd->ndim > 3 ? nd->shape[3] : 0), (long long)c);
	*n = nd->shape[0];
	*h = (int)nd->shape[2];
	*w = (int)nd->shape[3];
	return 0;
}

/* Reads the output shapes and pointers of g; rebuilds the anchor table when
 * the map sizes changed. grads: also the output gradient buffers. */
static int bind_outputs(struct detector *d, struct nn_graph *g, int grads)
{
	const struct detector_config *c = &d->cfg;
	const int A = c->anchors, C = c->classes;
	int64_t n = -1;
	int changed = 0, rc;

	for (int l = 0; l < c->nlevels; l++) {
		const struct detector_level *lv = &c->levels[l];
		struct level_io *io = &d->io[l];
		int h = -1, w = -1;

		if ((rc = check_node(g, lv->cls, (int64_t)A * C, "cls", lv->level, &n, &h, &w)) ||
		    (rc = check_node(g, lv->box, c->kind == DETECTOR_YOLO ? 4 * (int64_t)(c->reg_max + 1) :
			    (int64_t)A * 4, "box", lv->level, &n, &h, &w)))
			return rc;
		if (c->quality != DETECTOR_QUALITY_NONE &&
		    (rc = check_node(g, lv->quality, A, "quality", lv->level, &n, &h, &w)))
			return rc;
		if (h != d->hw[l][0] || w != d->hw[l][1])
			changed = 1;
		d->hw[l][0] = h, d->hw[l][1] = w;
		io->h = h, io->w = w;
		io->cls = nn_graph_value(g, lv->cls);
		io->box = nn_graph_value(g, lv->box);
		io->q = c->quality != DETECTOR_QUALITY_NONE ? nn_graph_value(g, lv->quality) : NULL;
		if (!io->cls || !io->box)
			return det_error_set(DET_EINVAL, "detector: the graph has not run (no output values)");
		if (grads) {
			io->dcls = nn_graph_grad(g, lv->cls);
			io->dbox = nn_graph_grad(g, lv->box);
			io->dq = io->q ? nn_graph_grad(g, lv->quality) : NULL;
			if (!io->dcls || !io->dbox || (io->q && !io->dq))
				return det_error_set(DET_EINVAL, "detector: P%d's outputs have no gradient buffers "
					"(is the graph in training mode, with them marked as outputs?)", lv->level);
		}
	}
	d->N = (int)n;
	if (!changed && d->P)
		return 0;
	d->P = 0;
	for (int l = 0; l < c->nlevels; l++) {
		d->level_off[l] = d->P;
		d->level_count[l] = (size_t)d->hw[l][0] * d->hw[l][1] * A;
		d->level_stride[l] = c->levels[l].stride;
		d->level_range[2 * l] = c->levels[l].range[0];
		d->level_range[2 * l + 1] = c->levels[l].range[1];
		d->P += d->level_count[l];
	}
	float *pt = grow(&d->points, d->P * 2 * sizeof(float));
	float *an = grow(&d->anchors, d->P * 4 * sizeof(float));
	float *st = grow(&d->stride, d->P * sizeof(float));
	if (!pt || !an || !st)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu anchors", d->P);
	for (int l = 0; l < c->nlevels; l++) {
		const float s = c->levels[l].stride;
		size_t p = d->level_off[l];

		for (int y = 0; y < d->hw[l][0]; y++)
			for (int x = 0; x < d->hw[l][1]; x++)
				for (int a = 0; a < A; a++, p++) {
					const float px = (x + 0.5f) * s, py = (y + 0.5f) * s;
					const float *base = c->levels[l].anchors + 4 * a;

					pt[2 * p] = px, pt[2 * p + 1] = py;
					st[p] = s;
					if (c->kind == DETECTOR_FCOS) {
						const float half = 0.5f * c->atss_anchor_scale * s;
						an[4 * p] = px - half, an[4 * p + 1] = py - half;
						an[4 * p + 2] = px + half, an[4 * p + 3] = py + half;
					} else {
						an[4 * p] = px + base[0], an[4 * p + 1] = py + base[1];
						an[4 * p + 2] = px + base[2], an[4 * p + 3] = py + base[3];
					}
				}
	}
	return 0;
}

/* Level of a per-image anchor index, and its (yx, a) within the level. */
static int locate(const struct detector *d, size_t p, size_t *yx, int *a)
{
	int l = 0;

	while (l + 1 < d->cfg.nlevels && p >= d->level_off[l + 1])
		l++;
	p -= d->level_off[l];
	*yx = p / (size_t)d->cfg.anchors;
	*a = (int)(p % (size_t)d->cfg.anchors);
	return l;
}

/* The 4 box outputs of anchor p of image n: raw[k] = box[n, a*4 + k, y, x]. */
static void read_box(const struct detector *d, int n, size_t p, float *raw)
{
	size_t yx;
	int a, l = locate(d, p, &yx, &a);
	const struct level_io *io = &d->io[l];
	const size_t hw = (size_t)io->h * io->w, A = (size_t)d->cfg.anchors;

	for (int k = 0; k < 4; k++)
		raw[k] = io->box[(((size_t)n * A + a) * 4 + k) * hw + yx];
}

static void add_box_grad(struct detector *d, int n, size_t p, const float *g, float w)
{
	size_t yx;
	int a, l = locate(d, p, &yx, &a);
	struct level_io *io = &d->io[l];
	const size_t hw = (size_t)io->h * io->w, A = (size_t)d->cfg.anchors;

	for (int k = 0; k < 4; k++)
		io->dbox[(((size_t)n * A + a) * 4 + k) * hw + yx] += w * g[k];
}

static float read_q(const struct detector *d, int n, size_t p)
{
	size_t yx;
	int a, l = locate(d, p, &yx, &a);
	const struct level_io *io = &d->io[l];

	return io->q[((size_t)n * d->cfg.anchors + a) * ((size_t)io->h * io->w) + yx];
}

/* Decodes raw box outputs of anchor p into a box (input pixels); e (4) gets
 * exp(t) for FCOS (the derivative's factor), unused for RetinaNet. */
static void decode_one(const struct detector *d, size_t p, const float *raw, float *box, float *e)
{
	const float *pts = d->points.p, *an = d->anchors.p, *st = d->stride.p;

	if (d->cfg.kind == DETECTOR_FCOS) {
		float ltrb[4];

		for (int k = 0; k < 4; k++)
			ltrb[k] = e[k] = expf(fminf(raw[k], FCOS_T_MAX));
		det_box_fcos_decode(pts + 2 * p, ltrb, st + p, 1, box);
	} else {
		det_box_coder_decode(&d->cfg.coder, an + 4 * p, raw, 1, box);
	}
}

/* ---- assignment ---- */

/* RetinaNet's max-IoU matcher (torchvision Matcher with
 * allow_low_quality_matches): best gt by IoU; >= pos positive, < neg
 * background (-1), between ignored (-2); each gt's best anchors (ties
 * included) are positive for their own best gt. */
static int assign_maxiou(struct detector *d, const float *gt, size_t g, int *assigned)
{
	const size_t P = d->P;
	float *iou = grow(&d->iou, P * g * sizeof(float));
	const float *an = d->anchors.p;

	if (!iou)
		return det_error_set(DET_ENOMEM, "detector: no memory for a %zu x %zu IoU matrix", P, g);
	det_box_iou_matrix(DET_IOU_PLAIN, an, P, gt, g, 0, iou);
	for (size_t p = 0; p < P; p++) {
		float best = -1;
		int bj = -1;

		for (size_t j = 0; j < g; j++) {
			float v = iou[p * g + j];
			if (v == v && v > best)
				best = v, bj = (int)j;
		}
		assigned[p] = best >= d->cfg.pos_iou ? bj : best < d->cfg.neg_iou ? -1 : -2;
	}
	if (d->cfg.low_quality) {
		for (size_t j = 0; j < g; j++) {
			float m = 0;
			for (size_t p = 0; p < P; p++)
				if (iou[p * g + j] > m)
					m = iou[p * g + j];
			if (m <= 0)
				continue;
			for (size_t p = 0; p < P; p++) {
				if (iou[p * g + j] != m)
					continue;
				int bj = 0;
				for (size_t k = 1; k < g; k++)
					if (iou[p * g + k] > iou[p * g + bj])
						bj = (int)k;
				assigned[p] = bj;
			}
		}
	}
	return 0;
}

/* every box of batch image n has a class the head predicts (0..C-1) */
static int check_classes(const struct loader_batch *b, int n, int C)
{
	const int32_t *gc = b->classes + (size_t)n * b->max_boxes;

	for (size_t j = 0; j < (size_t)b->counts[n]; j++)
		if (gc[j] < 0 || gc[j] >= C)
			return det_error_set(DET_EINVAL, "detector: batch image %d (dataset image %zu) box %zu has "
				"class %d, the head has %d classes", n, b->indices ? b->indices[n] : (size_t)n, j,
				(int)gc[j], C);
	return 0;
}

static int assign_image(struct detector *d, const float *gt, size_t g, int *assigned)
{
	const struct detector_config *c = &d->cfg;

	if (g == 0) {
		for (size_t p = 0; p < d->P; p++)
			assigned[p] = -1;
		return 0;
	}
	switch (c->assigner) {
	case DETECTOR_ASSIGN_FCOS:
		return det_assign_fcos(d->points.p, d->P, d->level_count, c->nlevels, d->level_stride,
			d->level_range, gt, g, c->center_sampling, assigned);
	case DETECTOR_ASSIGN_ATSS:
		return det_assign_atss_work(d->anchors.p, d->P, d->level_count, c->nlevels, gt, g, c->atss_topk,
			assigned, NULL, &d->atss_work);
	case DETECTOR_ASSIGN_MAXIOU:
		return assign_maxiou(d, gt, g, assigned);
	case DETECTOR_ASSIGN_TAL: /* the YOLO path assigns in det_yolo_assign */
		break;
	}
	return det_error_set(DET_EINVAL, "detector: unknown assigner");
}

/* ---- the loss ---- */

/* A det_loss run with reduction mean over avg (> 0): out = sum k loss / avg;
 * dpred = d out / d pred. */
static int run_loss(const struct det_loss *cfg, size_t rows, size_t cols, const float *pred,
	const float *tgt, const float *w, float avg, float *value, float *dpred)
{
	struct det_loss l = *cfg;
	const float one = 1.f;
	int rc;

	l.reduction = DET_REDUCE_MEAN;
	*value = 0;
	if (rows == 0)
		return 0;
	if ((rc = det_loss_forward(&l, rows, cols, pred, tgt, w, avg, value)) < 0)
		return rc;
	return det_loss_backward(&l, rows, cols, pred, tgt, w, avg, &one, dpred);
}

/* ---- the YOLO head: gathers its outputs into rows, hands them to
 * det/yolo.h (task-aligned targets, cls / IoU / DFL losses and their
 * gradients), scatters the gradients back ---- */

/* checks batch image n's classes against the head's C, then assigns its
 * GT boxes to the anchors/locations (asg[p]: the box index, or < 0) */
static int assign_batch_image(struct detector *d, const struct loader_batch *b, int n, int C, int *asg)
{
	int rc = check_classes(b, n, C);

	if (rc < 0)
		return rc;
	return assign_image(d, b->boxes + (size_t)n * b->max_boxes * 4, (size_t)b->counts[n], asg);
}

/* The YOLO head's outputs of the first nimg images gathered into rows
 * n*P + p: cp (rows, C) logits, bp (rows, 4 (R+1)) box outputs. */
static void yolo_gather(const struct detector *d, int nimg, float *cp, float *bp)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes;
	const size_t P = d->P, nb = 4 * (size_t)(c->reg_max + 1);

	for (int l = 0; l < c->nlevels; l++) {
		const struct level_io *io = &d->io[l];
		const size_t hw = (size_t)io->h * io->w, off = d->level_off[l];

		for (int n = 0; n < nimg; n++) {
			for (int k = 0; k < C; k++) {
				const float *src = io->cls + ((size_t)n * C + k) * hw;
				float *dst = cp + ((size_t)n * P + off) * C + k;
				for (size_t yx = 0; yx < hw; yx++)
					dst[yx * C] = src[yx];
			}
			for (size_t k = 0; k < nb; k++) {
				const float *src = io->box + ((size_t)n * nb + k) * hw;
				float *dst = bp + ((size_t)n * P + off) * nb + k;
				for (size_t yx = 0; yx < hw; yx++)
					dst[yx * nb] = src[yx];
			}
		}
	}
}

/* det/yolo.h's options from the detector's configuration */
static void yolo_opts(const struct detector *d, struct det_yolo_opts *o)
{
	const struct detector_config *c = &d->cfg;

	det_yolo_opts_default(o, c->classes, c->reg_max);
	o->topk = c->tal_topk;
	o->alpha = c->tal_alpha;
	o->beta = c->tal_beta;
	o->cls_loss = c->cls_loss;
	o->box_loss = c->box_loss;
	o->w_cls = c->w_cls;
	o->w_box = c->w_box;
	o->w_dfl = c->w_dfl;
}

static int yolo_loss(struct detector *d, const struct loader_batch *b, struct detector_losses *out)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes, nimg = b->n < d->N ? b->n : d->N;
	const size_t P = d->P, nb = 4 * (size_t)(c->reg_max + 1), rows = (size_t)nimg * P;
	struct det_yolo_opts o;
	struct det_yolo_losses yl;
	int rc;
	float *cp = grow(&d->cls_pred, rows * C * sizeof(float));
	float *cg = grow(&d->cls_grad, rows * C * sizeof(float));
	float *bp = grow(&d->b_raw, rows * nb * sizeof(float));
	float *bg = grow(&d->b_grad, rows * nb * sizeof(float));

	if (!cp || !cg || !bp || !bg)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu anchors", rows);
	yolo_gather(d, nimg, cp, bp);
	yolo_opts(d, &o);
	if ((rc = det_yolo_assign(&o, nimg, P, d->points.p, d->stride.p, cp, bp, b->boxes, b->classes, b->counts,
		b->max_boxes, &d->yolo_t)) < 0)
		return rc;
	if ((rc = det_yolo_loss(&o, nimg, P, d->points.p, d->stride.p, cp, bp, &d->yolo_t, &yl, cg, bg)) < 0)
		return rc;
	out->cls = yl.cls;
	out->box = yl.box;
	out->dfl = yl.dfl;
	out->total = yl.total;
	out->num_pos = yl.num_pos;
	/* scatter (already weighted); zeros for the graph's batch slots past b->n */
	for (int l = 0; l < c->nlevels; l++) {
		struct level_io *io = &d->io[l];
		const size_t hw = (size_t)io->h * io->w, off = d->level_off[l];

		for (int n = 0; n < d->N; n++) {
			for (int k = 0; k < C; k++) {
				float *dst = io->dcls + ((size_t)n * C + k) * hw;
				const float *src = cg + ((size_t)n * P + off) * C + k;
				for (size_t yx = 0; yx < hw; yx++)
					dst[yx] = n < nimg ? src[yx * C] : 0.f;
			}
			for (size_t k = 0; k < nb; k++) {
				float *dst = io->dbox + ((size_t)n * nb + k) * hw;
				const float *src = bg + ((size_t)n * P + off) * nb + k;
				for (size_t yx = 0; yx < hw; yx++)
					dst[yx] = n < nimg ? src[yx * nb] : 0.f;
			}
		}
	}
	return 0;
}

int detector_loss(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_losses *out)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes, A = c->anchors;
	int rc, nimg;
	size_t P, rows, npos = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = bind_outputs(d, g, 1)))
		return rc;
	if (c->kind == DETECTOR_YOLO)
		return yolo_loss(d, b, out);
	P = d->P;
	nimg = b->n < d->N ? b->n : d->N;
	rows = (size_t)nimg * P;

	float *cp = grow(&d->cls_pred, rows * C * sizeof(float));
	float *ct = grow(&d->cls_tgt, rows * C * sizeof(float));
	float *cw = grow(&d->cls_w, rows * C * sizeof(float));
	float *cg = grow(&d->cls_grad, rows * C * sizeof(float));
	int *asg = grow(&d->assigned, P * sizeof(int));
	size_t *prow = grow(&d->pos_row, rows * sizeof(size_t));
	int *pgt = grow(&d->pos_gt, rows * sizeof(int));
	int *pcls = grow(&d->pos_cls, rows * sizeof(int));
	if (!cp || !ct || !cw || !cg || !asg || !prow || !pgt || !pcls)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu anchors", rows);

	/* gather the logits into (rows, C), row = n*P + p */
	for (int l = 0; l < c->nlevels; l++) {
		const struct level_io *io = &d->io[l];
		const size_t hw = (size_t)io->h * io->w;

		for (int n = 0; n < nimg; n++)
			for (int a = 0; a < A; a++)
				for (int k = 0; k < C; k++) {
					const float *src = io->cls + (((size_t)n * A + a) * C + k) * hw;
					float *dst = cp + ((size_t)n * P + d->level_off[l] + a) * C + k;
					for (size_t yx = 0; yx < hw; yx++)
						dst[yx * A * C] = src[yx];
				}
	}
	memset(ct, 0, rows * C * sizeof(float));
	for (size_t i = 0; i < rows * C; i++)
		cw[i] = 1.f;

	/* assign each image */
	for (int n = 0; n < nimg; n++) {
		const int32_t *gc = b->classes + (size_t)n * b->max_boxes;

		if ((rc = assign_batch_image(d, b, n, C, asg)) < 0)
			return rc;
		for (size_t p = 0; p < P; p++) {
			const size_t row = (size_t)n * P + p;
			if (asg[p] == -2) {
				for (int k = 0; k < C; k++)
					cw[row * C + k] = 0;
			} else if (asg[p] >= 0) {
				prow[npos] = row;
				pgt[npos] = asg[p];
				pcls[npos] = gc[asg[p]];
				npos++;
			}
		}
	}
	out->num_pos = (double)npos;

	/* the positives' boxes: decode, targets, IoU */
	float *raw = grow(&d->b_raw, npos * 4 * sizeof(float));
	float *bp = grow(&d->b_pred, npos * 4 * sizeof(float));
	float *bt = grow(&d->b_tgt, npos * 4 * sizeof(float));
	float *bw = grow(&d->b_w, npos * sizeof(float));
	float *bw4 = grow(&d->b_w4, npos * 4 * sizeof(float)); /* per value, for the l1 kinds */
	float *bg = grow(&d->b_grad, npos * 4 * sizeof(float));
	float *be = grow(&d->b_draw, npos * 4 * sizeof(float));
	float *gb = grow(&d->b_gtbox, npos * 4 * sizeof(float));
	float *qp = grow(&d->q_pred, npos * sizeof(float));
	float *qt = grow(&d->q_tgt, npos * sizeof(float));
	float *qg = grow(&d->q_grad, npos * sizeof(float));
	if (!raw || !bp || !bt || !bw || !bw4 || !bg || !be || !gb || !qp || !qt || !qg)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu positives", npos);
	const int iou_box = is_box_kind(c->box_loss.kind);
	const float *pts = d->points.p, *an = d->anchors.p, *st = d->stride.p;
	double wsum = 0;

	for (size_t i = 0; i < npos; i++) {
		const int n = (int)(prow[i] / P);
		const size_t p = prow[i] % P;
		const float *g4 = b->boxes + ((size_t)n * b->max_boxes + pgt[i]) * 4;
		float ltrb[4], box[4];

		memcpy(gb + 4 * i, g4, 4 * sizeof(float));
		read_box(d, n, p, raw + 4 * i);
		decode_one(d, p, raw + 4 * i, box, be + 4 * i);
		if (iou_box) {
			memcpy(bp + 4 * i, box, sizeof(box));
			memcpy(bt + 4 * i, g4, 4 * sizeof(float));
		} else if (c->kind == DETECTOR_FCOS) {
			memcpy(bp + 4 * i, be + 4 * i, 4 * sizeof(float));
			det_box_fcos_encode(pts + 2 * p, g4, st + p, 1, bt + 4 * i);
		} else {
			memcpy(bp + 4 * i, raw + 4 * i, 4 * sizeof(float));
			det_box_coder_encode(&c->coder, an + 4 * p, g4, 1, bt + 4 * i);
		}
		/* quality targets: centerness of the point in the gt, or the IoU of
		 * the predicted box with the gt (no gradient through the target) */
		if (c->quality == DETECTOR_QUALITY_CENTERNESS) {
			det_box_fcos_encode(pts + 2 * p, g4, NULL, 1, ltrb);
			det_box_fcos_centerness(ltrb, 1, qt + i);
		} else {
			float v = det_box_iou_one(DET_IOU_PLAIN, box, g4, 0);
			qt[i] = v == v && v > 0 ? v : 0;
		}
		bw[i] = c->quality == DETECTOR_QUALITY_CENTERNESS ? qt[i] : 1.f;
		wsum += bw[i];
		for (int k = 0; k < 4; k++) /* element-wise losses take one weight per value */
			bw4[4 * i + k] = bw[i];
		if (c->quality != DETECTOR_QUALITY_NONE)
			qp[i] = read_q(d, n, p);
		/* classification target: 1, or the IoU for the quality-aware losses */
		if (c->cls_loss.kind == DET_LOSS_QFL || c->cls_loss.kind == DET_LOSS_VFL) {
			float v = det_box_iou_one(DET_IOU_PLAIN, box, g4, 0);
			ct[prow[i] * C + pcls[i]] = v == v && v > 0 ? v : 0;
		} else {
			ct[prow[i] * C + pcls[i]] = 1.f;
		}
	}
	const float avg = det_loss_avg_factor((double)npos);

	if ((rc = run_loss(&c->cls_loss, rows, C, cp, ct, cw, avg, &out->cls, cg)) < 0)
		return rc;
	if ((rc = run_loss(&c->box_loss, npos, 4, bp, bt, iou_box ? bw : bw4, wsum > 1e-6 ? (float)wsum : 1e-6f,
		&out->box, bg)) < 0)
		return rc;
	if (c->quality != DETECTOR_QUALITY_NONE &&
	    (rc = run_loss(&c->quality_loss, npos, 1, qp, qt, NULL, avg, &out->quality, qg)) < 0)
		return rc;
	out->total = c->w_cls * out->cls + c->w_box * out->box +
		(c->quality != DETECTOR_QUALITY_NONE ? c->w_quality * out->quality : 0.f);

	/* scatter the gradients: cls everywhere, box and quality at positives */
	for (int l = 0; l < c->nlevels; l++) {
		struct level_io *io = &d->io[l];
		const size_t hw = (size_t)io->h * io->w;

		for (int n = 0; n < d->N; n++)
			for (int a = 0; a < A; a++)
				for (int k = 0; k < C; k++) {
					float *dst = io->dcls + (((size_t)n * A + a) * C + k) * hw;
					if (n >= nimg) {
						memset(dst, 0, hw * sizeof(float));
						continue;
					}
					const float *src = cg + ((size_t)n * P + d->level_off[l] + a) * C + k;
					for (size_t yx = 0; yx < hw; yx++)
						dst[yx] = c->w_cls * src[yx * A * C];
				}
		memset(io->dbox, 0, (size_t)d->N * A * 4 * hw * sizeof(float));
		if (io->dq)
			memset(io->dq, 0, (size_t)d->N * A * hw * sizeof(float));
	}
	for (size_t i = 0; i < npos; i++) {
		const int n = (int)(prow[i] / P);
		const size_t p = prow[i] % P;
		float draw[4];

		if (c->kind == DETECTOR_FCOS) {
			float dl[4];
			if (iou_box)
				det_box_fcos_decode_backward(st + p, 1, bg + 4 * i, dl);
			else
				memcpy(dl, bg + 4 * i, sizeof(dl));
			for (int k = 0; k < 4; k++)
				draw[k] = raw[4 * i + k] < FCOS_T_MAX ? dl[k] * be[4 * i + k] : 0.f;
		} else if (iou_box) {
			det_box_coder_decode_backward(&c->coder, an + 4 * p, raw + 4 * i, 1, bg + 4 * i, draw);
		} else {
			memcpy(draw, bg + 4 * i, sizeof(draw));
		}
		add_box_grad(d, n, p, draw, c->w_box);
		if (c->quality != DETECTOR_QUALITY_NONE) {
			size_t yx;
			int a, l = locate(d, p, &yx, &a);
			struct level_io *io = &d->io[l];
			io->dq[((size_t)n * A + a) * ((size_t)io->h * io->w) + yx] += c->w_quality * qg[i];
		}
	}
	return 0;
}

/* ---- per ground-truth losses (the inspector's "box the model never fits") ---- */

/* The loss of one positive anchor p of image n assigned to box g4 of class
 * cls, no gradient: *lc = sum over the C classes of cls_loss (target one-hot,
 * or the IoU for qfl / vfl), *lb = box_loss (summed over its 4 values for the
 * element-wise kinds), *w the box weight (centerness target, else 1), *lq =
 * quality_loss (0 without a quality branch). */
static int positive_loss(struct detector *d, int n, size_t p, const float *g4, int cls, float *row,
	double *lc, double *lb, double *w, double *lq)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes, A = c->anchors, iou_box = is_box_kind(c->box_loss.kind);
	struct det_loss cl = c->cls_loss, bl = c->box_loss, ql = c->quality_loss;
	const float *pts = d->points.p, *an = d->anchors.p, *st = d->stride.p;
	float *tgt = row + C, *val = row + 2 * C;
	float raw[4], e[4], box[4], bp[4], bt[4], bv[4], ltrb[4], qp = 0, qt = 0, qv = 0;
	size_t yx;
	int a, rc, l = locate(d, p, &yx, &a);
	const struct level_io *io = &d->io[l];
	const size_t hw = (size_t)io->h * io->w;

	cl.reduction = bl.reduction = ql.reduction = DET_REDUCE_NONE;
	read_box(d, n, p, raw);
	decode_one(d, p, raw, box, e);
	for (int k = 0; k < C; k++) {
		row[k] = io->cls[(((size_t)n * A + a) * C + k) * hw + yx];
		tgt[k] = 0;
	}
	if (c->cls_loss.kind == DET_LOSS_QFL || c->cls_loss.kind == DET_LOSS_VFL) {
		float v = det_box_iou_one(DET_IOU_PLAIN, box, g4, 0);
		tgt[cls] = v == v && v > 0 ? v : 0;
	} else {
		tgt[cls] = 1.f;
	}
	if ((rc = det_loss_forward(&cl, 1, C, row, tgt, NULL, 0, val)) < 0)
		return rc;
	*lc = 0;
	for (int k = 0; k < C; k++)
		*lc += val[k];
	if (iou_box) {
		memcpy(bp, box, sizeof(bp));
		memcpy(bt, g4, sizeof(bt));
	} else if (c->kind == DETECTOR_FCOS) {
		memcpy(bp, e, sizeof(bp));
		det_box_fcos_encode(pts + 2 * p, g4, st + p, 1, bt);
	} else {
		memcpy(bp, raw, sizeof(bp));
		det_box_coder_encode(&c->coder, an + 4 * p, g4, 1, bt);
	}
	if ((rc = det_loss_forward(&bl, 1, 4, bp, bt, NULL, 0, bv)) < 0)
		return rc;
	*lb = iou_box ? bv[0] : (double)bv[0] + bv[1] + bv[2] + bv[3];
	if (c->quality == DETECTOR_QUALITY_CENTERNESS) {
		det_box_fcos_encode(pts + 2 * p, g4, NULL, 1, ltrb);
		det_box_fcos_centerness(ltrb, 1, &qt);
	} else {
		float v = det_box_iou_one(DET_IOU_PLAIN, box, g4, 0);
		qt = v == v && v > 0 ? v : 0;
	}
	*w = c->quality == DETECTOR_QUALITY_CENTERNESS ? qt : 1.f;
	*lq = 0;
	if (c->quality != DETECTOR_QUALITY_NONE) {
		qp = read_q(d, n, p);
		if ((rc = det_loss_forward(&ql, 1, 1, &qp, &qt, NULL, 0, &qv)) < 0)
			return rc;
		*lq = qv;
	}
	return 0;
}

/* The YOLO head's per-box losses (detector_gt_losses): det_yolo_assign's
 * task-aligned targets over the batch, then per positive r of box j (soft
 * class target u_r, YOLOv8's normalised alignment)
 *   cls_j = mean_r sum_c cls_loss(z_rc, u_r [c = class_j])
 *   box_j = sum_r u_r box_loss_r / sum_r u_r
 *   dfl_j = sum_r u_r mean_k DFL(z_rk, clamp(d*_rk, 0, R - 0.01)) / sum_r u_r
 * (the plain means should every u_r of j underflow to 0), and out =
 * w_cls cls_j + w_box box_j + w_dfl dfl_j (dfl only with reg_max > 0).
 * t: the targets' storage (the caller's). */
static int yolo_box_losses(struct detector *d, const struct loader_batch *b, struct det_yolo_targets *t,
	float *out)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes, R = c->reg_max, nimg = b->n < d->N ? b->n : d->N;
	const size_t P = d->P, nb = 4 * (size_t)(R + 1), rows = (size_t)nimg * P;
	const size_t mb = b->max_boxes > 0 ? (size_t)b->max_boxes : 1;
	const float *pts = d->points.p, *st = d->stride.p;
	struct det_yolo_opts o;
	struct det_loss cl = c->cls_loss, bl = c->box_loss, dl;
	size_t k = 0;
	int rc;
	float *cp = grow(&d->cls_pred, rows * C * sizeof(float));
	float *bp = grow(&d->b_raw, rows * nb * sizeof(float));
	float *row = grow(&d->cls_tgt, 2 * (size_t)C * sizeof(float)); /* one row's target, then its values */
	/* per (image, box): positives, sum cls, sum u, sum u box, sum u dfl, sum box, sum dfl */
	double *acc = grow(&d->q_grad, (size_t)(nimg > 0 ? nimg : 1) * mb * 7 * sizeof(double));

	if (!cp || !bp || !row || !acc)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu anchors", rows);
	for (int n = 0; n < nimg; n++)
		if ((rc = check_classes(b, n, C)) < 0)
			return rc;
	yolo_gather(d, nimg, cp, bp);
	yolo_opts(d, &o);
	if ((rc = det_yolo_assign(&o, nimg, P, pts, st, cp, bp, b->boxes, b->classes, b->counts, b->max_boxes, t)) < 0)
		return rc;
	cl.reduction = bl.reduction = DET_REDUCE_NONE;
	det_loss_init(&dl, DET_LOSS_DFL);
	dl.reduction = DET_REDUCE_NONE;
	memset(acc, 0, (size_t)nimg * mb * 7 * sizeof(double));
	for (size_t r = 0; r < rows; r++) {
		const int j = t->gt[r];
		if (j < 0)
			continue;
		const size_t p = r % P;
		const float u = t->score[r], *g4 = t->gtbox + 4 * r, *z = bp + r * nb;
		float *tgt = row, *val = row + C, box[4], dist[4], lb, ld[4];
		double lc = 0, lf = 0;
		double *a = acc + ((r / P) * mb + (size_t)j) * 7;

		for (int q = 0; q < C; q++)
			tgt[q] = q == t->cls[r] ? u : 0.f;
		if ((rc = det_loss_forward(&cl, 1, (size_t)C, cp + r * C, tgt, NULL, 0, val)) < 0)
			return rc;
		for (int q = 0; q < C; q++)
			lc += val[q];
		det_yolo_decode_one(R, z, 1, pts[2 * p], pts[2 * p + 1], st[p], box, dist);
		if ((rc = det_loss_forward(&bl, 1, 4, box, g4, NULL, 0, &lb)) < 0)
			return rc;
		if (R > 0) {
			const float px = pts[2 * p], py = pts[2 * p + 1], s = st[p];
			const float gd[4] = { (px - g4[0]) / s, (py - g4[1]) / s, (g4[2] - px) / s, (g4[3] - py) / s };
			float zt[4];

			for (int q = 0; q < 4; q++)
				zt[q] = fminf(fmaxf(gd[q], 0.f), (float)R - 0.01f);
			if ((rc = det_loss_forward(&dl, 4, (size_t)R + 1, z, zt, NULL, 0, ld)) < 0)
				return rc;
			lf = 0.25 * ((double)ld[0] + ld[1] + ld[2] + ld[3]);
		}
		a[0] += 1;
		a[1] += lc;
		a[2] += u;
		a[3] += u * (double)lb;
		a[4] += u * lf;
		a[5] += lb;
		a[6] += lf;
	}
	for (int n = 0; n < nimg; n++)
		for (size_t j = 0; j < (size_t)b->counts[n]; j++, k++) {
			const double *a = acc + ((size_t)n * mb + j) * 7;

			if (a[0] == 0) {
				out[k] = NAN;
				continue;
			}
			/* weighted by u, or the plain means should every u have underflowed */
			const double lb = a[2] > 0 ? a[3] / a[2] : a[5] / a[0], lf = a[2] > 0 ? a[4] / a[2] : a[6] / a[0];

			out[k] = (float)(c->w_cls * a[1] / a[0] + c->w_box * lb + (R > 0 ? c->w_dfl * lf : 0));
		}
	return 0;
}

/* Its own targets, so that the training's (d->yolo_t, sized for the
 * training batch) stay as the steady training step left them. */
static int yolo_gt_losses(struct detector *d, const struct loader_batch *b, float *out)
{
	struct det_yolo_targets t;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = yolo_box_losses(d, b, &t, out);
	det_yolo_targets_free(&t);
	return rc;
}

int detector_gt_losses(struct detector *d, struct nn_graph *g, const struct loader_batch *b, float *out)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes;
	size_t o = 0;
	int rc, nimg;

	if ((rc = bind_outputs(d, g, 0)))
		return rc;
	if (c->kind == DETECTOR_YOLO)
		return yolo_gt_losses(d, b, out);
	nimg = b->n < d->N ? b->n : d->N;
	int *asg = grow(&d->assigned, d->P * sizeof(int));
	float *row = grow(&d->cls_pred, 3 * (size_t)C * sizeof(float));
	double *acc = grow(&d->q_grad, (b->max_boxes > 0 ? (size_t)b->max_boxes : 1) * 5 * sizeof(double));
	if (!asg || !row || !acc)
		return det_error_set(DET_ENOMEM, "detector: no memory for %zu anchors", d->P);
	for (int n = 0; n < nimg; n++) {
		const float *gt = b->boxes + (size_t)n * b->max_boxes * 4;
		const int32_t *gc = b->classes + (size_t)n * b->max_boxes;
		const size_t ng = (size_t)b->counts[n];

		if ((rc = assign_batch_image(d, b, n, C, asg)) < 0)
			return rc;
		/* acc per box: positives, sum cls, sum w box, sum w, sum quality */
		memset(acc, 0, ng * 5 * sizeof(double));
		for (size_t p = 0; p < d->P; p++) {
			const int j = asg[p];
			double lc, lb, w, lq;

			if (j < 0)
				continue;
			if ((rc = positive_loss(d, n, p, gt + 4 * j, gc[j], row, &lc, &lb, &w, &lq)) < 0)
				return rc;
			acc[5 * j] += 1;
			acc[5 * j + 1] += lc;
			acc[5 * j + 2] += w * lb;
			acc[5 * j + 3] += w;
			acc[5 * j + 4] += lq;
		}
		for (size_t j = 0; j < ng; j++, o++) {
			const double *s = acc + 5 * j;

			out[o] = s[0] == 0 ? NAN : (float)(c->w_cls * s[1] / s[0] +
				c->w_box * s[2] / (s[3] > 1e-6 ? s[3] : 1e-6) +
				(c->quality != DETECTOR_QUALITY_NONE ? c->w_quality * s[4] / s[0] : 0));
		}
	}
	return 0;
}

/* ---- decoding ---- */

static float sigmoidf(float x)
{
	return 1.f / (1.f + expf(-x));
}

int detector_decode(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_dets *out)
{
	const struct detector_config *c = &d->cfg;
	const int C = c->classes, A = c->anchors;
	int rc, nimg;
	size_t P, cap;

	out->n = 0;
	if ((rc = bind_outputs(d, g, 0)))
		return rc;
	P = d->P;
	nimg = b->n < d->N ? b->n : d->N;
	cap = c->nms.max_dets > 0 ? (size_t)c->nms.max_dets : P * C;
	float *sc = grow(&d->dec_scores, P * C * sizeof(float));
	float *bx = grow(&d->dec_boxes, P * 4 * sizeof(float));
	int *idx = grow(&d->dec_idx, cap * sizeof(int));
	int *cl = grow(&d->dec_cls, cap * sizeof(int));
	float *ss = grow(&d->dec_score, cap * sizeof(float));
	if (!sc || !bx || !idx || !cl || !ss)
		return det_error_set(DET_ENOMEM, "detector: no memory to decode %zu anchors", P);
	for (int n = 0; n < nimg; n++) {
		const float *tf = b->transform ? b->transform + 4 * n : NULL;
		const float sx = tf && tf[0] > 0 ? tf[0] : 1, sy = tf && tf[1] > 0 ? tf[1] : 1;
		const float px = tf ? tf[2] : 0, py = tf ? tf[3] : 0;
		const float W = (b->width - 2 * px) / sx, H = (b->height - 2 * py) / sy;
		long k;

		for (int l = 0; l < c->nlevels; l++) {
			const struct level_io *io = &d->io[l];
			const size_t hw = (size_t)io->h * io->w;

			for (int a = 0; a < A; a++)
				for (size_t yx = 0; yx < hw; yx++) {
					const size_t p = d->level_off[l] + yx * A + a;
					float q = 1.f, raw[4], e[4];

					if (io->q)
						q = sigmoidf(io->q[((size_t)n * A + a) * hw + yx]);
					for (int j = 0; j < C; j++)
						sc[p * C + j] = sigmoidf(io->cls[(((size_t)n * A + a) * C + j) * hw + yx]) * q;
					if (c->kind == DETECTOR_YOLO) {
						const size_t nb = 4 * (size_t)(c->reg_max + 1);
						const float *pt = (const float *)d->points.p + 2 * p;
						det_yolo_decode_one(c->reg_max, io->box + (size_t)n * nb * hw + yx, hw, pt[0], pt[1],
							((const float *)d->stride.p)[p], bx + 4 * p, NULL);
						continue;
					}
					for (int j = 0; j < 4; j++)
						raw[j] = io->box[(((size_t)n * A + a) * 4 + j) * hw + yx];
					decode_one(d, p, raw, bx + 4 * p, e);
				}
		}
		k = det_nms_multilevel(&c->nms, sc, bx, C, d->level_count, c->nlevels, (size_t)c->nms_pre,
			cap, idx, cl, ss);
		if (k < 0)
			return (int)k;
		if (out->n + (size_t)k > out->cap) {
			size_t nc = (out->n + (size_t)k) * 2 + 16;
			struct detector_det *nd = realloc(out->det, nc * sizeof(*nd));
			if (!nd)
				return det_error_set(DET_ENOMEM, "detector: no memory for %zu detections", nc);
			out->det = nd;
			out->cap = nc;
		}
		for (long i = 0; i < k; i++) {
			struct detector_det *o = &out->det[out->n++];
			const float *bb = bx + 4 * (size_t)idx[i];

			o->image = n;
			o->cls = cl[i];
			o->score = ss[i];
			o->box[0] = fminf(fmaxf((bb[0] - px) / sx, 0), W);
			o->box[1] = fminf(fmaxf((bb[1] - py) / sy, 0), H);
			o->box[2] = fminf(fmaxf((bb[2] - px) / sx, 0), W);
			o->box[3] = fminf(fmaxf((bb[3] - py) / sy, 0), H);
		}
	}
	return 0;
}

/* ---- steps ---- */

static int copy_images(struct detector *d, struct nn_graph *g, const struct loader_batch *b)
{
	const struct nn_node *in = nn_graph_node(g, d->cfg.input);
	float *x = nn_graph_value(g, d->cfg.input);
	size_t per;

	if (!in || in->op != NN_OP_INPUT || !x || in->ndim != 4)
		return det_error_set(DET_EINVAL, "detector: node %d is not the graph's (N, 3, H, W) input", d->cfg.input);
	if (in->shape[1] != 3 || in->shape[2] != b->height || in->shape[3] != b->width || b->n > in->shape[0])
		return det_error_set(DET_EINVAL, "detector: the batch is %d x 3 x %d x %d, the graph's input is "
			"(%lld, %lld, %lld, %lld)", b->n, b->height, b->width, (long long)in->shape[0],
			(long long)in->shape[1], (long long)in->shape[2], (long long)in->shape[3]);
	per = (size_t)3 * b->height * b->width;
	memcpy(x, b->images, (size_t)b->n * per * sizeof(float));
	memset(x + (size_t)b->n * per, 0, (size_t)(in->shape[0] - b->n) * per * sizeof(float));
	return 0;
}

int detector_train_step(struct detector *d, struct nn_graph *g, struct optim *opt,
	const struct loader_batch *b, struct detector_losses *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = copy_images(d, g, b)) || (rc = nn_graph_forward(g)) || (rc = detector_loss(d, g, b, out)))
		return rc;
	if (!isfinite(out->cls) || !isfinite(out->box) || !isfinite(out->quality) || !isfinite(out->dfl))
		return det_error_set(DET_ENUM, "detector: the %s loss is %g (step skipped, weights unchanged)",
			!isfinite(out->cls) ? "cls" : !isfinite(out->box) ? "box" : !isfinite(out->quality) ? "quality" : "dfl",
			!isfinite(out->cls) ? out->cls : !isfinite(out->box) ? out->box :
			!isfinite(out->quality) ? out->quality : out->dfl);
	if ((rc = nn_graph_backward(g)))
		return rc;
	if (opt && (rc = optim_step(opt)) < 0)
		return rc;
	return 0;
}

int detector_predict(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_dets *out)
{
	int rc;

	if ((rc = copy_images(d, g, b)) || (rc = nn_graph_forward(g)))
		return rc;
	return detector_decode(d, g, b, out);
}
