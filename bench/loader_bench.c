/* loader_bench: images/s of the threaded loader on 128x128 Fashion scenes
 * with the full augmentation list, on 1 and 2 workers, beside the same
 * pipeline run inline on one thread (the reference, same process).
 * Usage: bench/loader_bench [images_per_run] [repeats] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/fashion.h"
#include "data/image.h"
#include "data/imageio.h"
#include "data/loader.h"
#include "data/sampler.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds used by the whole process (all threads). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The loader's per-sample work, inline: render, augment, letterbox, normalise. */
static double inline_rate(const struct dataset *ds, const struct aug_list *augs, int n, double *cpu_ms)
{
	struct image out;
	float *buf = malloc(sizeof(float) * 3 * 192 * 192);
	double t0 = now_s(), c0 = cpu_s(), sink = 0;

	image_init(&out, 128, 128, 3);
	for (int i = 0; i < n; i++) {
		struct aug_sample s;

		aug_sample_init(&s);
		aug_sample_load(ds, (size_t)i % ds->nimages, &s);
		aug_list_apply(augs, ds, &s, 1, 0, (uint64_t)i);
		struct letterbox lb;

		imageio_letterbox(&s.im, &out, 114, &lb);
		for (int p = 0; p < 128 * 128 * 3; p++)
			buf[p] = out.data[p] * (1.f / 255) - 0.45f;
		sink += buf[i % (128 * 128)];
		aug_sample_fini(&s);
	}
	image_fini(&out);
	free(buf);
	if (sink == 12345.678)
		puts("");
	*cpu_ms = (cpu_s() - c0) / n * 1e3;
	return n / (now_s() - t0);
}

static double loader_rate(const struct dataset *ds, const struct sampler *smp, const struct aug_list *augs,
	int workers, int n, double *wait, double *cpu_ms)
{
	struct loader *l = loader_new(ds, smp, augs, 16, 128, workers, 1);
	const struct loader_batch *b;
	struct loader_stats st;
	double t0;
	int got = 0;

	if (l == NULL) {
		fprintf(stderr, "loader_bench: %s\n", det_error_message());
		exit(1);
	}
	loader_next(l, &b); /* warm: threads started, first batch made */
	t0 = now_s();
	double c0 = cpu_s();

	while (got < n) {
		loader_next(l, &b);
		got += b->n;
	}
	double rate = got / (now_s() - t0);

	*cpu_ms = (cpu_s() - c0) / got * 1e3; /* includes the batches made ahead */

	loader_stats(l, &st);
	*wait = st.wait_fraction;
	loader_free(l);
	return rate;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000, reps = argc > 2 ? atoi(argv[2]) : 5;
	/* the usual order: multi-image first, colour on the original pixels, then
	 * geometry, SSD's expand + crop last (expand's canvas is up to 4x the
	 * side: anything after it would work on 16x the pixels) */
	static const char *names[] = { "mosaic", "mixup", "brightness", "contrast", "saturation", "hue", "gamma",
		"greyscale", "noise", "blur", "affine", "rot90", "hflip", "cutout", "expand", "crop", "multiscale" };
	struct fashion_config cfg;
	struct dataset *ds;
	struct aug_list augs = { 0 };
	struct sampler_config sc;
	struct sampler *smp;
	double ref[32], w1[32], w2[32], wait1 = 0, wait2 = 0, cr[32], c1[32], c2[32];

	if (reps > 32)
		reps = 32;
	fashion_config_default(&cfg);
	cfg.images = 4000;
	if (fashion_dataset_new(&cfg, &ds) < 0) {
		fprintf(stderr, "loader_bench: %s\n", det_error_message());
		return 1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		aug_op_init(&augs.ops[augs.n++], (enum aug_kind)aug_kind_find(names[i]));
	augs.ops[augs.n - 1].p = 0; /* multiscale off: every batch 128x128, as the inline reference */
	sampler_config_default(&sc, SAMPLER_SHUFFLE);
	smp = sampler_new(ds, &sc, NULL);
	printf("loader_bench: 128x128 Fashion scenes, batch 16, %d augmentations (full list), %d images per run, median of %d\n",
		augs.n - 1, n, reps);
	for (int r = 0; r < reps; r++) {
		ref[r] = inline_rate(ds, &augs, n, &cr[r]);
		w1[r] = loader_rate(ds, smp, &augs, 1, n, &wait1, &c1[r]);
		w2[r] = loader_rate(ds, smp, &augs, 2, n, &wait2, &c2[r]);
	}
	double mr = median(ref, reps), m1 = median(w1, reps), m2 = median(w2, reps);
	double mcr = median(cr, reps), mc1 = median(c1, reps), mc2 = median(c2, reps);

	printf("  inline, 1 thread (reference)  %8.0f images/s  %.3f CPU ms/image\n", mr, mcr);
	printf("  loader, 1 worker              %8.0f images/s  %.3f CPU ms/image  (%.2fx the reference; consumer waiting %.0f%%)\n",
		m1, mc1, m1 / mr, 100 * wait1);
	printf("  loader, 2 workers             %8.0f images/s  %.3f CPU ms/image  (%.2fx the reference, %.2fx 1 worker)\n",
		m2, mc2, m2 / mr, m2 / m1);
	sampler_free(smp);
	dataset_free(ds);
	return 0;
}
