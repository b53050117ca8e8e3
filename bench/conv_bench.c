/* conv_bench: conv2d kernel speed on the ResNet-18 layer shapes at
 * 8x3x256x256, beside OpenBLAS sgemm (n = 1024) measured in the same process
 * and PyTorch's figures for the same shapes, in one table.
 *
 *   conv_bench [--threads N] [--reps N] [--no-torch] [--keep-core]
 *
 * Our kernels are auto's choice per layer unless $DETBENCH_CONV_KERNEL says
 * otherwise (direct: auto without Winograd, for the direct kernels' own
 * figures).
 *
 * The machine this runs on is often shared, so the measurements are taken
 * in rounds: each round times one sgemm, then for every layer one forward,
 * backward-data and backward-weights of ours and then of PyTorch's
 * (bench/conv_torch.py --serve, a coprocess with the same thread count), so
 * load that comes and goes falls on both alike; the table shows the median
 * over the rounds. GFLOP/s = conv2d_flops / median time; backward-data and
 * backward-weights are counted at the forward's FLOPs each, fwd+bwd =
 * 3 * FLOPs / (sum of the three medians).
 *
 * OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to its
 * Prescott (SSE3) kernels; unless --keep-core is given the program then
 * re-executes itself with OPENBLAS_CORETYPE set to the best kernel family
 * the CPU supports, and prints which one ran. */
#include "core/threads.h"
#include "nn/conv.h"

#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "bench"
#endif

#define MAX_REPS 64

struct layer {
	const char *name;
	struct conv2d_shape s;
	double g[4];  /* ours: fwd, bwd-data, bwd-weights, fwd+bwd GFLOP/s */
	double pt[4]; /* PyTorch's, or -1 */
	float *x, *w, *b, *dy, *y, *dx, *dw, *db;
	double t[2][3][MAX_REPS]; /* [ours, torch][op][round] seconds */
	int gm, gn, gk;           /* the forward's per-thread sgemm block (0: none) */
	int gcalls;               /* sgemm calls per timing, about 0.4 GFLOP a thread */
	float *ga[64], *gb[64], *gc[64];
	double tg[MAX_REPS], gg;  /* that sgemm on every thread at once, GFLOP/s */
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

/* One timed n=1024 sgemm (after an untimed one, so OpenBLAS's threads are awake). */
static double sgemm_seconds(const float *a, const float *b, float *c)
{
	const int n = 1024;
	double t0;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	t0 = now();
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	return now() - t0;
}

static struct conv2d_shape shp(int c, int hw, int co, int k, int stride, int pad, int groups)
{
	struct conv2d_shape s = { 8, c, hw, hw, co, k, k, stride, stride, pad, pad, 1, 1, groups, 0, 0 };

