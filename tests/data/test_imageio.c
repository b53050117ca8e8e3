/* test_imageio: decoding JPEG/PNG/BMP (grey, 16-bit, alpha), naming broken
 * files, resize against torch's numbers, letterbox box mapping, PNG output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tap.h"

#include "core/error.h"
#include "data/image.h"
#include "data/imageio.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static const char *top(void)
{
	const char *t = getenv("top_srcdir");

	return t && *t ? t : TOP_SRCDIR;
}

static int load(const char *name, struct image *im)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/tests/data/images/%s", top(), name);
	return imageio_load(path, im);
}

/* max |decoded - (4x, 5y, 2(x+y) mod 256)| */
static int pattern_err(const struct image *im, int grey)
{
	int worst = 0;

	for (int y = 0; y < im->height; y++)
		for (int x = 0; x < im->width; x++)
			for (int c = 0; c < 3; c++) {
				int want = grey ? 4 * x : c == 0 ? 4 * x : c == 1 ? 5 * y : (2 * (x + y)) % 256;
				int d = abs(im->data[(y * im->width + x) * 3 + c] - want);

				worst = d > worst ? d : worst;
			}
	return worst;
}

static void test_decode(void)
{
	struct image im;
	int rc;

	rc = load("rgb.png", &im);
	ok(rc == 0 && im.width == 64 && im.height == 48 && im.channels == 3 && pattern_err(&im, 0) == 0, "PNG decodes exactly");
	image_fini(&im);
	rc = load("rgb.bmp", &im);
	ok(rc == 0 && pattern_err(&im, 0) == 0, "BMP decodes exactly");
	image_fini(&im);
	rc = load("rgba.png", &im);
	ok(rc == 0 && im.channels == 3 && pattern_err(&im, 0) == 0, "RGBA PNG: alpha dropped");
	image_fini(&im);
	rc = load("rgb.jpg", &im);
	ok(rc == 0 && im.width == 64 && pattern_err(&im, 0) <= 24, "JPEG decodes (max error %d at quality 95)", rc ? -1 : pattern_err(&im, 0));
	image_fini(&im);
	rc = load("grey.png", &im);
	ok(rc == 0 && im.channels == 3 && pattern_err(&im, 1) == 0, "grey PNG expands to RGB");
	image_fini(&im);
	rc = load("grey.jpg", &im);
	ok(rc == 0 && im.channels == 3 && pattern_err(&im, 1) <= 8, "grey JPEG expands to RGB");
	image_fini(&im);
	rc = load("grey16.png", &im);
	{
		int worst = 0;

		for (int y = 0; rc == 0 && y < im.height; y++)
			for (int x = 0; x < im.width; x++) {
				int want = (1000 * x + 10 * y) >> 8, d = abs(im.data[(y * im.width + x) * 3] - want);

				worst = d > worst ? d : worst;
			}
		ok(rc == 0 && worst <= 1, "16-bit PNG reduces to 8 bits (max error %d)", worst);
	}
	image_fini(&im);
}

static void test_broken(void)
{
	static const struct { const char *file, *why; } cases[] = {
		{ "truncated.jpg", "truncated JPEG" },
		{ "truncated.png", "truncated PNG" },
		{ "truncated.bmp", "truncated BMP" },
		{ "corrupt.jpg", "corrupt" },
		{ "notanimage.png", "corrupt or unsupported" },
		{ "empty.png", "empty file" },
	};
	struct image im;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = load(cases[i].file, &im);
		const char *m = det_error_message();

		ok(rc == DET_EFORMAT && strstr(m, cases[i].file) && strstr(m, cases[i].why) && im.data == NULL,
			"%s refused, named: %s", cases[i].file, m);
	}
	ok(load("missing.png", &im) == DET_EIO && strstr(det_error_message(), "missing.png")
		&& strstr(det_error_message(), "No such file"), "missing file: %s", det_error_message());
}

static uint8_t *read_bin(const char *name, size_t n)
{
	char path[4096];
	uint8_t *p = malloc(n);
	FILE *f;

	snprintf(path, sizeof path, "%s/tests/golden/imageio/%s", top(), name);
	f = fopen(path, "rb");
	if (f == NULL || fread(p, 1, n, f) != n) {
		free(p);
		p = NULL;
	}
	if (f)
		fclose(f);
	return p;
}

