#!/usr/bin/python3
"""make_zoo.py: writes zoo.txt, the output shapes and parameter counts of
the model-zoo blocks built in PyTorch, for tests/lua/zoo_spec.lua.

MobileNetV2 is torchvision's own (mobilenet_v2(width_mult=w).features, the
classifier left out). CSPDarknet (YOLOv5 v6+ and YOLOv8), PAN (mmdetection's
PAFPN), BiFPN and the YOLOv8 head are written here after their reference
code, in the layout det.backbone.cspdarknet / det.neck.* / det.head.yolo use.
The published Ultralytics layer-summary sums (YOLOv5s layers 0-9: 4171456,
YOLOv8n layers 0-9: 1272656) are checked here too.

Run: /usr/bin/python3 tests/golden/zoo/make_zoo.py (torch 1.13, torchvision 0.14).
"""
import math
import os

import torch
import torch.nn as nn
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zoo.txt")


def count(m):
    return sum(p.numel() for p in m.parameters())


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)

    def forward(self, x):
        return nn.functional.silu(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut, k1):
        super().__init__()
        self.cv1 = Conv(c, c, k1)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c1, c2, n):
        super().__init__()
        c_ = c2 // 2
        self.cv1, self.cv2, self.cv3 = Conv(c1, c_), Conv(c1, c_), Conv(2 * c_, c2)
        self.m = nn.Sequential(*(Bottleneck(c_, True, 1) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C2f(nn.Module):
    def __init__(self, c1, c2, n):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(Bottleneck(self.c, True, 3) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1, self.cv2 = Conv(c1, c_), Conv(c_ * 4, c2)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class CSPDarknet(nn.Module):
    def __init__(self, depth, width, version, max_channels=1024):
        super().__init__()
        ch = lambda c: int(math.ceil(min(c, max_channels) * width / 8) * 8)
        reps = lambda n: max(round(n * depth), 1)
        nb = [3, 6, 9, 3] if version == "v5" else [3, 6, 6, 3]
        csp = C3 if version == "v5" else C2f
        layers = [Conv(3, ch(64), 6, 2, 2) if version == "v5" else Conv(3, ch(64), 3, 2)]
        c = ch(64)
        for i, w in enumerate([128, 256, 512, 1024]):
            layers += [Conv(c, ch(w), 3, 2), csp(ch(w), ch(w), reps(nb[i]))]
            c = ch(w)
        layers.append(SPPF(c, c))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        out = {}
        for i, m in enumerate(self.model):
            x = m(x)
            if i in (2, 4, 6, 9):
                out[{2: "c2", 4: "c3", 6: "c4", 9: "c5"}[i]] = x
        return out


def mobilenet_feats(width, x):
    f = torchvision.models.mobilenet_v2(width_mult=width).features
    out = {}
    for i, m in enumerate(f):
        x = m(x)
        if i in (3, 6, 13, 18):
            out[{3: "c2", 6: "c3", 13: "c4", 18: "c5"}[i]] = x
    return f, out


class PAN(nn.Module):  # mmdetection PAFPN, no norm, no activation
    def __init__(self, cins, ch):
        super().__init__()
        n = len(cins)
        self.lateral_convs = nn.ModuleList(nn.Conv2d(c, ch, 1) for c in cins)
        self.fpn_convs = nn.ModuleList(nn.Conv2d(ch, ch, 3, 1, 1) for _ in cins)
        self.downsample_convs = nn.ModuleList(nn.Conv2d(ch, ch, 3, 2, 1) for _ in range(n - 1))
        self.pafpn_convs = nn.ModuleList(nn.Conv2d(ch, ch, 3, 1, 1) for _ in range(n - 1))

    def forward(self, xs):
        n = len(xs)
        lat = [l(x) for l, x in zip(self.lateral_convs, xs)]
        for i in range(n - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + nn.functional.interpolate(lat[i], size=lat[i - 1].shape[2:], mode="nearest")
        p = [f(t) for f, t in zip(self.fpn_convs, lat)]
        outs = [p[0]]
        for i in range(1, n):
            outs.append(self.pafpn_convs[i - 1](p[i] + self.downsample_convs[i - 1](outs[-1])))
        return outs


class ConvBN(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 1)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.01)

    def forward(self, x):
        return self.bn(self.conv(x))


class Fuse(nn.Module):
    def __init__(self, ch, k, eps=1e-4):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(k))
        self.depthwise = nn.Conv2d(ch, ch, 3, 1, 1, groups=ch, bias=False)
        self.pointwise = nn.Conv2d(ch, ch, 1)
        self.bn = nn.BatchNorm2d(ch, eps=1e-3, momentum=0.01)
        self.eps = eps

    def forward(self, xs):
        w = torch.relu(self.weight)
        w = w / (w.sum() + self.eps)
        s = sum(w[i] * x for i, x in enumerate(xs))
        return self.bn(self.pointwise(self.depthwise(nn.functional.silu(s))))


class BiFPN(nn.Module):
    def __init__(self, cins, ch, repeats, nlevels):
        super().__init__()
        self.lateral = nn.ModuleList(ConvBN(c, ch) for c in cins)
        self.p6_in = ConvBN(cins[-1], ch) if nlevels > len(cins) else None
        n = nlevels
        self.n = n
        self.cells = nn.ModuleList()
        for _ in range(repeats):
            cell = nn.Module()
            cell.td = nn.ModuleList(Fuse(ch, 2) for _ in range(n - 1))
            cell.bu = nn.ModuleList(Fuse(ch, 2 if i == n - 2 else 3) for i in range(n - 1))
            self.cells.append(cell)

    def forward(self, xs):
        p = [l(x) for l, x in zip(self.lateral, xs)]
        top = len(xs)
        for i in range(top, self.n):
            src = self.p6_in(xs[-1]) if i == top else p[i - 1]
            p.append(nn.functional.max_pool2d(src, 3, 2, 1))
        for c in self.cells:
            n = self.n
            td = [None] * n
            td[n - 1] = p[n - 1]
            for i in range(n - 2, -1, -1):
                up = nn.functional.interpolate(td[i + 1], size=p[i].shape[2:], mode="nearest")
                td[i] = c.td[i]([p[i], up])
            out = [td[0]]
            for i in range(1, n):
                d = nn.functional.max_pool2d(out[-1], 3, 2, 1)
                out.append(c.bu[i - 1]([p[i], d] if i == n - 1 else [p[i], td[i], d]))
            p = out
        return p


class YoloHead(nn.Module):  # YOLOv8 Detect with 4 (reg_max + 1) box channels
    def __init__(self, nc, reg_max, cin, nl):
        super().__init__()
        nb = 4 * (reg_max + 1)
        c2, c3 = max(16, cin // 4, nb), max(cin, min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(cin, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, nb, 1)) for _ in range(nl))
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(cin, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for _ in range(nl))

    def forward(self, xs):
        return [(b(x), c(x)) for x, b, c in zip(xs, self.cv2, self.cv3)]


def shape(t):
    return " ".join(str(s) for s in t.shape)


def main():
    torch.manual_seed(0)
    lines = []
    add = lines.append
    with torch.no_grad():
        for w in (1.0, 0.5):
            for size in (64, 100):
                f, out = mobilenet_feats(w, torch.zeros(1, 3, size, size))
                for k in ("c2", "c3", "c4", "c5"):
                    add(f"mobilenetv2_w{w} {size} {k} {shape(out[k])}")
            add(f"mobilenetv2_w{w} params {count(f)}")
        total = count(torchvision.models.mobilenet_v2())
        add(f"mobilenetv2_w1.0 params_with_classifier {total}")
        cfgs = {"v5s": (0.33, 0.5, "v5", 1024), "v5n": (0.33, 0.25, "v5", 1024),
                "v8n": (0.33, 0.25, "v8", 1024), "v8s": (0.33, 0.5, "v8", 1024), "v8m": (0.67, 0.75, "v8", 768)}
        for name, (d, w, v, mc) in cfgs.items():
            m = CSPDarknet(d, w, v, mc).eval()
            for size in (64, 96):
                out = m(torch.zeros(1, 3, size, size))
                for k in ("c2", "c3", "c4", "c5"):
                    add(f"cspdarknet_{name} {size} {k} {shape(out[k])}")
            add(f"cspdarknet_{name} params {count(m)}")
        assert count(CSPDarknet(0.33, 0.5, "v5")) == 4171456, "YOLOv5s backbone (Ultralytics summary)"
        assert count(CSPDarknet(0.33, 0.25, "v8")) == 1272656, "YOLOv8n backbone (Ultralytics summary)"
        # necks on YOLOv8n's C3-C5 (64, 128, 256) at 96 px
        bb = CSPDarknet(0.33, 0.25, "v8").eval()
        feats = bb(torch.zeros(1, 3, 96, 96))
        xs = [feats["c3"], feats["c4"], feats["c5"]]
        pan = PAN([64, 128, 256], 64).eval()
        for i, o in enumerate(pan(xs)):
            add(f"pan64_v8n 96 p{i + 3} {shape(o)}")
        add(f"pan64_v8n params {count(pan)}")
        bif = BiFPN([64, 128, 256], 64, 3, 5).eval()
        for i, o in enumerate(bif(xs)):
            add(f"bifpn64x3_p3p7_v8n 96 p{i + 3} {shape(o)}")
        add(f"bifpn64x3_p3p7_v8n params {count(bif)}")
        bif = BiFPN([64, 128, 256], 32, 2, 3).eval()
        add(f"bifpn32x2_v8n params {count(bif)}")
        for rm in (16, 0):
            head = YoloHead(6, rm, 64, 3).eval()
            outs = head(pan(xs))
            for i, (b, c) in enumerate(outs):
                add(f"yolo6_r{rm}_pan64 96 p{i + 3} box {shape(b)}")
                add(f"yolo6_r{rm}_pan64 96 p{i + 3} cls {shape(c)}")
            add(f"yolo6_r{rm}_pan64 params {count(head)}")
    # parameter names and shapes (torchvision's / Ultralytics' layout)
    f = torchvision.models.mobilenet_v2().features
    for k, v in f.named_parameters():
        add(f"name mobilenetv2_w1.0 features.{k} {shape(v)}")
    for k, v in CSPDarknet(0.33, 0.25, "v8").named_parameters():
        add(f"name cspdarknet_v8n {k} {shape(v)}")
    with open(OUT, "w") as fh:
        fh.write("# written by make_zoo.py (torch %s, torchvision %s)\n" % (torch.__version__, torchvision.__version__))
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
