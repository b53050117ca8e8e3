#!/usr/bin/python3
"""make_yolo_loss.py: writes yolo_loss.txt, the YOLO head's loss parts and
their gradients for fixed targets, computed in float64 PyTorch after
Ultralytics' v8DetectionLoss (BCE over all anchors and classes, CIoU with
torchvision's complete_box_iou_loss, whose alpha is held constant, and
BboxLoss._df_loss), all normalised by S = max(sum of the score targets, 1),
total = 0.5 cls + 7.5 box + 1.5 dfl. Box outputs are distributions over
0..R per side (R + 1 bins), decoded by their expectation.

Run: /usr/bin/python3 tests/golden/zoo/make_yolo_loss.py
"""
import os

import torch
import torch.nn.functional as F
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yolo_loss.txt")


def main():
    torch.manual_seed(3)
    H, W, s, C, R = 2, 3, 8.0, 2, 4
    P = H * W
    nb = 4 * (R + 1)
    pts = torch.tensor([[(x + 0.5) * s, (y + 0.5) * s] for y in range(H) for x in range(W)], dtype=torch.float64)
    stride = torch.full((P,), s, dtype=torch.float64)
    cls = (torch.randn(P, C, dtype=torch.float64) - 1).requires_grad_()
    box = torch.randn(P, nb, dtype=torch.float64).requires_grad_()
    gts = torch.tensor([[1.0, 2.0, 15.0, 13.0], [9.0, 0.5, 23.0, 15.5]], dtype=torch.float64)
    gt_cls = [1, 0]
    # fixed targets: anchor -> gt (or -1) and its score
    asg = [0, 1, -1, 0, 1, -1]
    score = torch.tensor([0.6, 0.35, 0.0, 0.2, 0.8, 0.0], dtype=torch.float64)
    pos = torch.tensor([a >= 0 for a in asg])
    S = max(float(score.sum()), 1.0)
    tgt = torch.zeros(P, C, dtype=torch.float64)
    gtbox = torch.zeros(P, 4, dtype=torch.float64)
    for p, a in enumerate(asg):
        if a >= 0:
            tgt[p, gt_cls[a]] = score[p]
            gtbox[p] = gts[a]
    lcls = F.binary_cross_entropy_with_logits(cls, tgt, reduction="sum") / S
    dist = box.view(P, 4, R + 1)
    d = (dist.softmax(-1) * torch.arange(R + 1, dtype=torch.float64)).sum(-1)
    pbox = torch.stack([pts[:, 0] - stride * d[:, 0], pts[:, 1] - stride * d[:, 1],
                        pts[:, 0] + stride * d[:, 2], pts[:, 1] + stride * d[:, 3]], 1)
    ciou = torchvision.ops.complete_box_iou_loss(pbox[pos], gtbox[pos], reduction="none", eps=1e-7)
    lbox = (ciou * score[pos]).sum() / S
    g = gtbox[pos]
    pp = pts[pos]
    sp = stride[pos][:, None]
    t = torch.stack([pp[:, 0] - g[:, 0], pp[:, 1] - g[:, 1], g[:, 2] - pp[:, 0], g[:, 3] - pp[:, 1]], 1) / sp
    t = t.clamp(0, R - 0.01)
    tl = t.floor().long()
    tr = tl + 1
    wl = tr - t
    wr = 1 - wl
    pd = dist[pos].reshape(-1, R + 1)
    dfl = (F.cross_entropy(pd, tl.view(-1), reduction="none").view(tl.shape) * wl +
           F.cross_entropy(pd, tr.view(-1), reduction="none").view(tl.shape) * wr).mean(-1)
    ldfl = (dfl * score[pos]).sum() / S
    total = 0.5 * lcls + 7.5 * lbox + 1.5 * ldfl
    total.backward()

    def row(name, v):
        v = v.detach().reshape(-1).tolist() if torch.is_tensor(v) else v
        return name + " " + " ".join(repr(float(x)) if isinstance(x, float) else str(x) for x in v)

    lines = [
        f"dims {P} {C} {R}",
        row("points", pts), row("strides", stride), row("cls", cls), row("box", box),
        "gt " + " ".join(str(a) for a in asg),
        "gtcls " + " ".join(str(gt_cls[a]) if a >= 0 else "-1" for a in asg),
        row("score", score), row("gtbox", gtbox),
        row("losses", [float(lcls), float(lbox), float(ldfl), float(total)]),
        row("dcls", cls.grad), row("dbox", box.grad),
    ]
    with open(OUT, "w") as fh:
        fh.write("# written by make_yolo_loss.py (torch %s)\n" % torch.__version__)
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
