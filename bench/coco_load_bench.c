/* coco_load_bench.c: reading a COCO-train-sized annotation file (118,000
 * images, 860,000 boxes with polygon segmentations, generated from a seed)
 * into a dataset: wall time (median of 3) and peak RSS, against the targets
 * (<= 10 s, <= 2 GB), and, for the record, what parsing the same file as one
 * cJSON tree costs (the approach the streaming reader replaced).
 *
 *   make bench && ./bench/coco_load_bench [IMAGES] [BOXES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "coco_gen.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/coco.h"
#include "data/coco_json.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Runs fn in a child so its peak RSS is its own; returns seconds, sets *rss. */
static double in_child(const char *path, int whole_tree, long *rss)
{
	int fd[2];
	pid_t pid;
	double out[2] = { -1, 0 };

	if (pipe(fd) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		double t0 = now(), res[2];

		close(fd[0]);
		if (whole_tree) {
			char *buf;
			size_t len;
			cJSON *root;

			if (json_file_read(path, &buf, &len) < 0)
				_exit(1);
			root = cJSON_ParseWithLength(buf, len);
			if (root == NULL)
				_exit(1);
		} else {
			struct coco_read_options opt = { .quiet = 1 };
			struct dataset *ds;

			if (coco_read_opts(path, &opt, &ds) < 0) {
				fprintf(stderr, "coco_load_bench: %s\n", det_error_message());
				_exit(1);
			}
		}
		res[0] = now() - t0;
		res[1] = (double)peak_rss_kb();
		if (write(fd[1], res, sizeof res) != sizeof res)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], out, sizeof out) != sizeof out)
		out[0] = -1;
	close(fd[0]);
	waitpid(pid, NULL, 0);
	*rss = (long)out[1];
	return out[0];
}

int main(int argc, char **argv)
{
	struct coco_gen g = { .images = 118000, .boxes = 860000, .polygons = 1, .seed = 2017 };
	char dir[] = "/tmp/detbench-cocoload-XXXXXX", path[256];
	double t[3], tt;
	long rss[3], trss;
	struct stat st;
	int threads = det_threads_default();

	if (argc > 1)
		g.images = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		g.boxes = strtoul(argv[2], NULL, 10);
	det_threads_set(threads);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/instances.json", dir);
	if (coco_gen_write(&g, path, NULL) != 0) {
		perror("writing the benchmark file");
		return 1;
	}
	stat(path, &st);
	printf("file: %zu images, %zu boxes with polygons, %.0f MB; %d threads\n", g.images, g.boxes,
		(double)st.st_size / 1e6, threads);
	for (int i = 0; i < 3; i++)
		t[i] = in_child(path, 0, &rss[i]);
	qsort(t, 3, sizeof *t, cmp_d);
	printf("%-40s %8.2f s  peak RSS %6.0f MB   (targets: <= 10 s, <= 2048 MB)\n",
		"coco_read (streaming, median of 3)", t[1], (double)rss[0] / 1024);
	tt = in_child(path, 1, &trss);
	if (tt < 0)
		printf("%-40s   failed (out of memory?)\n", "reference: one cJSON tree of the file");
	else
		printf("%-40s %8.2f s  peak RSS %6.0f MB   (parse only, no dataset)\n",
			"reference: one cJSON tree of the file", tt, (double)trss / 1024);
	unlink(path);
	rmdir(dir);
	return 0;
}