static void test_resize(void)
{
	static const struct { const char *file; int w, h; enum imageio_filter f; } cases[] = {
		{ "bilinear_7x5.bin", 7, 5, IMAGEIO_BILINEAR },
		{ "bilinear_40x31.bin", 40, 31, IMAGEIO_BILINEAR },
		{ "bilinear_26x11.bin", 26, 11, IMAGEIO_BILINEAR },
		{ "area_13x11.bin", 13, 11, IMAGEIO_AREA },
	};
	struct image src = { 26, 22, 3, read_bin("in.bin", 26 * 22 * 3) };

	ok(src.data != NULL, "golden input read");
	if (src.data == NULL)
		return;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t *want = read_bin(cases[i].file, (size_t)cases[i].w * cases[i].h * 3);
		struct image dst;
		int worst = 0;
		double sum = 0;

		image_init(&dst, cases[i].w, cases[i].h, 3);
		imageio_resize(&src, &dst, cases[i].f);
		for (int k = 0; want && k < cases[i].w * cases[i].h * 3; k++) {
			int d = abs(dst.data[k] - want[k]);

			worst = d > worst ? d : worst;
			sum += d;
		}
		ok(want && worst <= 1 && sum / (cases[i].w * cases[i].h * 3) < 0.05,
			"%s matches torch (max diff %d, mean %.3f)", cases[i].file, worst, sum / (cases[i].w * cases[i].h * 3));
		free(want);
		image_fini(&dst);
	}
	/* area with a fractional factor keeps the mean (every source pixel weighs 1/(sx sy)) */
	{
		struct image dst;
		double ms = 0, md = 0;

		image_init(&dst, 10, 9, 3);
		imageio_resize(&src, &dst, IMAGEIO_AREA);
		for (int k = 0; k < 26 * 22 * 3; k++)
			ms += src.data[k];
		for (int k = 0; k < 10 * 9 * 3; k++)
			md += dst.data[k];
		ms /= 26 * 22 * 3, md /= 10 * 9 * 3;
		ok(fabs(ms - md) < 0.6, "area 26x22 -> 10x9 keeps the mean (%.2f vs %.2f)", ms, md);
		image_fini(&dst);
	}
	free(src.data);
}

static void test_letterbox(void)
{
	struct image src, dst, back;
	float b[4] = { 10, 5, 30, 25 };
	struct letterbox lb;

	image_init(&src, 64, 32, 3);
	memset(src.data, 200, 64 * 32 * 3);
	image_init(&dst, 32, 32, 3);
	ok(imageio_letterbox(&src, &dst, 114, &lb) == 0, "letterbox");
	ok(lb.new_w == 32 && lb.new_h == 16 && lb.pad_x == 0 && lb.pad_y == 8 && tap_close(lb.scale_x, 0.5, 0, 1e-6),
		"64x32 into 32x32: 32x16 content, 8 px pad top and bottom");
	ok(dst.data[0] == 114 && dst.data[(7 * 32) * 3] == 114 && dst.data[(8 * 32) * 3] == 200 && dst.data[(24 * 32) * 3] == 114,
		"pad rows are 114, content rows are the image");
	letterbox_boxes(&lb, b, 1);
	ok(tap_close(b[0], 5, 0, 1e-5) && tap_close(b[1], 10.5, 0, 1e-5) && tap_close(b[2], 15, 0, 1e-5) && tap_close(b[3], 20.5, 0, 1e-5),
		"box (10,5,30,25) maps to (5,10.5,15,20.5)");
	letterbox_boxes_inverse(&lb, b, 1);
	ok(tap_close(b[0], 10, 0, 1e-4) && tap_close(b[3], 25, 0, 1e-4), "the inverse maps it back");

	/* PNG round trip */
	{
		char path[] = "/tmp/test_imageio_XXXXXX.png";
		int fd = mkstemps(path, 4);

		if (fd >= 0)
			close(fd);
		for (int k = 0; k < 32 * 32 * 3; k++)
			dst.data[k] = (uint8_t)(k * 7);
		ok(imageio_write_png(path, &dst) == 0 && imageio_load(path, &back) == 0
			&& back.width == 32 && memcmp(back.data, dst.data, 32 * 32 * 3) == 0, "PNG written and read back identically");
		image_fini(&back);
		remove(path);
		ok(imageio_write_png("/nonexistent-dir/x.png", &dst) == DET_EIO && strstr(det_error_message(), "/nonexistent-dir/x.png"),
			"write failure names the file: %s", det_error_message());
	}
	image_fini(&src);
	image_fini(&dst);
}

int main(void)
{
	test_decode();
	test_broken();
	test_resize();
	test_letterbox();
	return tap_done();
}
