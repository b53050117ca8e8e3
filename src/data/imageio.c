/* imageio.c: decoding (stb_image) with truncation checks stb_image lacks,
 * PNG/JPEG writing (stb_image_write), bilinear/area resize and letterbox. */
#include "data/imageio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "core/atomic.h"
#include "core/error.h"

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Searches the last `window` bytes of buf for the 2..4-byte pattern. */
static int tail_has(const uint8_t *buf, size_t len, const void *pat, size_t plen, size_t window)
{
	size_t start = len > window ? len - window : 0;

	for (size_t i = len >= plen ? len - plen + 1 : 0; i-- > start;)
		if (memcmp(buf + i, pat, plen) == 0)
			return 1;
	return 0;
}

/* stb_image decodes many truncated files without complaint (reads past the
 * end as zeros), so check that each format's end is there. */
static int check_complete(const uint8_t *buf, size_t len, const char *name)
{
	static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) {
		static const uint8_t eoi[2] = { 0xff, 0xd9 };

		if (!tail_has(buf, len, eoi, 2, 1 << 16))
			return det_error_set(DET_EFORMAT, "%s: truncated JPEG (no end-of-image marker)", name);
	} else if (len >= 8 && memcmp(buf, png_sig, 8) == 0) {
		if (!tail_has(buf, len, "IEND", 4, 1 << 12))
			return det_error_set(DET_EFORMAT, "%s: truncated PNG (no IEND chunk)", name);
	} else if (len >= 2 && buf[0] == 'B' && buf[1] == 'M') {
		if (len < 34)
			return det_error_set(DET_EFORMAT, "%s: truncated BMP header (%zu bytes)", name, len);
		uint32_t off = rd_le32(buf + 10), hsize = rd_le32(buf + 14);
		if (hsize >= 40 && rd_le32(buf + 30) == 0) { /* BI_RGB: size is known */
			int32_t w = (int32_t)rd_le32(buf + 18), h = (int32_t)rd_le32(buf + 22);
			uint32_t bpp = (uint32_t)buf[28] | (uint32_t)buf[29] << 8;
			uint64_t row = (((uint64_t)bpp * (uint64_t)(w < 0 ? -(int64_t)w : w) + 31) / 32) * 4;
			uint64_t need = off + row * (uint64_t)(h < 0 ? -(int64_t)h : h);

			if (need > len)
				return det_error_set(DET_EFORMAT, "%s: truncated BMP (%zu of %llu bytes)",
					name, len, (unsigned long long)need);
		}
	}
	return 0;
}

int imageio_decode(const uint8_t *buf, size_t len, const char *name, struct image *out)
{
	int w, h, c, rc;
	uint8_t *px;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return det_error_set(DET_EFORMAT, "%s: empty file", name);
	if (len > 0x7fffffff)
		return det_error_set(DET_EFORMAT, "%s: file too large (%zu bytes)", name, len);
	if ((rc = check_complete(buf, len, name)) < 0)
		return rc;
	px = stbi_load_from_memory(buf, (int)len, &w, &h, &c, 3);
	if (px == NULL)
		return det_error_set(DET_EFORMAT, "%s: corrupt or unsupported image (%s)", name,
			stbi_failure_reason() ? stbi_failure_reason() : "unknown reason");
	out->width = w;
	out->height = h;
	out->channels = 3;
	out->data = px; /* stb allocates with malloc: image_fini's free() releases it */
	return 0;
}

int imageio_load(const char *path, struct image *out)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int rc;

	memset(out, 0, sizeof *out);
	if (f == NULL)
		return det_error_set(DET_EIO, "can't open image %s (%s)", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		rc = det_error_set(DET_EIO, "can't read image %s (%s)", path, strerror(errno));
		goto out;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (buf == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s (%ld bytes)", path, len);
		goto out;
	}
	if (len && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		rc = det_error_set(DET_EIO, "can't read image %s (short read)", path);
		goto out;
	}
	rc = imageio_decode(buf, (size_t)len, path, out);
out:
	free(buf);
	fclose(f);
	return rc;
}

/* stb_image_write's sink: the atomic file's stream */
static void write_to_file(void *ctx, void *data, int size)
{
	fwrite(data, 1, (size_t)size, (FILE *)ctx);
}

/* Encodes into "<path>.tmpXXXXXX" and renames: a reader (detbench watch, a
 * viewer) never sees half an image. */
