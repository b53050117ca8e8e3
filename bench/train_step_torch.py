#!/usr/bin/python3
"""train_step_torch.py: PyTorch's training step of the reference detector
for bench/train_step_bench.c, run as a coprocess so both see the same load.

  train_step_torch.py THREADS N HW   prints "ready", answers each line "s"
                                     with the seconds of one step; "q" prints
                                     "rss <peak KiB> <KiB before the first
                                     step>" and quits.

The model is the one the C program builds with det.model: torchvision's
ResNet-18 (C3-C5 through IntermediateLayerGetter), torchvision's
FeaturePyramidNetwork with 128 channels on C3-C5, and an FCOS head (Tian et
al. 2019) with two conv3x3 + GroupNorm(32) + ReLU per tower shared over the
levels, a learnable scale per level, 6 classes and a centerness branch.
One step: zero_grad, forward, FCOS targets (points inside a box, in the
level's scale range, the smallest box wins; vectorised), sigmoid focal loss
over all points + GIoU loss weighted by centerness + centerness BCE, each
normalised as the C detector does, backward, SGD (momentum 0.9, weight decay
1e-4). The boxes are fixed random boxes, 4 per image."""
import math
import resource
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.ops import FeaturePyramidNetwork, sigmoid_focal_loss, generalized_box_iou_loss
except ImportError:
    print("# torch not available", flush=True)
    sys.exit(0)

CLASSES = 6
STRIDES = (8, 16, 32)
RANGES = ((-1, 64), (64, 128), (128, 1e8))


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.scale


def tower(ch, n):
    layers = []
    for _ in range(n):
        layers += [nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.GroupNorm(32, ch), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class FCOS(nn.Module):
    def __init__(self, ch=128, towers=2):
        super().__init__()
        self.body = IntermediateLayerGetter(torchvision.models.resnet18(),
                                            {"layer2": "c3", "layer3": "c4", "layer4": "c5"})
        self.fpn = FeaturePyramidNetwork([128, 256, 512], ch)
        self.cls_convs, self.reg_convs = tower(ch, towers), tower(ch, towers)
        self.conv_cls = nn.Conv2d(ch, CLASSES, 3, padding=1)
        self.conv_reg = nn.Conv2d(ch, 4, 3, padding=1)
        self.conv_centerness = nn.Conv2d(ch, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale() for _ in STRIDES])
        nn.init.constant_(self.conv_cls.bias, -math.log(99))

    def forward(self, x):
        feats = self.fpn(self.body(x))
        out = []
        for i, p in enumerate(feats.values()):
            c, r = self.cls_convs(p), self.reg_convs(p)
            out.append((self.conv_cls(c), self.scales[i](self.conv_reg(r)), self.conv_centerness(r)))
        return out


def points_of(out):
    pts, strides, ranges = [], [], []
    for (cls, _, _), s, rg in zip(out, STRIDES, RANGES):
        h, w = cls.shape[2:]
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        p = torch.stack([(xs.reshape(-1) + 0.5) * s, (ys.reshape(-1) + 0.5) * s], 1)
        pts.append(p)
        strides.append(torch.full((h * w,), float(s)))
        ranges.append(torch.tensor(rg, dtype=torch.float32).expand(h * w, 2))
    return torch.cat(pts), torch.cat(strides), torch.cat(ranges)


def fcos_loss(out, boxes, labels):
    n = out[0][0].shape[0]
    flat = lambda t, c: t.permute(0, 2, 3, 1).reshape(n, -1, c)
    cls = torch.cat([flat(o[0], CLASSES) for o in out], 1)
    reg = torch.cat([flat(o[1], 4) for o in out], 1)
    ctr = torch.cat([flat(o[2], 1) for o in out], 1)[..., 0]
    pts, strides, ranges = points_of(out)
    tgt_cls = torch.zeros_like(cls)
    pos_pred, pos_gt, pos_ctr, pos_ctr_pred = [], [], [], []
    for i in range(n):
        b = boxes[i]
        l = pts[:, None, 0] - b[None, :, 0]
        t = pts[:, None, 1] - b[None, :, 1]
        r = b[None, :, 2] - pts[:, None, 0]
        bt = b[None, :, 3] - pts[:, None, 1]
        ltrb = torch.stack([l, t, r, bt], 2)
        # centre sampling, radius 1.5 strides
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        rad = strides[:, None] * 1.5
        x0 = torch.maximum(cx[None] - rad, b[None, :, 0]); x1 = torch.minimum(cx[None] + rad, b[None, :, 2])
        y0 = torch.maximum(cy[None] - rad, b[None, :, 1]); y1 = torch.minimum(cy[None] + rad, b[None, :, 3])
        inside = (pts[:, None, 0] > x0) & (pts[:, None, 0] < x1) & (pts[:, None, 1] > y0) & (pts[:, None, 1] < y1)
        m = ltrb.max(2).values
        ok = inside & (m >= ranges[:, None, 0]) & (m <= ranges[:, None, 1])
        area = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None].expand_as(m).clone()
        area[~ok] = float("inf")
        a, j = area.min(1)
        pos = torch.isfinite(a)
        tgt_cls[i, pos, labels[i][j[pos]]] = 1
        g = b[j[pos]]
        p = pts[pos]
        d = torch.exp(reg[i, pos].clamp(max=20)) * strides[pos, None]
        pos_pred.append(torch.cat([p - d[:, :2], p + d[:, 2:]], 1))
        pos_gt.append(g)
        lt = ltrb[pos, j[pos]]
        c = torch.sqrt((torch.minimum(lt[:, 0], lt[:, 2]) / torch.maximum(lt[:, 0], lt[:, 2])) *
                       (torch.minimum(lt[:, 1], lt[:, 3]) / torch.maximum(lt[:, 1], lt[:, 3])))
        pos_ctr.append(c)
        pos_ctr_pred.append(ctr[i, pos])
    pred, gt = torch.cat(pos_pred), torch.cat(pos_gt)
    cw, cp = torch.cat(pos_ctr), torch.cat(pos_ctr_pred)
    npos = max(float(pred.shape[0]), 1.0)
    l_cls = sigmoid_focal_loss(cls, tgt_cls, reduction="sum") / npos
    l_box = (generalized_box_iou_loss(pred, gt, reduction="none") * cw).sum() / cw.sum().clamp(min=1e-6)
    l_q = F.binary_cross_entropy_with_logits(cp, cw, reduction="sum") / npos
    return l_cls + l_box + l_q


def main():
    threads, n, hw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = FCOS().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(n, 3, hw, hw)
    g = torch.Generator().manual_seed(1)
    boxes, labels = [], []
    for _ in range(n):
        xy = torch.rand(4, 2, generator=g) * hw * 0.6
        wh = 24 + torch.rand(4, 2, generator=g) * hw * 0.35
        boxes.append(torch.cat([xy, (xy + wh).clamp(max=hw)], 1))
        labels.append(torch.randint(0, CLASSES, (4,), generator=g))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def step():
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = fcos_loss(model(x), boxes, labels)
        loss.backward()
        opt.step()
        return time.perf_counter() - t0

    print("ready", flush=True)
    for line in sys.stdin:
        if line.startswith("s"):
            print("%.6f" % step(), flush=True)
        elif line.startswith("q"):
            break
    print("rss %d %d" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base), flush=True)


main()
