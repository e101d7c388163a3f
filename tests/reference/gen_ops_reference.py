#!/usr/bin/env python3
"""Generate reference cases for every op of dev.adjoint.Tensor from PyTorch.

Run with a Python that has torch 1.13 (Debian's python3-torch):

    /usr/bin/python3 tests/reference/gen_ops_reference.py \
        > java/src/test/resources/dev/adjoint/ops_reference.txt

OpsReferenceTest parses the output (no JSON library there), builds the inputs with
Tensor.fromArray, applies the op through the Java API and compares shape, dtype and values.

Format: plain text, one record per case, fields on their own lines, tokens separated by one space.

    case <name>
    op <op> [key=value ...]       op-specific arguments, see apply() below (the Java test mirrors it)
    in <dtype> <shape> <prep> <data...>    zero or more, in argument order
    out <dtype> <shape> <data...>
    tol <rtol> <atol> | tol exact
    end

  dtype  float32 | float64 | int64 | bool
  shape  comma-separated sizes, "_" for a 0-d tensor
  prep   "-" or a ';'-separated chain of view ops applied to the input after it is built from
         its (contiguous) data, to feed non-contiguous operands: t | transpose:a:b | permute:p0:p1.. |
         slice:dim:start:end:step | select:dim:index | expand:s0:s1.. | unsqueeze:d
  data   float32/float64: IEEE bit patterns in hex (every value round-trips, NaN, -0.0 included);
         int64: decimal; bool: 1/0
  args   ints and int lists in decimal (lists comma-separated, "_" for an empty list; slice bounds
         are istart=, iend=, istep=); scalars (s=, value=, and arange's start=, end=, step=) as
         float64 bit patterns in hex; si= an integer scalar (a Java long) in decimal; keepdim=0/1
  tol    floats match if |got - want| <= atol + rtol * |want|; NaN must meet NaN and infinities
         must match exactly. "exact" (views, copies, casts, neg/abs/where) compares bit patterns,
         sign of zero included (arange is not exact: torch rounds start + i*step once, with an fma,
         Adjoint twice). For float32 cases that accumulate (reductions, matmul, softmax)
         atol also covers torch's own float32 rounding: twice its distance from the same op
         computed in float64.

Deliberate differences from torch, followed here (Adjoint's behaviour is the reference):
  * no dtype promotion: every binary op gets operands of one dtype, scalars take the tensor's dtype;
  * sign(NaN) is NaN (torch 1.13 gives 0), so NaN propagates through sign as through relu;
  * relu(-0.0) is +0.0 (torch keeps -0.0): relu is compared numerically, where -0.0 == 0.0;
  * maximum/minimum of -0.0 and 0.0: torch 1.13 gives either zero depending on its vector or scalar
    path (maximum(-0.0, 0.0) is 0.0 in a long tensor, -0.0 in a short one); Adjoint's is std::max's
    (the first operand), so both are compared numerically.
"""
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20240611)

DT = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}
DT_NAME = {v: k for k, v in DT.items()}

EXACT_OPS = {
    "floor", "ceil", "round", "trunc", "square", "clamp", "clampMin", "clampMax",
    "fmod", "remainder", "neg", "abs", "where", "to", "reshape", "view", "permute", "transpose", "t", "movedim", "expand",
    "slice", "select", "get", "squeeze", "unsqueeze", "contiguous", "indexSelect", "cat", "stack", "flatten",
    "zeros", "ones", "full", "eye", "zerosLike", "onesLike", "fullLike", "scalar", "fromRows",
}
# float32 ops whose result accumulates many roundings (torch's float32 error sets the tolerance)
ACCUMULATING_OPS = {"sum", "mean", "logsumexp", "softmax", "logSoftmax", "matmul", "linear"}

NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- encoding

def hex64(v):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def shape_tok(shape):
    return ",".join(str(s) for s in shape) if len(shape) else "_"


def ints_tok(xs):
    return ",".join(str(int(x)) for x in xs) if len(xs) else "_"


def data_tokens(t):
    flat = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.float32:
        return ["%08x" % (v & 0xFFFFFFFF) for v in flat.view(torch.int32).tolist()]
    if t.dtype == torch.float64:
        return ["%016x" % (v & 0xFFFFFFFFFFFFFFFF) for v in flat.view(torch.int64).tolist()]
    if t.dtype == torch.int64:
        return [str(v) for v in flat.tolist()]
    return ["1" if v else "0" for v in flat.tolist()]


def arg_tok(key, v):
    if key in ("s", "value", "start", "end", "step", "lo", "hi"):
        return "%s=%s" % (key, hex64(v))
    if isinstance(v, (list, tuple)):
        return "%s=%s" % (key, ints_tok(v))
    if isinstance(v, bool):
        return "%s=%d" % (key, int(v))
    return "%s=%s" % (key, v)


# ----------------------------------------------------------------------------- the ops (mirrored in Java)

def prep_apply(t, prep):
    if prep == "-":
        return t
    for step in prep.split(";"):
        p = step.split(":")
        name, a = p[0], [int(x) for x in p[1:]]
        if name == "t":
            t = t.t()
        elif name == "transpose":
            t = t.transpose(a[0], a[1])
        elif name == "permute":
            t = t.permute(*a)
        elif name == "slice":
            t = slice_along(t, a[0], a[1], a[2], a[3])
        elif name == "select":
            t = t.select(a[0], a[1])
        elif name == "expand":
            t = t.expand(*a)
        elif name == "unsqueeze":
            t = t.unsqueeze(a[0])
        else:
            raise ValueError(name)
    return t


def slice_along(t, dim, start, end, step):
    d = dim % t.dim()
    return t[(slice(None),) * d + (slice(start, end, step),)]


def all_dims(x):
    return list(range(x.dim())) if x.dim() else [0]


def reduce_dims(x, a):
    """The dims a reduction gets: 'dims' (list, may be empty = all), 'dim' (one), or none (all)."""
    if "dims" in a:
        return a["dims"] if a["dims"] else all_dims(x)
    if "dim" in a:
        return [a["dim"]]
    return all_dims(x)


def squeeze_dims(x, dims):
    if x.dim() == 0:
        return x
    ws = sorted({d % x.dim() for d in dims}, reverse=True)
    for d in ws:
        x = x.squeeze(d)
    return x


