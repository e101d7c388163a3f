"""The record format of the torch reference files that NnReferenceTest's parser reads
(nn_reference.txt, index_reference.txt, reduce_reference.txt), written by gen_nn_reference.py,
gen_index_reference.py and gen_reduce_reference.py. One record per case:

    case <name>
    fn <function> [key=value ...]          the Java test maps <function> to the F / Tensor call
    in <dtype> <shape> <values...>         the inputs, in argument order (int64 and bool in decimal)
    out <dtype> <shape> <values...>        f(inputs)
    ct <shape> <values...>                 a cotangent for the output (floating outputs only)
    grad <k> <values...>                   torch's vjp of ct for floating input k (autograd)
    end

Floats are written with float.hex (Java's Double.parseDouble reads them) or inf / -inf / nan.
Shapes are comma-separated sizes, "_" for 0-d; a list argument is comma-separated too.

NOTE: the generators' data files are checked in and must regenerate byte for byte: what this module
prints, and the order in which it draws from torch's random stream (one randn per floating output,
for its cotangent), is part of every file's content.
"""
import math

import torch

DTN = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def num(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v.hex()


def shape_tok(s):
    return ",".join(str(d) for d in s) if len(s) else "_"


def vals(t):
    t = t.detach().reshape(-1)
    if t.dtype in (torch.int64, torch.bool):
        return " ".join(str(int(v)) for v in t.tolist())
    return " ".join(num(v) for v in t.tolist())


def arg_tok(k, v):
    if isinstance(v, (list, tuple)):
        return "%s=%s" % (k, ",".join(str(i) for i in v))
    if isinstance(v, float):
        return "%s=%s" % (k, num(v))
    return "%s=%s" % (k, v)


def case(name, fn, f, inputs, args, nograd=()):
    """Prints the record of `fn` (with `args`, in their order) at `inputs`: y = f(xs, args), and for a
    floating y that depends on them a random cotangent and torch's vjp for each floating input whose
    index is not in `nograd` (zeros where y does not use it)."""
    xs = [x.clone().requires_grad_(x.is_floating_point() and i not in nograd) for i, x in enumerate(inputs)]
    y = f(xs, args)
    print("case", name)
    print(" ".join(["fn", fn] + [arg_tok(k, v) for k, v in args.items()]))
    for x in xs:
        print("in", DTN[x.dtype], shape_tok(x.shape), vals(x))
    print("out", DTN[y.dtype], shape_tok(y.shape), vals(y))
    if y.is_floating_point() and y.requires_grad:
        ct = torch.randn(y.shape, dtype=y.dtype)
        print("ct", shape_tok(ct.shape), vals(ct))
        fl = [x for x in xs if x.requires_grad]
        gs = torch.autograd.grad(y, fl, ct, allow_unused=True)
        k = 0
        for i, x in enumerate(xs):
            if not x.requires_grad:
                continue
            g = gs[k] if gs[k] is not None else torch.zeros_like(x)
            k += 1
            print("grad", i, vals(g))
    print("end")
