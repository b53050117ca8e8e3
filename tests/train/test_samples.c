/* test_samples: the run directory's samples sidecar (train/samples.h)
 * read back gives the same images, boxes and classes (a big image shrunk
 * with its boxes), a second evaluation replaces the first and removes its
 * PNGs, broken indexes are refused with the file named; and the lr plan
 * record: metrics_plan_set goes through metrics.jsonl to a follower, the
 * latest plan wins, and a checkpoint's dump carries it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "tests/tap.h"
#include "train/metrics.h"
#include "train/samples.h"

static void fill(struct train_sample *s, int w, int h, int seed)
{
	image_init(&s->im, w, h, 3);
	for (int i = 0; i < w * h * 3; i++)
		s->im.data[i] = (uint8_t)((i * 7 + seed * 31) & 0xff);
	s->boxes = calloc(3, sizeof *s->boxes);
	s->boxes[0] = (struct train_sample_box){ 4, 6, 30, 40, 2, 1, 0 };
	s->boxes[1] = (struct train_sample_box){ 5, 7, 31, 38, 2, 0.875f, 1 };
	s->boxes[2] = (struct train_sample_box){ 40, 2, 60, 20, 0, 0.25f, 1 };
	s->nboxes = 3;
	snprintf(s->name, sizeof s->name, "#%d", seed);
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int main(void)
{
	char dir[] = "/tmp/test_samples_XXXXXX", path[256];
	const char *names[] = { "T-shirt", "Trouser", "Bag" };
	ok(mkdtemp(dir) != NULL, "temp dir");

	/* two images: 64x48 as is, 640x400 shrunk to 320x200 (boxes halved) */
	struct train_sample *s = calloc(2, sizeof *s);
	fill(&s[0], 64, 48, 1);
	fill(&s[1], 640, 400, 2);
	ok(train_samples_write(dir, 120, s, 2, names, 3) == 0, "sidecar written: %s", det_error_message());
	snprintf(path, sizeof path, "%s/samples/120-1.png", dir);
	ok(exists(path), "the first image's PNG");

	struct train_sample *r = NULL;
	char **rn = NULL;
	int n = 0, nn = 0;
	int64_t step = 0;
	ok(train_samples_read(dir, &step, &r, &n, &rn, &nn) == 0, "read back: %s", det_error_message());
	ok(step == 120 && n == 2 && nn == 3, "step 120, 2 images, 3 classes (%lld, %d, %d)", (long long)step, n, nn);
	ok(nn == 3 && !strcmp(rn[0], "T-shirt") && !strcmp(rn[2], "Bag"), "class names");
	ok(n == 2 && !strcmp(r[0].name, "#1") && !strcmp(r[1].name, "#2"), "image names");
	ok(n == 2 && r[0].im.width == 64 && r[0].im.height == 48 && r[0].im.channels == 3, "small image kept at 64x48");
	ok(n == 2 && !memcmp(r[0].im.data, s[0].im.data, 64 * 48 * 3), "its pixels exact (PNG is lossless)");
	ok(n == 2 && r[1].im.width == 320 && r[1].im.height == 200, "large image shrunk to 320x200 (%dx%d)",
		n == 2 ? r[1].im.width : 0, n == 2 ? r[1].im.height : 0);
	ok(n == 2 && r[0].nboxes == 3 && r[0].boxes[0].pred == 0 && r[0].boxes[1].pred == 1 && r[0].boxes[1].cls == 2 &&
		fabsf(r[0].boxes[1].score - 0.875f) < 1e-6f && r[0].boxes[0].x1 == 30 && r[0].boxes[0].y1 == 40,
		"GT and detections with class and score");
	ok(n == 2 && r[1].nboxes == 3 && fabsf(r[1].boxes[0].x0 - 2) < 1e-4f && fabsf(r[1].boxes[0].y1 - 20) < 1e-4f,
		"the shrunk image's boxes follow it (4,6,30,40 -> 2,3,15,20)");
	train_samples_free(r, n);
	for (int i = 0; i < nn; i++)
		free(rn[i]);
	free(rn);

	/* the next evaluation replaces it and removes the old PNGs */
	ok(train_samples_write(dir, 240, s, 1, names, 3) == 0, "second evaluation written");
	snprintf(path, sizeof path, "%s/samples/120-1.png", dir);
	ok(!exists(path), "the previous evaluation's PNGs are removed");
	ok(train_samples_read(dir, &step, &r, &n, &rn, &nn) == 0 && step == 240 && n == 1, "the new set is read");
	train_samples_free(r, n);
	for (int i = 0; i < nn; i++)
		free(rn[i]);
	free(rn);
	train_samples_free(s, 2);

	/* broken indexes */
	snprintf(path, sizeof path, "%s/samples.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"step\":3,\"images\":[{\"file\":\"../../etc/passwd\"}]}", f);
	fclose(f);
	ok(train_samples_read(dir, &step, &r, &n, &rn, &nn) == DET_EFORMAT && strstr(det_error_message(), "samples.json"),
		"a file outside the run directory is refused, naming the index: %s", det_error_message());
	f = fopen(path, "w");
	fputs("[1,2", f);
	fclose(f);
	ok(train_samples_read(dir, &step, &r, &n, &rn, &nn) == DET_EFORMAT, "not JSON: refused");
	f = fopen(path, "w");
	fputs("{\"step\":3,\"images\":[{\"file\":\"samples/none.png\"}]}", f);
	fclose(f);
	ok(train_samples_read(dir, &step, &r, &n, &rn, &nn) < 0 && n == 0, "a missing PNG: an error, nothing returned");
	char empty[300];
	snprintf(empty, sizeof empty, "%s/nothing", dir);
	ok(train_samples_read(empty, &step, &r, &n, &rn, &nn) == DET_EIO, "no index yet: DET_EIO (try later)");

	/* the lr plan through metrics.jsonl */
	struct metrics *m = metrics_new(0), *w = metrics_new(0);
	char log[300];
	snprintf(log, sizeof log, "%s/metrics.jsonl", dir);
	ok(metrics_log_open(m, log) == 0, "log open");
	double x[5] = { 0, 25, 50, 75, 100 }, y[5] = { 0.001, 0.01, 0.0075, 0.0025, 0 };
	ok(metrics_plan_set(m, 0, 5, x, y) == 0, "plan set");
	double gx[8], gy[8];
	uint64_t s1 = 0, s2 = 0;
	ok(metrics_plan_copy(m, gx, gy, 8, &s1) == 5 && gx[3] == 75 && gy[1] == 0.01, "the store has it");
	struct metrics_follower *fo = metrics_follow_new(log, w);
	ok(metrics_follow_poll(fo) == 1, "one plan line followed");
	ok(metrics_plan_copy(w, gx, gy, 8, NULL) == 5 && gx[4] == 100 && gy[2] == 0.0075 && gy[4] == 0,
		"the follower's store has the same plan");
	y[2] = 0.005;
	ok(metrics_plan_set(m, 60, 3, x, y) == 0 && metrics_plan_copy(m, NULL, NULL, 0, &s2) == 3 && s2 != s1,
		"a new plan replaces it (serial moved)");
	ok(metrics_follow_poll(fo) == 1 && metrics_plan_copy(w, gx, gy, 8, NULL) == 3 && gy[2] == 0.005,
		"the follower takes the latest plan");
	char dump[300];
	snprintf(dump, sizeof dump, "%s/dump.jsonl", dir);
	f = fopen(dump, "w");
	ok(metrics_write_jsonl(m, f) == 0, "dump");
	fclose(f);
	struct metrics *d = metrics_new(0);
	struct metrics_follower *fd = metrics_follow_new(dump, d);
	metrics_follow_poll(fd);
	ok(metrics_plan_copy(d, gx, gy, 8, NULL) == 3 && gx[2] == 50, "a dump (checkpoints) carries the plan");
	metrics_clear(d);
	ok(metrics_plan_copy(d, NULL, NULL, 0, NULL) == 0, "clear drops it");
	FILE *bad = fopen(log, "a");
	fputs("{\"type\":\"plan\",\"steps\":[1,2],\"lr\":[0.1]}\n", bad);
	fclose(bad);
	ok(metrics_follow_poll(fo) == DET_EFORMAT, "a plan whose arrays differ is a format error");
	metrics_follow_free(fo);
	metrics_follow_free(fd);
	metrics_free(m);
	metrics_free(w);
	metrics_free(d);

	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