UNARY = ["neg", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "sqrt", "abs", "sign"]
BINARY = ["add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"]
SCALAR = {"addS": "add", "subS": "sub", "mulS": "mul", "divS": "div", "powS": "pow",
          "eqS": "eq", "neS": "ne", "ltS": "lt", "leS": "le", "gtS": "gt", "geS": "ge"}


# issue 14's elementwise ops: Java's camelCase name -> torch's function
UNARY14 = {"log1p": torch.log1p, "expm1": torch.expm1, "erf": torch.erf, "erfc": torch.erfc, "tan": torch.tan,
           "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
           "log2": torch.log2, "log10": torch.log10, "floor": torch.floor, "ceil": torch.ceil, "round": torch.round,
           "trunc": torch.trunc, "isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite,
           "logicalNot": torch.logical_not, "square": torch.square, "reciprocal": torch.reciprocal, "rsqrt": torch.rsqrt}
BINARY14 = {"maximum": torch.maximum, "minimum": torch.minimum, "atan2": torch.atan2, "fmod": torch.fmod,
            "remainder": torch.remainder, "logicalAnd": torch.logical_and, "logicalOr": torch.logical_or}


def apply(op, a, xs):
    if op in UNARY14:
        return UNARY14[op](xs[0])
    if op in BINARY14:
        return BINARY14[op](xs[0], xs[1])
    if op == "clamp":
        return torch.clamp(xs[0], xs[1], xs[2]) if len(xs) == 3 else torch.clamp(xs[0], a["lo"], a["hi"])
    if op == "clampMin":
        return torch.clamp(xs[0], min=a["lo"])
    if op == "clampMax":
        return torch.clamp(xs[0], max=a["hi"])
    if op in UNARY:
        r = getattr(torch, op)(xs[0])
        if op == "sign" and xs[0].is_floating_point():
            r = torch.where(torch.isnan(xs[0]), xs[0], r)  # Adjoint: NaN propagates
        return r
    if op in BINARY:
        return getattr(torch, op)(xs[0], xs[1])
    if op in SCALAR or op == "rsub":
        # s= is a Java double (a Python float), si= a Java long (a Python int): promoted like torch's
        # tensor-with-number ops, computed as torch does, in the promoted dtype with the scalar in it
        s = a["si"] if "si" in a else a["s"]
        if op == "divS":
            return torch.div(xs[0], s)  # true division: integers give the default float dtype
        rt = torch.result_type(xs[0], s)
        x, st = xs[0].to(rt), torch.tensor(s, dtype=rt)
        return st - x if op == "rsub" else getattr(torch, SCALAR[op])(x, st)
    if op == "where":
        return torch.where(xs[0], xs[1], xs[2])
    if op == "to":
        return xs[0].to(DT[a["dtype"]])
    if op in ("sum", "mean", "amax"):
        x = xs[0]
        dims = reduce_dims(x, a)
        keep = bool(a.get("keepdim", 0))
        if op == "sum" and x.dtype == torch.bool:
            x = x.to(torch.int64)
        return getattr(torch, op)(x, dim=dims, keepdim=keep)
    if op == "logsumexp":
        return torch.logsumexp(xs[0], dim=reduce_dims(xs[0], a), keepdim=bool(a.get("keepdim", 0)))
    if op == "softmax":
        return torch.softmax(xs[0], a["dim"])
    if op == "logSoftmax":
        return torch.log_softmax(xs[0], a["dim"])
    if op == "matmul":
        return torch.matmul(xs[0], xs[1])
    if op == "linear":
        return F.linear(xs[0], xs[1], xs[2] if len(xs) > 2 else None)
    if op == "reshape":
        return xs[0].reshape(a["shape"])
    if op == "view":
        return xs[0].view(a["shape"])
    if op == "flatten":
        return xs[0].reshape(-1)
    if op == "permute":
        return xs[0].permute(a["perm"])
    if op == "transpose":
        return xs[0].transpose(a["d0"], a["d1"])
    if op == "t":
        return xs[0].t()
    if op == "movedim":
        return torch.movedim(xs[0], a["src"], a["dst"])
    if op == "expand":
        return xs[0].expand(a["shape"])
    if op == "slice":
        return slice_along(xs[0], a["dim"], a["istart"], a["iend"], a.get("istep", 1))
    if op == "select":
        return xs[0].select(a["dim"], a["index"])
    if op == "get":
        return xs[0][a["index"]]
    if op == "squeeze":
        return squeeze_dims(xs[0], a["dims"]) if "dims" in a else xs[0].squeeze()
    if op == "unsqueeze":
        return xs[0].unsqueeze(a["dim"])
    if op == "contiguous":
        return xs[0].contiguous()
    if op == "indexSelect":
        return torch.index_select(xs[0], a["dim"], xs[1])
    if op == "cat":
        return torch.cat(xs, a["dim"])
    if op == "stack":
        return torch.stack(xs, a["dim"])
    if op == "zeros":
        return torch.zeros(a["shape"], dtype=DT[a["dtype"]])
    if op == "ones":
        return torch.ones(a["shape"], dtype=DT[a["dtype"]])
    if op == "full":
        return torch.full(a["shape"], a["value"], dtype=DT[a["dtype"]])
    if op == "scalar":
        return torch.tensor(a["value"], dtype=DT[a["dtype"]])
    if op == "zerosLike":
        return torch.zeros_like(xs[0])
    if op == "onesLike":
        return torch.ones_like(xs[0])
    if op == "fullLike":
        return torch.full_like(xs[0], a["value"])
    if op == "eye":
        return torch.eye(a["n"], a.get("m", a["n"]), dtype=DT[a.get("dtype", "float32")])
    if op == "arange":
        if "end" not in a:
            return torch.arange(a["n"])
        return torch.arange(a["start"], a["end"], a["step"], dtype=DT[a["dtype"]])
    if op == "fromRows":
        return xs[0].clone()
    raise ValueError(op)


# ----------------------------------------------------------------------------- case collection

OUT = []
NAMES = set()


def tensor(data, dtype, shape=None):
    t = torch.tensor(data, dtype=DT[dtype])
    return t.reshape(shape) if shape is not None else t


