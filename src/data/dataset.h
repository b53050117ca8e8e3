/* dataset.h: the in-memory form every dataset takes, whatever it was read
 * from (COCO JSON, VOC XML, YOLO txt) or generated (Fashion-MNIST scenes).
 *
 * A dataset is a list of images and one flat array of boxes; each image owns
 * the range [box_start, box_start + box_count) of that array. Classes are
 * numbered 0..nclasses-1 internally; class_ids keeps each class's id in the
 * source (COCO category ids are not contiguous) so exports round-trip.
 * Boxes are in pixels, corner form (x0, y0, x1, y1), x1 > x0, y1 > y0. */
#ifndef DET_DATA_DATASET_H
#define DET_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

struct image;

struct dataset_box {
	float x0, y0, x1, y1;
	float area;      /* as given by the source (COCO `area`), else w*h */
	int32_t cls;     /* 0..nclasses-1 */
	uint8_t iscrowd; /* COCO iscrowd: matched, never counted as a miss */
	uint8_t ignore;  /* VOC `difficult`: ignored by evaluation */
	int64_t id;      /* annotation id in the source (COCO), else index */
};

struct dataset_image {
	int64_t id;       /* image id in the source */
	char *file;       /* path relative to dataset->root, or NULL if generated */
	int width, height;
	size_t box_start, box_count;
};

/* What a reader skipped or repaired, for the summary it prints. */
struct dataset_report {
	size_t images_skipped;  /* broken image records, missing files */
	size_t boxes_skipped;   /* invalid boxes: NaN, negative or zero size, unknown class */
	size_t boxes_clipped;   /* boxes past the border, clipped to it */
	size_t duplicates;      /* duplicate image ids (later ones dropped) */
	char first_problem[512];/* the first problem, with file and record */
};

struct dataset {
	char *name;
	char *root;            /* directory image files are relative to */
	int nclasses;
	char **class_names;    /* nclasses strings */
	int64_t *class_ids;    /* nclasses source ids */
	size_t nimages, images_cap;
	struct dataset_image *images;
	size_t nboxes, boxes_cap;
	struct dataset_box *boxes;
	struct dataset_report report;

	/* A generated dataset renders image i into out (RGB, 3 channels) and
	 * returns 0, or a negative DET_E* code with a message. NULL for datasets
	 * read from files. gen is the generator's own state; gen_free frees it. */
	int (*render)(const struct dataset *ds, size_t i, struct image *out);
	void *gen;
	void (*gen_free)(void *gen);
};

/* Creates an empty dataset; NULL when out of memory. */
struct dataset *dataset_new(const char *name, const char *root);
/* Frees the dataset and everything it owns; NULL is a no-op. */
void dataset_free(struct dataset *ds);
/* Adds a class; returns its index or a negative code. */
int dataset_class_add(struct dataset *ds, const char *name, int64_t source_id);
/* Adds an image with no boxes (file may be NULL); returns its index or a
 * negative code. Boxes for it must follow with dataset_box_add before the
 * next image is added. */
long dataset_image_add(struct dataset *ds, int64_t id, const char *file, int width, int height);
/* Adds a box to the last image added; 0 or a negative code. */
int dataset_box_add(struct dataset *ds, const struct dataset_box *box);
/* Records a reader's problem: kept as report.first_problem when it is the
 * first, and passed to warn(ctx, message) when warn is not NULL. */
void dataset_problem(struct dataset *ds, void (*warn)(void *ctx, const char *msg), void *ctx,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The boxes of image i. */
static inline const struct dataset_box *dataset_image_boxes(const struct dataset *ds, size_t i)
{
	return ds->boxes + ds->images[i].box_start;
}

#endif
