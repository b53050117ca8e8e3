#!/usr/bin/python3
"""Golden fixtures for src/train/sched.c, from torch.optim.lr_scheduler (1.13).

Run: /usr/bin/python3 tests/golden/sched/make_sched.py > tests/golden/sched/sched.txt

Each case builds an SGD optimiser and one of PyTorch's schedulers, then
records the lr before each of N scheduler.step() calls: value k is the lr
in force for optimiser step k (our sched_lr(k)), and for the *_momentum
cases the momentum first (our sched_momentum(k)). The first line of a case
holds the equivalent detbench configuration (kind and key=value pairs; a
comma-separated list for milestones).
"""
import torch
from torch.optim import lr_scheduler as L

CASES = [
    ("step", "step lr=0.1 step_size=7 gamma=0.5", 0.1, 30,
     lambda o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("multistep", "multistep lr=0.1 milestones=5,12,20 gamma=0.3", 0.1, 30,
     lambda o: L.MultiStepLR(o, milestones=[5, 12, 20], gamma=0.3)),
    ("exponential", "exponential lr=0.1 gamma=0.9", 0.1, 30,
     lambda o: L.ExponentialLR(o, gamma=0.9)),
    ("polynomial", "polynomial lr=0.1 steps=20 power=2", 0.1, 30,
     lambda o: L.PolynomialLR(o, total_iters=20, power=2.0)),
    ("cosine", "cosine lr=0.1 steps=25 min_lr=0.001", 0.1, 26,
     lambda o: L.CosineAnnealingLR(o, T_max=25, eta_min=0.001)),
    ("restarts_mult2", "cosine_restarts lr=0.1 T_0=5 T_mult=2 min_lr=0.01", 0.1, 40,
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01)),
    ("restarts_mult1", "cosine_restarts lr=0.1 T_0=7", 0.1, 30,
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=7)),
    ("cyclic_triangular", "cyclic base_lr=0.01 max_lr=0.1 step_size_up=5", 0.01, 40,
     lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, cycle_momentum=False)),
    ("cyclic_triangular2", "cyclic base_lr=0.01 max_lr=0.1 step_size_up=4 step_size_down=6 mode=triangular2",
     0.01, 40,
     lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6,
                          mode="triangular2", cycle_momentum=False)),
    ("cyclic_exp_range", "cyclic base_lr=0.01 max_lr=0.1 step_size_up=5 mode=exp_range gamma=0.97",
     0.01, 40,
     lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                          gamma=0.97, cycle_momentum=False)),
    ("onecycle_cos", "onecycle max_lr=0.1 steps=50", 0.1, 50,
     lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=50, cycle_momentum=False)),
    ("onecycle_linear", "onecycle max_lr=0.2 steps=40 pct_start=0.25 div_factor=10 final_div_factor=100 anneal=linear",
     0.2, 40,
     lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=40, pct_start=0.25, div_factor=10,
                            final_div_factor=100, anneal_strategy="linear", cycle_momentum=False)),
    # the momentum cycles too (torch's default), opposite to the lr
    ("onecycle_momentum", "onecycle max_lr=0.1 steps=40 base_momentum=0.8 max_momentum=0.9", 0.1, 40,
     lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=40, base_momentum=0.8, max_momentum=0.9)),
    ("cyclic_momentum", "cyclic base_lr=0.01 max_lr=0.1 step_size_up=4 step_size_down=6 mode=triangular2",
     0.01, 40,
     lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=6,
                          mode="triangular2")),
    # warm-up: LinearLR's factor times the cosine, chained (eta_min 0 keeps
    # torch's recursive forms multiplicative)
    ("warmup_cosine", "warmup steps=10 start=0.1 | cosine lr=0.1 steps=40", 0.1, 40,
     lambda o: L.ChainedScheduler([L.LinearLR(o, start_factor=0.1, total_iters=10),
                                   L.CosineAnnealingLR(o, T_max=40)])),
]


def main():
    print("# made by tests/golden/sched/make_sched.py with torch %s" % torch.__version__)
    for name, cfg, lr, n, make in CASES:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
        s = make(opt)
        lrs, moms = [], []
        for _ in range(n):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            opt.step()
            s.step()
        print("case %s %s" % (name, cfg))
        if name.endswith("_momentum"):
            print("moms " + " ".join("%.17g" % v for v in moms))
        print("lrs " + " ".join("%.17g" % v for v in lrs))


main()