def randn(dtype, *shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).to(DT[dtype])


def randint(lo, hi, *shape):
    return torch.randint(lo, hi, shape, dtype=torch.int64)


def case(name, op, inputs=(), **args):
    """inputs: torch tensors, or (tensor, prep) pairs for non-contiguous operands."""
    assert name not in NAMES, name
    NAMES.add(name)
    ins = [(x, "-") if isinstance(x, torch.Tensor) else x for x in inputs]
    xs = [prep_apply(t, p) for t, p in ins]
    want = apply(op, args, xs)
    tol = tolerance(op, args, xs, want)
    lines = ["case " + name, " ".join(["op", op] + [arg_tok(k, v) for k, v in args.items()])]
    for t, p in ins:
        lines.append(" ".join(["in", DT_NAME[t.dtype], shape_tok(t.shape), p] + data_tokens(t)))
    lines.append(" ".join(["out", DT_NAME[want.dtype], shape_tok(want.shape)] + data_tokens(want)))
    lines.append("tol " + tol)
    lines.append("end")
    OUT.append("\n".join(lines))


def tolerance(op, args, xs, want):
    if op in EXACT_OPS or not want.is_floating_point():
        return "exact"
    if want.dtype == torch.float64:
        return "1e-12 1e-13"
    rtol, atol = 1e-6, 1e-7
    if op in ACCUMULATING_OPS:
        # torch's own float32 rounding error, measured against the float64 computation
        ref = apply(op, args, [x.double() if x.is_floating_point() else x for x in xs])
        both = torch.isfinite(ref) & torch.isfinite(want)
        if both.any():
            err = (want.double() - ref).abs()[both].max().item()
            atol = max(atol, 2 * err)
    return "%r %r" % (rtol, atol)


# ----------------------------------------------------------------------------- the cases

EDGE = [NAN, INF, -INF, -0.0, 0.0, 1e-30, -1e-30, 0.5, -0.5, 2.0, -3.25, 20.0, -20.0, 100.0, -100.0, 1000.0, -1000.0]


def unary_cases():
    positive = {"log", "sqrt"}
    for op in UNARY:
        for dt, shape in (("float32", (3, 4)), ("float64", (2, 3, 2))):
            x = randn(dt, *shape, scale=2.0)
            if op in positive:
                x = x.abs() + 0.05
            case("%s_%s" % (op, dt), op, [x])
        for dt in ("float32", "float64"):
            case("%s_edge_%s" % (op, dt), op, [tensor(EDGE, dt)])
    # overflow boundaries
    case("exp_overflow_float32", "exp", [tensor([88.0, 88.8, 89.0, -103.0, -104.0, -200.0], "float32")])
    case("exp_overflow_float64", "exp", [tensor([709.0, 709.8, 710.0, -745.0, -746.0], "float64")])
    case("sigmoid_tails_float32", "sigmoid", [tensor([-90.0, -80.0, -30.0, 30.0, 80.0, 90.0], "float32")])
    case("tanh_tails_float64", "tanh", [tensor([-400.0, -20.0, 1e-200, 20.0, 400.0], "float64")])
    # non-contiguous and 0-d inputs
    case("exp_transposed", "exp", [(randn("float32", 3, 4), "t")])
    case("sin_sliced_step", "sin", [(randn("float64", 4, 6), "slice:1:1:6:2")])
    case("tanh_expanded", "tanh", [(randn("float32", 3, 1), "expand:3:4")])
    case("sqrt_permuted", "sqrt", [(randn("float64", 2, 3, 4).abs(), "permute:2:0:1")])
    case("sigmoid_0d", "sigmoid", [tensor(0.75, "float64")])
    case("log_0d_float32", "log", [tensor(3.0, "float32")])
    # int64 where meaningful
    for op in ("neg", "abs", "sign", "relu"):
        case("%s_int64" % op, op, [tensor([-5, -1, 0, 1, 7, -(2 ** 40), 2 ** 40], "int64")])
    case("neg_int64_selected", "neg", [(randint(-9, 9, 3, 4), "select:1:-1")])


def binary_cases():
    for op in BINARY:
        arith = op in ("add", "sub", "mul", "div", "pow")
        pos = op == "pow"
        a = randn("float32", 3, 1)
        b = randn("float32", 1, 4)
        if pos:
            a = a.abs() + 0.1
        case("%s_bcast_3x1_1x4_float32" % op, op, [a, b])
        a = randn("float64", 2, 3, 4)
        b = randn("float64", 4)
        if pos:
            a = a.abs() + 0.1
        case("%s_bcast_2x3x4_4_float64" % op, op, [a, b])
        s = tensor(1.5, "float64")
        b = randn("float64", 2, 3)
        if pos:
            b = b.abs() + 0.1
        case("%s_0d_by_tensor_float64" % op, op, [s, b])
        a = randn("float32", 2, 3)
        if pos:
            a = a.abs() + 0.1
        case("%s_tensor_by_0d_float32" % op, op, [a, tensor(-0.75, "float32")])
        a = randn("float32", 4, 3)
        b = randn("float32", 3, 4)
        if pos:
            a = a.abs() + 0.1
        case("%s_transposed_float32" % op, op, [(a, "t"), b])
        a = randn("float64", 3, 8)
        b = randn("float64", 2, 1)
        if pos:
            a = a.abs() + 0.1
        case("%s_sliced_expanded_float64" % op, op, [(a, "slice:1:1:8:3;slice:0:0:2:1"), (b, "expand:2:3")])
        if op in ("add", "sub", "mul") or not arith:
            case("%s_int64" % op, op, [randint(-20, 20, 3, 4), randint(-20, 20, 4)])
        if not arith:
            edge = [NAN, INF, -INF, 0.0, -0.0, 1.0, 2.0, NAN]
            other = [NAN, INF, INF, -0.0, 0.0, 2.0, 1.0, 1.0]
            case("%s_edge_float64" % op, op, [tensor(edge, "float64"), tensor(other, "float64")])
            case("%s_edge_float32" % op, op, [tensor(edge, "float32"), tensor(other, "float32")])
            case("%s_bool" % op, op, [tensor([True, False, True, False], "bool"), tensor([True, True, False, False], "bool")])
            case("%s_ties_int64" % op, op, [tensor([[1, 2, 3]], "int64"), tensor([[2], [2]], "int64")])
    # arithmetic edge values
    x = [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 3.0]
    y = [0.0, 0.0, 0.0, -0.0, INF, 2.0, 1.0, -INF]
    for dt in ("float32", "float64"):
        for op in ("add", "sub", "mul", "div"):
            case("%s_edge_%s" % (op, dt), op, [tensor(x, dt), tensor(y, dt)])
        case("pow_edge_%s" % dt, "pow", [tensor([0.0, 2.0, -2.0, -2.0, 4.0, INF, 0.5, NAN, 1.0, -8.0], dt),
                                          tensor([0.0, -1.0, 3.0, 0.5, 0.5, -1.0, INF, 0.0, NAN, 1.0 / 3], dt)])
    case("mul_large_float64", "mul", [tensor([1e200, -1e200, 1e-200], "float64"), tensor([1e200, 1e200, 1e-200], "float64")])
    case("add_int64_overflow_free", "add", [tensor([2 ** 62, -(2 ** 62)], "int64"), tensor([2 ** 61, -(2 ** 61)], "int64")])


