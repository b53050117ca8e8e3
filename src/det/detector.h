/* detector.h: the glue between a dense detection head's graph outputs and
 * the detection code (assign, loss, box, nms): label assignment, the loss
 * parts and the gradients they write into the head's output nodes, decoding
 * to boxes in the original images' pixels, and one whole training step.
 * No Lua here: the trainer calls these from its own thread. The Lua side
 * (model:detector{...}, lua/det/model.lua) fills a struct detector_config.
 *
 * The head's outputs, per level l of stride s_l with an H_l x W_l map and
 * A anchors per position (A = 1 for FCOS), as graph nodes:
 *   cls     (N, A*C, H, W)  logits, channel a*C + c
 *   box     (N, A*4, H, W)  FCOS: t, distances (l,t,r,b) = exp(t) * s_l;
 *                           RetinaNet: deltas (dx, dy, dw, dh) of the
 *                           anchor (torchvision's BoxCoder, weights 1)
 *   quality (N, A, H, W)    logits of the centerness or IoU, or absent
 * Anchor points sit at ((x + 1/2) s_l, (y + 1/2) s_l); a level's anchor p is
 * (y*W + x)*A + a, levels concatenated in order. */
#ifndef DET_DET_DETECTOR_H
#define DET_DET_DETECTOR_H

#include <stddef.h>

#include "det/box.h"
#include "det/loss.h"
#include "det/nms.h"

#define DETECTOR_MAX_LEVELS 8
#define DETECTOR_MAX_ANCHORS 16

struct nn_graph;
struct loader_batch;
struct optim;

enum detector_kind { DETECTOR_FCOS, DETECTOR_RETINANET,
	DETECTOR_YOLO /* YOLOv8-style: box (N, 4 (reg_max + 1), H, W), losses in det/yolo.h */ };
enum detector_assigner {
	DETECTOR_ASSIGN_FCOS,   /* centre sampling + scale ranges (det_assign_fcos) */
	DETECTOR_ASSIGN_ATSS,   /* adaptive training sample selection (det_assign_atss) */
	DETECTOR_ASSIGN_MAXIOU, /* RetinaNet: IoU >= pos positive, < neg negative, else ignored */
	DETECTOR_ASSIGN_TAL,    /* YOLO: task-aligned (det_assign_tal, through det/yolo.h) */
};
enum detector_quality { DETECTOR_QUALITY_NONE, DETECTOR_QUALITY_CENTERNESS, DETECTOR_QUALITY_IOU };

struct detector_level {
	int level;          /* pyramid level (3 for P3) */
	float stride;       /* s_l in input pixels */
	int cls, box, quality; /* output node ids in the graph (quality -1: none) */
	float range[2];     /* FCOS: the regression range of max(l,t,r,b) */
	float anchors[DETECTOR_MAX_ANCHORS * 4]; /* RetinaNet: (A, 4) base anchors centred at 0 */
};

struct detector_config {
	enum detector_kind kind;
	int classes;        /* C */
	int anchors;        /* A per position (1 for FCOS) */
	int nlevels;
	struct detector_level levels[DETECTOR_MAX_LEVELS];
	int input;          /* the graph's input node id (N, 3, H, W) */

	enum detector_assigner assigner;
	float center_sampling;  /* FCOS radius in strides (1.5); 0: inside the box */
	int atss_topk;          /* 9 */
	float atss_anchor_scale; /* FCOS+ATSS: a point's anchor is a square of side scale * s_l (8) */
	float pos_iou, neg_iou; /* max-IoU assigner: 0.5, 0.4 */
	int low_quality;        /* max-IoU: each gt also takes its best anchors (1) */
	int reg_max;            /* YOLO: the distance distribution's largest bin R (16; 0: exp) */
	int tal_topk;           /* YOLO (TAL): 10 */
	float tal_alpha, tal_beta; /* YOLO (TAL): 0.5, 6 */

	enum detector_quality quality;
	/* the loss parts; class weights are copied by detector_new. Each is run
	 * with reduction mean over avg_factor (see detector_loss). */
	struct det_loss cls_loss, box_loss, quality_loss;
	float w_cls, w_box, w_quality; /* the weights of the parts in the total */
	float w_dfl;                   /* YOLO with reg_max > 0: the DFL part's weight */
	struct det_box_coder coder;    /* RetinaNet's deltas */

	struct det_nms_opts nms;       /* decode: method, IoU threshold, score threshold, max_dets */
	int nms_pre;                   /* decode: candidates per level (1000) */
};

/* Defaults for kind: FCOS — assigner fcos, centre sampling 1.5, quality
 * centerness, focal (0.25, 2) + GIoU + centerness BCE; RetinaNet — max-IoU
 * 0.5/0.4 with low-quality matches, no quality, focal + L1 on the deltas.
 * Weights 1; NMS greedy 0.6, score threshold 0.05, max_dets 100, nms_pre
 * 1000. Levels, classes and node ids are the caller's to fill. */
void detector_config_default(struct detector_config *c, enum detector_kind kind);

struct detector;

