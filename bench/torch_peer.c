/* torch_peer.c: the benchmarks' shared options, statistics and PyTorch
 * coprocess. */
#include "bench/torch_peer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

void bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	int opt;

	o->threads = 2, o->reps = 5, o->n = 8, o->hw = 256;
	while ((opt = getopt(argc, argv, "t:r:n:s:")) != -1) {
		if (opt == 't')
			o->threads = atoi(optarg);
		else if (opt == 'r')
			o->reps = atoi(optarg);
		else if (opt == 'n')
			o->n = atoi(optarg);
		else if (opt == 's')
			o->hw = atoi(optarg);
	}
	if (o->reps < 1)
		o->reps = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

long bench_peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

void torch_peer_start(struct torch_peer *p, const char *script, const struct bench_opts *o)
{
	int p_in[2], p_out[2];
	char line[256], path[512];

	memset(p, 0, sizeof *p);
	p->times = calloc((size_t)o->reps, sizeof *p->times);
	snprintf(path, sizeof path, "%s/%s", BENCH_SRCDIR, script);
	if (getenv("DET_BENCH_NO_TORCH") && *getenv("DET_BENCH_NO_TORCH")) {
		printf("# PyTorch side skipped (DET_BENCH_NO_TORCH is set)\n");
		return;
	}
	if (!p->times || access("/usr/bin/python3", X_OK) != 0 || pipe(p_in) != 0)
		return;
	if (pipe(p_out) != 0) {
		close(p_in[0]), close(p_in[1]);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char a[16], b[16], c[16];

		dup2(p_in[0], 0);
		dup2(p_out[1], 1);
		close(p_in[1]);
		close(p_out[0]);
		snprintf(a, sizeof a, "%d", o->threads);
		snprintf(b, sizeof b, "%d", o->n);
		snprintf(c, sizeof c, "%d", o->hw);
		execl("/usr/bin/python3", "python3", path, a, b, c, (char *)NULL);
		_exit(127);
	}
	close(p_in[0]);
	close(p_out[1]);
	p->to = fdopen(p_in[1], "w");
	p->from = fdopen(p_out[0], "r");
	while (p->from && fgets(line, sizeof line, p->from) && strncmp(line, "ready", 5))
		if (line[0] == '#') {
			fputs(line, stdout);
			fclose(p->from);
			p->from = NULL;
		}
	if (!p->from && p->to) {
		fclose(p->to);
		p->to = NULL;
	}
}

void torch_peer_step(struct torch_peer *p, int rep)
{
	char line[256];

	if (!p->to || !p->from)
		return;
	fputs("s\n", p->to);
	fflush(p->to);
	if (fgets(line, sizeof line, p->from) && rep >= 0)
		p->times[p->ntimes++] = atof(line);
}

void torch_peer_report(struct torch_peer *p, const struct bench_opts *o, double seconds, double flops,
	long rss_kib)
{
	long prss = 0, pbase = 0;
	char line[256];

	if (!p->to || !p->from || p->ntimes != o->reps)
		return;
	double mt = bench_median(p->times, p->ntimes);
	fputs("q\n", p->to);
	fflush(p->to);
	if (fgets(line, sizeof line, p->from))
		sscanf(line, "rss %ld %ld", &prss, &pbase);
	printf("%-22s %10.3f %10.1f %9ld MiB   (%ld MiB before the first step)\n", "PyTorch 1.13", mt,
		flops / mt / 1e9, prss >> 10, pbase >> 10);
	printf("%-22s %10.2fx %21.2fx\n", "detbench / PyTorch", seconds / mt, prss ? (double)rss_kib / (double)prss : 0.0);
}

void torch_peer_close(struct torch_peer *p)
{
	if (p->to)
		fclose(p->to);
	if (p->from)
		fclose(p->from);
	free(p->times);
	memset(p, 0, sizeof *p);
}