static int write_image(const char *path, const struct image *im, int jpeg_quality)
{
	struct atomic_file af;
	int ok;

	if (atomic_file_open(&af, path) != 0)
		return DET_EIO;
	errno = 0;
	if (jpeg_quality > 0)
		ok = stbi_write_jpg_to_func(write_to_file, af.f, im->width, im->height, im->channels, im->data, jpeg_quality);
	else
		ok = stbi_write_png_to_func(write_to_file, af.f, im->width, im->height, im->channels, im->data,
			im->width * im->channels);
	if (!ok) {
		int rc = det_error_set(DET_EIO, "can't write %s %s (%s)", jpeg_quality > 0 ? "JPEG" : "PNG", path,
			errno ? strerror(errno) : "stb_image_write failed");

		atomic_file_abort(&af);
		return rc;
	}
	return atomic_file_commit(&af);
}

int imageio_write_png(const char *path, const struct image *im)
{
	return write_image(path, im, 0);
}

int imageio_write_jpg(const char *path, const struct image *im, int quality)
{
	return write_image(path, im, quality < 1 ? 1 : quality);
}

/* Bilinear, align_corners=false: source coordinate of destination pixel i is
 * (i + 0.5) * in/out - 0.5, clamped to [0, in-1]. */
static int resize_bilinear(const struct image *src, struct image *dst)
{
	const int C = src->channels, sw = src->width, sh = src->height, dw = dst->width, dh = dst->height;
	const float sx = (float)sw / dw, sy = (float)sh / dh;
	int *x0 = malloc(sizeof(int) * (size_t)dw * 2);
	float *fx = malloc(sizeof(float) * (size_t)dw);

	if (x0 == NULL || fx == NULL) {
		free(x0);
		free(fx);
		return det_error_set(DET_ENOMEM, "out of memory resizing to %dx%d", dw, dh);
	}
	for (int x = 0; x < dw; x++) {
		float f = (x + 0.5f) * sx - 0.5f;
		int i;

		if (f < 0)
			f = 0;
		i = (int)f;
		if (i >= sw - 1) {
			i = sw - 1;
			f = (float)i;
		}
		x0[2 * x] = i * C;
		x0[2 * x + 1] = (i + 1 < sw ? i + 1 : i) * C;
		fx[x] = f - i;
	}
	for (int y = 0; y < dh; y++) {
		float f = (y + 0.5f) * sy - 0.5f, wy;
		int j, j1;

		if (f < 0)
			f = 0;
		j = (int)f;
		if (j >= sh - 1) {
			j = sh - 1;
			f = (float)j;
		}
		j1 = j + 1 < sh ? j + 1 : j;
		wy = f - j;
		const uint8_t *r0 = src->data + (size_t)j * sw * C, *r1 = src->data + (size_t)j1 * sw * C;
		uint8_t *o = dst->data + (size_t)y * dw * C;

		for (int x = 0; x < dw; x++) {
			const float wx = fx[x];
			const int a = x0[2 * x], b = x0[2 * x + 1];

			for (int c = 0; c < C; c++) {
				float top = r0[a + c] + (r0[b + c] - r0[a + c]) * wx;
				float bot = r1[a + c] + (r1[b + c] - r1[a + c]) * wx;
				float v = top + (bot - top) * wy;

				o[x * C + c] = (uint8_t)(v + 0.5f);
			}
		}
	}
	free(x0);
	free(fx);
	return 0;
}

/* Area weights along one axis: destination i covers source [i*s, (i+1)*s);
 * each source pixel j contributes its overlap with that interval, / s. */
struct area_tap { int src; float w; };

static struct area_tap *area_taps(int in, int out, int **start)
{
	const double s = (double)in / out;
	int cap = out * ((int)ceil(s) + 2);
	struct area_tap *t = malloc(sizeof *t * (size_t)cap);
	int n = 0;

	*start = malloc(sizeof(int) * (size_t)(out + 1));
	if (t == NULL || *start == NULL) {
		free(t);
		free(*start);
		*start = NULL;
		return NULL;
	}
	for (int i = 0; i < out; i++) {
		double a = i * s, b = (i + 1) * s;

		(*start)[i] = n;
		for (int j = (int)floor(a); j < (int)ceil(b) && j < in; j++) {
			double w = fmin(b, j + 1.0) - fmax(a, (double)j);

			if (w > 1e-9) {
				DET_ASSERT(n < cap, "area tap overflow");
				t[n].src = j;
				t[n].w = (float)(w / s);
				n++;
			}
		}
	}
	(*start)[out] = n;
	return t;
}

