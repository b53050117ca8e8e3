#!/usr/bin/python3
"""gen_conv.py: golden fixtures for the conv2d kernels from PyTorch 1.13.

Run: /usr/bin/python3 tests/golden/conv/gen_conv.py   (from the repository root)
Writes tests/golden/conv/index.txt (one case per line) and conv.bin (raw
little-endian float32). Per case, in this order: x, w, b (if bias), dy, then
PyTorch's y = conv2d(x, w, b), dx, dw, db (if bias) for loss = sum(y * dy).
Inputs are float32; torch evaluates in float64 from those same float32
values, so the fixtures are the exact results rounded once to float32.

index.txt columns: name n c_in h w c_out kh kw stride_h stride_w pad_h pad_w
dil_h dil_w groups bias
"""
import os
import numpy as np
import torch

CASES = [
    # name,                 n, c, h,  w, co, kh, kw, sh, sw, ph, pw, dh, dw, g, bias
    ("conv3x3_pad1",         2, 4, 9, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
    ("conv3x3_stride2",      2, 4, 11, 10, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
    ("stem7x7_stride2",      2, 3, 21, 19, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1, 1),
    ("conv1x1",              2, 8, 6, 7, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1),
    ("conv1x1_stride2",      2, 8, 9, 8, 6, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0),
    ("conv3x3_dilation2",    2, 4, 12, 11, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1),
    ("groups2",              2, 6, 8, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1),
    ("groups4_stride2",      2, 8, 9, 9, 12, 3, 3, 2, 2, 1, 1, 1, 1, 4, 1),
    ("depthwise3x3",         2, 6, 10, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, 1),
    ("depthwise3x3_stride2", 2, 5, 11, 12, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5, 1),
    ("no_bias",              2, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0),
    ("odd_3x5_h_ne_w",       2, 3, 7, 13, 4, 3, 5, 1, 1, 1, 2, 1, 1, 1, 1),
    ("odd_5x3_stride2x1",    1, 3, 12, 9, 5, 5, 3, 2, 1, 2, 0, 1, 1, 1, 1),
    ("small_maps_batch9",    9, 16, 4, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
    # 16 channels, phases 16 wide: backward-data phase by phase under auto
    ("stride2_phases_16wide", 1, 16, 9, 32, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
    # few output channels: backward-weights with the pixels on the lanes
    ("few_cout1_odd",        2, 6, 11, 9, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
    ("few_cout5_stride2",    2, 8, 13, 11, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
    ("few_cout6_dilation2",  2, 8, 13, 15, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1),
    ("few_cout16_5x5",       2, 4, 7, 19, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1, 0),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(20261126)
    blobs, lines = [], []
    for case in CASES:
        name, n, c, h, w, co, kh, kw, sh, sw, ph, pw, dh, dw, g, bias = case
        x = rng.uniform(-1, 1, (n, c, h, w)).astype(np.float32)
        wt = rng.uniform(-1, 1, (co, c // g, kh, kw)).astype(np.float32)
        b = rng.uniform(-1, 1, (co,)).astype(np.float32) if bias else None
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tw = torch.tensor(wt, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
        y = torch.nn.functional.conv2d(tx, tw, tb, stride=(sh, sw), padding=(ph, pw),
                                       dilation=(dh, dw), groups=g)
        dy = rng.uniform(-1, 1, tuple(y.shape)).astype(np.float32)
        (y * torch.tensor(dy, dtype=torch.float64)).sum().backward()
        parts = [x, wt] + ([b] if bias else []) + [dy, y.detach().numpy(),
                 tx.grad.numpy(), tw.grad.numpy()] + ([tb.grad.numpy()] if bias else [])
        blobs += [np.asarray(p, dtype='<f4').ravel() for p in parts]
        lines.append(" ".join(str(v) for v in case))
    with open(os.path.join(here, "conv.bin"), "wb") as f:
        f.write(np.concatenate(blobs).tobytes())
    with open(os.path.join(here, "index.txt"), "w") as f:
        f.write("# written by gen_conv.py (torch %s): name n c_in h w c_out kh kw "
                "stride_h stride_w pad_h pad_w dil_h dil_w groups bias\n" % torch.__version__)
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
