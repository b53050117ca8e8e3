#!/usr/bin/python3
"""optim_torch.py: PyTorch 1.13's optimiser step time on the parameter set
bench/optim_bench.c measures, as a coprocess, so the C program can
interleave its own steps with PyTorch's and both see the same machine load.

  optim_torch.py THREADS SIZE...     (SIZE: the element count of each tensor)

Prints "ready", then answers each line "NAME FOREACH" (NAME one of
sgd_momentum, adam, adamw, rmsprop_centered; FOREACH 0 or 1) with the
seconds of one optimiser step; "q" quits. foreach=0 is the per-tensor loop
(torch 1.13's default on CPU).
"""
import sys
import time

try:
    import torch
except ImportError:
    print("# torch not available", flush=True)
    sys.exit(0)


def main():
    threads = int(sys.argv[1])
    sizes = [int(v) for v in sys.argv[2:]]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(n) * 0.1) for n in sizes]
    for p in params:
        p.grad = torch.randn_like(p) * 0.01
    makers = {
        "sgd_momentum": lambda f: torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4, foreach=f),
        "adam": lambda f: torch.optim.Adam(params, lr=1e-3, foreach=f),
        "adamw": lambda f: torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05, foreach=f),
        "rmsprop_centered": lambda f: torch.optim.RMSprop(params, lr=1e-3, momentum=0.9, centered=True,
                                                          foreach=f),
    }
    opts = {}
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "q":
            break
        key = (words[0], words[1] == "1")
        if key not in opts:
            opts[key] = makers[key[0]](key[1])
            opts[key].step()
        t0 = time.perf_counter()
        opts[key].step()
        print("%.9f" % (time.perf_counter() - t0), flush=True)


main()
