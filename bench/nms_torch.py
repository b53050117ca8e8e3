#!/usr/bin/python3
"""nms_torch.py: the PyTorch side of bench/nms_bench.c. Reads the boxes the
C program wrote (int32 n, float32 boxes (n, 4), float32 scores (n), int32
classes (n), little-endian), times torchvision.ops.batched_nms and box_iou on
them with the given thread count (argv[3], default 2), and prints one line
per figure:
    nms <median ms> <kept> <order-sensitive checksum of the kept indices>
    iou <median ms> <m> (an m x m box_iou)"""
import struct
import sys
import time

import numpy as np
import torch
from torchvision import ops

reps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
raw = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<i", raw, 0)[0]
off = 4
boxes = torch.from_numpy(np.frombuffer(raw, "<f4", 4 * n, off).reshape(n, 4).copy())
off += 16 * n
scores = torch.from_numpy(np.frombuffer(raw, "<f4", n, off).copy())
off += 4 * n
classes = torch.from_numpy(np.frombuffer(raw, "<i4", n, off).astype(np.int64))


def median_ms(fn):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 1e3 * sorted(t)[len(t) // 2]


keep = ops.batched_nms(boxes, scores, classes, 0.5)
ms = median_ms(lambda: ops.batched_nms(boxes, scores, classes, 0.5))
check = sum((i + 1) * int(k) for i, k in enumerate(keep.tolist())) % 1000000007
print("nms %.4f %d %d" % (ms, len(keep), check))
m = 1000
a, b = boxes[:m], boxes[m:2 * m]
print("iou %.4f %d" % (median_ms(lambda: ops.box_iou(a, b)), m))
