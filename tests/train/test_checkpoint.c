/* test_checkpoint: the trainer's checkpoint file — sections round trip;
 * a flipped byte, a truncation and a kill -9 in the middle of a write are
 * never loaded (the crash leaves the previous checkpoint in place); weights
 * load by name, name every mismatched tensor, and report missing and
 * unexpected names on a partial load. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "nn/graph.h"
#include "tests/tap.h"
#include "train/checkpoint.h"

static struct nn_graph *model(uint64_t seed, int64_t width, int extra)
{
	struct nn_graph *g = nn_graph_new(NULL, seed);
	struct tensor_init_spec init = { TENSOR_INIT_NORMAL, 0, 1 };
	int64_t in[4] = { 2, 3, 8, 8 }, w[4] = { width, 3, 3, 3 }, c[1] = { width };
	int x = nn_graph_input(g, "input", 4, in);
	int wt = nn_graph_param(g, "conv.weight", 4, w, &init, 0);
	int y = nn_graph_conv2d(g, "conv", x, wt, -1, 1, 1, 1, 1);
	int ga = nn_graph_param(g, "bn.weight", 1, c, &init, NN_PARAM_NORM);
	int be = nn_graph_param(g, "bn.bias", 1, c, &init, NN_PARAM_NORM | NN_PARAM_BIAS);
	y = nn_graph_batchnorm(g, "bn", y, ga, be, 1e-5f, 0.1f);
	if (extra) {
		int64_t w2[4] = { 4, width, 1, 1 };
		int w2i = nn_graph_param(g, "head.weight", 4, w2, &init, 0);
		y = nn_graph_conv2d(g, "head", y, w2i, -1, 1, 0, 1, 1);
	}
	nn_graph_output(g, y);
	return g;
}

static void hang(const char *tmp)
{
	(void)tmp;
	/* tell the parent we are in the middle of the write, then wait to die */
	if (write(3, "x", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

static long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) ? -1 : (long)st.st_size;
}

