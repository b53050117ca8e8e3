#!/usr/bin/python3
"""Golden resize outputs from torch (run with /usr/bin/python3 in this folder).
in.bin: a 26x22 RGB image (H=22, W=26, HWC uint8, seed 0). bilinear_WxH.bin:
F.interpolate(mode="bilinear", align_corners=False, antialias=False) rounded
half up to uint8. area_13x11.bin: mode="area" (a 2x2 block mean)."""
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(0)
img = rng.integers(0, 256, (22, 26, 3), dtype=np.uint8)
img.tofile("in.bin")
t = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]

def save(name, out):
    a = np.floor(out[0].permute(1, 2, 0).numpy() + 0.5).clip(0, 255).astype(np.uint8)
    a.tofile(name)

for w, h in [(7, 5), (40, 31), (26, 11)]:
    save(f"bilinear_{w}x{h}.bin", F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False))
save("area_13x11.bin", F.interpolate(t, size=(11, 13), mode="area"))
