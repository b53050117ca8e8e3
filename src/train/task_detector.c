/* task_detector.c: the trainer's loss / decode / weight calls on a dense
 * detector (det/detector.h). */
#include "train/task_detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "det/detector.h"
#include "eval/coco_eval.h"

static int td_loss(void *ud, struct nn_graph *g, const struct loader_batch *b, struct trainer_losses *out)
{
	struct task_detector *td = ud;
	struct detector_losses l;
	int rc = detector_loss(td->d, g, b, &l);
	if (rc)
		return rc;
	const struct detector_config *c = detector_config_get(td->d);
	out->n = 0;
	out->names[out->n] = "cls";
	out->values[out->n++] = l.cls;
	out->names[out->n] = "box";
	out->values[out->n++] = l.box;
	if (c->quality != DETECTOR_QUALITY_NONE) {
		out->names[out->n] = "quality";
		out->values[out->n++] = l.quality;
	}
	out->total = l.total;
	out->num_pos = l.num_pos;
	return 0;
}

static int td_decode(void *ud, struct nn_graph *g, const struct loader_batch *b, const struct dataset *ds,
	const struct eval_gt *gt, struct eval_dets *dets)
{
	struct task_detector *td = ud;
	struct detector_dets *dd = td->dets;
	int rc = detector_decode(td->d, g, b, dd);
	if (rc)
		return rc;
	for (size_t i = 0; i < dd->n; i++) {
		const struct detector_det *x = &dd->det[i];
		if (x->image < 0 || x->image >= b->n || x->cls < 0 || x->cls >= ds->nclasses)
			continue;
		long img = eval_gt_image_index(gt, ds->images[b->indices[x->image]].id);
		int cat = eval_gt_cat_index(gt, ds->class_ids ? ds->class_ids[x->cls] : x->cls);
		if (img < 0 || cat < 0)
			continue;
		double box[4] = { x->box[0], x->box[1], (double)x->box[2] - x->box[0], (double)x->box[3] - x->box[1] };
		if ((rc = eval_dets_add(dets, (int32_t)img, (int32_t)cat, box, x->score)))
			return rc;
	}
	return 0;
}

static int td_gt_losses(void *ud, struct nn_graph *g, const struct loader_batch *b, float *out)
{
	struct task_detector *td = ud;
	return detector_gt_losses(td->d, g, b, out);
}

static int td_weight(void *ud, const char *part, double value, double *old)
{
	struct task_detector *td = ud;
	struct detector_config *c = detector_config_get(td->d);
	float *w = !strcmp(part, "cls") ? &c->w_cls : !strcmp(part, "box") ? &c->w_box :
		!strcmp(part, "quality") && c->quality != DETECTOR_QUALITY_NONE ? &c->w_quality : NULL;
	if (!w)
		return det_error_set(DET_EINVAL, "the detector has no loss part '%s' (it has cls, box%s)", part,
			c->quality != DETECTOR_QUALITY_NONE ? ", quality" : "");
	*old = *w;
	if (!isnan(value)) {
		if (!(value >= 0) || !isfinite(value))
			return det_error_set(DET_EINVAL, "loss weight %s must be a finite number >= 0, got %g", part, value);
		*w = (float)value;
	}
	return 0;
}

int task_detector_init(struct task_detector *td, struct detector *d, struct trainer_task *task)
{
	td->d = d;
	td->dets = calloc(1, sizeof(struct detector_dets));
	if (!td->dets)
		return det_error_set(DET_ENOMEM, "out of memory for a detector task");
	detector_dets_init(td->dets);
	task->ud = td;
	task->loss = td_loss;
	task->decode = td_decode;
	task->weight = td_weight;
	task->gt_losses = td_gt_losses;
	return 0;
}

void task_detector_fini(struct task_detector *td)
{
	if (td->dets) {
		detector_dets_fini(td->dets);
		free(td->dets);
	}
	td->dets = NULL;
}