int main(void)
{
	char dir[] = "/tmp/test_ckpt_XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char path[256], bad[256];
	snprintf(path, sizeof path, "%s/last.ckpt", dir);
	snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);

	struct nn_graph *g = model(1, 8, 1);
	struct nn_store *s = nn_graph_store(g);
	for (size_t i = 0; i < s->nstate; i++)
		s->state[i] = (float)i * 0.25f;
	unsigned char *w;
	size_t wn;
	ok(ckpt_pack_store(s, &w, &wn) == 0, "weights packed (%zu bytes)", wn);
	struct ckpt *c = ckpt_new();
	ok(ckpt_add(c, "weights", w, wn) == 0, "weights section");
	const char *meta = "step 17\nepoch 1.5\nname demo run\n";
	ok(ckpt_add(c, "meta", meta, strlen(meta)) == 0, "meta section");
	ok(ckpt_add(c, "empty", "", 0) == 0, "empty section");
	ok(ckpt_write(c, path) == 0, "written");

	struct ckpt *r = ckpt_read(path);
	ok(r != NULL, "read back: %s", r ? "ok" : det_error_message());
	size_t n = 0;
	const void *p = r ? ckpt_get(r, "weights", &n) : NULL;
	ok(p && n == wn && memcmp(p, w, wn) == 0, "weights bytes identical");
	double v;
	char str[64];
	ok(r && ckpt_kv_get(r, "meta", "step", &v) == 0 && v == 17, "meta key");
	ok(r && ckpt_kv_get(r, "meta", "epoch", &v) == 0 && v == 1.5, "meta key (fraction)");
	ok(r && ckpt_kv_get_str(r, "meta", "name", str, sizeof str) == 0 && !strcmp(str, "demo run"), "meta string");
	ok(r && ckpt_kv_get(r, "meta", "nothing", &v) != 0, "missing key fails");
	ok(r && ckpt_get(r, "empty", &n) && n == 0, "empty section kept");

	/* weights into a fresh model of the same layout, other seed */
	struct nn_graph *g2 = model(2, 8, 1);
	struct nn_store *s2 = nn_graph_store(g2);
	ok(memcmp(s2->data, s->data, s->count * 4) != 0, "other seed, other weights");
	struct ckpt_load_report rep;
	ok(ckpt_unpack_store(s2, p, wn, 1, &rep) == 0 && rep.loaded == s->nparams + s->nbuffers, "strict load (%d)",
		rep.loaded);
	ok(memcmp(s2->data, s->data, s->count * 4) == 0 && memcmp(s2->state, s->state, s->nstate * 4) == 0,
		"values and running statistics restored");

	/* a different width: every mismatched tensor named, nothing changed */
	struct nn_graph *g3 = model(3, 4, 1);
	struct nn_store *s3 = nn_graph_store(g3);
	float before = s3->data[0];
	ok(ckpt_unpack_store(s3, p, wn, 0, &rep) == DET_EFORMAT, "mismatched shapes fail");
	tap_diag("%s", det_error_message());
	ok(strstr(det_error_message(), "conv.weight: checkpoint (8, 3, 3, 3), model (4, 3, 3, 3)") &&
		strstr(det_error_message(), "bn.bias") && strstr(det_error_message(), "head.weight") &&
		strstr(det_error_message(), "bn.running_mean"), "each mismatched tensor named with both shapes");
	ok(rep.mismatched == 6 && s3->data[0] == before, "6 mismatched, model untouched");

	/* partial: a model without the head */
	struct nn_graph *g4 = model(4, 8, 0);
	struct nn_store *s4 = nn_graph_store(g4);
	ok(ckpt_unpack_store(s4, p, wn, 1, &rep) == DET_EFORMAT && strstr(det_error_message(), "head.weight"),
		"strict load names the unexpected tensor");
	ok(ckpt_unpack_store(s4, p, wn, 0, &rep) == 0 && rep.unexpected == 1 && rep.missing == 0 &&
		!strcmp(rep.unexpected_names, "head.weight") && rep.loaded == s4->nparams + s4->nbuffers,
		"partial load reports the unexpected name and loads the rest");
	struct nn_graph *g5 = model(5, 8, 1);
	unsigned char *w4;
	size_t wn4;
	ckpt_pack_store(s4, &w4, &wn4);
	ok(ckpt_unpack_store(nn_graph_store(g5), w4, wn4, 0, &rep) == 0 && rep.missing == 1 &&
		!strcmp(rep.missing_names, "head.weight"), "missing tensor reported (%s)", rep.missing_names);
	free(w4);

	/* corruption: a flipped byte in each region, and truncations */
	long size = file_size(path);
	FILE *f = fopen(path, "rb");
	unsigned char *all = malloc((size_t)size);
	ok(fread(all, 1, (size_t)size, f) == (size_t)size, "file read (%ld bytes)", size);
	fclose(f);
	long spots[] = { 3, 20, size / 2, size - 30, size - 5 };
	for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
		all[spots[i]] ^= 0x10;
		f = fopen(bad, "wb");
		fwrite(all, 1, (size_t)size, f);
		fclose(f);
		all[spots[i]] ^= 0x10;
		struct ckpt *x = ckpt_read(bad);
		ok(x == NULL, "flipped byte at %ld rejected: %s", spots[i], det_error_message());
		ckpt_free(x);
	}
	long cuts[] = { 0, 10, 40, size / 2, size - 16, size - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
		f = fopen(bad, "wb");
		fwrite(all, 1, (size_t)cuts[i], f);
		fclose(f);
		struct ckpt *x = ckpt_read(bad);
		ok(x == NULL, "truncated to %ld bytes rejected: %s", cuts[i], det_error_message());
		ckpt_free(x);
	}
	free(all);

	/* kill -9 in the middle of overwriting last.ckpt: the old one stays */
	int fds[2];
	ok(pipe(fds) == 0, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 3);
		for (size_t i = 0; i < s->count; i++)
			s->data[i] = -1;
		unsigned char *w2;
		size_t wn2;
		ckpt_pack_store(s, &w2, &wn2);
		ckpt_add(c, "weights", w2, wn2);
		ckpt_add(c, "meta", "step 99\n", 8);
		ckpt_write_hook = hang;
		ckpt_write(c, path);
		_exit(0); /* not reached */
	}
	close(fds[1]);
	char ch;
	ok(read(fds[0], &ch, 1) == 1, "child is mid-write");
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child killed by SIGKILL");
	struct ckpt *after = ckpt_read(path);
	ok(after && ckpt_kv_get(after, "meta", "step", &v) == 0 && v == 17, "the previous checkpoint is what loads");
	ok(after && ckpt_get(after, "weights", &n) && n == wn && !memcmp(ckpt_get(after, "weights", NULL), w, wn),
		"with its weights");
	char cmd[512];
	snprintf(cmd, sizeof cmd, "ls %s | grep -c 'last.ckpt.tmp' >/dev/null", dir);
	ok(system(cmd) == 0, "the half-written temporary is left beside it, never renamed");
	ckpt_free(after);

	ckpt_free(r);
	ckpt_free(c);
	free(w);
	nn_graph_free(g);
	nn_graph_free(g2);
	nn_graph_free(g3);
	nn_graph_free(g4);
	nn_graph_free(g5);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