def scalar_cases():
    for dt in ("float32", "float64"):
        x = randn(dt, 2, 3)
        case("addS_%s" % dt, "addS", [x], s=2.5)
        case("subS_%s" % dt, "subS", [x], s=-1.25)
        case("rsub_%s" % dt, "rsub", [x], s=1.0)
        case("mulS_%s" % dt, "mulS", [x], s=0.1)
        case("divS_%s" % dt, "divS", [x], s=3.0)
        case("divS_zero_%s" % dt, "divS", [tensor([1.0, -1.0, 0.0], dt)], s=0.0)
        xp = x.abs() + 0.1
        for s in (2.0, 3.0, 0.5, -1.0, 1.7):
            case("powS_%s_%s" % (str(s).replace("-", "m").replace(".", "p"), dt), "powS", [xp], s=s)
        case("mulS_transposed_%s" % dt, "mulS", [(randn(dt, 3, 2), "t")], s=-2.0)
    case("addS_inf_float32", "addS", [tensor([1.0, NAN, -INF], "float32")], s=INF)
    case("mulS_nan_float64", "mulS", [tensor([1.0, 0.0, INF], "float64")], s=NAN)
    xi = randint(-50, 50, 2, 3)
    # an int64 tensor with a double promotes to float32 (torch's default dtype); with a long it stays int64
    case("addS_int64", "addS", [xi], s=7.0)
    case("subS_int64", "subS", [xi], s=3.5)
    case("rsub_int64", "rsub", [xi], s=10.0)
    case("mulS_int64", "mulS", [xi], s=-0.5)
    case("divS_int64", "divS", [xi], s=4.0)
    case("powS_int64", "powS", [xi.abs()], s=0.5)
    case("addS_int64_long", "addS", [xi], si=7)
    case("subS_int64_long", "subS", [xi], si=3)
    case("rsub_int64_long", "rsub", [xi], si=10)
    case("mulS_int64_long", "mulS", [xi], si=-3)
    case("divS_int64_long", "divS", [xi], si=4)
    case("powS_int64_long", "powS", [xi], si=3)
    case("addS_large_int64_long", "addS", [tensor([2 ** 53, -(2 ** 62)], "int64")], si=2 ** 53 + 1)
    case("addS_bool_long", "addS", [tensor([True, False], "bool")], si=2)
    case("mulS_bool_double", "mulS", [tensor([True, False], "bool")], s=0.5)
    case("mulS_float32_long", "mulS", [tensor([0.5, -1.5], "float32")], si=3)
    for op in ("eqS", "neS", "ltS", "leS", "gtS", "geS"):
        case("%s_float32" % op, op, [tensor([NAN, -INF, -1.0, 0.0, -0.0, 0.5, 1.0, INF], "float32")], s=0.0)
        case("%s_int64" % op, op, [tensor([-3, -1, 0, 1, 2, 3], "int64")], s=1.0)
        case("%s_int64_half" % op, op, [tensor([-3, -1, 0, 1, 2, 3], "int64")], s=0.5)
        case("%s_int64_long" % op, op, [tensor([-3, -1, 0, 1, 2, 3, 2 ** 53 + 1], "int64")], si=2 ** 53 + 1)
    case("ltS_nan_float64", "ltS", [tensor([NAN, 1.0, INF], "float64")], s=NAN)


def where_cases():
    c = torch.rand(3, 1) > 0.5
    case("where_bcast_float32", "where", [tensor([[True], [False], [True]], "bool"), randn("float32", 1, 4), randn("float32", 3, 4)])
    case("where_bcast_float64", "where", [c.reshape(3, 1), randn("float64", 3, 4), tensor(-1.0, "float64")])
    case("where_int64", "where", [tensor([True, False, False, True], "bool"), randint(0, 9, 2, 4), randint(-9, 0, 4)])
    case("where_0d", "where", [tensor(False, "bool"), tensor(1.0, "float32"), tensor(2.0, "float32")])
    case("where_nan_negzero", "where", [tensor([True, False, True, False], "bool"), tensor([NAN, 1.0, -0.0, 2.0], "float64"),
                                        tensor([0.0, -0.0, 3.0, INF], "float64")])
    case("where_noncontiguous", "where", [(tensor([[True, False], [False, True], [True, True]], "bool"), "t"),
                                          (randn("float64", 2, 6), "slice:1:0:6:2"), randn("float64", 3)])
    case("where_bool_values", "where", [tensor([True, False], "bool"), tensor([False, False], "bool"), tensor([True, True], "bool")])


