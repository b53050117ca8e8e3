#!/usr/bin/python3
"""Writes the small test images of tests/data/images (run from that folder
with /usr/bin/python3; needs Pillow). Pixel (x, y) of the colour images is
(4x, 5y, 2(x+y) mod 256), so tests can check decoded values exactly."""
import numpy as np
from PIL import Image

W, H = 64, 48
x, y = np.meshgrid(np.arange(W), np.arange(H))
rgb = np.stack([4 * x, 5 * y, (2 * (x + y)) % 256], -1).astype(np.uint8)
Image.fromarray(rgb).save("rgb.png")
Image.fromarray(rgb).save("rgb.bmp")
Image.fromarray(rgb).save("rgb.jpg", quality=95)
Image.fromarray(np.dstack([rgb, np.full((H, W), 200, np.uint8)])).save("rgba.png")
Image.fromarray((4 * x).astype(np.uint8), "L").save("grey.png")
Image.fromarray((4 * x).astype(np.uint8), "L").save("grey.jpg", quality=95)
# 16-bit grey: value 1000 x + 10 y; an 8-bit decode keeps the high byte
Image.fromarray((1000 * x + 10 * y).astype(np.uint16)).save("grey16.png")

def cut(src, dst, frac):
    data = open(src, "rb").read()
    open(dst, "wb").write(data[: int(len(data) * frac)])

cut("rgb.jpg", "truncated.jpg", 0.6)
cut("rgb.png", "truncated.png", 0.6)
cut("rgb.bmp", "truncated.bmp", 0.6)
rng = np.random.default_rng(0)
open("corrupt.jpg", "wb").write(b"\xff\xd8\xff\xe0" + rng.integers(0, 256, 600, np.uint8).tobytes() + b"\xff\xd9")
open("notanimage.png", "wb").write(b"this is a text file, not a PNG\n")
open("empty.png", "wb").write(b"")
