/* yolo.h: the YOLO txt reader (darknet / Ultralytics layout). Each image
 * has a label file of the same stem, one object per line:
 *     cls cx cy w h        (centre and size, normalised to [0, 1])
 * or, for segmentation labels, cls x1 y1 x2 y2 ... (a polygon; its bounding
 * box is used). Class names come from a names file (one per line) or a data
 * YAML (`names:` as a list or a {0: name} map; `path`, `train`, `val`,
 * `test` keys). Image sizes come from the image header (stbi_info), never
 * from decoding the whole image. Boxes become pixel corners:
 *     x0 = (cx - w/2) W,  y0 = (cy - h/2) H,  x1 = (cx + w/2) W,  y1 = (cy + h/2) H */
#ifndef DET_DATA_YOLO_H
#define DET_DATA_YOLO_H

#include <stddef.h>

#include "data/dataset.h"

/* Called once per problem, with a message naming the file, line and reason. */
typedef void (*data_warn_fn)(void *ctx, const char *message);

struct yolo_options {
	const char *images;  /* a folder of images or a .txt list of image paths */
	const char *labels;  /* folder of label files; NULL: the image path with its
	                        last "images" folder replaced by "labels" (or the
	                        image's own folder when it has none) */
	const char *names;   /* names file, or a data YAML; NULL: from data, else "0", "1", ... */
	const char *data;    /* data YAML; gives images (its split key: one or more
	                        folders or lists, read in order) and names */
	const char *split;   /* with data: "train" (default), "val" or "test" */
	data_warn_fn warn;   /* may be NULL */
	void *warn_ctx;
};

enum { YOLO_TRAIN, YOLO_VAL, YOLO_TEST, YOLO_NSPLITS };

/* What a data YAML says. Paths are resolved against the YAML's folder and
 * `path` (NULL when absent); each split is a list of folders or list files
 * (`train: images/train` or `train: [images/a, images/b]`). */
struct yolo_data {
	char *path;
	char **splits[YOLO_NSPLITS];
	int nsplits[YOLO_NSPLITS];
	char **names;
	int nnames;
};

/* Reads a YOLO dataset; *out gets a new dataset (the caller frees it) whose
 * report counts skipped and clipped records. Returns 0, or a negative DET_E*
 * code with a message when nothing can be read (no images folder, a broken
 * names file or data YAML). */
int yolo_read(const struct yolo_options *opt, struct dataset **out);

/* Parses a data YAML held in text (len bytes); name is the file named in
 * messages, dir the folder relative paths are resolved against (NULL: keep
 * them as written). Returns 0 or a negative code with a message that names
 * the file, line and column. yolo_data_fini frees what it filled. */
int yolo_data_parse(const char *text, size_t len, const char *name, const char *dir,
	struct yolo_data *out);
void yolo_data_fini(struct yolo_data *d);

/* Parses a names file (one class name per line, blank lines skipped). */
int yolo_names_parse(const char *text, size_t len, const char *name, struct yolo_data *out);

/* Parses one label file's text into boxes of the last image added to ds
 * (width x height pixels). name is the file named in messages. Class ids
 * must be below ds->nclasses unless discover is set, in which case classes
 * "0", "1", ... are added up to the largest id seen (at most 1000). Bad
 * lines are skipped and counted in ds->report. Returns 0 or DET_ENOMEM. */
int yolo_labels_parse(struct dataset *ds, const char *text, size_t len, const char *name,
	int discover, const struct yolo_options *opt);

#endif
