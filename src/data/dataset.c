/* dataset.c: building and freeing the in-memory dataset. */
#include "data/dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct dataset *dataset_new(const char *name, const char *root)
{
	struct dataset *ds = calloc(1, sizeof *ds);

	if (ds == NULL)
		return NULL;
	ds->name = dup_or_null(name ? name : "dataset");
	ds->root = dup_or_null(root ? root : ".");
	if (ds->name == NULL || ds->root == NULL) {
		dataset_free(ds);
		return NULL;
	}
	return ds;
}

void dataset_free(struct dataset *ds)
{
	if (ds == NULL)
		return;
	if (ds->gen_free)
		ds->gen_free(ds->gen);
	for (int c = 0; c < ds->nclasses; c++)
		free(ds->class_names[c]);
	free(ds->class_names);
	free(ds->class_ids);
	for (size_t i = 0; i < ds->nimages; i++)
		free(ds->images[i].file);
	free(ds->images);
	free(ds->boxes);
	free(ds->name);
	free(ds->root);
	free(ds);
}

int dataset_class_add(struct dataset *ds, const char *name, int64_t source_id)
{
	char **names = realloc(ds->class_names, (size_t)(ds->nclasses + 1) * sizeof *names);
	int64_t *ids;
	char *copy;

	if (names == NULL)
		return det_error_set(DET_ENOMEM, "out of memory adding class %s", name);
	ds->class_names = names;
	ids = realloc(ds->class_ids, (size_t)(ds->nclasses + 1) * sizeof *ids);
	if (ids == NULL)
		return det_error_set(DET_ENOMEM, "out of memory adding class %s", name);
	ds->class_ids = ids;
	copy = strdup(name);
	if (copy == NULL)
		return det_error_set(DET_ENOMEM, "out of memory adding class %s", name);
	ds->class_names[ds->nclasses] = copy;
	ds->class_ids[ds->nclasses] = source_id;
	return ds->nclasses++;
}

long dataset_image_add(struct dataset *ds, int64_t id, const char *file, int width, int height)
{
	struct dataset_image *im;

	if (ds->nimages == ds->images_cap) {
		size_t cap = ds->images_cap ? 2 * ds->images_cap : 64;
		struct dataset_image *p = realloc(ds->images, cap * sizeof *p);

		if (p == NULL)
			return det_error_set(DET_ENOMEM, "out of memory adding image %lld", (long long)id);
		ds->images = p;
		ds->images_cap = cap;
	}
	im = &ds->images[ds->nimages];
	memset(im, 0, sizeof *im);
	im->id = id;
	im->width = width;
	im->height = height;
	im->box_start = ds->nboxes;
	if (file && (im->file = strdup(file)) == NULL)
		return det_error_set(DET_ENOMEM, "out of memory adding image %lld", (long long)id);
	return (long)ds->nimages++;
}

int dataset_box_add(struct dataset *ds, const struct dataset_box *box)
{
	DET_ASSERT(ds->nimages > 0, "dataset_box_add before any image");
	if (ds->nboxes == ds->boxes_cap) {
		size_t cap = ds->boxes_cap ? 2 * ds->boxes_cap : 256;
		struct dataset_box *p = realloc(ds->boxes, cap * sizeof *p);

		if (p == NULL)
			return det_error_set(DET_ENOMEM, "out of memory adding a box");
		ds->boxes = p;
		ds->boxes_cap = cap;
	}
	ds->boxes[ds->nboxes++] = *box;
	ds->images[ds->nimages - 1].box_count++;
	return 0;
}

void dataset_problem(struct dataset *ds, void (*warn)(void *ctx, const char *msg), void *ctx,
	const char *fmt, ...)
{
	char msg[sizeof ds->report.first_problem];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ds->report.first_problem[0] == '\0')
		memcpy(ds->report.first_problem, msg, sizeof msg);
	if (warn)
		warn(ctx, msg);
}
