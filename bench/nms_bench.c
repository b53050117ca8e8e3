/* nms_bench: class-aware greedy NMS on 10,000 boxes in 80 classes
 * (det_nms_run with classes, IoU 0.5) and an IoU-matrix's throughput, beside
 * torchvision.ops.batched_nms and box_iou on the same data in the same run
 * (bench/nms_torch.py through popen, torch.set_num_threads(2), then 1).
 *
 *   nms_bench [--reps N] [--classes C] [--no-torch]
 *
 * --classes C (default 80) spreads the same boxes over C classes: few
 * classes make big buckets, where the per-class OpenMP loop starts to pay.
 *
 * The boxes imitate a detector's candidates: 400 objects in a 1024 x 1024
 * image, 25 jittered boxes each, 70% of them in their object's class and the
 * rest in a random one; scores uniform. The kept indices are compared with
 * torchvision's (count and an order-sensitive checksum). */
#include "core/rng.h"
#include "core/threads.h"
#include "det/box.h"
#include "det/nms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "bench"
#endif

#define NBOX 10000
#define NIOU 1000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

static long checksum(const int *keep, long n)
{
	long long s = 0;

	for (long i = 0; i < n; i++)
		s = (s + (long long)(i + 1) * keep[i]) % 1000000007LL;
	return (long)s;
}

int main(int argc, char **argv)
{
	static float boxes[4 * NBOX], scores[NBOX], iou[NIOU * NIOU];
	static int classes[NBOX], keep[NBOX];
	int reps = 30, torch = 1, ncls = 80;
	struct rng r;
	struct det_nms_opts o;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--classes") == 0 && i + 1 < argc)
			ncls = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-torch") == 0)
			torch = 0;
	}
	if (reps < 1)
		reps = 1;
	if (ncls < 1)
		ncls = 1;
	double *t = malloc((size_t)reps * sizeof(*t));
	rng_init(&r, 2024, 0);
	for (int k = 0; k < NBOX; k++) {
		int obj = k % 400;
		struct rng ro;

		rng_init(&ro, 7, (uint64_t)obj);
		float cx = rng_uniform(&ro) * 1024, cy = rng_uniform(&ro) * 1024;
		float w = 16 + rng_uniform(&ro) * 240, h = 16 + rng_uniform(&ro) * 240;
		int c = (int)rng_below(&ro, ncls);
		float jx = (rng_uniform(&r) - 0.5f) * 0.3f * w, jy = (rng_uniform(&r) - 0.5f) * 0.3f * h;
		float sw = 0.8f + 0.4f * rng_uniform(&r), sh = 0.8f + 0.4f * rng_uniform(&r);

		boxes[4 * k + 0] = cx + jx - w * sw / 2;
		boxes[4 * k + 1] = cy + jy - h * sh / 2;
		boxes[4 * k + 2] = cx + jx + w * sw / 2;
		boxes[4 * k + 3] = cy + jy + h * sh / 2;
		scores[k] = rng_uniform(&r);
		classes[k] = rng_uniform(&r) < 0.7f ? c : (int)rng_below(&r, ncls);
	}
	det_nms_opts_init(&o);
	o.iou_threshold = 0.5f;

	{
		/* the machine is shared: say how busy it was */
		FILE *la = fopen("/proc/loadavg", "r");
		double l1 = -1;

		if (la) {
			if (fscanf(la, "%lf", &l1) != 1)
				l1 = -1;
			fclose(la);
		}
		printf("load average at start: %.2f\n", l1);
	}
	printf("NMS: %d boxes, %d classes, IoU 0.5, median of %d runs\n", NBOX, ncls, reps);
	long nk = 0, sum = 0;
	double ms[3] = { 0, 0, 0 };
	int threads[2] = { 1, 2 };
	for (int ti = 0; ti < 2; ti++) {
		det_threads_set(threads[ti]);
		for (int i = 0; i < reps; i++) {
			double t0 = now();
			nk = det_nms_run(&o, boxes, scores, classes, NBOX, keep, NULL);
			t[i] = now() - t0;
		}
		ms[ti] = 1e3 * median(t, reps);
		sum = checksum(keep, nk);
		printf("  detbench det_nms_run, %d thread%s: %8.3f ms  (kept %ld, checksum %ld)\n",
			threads[ti], threads[ti] > 1 ? "s" : " ", ms[ti], nk, sum);
	}
	printf("IoU matrix %d x %d:\n", NIOU, NIOU);
	double iou_ms = 0, iou_ms_t[2];
	for (int ti = 0; ti < 2; ti++) {
		det_threads_set(threads[ti]);
		for (int i = 0; i < reps; i++) {
			double t0 = now();
			det_box_iou_matrix(DET_IOU_PLAIN, boxes, NIOU, boxes + 4 * NIOU, NIOU, DET_BOX_EPS, iou);
			t[i] = now() - t0;
		}
		iou_ms = iou_ms_t[ti] = 1e3 * median(t, reps);
		printf("  detbench det_box_iou_matrix, %d thread%s: %8.3f ms  (%.1f M IoU/s)\n",
			threads[ti], threads[ti] > 1 ? "s" : " ", iou_ms, NIOU * (double)NIOU / iou_ms / 1e3);
	}

	if (torch) {
		char path[] = "/tmp/nms_bench_XXXXXX", cmd[4200];
		int fd = mkstemp(path);
		FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
		int32_t n = NBOX;

		if (fp == NULL) {
			perror("nms_bench: temp file");
			return 1;
		}
		fwrite(&n, 4, 1, fp);
		fwrite(boxes, 4, 4 * NBOX, fp);
		fwrite(scores, 4, NBOX, fp);
		fwrite(classes, 4, NBOX, fp);
		fclose(fp);
		for (int tt = 2; tt >= 1; tt--) {
			char line[256];
			double tms = -1, tiou = -1;
			long tk = -1, tsum = -1;

			snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/nms_torch.py %s %d %d", BENCH_SRCDIR,
				path, reps, tt);
			FILE *p = popen(cmd, "r");
			while (p && fgets(line, sizeof(line), p)) {
				if (strncmp(line, "nms ", 4) == 0)
					sscanf(line + 4, "%lf %ld %ld", &tms, &tk, &tsum);
				else if (strncmp(line, "iou ", 4) == 0)
					sscanf(line + 4, "%lf", &tiou);
			}
			if (p)
				pclose(p);
			if (tms < 0) {
				printf("torchvision: not available (%s)\n", cmd);
				break;
			}
			printf("  torchvision batched_nms, %d thread%s: %8.3f ms  (kept %ld, checksum %ld)\n",
				tt, tt > 1 ? "s" : " ", tms, tk, tsum);
			printf("    same kept indices in the same order: %s; ratio detbench (%d)/torchvision: %.3f\n",
				tk == nk && tsum == sum ? "yes" : "NO", tt, ms[tt - 1] / tms);
			printf("  torchvision box_iou %d x %d, %d thread%s: %8.3f ms  (%.1f M IoU/s); "
				"ratio detbench (%d)/torchvision %.3f\n", NIOU, NIOU, tt, tt > 1 ? "s" : " ",
				tiou, NIOU * (double)NIOU / tiou / 1e3, tt, iou_ms_t[tt - 1] / tiou);
		}
		unlink(path);
	}
	free(t);
	return 0;
}