def to_cases():
    f = tensor([-2.75, -1.5, -0.0, 0.0, 0.25, 1.5, 3.99, 1e6], "float32")
    case("to_float32_float64", "to", [f], dtype="float64")
    case("to_float64_float32", "to", [tensor([1.0 / 3, -1e-10, 1e300, -1e300, NAN, INF, 2.0 ** -140, 1.0000001], "float64")],
         dtype="float32")
    case("to_float32_int64", "to", [f], dtype="int64")
    case("to_float64_int64", "to", [tensor([-7.9, -0.5, 0.5, 7.9, 2.0 ** 52], "float64")], dtype="int64")
    case("to_int64_float32", "to", [tensor([-3, 0, 5, 2 ** 24 + 1, -(2 ** 40)], "int64")], dtype="float32")
    case("to_int64_float64", "to", [tensor([-3, 0, 5, 2 ** 53 + 1], "int64")], dtype="float64")
    case("to_float32_bool", "to", [tensor([0.0, -0.0, 0.1, -2.0, NAN, INF], "float32")], dtype="bool")
    case("to_int64_bool", "to", [tensor([0, 1, -1, 2], "int64")], dtype="bool")
    case("to_bool_float64", "to", [tensor([True, False, True], "bool")], dtype="float64")
    case("to_bool_int64", "to", [tensor([True, False, True], "bool")], dtype="int64")
    case("to_same_dtype", "to", [randn("float64", 2, 2)], dtype="float64")
    case("to_transposed_float64", "to", [(randn("float32", 2, 3), "t")], dtype="float64")


def reduction_cases():
    for op in ("sum", "mean", "amax", "logsumexp"):
        for dt in ("float32", "float64"):
            x = randn(dt, 2, 3, 4, scale=3.0)
            case("%s_all_%s" % (op, dt), op, [x])
            case("%s_dim0_%s" % (op, dt), op, [x], dim=0)
            case("%s_dimneg1_keep_%s" % (op, dt), op, [x], dim=-1, keepdim=1)
            case("%s_dim1_nokeep_%s" % (op, dt), op, [x], dim=1, keepdim=0)
            case("%s_dims_0_2_%s" % (op, dt), op, [x], dims=[0, 2], keepdim=0)
            case("%s_dims_neg_keep_%s" % (op, dt), op, [x], dims=[-1, 0], keepdim=1)
            case("%s_dims_empty_keep_%s" % (op, dt), op, [x], dims=[], keepdim=1)
        case("%s_transposed" % op, op, [(randn("float32", 4, 5), "t")], dim=1)
        case("%s_sliced" % op, op, [(randn("float64", 3, 8), "slice:1:1:8:2")], dims=[0, 1], keepdim=0)
        case("%s_expanded" % op, op, [(randn("float64", 1, 5), "expand:3:5")], dim=0, keepdim=1)
        case("%s_0d" % op, op, [tensor(2.5, "float64")])
        case("%s_0d_dim" % op, op, [tensor(-1.5, "float32")], dim=0, keepdim=1)
    # int64 / bool
    xi = randint(-100, 100, 3, 4)
    case("sum_int64_all", "sum", [xi])
    case("sum_int64_dim", "sum", [xi], dim=-1, keepdim=1)
    case("sum_bool", "sum", [tensor([[True, False, True], [True, True, True]], "bool")], dim=1)
    case("sum_bool_all", "sum", [tensor([True, False, True, True], "bool")])
    case("amax_int64", "amax", [xi], dims=[0], keepdim=0)
    case("amax_int64_all", "amax", [tensor([-(2 ** 62), -5, -(2 ** 62) - 1], "int64")])
    # edge values
    case("sum_inf_nan", "sum", [tensor([[1.0, INF], [INF, -INF], [NAN, 1.0], [1e308, 1e308]], "float64")], dim=1)
    case("amax_nan", "amax", [tensor([[1.0, NAN, 3.0], [-INF, -INF, -INF], [INF, 0.0, NAN]], "float32")], dim=1)
    case("amax_negzero", "amax", [tensor([-0.0, -1.0, -0.0], "float64")])
    case("mean_inf", "mean", [tensor([[1.0, INF], [-INF, INF]], "float64")], dim=-1)
    case("sum_empty_dim", "sum", [randn("float32", 3, 0)], dim=1)
    case("sum_cancel_float32", "sum", [tensor([1e8, 1.0, -1e8, 1.0], "float32")])
    for dt in ("float32", "float64"):
        big = [[1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0], [-INF, -INF, -INF], [INF, 1.0, 2.0],
               [NAN, 1.0, 2.0], [-INF, 0.0, 1.0]]
        case("logsumexp_edge_%s" % dt, "logsumexp", [tensor(big, dt)], dim=1)
        case("logsumexp_huge_%s" % dt, "logsumexp", [tensor([3e38, 3e38], dt)])
        case("sum_large_%s" % dt, "sum", [randn(dt, 6, 50, scale=10.0)], dim=-1)


def softmax_cases():
    for op in ("softmax", "logSoftmax"):
        for dt in ("float32", "float64"):
            x = randn(dt, 2, 3, 4, scale=2.0)
            case("%s_dim0_%s" % (op, dt), op, [x], dim=0)
            case("%s_dim1_%s" % (op, dt), op, [x], dim=1)
            case("%s_dimneg1_%s" % (op, dt), op, [x], dim=-1)
            big = [[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.5], [-INF, 0.0, 1.0],
                   [-INF, -INF, -INF], [INF, 0.0, 1.0], [NAN, 0.0, 1.0], [80.0, 90.0, 100.0]]
            case("%s_edge_%s" % (op, dt), op, [tensor(big, dt)], dim=1)
        case("%s_transposed" % op, op, [(randn("float32", 5, 3), "t")], dim=-1)
        case("%s_sliced" % op, op, [(randn("float64", 4, 8), "slice:1:0:8:3")], dim=0)
        case("%s_1d" % op, op, [randn("float64", 7)], dim=0)
        case("%s_0d" % op, op, [tensor(3.0, "float64")], dim=0)


