/* loader.h: the threaded data loader the trainer pulls batches from.
 *
 * N worker threads load (render or decode), augment, resize and collate
 * samples straight into a ring of preallocated batch buffers. Batch k's
 * samples, its size (multi-scale) and every random choice are fixed by
 * (seed, k) and the sampler alone, never by thread timing: the same seed
 * gives the same batches with 1 or 8 workers. Epochs follow each other
 * without a pause; a batch never straddles two epochs.
 *
 * Images come out as float NCHW, x = (pixel / 255 - mean_c) / std_c, at the
 * batch's size x size, letterboxed (aspect kept, pad grey 114) or stretched.
 * Boxes are in pixels of that output image, corner form, padded to
 * max_boxes per image with counts[i] valid.
 *
 * A sample that fails to load (a truncated file, a missing one) is skipped:
 * the batch comes out one shorter, and the loader counts it and keeps the
 * message, which names the dataset, image index, id, file and reason. */
#ifndef DET_DATA_LOADER_H
#define DET_DATA_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct dataset;
struct sampler;
struct aug_list;

struct loader_config {
	size_t batch;          /* samples per batch (>= 1) */
	int size;              /* output side in pixels (the base size with multiscale) */
	int workers;           /* worker threads (>= 1) */
	uint64_t seed;
	int ring;              /* batches in flight; 0: workers + 2 */
	int max_boxes;         /* box slots per image; 0: 100 */
	float mean[3], std[3]; /* on the [0, 1] scale; default ImageNet's */
	int letterbox;         /* 1 (default): keep the aspect ratio; 0: stretch */
	int drop_last;         /* 1: drop each epoch's last partial batch */
	int64_t start_epoch;   /* first epoch (resume); default 0 */
	size_t start_pos;      /* resume mid-epoch: first sample position in start_epoch's order */
	size_t start_number;   /* resume: the number of the first batch (multi-scale draws use it) */
};

void loader_config_default(struct loader_config *cfg);

struct loader_batch {
	int n;                /* samples delivered (batch, or fewer: epoch end, skipped) */
	int width, height;    /* this batch's image size */
	float *images;        /* n x 3 x height x width */
	int max_boxes;
	float *boxes;         /* batch x max_boxes x 4 (x0, y0, x1, y1), output pixels */
	int32_t *classes;     /* batch x max_boxes, 0..nclasses-1 */
	int *counts;          /* batch: valid boxes of each sample */
	size_t *indices;      /* batch: dataset image index of each sample */
	float *transform;     /* batch x 4: scale_x, scale_y, pad_x, pad_y from source pixels */
	int64_t epoch;        /* the epoch these samples belong to */
	size_t number;        /* 0, 1, 2, ... over the loader's life */
	size_t first;         /* position in the epoch of the batch's first planned sample */
	int last_in_epoch;    /* 1 on each epoch's final batch */
	int skipped;          /* samples of this batch that failed to load */
};

struct loader_stats {
	size_t batches, samples, skipped, boxes_truncated;
	double wait_s, elapsed_s; /* time in loader_next blocked / since the first call */
	double wait_fraction;     /* wait_s / elapsed_s: how much the consumer waits for data */
	char last_error[512];     /* the latest skipped sample's message ("" if none) */
};

/* Starts a loader. ds, sampler (NULL: sequential) and augs (NULL: none) are
 * borrowed and must outlive it; augs is copied. NULL with a message on a bad
 * argument or out of memory. */
struct loader *loader_new(const struct dataset *ds, const struct sampler *sampler,
	const struct aug_list *augs, size_t batch, int size, int workers, uint64_t seed);
struct loader *loader_new_config(const struct dataset *ds, const struct sampler *sampler,
	const struct aug_list *augs, const struct loader_config *cfg);
/* Blocks until the next batch is ready and points *out at it; the batch
 * stays valid until the next loader_next or loader_free. 0, or a negative
 * code when the loader cannot go on (out of memory planning an epoch). */
int loader_next(struct loader *l, const struct loader_batch **out);
/* Snapshot of the counters. */
void loader_stats(struct loader *l, struct loader_stats *st);
/* Stops the workers (they finish the sample in hand), joins them and frees
 * everything; safe at any point, mid-epoch included. NULL is a no-op. */
void loader_free(struct loader *l);

#endif
