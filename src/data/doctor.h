/* doctor.h: the dataset doctor. It looks at any dataset (read from COCO,
 * VOC or YOLO files, or generated) and reports what is in it and what looks
 * wrong: class counts and imbalance, objects per image, COCO size ranges,
 * aspect ratios, and findings (near-duplicate, tiny, border, degenerate
 * boxes; empty images; missing files), each with a count and examples.
 * The same report prints as aligned text, as JSON, or becomes a Lua table. */
#ifndef DET_DATA_DOCTOR_H
#define DET_DATA_DOCTOR_H

#include <stddef.h>
#include <stdio.h>

#include "data/dataset.h"

#define DOCTOR_EXAMPLES 5

enum doctor_kind {
	DOCTOR_DUPLICATES,  /* pairs of same-class boxes with IoU > dup_iou in one image */
	DOCTOR_TINY,        /* boxes with a side < tiny_px */
	DOCTOR_BORDER,      /* boxes within border_px of the image border */
	DOCTOR_EMPTY,       /* images with no objects */
	DOCTOR_MISSING,     /* image files that do not exist under ds->root */
	DOCTOR_DEGENERATE,  /* empty, non-finite or outside boxes; class out of range */
	DOCTOR_NKINDS,
};

/* One example of a finding: indices into the dataset (box and other are
 * SIZE_MAX when they do not apply), and the IoU for duplicates. */
struct doctor_example {
	size_t image, box, other;
	float iou;
};

struct doctor_finding {
	const char *key;    /* machine name: "near_duplicates", "tiny_boxes", ... */
	const char *title;  /* what a person reads */
	size_t count;
	size_t nexamples;
	struct doctor_example ex[DOCTOR_EXAMPLES];
};

struct doctor_options {
	float dup_iou;     /* default 0.95 */
	float tiny_px;     /* default 4 */
	float border_px;   /* default 1 */
	int check_files;   /* 1: look for each image file (default when the dataset is not generated) */
};

/* Histogram bins: objects per image 0, 1, 2, 3-4, 5-8, 9-16, 17-32, 33+;
 * aspect ratio w/h < 1/4, 1/4-1/2, 1/2-1, 1-2, 2-4, >= 4. */
#define DOCTOR_COUNT_BINS 8
#define DOCTOR_ASPECT_BINS 6
extern const char *const doctor_count_bin_names[DOCTOR_COUNT_BINS];
extern const char *const doctor_aspect_bin_names[DOCTOR_ASPECT_BINS];

struct doctor_report {
	const struct dataset *ds;   /* borrowed: must outlive the report */
	size_t nimages, nobjects, ignored, crowd;
	int nclasses, classes_used;
	size_t *class_objects;      /* nclasses: boxes per class */
	size_t *class_images;       /* nclasses: images holding the class */
	int *class_order;           /* nclasses: classes by object count, most first */
	double imbalance;           /* max / min over classes with objects; 0 when none */
	int class_max, class_min;   /* their indices, -1 when none */
	size_t per_image_min, per_image_max;
	double per_image_median, per_image_mean;
	size_t per_image_hist[DOCTOR_COUNT_BINS];
	size_t size_small, size_medium, size_large; /* by area: < 32², < 96², >= 96² */
	double aspect_min, aspect_median, aspect_max;
	size_t aspect_hist[DOCTOR_ASPECT_BINS];
	struct doctor_finding findings[DOCTOR_NKINDS];
	struct doctor_options opt;
	/* Set by the caller after doctor_run, all optional and borrowed: the
	 * format read ("VOC") and the reader's problem messages (the first
	 * nproblems_kept of nproblems), shown as the reader's examples. */
	const char *format;
	const char (*problems)[512];
	size_t nproblems_kept, nproblems;
};

/* Examines ds. opt may be NULL (defaults). *out gets a report the caller
 * frees with doctor_report_free. Returns 0 or DET_ENOMEM. */
int doctor_run(const struct dataset *ds, const struct doctor_options *opt, struct doctor_report **out);
void doctor_report_free(struct doctor_report *r);

/* The aligned report for a person, at most 80 columns (block-character
 * bars, UTF-8). Returns 0 or DET_EIO. */
int doctor_write_text(const struct doctor_report *r, FILE *f);
/* The same as a malloc'd string (the caller frees it); NULL when out of memory. */
char *doctor_text(const struct doctor_report *r);
/* The report as one JSON object. Returns 0, DET_ENOMEM or DET_EIO. */
int doctor_write_json(const struct doctor_report *r, FILE *f);

/* One line on what a reader skipped and clipped, e.g. "skipped 1 image and
 * 2 boxes, clipped 3 boxes; first: Annotations/x.xml:12: ..." ("nothing
 * skipped" when clean), into buf; with_first 0 leaves out the first problem. */
void doctor_reader_summary(const struct dataset *ds, int with_first, char *buf, size_t n);

/* Writes lead + text word-wrapped at 80 columns, continuation lines indented
 * by 8 spaces. */
void doctor_wrap(FILE *f, const char *lead, const char *text);

/* How doctor_open reads a path. */
struct doctor_open_options {
	const char *split;   /* VOC split file; YOLO YAML key or images/<split> */
	const char *images;  /* COCO image folder (default: beside the JSON) */
	void (*warn)(void *ctx, const char *message); /* every reader problem; may be NULL */
	void *warn_ctx;
};

/* Reads a dataset, telling the format from the path: a COCO .json file, a
 * VOC root (has Annotations/; images with missing files are kept so the
 * doctor lists them), a YOLO folder (images/ and labels/, a names file or
 * data.yaml inside) or a YOLO data YAML. *format gets "COCO", "VOC" or
 * "YOLO". Returns 0 or a negative DET_E* code with a message. */
int doctor_open(const char *path, const struct doctor_open_options *opt, struct dataset **out,
	const char **format);

/* `detbench doctor [options] PATH` (argv[0] is "doctor"): prints the report
 * on stdout; returns the exit status (0, 1 unreadable, 2 usage). */
int doctor_cli_main(int argc, char **argv);

#endif
