/* train_step_bench.c: one full training step — forward, FCOS targets and
 * losses (detector_loss), backward, SGD — of the reference detector
 * (torchvision-layout ResNet-18, FPN 128 channels on C3-C5, FCOS head with
 * two conv3x3 + GN(32) + ReLU per tower, 6 classes) at 8x3x256x256, built
 * with det.model in Lua and stepped from C with detector_train_step on a
 * fixed synthetic batch (4 random boxes per image, as the Python side), beside
 * the same model in PyTorch (bench/train_step_torch.py as a coprocess, steps
 * interleaved so both see the same load); medians, each process's peak RSS,
 * the engine's time per op kind.
 *
 *   bench/train_step_bench [-t threads] [-r reps] [-n batch] [-s size]
 * PyTorch's column is absent when /usr/bin/python3 has no torch (or
 * DET_BENCH_NO_TORCH=1). DET_PROFILE_TOP=n lists the n slowest nodes;
 * DET_FCOS_FUSE=0 runs the head's conv_reg and conv_centerness apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <omp.h>

#include <lauxlib.h>
#include <lua.h>

#include "bench/torch_peer.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"
#include "data/loader.h"
#include "det/detector.h"
#include "lua/host.h"
#include "lua/ldetector.h"
#include "lua/lnn.h"
#include "lua/loptim.h"
#include "nn/graph.h"
#include "nn/optim.h"

static const char *build_chunk =
	"local n, size = ...\n"
	"local det = require 'det'\n"
	"local head = det.head.fcos { classes = 6, towers = 2, channels = 128, norm = 'gn' }\n"
	"if os.getenv('DET_FCOS_FUSE') == '0' then head.fuse = false end\n"
	"local model = det.model { backbone = det.backbone.resnet { depth = 18 },\n"
	"  neck = det.neck.fpn { channels = 128 }, head = head, size = size }\n"
	"local m = model:graph { batch = n, size = size }\n"
	"local d = model:detector {}\n"
	"local opt = det.optim.sgd { lr = 0.01, momentum = 0.9, weight_decay = 1e-4 }\n"
	"model:bind(opt)\n"
	"BENCH = { model = model, graph = m.graph, det = d, opt = opt }\n";

/* A batch like the PyTorch script's: normal images, 4 random boxes per image
 * (corner at U(0, 0.6) size, sides 24 + U(0, 0.35) size), random classes. */
static void synthetic_batch(struct loader_batch *b, int n, int hw)
{
	struct rng r;

	rng_init(&r, 1, 0);
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->width = b->height = hw;
	b->max_boxes = 4;
	b->images = malloc((size_t)n * 3 * hw * hw * sizeof(float));
	b->boxes = malloc((size_t)n * 16 * sizeof(float));
	b->classes = malloc((size_t)n * 4 * sizeof(int32_t));
	b->counts = malloc((size_t)n * sizeof(int));
	for (size_t i = 0; i < (size_t)n * 3 * hw * hw; i++)
		b->images[i] = rng_normal(&r);
	for (int i = 0; i < n; i++) {
		b->counts[i] = 4;
		for (int k = 0; k < 4; k++) {
			float *bx = b->boxes + 16 * i + 4 * k;
			float x = rng_uniform(&r) * hw * 0.6f, y = rng_uniform(&r) * hw * 0.6f;
			float w = 24 + rng_uniform(&r) * hw * 0.35f, h = 24 + rng_uniform(&r) * hw * 0.35f;
			bx[0] = x, bx[1] = y;
			bx[2] = x + w < hw ? x + w : hw, bx[3] = y + h < hw ? y + h : hw;
			b->classes[4 * i + k] = (int32_t)rng_below(&r, 6);
		}
	}
}

/* Per-node profile, rep by rep: tf/tb[rep * nodes + node] seconds. */
struct node_times {
	int nodes, reps;
	double *tf, *tb, *key;
};

static const double *sort_key;

static int cmp_key_desc(const void *pa, const void *pb)
{
	const double *key = sort_key;
	int a = *(const int *)pa, b = *(const int *)pb;

	return key[a] < key[b] ? 1 : key[a] > key[b] ? -1 : a - b;
}

/* The median over reps of v[rep * stride + at]. */
static double rep_median(const double *v, int reps, int stride, int at)
{
	double tmp[64];
	int n = reps < 64 ? reps : 64;

	for (int r = 0; r < n; r++)
		tmp[r] = v[(size_t)r * stride + at];
	return bench_median(tmp, n);
}

/* DET_PROFILE_TOP=n: the n nodes that took longest (median forward +
 * backward over the reps, ms per step), with their output shapes. */