/* A detector for cfg (copied; the losses' class weights too). NULL with a
 * message naming the field on a bad configuration or out of memory. */
struct detector *detector_new(const struct detector_config *cfg);
void detector_free(struct detector *d);
/* The detector's own configuration: loss weights and hyper-parameters may
 * be changed between steps (not classes, anchors or levels). */
struct detector_config *detector_config_get(struct detector *d);

/* The loss parts of one batch; total = w_cls cls + w_box box + w_quality
 * quality (+ dfl, 0 for these heads). The parts are unweighted. */
struct detector_losses {
	float cls, box, quality, dfl, total;
	double num_pos; /* positives over the batch */
};

/* Reads the head's output values of g (after nn_graph_forward on the
 * batch's images), assigns each image's boxes of b (the loader's layout:
 * boxes in output pixels, b->n images of the graph's N), computes
 *   cls     = sum over all anchors and classes of cls_loss / max(P, 1)
 *   box     = sum over positives of w_i box_loss_i / sum_i w_i, with w_i the
 *             centerness target when quality is centerness, else 1
 *   quality = sum over positives of quality_loss / max(P, 1)
 * with P the positives of the whole batch, and WRITES d total / d output
 * into every output node's gradient (nn_graph_grad; zero where no loss
 * reads), ready for nn_graph_backward. 0, or DET_EINVAL (a class id out of
 * range, a graph whose outputs do not match) / DET_ENOMEM with a message. */
int detector_loss(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_losses *out);

/* The loss of every ground-truth box of b, for ranking boxes the model never
 * fits (the inspector's suspect labels). Reads the outputs of g after a
 * forward (in evaluation mode: the caller's, as for detector_decode),
 * assigns each image's boxes with the configured assigner and writes, for
 * box j of image n at out[counts[0] + ... + counts[n-1] + j]:
 *   w_cls cls_j + w_box box_j + w_quality quality_j
 *   cls_j     = mean over j's positives of sum_c cls_loss (target as in
 *               detector_loss: one-hot, or the IoU for qfl / vfl)
 *   box_j     = sum_i w_i box_loss_i / sum_i w_i over j's positives (w_i the
 *               centerness target with a centerness branch, else 1)
 *   quality_j = mean over j's positives of quality_loss (0 without one)
 * i.e. detector_loss's parts restricted to one box's positives (for a batch
 * of one box, box and quality equal detector_loss's). The YOLO head: its
 * task-aligned targets (det/yolo.h: positive r of box j has the soft class
 * target u_r), and
 *   w_cls cls_j + w_box box_j + w_dfl dfl_j
 *   cls_j = mean over j's positives of sum_c cls_loss (target u_r at j's class)
 *   box_j = sum_r u_r box_loss_r / sum_r u_r
 *   dfl_j = sum_r u_r mean_k DFL_rk / sum_r u_r   (0 with reg_max 0)
 * (training divides the sums by max(S, 1) over the batch, S = sum of all
 * u; box_j and dfl_j are the plain means should every u_r underflow to 0).
 * A box no anchor was assigned to gets NaN — with TAL also a box that no
 * prediction inside it overlaps (training ignores it as well). No gradient
 * is written. 0, or DET_EINVAL (a class out of range) / DET_ENOMEM. */
int detector_gt_losses(struct detector *d, struct nn_graph *g, const struct loader_batch *b, float *out);

/* One detection: image is the batch position, cls 0..C-1, box x0,y0,x1,y1
 * in the original image's pixels. */
struct detector_det {
	int image, cls;
	float score;
	float box[4];
};
struct detector_dets {
	struct detector_det *det;
	size_t n, cap;
};
void detector_dets_init(struct detector_dets *ds);
void detector_dets_fini(struct detector_dets *ds);

/* Decodes the outputs of g for the b->n images of b: scores sigmoid(cls)
 * (times sigmoid(quality) when there is a quality branch), boxes decoded,
 * per level the nms_pre best (anchor, class) pairs above the score
 * threshold, class-aware NMS (cfg.nms), at most max_dets per image; boxes
 * mapped back with b->transform (x = (x' - pad_x) / scale_x) and clipped to
 * the original image. Replaces out's contents, images in order, best first.
 * 0 or DET_ENOMEM. */
int detector_decode(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_dets *out);

/* One training step: copies b's images into the input node (zeros for the
 * graph's batch slots past b->n), forward, detector_loss, backward, and
 * optim_step on opt (bound to g's store by the caller: nn_store_bind_optim).
 * A non-finite loss stops before the backward with DET_ENUM and a message
 * naming the part; the weights are then unchanged. opt may be NULL (no
 * update: a gradient-only step). 0 or a negative status. */
int detector_train_step(struct detector *d, struct nn_graph *g, struct optim *opt,
	const struct loader_batch *b, struct detector_losses *out);

/* Forward only (evaluation): copies b's images in and runs the graph, then
 * detector_decode. 0 or a negative status. */
int detector_predict(struct detector *d, struct nn_graph *g, const struct loader_batch *b,
	struct detector_dets *out);

#endif
