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

int main(int argc, char **argv)
{
	int in, out;
	static const int blocks[4] = { 2, 2, 2, 2 };
	struct nn_graph *g;
	double *tc, flops = 0, fwd[NN_OP_COUNT] = { 0 }, bwd[NN_OP_COUNT] = { 0 };
	long rss_before, rss_after;
	struct nn_graph_stats st;
	struct bench_opts bo;
	bench_opts_parse(&bo, argc, argv);
	const int threads = bo.threads, reps = bo.reps, n = bo.n, hw = bo.hw;
	det_threads_set(threads);
	tc = calloc((size_t)reps, sizeof(double));

	/* PyTorch as a coprocess */
	struct torch_peer peer;
	torch_peer_start(&peer, "resnet_torch.py", &bo);

	rss_before = bench_peak_rss_kib();
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
		torch_peer_step(&peer, rep);
	}
	rss_after = bench_peak_rss_kib();
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
		double m = bench_median(tc, reps);
		printf("%-22s %10.3f %10.1f %9ld MiB   (arena %zu MiB, one buffer each would be %zu MiB)\n",
			"detbench", m, 3 * flops / m / 1e9, rss_after >> 10, st.arena_bytes >> 20, st.naive_bytes >> 20);
		(void)rss_before;
		torch_peer_report(&peer, &bo, m, 3 * flops, rss_after);
	}
	printf("\ntime per op kind (ms per step): forward, backward\n");
	for (int op = 0; op < NN_OP_COUNT; op++)
		if (fwd[op] + bwd[op] > 0)
			printf("  %-16s %8.1f %8.1f\n", nn_op_name((enum nn_op)op), fwd[op] * 1e3, bwd[op] * 1e3);
	torch_peer_close(&peer);
	nn_graph_free(g);
	free(tc);
	return 0;
}
