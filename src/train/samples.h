/* samples.h: the few validation images an evaluation is shown on (the
 * samples panel): each image with its GT boxes and the evaluation's
 * detections, built from (dataset, eval GT, eval detections); and the
 * run directory's sidecar that carries them to `detbench watch`:
 *   RUN_DIR/samples/<step>-<k>.png   the images (at most 320 px a side)
 *   RUN_DIR/samples.json             {"step":S,"classes":[names],
 *     "images":[{"name":"#1","file":"samples/S-1.png","width":W,"height":H,
 *                "boxes":[[x0,y0,x1,y1,class,score,pred],...]},...]}
 * (boxes in the PNG's pixels, class a 0-based index into classes, pred 0
 * for GT and 1 for a detection). Every file is written atomically, the
 * json last, and the PNGs of the previous step are removed after it, so a
 * reader sees a whole set or the previous one. */
#ifndef DET_TRAIN_SAMPLES_H
#define DET_TRAIN_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

struct dataset;
struct eval_gt;
struct eval_dets;

#define TRAIN_SAMPLES_MAX 64     /* images in one set */
#define TRAIN_SAMPLES_SHOWN 8    /* what an evaluation hands the screen */
#define TRAIN_SAMPLES_MIN_SCORE 0.05
#define TRAIN_SAMPLES_MAX_DETS 100 /* per image, highest scores first */

struct train_sample_box {
	float x0, y0, x1, y1; /* pixels of the sample's image */
	int cls;              /* 0-based class of the dataset */
	float score;          /* detections; 1 for GT */
	int pred;             /* 1: a detection, 0: GT */
};

struct train_sample {
	char name[64];        /* "#3": the dataset's 1-based image index */
	struct image im;
	struct train_sample_box *boxes;
	int nboxes;
};

/* Frees n samples and the array (NULL is a no-op). */
void train_samples_free(struct train_sample *s, int n);

/* The dataset images idx[0..n) (0-based; idx NULL: the first n) rendered
 * or loaded, with their GT and, when gt and dets are given (an evaluation
 * over ds: gt from eval_gt_from_dataset(ds)), the detections scoring at
 * least min_score (at most TRAIN_SAMPLES_MAX_DETS each). *out is an array
 * of the returned count (train_samples_free): n clamped to the dataset and
 * TRAIN_SAMPLES_MAX; or a negative status naming the image that failed. */
int train_samples_from_eval(const struct dataset *ds, const size_t *idx, int n, const struct eval_gt *gt,
	const struct eval_dets *dets, double min_score, struct train_sample **out);

/* Writes the sidecar of evaluation `step` into run_dir (see above); names
 * are the dataset's class names. 0 or DET_EIO / DET_ENOMEM naming the file. */
int train_samples_write(const char *run_dir, int64_t step, const struct train_sample *s, int n,
	const char *const *names, int nnames);

/* Reads run_dir/samples.json and its images: *out (n samples), *names
 * (nnames strdup'd class names: free each and the array), *step. 0, or
 * DET_EIO (missing or unreadable; the caller tries again later) /
 * DET_EFORMAT naming the file. */
int train_samples_read(const char *run_dir, int64_t *step, struct train_sample **out, int *n, char ***names,
	int *nnames);

#endif
