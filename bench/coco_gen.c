/* coco_gen.c: the benchmark data generator (see coco_gen.h). */
#include "coco_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"

#define W 640
#define H 480

/* COCO's 80 category ids (1..90 with gaps) */
static const int cat_ids[80] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32,
	33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
	60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
};

struct box {
	double x, y, w, h;
	int cat;
};

/* A box of log-uniform size inside the image; class drawn with a skew. */
static struct box random_box(struct rng *r)
{
	struct box b;
	double side = exp(log(4.0) + rng_uniform(r) * (log(400.0) - log(4.0)));
	double aspect = exp((rng_uniform(r) - 0.5) * 1.6);

	b.w = fmin(side * aspect, W - 1);
	b.h = fmin(side / aspect, H - 1);
	b.x = rng_uniform(r) * (W - b.w);
	b.y = rng_uniform(r) * (H - b.h);
	b.cat = (int)(80 * pow(rng_uniform(r), 1.7));
	return b;
}

static size_t boxes_for_image(const struct coco_gen *g, size_t i)
{
	/* an even share, +-50% by image, deterministic */
	size_t base = g->boxes / g->images, extra = i < g->boxes % g->images;
	struct rng r;

	rng_init(&r, g->seed, 1000003u + i);
	if (base >= 2 && i % 2 == 0) {
		size_t d = rng_below(&r, (uint32_t)(base / 2 + 1));

		return base + extra + d;
	}
	if (base >= 2) {
		struct rng r2;

		rng_init(&r2, g->seed, 1000003u + i - 1);
		return base + extra - rng_below(&r2, (uint32_t)(base / 2 + 1));
	}
	return base + extra;
}

int coco_gen_write(const struct coco_gen *g, const char *gt_path, const char *res_path)
{
	FILE *f = fopen(gt_path, "w"), *rf = NULL;
	struct rng r;
	size_t ann = 0;
	int first = 1;

	if (f == NULL)
		return -1;
	if (g->dets_per_image && (rf = fopen(res_path, "w")) == NULL) {
		fclose(f);
		return -1;
	}
	fprintf(f, "{\"info\": {\"description\": \"detbench synthetic COCO\", \"seed\": %llu},\n\"images\": [",
		(unsigned long long)g->seed);
	for (size_t i = 0; i < g->images; i++)
		fprintf(f, "%s\n{\"id\": %zu, \"file_name\": \"%012zu.jpg\", \"width\": %d, \"height\": %d}",
			i ? "," : "", 3 * i + 1, 3 * i + 1, W, H);
	fprintf(f, "],\n\"annotations\": [");
	if (rf)
		fputc('[', rf);
	for (size_t i = 0; i < g->images; i++) {
		size_t n = boxes_for_image(g, i), nd = 0;
		struct box gtb[512];

		rng_init(&r, g->seed, i);
		if (n > 512)
			n = 512;
		for (size_t k = 0; k < n; k++) {
			struct box b = random_box(&r);
			int crowd = rng_uniform(&r) < 0.01f;
			double area = b.w * b.h * (0.45 + 0.5 * rng_uniform(&r));

			gtb[k] = b;
			fprintf(f, "%s\n{\"id\": %zu, \"image_id\": %zu, \"category_id\": %d, "
				"\"bbox\": [%.2f, %.2f, %.2f, %.2f], \"area\": %.2f, \"iscrowd\": %d",
				ann ? "," : "", ann + 1, 3 * i + 1, cat_ids[b.cat], b.x, b.y, b.w, b.h, area, crowd);
			if (g->polygons) {
				int pts = 8 + (int)rng_below(&r, 9);
				double cx = b.x + b.w / 2, cy = b.y + b.h / 2;

				fputs(", \"segmentation\": [[", f);
				for (int p = 0; p < pts; p++) {
					double a = 2 * M_PI * p / pts, rr = 0.7 + 0.3 * rng_uniform(&r);

					fprintf(f, "%s%.2f, %.2f", p ? ", " : "", cx + rr * b.w / 2 * cos(a), cy + rr * b.h / 2 * sin(a));
				}
				fputs("]]", f);
			}
			fputc('}', f);
			ann++;
		}
		if (rf == NULL)
			continue;
		/* detections: most GT found with jitter, some with a wrong class, rest clutter */
		for (size_t k = 0; k < n && nd < g->dets_per_image; k++) {
			struct box b = gtb[k];
			double j = 0.15 * rng_uniform(&r);
			double score = 0.3 + 0.7 * rng_uniform(&r);

			if (rng_uniform(&r) < 0.2f)
				continue;
			b.x += (rng_uniform(&r) - 0.5) * j * b.w;
			b.y += (rng_uniform(&r) - 0.5) * j * b.h;
			b.w *= 1 + (rng_uniform(&r) - 0.5) * j;
			b.h *= 1 + (rng_uniform(&r) - 0.5) * j;
			if (rng_uniform(&r) < 0.1f)
				b.cat = (b.cat + 1 + (int)rng_below(&r, 79)) % 80;
			fprintf(rf, "%s\n{\"image_id\": %zu, \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], "
				"\"score\": %.5f}", first ? "" : ",", 3 * i + 1, cat_ids[b.cat], b.x, b.y, b.w, b.h, score);
			first = 0;
			nd++;
		}
		for (; nd < g->dets_per_image; nd++) {
			struct box b = random_box(&r);

			fprintf(rf, "%s\n{\"image_id\": %zu, \"category_id\": %d, \"bbox\": [%.2f, %.2f, %.2f, %.2f], "
				"\"score\": %.5f}", first ? "" : ",", 3 * i + 1, cat_ids[b.cat], b.x, b.y, b.w, b.h,
				0.3 * rng_uniform(&r));
			first = 0;
		}
	}
	fprintf(f, "],\n\"categories\": [");
	for (int c = 0; c < 80; c++)
		fprintf(f, "%s\n{\"id\": %d, \"name\": \"class%02d\", \"supercategory\": \"thing\"}", c ? "," : "",
			cat_ids[c], cat_ids[c]);
	fprintf(f, "]}\n");
	if (rf) {
		fprintf(rf, "]\n");
		if (fclose(rf) != 0) {
			fclose(f);
			return -1;
		}
	}
	return fclose(f) == 0 ? 0 : -1;
}
