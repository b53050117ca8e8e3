#!/usr/bin/python3
"""gen_det.py: golden fixtures for src/det (boxes, losses, NMS) from torch
1.13 / torchvision 0.14. Run with /usr/bin/python3 from the repository root:

    /usr/bin/python3 tests/golden/det/gen_det.py

Writes tests/golden/det/det.txt: one array per line, `name count v0 v1 ...`
(float32 values printed with %.9g; integers as floats). QFL, VFL and DFL are
not in torchvision: they are written here from the mmdet formulas, and their
gradients come from torch autograd like every other loss's."""
import math
import os
import torch
import torch.nn.functional as F
import torchvision
from torchvision import ops

torch.manual_seed(1234)
out = []


def put(name, t):
    t = torch.as_tensor(t).detach().reshape(-1).double()
    out.append(name + " %d " % t.numel() + " ".join("%.9g" % v for v in t.tolist()))


def rand_boxes(n, scale=100.0, degenerate=False):
    xy = torch.rand(n, 2) * scale
    wh = torch.rand(n, 2) * scale * 0.5 + 1.0
    b = torch.cat([xy, xy + wh], 1)
    if degenerate:
        b[1] = b[0]                      # identical boxes
        b[2, 2] = b[2, 0]                # zero width
        b[3, 2:] = b[3, :2]              # a point
    return b.float()


# ---- IoU matrices ------------------------------------------------------
a = rand_boxes(12, degenerate=True)
b = torch.cat([rand_boxes(9), a[:1]], 0)
put("box.a", a)
put("box.b", b)
put("box.iou", ops.box_iou(a, b))
put("box.giou", ops.generalized_box_iou(a, b))
put("box.diou", ops.distance_box_iou(a, b))
put("box.ciou", ops.complete_box_iou(a, b))

# ---- box coders ---------------------------------------------------------
anc = rand_boxes(16)
gt = rand_boxes(16)
coder = torchvision.models.detection._utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
put("coder.anchors", anc)
put("coder.boxes", gt)
put("coder.deltas", coder.encode_single(gt, anc))
deltas = torch.randn(16, 4)
deltas[0, 2] = 5.0                      # beyond the clamp log(1000/16)
put("coder.in_deltas", deltas)
put("coder.decoded", coder.decode_single(deltas, anc))
coder2 = torchvision.models.detection._utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
put("coder2.deltas", coder2.encode_single(gt, anc))
put("coder2.decoded", coder2.decode_single(deltas, anc))
# FCOS: points with square reference boxes of side = stride
pts = torch.rand(16, 2) * 100
stride = torch.tensor([8.0, 16.0, 32.0, 64.0]).repeat(4)
ref = torch.cat([pts - stride[:, None] / 2, pts + stride[:, None] / 2], 1)
lin = torchvision.models.detection._utils.BoxLinearCoder(normalize_by_size=True)
put("fcos.points", pts)
put("fcos.stride", stride)
put("fcos.ltrb", lin.encode_single(ref, gt) if hasattr(lin, "encode_single") else lin.encode(ref, gt))
ltrb_in = torch.rand(16, 4) * 3
put("fcos.in_ltrb", ltrb_in)
put("fcos.decoded", lin.decode(ltrb_in, ref) if not hasattr(lin, "decode_single") else lin.decode_single(ltrb_in, ref))


# ---- losses: value (reduction none/sum/mean) and gradient ---------------
def loss_case(name, fn, x, *args, weight_up=None):
    """fn(x, *args) -> per-unit losses; writes the values and the gradient of
    sum(up * loss) for a fixed random upstream up."""
    x = x.clone().requires_grad_(True)
    l = fn(x, *args)
    up = torch.rand(l.shape) + 0.5
    (l * up).sum().backward()
    put(name + ".loss", l)
    put(name + ".up", up)
    put(name + ".grad", x.grad)


# box losses: pairs without ties (gradients) plus a few degenerate pairs (values)
p = rand_boxes(24)
t = rand_boxes(24)
t[:6] = p[:6] + torch.randn(6, 4) * 3  # overlapping pairs
t[:6, 2:] = torch.maximum(t[:6, 2:], t[:6, :2] + 1)
put("boxloss.pred", p)
put("boxloss.target", t)
for nm, fn in [("giou", ops.generalized_box_iou_loss), ("diou", ops.distance_box_iou_loss),
               ("ciou", ops.complete_box_iou_loss)]:
    loss_case("boxloss." + nm, lambda x, y, f=fn: f(x, y, reduction="none"), p, t)
    put("boxloss.%s.sum" % nm, fn(p, t, reduction="sum"))
    put("boxloss.%s.mean" % nm, fn(p, t, reduction="mean"))


def iou_loss(x, y, eps=1e-7):
    # 1 - IoU with torchvision's loss-side IoU (I / (U + eps))
    from torchvision.ops._utils import _loss_inter_union
    i, u = _loss_inter_union(x, y)
    return 1 - i / (u + eps)


