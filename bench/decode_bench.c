/* decode_bench: JPEG decode rate (stb_image) on 640x480 images written with
 * stb_image_write into /tmp, beside PNG decoding of the same images and a
 * bilinear resize to 128x128, measured in the same run.
 * Usage: bench/decode_bench [decodes] [repeats] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "data/image.h"
#include "data/imageio.h"

#define NFILES 8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n);
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200, reps = argc > 2 ? atoi(argv[2]) : 5;
	char dir[] = "/tmp/detbench-decode-XXXXXX", path[2][NFILES][256];
	uint8_t *buf[2][NFILES];
	size_t len[2][NFILES], bytes[2] = { 0, 0 };
	struct fashion_config cfg;
	struct dataset *ds;
	double rate[3][16];

	if (reps > 16)
		reps = 16;
	if (mkdtemp(dir) == NULL) {
		perror("decode_bench: mkdtemp");
		return 1;
	}
	/* realistic content: Fashion scenes rendered at 480, stretched to 640x480 */
	fashion_config_default(&cfg);
	cfg.images = NFILES;
	cfg.size = 480;
	if (fashion_dataset_new(&cfg, &ds) < 0) {
		fprintf(stderr, "decode_bench: %s\n", det_error_message());
		return 1;
	}
	for (int i = 0; i < NFILES; i++) {
		struct image sc, im;

		ds->render(ds, (size_t)i, &sc);
		image_init(&im, 640, 480, 3);
		imageio_resize(&sc, &im, IMAGEIO_BILINEAR);
		snprintf(path[0][i], sizeof path[0][i], "%s/%d.jpg", dir, i);
		snprintf(path[1][i], sizeof path[1][i], "%s/%d.png", dir, i);
		if (imageio_write_jpg(path[0][i], &im, 90) < 0 || imageio_write_png(path[1][i], &im) < 0) {
			fprintf(stderr, "decode_bench: %s\n", det_error_message());
			return 1;
		}
		for (int f = 0; f < 2; f++) {
			buf[f][i] = slurp(path[f][i], &len[f][i]);
			bytes[f] += len[f][i];
		}
		image_fini(&sc);
		image_fini(&im);
	}
	for (int r = 0; r < reps; r++) {
		for (int f = 0; f < 2; f++) {
			double t0 = now_s();

			for (int k = 0; k < n; k++) {
				struct image im;

				if (imageio_decode(buf[f][k % NFILES], len[f][k % NFILES], path[f][k % NFILES], &im) < 0) {
					fprintf(stderr, "decode_bench: %s\n", det_error_message());
					return 1;
				}
				image_fini(&im);
			}
			rate[f][r] = n / (now_s() - t0);
		}
		{
			struct image src, dst;
			double t0;

			imageio_decode(buf[0][0], len[0][0], path[0][0], &src);
			image_init(&dst, 128, 128, 3);
			t0 = now_s();
			for (int k = 0; k < n; k++)
				imageio_resize(&src, &dst, IMAGEIO_BILINEAR);
			rate[2][r] = n / (now_s() - t0);
			image_fini(&src);
			image_fini(&dst);
		}
	}
	for (int f = 0; f < 3; f++)
		qsort(rate[f], (size_t)reps, sizeof(double), cmp);
	double jpg = rate[0][reps / 2], png = rate[1][reps / 2], rs = rate[2][reps / 2];

	printf("decode_bench: 640x480 RGB, %d decodes per run, median of %d, one thread\n", n, reps);
	printf("  JPEG q90 decode (stb_image)   %7.0f images/s  %6.1f Mpixel/s  (%.0f KB/file)\n", jpg, jpg * 0.3072,
		bytes[0] / 1024.0 / NFILES);
	printf("  PNG decode, same images (ref) %7.0f images/s  %6.1f Mpixel/s  (%.0f KB/file; JPEG is %.2fx PNG)\n", png,
		png * 0.3072, bytes[1] / 1024.0 / NFILES, jpg / png);
	printf("  bilinear 640x480 -> 128x128   %7.0f images/s  (resize is %.1fx faster than a JPEG decode)\n", rs, rs / jpg);
	for (int i = 0; i < NFILES; i++)
		for (int f = 0; f < 2; f++) {
			free(buf[f][i]);
			unlink(path[f][i]);
		}
	rmdir(dir);
	dataset_free(ds);
	return 0;
}
