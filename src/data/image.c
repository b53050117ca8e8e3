/* image.c: allocation of in-memory images. */
#include "data/image.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int image_init(struct image *im, int width, int height, int channels)
{
	memset(im, 0, sizeof *im);
	DET_ASSERT(width > 0 && height > 0 && (channels == 1 || channels == 3),
		"bad image shape %dx%dx%d", width, height, channels);
	im->data = malloc((size_t)width * height * channels);
	if (im->data == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for a %dx%d image", width, height);
	im->width = width;
	im->height = height;
	im->channels = channels;
	return 0;
}

void image_fini(struct image *im)
{
	free(im->data);
	memset(im, 0, sizeof *im);
}