loss_case("boxloss.iou", iou_loss, p, t)
dg = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 10], [5, 5, 5, 5], [0, 0, 0, 0],
                   [0, 0, 10, 10], [20, 20, 30, 40]], dtype=torch.float32)
dt = torch.tensor([[0, 0, 10, 10], [10, 10, 20, 20], [5, 5, 5, 5], [0, 0, 0, 0],
                   [2, 2, 8, 8], [20, 20, 30, 40]], dtype=torch.float32)
put("boxdeg.pred", dg)
put("boxdeg.target", dt)
put("boxdeg.giou", ops.generalized_box_iou_loss(dg, dt))
put("boxdeg.diou", ops.distance_box_iou_loss(dg, dt))
put("boxdeg.ciou", ops.complete_box_iou_loss(dg, dt))

# focal: (8, 5) logits, binary and soft targets
x = torch.randn(8, 5) * 3
y = (torch.rand(8, 5) > 0.7).float()
y[0, :] = torch.rand(5)                  # soft targets too
put("cls.x", x)
put("cls.y", y)
for i, (al, ga) in enumerate([(0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.75, 1.5), (0.25, 1.0)]):
    loss_case("focal%d" % i, lambda z, al=al, ga=ga: ops.sigmoid_focal_loss(z, y, al, ga), x)
    put("focal%d.sum" % i, ops.sigmoid_focal_loss(x, y, al, ga, reduction="sum"))
    put("focal%d.mean" % i, ops.sigmoid_focal_loss(x, y, al, ga, reduction="mean"))
w = torch.rand(8, 5)
put("cls.w", w)
loss_case("bce", lambda z: F.binary_cross_entropy_with_logits(z, y, weight=w, reduction="none"), x)
put("bce.mean", F.binary_cross_entropy_with_logits(x, y, weight=w))
q = torch.zeros(8, 5)
q[torch.arange(8), torch.randint(0, 5, (8,))] = torch.rand(8)   # IoU targets at the gt class
q[1] = 0
put("cls.q", q)


def qfl(z, beta=2.0):
    s = z.sigmoid()
    return F.binary_cross_entropy_with_logits(z, q, reduction="none") * (s - q).abs().pow(beta)


def vfl(z, alpha=0.75, gamma=2.0):
    s = z.sigmoid()
    fw = q * (q > 0).float() + alpha * (s - q).abs().pow(gamma) * (q <= 0).float()
    return F.binary_cross_entropy_with_logits(z, q, reduction="none") * fw


loss_case("qfl", qfl, x)
loss_case("vfl", vfl, x)

# regression: L1 and smooth L1
r = torch.randn(10, 4) * 2
rt = torch.randn(10, 4) * 2
put("reg.x", r)
put("reg.y", rt)
loss_case("l1", lambda z: F.l1_loss(z, rt, reduction="none"), r)
for i, be in enumerate([0.0, 0.5, 1.0, 1.0 / 9]):
    loss_case("sl1_%d" % i, lambda z, be=be: F.smooth_l1_loss(z, rt, reduction="none", beta=be), r)
    put("sl1_%d.mean" % i, F.smooth_l1_loss(r, rt, beta=be))

# softmax CE with label smoothing and class weights
cx = torch.randn(9, 6) * 2
cy = torch.randint(0, 6, (9,))
cwt = torch.rand(6) + 0.5
put("ce.x", cx)
put("ce.y", cy)
put("ce.w", cwt)
for i, (sm, wt) in enumerate([(0.0, None), (0.1, None), (0.2, cwt)]):
    loss_case("ce%d" % i, lambda z, sm=sm, wt=wt: F.cross_entropy(z, cy, weight=wt, label_smoothing=sm,
                                                                  reduction="none"), cx)
    xx = cx.clone().requires_grad_(True)
    m = F.cross_entropy(xx, cy, weight=wt, label_smoothing=sm)
    m.backward()
    put("ce%d.mean" % i, m)
    put("ce%d.mean_grad" % i, xx.grad)

# DFL over 8 bins (0..7), targets in [0, 7]
dx_ = torch.randn(7, 8)
dy_ = torch.tensor([0.0, 0.5, 3.25, 6.99, 7.0, 2.0, 5.6])
put("dfl.x", dx_)
put("dfl.y", dy_)


def dfl(z):
    yl = dy_.floor().clamp(max=6).long()
    yr = yl + 1
    wl = yr.float() - dy_
    wr = dy_ - yl.float()
    return F.cross_entropy(z, yl, reduction="none") * wl + F.cross_entropy(z, yr, reduction="none") * wr


loss_case("dfl", dfl, dx_)

