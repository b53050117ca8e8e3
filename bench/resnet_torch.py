#!/usr/bin/python3
"""resnet_torch.py: PyTorch's ResNet-18 training step (forward + backward)
for bench/resnet_bench.c, run as a coprocess so both programs see the same
machine load.

  resnet_torch.py THREADS N HW       prints "ready", then answers each line
                                     "s" with the seconds of one step; "q"
                                     prints "rss <peak KiB> <KiB before the
                                     first step>" and quits.

The model is torchvision's resnet18 without its classifier (the pooled
512 features are the output, as in the C program); the loss is
sum(y^2)/2, so the gradient fed back is y, as the C program feeds. Weight
gradients are dropped (set to None) before each step, as zero_grad does."""
import resource
import sys
import time

try:
    import torch
    import torchvision
except ImportError:
    print("# torch not available", flush=True)
    sys.exit(0)


def main():
    threads, n, hw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Identity()
    model.train()
    x = torch.randn(n, 3, hw, hw)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def step():
        for p in model.parameters():
            p.grad = None
        t0 = time.perf_counter()
        y = model(x)
        (y * y).sum().mul(0.5).backward()
        return time.perf_counter() - t0

    print("ready", flush=True)
    for line in sys.stdin:
        if line.startswith("s"):
            print("%.6f" % step(), flush=True)
        elif line.startswith("q"):
            break
    print("rss %d %d" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base), flush=True)


main()
