/* optim_bench.c: one optimiser step over a ResNet-18-sized parameter slab
 * (11.7M floats in its 62 tensors), ours beside PyTorch 1.13's
 * (bench/optim_torch.py as a coprocess, per-tensor loop and foreach),
 * interleaved step by step so both see the same load; medians of REPS
 * steps, with our effective memory bandwidth.
 *
 *   bench/optim_bench [THREADS [REPS]]      (defaults 2 and 20) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/threads.h"
#include "nn/optim.h"

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "bench"
#endif

/* ResNet-18's parameter tensors: conv weights, then BN weight and bias */
static void resnet18_sizes(size_t *sizes, size_t *n)
{
	static const int convs[][4] = { /* out, in, k, count */
		{ 64, 3, 7, 1 }, { 64, 64, 3, 4 }, { 128, 64, 3, 1 }, { 128, 128, 3, 3 }, { 128, 64, 1, 1 },
		{ 256, 128, 3, 1 }, { 256, 256, 3, 3 }, { 256, 128, 1, 1 }, { 512, 256, 3, 1 },
		{ 512, 512, 3, 3 }, { 512, 256, 1, 1 },
	};
	size_t k = 0;

	for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
		for (int r = 0; r < convs[i][3]; r++) {
			sizes[k++] = (size_t)convs[i][0] * convs[i][1] * convs[i][2] * convs[i][2];
			sizes[k++] = (size_t)convs[i][0];   /* bn weight */
			sizes[k++] = (size_t)convs[i][0];   /* bn bias */
		}
	sizes[k++] = 512 * 1000;                    /* fc */
	sizes[k++] = 1000;
	*n = k;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The PyTorch coprocess: bench/optim_torch.py on two pipes. */
struct coproc {
	FILE *to, *from;
	pid_t pid;
};

static int coproc_start(struct coproc *c, int threads, const size_t *sizes, size_t nseg)
{
	char script[4096], *argv[160], nums[128][24], tbuf[16], line[64];
	int in[2], out[2], k = 0;

	snprintf(script, sizeof script, "%s/optim_torch.py", BENCH_SRCDIR);
	if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0 || pipe(in) || pipe(out))
		return -1;
	snprintf(tbuf, sizeof tbuf, "%d", threads);
	argv[k++] = "/usr/bin/python3";
	argv[k++] = script;
	argv[k++] = tbuf;
	for (size_t i = 0; i < nseg; i++) {
		snprintf(nums[i], sizeof nums[i], "%zu", sizes[i]);
		argv[k++] = nums[i];
	}
	argv[k] = NULL;
	c->pid = fork();
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->to = fdopen(in[1], "w");
	c->from = fdopen(out[0], "r");
	if (!fgets(line, sizeof line, c->from) || strncmp(line, "ready", 5) != 0) {
		fclose(c->to);
		fclose(c->from);
		waitpid(c->pid, NULL, 0);
		return -1;
	}
	return 0;
}

static double coproc_step(struct coproc *c, const char *name, int foreach)
{
	char line[64];

	fprintf(c->to, "%s %d\n", name, foreach);
	fflush(c->to);
	if (!fgets(line, sizeof line, c->from))
		return NAN;
	return strtod(line, NULL);
}

static void coproc_stop(struct coproc *c)
{
	fputs("q\n", c->to);
	fclose(c->to);
	fclose(c->from);
	waitpid(c->pid, NULL, 0);
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return t[n / 2];
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 20;
	size_t sizes[128], nseg, total = 0;
	struct optim_segment segs[128];
	static const struct {
		const char *name;
		enum optim_kind kind;
		double bytes;      /* bytes moved per element per step */
	} cases[] = {
		{ "sgd_momentum", OPTIM_SGD, 4 + 20 },       /* norm: g; update: p, g, b in, p, b out */
		{ "adam", OPTIM_ADAM, 4 + 28 },
		{ "adamw", OPTIM_ADAMW, 4 + 28 },
		{ "rmsprop_centered", OPTIM_RMSPROP, 4 + 36 },
	};
	float *p, *g;
	struct rng r;
	struct coproc torch;
	int have_torch;
	double *t0 = malloc((size_t)reps * sizeof *t0), *t1 = malloc((size_t)reps * sizeof *t1);
	double *t2 = malloc((size_t)reps * sizeof *t2);

	setvbuf(stdout, NULL, _IOLBF, 0);
	det_threads_set(threads);
	resnet18_sizes(sizes, &nseg);
	for (size_t i = 0; i < nseg; i++) {
		segs[i] = (struct optim_segment){ "t", total, sizes[i], 0 };
		total += sizes[i];
	}
	p = malloc(total * sizeof *p);
	g = malloc(total * sizeof *g);
	rng_init(&r, 1, 0);
	for (size_t i = 0; i < total; i++) {
		p[i] = rng_normal(&r) * 0.1f;
		g[i] = rng_normal(&r) * 0.01f;
	}
	have_torch = coproc_start(&torch, threads, sizes, nseg) == 0;
	printf("# one optimiser step over ResNet-18's parameters (%zu floats, %zu tensors), %d threads;\n"
	       "# medians of %d steps, ours and PyTorch 1.13's interleaved step by step\n",
	       total, nseg, threads, reps);
	printf("%-18s %9s %7s %10s %11s %11s\n", "optimiser", "ours ms", "GB/s", "torch ms", "foreach ms",
	       "torch/ours");
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct optim *opt = optim_new(cases[c].kind, NULL);
		double ours, tl = NAN, tf = NAN;

		if (cases[c].kind == OPTIM_SGD) {
			optim_set(opt, "momentum", 0.9);
			optim_set(opt, "weight_decay", 5e-4);
		} else if (cases[c].kind == OPTIM_ADAMW) {
			optim_set(opt, "weight_decay", 0.05);
		} else if (cases[c].kind == OPTIM_RMSPROP) {
			optim_set(opt, "momentum", 0.9);
			optim_set(opt, "centered", 1);
			optim_set(opt, "lr", 1e-3);
		}
		optim_bind(opt, p, g, total, segs, nseg);
		optim_step(opt);
		for (int k = 0; k < reps; k++) {
			double s = now();
			optim_step(opt);
			t0[k] = now() - s;
			if (have_torch) {
				t1[k] = coproc_step(&torch, cases[c].name, 0);
				t2[k] = coproc_step(&torch, cases[c].name, 1);
			}
		}
		ours = median(t0, reps) * 1e3;
		if (have_torch) {
			tl = median(t1, reps) * 1e3;
			tf = median(t2, reps) * 1e3;
		}
		printf("%-18s %9.2f %7.1f %10.2f %11.2f %11.2f\n", cases[c].name, ours,
		       cases[c].bytes * (double)total / (ours * 1e-3) / 1e9, tl, tf, fmin(tl, tf) / ours);
		optim_free(opt);
	}
	if (have_torch)
		coproc_stop(&torch);
	else
		printf("# PyTorch: not run (/usr/bin/python3 or bench/optim_torch.py missing, or no torch)\n");
	free(p);
	free(g);
	free(t0);
	free(t1);
	free(t2);
	return 0;
}
