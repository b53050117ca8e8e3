/* coco_gen.h: deterministic (seeded) COCO-style files for the benchmarks:
 * a ground-truth file shaped like COCO (80 categories with COCO's
 * non-contiguous ids, varied box sizes across small/medium/large, polygon
 * segmentations, some crowds) and a results file with detections per image
 * (jittered true boxes, confusions, and low-scoring clutter). */
#ifndef DET_BENCH_COCO_GEN_H
#define DET_BENCH_COCO_GEN_H

#include <stddef.h>
#include <stdint.h>

struct coco_gen {
	size_t images;        /* number of images */
	size_t boxes;         /* total GT boxes (spread unevenly over images) */
	size_t dets_per_image;/* 0: no results file */
	int polygons;         /* write a segmentation polygon per annotation */
	uint64_t seed;
};

/* Writes gt_path (and res_path when dets_per_image > 0); 0 or -1 with errno. */
int coco_gen_write(const struct coco_gen *g, const char *gt_path, const char *res_path);

#endif
