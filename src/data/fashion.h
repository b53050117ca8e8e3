/* fashion.h: the built-in detection dataset. Fashion-MNIST items (Xiao et
 * al. 2017, 28x28 grey, 10 classes; Debian's dataset-fashion-mnist) are
 * composited into colour scenes: several items per scene at varied scales,
 * tints and positions, on noise/gradient/texture backgrounds, with an IoU cap
 * between items. Boxes are the tight box of each scaled item's pixels above
 * FASHION_THRESHOLD. Scene i depends only on (seed, i): each index has its
 * own random stream, so rendering order never matters. */
#ifndef DET_DATA_FASHION_H
#define DET_DATA_FASHION_H

#include <stddef.h>
#include <stdint.h>

struct dataset;

#define FASHION_CLASSES 10
#define FASHION_SIDE 28
/* A scaled item pixel belongs to the object when its value is >= this. */
#define FASHION_THRESHOLD 48

extern const char *const fashion_class_names[FASHION_CLASSES];

enum fashion_split_id { FASHION_TRAIN = 0, FASHION_TEST = 1 };
enum fashion_background { FASHION_BG_NOISE, FASHION_BG_GRADIENT, FASHION_BG_TEXTURE, FASHION_BG_MIXED };

/* One split of Fashion-MNIST in memory: n items of 28x28 bytes. Loaded once
 * per process on first use and shared (read-only) by every dataset. */
struct fashion_split {
	int n;
	const uint8_t *pixels;  /* n * 784 */
	const uint8_t *labels;  /* n, 0..9 */
	int count[FASHION_CLASSES];
	const int *by_class[FASHION_CLASSES]; /* item indices of each class */
};

/* Returns the split, loading it on first use from $DETBENCH_FASHION_DIR or
 * /usr/share/datasets/fashion-mnist ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz).
 * Thread-safe. 0, or DET_EIO (file missing: the message names it and the
 * Debian package) / DET_EFORMAT (bad IDX header or short data, named). */
int fashion_split_get(enum fashion_split_id split, const struct fashion_split **out);
/* Reads one IDX file (gzip or plain) and checks magic, rank and dimensions:
 * expects `rank` dimensions; dims[] receives them. For tests and tools. */
int fashion_idx_read(const char *path, int rank, int dims[3], uint8_t **data);

struct fashion_config {
	enum fashion_split_id split;
	size_t images;       /* number of scenes */
	int size;            /* scenes are size x size */
	uint64_t seed;
	int min_objects, max_objects;
	int nclasses;        /* classes used, 1..10 */
	int classes[FASHION_CLASSES];          /* source labels, in dataset order */
	float class_weights[FASHION_CLASSES];  /* per dataset class, relative frequency */
	enum fashion_background background;
	float min_scale, max_scale; /* item side as a fraction of size */
	float max_iou;              /* IoU cap between items of one scene */
};

/* Defaults: train, 1000 scenes of 128x128, seed 1, 2..6 objects, all ten
 * classes with equal weights, mixed backgrounds, sides 20..64 px at 128
 * (0.156..0.5 of size), IoU cap 0.3. */
void fashion_config_default(struct fashion_config *cfg);
/* Sets class_weights[c] = skew^(-c/(nclasses-1)): the first class is skew
 * times as frequent as the last, geometrically in between. */
void fashion_config_skew(struct fashion_config *cfg, float skew);

/* Builds the scene dataset (boxes filled now; pixels by ds->render on demand).
 * 0 and *out, or a negative code with a message (bad config, data missing). */
int fashion_dataset_new(const struct fashion_config *cfg, struct dataset **out);
/* Which Fashion-MNIST item box k of a fashion dataset was drawn from; 0 or
 * DET_EINVAL when ds is not a fashion dataset. */
int fashion_box_source(const struct dataset *ds, size_t k, enum fashion_split_id *split, int *item);

/* The pixels of box k's item in its scene (255 where the scaled item is >=
 * FASHION_THRESHOLD, else 0; occlusion by later items ignored): out is
 * initialised to size x size x 1. 0 or DET_EINVAL / DET_ENOMEM. */
struct image;
int fashion_object_mask(const struct dataset *ds, size_t k, struct image *out);

#endif
