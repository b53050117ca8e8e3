/* eval_bench.c: COCO evaluation speed on a COCO-val-sized case built from
 * a seed: 5,000 images, ~250,000 GT boxes, 100 detections per image
 * (500,000). Times loading both JSON files and evaluating (evaluate +
 * accumulate + summarize, plus TIDE and the outcomes), median of 3, and
 * prints them beside pycocotools' figures: measured in the same run when
 * /usr/bin/python3 can import pycocotools, else the recorded reference
 * (81 s evaluate+accumulate, 6 s load on this machine).
 *
 *   make bench && ./bench/eval_bench [IMAGES] [BOXES] [DETS_PER_IMAGE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coco_gen.h"
#include "core/error.h"
#include "core/threads.h"
#include "eval/coco_eval.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median3(double *v)
{
	qsort(v, 3, sizeof *v, cmp_d);
	return v[1];
}

/* pycocotools in the same run, if it is there: prints "load eval" seconds. */
static int pycoco(const char *gt, const char *res, double *load, double *eval)
{
	char cmd[8192];
	FILE *p;
	int n;

	if (system("/usr/bin/python3 -c 'import pycocotools' >/dev/null 2>&1") != 0)
		return -1;
	snprintf(cmd, sizeof cmd,
		"/usr/bin/python3 - <<'EOF'\n"
		"import time, io, contextlib\n"
		"from pycocotools.coco import COCO\nfrom pycocotools.cocoeval import COCOeval\n"
		"t = time.time()\n"
		"with contextlib.redirect_stdout(io.StringIO()):\n"
		"    g = COCO('%s'); d = g.loadRes('%s')\n"
		"t1 = time.time()\n"
		"with contextlib.redirect_stdout(io.StringIO()):\n"
		"    e = COCOeval(g, d, 'bbox'); e.evaluate(); e.accumulate()\n"
		"print(t1 - t, time.time() - t1)\nEOF\n", gt, res);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	n = fscanf(p, "%lf %lf", load, eval);
	pclose(p);
	return n == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct coco_gen g = { .images = 5000, .boxes = 250000, .dets_per_image = 100, .seed = 2024 };
	char dir[] = "/tmp/detbench-evalbench-XXXXXX", gt[256], res[256];
	double tload[3], teval[3], tcoco[3], stats0 = 0, pl, pe;
	int threads = det_threads_default();

	if (argc > 1)
		g.images = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		g.boxes = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		g.dets_per_image = strtoul(argv[3], NULL, 10);
	det_threads_set(threads);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(gt, sizeof gt, "%s/gt.json", dir);
	snprintf(res, sizeof res, "%s/results.json", dir);
	if (coco_gen_write(&g, gt, res) != 0) {
		perror("writing the benchmark files");
		return 1;
	}
	for (int rep = 0; rep < 3; rep++) {
		struct eval_gt *G = NULL;
		struct eval_dets *D = NULL;
		struct eval_result *R = NULL;
		double t0 = now(), t1, t2, c0 = cpu(), c1, c2;

		if (eval_gt_read(gt, &G, NULL) < 0 || eval_dets_read(res, G, &D) < 0) {
			fprintf(stderr, "eval_bench: %s\n", det_error_message());
			return 1;
		}
		t1 = now();
		c1 = cpu();
		if (eval_coco_run(G, D, &R) < 0) {
			fprintf(stderr, "eval_bench: %s\n", det_error_message());
			return 1;
		}
		t2 = now();
		c2 = cpu();
		printf("run %d: load %.3f s (cpu %.3f s), evaluate %.3f s (cpu %.3f s; COCO part %.3f s, TIDE %.3f s)\n",
			rep + 1, t1 - t0, c1 - c0, t2 - t1, c2 - c1, R->seconds_coco, R->seconds_tide);
		tload[rep] = t1 - t0;
		teval[rep] = t2 - t1;
		tcoco[rep] = R->seconds_coco;
		stats0 = R->stats[0];
		if (rep == 0)
			printf("case: %zu images, %zu GT boxes, %zu detections, %d classes; AP = %.4f; %d threads\n",
				G->nimages, G->n, D->n, G->ncats, stats0, threads);
		eval_result_free(R);
		eval_dets_free(D);
		eval_gt_free(G);
	}
	printf("%-40s %10s %14s %8s\n", "", "detbench", "pycocotools", "speedup");
	if (pycoco(gt, res, &pl, &pe) != 0) {
		pl = 6.0;
		pe = 81.0;
		printf("(pycocotools is not importable by /usr/bin/python3: its figures are the ones recorded\n"
		       " for this machine, 6 s load and 81 s evaluate+accumulate)\n");
	} else {
		printf("(pycocotools measured in this run)\n");
	}
	printf("%-40s %9.3fs %13.2fs %7.1fx\n", "load GT + results", median3(tload), pl, pl / median3(tload));
	printf("%-40s %9.3fs %13.2fs %7.1fx\n", "evaluate + accumulate + summarize", median3(tcoco), pe,
		pe / median3(tcoco));
	printf("%-40s %9.3fs %14s\n", "the same + TIDE and all outcomes", median3(teval), "-");
	printf("(medians of 3)\n");
	if (argc > 1)
		printf("(pycocotools' figures are for the default case: 5000 images, 250000 boxes, 100 per image)\n");
	printf("targets: load <= 2 s, evaluate + accumulate <= 1.6 s\n");
	unlink(gt);
	unlink(res);
	rmdir(dir);
	return 0;
}
