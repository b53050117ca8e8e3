/* test_checkpoint.c: a store saved and loaded by name comes back bit for
 * bit; partial loads count what they skip; shape mismatches, strict mode,
 * truncated and foreign files fail with messages naming file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "nn/checkpoint.h"
#include "tests/tap.h"

static struct nn_graph *net(uint64_t seed, int extra, int wide)
{
	struct nn_graph *g = nn_graph_new(NULL, seed);
	struct tensor_init_spec n = { TENSOR_INIT_NORMAL, 0, 1 };
	int64_t xs[4] = { 1, 3, 4, 4 }, ws[4] = { wide ? 6 : 4, 3, 3, 3 }, c[1] = { wide ? 6 : 4 };
	int x = nn_graph_input(g, "input", 4, xs);
	int w = nn_graph_param(g, "backbone.conv.weight", 4, ws, &n, 0);
	int y = nn_graph_conv2d(g, "backbone.conv", x, w, -1, 1, 1, 1, 1);
	int gm = nn_graph_param(g, "backbone.bn.weight", 1, c, &n, NN_PARAM_NORM);
	int bt = nn_graph_param(g, "backbone.bn.bias", 1, c, &n, NN_PARAM_NORM);

	y = nn_graph_batchnorm(g, "backbone.bn", y, gm, bt, 1e-5f, 0.1f);
	if (extra)
		nn_graph_param(g, "head.cls.weight", 1, c, &n, 0);
	nn_graph_output(g, y);
	return g;
}

int main(void)
{
	char path[] = "/tmp/detbench_ckpt_XXXXXX";
	int fd = mkstemp(path);
	struct nn_graph *a = net(1, 0, 0), *b = net(2, 0, 0), *c = net(3, 1, 0), *d = net(4, 0, 1);
	struct nn_store *sa = nn_graph_store(a), *sb = nn_graph_store(b), *sc = nn_graph_store(c);
	struct nn_load_report rep;
	char tmp[64];
	FILE *f;

	close(fd);
	for (size_t i = 0; i < sa->nstate; i++)
		sa->state[i] = (float)i * 0.5f;
	ok(nn_store_save(sa, path) == 0, "save %s", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ok(access(tmp, F_OK) != 0, "no temporary file is left behind");
	ok(memcmp(sa->data, sb->data, sizeof(float) * sa->count) != 0, "another seed gives other weights");
	ok(nn_store_load(sb, path, 1, &rep) == 0 && rep.loaded == 5 && rep.missing == 0 && rep.unexpected == 0,
		"strict load of the same layout loads all 5 entries");
	ok(!memcmp(sa->data, sb->data, sizeof(float) * sa->count) &&
		!memcmp(sa->state, sb->state, sizeof(float) * sa->nstate),
		"weights and running statistics come back bit for bit");

	ok(nn_store_load(sc, path, 1, &rep) == DET_EFORMAT &&
		strstr(det_error_message(), "1 parameters of the model are not in the file"),
		"strict load into a model with one more parameter fails: %s", det_error_message());
	ok(nn_store_load(sc, path, 0, &rep) == 0 && rep.loaded == 5 && rep.missing == 1,
		"a partial load (a pretrained backbone) fills what matches and counts the rest");
	ok(!memcmp(sc->data, sa->data, sizeof(float) * sa->count), "the matching parameters are loaded");

	ok(nn_store_load(nn_graph_store(d), path, 0, &rep) == DET_EFORMAT &&
		strstr(det_error_message(), ":3: backbone.conv.weight has shape (4, 3, 3, 3) in the file but "
			"(6, 3, 3, 3) in the model"),
		"a shape mismatch names the line, the parameter and both shapes: %s", det_error_message());

	if (truncate(path, 200) == 0)
		ok(nn_store_load(sb, path, 0, &rep) == DET_EFORMAT && strstr(det_error_message(), "bytes of data"),
			"a truncated file is refused before anything is changed: %s", det_error_message());
	f = fopen(path, "w");
	fputs("hello\n", f);
	fclose(f);
	ok(nn_store_load(sb, path, 0, &rep) == DET_EFORMAT && strstr(det_error_message(), ":1: not a detbench"),
		"a foreign file: %s", det_error_message());
	unlink(path);
	ok(nn_store_load(sb, path, 0, &rep) == DET_EIO && strstr(det_error_message(), "can't open"),
		"a missing file: %s", det_error_message());
	nn_graph_free(a);
	nn_graph_free(b);
	nn_graph_free(c);
	nn_graph_free(d);
	return tap_done();
}
