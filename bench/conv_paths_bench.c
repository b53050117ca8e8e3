/* conv_paths_bench: the conv2d paths side by side on ResNet-18's 3x3 and stem
 * shapes at batch 8 — im2col + OpenBLAS ("blas"), the direct kernels as
 * chosen per shape ("auto"), and each direct feed forced ("view", "panel")
 * — with the paths interleaved in every round so that a load change hits
 * all of them. GFLOP/s of forward, backward-data, backward-weights (each
 * counted at the forward's FLOPs) and fwd+bwd, medians over the rounds.
 * With -t 1 the times are the process's CPU time (less disturbed by other
 * processes on a shared machine); otherwise wall time.
 *
 * With -s head: the detection heads' last convolutions instead (128 -> 6
 * and 128 -> 5 channels, 3x3 pad 1, on the FPN levels 32x32 to 2x2).
 * With -s wino: 3x3 stride-1 layers of 32-512 channels on 4x4 to 64x64
 * maps, the direct kernels ("direct") beside Winograd F(2x2,3x3) forced
 * ("winograd"), and their ratio: the figures behind auto's Winograd rules
 * (src/nn/conv.c, wino_use and wino_use_bwdw).
 *
 *   conv_paths_bench [-t threads] [-r rounds] [-l layer] [-s head|wino] */
#include "core/threads.h"
#include "nn/conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUNDS 64

static int cpu_clock;