def matmul_cases():
    for dt in ("float32", "float64"):
        case("matmul_1d_1d_%s" % dt, "matmul", [randn(dt, 5), randn(dt, 5)])
        case("matmul_1d_2d_%s" % dt, "matmul", [randn(dt, 4), randn(dt, 4, 3)])
        case("matmul_2d_1d_%s" % dt, "matmul", [randn(dt, 3, 4), randn(dt, 4)])
        case("matmul_2d_2d_%s" % dt, "matmul", [randn(dt, 3, 5), randn(dt, 5, 2)])
        case("matmul_3d_3d_%s" % dt, "matmul", [randn(dt, 2, 3, 4), randn(dt, 2, 4, 5)])
        case("matmul_bcast_4d_3d_%s" % dt, "matmul", [randn(dt, 2, 1, 3, 4), randn(dt, 5, 4, 2)])
        case("matmul_1d_3d_%s" % dt, "matmul", [randn(dt, 4), randn(dt, 2, 4, 3)])
        case("matmul_3d_1d_%s" % dt, "matmul", [randn(dt, 2, 3, 4), randn(dt, 4)])
        case("matmul_3d_2d_%s" % dt, "matmul", [randn(dt, 2, 3, 4), randn(dt, 4, 6)])
        case("matmul_2d_3d_%s" % dt, "matmul", [randn(dt, 3, 4), randn(dt, 2, 4, 6)])
        case("matmul_transposed_both_%s" % dt, "matmul", [(randn(dt, 4, 3), "t"), (randn(dt, 5, 4), "t")])
        case("matmul_batched_transposed_%s" % dt, "matmul", [(randn(dt, 2, 4, 3), "transpose:1:2"), (randn(dt, 4, 2, 5), "transpose:0:1")])
        case("matmul_sliced_%s" % dt, "matmul", [(randn(dt, 3, 8), "slice:1:0:8:2"), (randn(dt, 8, 4), "slice:0:1:8:2;slice:1:1:4:1")])
        case("matmul_expanded_batch_%s" % dt, "matmul", [(randn(dt, 1, 3, 4), "expand:3:3:4"), randn(dt, 3, 4, 2)])
        case("matmul_permuted_%s" % dt, "matmul", [(randn(dt, 3, 2, 4), "permute:1:0:2"), (randn(dt, 4, 5), "-")])
    case("matmul_int64_2d", "matmul", [randint(-5, 5, 3, 4), randint(-5, 5, 4, 2)])
    case("matmul_int64_batched", "matmul", [randint(-5, 5, 2, 2, 3), (randint(-5, 5, 2, 3), "t")])
    case("matmul_int64_1d", "matmul", [randint(-5, 5, 6), randint(-5, 5, 6)])
    case("matmul_k0", "matmul", [randn("float32", 2, 0), randn("float32", 0, 3)])
    case("matmul_empty_m", "matmul", [randn("float64", 0, 3), randn("float64", 3, 2)])
    case("matmul_inf_nan", "matmul", [tensor([[1.0, INF], [NAN, 1.0]], "float64"), tensor([[1.0, 0.5], [2.0, 1.0]], "float64")])
    case("matmul_larger_float32", "matmul", [randn("float32", 17, 33), randn("float32", 33, 9)])


def linear_cases():
    for dt in ("float32", "float64"):
        case("linear_bias_%s" % dt, "linear", [randn(dt, 4, 3), randn(dt, 5, 3), randn(dt, 5)])
        case("linear_nobias_%s" % dt, "linear", [randn(dt, 4, 3), randn(dt, 5, 3)])
        case("linear_batched_%s" % dt, "linear", [randn(dt, 2, 4, 3), randn(dt, 5, 3), randn(dt, 5)])
        case("linear_1d_input_%s" % dt, "linear", [randn(dt, 3), randn(dt, 2, 3), randn(dt, 2)])
    case("linear_noncontiguous", "linear", [(randn("float32", 3, 4), "t"), (randn("float32", 3, 2), "t"), randn("float32", 2)])
    case("linear_1d_weight", "linear", [randn("float64", 4, 3), randn("float64", 3)])
    case("linear_0d_bias", "linear", [randn("float64", 4, 3), randn("float64", 2, 3), tensor(0.5, "float64")])


def view_cases():
    x = randn("float32", 2, 3, 4)
    case("reshape_basic", "reshape", [x], shape=[4, 6])
    case("reshape_infer", "reshape", [x], shape=[-1, 4])
    case("reshape_infer_middle", "reshape", [x], shape=[2, -1, 2])
    case("reshape_to_0d", "reshape", [tensor([7.5], "float64")], shape=[])
    case("reshape_from_0d", "reshape", [tensor(7.5, "float64")], shape=[1, 1])
    case("reshape_transposed_copy", "reshape", [(randn("float64", 3, 4), "t")], shape=[12])
    case("reshape_int64", "reshape", [randint(0, 9, 6)], shape=[3, -1])
    case("reshape_empty", "reshape", [randn("float32", 0, 4)], shape=[2, 0, 2])
    case("view_basic", "view", [x], shape=[6, 4])
    case("view_split_dim", "view", [(randn("float64", 4, 6), "t")], shape=[2, 3, 4])
    case("view_infer", "view", [randn("float64", 2, 6)], shape=[-1])
    case("flatten_3d", "flatten", [x])
    case("flatten_permuted", "flatten", [(randn("float64", 2, 3, 4), "permute:2:0:1")])
    case("flatten_0d", "flatten", [tensor(1.25, "float32")])
    case("permute_3d", "permute", [x], perm=[2, 0, 1])
    case("permute_neg", "permute", [x], perm=[-1, -3, -2])
    case("permute_identity_bool", "permute", [tensor([[True, False], [False, False]], "bool")], perm=[1, 0])
    case("transpose_3d", "transpose", [x], d0=0, d1=2)
    case("transpose_neg", "transpose", [x], d0=-1, d1=-2)
    case("transpose_same", "transpose", [x], d0=1, d1=1)
    case("t_2d", "t", [randn("float64", 2, 5)])
    case("t_1d", "t", [randn("float64", 3)])
    case("t_0d", "t", [tensor(2.0, "float32")])
    case("t_int64", "t", [randint(0, 9, 3, 2)])
    case("movedim_fwd", "movedim", [x], src=0, dst=2)
    case("movedim_back", "movedim", [x], src=-1, dst=0)
    case("movedim_same", "movedim", [x], src=1, dst=1)
    case("expand_basic", "expand", [randn("float32", 3, 1)], shape=[3, 4])
    case("expand_keep", "expand", [randn("float32", 3, 1)], shape=[-1, 5])
    case("expand_new_dims", "expand", [randn("float64", 1, 3)], shape=[2, 4, 3])
    case("expand_0d", "expand", [tensor(-0.0, "float64")], shape=[2, 2])
    case("expand_int64", "expand", [randint(0, 9, 4)], shape=[2, -1])
    case("expand_transposed", "expand", [(randn("float32", 1, 3), "t")], shape=[2, 3, 4])
    y = randn("float64", 4, 10)
    case("slice_basic", "slice", [y], dim=1, istart=2, iend=7)
    case("slice_step", "slice", [y], dim=1, istart=1, iend=10, istep=3)
    case("slice_negative", "slice", [y], dim=-1, istart=-4, iend=-1)
    case("slice_clamped", "slice", [y], dim=0, istart=-100, iend=100)
    case("slice_clamped_step", "slice", [y], dim=1, istart=3, iend=1000, istep=4)
    case("slice_empty", "slice", [y], dim=1, istart=6, iend=2)
    case("slice_past_end", "slice", [y], dim=0, istart=10, iend=20)
    case("slice_of_transposed", "slice", [(y, "t")], dim=0, istart=1, iend=9, istep=2)
    case("slice_int64", "slice", [randint(0, 99, 8)], dim=0, istart=-6, iend=8, istep=2)
    case("select_basic", "select", [x], dim=1, index=2)
    case("select_neg_index", "select", [x], dim=-1, index=-1)
    case("select_neg_dim", "select", [x], dim=-3, index=-2)
    case("select_1d", "select", [randint(0, 99, 5)], dim=0, index=3)
    case("select_transposed", "select", [(y, "t")], dim=1, index=3)
    case("get_row", "get", [x], index=1)
    case("get_neg", "get", [randn("float64", 4)], index=-1)
    z = randn("float32", 1, 3, 1, 2, 1)
    case("squeeze_all", "squeeze", [z])
    case("squeeze_dim", "squeeze", [z], dims=[2])
    case("squeeze_dims", "squeeze", [z], dims=[0, -1])
    case("squeeze_non_one", "squeeze", [z], dims=[1])
    case("squeeze_0d", "squeeze", [tensor(3.0, "float64")])
    case("squeeze_all_ones", "squeeze", [randn("float64", 1, 1)])
    case("unsqueeze_front", "unsqueeze", [x], dim=0)
    case("unsqueeze_back", "unsqueeze", [x], dim=3)
    case("unsqueeze_neg", "unsqueeze", [x], dim=-1)
    case("unsqueeze_neg_mid", "unsqueeze", [x], dim=-3)
    case("unsqueeze_0d", "unsqueeze", [tensor(4, "int64")], dim=0)
    case("contiguous_transposed", "contiguous", [(randn("float64", 3, 4), "t")])
    case("contiguous_already", "contiguous", [randn("float32", 3, 4)])
    case("contiguous_expanded", "contiguous", [(randn("float32", 3, 1), "expand:2:3:4")])
    case("contiguous_sliced", "contiguous", [(randn("float64", 5, 6), "slice:0:1:5:2;slice:1:-3:6:1")])


