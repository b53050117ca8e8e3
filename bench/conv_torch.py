#!/usr/bin/python3
"""conv_torch.py: PyTorch's conv2d speed for the shapes bench/conv_bench.c
measures, so both figures come from the same run.

Usage: conv_torch.py THREADS REPS SPEC...   SPEC = name:n,c,h,w,co,kh,kw,s,p,g
Prints one line per SPEC: name fwd bwd_data bwd_weights fwd_bwd (GFLOP/s,
median of REPS; bwd_weights includes the bias gradient), or "# ..." lines.
Backward-data and backward-weights are timed apart with
aten.convolution_backward and its output mask, as the C kernels are.
"""
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("# torch not available")
    sys.exit(0)


def median_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    threads, reps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print("# torch %s, %d threads, mkldnn %s" % (torch.__version__, torch.get_num_threads(),
          torch.backends.mkldnn.is_available()))
    sys.stdout.flush()
    conv_bwd = torch.ops.aten.convolution_backward
    with torch.no_grad():
        for spec in sys.argv[3:]:
            name, dims = spec.split(":")
            n, c, h, w, co, kh, kw, s, p, g = (int(v) for v in dims.split(","))
            x = torch.randn(n, c, h, w)
            wt = torch.randn(co, c // g, kh, kw) * 0.1
            b = torch.randn(co)
            y = torch.nn.functional.conv2d(x, wt, b, stride=s, padding=p, groups=g)
            dy = torch.randn_like(y)
            flops = 2.0 * y.numel() * (c // g) * kh * kw
            args = ([b.shape[0]], [s, s], [p, p], [1, 1], False, [0, 0], g)

            def fwd():
                torch.nn.functional.conv2d(x, wt, b, stride=s, padding=p, groups=g)

            def bwd_data():
                conv_bwd(dy, x, wt, *args, [True, False, False])

            def bwd_weights():
                conv_bwd(dy, x, wt, *args, [False, True, True])

            tf = median_time(fwd, reps)
            td = median_time(bwd_data, reps)
            tw = median_time(bwd_weights, reps)
            print("%s %.2f %.2f %.2f %.2f" % (name, flops / tf * 1e-9, flops / td * 1e-9,
                  flops / tw * 1e-9, 3 * flops / (tf + td + tw) * 1e-9))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