# ---- NMS -----------------------------------------------------------------
def nms_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    wh = torch.rand(n, 2, generator=g) * 60 + 2
    bx = torch.cat([xy, xy + wh], 1)
    k = n // 10
    bx[k:2 * k] = bx[:k]                                 # duplicates
    bx[2 * k:2 * k + 3, 2] = bx[2 * k:2 * k + 3, 0]      # zero width
    sc = (torch.rand(n, generator=g) * 20).floor() / 20  # many ties
    sc[:3] = 0.5
    return bx.float(), sc.float()


for case, (n, seed) in enumerate([(200, 1), (1500, 2)]):
    bx, sc = nms_boxes(n, seed)
    cls = torch.randint(0, 7, (n,), generator=torch.Generator().manual_seed(seed + 10))
    put("nms%d.boxes" % case, bx)
    put("nms%d.scores" % case, sc)
    put("nms%d.classes" % case, cls)
    for th in (0.3, 0.5, 0.7):
        put("nms%d.keep%d" % (case, int(th * 10)), ops.nms(bx, sc, th))
        put("nms%d.bkeep%d" % (case, int(th * 10)), ops.batched_nms(bx, sc, cls, th))
put("nmsties.keep", ops.nms(torch.tensor([[0, 0, 10, 10.]] * 4 + [[20, 20, 30, 30.]]),
                            torch.full((5,), 0.5), 0.5))


# soft-NMS (Bodla et al. 2017) and DIoU-NMS (Zheng et al. 2020), written
# straight from the papers as the reference the C code is checked against
def soft_nms(bx, sc, iou_th, sigma, method, score_th):
    sc = sc.clone().double()
    idx = list(range(len(sc)))
    keep, kept_scores = [], []
    while idx:
        best = max(idx, key=lambda i: (sc[i].item(), -i))
        if sc[best] < score_th:
            break
        keep.append(best)
        kept_scores.append(sc[best].item())
        idx.remove(best)
        rest = []
        for j in idx:
            o = ops.box_iou(bx[best:best + 1].double(), bx[j:j + 1].double()).item()
            if method == "linear":
                f = 1 - o if o > iou_th else 1.0
            else:
                f = math.exp(-o * o / sigma)
            sc[j] = sc[j] * f
            if sc[j] >= score_th:
                rest.append(j)
        idx = rest
    return keep, kept_scores


def diou_nms(bx, sc, th):
    order = sorted(range(len(sc)), key=lambda i: (-sc[i].item(), i))
    sup = [False] * len(sc)
    keep = []
    for a_ in range(len(order)):
        i = order[a_]
        if sup[i]:
            continue
        keep.append(i)
        for j in order[a_ + 1:]:
            if not sup[j] and ops.distance_box_iou(bx[i:i + 1], bx[j:j + 1]).item() > th:
                sup[j] = True
    return keep


bx, sc = nms_boxes(120, 3)
sc = sc + torch.rand(120) * 0.01       # soft-NMS reference: no exact ties
put("soft.boxes", bx)
put("soft.scores", sc)
k, s = soft_nms(bx, sc, 0.3, 0.5, "linear", 0.05)
put("soft.linear.keep", k)
put("soft.linear.scores", s)
k, s = soft_nms(bx, sc, 0.3, 0.5, "gaussian", 0.05)
put("soft.gauss.keep", k)
put("soft.gauss.scores", s)
put("diounms.keep", diou_nms(bx, sc, 0.4))

# multi-level post-processing as mmdet's dense heads (_get_bboxes_single):
# per level, scores > score_thr, the nms_pre highest (filter_scores_and_topk),
# then batched_nms over all levels and the first max_per_img
g = torch.Generator().manual_seed(99)
level_n = [300, 80, 20]
ncls = 6
mscores = torch.sigmoid(torch.randn(sum(level_n), ncls, generator=g) * 2 - 2)
mxy = torch.rand(sum(level_n), 2, generator=g) * 200
mboxes = torch.cat([mxy, mxy + torch.rand(sum(level_n), 2, generator=g) * 60 + 4], 1)
put("post.counts", level_n)
put("post.scores", mscores)
put("post.boxes", mboxes)
cand_b, cand_s, cand_l, cand_i = [], [], [], []
off = 0
for cnt in level_n:
    sc = mscores[off:off + cnt]
    valid = sc > 0.05
    vs = sc[valid]
    vi = torch.nonzero(valid)
    num_topk = min(50, vi.size(0))
    vs, order = vs.sort(descending=True)
    vs = vs[:num_topk]
    ti = vi[order[:num_topk]]
    a_idx, lab = ti.unbind(1)
    cand_b.append(mboxes[off + a_idx])
    cand_s.append(vs)
    cand_l.append(lab)
    cand_i.append(off + a_idx)
    off += cnt
cb, cs, cl, ci = torch.cat(cand_b), torch.cat(cand_s), torch.cat(cand_l), torch.cat(cand_i)
keep = ops.batched_nms(cb, cs, cl, 0.5)[:40]
put("post.index", ci[keep])
put("post.class", cl[keep])
put("post.score", cs[keep])

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "det.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote", path, len(out), "arrays")
