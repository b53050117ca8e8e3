/* resnet_bench.c: one ResNet-18 training step (forward + backward) at
 * 8x3x256x256 on the graph engine, beside PyTorch's (bench/resnet_torch.py
 * as a coprocess, steps interleaved so both see the same load), with each
 * program's peak RSS and the engine's time per op kind.
 *
 *   bench/resnet_bench [-t threads] [-r reps] [-n batch] [-s size]
 * Prints medians; PyTorch's column is absent when python3-torch is not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <omp.h>

#include "bench/torch_peer.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"
#include "tests/nn/nets.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5, n = 8, hw = 256, in, out, opt;
	static const int blocks[4] = { 2, 2, 2, 2 };
	struct nn_graph *g;
	double *tc, *tt, flops = 0, fwd[NN_OP_COUNT] = { 0 }, bwd[NN_OP_COUNT] = { 0 };
	int nt = 0;
	long rss_before, rss_after;
	FILE *to = NULL, *from = NULL;
	char line[256], cmd[512];
	struct nn_graph_stats st;

	while ((opt = getopt(argc, argv, "t:r:n:s:")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 's')
			hw = atoi(optarg);
	}
	det_threads_set(threads);
	tc = calloc((size_t)reps, sizeof(double));
	tt = calloc((size_t)reps, sizeof(double));

	/* PyTorch as a coprocess */
	snprintf(cmd, sizeof(cmd), "%s/resnet_torch.py", BENCH_SRCDIR);
	{
		struct torch_peer peer;

		torch_peer_start(&peer, cmd, threads, n, hw);
		to = peer.to, from = peer.from;
	}

	rss_before = peak_rss_kib();
	g = nn_graph_new(NULL, 1);
	if ((out = net_resnet(g, n, hw, 64, blocks, &in)) < 0 || nn_graph_output(g, out) || nn_graph_plan(g)) {
		fprintf(stderr, "resnet_bench: %s\n", det_error_message());
		return 1;
	}
	{
		struct rng r;
		float *x = nn_graph_value(g, in);
		rng_init(&r, 1, 0);
		for (int64_t i = 0; i < nn_graph_node(g, in)->numel; i++)
			x[i] = rng_normal(&r);
	}
	for (int i = 0; i < nn_graph_node_count(g); i++)
		flops += nn_graph_node_flops(g, i);

	for (int rep = -1; rep < reps; rep++) {
		double t0;
		if (rep == 0)
			nn_graph_set_profile(g, 1);
		t0 = omp_get_wtime();
		nn_graph_forward(g);
		memcpy(nn_graph_grad(g, out), nn_graph_value(g, out),
			sizeof(float) * (size_t)nn_graph_node(g, out)->numel);
		nn_graph_backward(g);
		if (rep >= 0)
			tc[rep] = omp_get_wtime() - t0;
		if (to && from) {
			fputs("s\n", to);
			fflush(to);
			if (fgets(line, sizeof(line), from) && rep >= 0)
				tt[nt++] = atof(line);
		}
	}
	rss_after = peak_rss_kib();
	nn_graph_stats(g, &st);
	for (int i = 0; i < nn_graph_node_count(g); i++) {
		const struct nn_node *nd = nn_graph_node(g, i);
		fwd[nd->op] += nd->time_fwd / reps;
		bwd[nd->op] += nd->time_bwd / reps;
	}

	printf("ResNet-18 training step (forward + backward), %dx3x%dx%d, %d threads, median of %d\n",
		n, hw, hw, threads, reps);
	printf("%-22s %10s %10s %12s\n", "", "seconds", "GFLOP/s", "peak RSS");
	{
		double m = median(tc, reps);
		printf("%-22s %10.3f %10.1f %9ld MiB   (arena %zu MiB, one buffer each would be %zu MiB)\n",
			"detbench", m, 3 * flops / m / 1e9, rss_after >> 10, st.arena_bytes >> 20, st.naive_bytes >> 20);
		(void)rss_before;
		if (nt == reps) {
			long prss = 0, pbase = 0;
			double mt = median(tt, reps);
			fputs("q\n", to);
			fflush(to);
			if (fgets(line, sizeof(line), from))
				sscanf(line, "rss %ld %ld", &prss, &pbase);
			printf("%-22s %10.3f %10.1f %9ld MiB   (%ld MiB before the first step)\n", "PyTorch 1.13",
				mt, 3 * flops / mt / 1e9, prss >> 10, pbase >> 10);
			printf("%-22s %10.2fx %21.2fx\n", "detbench / PyTorch", m / mt,
				prss ? (double)rss_after / (double)prss : 0.0);
		}
	}
	printf("\ntime per op kind (ms per step): forward, backward\n");
	for (int op = 0; op < NN_OP_COUNT; op++)
		if (fwd[op] + bwd[op] > 0)
			printf("  %-16s %8.1f %8.1f\n", nn_op_name((enum nn_op)op), fwd[op] * 1e3, bwd[op] * 1e3);
	if (to)
		fclose(to);
	if (from)
		fclose(from);
	nn_graph_free(g);
	free(tc);
	free(tt);
	return 0;
}
