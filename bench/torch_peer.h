/* torch_peer.h: what the ResNet-18 and FCOS step benchmarks share — their
 * options, medians and peak RSS, and the PyTorch side as a coprocess. The
 * script (bench/resnet_torch.py, bench/train_step_torch.py) builds the same
 * model with THREADS threads, prints "ready", then answers "s" with one
 * timed step's seconds and "q" with "rss <peak KiB> <KiB before the first
 * step>"; a first line starting with '#' says why it can't (no torch) and
 * is passed on to stdout. DET_BENCH_NO_TORCH=1 in the environment leaves the
 * peer off (for profiling our side alone). */
#ifndef DET_BENCH_TORCH_PEER_H
#define DET_BENCH_TORCH_PEER_H

#include <stdio.h>

/* -t threads (2), -r repetitions (5), -n batch (8), -s image size (256) */
struct bench_opts {
	int threads, reps, n, hw;
};
void bench_opts_parse(struct bench_opts *o, int argc, char **argv);
/* The median of v[0..n) (sorts v). */
double bench_median(double *v, int n);
/* This process's peak RSS so far, KiB. */
long bench_peak_rss_kib(void);

struct torch_peer {
	FILE *to, *from; /* both NULL: no PyTorch here (the reason was printed) */
	double *times;   /* its step times, o->reps of them */
	int ntimes;
};

/* Runs /usr/bin/python3 SCRIPT (in the bench source folder) THREADS N HW;
 * without python3, or when the script says '#...', the peer stays off. */
void torch_peer_start(struct torch_peer *p, const char *script, const struct bench_opts *o);
/* One PyTorch step, after one of ours; rep < 0 (the warm-up) is not kept. */
void torch_peer_step(struct torch_peer *p, int rep);
/* After our line of the table: PyTorch's line and the ratios (ours over
 * PyTorch's), when every step was timed. seconds: our median; flops per
 * step; rss_kib: our peak. */
void torch_peer_report(struct torch_peer *p, const struct bench_opts *o, double seconds, double flops,
	long rss_kib);
void torch_peer_close(struct torch_peer *p);

#endif
