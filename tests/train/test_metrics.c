/* test_metrics: the metrics store — ring buffers, evaluations, events,
 * progress; the JSON-lines log read back into a second store gives the same
 * content; a follower picks up appended lines and waits for partial ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "tests/tap.h"
#include "train/metrics.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

int main(void)
{
	char dir[] = "/tmp/test_metrics_XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char log[256];
	snprintf(log, sizeof log, "%s/metrics.jsonl", dir);

	struct metrics *m = metrics_new(8);
	ok(m != NULL, "store");
	ok(metrics_log_open(m, log) == 0, "log opens");
	uint64_t v0 = metrics_version(m);

	/* 20 steps into rings of 8: the latest 8 stay, oldest first */
	const char *names[] = { "loss", "lr", "cls" };
	for (int s = 0; s < 20; s++) {
		double vals[] = { 1.0 / (s + 1), 0.01 * s, s == 3 ? NAN : 0.5 * s };
		metrics_step_add(m, s, s / 10.0, s * 0.5, 3, names, vals);
	}
	ok(metrics_version(m) > v0, "version moves on writes");
	ok(metrics_series_count(m) == 3, "three series");
	struct metrics_point pts[16];
	size_t total = 0;
	size_t n = metrics_series_copy(m, "loss", pts, 16, &total);
	ok(n == 8 && total == 20, "ring keeps 8 of 20 (%zu, %zu)", n, total);
	ok(pts[0].step == 12 && pts[7].step == 19 && pts[7].value == 1.0 / 20, "oldest first, latest last");
	n = metrics_series_copy(m, "lr", pts, 3, NULL);
	ok(n == 3 && pts[2].step == 19 && pts[0].step == 17, "a short copy takes the latest");
	double last;
	ok(metrics_series_last(m, "lr", &last) == 0 && last == 0.19, "last value");
	ok(metrics_series_last(m, "nope", &last) == -1, "unknown series has no last value");

	struct metrics_class_ap cls[2] = {
		{ "T-shirt \"top\"", 0.5, 0.8, 0.4, 10, 20 },
		{ "Shirt", NAN, NAN, NAN, 0, 3 },
	};
	struct metrics_eval e = { 19, 1.9, 9.5, { 0.3, 0.6, 0.25, -1, 0.2, 0.4, 0.1, 0.3, 0.35, -1, 0.3, 0.5 }, 2, cls };
	ok(metrics_eval_add(m, &e) == 0, "eval added");
	metrics_event_add(m, METRICS_EV_SET, 15, 1.5, 7.5, "lr", 0.01, 0.003, "lr %g -> %g", 0.01, 0.003);
	metrics_event_add(m, METRICS_EV_CHECKPOINT, 19, 1.9, 9.5, NULL, NAN, NAN, "saved %s", "last.ckpt");
	struct metrics_progress p;
	memset(&p, 0, sizeof p);
	p.state = METRICS_TRAINING;
	snprintf(p.name, sizeof p.name, "demo");
	p.step = 19;
	p.total_steps = 100;
	p.epoch = 1.9;
	p.eta_s = 40;
	p.best = 0.3;
	p.best_step = 19;
	snprintf(p.text, sizeof p.text, "training");
	metrics_progress_set(m, &p);

	struct metrics_eval got;
	ok(metrics_eval_count(m) == 1 && metrics_eval_get(m, -1, &got) == 0, "latest evaluation copied");
	ok(got.ncats == 2 && strcmp(got.cls[0].name, "T-shirt \"top\"") == 0 && got.stats[0] == 0.3, "its content");
	metrics_eval_fini(&got);
	ok(metrics_eval_get(m, 1, &got) != 0, "no second evaluation");
	struct metrics_event ev[4];
	ok(metrics_event_count(m) == 2 && metrics_events_copy(m, 0, ev, 4) == 2, "two events");
	ok(ev[0].kind == METRICS_EV_SET && !strcmp(ev[0].key, "lr") && ev[0].new_value == 0.003 &&
	   !strcmp(ev[0].text, "lr 0.01 -> 0.003"), "set event");
	ok(metrics_events_copy(m, 1, ev, 4) == 1 && ev[0].kind == METRICS_EV_CHECKPOINT, "events from a number");

	/* the log read back into another store */
	size_t len;
	char *buf = slurp(log, &len);
	ok(buf != NULL && len > 0, "log written and flushed (%zu bytes)", len);
	struct metrics *m2 = metrics_new(64);
	ok(metrics_read_jsonl(m2, log, buf, len) == 0, "log reads back");
	n = metrics_series_copy(m2, "loss", pts, 16, &total);
	ok(total == 20 && n == 16 && pts[15].value == 1.0 / 20 && pts[15].t == 9.5, "steps round trip exactly");
	n = metrics_series_copy(m2, "cls", pts, 16, &total);
	ok(n == 16 && pts[0].step == 4 && pts[0].value == 2.0, "other series too");
	struct metrics_point all[32];
	n = metrics_series_copy(m2, "cls", all, 32, NULL);
	ok(n == 20 && isnan(all[3].value), "NaN written as null, read as NaN");
	ok(metrics_eval_get(m2, 0, &got) == 0 && got.stats[11] == 0.5 && got.cls[1].ngt == 0 &&
	   isnan(got.cls[1].ap) && got.cls[0].ndet == 20 && !strcmp(got.cls[0].name, "T-shirt \"top\""),
	   "evaluation round trips (NaN AP, counts, escaped name)");
	metrics_eval_fini(&got);
	ok(metrics_events_copy(m2, 0, ev, 4) == 2 && ev[0].old_value == 0.01 && ev[1].kind == METRICS_EV_CHECKPOINT,
	   "events round trip");
	struct metrics_progress p2;
	metrics_progress_get(m2, &p2);
	ok(p2.state == METRICS_TRAINING && p2.step == 19 && p2.total_steps == 100 && !strcmp(p2.name, "demo") &&
	   p2.eta_s == 40 && p2.best_step == 19, "progress round trips");
	free(buf);

	/* a store dumped with metrics_write_jsonl reads back the same */
	char dump[256];
	snprintf(dump, sizeof dump, "%s/dump.jsonl", dir);
	FILE *f = fopen(dump, "w");
	ok(metrics_write_jsonl(m, f) == 0, "store dumped");
	fclose(f);
	buf = slurp(dump, &len);
	struct metrics *m3 = metrics_new(8);
	ok(metrics_read_jsonl(m3, dump, buf, len) == 0, "dump reads back");
	n = metrics_series_copy(m3, "lr", pts, 16, &total);
	ok(n == 8 && pts[7].value == 0.19 && metrics_eval_count(m3) == 1 && metrics_event_count(m3) == 2,
	   "dump has the rings, evaluations and events");
	free(buf);
	ok(metrics_read_jsonl(m3, "bad.jsonl", "{\"type\":\"step\"}\n{oops\n", 22) != 0, "a malformed line fails");
	tap_diag("%s", det_error_message());
	metrics_free(m3);

	/* the follower */
	char grow[256];
	snprintf(grow, sizeof grow, "%s/grow.jsonl", dir);
	struct metrics *w = metrics_new(64);
	struct metrics_follower *fo = metrics_follow_new(grow, w);
	ok(metrics_follow_poll(fo) == 0, "missing file: nothing yet");
	f = fopen(grow, "w");
	fputs("{\"type\":\"step\",\"step\":1,\"epoch\":0,\"t\":1,\"loss\":2}\n{\"type\":\"step\",\"st", f);
	fflush(f);
	ok(metrics_follow_poll(fo) == 1, "one complete line read");
	ok(metrics_series_copy(w, "loss", pts, 4, NULL) == 1, "partial line waits");
	fputs("ep\":2,\"epoch\":0,\"t\":2,\"loss\":1.5}\n", f);
	fflush(f);
	ok(metrics_follow_poll(fo) == 1 && metrics_series_copy(w, "loss", pts, 4, NULL) == 2 && pts[1].value == 1.5,
	   "rest of the line read when it lands");
	ok(metrics_follow_poll(fo) == 0, "nothing new");
	fclose(f);
	f = fopen(grow, "w"); /* a new run truncates */
	fputs("{\"type\":\"step\",\"step\":1,\"epoch\":0,\"t\":1,\"loss\":9}\n", f);
	fclose(f);
	ok(metrics_follow_poll(fo) == 1 && metrics_series_copy(w, "loss", pts, 4, NULL) == 1 && pts[0].value == 9,
	   "a shrunk file is read again from the start");
	metrics_follow_free(fo);
	metrics_free(w);

	ok(metrics_current_get() == NULL, "no current run yet");
	metrics_current_set(m2);
	struct metrics *cur = metrics_current_get();
	ok(cur == m2, "the current run's store");
	metrics_free(m2); /* the owner lets go: the panel's and the registry's references keep it */
	ok(metrics_series_count(cur) == 3, "still readable while referenced");
	metrics_free(cur);
	metrics_current_set(NULL);
	metrics_free(m);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
