/* conv_bench: conv2d kernel speed on the ResNet-18 layer shapes at
 * 8x3x256x256, beside OpenBLAS sgemm (n = 1024) measured in the same process
 * and PyTorch's figures for the same shapes (bench/conv_torch.py run through
 * popen after our measurements, same thread count), in one table.
 *
 *   conv_bench [--threads N] [--reps N] [--no-torch] [--keep-core]
 *
 * GFLOP/s = conv2d_flops / median time; backward-data and backward-weights
 * are counted at the forward's FLOPs each, fwd+bwd = 3 * FLOPs / (sum of the
 * three medians). OpenBLAS 0.3.21 does not recognise some newer CPUs and
 * falls back to its Prescott (SSE3) kernels; unless --keep-core is given the
 * program then re-executes itself with OPENBLAS_CORETYPE set to the best
 * kernel family the CPU supports, and prints which one ran. */
#include "core/threads.h"
#include "nn/conv.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "bench"
#endif

struct layer {
	const char *name;
	struct conv2d_shape s;
	double g[4];  /* ours: fwd, bwd-data, bwd-weights, fwd+bwd GFLOP/s */
	double pt[4]; /* PyTorch's, or -1 */
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static float *filled(size_t n, unsigned seed)
{
	float *v = malloc(n * sizeof *v);

	if (!v) {
		fprintf(stderr, "conv_bench: out of memory (%zu floats)\n", n);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		v[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
	}
	return v;
}

static double sgemm_gflops(int reps)
{
	const int n = 1024;
	float *a = filled((size_t)n * n, 1), *b = filled((size_t)n * n, 2), *c = filled((size_t)n * n, 3);
	double t[64];

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	for (int r = 0; r < reps; r++) {
		double t0 = now();

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		t[r] = now() - t0;
	}
	free(a), free(b), free(c);
	return 2.0 * n * n * n / median(t, reps) * 1e-9;
}

static struct conv2d_shape shp(int c, int hw, int co, int k, int stride, int pad, int groups)
{
	struct conv2d_shape s = { 8, c, hw, hw, co, k, k, stride, stride, pad, pad, 1, 1, groups, 0, 0 };

	return s;
}

static void bench_layer(struct layer *l, float *ws, int reps)
{
	struct conv2d_shape *s = &l->s;
	size_t nx = (size_t)s->n * s->c_in * s->h * s->w, ny = (size_t)s->n * s->c_out * s->h_out * s->w_out;
	size_t nw = (size_t)s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
	float *x = filled(nx, 4), *w = filled(nw, 5), *b = filled(s->c_out, 6), *dy = filled(ny, 7);
	float *y = filled(ny, 8), *dx = filled(nx, 9), *dw = filled(nw, 10), *db = filled(s->c_out, 11);
	double t[3][64], flops = conv2d_flops(s);

	for (int r = -1; r < reps; r++) {
		double t0 = now(), t1, t2, t3;

		conv2d_forward(s, x, w, b, y, ws);
		t1 = now();
		conv2d_backward_data(s, dy, w, dx, 0, ws);
		t2 = now();
		conv2d_backward_weights(s, x, dy, dw, db, 0, ws);
		t3 = now();
		if (r >= 0)
			t[0][r] = t1 - t0, t[1][r] = t2 - t1, t[2][r] = t3 - t2;
	}
	{
		double m[3];

		for (int k = 0; k < 3; k++) {
			m[k] = median(t[k], reps);
			l->g[k] = flops / m[k] * 1e-9;
		}
		l->g[3] = 3 * flops / (m[0] + m[1] + m[2]) * 1e-9;
	}
	free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
}

/* Runs conv_torch.py on the same shapes; fills pt[] where it answers. */
static void run_torch(struct layer *ls, int nl, int threads, int reps, char *note, size_t notesz)
{
	char cmd[8192], line[512];
	const char *top = getenv("top_srcdir");
	size_t len;
	FILE *p;

	if (access("/usr/bin/python3", X_OK) != 0) {
		snprintf(note, notesz, "PyTorch: /usr/bin/python3 not found");
		return;
	}
	len = (size_t)snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s%s/conv_torch.py %d %d",
		top ? top : BENCH_SRCDIR, top ? "/bench" : "", threads, reps);
	for (int i = 0; i < nl && len < sizeof cmd - 128; i++) {
		const struct conv2d_shape *s = &ls[i].s;

		len += (size_t)snprintf(cmd + len, sizeof cmd - len, " L%d:%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", i,
			s->n, s->c_in, s->h, s->w, s->c_out, s->kh, s->kw, s->stride_h, s->pad_h, s->groups);
	}
	snprintf(cmd + len, sizeof cmd - len, " 2>&1");
	fflush(stdout);
	if (!(p = popen(cmd, "r"))) {
		snprintf(note, notesz, "PyTorch: can't run python3 (%s)", strerror(errno));
		return;
	}
	note[0] = 0;
	while (fgets(line, sizeof line, p)) {
		int i;
		double v[4];

		if (line[0] == '#') {
			line[strcspn(line, "\n")] = 0;
			snprintf(note, notesz, "PyTorch: %.200s", line + 2);
		} else if (sscanf(line, "L%d %lf %lf %lf %lf", &i, &v[0], &v[1], &v[2], &v[3]) == 5 &&
		           i >= 0 && i < nl) {
			memcpy(ls[i].pt, v, sizeof v);
		}
	}
	pclose(p);
}

/* Re-executes with OPENBLAS_CORETYPE set when OpenBLAS fell back to Prescott. */
static void fix_openblas_core(char **argv)
{
	const char *core = openblas_get_corename(), *want = NULL;

	if (getenv("OPENBLAS_CORETYPE") || strcmp(core, "Prescott") != 0)
		return;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		want = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		want = "Haswell";
	if (!want)
		return;
	setenv("OPENBLAS_CORETYPE", want, 1);
	execv("/proc/self/exe", argv);
	unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 5, torch = 1, keep_core = 0;
	struct layer ls[] = {
		{ "stem 7x7/2 3->64", shp(3, 256, 64, 7, 2, 3, 1), { 0 }, { 0 } },
		{ "3x3/1 64->64", shp(64, 64, 64, 3, 1, 1, 1), { 0 }, { 0 } },
		{ "3x3/2 64->128", shp(64, 64, 128, 3, 2, 1, 1), { 0 }, { 0 } },
		{ "3x3/1 128->128", shp(128, 32, 128, 3, 1, 1, 1), { 0 }, { 0 } },
		{ "3x3/1 256->256", shp(256, 16, 256, 3, 1, 1, 1), { 0 }, { 0 } },
		{ "3x3/1 512->512", shp(512, 8, 512, 3, 1, 1, 1), { 0 }, { 0 } },
		{ "1x1/2 64->128", shp(64, 64, 128, 1, 2, 0, 1), { 0 }, { 0 } },
		{ "1x1/1 128->128", shp(128, 32, 128, 1, 1, 0, 1), { 0 }, { 0 } },
		{ "dw 3x3/1 128", shp(128, 64, 128, 3, 1, 1, 128), { 0 }, { 0 } },
	};
	const int nl = (int)(sizeof ls / sizeof *ls);
	size_t wsz = 0;
	double sg, pct3x3_sum = 0;
	int n3x3 = 0;
	char note[256] = "PyTorch: not run (--no-torch)";
	float *ws;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-torch"))
			torch = 0;
		else if (!strcmp(argv[i], "--keep-core"))
			keep_core = 1;
		else {
			fprintf(stderr, "usage: %s [--threads N] [--reps N] [--no-torch] [--keep-core]\n", argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > 64 || threads < 1) {
		fprintf(stderr, "conv_bench: --reps must be 1..64 and --threads positive\n");
		return 2;
	}
	if (!keep_core)
		fix_openblas_core(argv);
	/* the workspace cap follows the default thread count: make it the one asked for */
	{
		char tb[16];

		snprintf(tb, sizeof tb, "%d", threads);
		setenv("DETBENCH_THREADS", tb, 1);
	}
	det_threads_set(threads);
	for (int i = 0; i < nl; i++) {
		size_t z;

		if (conv2d_shape_init(&ls[i].s)) {
			fprintf(stderr, "conv_bench: bad shape %s\n", ls[i].name);
			return 1;
		}
		z = conv2d_workspace_size(&ls[i].s);
		wsz = z > wsz ? z : wsz;
		for (int k = 0; k < 4; k++)
			ls[i].pt[k] = -1;
	}
	ws = malloc(wsz + sizeof(float));
	sg = sgemm_gflops(reps < 5 ? 5 : reps);
	for (int i = 0; i < nl; i++)
		bench_layer(&ls[i], ws, reps);
	if (torch)
		run_torch(ls, nl, threads, reps, note, sizeof note);

	printf("conv2d, batch 8, %d threads, median of %d reps; OpenBLAS %s core %s; workspace %.1f MiB\n",
		det_threads_get(), reps, openblas_get_config(), openblas_get_corename(), wsz / 1048576.0);
	printf("%s\n", note);
	printf("sgemm n=1024 (same process): %.1f GFLOP/s\n\n", sg);
	printf("%-16s %-14s %6s | %6s %6s %6s %7s %6s | %6s %6s %6s %7s | %6s\n", "layer", "input",
		"GFLOP", "fwd", "bwd-d", "bwd-w", "fwd+bwd", "%sgemm", "pt fwd", "pt bd", "pt bw",
		"pt f+b", "ours/pt");
	for (int i = 0; i < nl; i++) {
		struct layer *l = &ls[i];
		char in[32], pt[64], ratio[16];

		snprintf(in, sizeof in, "%dx%dx%d", l->s.c_in, l->s.h, l->s.w);
		if (l->pt[0] >= 0) {
			snprintf(pt, sizeof pt, "%6.1f %6.1f %6.1f %7.1f", l->pt[0], l->pt[1], l->pt[2], l->pt[3]);
			snprintf(ratio, sizeof ratio, "%5.2fx", l->g[3] / l->pt[3]);
		} else {
			snprintf(pt, sizeof pt, "%6s %6s %6s %7s", "-", "-", "-", "-");
			snprintf(ratio, sizeof ratio, "%6s", "-");
		}
		printf("%-16s %-14s %6.2f | %6.1f %6.1f %6.1f %7.1f %5.0f%% | %s | %s\n", l->name, in,
			conv2d_flops(&l->s) * 1e-9, l->g[0], l->g[1], l->g[2], l->g[3], 100 * l->g[3] / sg,
			pt, ratio);
		if (l->s.kh == 3 && l->s.groups == 1) {
			pct3x3_sum += 100 * l->g[3] / sg;
			n3x3++;
		}
	}
	printf("\nGFLOP/s; bwd-d/bwd-w counted at the forward's FLOPs; %%sgemm = fwd+bwd / sgemm.\n");
	printf("3x3 dense layers, fwd+bwd: mean %.0f%% of sgemm (target >= 85%%)\n", pct3x3_sum / n3x3);
	free(ws);
	return 0;
}
