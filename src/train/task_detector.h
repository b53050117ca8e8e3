/* task_detector.h: the trainer's task for a dense detector (det/detector.h):
 * detector_loss as the loss (parts cls, box, quality), detector_decode as
 * the decoder (boxes mapped to the evaluation's image and category
 * indices), the detector's loss weights as live-settable weights,
 * detector_gt_losses as the per-box loss (exp:gt_losses). */
#ifndef DET_TRAIN_TASK_DETECTOR_H
#define DET_TRAIN_TASK_DETECTOR_H

#include "train/trainer.h"

struct detector;

/* Adapter state: make one per trainer (the decode buffer is reused). */
struct task_detector {
	struct detector *d;   /* borrowed */
	void *dets;           /* struct detector_dets, owned */
};

/* Fills task to call d through td (both borrowed by task). 0 or DET_ENOMEM. */
int task_detector_init(struct task_detector *td, struct detector *d, struct trainer_task *task);
void task_detector_fini(struct task_detector *td);

#endif