def index_cases():
    x = randn("float32", 4, 5)
    case("indexSelect_dim0", "indexSelect", [x, tensor([3, 0, 3], "int64")], dim=0)
    case("indexSelect_dim1", "indexSelect", [x, tensor([4, 1], "int64")], dim=1)
    case("indexSelect_neg_dim", "indexSelect", [randn("float64", 2, 3, 4), tensor([0, 0, 3, 1], "int64")], dim=-1)
    case("indexSelect_0d_index", "indexSelect", [x, tensor(2, "int64")], dim=1)
    case("indexSelect_empty", "indexSelect", [x, torch.zeros(0, dtype=torch.int64)], dim=0)
    case("indexSelect_int64", "indexSelect", [randint(0, 99, 6), tensor([5, 4, 0], "int64")], dim=0)
    case("indexSelect_transposed", "indexSelect", [(x, "t"), (tensor([1, 9, 2, 8, 3], "int64"), "slice:0:0:5:2")], dim=1)
    a, b, c = randn("float32", 2, 3), randn("float32", 1, 3), randn("float32", 4, 3)
    case("cat_dim0", "cat", [a, b, c], dim=0)
    case("cat_dim1", "cat", [randn("float64", 2, 1), randn("float64", 2, 3)], dim=1)
    case("cat_neg_dim", "cat", [randn("float64", 2, 2, 1), randn("float64", 2, 2, 2)], dim=-1)
    case("cat_single", "cat", [a], dim=0)
    case("cat_empty_part", "cat", [a, randn("float32", 0, 3)], dim=0)
    case("cat_noncontiguous", "cat", [(randn("float32", 3, 2), "t"), (randn("float32", 2, 6), "slice:1:0:6:2")], dim=0)
    case("cat_int64", "cat", [randint(0, 9, 3), randint(0, 9, 2)], dim=0)
    case("cat_bool", "cat", [tensor([True], "bool"), tensor([False, True], "bool")], dim=0)
    case("stack_dim0", "stack", [randn("float32", 2, 3), randn("float32", 2, 3), randn("float32", 2, 3)], dim=0)
    case("stack_dim_mid", "stack", [randn("float64", 2, 3), randn("float64", 2, 3)], dim=1)
    case("stack_dim_neg", "stack", [randn("float64", 2, 3), (randn("float64", 3, 2), "t")], dim=-1)
    case("stack_0d", "stack", [tensor(1.0, "float32"), tensor(2.0, "float32")], dim=0)
    case("stack_int64", "stack", [randint(0, 9, 4), randint(0, 9, 4)], dim=-2)


