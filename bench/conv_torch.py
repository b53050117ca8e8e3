#!/usr/bin/python3
"""conv_torch.py: PyTorch's conv2d speed for the shapes bench/conv_bench.c
measures, so both figures come from the same run.

  conv_torch.py THREADS REPS SPEC...           one table, medians of REPS
  conv_torch.py --serve THREADS SPEC...        coprocess for conv_bench
SPEC = name:n,c,h,w,co,kh,kw,stride,pad,groups.

Table mode prints "name fwd bwd_data bwd_weights fwd_bwd" in GFLOP/s.
Serve mode prints "ready", then answers each line "I" (a SPEC index) with
the seconds of one forward, one backward-data and one backward-weights
(with the bias gradient) of layer I, so the C program can interleave its
own repetitions with PyTorch's and both see the same machine load; "q"
quits. Backward-data and backward-weights are timed apart with
aten.convolution_backward and its output mask, as the C kernels are.
Lines starting with "#" are notes.
"""
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("# torch not available", flush=True)
    sys.exit(0)


class Layer:
    def __init__(self, spec):
        self.name, dims = spec.split(":")
        n, c, h, w, co, kh, kw, s, p, g = (int(v) for v in dims.split(","))
        self.x = torch.randn(n, c, h, w)
        self.w = torch.randn(co, c // g, kh, kw) * 0.1
        self.b = torch.randn(co)
        self.s, self.p, self.g = s, p, g
        y = self.forward()
        self.dy = torch.randn_like(y)
        self.flops = 2.0 * y.numel() * (c // g) * kh * kw
        self.args = ([co], [s, s], [p, p], [1, 1], False, [0, 0], g)
        self.once()

    def forward(self):
        return torch.nn.functional.conv2d(self.x, self.w, self.b, stride=self.s,
                                          padding=self.p, groups=self.g)

    def once(self):
        bwd = torch.ops.aten.convolution_backward
        t0 = time.perf_counter()
        self.forward()
        t1 = time.perf_counter()
        bwd(self.dy, self.x, self.w, *self.args, [True, False, False])
        t2 = time.perf_counter()
        bwd(self.dy, self.x, self.w, *self.args, [False, True, True])
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2


def main():
    serve = sys.argv[1] == "--serve"
    args = sys.argv[2:] if serve else sys.argv[1:]
    threads = int(args[0])
    reps = 0 if serve else int(args[1])
    specs = args[1:] if serve else args[2:]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print("# torch %s, %d threads, mkldnn %s" % (torch.__version__, torch.get_num_threads(),
          torch.backends.mkldnn.is_available()), flush=True)
    with torch.no_grad():
        layers = [Layer(spec) for spec in specs]
        if serve:
            print("ready", flush=True)
            for line in sys.stdin:
                if line.strip() == "q":
                    break
                print("%.9f %.9f %.9f" % layers[int(line)].once(), flush=True)
            return
        for layer in layers:
            t = [layer.once() for _ in range(reps)]
            m = [statistics.median(v[k] for v in t) for k in range(3)]
            f = layer.flops * 1e-9
            print("%s %.2f %.2f %.2f %.2f" % (layer.name, f / m[0], f / m[1], f / m[2],
                  3 * f / sum(m)), flush=True)


if __name__ == "__main__":
    main()
