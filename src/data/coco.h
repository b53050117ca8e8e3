/* coco.h: COCO detection JSON <-> the in-memory dataset.
 *
 * Reading validates every record and names each problem ("FILE: annotation
 * id 17 (index 16): unknown category_id 99"), skips what it cannot use and
 * counts it in ds->report, clips boxes past the image border (counted), and
 * never aborts on a bad record; only a file that is not JSON or not COCO
 * (no "images"/"categories" arrays) fails as a whole, with file, line and
 * column. Category ids need not be contiguous: class c keeps its source id
 * in ds->class_ids[c]; `area` is kept as given. */
#ifndef DET_DATA_COCO_H
#define DET_DATA_COCO_H

#include <stddef.h>

#include "data/dataset.h"

struct coco_read_options {
	const char *image_root; /* image files' directory; NULL: the JSON's directory */
	int check_files;        /* stat each image file; a missing one skips the image */
	/* Receives every problem, one message each, in file order. NULL: the
	 * first 10 go to stderr, then a count of the rest. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	int quiet;              /* 1: print no summary line to stderr */
};

/* Reads json_path into a new dataset (*out, caller frees with dataset_free).
 * image_root as in coco_read_options. 0 or a negative DET_E* code with a
 * message (file:line:column for JSON syntax errors). */
int coco_read(const char *json_path, const char *image_root, struct dataset **out);
int coco_read_opts(const char *json_path, const struct coco_read_options *opt, struct dataset **out);
/* The same from memory: name is used in messages; opt may be NULL. Used by
 * the fuzz target and tests. */
int coco_read_buffer(const char *buf, size_t len, const char *name,
	const struct coco_read_options *opt, struct dataset **out);

/* One line saying what was read and what was skipped, clipped or dropped. */
void coco_summary(const struct dataset *ds, const char *name, char *out, size_t outsz);

/* Writes ds as COCO JSON (atomically: temp file, fsync, rename). Boxes go
 * out as [x, y, w, h], categories with their source ids, annotation ids as
 * kept when they are positive and unique, else 1-based positions. */
int coco_write(const struct dataset *ds, const char *json_path);

/* Exports to a directory: DIR/annotations.json, and for generated datasets
 * (ds->render set) every image rendered to DIR/images/NNNNNN.png (file_name
 * "images/NNNNNN.png", relative to the JSON's folder). */
int coco_export(const struct dataset *ds, const char *dir);

#endif
