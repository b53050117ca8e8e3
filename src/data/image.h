/* image.h: 8-bit images in memory (height x width x channels, row-major,
 * interleaved), the form decode, augmentation and drawing share. */
#ifndef DET_DATA_IMAGE_H
#define DET_DATA_IMAGE_H

#include <stdint.h>

struct image {
	int width, height, channels; /* channels: 1 (grey) or 3 (RGB) */
	uint8_t *data;               /* width * height * channels bytes */
};

/* Allocates data for a width x height x channels image (uninitialised);
 * 0 or DET_ENOMEM. image_fini frees it and zeroes the struct. */
int image_init(struct image *im, int width, int height, int channels);
void image_fini(struct image *im);

#endif