def creation_cases():
    case("zeros_float32", "zeros", shape=[2, 3], dtype="float32")
    case("zeros_int64_0d", "zeros", shape=[], dtype="int64")
    case("zeros_empty", "zeros", shape=[3, 0], dtype="float64")
    case("ones_float64", "ones", shape=[4], dtype="float64")
    case("ones_bool", "ones", shape=[2, 2], dtype="bool")
    case("full_float32", "full", shape=[2, 2], value=0.1, dtype="float32")
    case("full_float64", "full", shape=[3], value=-1.0 / 3, dtype="float64")
    case("full_int64", "full", shape=[2, 1, 2], value=-7.0, dtype="int64")
    case("full_nan", "full", shape=[2], value=NAN, dtype="float64")
    case("full_negzero", "full", shape=[2], value=-0.0, dtype="float32")
    case("scalar_float64", "scalar", value=2.5, dtype="float64")
    case("scalar_int64", "scalar", value=-3.0, dtype="int64")
    case("eye_square", "eye", n=3)
    case("eye_rect", "eye", n=2, m=4, dtype="float64")
    case("eye_tall_int64", "eye", n=4, m=2, dtype="int64")
    case("eye_empty", "eye", n=0, m=3, dtype="float32")
    case("arange_n", "arange", n=6)
    case("arange_float32", "arange", start=0.0, end=1.0, step=0.1, dtype="float32")
    case("arange_float64", "arange", start=-1.0, end=1.0, step=0.3, dtype="float64")
    case("arange_negative_step", "arange", start=5.0, end=-2.0, step=-1.5, dtype="float64")
    case("arange_int64", "arange", start=2.0, end=17.0, step=4.0, dtype="int64")
    case("arange_int64_negative", "arange", start=10.0, end=0.0, step=-3.0, dtype="int64")
    case("arange_empty", "arange", start=3.0, end=3.0, step=1.0, dtype="float32")
    x = randn("float64", 2, 3)
    case("zerosLike", "zerosLike", [x])
    case("onesLike_int64", "onesLike", [randint(0, 9, 3)])
    case("fullLike_float32", "fullLike", [(randn("float32", 3, 2), "t")], value=0.3)
    case("fromRows_float32", "fromRows", [randn("float32", 3, 4)])
    case("fromRows_float64", "fromRows", [randn("float64", 2, 5)])
    case("fromRows3_float32", "fromRows", [randn("float32", 2, 3, 4)])


def issue14_cases():
    """The elementwise ops of issue 14, float32 and float64: random values in each op's domain,
    broadcasting and non-contiguous operands, the IEEE edge values, and the kinks (ties, bounds)."""
    domain = {"log1p": (-0.9, 3.0), "asin": (-1.0, 1.0), "acos": (-1.0, 1.0), "log2": (0.05, 5.0), "log10": (0.05, 5.0),
              "rsqrt": (0.05, 5.0), "reciprocal": (0.2, 3.0), "tan": (-1.5, 1.5), "sinh": (-5.0, 5.0), "cosh": (-5.0, 5.0)}
    for op in UNARY14:
        lo, hi = domain.get(op, (-4.0, 4.0))
        for dt, shape in (("float32", (3, 4)), ("float64", (2, 3, 2))):
            x = (torch.rand(*shape, dtype=torch.float64) * (hi - lo) + lo).to(DT[dt])
            case("%s_%s" % (op, dt), op, [x])
            case("%s_edge_%s" % (op, dt), op, [tensor(EDGE + [1.5, 2.5, -2.5, 0.49999999999999994, 1e-10, -0.75], dt)])
        case("%s_transposed" % op, op, [((torch.rand(3, 4, dtype=torch.float64) * (hi - lo) + lo), "t")])
    for op in ("floor", "ceil", "round", "trunc", "isnan", "isinf", "isfinite", "logicalNot", "square"):
        case("%s_int64" % op, op, [randint(-5, 6, 7)])
    case("logicalNot_bool", "logicalNot", [tensor([True, False, True], "bool")])
    case("reciprocal_int64", "reciprocal", [tensor([1, 2, -4, 8], "int64")])
    case("erfc_tail_float64", "erfc", [tensor([5.0, 10.0, 26.0, 27.5], "float64")])
    case("expm1_small_float64", "expm1", [tensor([1e-20, -1e-15, 1e-8, 1e-300], "float64")])
    case("log1p_small_float64", "log1p", [tensor([1e-20, -1e-15, 1e-8, 1e-300], "float64")])
    for op in BINARY14:
        logical = op.startswith("logical")
        for dt in ("float32", "float64"):
            a = randn(dt, 3, 4, scale=3.0)
            b = randn(dt, 4, scale=2.0)
            if op in ("fmod", "remainder"):
                b = b.sign() * (b.abs() + 0.5)
            if logical:
                a, b = a.round().clamp(-1, 1), b.round().clamp(-1, 1)
            case("%s_%s" % (op, dt), op, [a, b])
            case("%s_broadcast_%s" % (op, dt), op, [randn(dt, 3, 1, scale=3.0), (randn(dt, 4, 3, scale=2.0).add(0.5), "t")])
            e = tensor(EDGE, dt)
            case("%s_edge_%s" % (op, dt), op, [e.reshape(-1, 1), e.reshape(1, -1)])
        case("%s_int64" % op, op, [randint(-9, 10, 3, 4), randint(1, 5, 4) * torch.tensor([1, -1, 1, -1])])
    case("maximum_ties", "maximum", [tensor([1.0, 2.0, -0.0, 3.0], "float64"), tensor([1.0, 1.0, 0.0, 4.0], "float64")])
    case("logicalAnd_bool", "logicalAnd", [tensor([True, False, True, False], "bool"), tensor([True, True, False, False], "bool")])
    for dt in ("float32", "float64"):
        x = randn(dt, 3, 4, scale=2.0)
        case("clamp_%s" % dt, "clamp", [x], lo=-0.5, hi=1.25)
        case("clamp_crossed_%s" % dt, "clamp", [x], lo=1.0, hi=-1.0)
        case("clampMin_%s" % dt, "clampMin", [x], lo=0.25)
        case("clampMax_%s" % dt, "clampMax", [x], hi=-0.25)
        case("clamp_tensor_%s" % dt, "clamp", [x, randn(dt, 4, scale=0.5).sub(1), randn(dt, 3, 1, scale=0.5).add(1)])
        case("clamp_edge_%s" % dt, "clamp", [tensor(EDGE, dt)], lo=-2.0, hi=2.0)
    case("clamp_int64", "clamp", [randint(-9, 10, 6)], lo=-2.5, hi=3.5)


def main():
    unary_cases()
    binary_cases()
    scalar_cases()
    where_cases()
    to_cases()
    reduction_cases()
    softmax_cases()
    matmul_cases()
    linear_cases()
    view_cases()
    index_cases()
    creation_cases()
    issue14_cases()  # last: the cases above keep their random draws
    sys.stdout.write("# generated by tests/reference/gen_ops_reference.py with torch %s; do not edit\n" % torch.__version__)
    sys.stdout.write("\n".join(OUT) + "\n")
    sys.stderr.write("%d cases\n" % len(OUT))


if __name__ == "__main__":
    main()