static double now(void)
{
	struct timespec t;

	clock_gettime(cpu_clock ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static float *filled(long n, long mul)
{
	float *v = malloc((size_t)n * sizeof *v);

	for (long i = 0; v && i < n; i++)
		v[i] = (float)((i * mul) % 1000) / 1000.0f - 0.5f;
	return v;
}

int main(int argc, char **argv)
{
	/* n c h w, c_out kh kw, stride, pad, dilation, groups */
	struct conv2d_shape layers[] = {
		{ 8, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 64, 64, 64, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 32, 32, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 256, 16, 16, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 512, 8, 8, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 3, 256, 256, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1, 0, 0 },
	};
	/* the FCOS head's classification and box/quality outputs, batch 8 */
	struct conv2d_shape heads[] = {
		{ 8, 128, 32, 32, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 32, 32, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 16, 16, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 4, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 2, 2, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
	};
	/* Winograd against the direct kernels, batch 8 */
	struct conv2d_shape wino[] = {
		{ 8, 32, 64, 64, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 64, 64, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 64, 32, 32, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 32, 32, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 128, 4, 4, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 256, 16, 16, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 8, 512, 8, 8, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
	};
	struct conv2d_shape *set = layers;
	size_t nset = sizeof layers / sizeof *layers;
	const enum conv2d_kernel kern_all[] = { CONV2D_KERNEL_BLAS, CONV2D_KERNEL_AUTO,
		CONV2D_KERNEL_VIEW, CONV2D_KERNEL_PANEL };
	const char *kname_all[] = { "blas", "auto", "view", "panel" };
	const enum conv2d_kernel kern_wino[] = { CONV2D_KERNEL_DIRECT, CONV2D_KERNEL_WINOGRAD };
	const char *kname_wino[] = { "direct", "winograd" };
	const enum conv2d_kernel *kern = kern_all;
	const char **kname = kname_all;
	int threads = 2, rounds = 5, only = -1, nk = 4;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-t"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-r"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-l"))
			only = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-s") && !strcmp(argv[i + 1], "head"))
			set = heads, nset = sizeof heads / sizeof *heads;
		else if (!strcmp(argv[i], "-s") && !strcmp(argv[i + 1], "wino"))
			set = wino, nset = sizeof wino / sizeof *wino, kern = kern_wino, kname = kname_wino, nk = 2;
	}
	if (threads < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: %s [-t threads] [-r rounds (1-%d)] [-l layer] [-s head|wino]\n",
			argv[0], MAX_ROUNDS);
		return 2;
	}
	det_threads_set(threads);
	cpu_clock = det_threads_get() == 1;
	printf("conv2d paths, batch 8, %d thread%s, median of %d interleaved rounds (%s time); "
		"micro-kernels: %s\n", det_threads_get(), det_threads_get() > 1 ? "s" : "", rounds,
		cpu_clock ? "CPU" : "wall", conv2d_kernel_isa());
	if (set == heads)
		printf("(the detection heads' last convolutions)\n");
	if (set == wino)
		printf("(Winograd F(2x2,3x3) against the direct kernels; GFLOP/s at the direct FLOPs;\n"
			" ratios: direct time / Winograd time, forward + backward-data and backward-weights)\n");
	printf("%-22s | path: fwd bwd-d bwd-w = fwd+bwd (GFLOP/s), per path\n", "layer");
	for (size_t l = 0; l < nset; l++) {
		struct conv2d_shape s = set[l];
		static double t[4][3][MAX_ROUNDS];
		long nx, ny, nw;
		size_t ws_bytes = 0;
		float *x, *w, *dy, *y, *dx, *dw, *db, *ws;
		double gf;

		if (only >= 0 && (int)l != only)
			continue;
		if (conv2d_shape_init(&s))
			return 1;
		nx = (long)s.n * s.c_in * s.h * s.w;
		ny = (long)s.n * s.c_out * s.h_out * s.w_out;
		nw = (long)s.c_out * s.c_in * s.kh * s.kw;
		for (int m = 0; m < nk; m++) {
			size_t z;

			conv2d_kernel_set(kern[m]);
			z = conv2d_workspace_size(&s);
			if (z > ws_bytes)
				ws_bytes = z;
		}
		x = filled(nx, 7919), w = filled(nw, 31), dy = filled(ny, 104729);
		y = malloc((size_t)ny * 4), dx = malloc((size_t)nx * 4), dw = malloc((size_t)nw * 4);
		db = malloc((size_t)s.c_out * 4), ws = malloc(ws_bytes + 64);
		if (!x || !w || !dy || !y || !dx || !dw || !db || !ws) {
			fprintf(stderr, "conv_paths_bench: out of memory\n");
			return 1;
		}
		for (int r = 0; r < rounds; r++)
			for (int m = 0; m < nk; m++) {
				double t0, t1, t2, t3;

				conv2d_kernel_set(kern[m]);
				t0 = now();
				conv2d_forward(&s, x, w, NULL, y, ws);
				t1 = now();
				conv2d_backward_data(&s, dy, w, dx, 0, ws);
				t2 = now();
				conv2d_backward_weights(&s, x, dy, dw, db, 0, ws);
				t3 = now();
				t[m][0][r] = t1 - t0, t[m][1][r] = t2 - t1, t[m][2][r] = t3 - t2;
			}
		gf = conv2d_flops(&s) * 1e-9;
		{
			char label[64];

			snprintf(label, sizeof label, "%dx%d/%d %d->%d %dx%d", s.kh, s.kw, s.stride_h,
				s.c_in, s.c_out, s.h, s.w);
			printf("%-22s", label);
		}
		for (int m = 0; m < nk; m++) {
			double total = 0;

			printf(" | %s", kname[m]);
			for (int k = 0; k < 3; k++) {
				qsort(t[m][k], (size_t)rounds, sizeof(double), cmp_double);
				printf(" %5.1f", gf / t[m][k][rounds / 2]);
				total += t[m][k][rounds / 2];
			}
			printf(" = %5.1f", 3 * gf / total);
		}
		if (set == wino) {
			const int h = rounds / 2;

			printf(" | %.2fx %.2fx", (t[0][0][h] + t[0][1][h]) / (t[1][0][h] + t[1][1][h]),
				t[0][2][h] / t[1][2][h]);
		}
		printf("\n");
		fflush(stdout);
		free(x), free(w), free(dy), free(y), free(dx), free(dw), free(db), free(ws);
	}
	conv2d_kernel_set(CONV2D_KERNEL_AUTO);
	return 0;
}