	return s;
}

static void layer_alloc(struct layer *l)
{
	const struct conv2d_shape *s = &l->s;
	size_t nx = (size_t)s->n * s->c_in * s->h * s->w, ny = (size_t)s->n * s->c_out * s->h_out * s->w_out;
	size_t nw = (size_t)s->c_out * (s->c_in / s->groups) * s->kh * s->kw;

	l->x = filled(nx, 4), l->w = filled(nw, 5), l->b = filled(s->c_out, 6), l->dy = filled(ny, 7);
	l->y = filled(ny, 8), l->dx = filled(nx, 9), l->dw = filled(nw, 10), l->db = filled(s->c_out, 11);
}

/* The reference for what OpenBLAS gives on the layer's own shape: every
 * thread runs one single-threaded sgemm of the forward's block shape at
 * once, as the conv kernels do. Seconds of wall time. */
static double gemm_block_seconds(struct layer *l, int threads)
{
	double t0;

	openblas_set_num_threads(1);
	t0 = now();
#pragma omp parallel num_threads(threads)
	{
		int t = omp_get_thread_num();

		for (int k = 0; k < l->gcalls; k++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->gm, l->gn, l->gk, 1,
				l->ga[t], l->gk, l->gb[t], l->gn, 0, l->gc[t], l->gn);
	}
	t0 = now() - t0;
	openblas_set_num_threads(det_threads_get());
	return t0;
}

static void gemm_block_alloc(struct layer *l, int threads)
{
	long cols = conv2d_block_columns(&l->s);

	if (cols <= 0 || l->s.groups != 1 || threads > 64)
		return;
	l->gm = l->s.c_out, l->gn = (int)cols, l->gk = l->s.c_in * l->s.kh * l->s.kw;
	l->gcalls = (int)(4e8 / (2.0 * l->gm * l->gn * l->gk)) + 1;
	for (int t = 0; t < threads; t++) {
		l->ga[t] = filled((size_t)l->gm * l->gk, 12 + t);
		l->gb[t] = filled((size_t)l->gk * l->gn, 13 + t);
		l->gc[t] = filled((size_t)l->gm * l->gn, 14 + t);
	}
}

static void layer_free(struct layer *l)
{
	for (int t = 0; t < 64; t++)
		free(l->ga[t]), free(l->gb[t]), free(l->gc[t]);
	free(l->x), free(l->w), free(l->b), free(l->dy);
	free(l->y), free(l->dx), free(l->dw), free(l->db);
}

/* One forward, backward-data and backward-weights; seconds into t[3]. */
static void layer_once(struct layer *l, float *ws, double *t)
{
	double t0 = now(), t1, t2;

	conv2d_forward(&l->s, l->x, l->w, l->b, l->y, ws);
	t1 = now();
	conv2d_backward_data(&l->s, l->dy, l->w, l->dx, 0, ws);
	t2 = now();
	conv2d_backward_weights(&l->s, l->x, l->dy, l->dw, l->db, 0, ws);
	t[0] = t1 - t0, t[1] = t2 - t1, t[2] = now() - t2;
}

static void pause_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };

	nanosleep(&t, NULL);
}

/* The PyTorch coprocess: conv_torch.py --serve on the bench's shapes. */
struct torch_proc {
	pid_t pid;
	FILE *in, *out;
};

static int torch_start(struct torch_proc *tp, struct layer *ls, int nl, int threads,
	char *note, size_t notesz)
{
	char script[4096], specs[64][96], line[512];
	const char *top = getenv("top_srcdir");
	char *argv[80];
	int to[2], from[2], k = 0;

	snprintf(script, sizeof script, "%s%s/conv_torch.py", top ? top : BENCH_SRCDIR,
		top ? "/bench" : "");
	if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0) {
		snprintf(note, notesz, "PyTorch: not run (/usr/bin/python3 or %.150s missing)", script);
		return -1;
	}
	argv[k++] = "/usr/bin/python3";
	argv[k++] = script;
	argv[k++] = "--serve";
	snprintf(specs[63], sizeof specs[63], "%d", threads);
	argv[k++] = specs[63];
	for (int i = 0; i < nl && i < 60; i++) {
		const struct conv2d_shape *s = &ls[i].s;

		snprintf(specs[i], sizeof specs[i], "L%d:%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", i, s->n, s->c_in,
			s->h, s->w, s->c_out, s->kh, s->kw, s->stride_h, s->pad_h, s->groups);
		argv[k++] = specs[i];
	}
	argv[k] = NULL;
	if (pipe(to) || pipe(from)) {
		snprintf(note, notesz, "PyTorch: pipe failed (%s)", strerror(errno));
		return -1;
	}
	fflush(stdout);
	tp->pid = fork();
	if (tp->pid == 0) {
		dup2(to[0], 0), dup2(from[1], 1), dup2(from[1], 2);
		close(to[0]), close(to[1]), close(from[0]), close(from[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(to[0]), close(from[1]);
	if (tp->pid < 0) {
		close(to[1]), close(from[0]);
		snprintf(note, notesz, "PyTorch: fork failed (%s)", strerror(errno));
		return -1;
	}
	tp->in = fdopen(to[1], "w");
	tp->out = fdopen(from[0], "r");
	snprintf(note, notesz, "PyTorch: no answer from %.150s", script);
	while (fgets(line, sizeof line, tp->out)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "ready"))
			return 0;
		snprintf(note, notesz, "PyTorch: %.200s", line[0] == '#' ? line + 2 : line);
	}
	fclose(tp->in), fclose(tp->out);
	waitpid(tp->pid, NULL, 0);
	tp->pid = 0;
	return -1;
}

