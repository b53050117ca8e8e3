/* torch_peer.h: the PyTorch side of a benchmark, as a coprocess. The
 * script (bench/resnet_torch.py, bench/train_step_torch.py) builds the same
 * model with THREADS threads, prints "ready" and then answers the
 * benchmark's line commands on stdin; a line starting with '#' instead
 * says why it can't (no torch), and is passed on to stdout. */
#ifndef DET_BENCH_TORCH_PEER_H
#define DET_BENCH_TORCH_PEER_H

#include <stdio.h>

struct torch_peer {
	FILE *to, *from; /* both NULL: no PyTorch here (the reason was printed) */
};

/* Runs /usr/bin/python3 SCRIPT THREADS N HW; on success p->to/from talk to
 * it. Without python3, or when the script says '#...', both stay NULL. */
void torch_peer_start(struct torch_peer *p, const char *script, int threads, int n, int hw);

#endif