static void print_top_nodes(const struct nn_graph *g, const struct node_times *nt, int top)
{
	int n = nt->nodes, *ids = malloc(sizeof(int) * (size_t)n);
	double *mf = malloc(sizeof(double) * (size_t)n), *mb = malloc(sizeof(double) * (size_t)n);
	double *key = malloc(sizeof(double) * (size_t)n);

	if (!ids || !mf || !mb || !key)
		goto out;
	for (int i = 0; i < n; i++) {
		ids[i] = i;
		mf[i] = rep_median(nt->tf, nt->reps, n, i);
		mb[i] = rep_median(nt->tb, nt->reps, n, i);
		key[i] = mf[i] + mb[i];
	}
	sort_key = key;
	qsort(ids, (size_t)n, sizeof(int), cmp_key_desc);
	printf("\nthe %d slowest nodes (ms per step, medians): forward, backward, output shape\n", top);
	for (int k = 0; k < top && k < n; k++) {
		const struct nn_node *nd = nn_graph_node(g, ids[k]);
		char shape[64];
		int at = 0;
		for (int d = 0; d < nd->ndim; d++)
			at += snprintf(shape + at, sizeof shape - (size_t)at, d ? "x%lld" : "%lld", (long long)nd->shape[d]);
		printf("  %-44s %-14s %8.2f %8.2f  %s\n", nd->name, nn_op_name(nd->op), mf[ids[k]] * 1e3,
			mb[ids[k]] * 1e3, shape);
	}
out:
	free(ids);
	free(mf);
	free(mb);
	free(key);
}