static int torch_once(struct torch_proc *tp, int i, double *t)
{
	char line[256];

	fprintf(tp->in, "%d\n", i);
	fflush(tp->in);
	return fgets(line, sizeof line, tp->out) &&
		sscanf(line, "%lf %lf %lf", &t[0], &t[1], &t[2]) == 3 ? 0 : -1;
}

static void torch_stop(struct torch_proc *tp)
{
	fprintf(tp->in, "q\n");
	fclose(tp->in), fclose(tp->out);
	waitpid(tp->pid, NULL, 0);
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
		{ .name = "stem 7x7/2 3->64", .s = shp(3, 256, 64, 7, 2, 3, 1) },
		{ .name = "3x3/1 64->64", .s = shp(64, 64, 64, 3, 1, 1, 1) },
		{ .name = "3x3/2 64->128", .s = shp(64, 64, 128, 3, 2, 1, 1) },
		{ .name = "3x3/1 128->128", .s = shp(128, 32, 128, 3, 1, 1, 1) },
		{ .name = "3x3/1 256->256", .s = shp(256, 16, 256, 3, 1, 1, 1) },
		{ .name = "3x3/1 512->512", .s = shp(512, 8, 512, 3, 1, 1, 1) },
		{ .name = "1x1/2 64->128", .s = shp(64, 64, 128, 1, 2, 0, 1) },
		{ .name = "1x1/1 128->128", .s = shp(128, 32, 128, 1, 1, 0, 1) },
		{ .name = "dw 3x3/1 128", .s = shp(128, 64, 128, 3, 1, 1, 128) },
	};
	const int nl = (int)(sizeof ls / sizeof *ls);
	size_t wsz = 0;
	double sg, pct3x3_sum = 0;
	int n3x3 = 0;
	char note[256] = "PyTorch: not run (--no-torch)";
	struct torch_proc tp = { 0, NULL, NULL };
	int have_torch = 0;
	double load0 = -1;
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
	if (reps < 1 || reps > MAX_REPS || threads < 1) {
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
	{
		double la[3];

		if (getloadavg(la, 3) == 3)
			load0 = la[0];
	}
	ws = malloc(wsz + sizeof(float));
	for (int i = 0; i < nl; i++) {
		layer_alloc(&ls[i]);
		gemm_block_alloc(&ls[i], threads);
	}
	if (torch)
		have_torch = torch_start(&tp, ls, nl, threads, note, sizeof note) == 0;
	{
		float *a = filled(1024 * 1024, 1), *b = filled(1024 * 1024, 2), *c = filled(1024 * 1024, 3);
		double sgt[MAX_REPS];

		for (int r = -1; r < reps; r++) {
			double t = sgemm_seconds(a, b, c), tt[3];

			if (r >= 0)
				sgt[r] = t;
			pause_ms(150); /* let OpenBLAS's threads stop spinning */
			for (int i = 0; i < nl; i++) {
				if (ls[i].gm) {
					gemm_block_seconds(&ls[i], threads);
					t = gemm_block_seconds(&ls[i], threads);
					if (r >= 0)
						ls[i].tg[r] = t;
				}
				layer_once(&ls[i], ws, tt);
				if (r >= 0)
					for (int k = 0; k < 3; k++)
						ls[i].t[0][k][r] = tt[k];
				if (!have_torch)
					continue;
				pause_ms(10);
				if (torch_once(&tp, i, tt)) {
					snprintf(note, sizeof note, "PyTorch: the coprocess stopped answering");
					have_torch = 0;
					continue;
				}
				if (r >= 0)
					for (int k = 0; k < 3; k++)
						ls[i].t[1][k][r] = tt[k];
				pause_ms(10);
			}
		}
		sg = 2.0 * 1024 * 1024 * 1024 / median(sgt, reps) * 1e-9;
		free(a), free(b), free(c);
	}
	if (tp.pid > 0)
		torch_stop(&tp);
	for (int i = 0; i < nl; i++) {
		double flops = conv2d_flops(&ls[i].s);

		if (ls[i].gm)
			ls[i].gg = 2.0 * threads * ls[i].gcalls * ls[i].gm * ls[i].gn * ls[i].gk /
				median(ls[i].tg, reps) * 1e-9;

		for (int who = 0; who < (have_torch ? 2 : 1); who++) {
			double m[3], *g = who ? ls[i].pt : ls[i].g;

			for (int k = 0; k < 3; k++) {
				m[k] = median(ls[i].t[who][k], reps);
				g[k] = flops / m[k] * 1e-9;
			}
			g[3] = 3 * flops / (m[0] + m[1] + m[2]) * 1e-9;
		}
		layer_free(&ls[i]);
	}

	{
		double la[3];

		if (getloadavg(la, 3) == 3)
			printf("load average %.2f at the start, %.2f at the end (1-minute)\n", load0, la[0]);
	}
	printf("conv2d, batch 8, %d threads, median of %d interleaved rounds; OpenBLAS %s core %s; workspace %.1f MiB\n",
		det_threads_get(), reps, openblas_get_config(), openblas_get_corename(), wsz / 1048576.0);
	printf("%s\n", note);
	{
		const char *k = getenv("DETBENCH_CONV_KERNEL");

		printf("our kernels: %s (%s micro-kernels)%s\n", k && *k ? k : "auto", conv2d_kernel_isa(),
			!k || !*k || !strcmp(k, "auto") || !strcmp(k, "winograd") ?
			"; the 3x3/1 layers run Winograd F(2x2,3x3): GFLOP/s count the direct convolution's FLOPs" : "");
	}
	printf("sgemm n=1024 (same process): %.1f GFLOP/s\n\n", sg);
	printf("%-16s %-12s %5s | %6s %6s %6s %7s %6s | %7s %6s | %6s %6s %6s %7s | %6s\n", "layer",
		"input", "GFLOP", "fwd", "bwd-d", "bwd-w", "fwd+bwd", "%sgemm", "blkgemm", "%blk",
		"pt fwd", "pt bd", "pt bw", "pt f+b", "ours/pt");
	for (int i = 0; i < nl; i++) {
		struct layer *l = &ls[i];
		char in[32], pt[64], ratio[16], blk[32], blkg[16];

		snprintf(in, sizeof in, "%dx%dx%d", l->s.c_in, l->s.h, l->s.w);
		if (have_torch) {
			snprintf(pt, sizeof pt, "%6.1f %6.1f %6.1f %7.1f", l->pt[0], l->pt[1], l->pt[2], l->pt[3]);
			snprintf(ratio, sizeof ratio, "%5.2fx", l->g[3] / l->pt[3]);
		} else {
			snprintf(pt, sizeof pt, "%6s %6s %6s %7s", "-", "-", "-", "-");
			snprintf(ratio, sizeof ratio, "%6s", "-");
		}
		if (l->gm) {
			snprintf(blk, sizeof blk, "%6.1f", l->gg);
			snprintf(blkg, sizeof blkg, "%5.0f%%", 100 * l->g[3] / l->gg);
		} else {
			snprintf(blk, sizeof blk, "-");
			snprintf(blkg, sizeof blkg, "-");
		}
		printf("%-16s %-12s %5.2f | %6.1f %6.1f %6.1f %7.1f %5.0f%% | %7s %6s | %s | %s\n",
			l->name, in, conv2d_flops(&l->s) * 1e-9, l->g[0], l->g[1], l->g[2], l->g[3],
			100 * l->g[3] / sg, blk, blkg, pt, ratio);

		if (l->s.kh == 3 && l->s.groups == 1) {
			pct3x3_sum += 100 * l->g[3] / sg;
			n3x3++;
		}
	}
	printf("\nGFLOP/s; bwd-d/bwd-w counted at the forward's FLOPs; %%sgemm = fwd+bwd / sgemm n=1024;\n"
		"block sgemm: every thread at once running a single-threaded sgemm of the forward's\n"
		"block shape (C_out x K x columns), what OpenBLAS gives on the layer's own shape;\n"
		"%%blk = fwd+bwd / that. Block shapes (C_out x K x columns):");
	for (int i = 0; i < nl; i++)
		if (ls[i].gm)
			printf("%s %s %dx%dx%d", i ? "," : "", ls[i].name, ls[i].gm, ls[i].gk, ls[i].gn);
	printf("\n");
	printf("3x3 dense layers, fwd+bwd: mean %.0f%% of sgemm (target >= 85%%)\n", pct3x3_sum / n3x3);
	free(ws);
	return 0;
}
