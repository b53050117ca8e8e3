/* imageio.h: image files in and out (stb_image / stb_image_write) and the
 * resampling every pipeline stage shares: bilinear and area resize, and the
 * letterbox (resize keeping the aspect ratio, pad the rest) with the box
 * transform that goes with it. Images are 8-bit interleaved (image.h). */
#ifndef DET_DATA_IMAGEIO_H
#define DET_DATA_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

/* Decodes a JPEG, PNG or BMP file into out (always RGB, 3 channels; grey and
 * grey+alpha are expanded, alpha dropped, 16-bit reduced to 8-bit). out is
 * initialised by the call. Truncated files are detected even where stb_image
 * would decode them silently (missing JPEG EOI, PNG IEND, short BMP pixel
 * data). Returns 0, DET_EIO (can't read, message names the file and errno) or
 * DET_EFORMAT (corrupt/truncated, message names the file and the reason). */
int imageio_load(const char *path, struct image *out);
/* The same from bytes in memory; name is used in messages only. */
int imageio_decode(const uint8_t *buf, size_t len, const char *name, struct image *out);
/* Writes an image (1 or 3 channels) as PNG; 0 or DET_EIO naming the file. */
int imageio_write_png(const char *path, const struct image *im);
/* Writes a JPEG (quality 1..100); 0 or DET_EIO. For benchmarks and tests. */
int imageio_write_jpg(const char *path, const struct image *im, int quality);

/* Resize filters. Bilinear samples at pixel centres (align_corners = false,
 * as torch's F.interpolate/OpenCV INTER_LINEAR); area averages every source
 * pixel a destination pixel covers, with fractional weights at its edges
 * (OpenCV INTER_AREA) and is the right choice when shrinking. */
enum imageio_filter { IMAGEIO_BILINEAR, IMAGEIO_AREA };

/* Resizes src into dst, which the caller has initialised to the target size
 * with the same channel count. 0, or DET_ENOMEM (scratch buffers). */
int imageio_resize(const struct image *src, struct image *dst, enum imageio_filter filter);

/* The letterbox mapping: x' = x * scale_x + pad_x, y' = y * scale_y + pad_y
 * (scale_x = new_w / src_w; equal to scale_y up to rounding to whole pixels). */
struct letterbox {
	float scale_x, scale_y, pad_x, pad_y;
	int new_w, new_h; /* size of the resized content inside dst */
};

/* Resizes src into dst (already initialised, any size, same channels) keeping
 * the aspect ratio, centred, the border filled with fill (grey 114 in YOLO).
 * Fills *lb with the mapping so boxes follow with letterbox_boxes.
 * 0, or DET_ENOMEM. */
int imageio_letterbox(const struct image *src, struct image *dst, uint8_t fill, struct letterbox *lb);
/* Maps n corner-form boxes (x0,y0,x1,y1 consecutive floats) in place. */
void letterbox_boxes(const struct letterbox *lb, float *boxes, size_t n);
/* The inverse, from letterboxed to source coordinates (for predictions). */
void letterbox_boxes_inverse(const struct letterbox *lb, float *boxes, size_t n);

#endif
