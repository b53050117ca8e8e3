/* augment.h: box-aware data augmentation. A sample is an 8-bit RGB image
 * with its boxes; an augmentation list is a sequence of operations, each
 * applied with its own probability p and its own random stream seeded from
 * (seed, epoch, index, position in the list), so a sample's augmentation
 * never depends on which thread ran it or on what ran before.
 *
 * Names and defaults follow the TF Object Detection API preprocessor and
 * Ultralytics hyper-parameters where those exist (see doc/api/aug.md).
 *
 * Box rule, after every geometric operation: each box is mapped (affine:
 * the bounding box of its four transformed corners), clipped to the image,
 * and dropped when the clipped box is under AUG_MIN_SIDE pixels wide or
 * high, or keeps under AUG_MIN_AREA of its mapped (unclipped) area
 * (Ultralytics box_candidates). crop and cutout add their own rules. */
#ifndef DET_DATA_AUGMENT_H
#define DET_DATA_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

struct dataset;

#define AUG_MIN_SIDE 2.0f
#define AUG_MIN_AREA 0.1f
#define AUG_MAX_OPS 32
#define AUG_MAX_PARAMS 8

enum aug_kind {
	AUG_HFLIP, AUG_VFLIP, AUG_ROT90, AUG_AFFINE,
	AUG_BRIGHTNESS, AUG_CONTRAST, AUG_SATURATION, AUG_HUE, AUG_GAMMA,
	AUG_GREYSCALE, AUG_NOISE, AUG_BLUR,
	AUG_CROP, AUG_EXPAND, AUG_MULTISCALE, AUG_CUTOUT, AUG_MOSAIC, AUG_MIXUP,
	AUG_NKINDS
};

/* One operation: its kind, probability and parameters (named per kind in
 * aug_kind_info; defaults filled by aug_op_init). */
struct aug_op {
	enum aug_kind kind;
	float p;
	float param[AUG_MAX_PARAMS];
};

struct aug_param_info {
	const char *name;
	float def, lo, hi; /* default and allowed range */
	const char *doc;
};

struct aug_kind_info {
	const char *name;  /* "hflip", ... as in det.aug.<name> */
	float p;           /* default probability */
	int nparams;
	struct aug_param_info params[AUG_MAX_PARAMS];
};

/* The table of kinds, indexed by enum aug_kind. */
extern const struct aug_kind_info aug_kinds[AUG_NKINDS];

/* Looks a kind up by name; -1 if unknown. */
int aug_kind_find(const char *name);
/* Index of parameter `name` of kind k, or -1. */
int aug_param_find(enum aug_kind k, const char *name);
/* Sets op to kind k with default p and parameters. */
void aug_op_init(struct aug_op *op, enum aug_kind k);
/* Checks ranges and consistency (lower <= upper); 0 or DET_EINVAL naming
 * the operation and parameter. */
int aug_op_check(const struct aug_op *op);

struct aug_list {
	int n;
	struct aug_op ops[AUG_MAX_OPS];
};

struct aug_box {
	float x0, y0, x1, y1;
	int32_t cls;
	uint8_t iscrowd, ignore;
};

/* An image and its boxes (pixels, corner form). The sample owns both. */
struct aug_sample {
	struct image im;
	size_t n, cap;
	struct aug_box *boxes;
};

void aug_sample_init(struct aug_sample *s);
void aug_sample_fini(struct aug_sample *s);
/* Appends a box; 0 or DET_ENOMEM. */
int aug_sample_push(struct aug_sample *s, const struct aug_box *b);
/* Loads image i of ds without augmentation: rendered (generated datasets)
 * or decoded from root/file. On failure the message names the dataset, the
 * image index, id and file, and the reason; s is left empty. */
int aug_sample_load(const struct dataset *ds, size_t i, struct aug_sample *s);

/* The per-sample seed every random choice of sample `index` derives from. */
uint64_t aug_sample_seed(uint64_t seed, int64_t epoch, uint64_t index);

/* Applies list to s in order. ds is used by mosaic and mixup to load their
 * extra images (chosen at random from ds with the sample's own stream); it
 * may be NULL when the list has neither. multiscale is a per-batch choice
 * (aug_list_batch_size) and does nothing here. 0, or a negative code with
 * a message when an extra image fails to load (s is then unusable). */
int aug_list_apply(const struct aug_list *list, const struct dataset *ds, struct aug_sample *s,
	uint64_t seed, int64_t epoch, uint64_t index);
/* Applies one operation unconditionally (p ignored) with the given stream. */
int aug_op_apply(const struct aug_op *op, const struct dataset *ds, struct aug_sample *s, uint64_t stream_seed);

/* The output side for batch `batch` (0, 1, ...): size itself unless the list
 * has a multiscale op, then a random multiple of its step between
 * min*size and max*size, drawn from (seed, batch). */
int aug_list_batch_size(const struct aug_list *list, int size, uint64_t seed, uint64_t batch);
/* The largest size aug_list_batch_size can return (for buffers). */
int aug_list_max_size(const struct aug_list *list, int size);

/* Clips boxes to the image and applies the drop rule above; `mapped_area`
 * holds each box's area before clipping (NULL: use the current area). */
void aug_boxes_clip(struct aug_sample *s, const float *mapped_area);

#endif
