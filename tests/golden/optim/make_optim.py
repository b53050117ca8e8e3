#!/usr/bin/python3
"""Golden fixtures for src/nn/optim.c, from PyTorch 1.13's optimisers.

Run: /usr/bin/python3 tests/golden/optim/make_optim.py > tests/golden/optim/optim.txt

Twenty parameters in three tensors (a 4x3 weight, a 5-element norm weight, a
3-element bias), the same fixed gradients for 5 steps, one case per
optimiser variant. Each case records the parameters after every step; cases
with clipping record torch.nn.utils.clip_grad_norm_'s returned norm, the EMA
case the averaged weights (YOLOv5's ModelEMA formula). Decoupled SGD and
the L1 penalty have no torch optimiser: they are applied by hand around a
torch step (p.mul_(1 - lr*wd) before it, grad += l1*sign(p) before it).
"""
import math
import torch

torch.manual_seed(1234)
SHAPES = [("w", (4, 3), 0), ("bn.weight", (5,), 1), ("b", (3,), 2)]  # flags: 1 norm, 2 bias
STEPS = 5
INIT = [torch.randn(s) for _, s, _ in SHAPES]
GRADS = [[torch.randn(s) * (0.5 + k) for _, s, _ in SHAPES] for k in range(STEPS)]


def flat(ts):
    return " ".join("%.9g" % v for t in ts for v in t.reshape(-1).tolist())


def params():
    return [torch.nn.Parameter(t.clone()) for t in INIT]


# name, kind, C config (key=value), torch constructor, extras
CASES = [
    ("sgd_plain", "sgd", dict(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1), {}),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), {}),
    ("sgd_dampening", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.5),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5), {}),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=1),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), {}),
    ("sgd_wd", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.05),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.05), {}),
    ("sgd_decoupled", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.05, decoupled=1),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), dict(decoupled=(0.1, 0.05))),
    ("sgd_l1", "sgd", dict(lr=0.1, momentum=0.9, l1=0.02),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), dict(l1=0.02)),
    ("sgd_clip", "sgd", dict(lr=0.1, momentum=0.9, clip=1.5),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), dict(clip=1.5)),
    ("sgd_groups", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.05),
     lambda p: torch.optim.SGD([
         {"params": [p[0]]},
         {"params": [p[1]], "weight_decay": 0.0},
         {"params": [p[2]], "weight_decay": 0.0, "lr": 0.2},
     ], lr=0.1, momentum=0.9, weight_decay=0.05),
     dict(groups=["bias lr_mult=2 weight_decay=0", "norm weight_decay=0"])),
    ("adam", "adam", dict(lr=0.01),
     lambda p: torch.optim.Adam(p, lr=0.01), {}),
    ("adam_betas", "adam", dict(lr=0.02, beta1=0.8, beta2=0.95, eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6), {}),
    ("adam_wd", "adam", dict(lr=0.01, weight_decay=0.1),
     lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1), {}),
    ("adam_amsgrad", "adam", dict(lr=0.01, amsgrad=1),
     lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True), {}),
    ("adamw", "adamw", dict(lr=0.01, weight_decay=0.1),
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), {}),
    ("adamw_amsgrad_clip", "adamw", dict(lr=0.01, weight_decay=0.1, amsgrad=1, clip=2.0),
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True), dict(clip=2.0)),
    ("rmsprop", "rmsprop", dict(lr=0.01),
     lambda p: torch.optim.RMSprop(p, lr=0.01), {}),
    ("rmsprop_momentum", "rmsprop", dict(lr=0.01, momentum=0.9),
     lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9), {}),
    ("rmsprop_centered", "rmsprop", dict(lr=0.01, centered=1),
     lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True), {}),
    ("rmsprop_all", "rmsprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=1, weight_decay=0.01),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                   weight_decay=0.01), {}),
    ("sgd_ema", "sgd", dict(lr=0.1, momentum=0.9, ema=0.9, ema_warmup=3),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), dict(ema=(0.9, 3.0))),
]


def run(case):
    name, kind, cfg, make, extra = case
    p = params()
    opt = make(p)
    ema = [t.detach().clone() for t in p] if "ema" in extra else None
    out = ["case %s %s %s" % (name, kind, " ".join("%s=%r" % kv for kv in cfg.items()))]
    for g in extra.get("groups", []):
        out.append("group " + g)
    for k in range(STEPS):
        for t, g in zip(p, GRADS[k]):
            t.grad = g.clone()
        if "clip" in extra:
            n = torch.nn.utils.clip_grad_norm_(p, extra["clip"])
            out.append("norm %d %.9g" % (k + 1, n.item()))
        with torch.no_grad():
            if "l1" in extra:
                for t in p:
                    t.grad.add_(torch.sign(t), alpha=extra["l1"])
            if "decoupled" in extra:
                lr, wd = extra["decoupled"]
                for t in p:
                    t.mul_(1 - lr * wd)
        opt.step()
        out.append("param %d %s" % (k + 1, flat([t.detach() for t in p])))
        if ema is not None:
            decay, tau = extra["ema"]
            d = decay * (1 - math.exp(-(k + 1) / tau))
            for e, t in zip(ema, p):
                e.mul_(d).add_((1 - d) * t.detach())
            out.append("ema %d %s" % (k + 1, flat(ema)))
    out.append("end")
    return out


def main():
    print("# made by tests/golden/optim/make_optim.py with torch %s" % torch.__version__)
    off = 0
    for (name, shape, flags), t in zip(SHAPES, INIT):
        print("seg %s %d %d %d" % (name, off, t.numel(), flags))
        off += t.numel()
    print("init %s" % flat(INIT))
    for k in range(STEPS):
        print("grad %d %s" % (k + 1, flat(GRADS[k])))
    for c in CASES:
        print("\n".join(run(c)))


main()