int main(int argc, char **argv)
{
	struct host *h;
	lua_State *L;
	struct nn_graph *g;
	struct detector *d;
	struct optim *o;
	struct loader_batch batch, *b = &batch;
	struct detector_losses lo;
	double *tc, *tc_rep, flops = 0, fwd[NN_OP_COUNT] = { 0 }, bwd[NN_OP_COUNT] = { 0 };
	struct node_times nt;
	struct nn_graph_stats st;
	long rss;
	struct bench_opts bo;
	bench_opts_parse(&bo, argc, argv);
	const int threads = bo.threads, reps = bo.reps, n = bo.n, hw = bo.hw;
	det_threads_set(threads);
	tc = calloc((size_t)reps, sizeof(double));
	tc_rep = calloc((size_t)reps, sizeof(double));

	struct torch_peer peer;
	torch_peer_start(&peer, "train_step_torch.py", &bo);

	/* the model, detector, optimiser and one batch, made in Lua */
	h = host_new(NULL, NULL);
	L = host_lua(h);
	if (luaL_loadstring(L, build_chunk) != LUA_OK) {
		fprintf(stderr, "train_step_bench: %s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_pushinteger(L, n);
	lua_pushinteger(L, hw);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		fprintf(stderr, "train_step_bench: %s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_getglobal(L, "BENCH");
	lua_getfield(L, -1, "graph");
	g = lgraph_check(L, -1);
	lua_getfield(L, -2, "det");
	d = ldetector_check(L, -1);
	lua_getfield(L, -3, "opt");
	o = loptim_check(L, -1);
	synthetic_batch(b, n, hw);
	for (int i = 0; i < nn_graph_node_count(g); i++)
		flops += nn_graph_node_flops(g, i);
	nt.nodes = nn_graph_node_count(g);
	nt.reps = reps;
	nt.tf = calloc((size_t)reps * (size_t)nt.nodes, sizeof(double));
	nt.tb = calloc((size_t)reps * (size_t)nt.nodes, sizeof(double));
	if (!nt.tf || !nt.tb) {
		fprintf(stderr, "train_step_bench: out of memory\n");
		return 1;
	}

	for (int rep = -1; rep < reps; rep++) {
		double t0;
		if (rep >= 0)
			nn_graph_set_profile(g, 1); /* also zeroes the nodes' times */
		t0 = omp_get_wtime();
		if (detector_train_step(d, g, o, b, &lo)) {
			fprintf(stderr, "train_step_bench: %s\n", det_error_message());
			return 1;
		}
		if (rep >= 0) {
			tc[rep] = omp_get_wtime() - t0;
			for (int i = 0; i < nt.nodes; i++) {
				nt.tf[(size_t)rep * nt.nodes + i] = nn_graph_node(g, i)->time_fwd;
				nt.tb[(size_t)rep * nt.nodes + i] = nn_graph_node(g, i)->time_bwd;
			}
		}
		torch_peer_step(&peer, rep);
	}
	rss = bench_peak_rss_kib();
	nn_graph_stats(g, &st);
	/* per op kind: the median over reps of each rep's sum */
	for (int op = 0; op < NN_OP_COUNT; op++) {
		double sf[64] = { 0 }, sb[64] = { 0 };
		int nr = reps < 64 ? reps : 64;
		for (int r = 0; r < nr; r++)
			for (int i = 0; i < nt.nodes; i++)
				if (nn_graph_node(g, i)->op == (enum nn_op)op) {
					sf[r] += nt.tf[(size_t)r * nt.nodes + i];
					sb[r] += nt.tb[(size_t)r * nt.nodes + i];
				}
		fwd[op] = bench_median(sf, nr);
		bwd[op] = bench_median(sb, nr);
	}

	printf("FCOS training step (forward, losses, backward, SGD): ResNet-18 + FPN 128 + FCOS head "
		"(2 convs GN), 6 classes, %dx3x%dx%d, %d threads, median of %d\n", n, hw, hw, threads, reps);
	printf("last step: loss %.4f (cls %.4f box %.4f centerness %.4f), %g positives\n", lo.total, lo.cls,
		lo.box, lo.quality, lo.num_pos);
	printf("%-22s %10s %10s %12s\n", "", "seconds", "GFLOP/s", "peak RSS");
	{
		double m;
		memcpy(tc_rep, tc, sizeof(double) * (size_t)reps);
		m = bench_median(tc, reps); /* sorts tc; tc_rep keeps the reps' order */
		printf("%-22s %10.3f %10.1f %9ld MiB   (arena %zu MiB, one buffer each would be %zu MiB; "
			"in it the conv scratch, the largest %zu MiB; parameters, gradients, momentum %zu MiB)\n",
			"detbench", m, 3 * flops / m / 1e9, rss >> 10, st.arena_bytes >> 20, st.naive_bytes >> 20,
			st.workspace_bytes >> 20, 3 * nn_graph_store(g)->count * sizeof(float) >> 20);
		torch_peer_report(&peer, &bo, m, 3 * flops, rss);
		/* issue 5 states its target in MB (10^6 bytes); ru_maxrss is KiB */
		printf("peak RSS %.1f MB (%ld MiB): the <= 400 MB target is %s\n", (double)rss * 1024 / 1e6, rss >> 10,
			(double)rss * 1024 <= 400e6 ? "met" : "NOT met");
	}
	{
		/* the parts outside the graph's nodes, alone */
		double t0 = omp_get_wtime(), tl, ts;
		for (int i = 0; i < 3; i++)
			detector_loss(d, g, b, &lo);
		tl = (omp_get_wtime() - t0) / 3;
		t0 = omp_get_wtime();
		for (int i = 0; i < 3; i++)
			optim_step(o);
		ts = (omp_get_wtime() - t0) / 3;
		/* per rep: the step's time less its nodes' (loss, SGD, copying the
		 * batch in, the graph's own loop), median over the reps */
		double rest[64];
		int nr = reps < 64 ? reps : 64;
		for (int r = 0; r < nr; r++) {
			rest[r] = tc_rep[r];
			for (int i = 0; i < nt.nodes; i++)
				rest[r] -= nt.tf[(size_t)r * nt.nodes + i] + nt.tb[(size_t)r * nt.nodes + i];
		}
		printf("\nthe step less its nodes' time: %.1f ms (median; the loss, SGD, the batch copy, the loop)",
			bench_median(rest, nr) * 1e3);
		printf("\noutside the graph: detector_loss %.1f ms, SGD step %.1f ms (%zu parameters)\n", tl * 1e3,
			ts * 1e3, nn_graph_store(g)->count);
	}
	{
		int step;
		size_t bytes;
		printf("\n");
		nn_graph_peak(g, &step, &bytes, stdout, getenv("DET_PEAK_TOP") ? atoi(getenv("DET_PEAK_TOP")) : 12);
	}
	printf("\ntime per op kind (ms per step, medians): forward, backward\n");
	for (int op = 0; op < NN_OP_COUNT; op++)
		if (fwd[op] + bwd[op] > 0)
			printf("  %-16s %8.1f %8.1f\n", nn_op_name((enum nn_op)op), fwd[op] * 1e3, bwd[op] * 1e3);
	if (getenv("DET_PROFILE_TOP"))
		print_top_nodes(g, &nt, atoi(getenv("DET_PROFILE_TOP")));
	torch_peer_close(&peer);
	lua_settop(L, 0);
	host_free(h);
	free(b->images);
	free(b->boxes);
	free(b->classes);
	free(b->counts);
	free(tc);
	free(tc_rep);
	free(nt.tf);
	free(nt.tb);
	return 0;
}