static int resize_area(const struct image *src, struct image *dst)
{
	const int C = src->channels, sw = src->width, sh = src->height, dw = dst->width, dh = dst->height;
	int *xs, *ys;
	struct area_tap *tx = area_taps(sw, dw, &xs), *ty = area_taps(sh, dh, &ys);
	float *tmp = malloc(sizeof(float) * (size_t)sh * dw * C), *acc = malloc(sizeof(float) * (size_t)dw * C);

	if (!tx || !ty || !tmp || !acc) {
		free(tx), free(ty), free(xs), free(ys), free(tmp), free(acc);
		return det_error_set(DET_ENOMEM, "out of memory resizing %dx%d to %dx%d", sw, sh, dw, dh);
	}
	for (int y = 0; y < sh; y++) {
		const uint8_t *r = src->data + (size_t)y * sw * C;
		float *o = tmp + (size_t)y * dw * C;

		for (int x = 0; x < dw; x++)
			for (int c = 0; c < C; c++) {
				float v = 0;

				for (int k = xs[x]; k < xs[x + 1]; k++)
					v += tx[k].w * r[tx[k].src * C + c];
				o[x * C + c] = v;
			}
	}
	for (int y = 0; y < dh; y++) {
		uint8_t *o = dst->data + (size_t)y * dw * C;

		memset(acc, 0, sizeof(float) * (size_t)dw * C);
		for (int k = ys[y]; k < ys[y + 1]; k++) {
			const float *r = tmp + (size_t)ty[k].src * dw * C, w = ty[k].w;

			for (int i = 0; i < dw * C; i++)
				acc[i] += w * r[i];
		}
		for (int i = 0; i < dw * C; i++) {
			float v = acc[i] + 0.5f;

			o[i] = v >= 255.f ? 255 : v <= 0 ? 0 : (uint8_t)v;
		}
	}
	free(tx);
	free(ty);
	free(xs);
	free(ys);
	free(tmp);
	free(acc);
	return 0;
}

int imageio_resize(const struct image *src, struct image *dst, enum imageio_filter filter)
{
	DET_ASSERT(src->channels == dst->channels, "resize: %d vs %d channels", src->channels, dst->channels);
	if (src->width == dst->width && src->height == dst->height) {
		memcpy(dst->data, src->data, (size_t)src->width * src->height * src->channels);
		return 0;
	}
	if (filter == IMAGEIO_AREA && dst->width <= src->width && dst->height <= src->height)
		return resize_area(src, dst);
	return resize_bilinear(src, dst);
}

int imageio_letterbox(const struct image *src, struct image *dst, uint8_t fill, struct letterbox *out)
{
	struct letterbox lb;
	int rc;
	float s = fminf((float)dst->width / src->width, (float)dst->height / src->height);
	struct image inner;
	const int C = dst->channels;

	lb.new_w = (int)lroundf(src->width * s);
	lb.new_h = (int)lroundf(src->height * s);
	if (lb.new_w < 1)
		lb.new_w = 1;
	if (lb.new_h < 1)
		lb.new_h = 1;
	if (lb.new_w > dst->width)
		lb.new_w = dst->width;
	if (lb.new_h > dst->height)
		lb.new_h = dst->height;
	int px = (dst->width - lb.new_w) / 2, py = (dst->height - lb.new_h) / 2;

	lb.pad_x = (float)px;
	lb.pad_y = (float)py;
	memset(dst->data, fill, (size_t)dst->width * dst->height * C);
	if ((rc = image_init(&inner, lb.new_w, lb.new_h, C)) < 0)
		return rc;
	if ((rc = imageio_resize(src, &inner, s < 1 ? IMAGEIO_AREA : IMAGEIO_BILINEAR)) < 0) {
		image_fini(&inner);
		return rc;
	}
	for (int y = 0; y < lb.new_h; y++)
		memcpy(dst->data + ((size_t)(y + py) * dst->width + px) * C,
			inner.data + (size_t)y * lb.new_w * C, (size_t)lb.new_w * C);
	image_fini(&inner);
	/* the content is exactly new_w x new_h: boxes use the exact per-axis scale */
	lb.scale_x = (float)lb.new_w / src->width;
	lb.scale_y = (float)lb.new_h / src->height;
	*out = lb;
	return 0;
}

void letterbox_boxes(const struct letterbox *lb, float *b, size_t n)
{
	for (size_t i = 0; i < 4 * n; i += 2) {
		b[i] = b[i] * lb->scale_x + lb->pad_x;
		b[i + 1] = b[i + 1] * lb->scale_y + lb->pad_y;
	}
}

void letterbox_boxes_inverse(const struct letterbox *lb, float *b, size_t n)
{
	for (size_t i = 0; i < 4 * n; i += 2) {
		b[i] = (b[i] - lb->pad_x) / lb->scale_x;
		b[i + 1] = (b[i + 1] - lb->pad_y) / lb->scale_y;
	}
}
