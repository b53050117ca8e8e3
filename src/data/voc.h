/* voc.h: the Pascal VOC reader. A VOCdevkit root holds Annotations/<id>.xml
 * (one document per image), JPEGImages/ and ImageSets/Main/<split>.txt; each
 * XML document becomes one dataset image with its <object> boxes.
 *
 * Coordinates: VOC stores 1-based, inclusive pixel indices (xmin = 1 is the
 * first column, xmax = W the last). In detbench's continuous corner form a
 * pixel i (0-based) covers [i, i + 1), so the box is
 *     x0 = xmin - 1, y0 = ymin - 1, x1 = xmax, y1 = ymax
 * and its area (x1 - x0) * (y1 - y0) equals the VOC devkit's inclusive
 * (xmax - xmin + 1) * (ymax - ymin + 1). Detectron2's pascal_voc.py makes the
 * same conversion; torchvision's VOCDetection returns the raw numbers. */
#ifndef DET_DATA_VOC_H
#define DET_DATA_VOC_H

#include <stddef.h>

#include "data/dataset.h"

/* How the class list is chosen. */
enum voc_classes {
	VOC_CLASSES_AUTO = 0, /* the 20 VOC classes if every name is one, else discovered */
	VOC_CLASSES_VOC,      /* the 20 VOC classes; other names are skipped and counted */
	VOC_CLASSES_DISCOVER, /* every name seen, sorted by name */
	VOC_CLASSES_LIST,     /* the names in `names`; other names are skipped and counted */
};

/* Called once per problem (a skipped record, a clipped box), with a message
 * that names the file, the line and the reason. */
typedef void (*data_warn_fn)(void *ctx, const char *message);

struct voc_options {
	const char *split;       /* ImageSets/Main/<split>.txt; NULL: every Annotations/<id>.xml */
	enum voc_classes classes;
	const char *const *names;/* VOC_CLASSES_LIST: nnames class names */
	int nnames;
	int skip_difficult;      /* drop difficult objects instead of keeping them as ignore */
	int keep_missing;        /* keep images whose file is missing (the doctor lists them) */
	data_warn_fn warn;       /* may be NULL */
	void *warn_ctx;
};

/* The 20 Pascal VOC class names, in the devkit's order. */
extern const char *const voc_class_names[20];

/* Reads the VOC dataset under root. *out receives a new dataset (the caller
 * frees it) whose report counts what was skipped or clipped; records that
 * are wrong never stop the read. Returns 0, or a negative DET_E* code with a
 * message when nothing can be read (no Annotations/, no split file). */
int voc_read(const char *root, const struct voc_options *opt, struct dataset **out);

/* Parses one annotation document (xml, len bytes) into ds: adds one image
 * and its boxes, or counts the image as skipped and reports why. name is the
 * file named in messages. root, when not NULL, is the dataset root used to
 * find the image when <size> is missing (read from the file's header) and to
 * check that the image exists. id is the image id. Returns 1 if the image
 * was added, 0 if skipped, or DET_ENOMEM. Classes are handled as in opt
 * (AUTO and DISCOVER add names as they appear; voc_read sorts them after). */
int voc_parse_xml(struct dataset *ds, const char *xml, size_t len, const char *name,
	const char *root, long long id, const struct voc_options *opt);

#endif
