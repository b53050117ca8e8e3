#!/usr/bin/python3
"""make_nn.py: PyTorch 1.13 reference values for detbench's norm, pool,
resize, activation and softmax ops (forward and backward), written to
nn.txt beside this script. Run with /usr/bin/python3 (which has torch):

    /usr/bin/python3 tests/golden/nn/make_nn.py

Format, one item per line:
    case <name> <op> key=value ...
    <tensor-name> <ndim> <d0> ... <dn-1> <values...>     (%.9g, row-major)
    end
Inputs are x (and weight, bias, running_mean, running_var where used) and
dy, the gradient fed to backward; outputs are y, dx, dweight, dbias and the
running statistics after the step."""
import os
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
out = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn.txt"), "w")


def put(name, t):
    t = t.detach().contiguous()
    vals = " ".join("%.9g" % v for v in t.flatten().tolist())
    out.write("%s %d %s %s\n" % (name, t.dim(), " ".join(str(d) for d in t.shape), vals))


def case(name, op, fn, x, params=(), extra=None, **kw):
    """fn(x, *params) -> y; writes inputs, y and all gradients."""
    x = x.clone().requires_grad_(True)
    ps = [p.clone().requires_grad_(True) for p in params]
    y = fn(x, *ps)
    dy = torch.randn_like(y)
    y.backward(dy)
    out.write("case %s %s %s\n" % (name, op, " ".join("%s=%s" % kv for kv in kw.items())))
    put("x", x)
    for pname, p in zip(("weight", "bias"), ps):
        put(pname, p)
    if extra:
        for k, v in extra.items():
            put(k, v)
    put("dy", dy)
    put("y", y)
    put("dx", x.grad)
    for pname, p in zip(("dweight", "dbias"), ps):
        put(pname, p.grad)
    return y


# batch norm, training: batch statistics, running stats updated with momentum 0.1
for shape in [(4, 3, 5, 5), (2, 5, 7, 3)]:
    x = torch.randn(*shape) * 2 + 0.5
    c = shape[1]
    w, b = torch.randn(c), torch.randn(c)
    rm, rv = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    rm2, rv2 = rm.clone(), rv.clone()
    case("bn_train_%d" % shape[0], "batchnorm", lambda x, w, b: F.batch_norm(
        x, rm2, rv2, w, b, training=True, momentum=0.1, eps=1e-5), x, (w, b),
        extra={"running_mean": rm, "running_var": rv}, train=1, eps=1e-5, momentum=0.1)
    put("running_mean_after", rm2)
    put("running_var_after", rv2)
    out.write("end\n")

# batch norm, evaluation: running statistics
x = torch.randn(3, 4, 6, 5)
w, b = torch.randn(4), torch.randn(4)
rm, rv = torch.randn(4) * 0.3, torch.rand(4) + 0.5
case("bn_eval", "batchnorm", lambda x, w, b: F.batch_norm(
    x, rm, rv, w, b, training=False, eps=1e-5), x, (w, b),
    extra={"running_mean": rm, "running_var": rv}, train=0, eps=1e-5, momentum=0.1)
out.write("end\n")

# group norm
for shape, groups in [((2, 6, 4, 5), 3), ((3, 8, 3, 3), 2), ((2, 4, 5, 5), 4)]:
    x = torch.randn(*shape) * 1.5 - 0.3
    c = shape[1]
    case("gn_%d" % groups, "groupnorm", lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-5),
         x, (torch.randn(c), torch.randn(c)), groups=groups, eps=1e-5)
    out.write("end\n")

# pools
x = torch.randn(2, 3, 9, 8)
for k, s, p in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (5, 2, 2)]:
    case("maxpool_k%ds%dp%d" % (k, s, p), "maxpool", lambda x: F.max_pool2d(x, k, s, p), x, k=k, stride=s, pad=p)
    out.write("end\n")
    case("avgpool_k%ds%dp%d" % (k, s, p), "avgpool", lambda x: F.avg_pool2d(x, k, s, p), x, k=k, stride=s, pad=p)
    out.write("end\n")
case("gap", "global_avgpool", lambda x: F.adaptive_avg_pool2d(x, 1), x)
out.write("end\n")

# resize: x2 by scale factor, and to sizes up and down
x = torch.randn(2, 3, 5, 6)
for mode in ["nearest", "bilinear"]:
    ac = {} if mode == "nearest" else {"align_corners": False}
    case("%s_x2" % mode, mode, lambda x: F.interpolate(x, scale_factor=2, mode=mode, **ac), x, h=10, w=12)
    out.write("end\n")
    for h, w in [(7, 9), (3, 4), (11, 5)]:
        case("%s_%dx%d" % (mode, h, w), mode, lambda x: F.interpolate(x, size=(h, w), mode=mode, **ac), x, h=h, w=w)
        out.write("end\n")

# activations and softmax
x = torch.randn(2, 3, 4, 5) * 3
for name, fn in [("relu", F.relu), ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("silu", F.silu),
                 ("sigmoid", torch.sigmoid), ("hardswish", F.hardswish), ("mish", F.mish), ("tanh", torch.tanh)]:
    case(name, name, fn, x)
    out.write("end\n")
for axis in [1, 3]:
    case("softmax_%d" % axis, "softmax", lambda x: F.softmax(x, axis), x, axis=axis)
    out.write("end\n")
    case("log_softmax_%d" % axis, "log_softmax", lambda x: F.log_softmax(x, axis), x, axis=axis)
    out.write("end\n")
out.close()
