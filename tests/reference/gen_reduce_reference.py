#!/usr/bin/env python3
"""Reference values and gradients of the reductions with positions, scans and sorting, from PyTorch 1.13:
Tensor.prod, cumsum, cumprod, logcumsumexp, max(dim) / min(dim), argmax / argmin, sort, topk.

    /usr/bin/python3 tests/reference/gen_reduce_reference.py > java/src/test/resources/dev/adjoint/reduce_reference.txt

ReduceReferenceTest reads it with NnReferenceTest's parser and checks (values, torch's vjp, and for
float64 vmap == loop and jacfwd == jacrev). The format is reference_records.py's. A function with a
(values, indices) result appears twice: "<fn>Values" (with gradients) and "<fn>Indices" (int64).

Deliberate differences from torch, not sampled here: topk's ties come in index order (torch leaves
them unspecified), and logcumsumexp's gradient is 0 where every entry so far is -inf (torch: NaN).
"""
import warnings

import torch

from reference_records import DTN
import reference_records

torch.manual_seed(1414)
warnings.filterwarnings("ignore")


def kd(a):
    return bool(a.get("keepdim", 0))


FNS = {
    "prod": lambda x, a: torch.prod(x, a["dim"], keepdim=kd(a)),
    "prodAll": lambda x, a: torch.prod(x),
    "cumsum": lambda x, a: torch.cumsum(x, a["dim"]),
    "cumprod": lambda x, a: torch.cumprod(x, a["dim"]),
    "logcumsumexp": lambda x, a: torch.logcumsumexp(x, a["dim"]),
    "maxValues": lambda x, a: torch.max(x, a["dim"], keepdim=kd(a)).values,
    "maxIndices": lambda x, a: torch.max(x, a["dim"], keepdim=kd(a)).indices,
    "minValues": lambda x, a: torch.min(x, a["dim"], keepdim=kd(a)).values,
    "minIndices": lambda x, a: torch.min(x, a["dim"], keepdim=kd(a)).indices,
    "argmax": lambda x, a: torch.argmax(x, a["dim"], keepdim=kd(a)),
    "argmin": lambda x, a: torch.argmin(x, a["dim"], keepdim=kd(a)),
    "argmaxAll": lambda x, a: torch.argmax(x),
    "argminAll": lambda x, a: torch.argmin(x),
    "sortValues": lambda x, a: torch.sort(x, dim=a["dim"], descending=bool(a["descending"]), stable=True).values,
    "sortIndices": lambda x, a: torch.sort(x, dim=a["dim"], descending=bool(a["descending"]), stable=True).indices,
    "topkValues": lambda x, a: torch.topk(x, a["k"], a["dim"], largest=bool(a["largest"])).values,
    "topkIndices": lambda x, a: torch.topk(x, a["k"], a["dim"], largest=bool(a["largest"])).indices,
}


def case(name, fn, x, **args):
    reference_records.case(name, fn, lambda xs, a: FNS[fn](xs[0], a), [x], args)


def pair(name, fn, x, **args):
    """A (values, indices) function: both halves."""
    case(name + "_values", fn + "Values", x, **args)
    case(name + "_indices", fn + "Indices", x, **args)


def r(*s, dt=torch.float64, scale=1.0):
    return torch.randn(*s, dtype=dt) * scale


def t(v, dt=torch.float64):
    return torch.tensor(v, dtype=dt)


NAN, INF = float("nan"), float("inf")
for dt in (torch.float64, torch.float32):
    dn = DTN[dt]
    # products: no zero, one zero, several zeros in a line (the gradient must not divide by x)
    case("prod_%s" % dn, "prod", r(3, 4, dt=dt), dim=1)
    case("prod_keepdim_%s" % dn, "prod", r(2, 3, 4, dt=dt), dim=-2, keepdim=1)
    case("prod_one_zero_%s" % dn, "prod", t([[2.0, 0.0, -3.0, 0.5], [1.5, -2.0, 0.25, 4.0]], dt), dim=1)
    case("prod_two_zeros_%s" % dn, "prod", t([[2.0, 0.0, -3.0, 0.0], [0.0, -2.0, 0.25, 4.0]], dt), dim=1)
    case("prod_zero_dim0_%s" % dn, "prod", t([[2.0, 0.0], [0.0, 3.0], [5.0, -1.0]], dt), dim=0)
    case("prod_long_lines_%s" % dn, "prod", torch.rand(3, 19, dtype=dt) + 0.5, dim=1)
    case("prodAll_%s" % dn, "prodAll", r(2, 3, dt=dt))
    case("prodAll_zero_%s" % dn, "prodAll", t([[1.5, 0.0], [-2.0, 3.0]], dt))
    case("prodAll_0d_%s" % dn, "prodAll", t(2.5, dt))
    case("prod_0d_%s" % dn, "prod", t(-1.5, dt), dim=-1)
    case("prod_empty_%s" % dn, "prod", torch.zeros(2, 0, dtype=dt), dim=1)
    case("prodAll_empty_%s" % dn, "prodAll", torch.zeros(0, dtype=dt))
    # scans
    case("cumsum_%s" % dn, "cumsum", r(3, 5, dt=dt), dim=1)
    case("cumsum_dim0_%s" % dn, "cumsum", r(4, 2, 3, dt=dt), dim=0)
    case("cumsum_neg_%s" % dn, "cumsum", r(2, 3, 4, dt=dt), dim=-2)
    case("cumsum_0d_%s" % dn, "cumsum", t(1.25, dt), dim=0)
    case("cumprod_%s" % dn, "cumprod", r(3, 5, dt=dt), dim=1)
    case("cumprod_one_zero_%s" % dn, "cumprod", t([[2.0, 0.0, -3.0, 0.5], [1.5, -2.0, 0.25, 0.0]], dt), dim=1)
    case("cumprod_two_zeros_%s" % dn, "cumprod", t([[2.0, 0.0, -3.0, 0.0, 1.5], [0.0, 0.0, 2.0, 1.0, -1.0]], dt), dim=1)
    case("cumprod_dim0_%s" % dn, "cumprod", t([[2.0, 0.0], [0.0, 3.0], [5.0, -1.0]], dt), dim=0)
    case("logcumsumexp_%s" % dn, "logcumsumexp", r(3, 5, dt=dt, scale=2), dim=1)
    case("logcumsumexp_dim0_%s" % dn, "logcumsumexp", r(4, 3, dt=dt), dim=0)
    case("logcumsumexp_large_%s" % dn, "logcumsumexp", t([[500.0, 1000.0, -1000.0, 999.0], [-800.0, -790.0, 85.0, 90.0]], dt), dim=1)
    case("logcumsumexp_neginf_%s" % dn, "logcumsumexp", t([[1.0, -INF, 2.0, -INF], [0.5, 3.0, -INF, -1.0]], dt), dim=1)
    case("logcumsumexp_0d_%s" % dn, "logcumsumexp", t(0.75, dt), dim=0)
    # extremes along a dim: values (gradient to the selected element only) and positions
    ties = t([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, -1.0, -1.0], [2.0, 2.0, 2.0, 2.0]], dt)
    for fn in ("max", "min"):
        pair("%s_%s" % (fn, dn), fn, r(3, 5, dt=dt), dim=1)
        pair("%s_keepdim_%s" % (fn, dn), fn, r(2, 3, 4, dt=dt), dim=0, keepdim=1)
        pair("%s_ties_%s" % (fn, dn), fn, ties, dim=1)
        pair("%s_ties_dim0_%s" % (fn, dn), fn, ties, dim=-2)
        pair("%s_nan_%s" % (fn, dn), fn, t([[1.0, NAN, 3.0, NAN], [-INF, INF, 0.0, 1.0]], dt), dim=1)
        pair("%s_0d_%s" % (fn, dn), fn, t(4.0, dt), dim=0)
        pair("%s_empty_lines_%s" % (fn, dn), fn, torch.zeros(0, 3, dtype=dt), dim=1)
        case("arg%s_%s" % (fn, dn), "arg" + fn, ties, dim=1)
        case("arg%s_keepdim_%s" % (fn, dn), "arg" + fn, r(2, 3, 4, dt=dt), dim=-1, keepdim=1)
        case("arg%s_nan_%s" % (fn, dn), "arg" + fn, t([[1.0, NAN, 3.0, NAN], [-INF, INF, 0.0, 1.0]], dt), dim=1)
        case("arg%s_long_lines_%s" % (fn, dn), "arg" + fn, r(3, 21, dt=dt), dim=1)
        case("arg%sAll_%s" % (fn, dn), "arg%sAll" % fn, ties)
        case("arg%sAll_0d_%s" % (fn, dn), "arg%sAll" % fn, t(4.0, dt))
    # sorting: stable (ties in index order), NaN largest
    for desc in (0, 1):
        pair("sort_%d_%s" % (desc, dn), "sort", r(3, 6, dt=dt), dim=1, descending=desc)
        pair("sort_dim0_%d_%s" % (desc, dn), "sort", r(4, 2, 3, dt=dt), dim=0, descending=desc)
        pair("sort_ties_%d_%s" % (desc, dn), "sort", t([[1.0, NAN, 0.0, -0.0, NAN, 0.0, 1.0], [3.0, 3.0, 3.0, -INF, INF, 3.0, 2.0]], dt), dim=1, descending=desc)
        pair("sort_0d_%d_%s" % (desc, dn), "sort", t(-2.0, dt), dim=0, descending=desc)
    for largest in (1, 0):
        pair("topk_%d_%s" % (largest, dn), "topk", r(3, 6, dt=dt), k=3, dim=1, largest=largest)
        pair("topk_dim0_%d_%s" % (largest, dn), "topk", r(5, 2, dt=dt), k=2, dim=0, largest=largest)
        pair("topk_all_%d_%s" % (largest, dn), "topk", r(2, 4, dt=dt), k=4, dim=-1, largest=largest)
        pair("topk_none_%d_%s" % (largest, dn), "topk", r(2, 4, dt=dt), k=0, dim=1, largest=largest)
        pair("topk_nan_%d_%s" % (largest, dn), "topk", t([[1.0, NAN, 0.5, -INF, 2.0]], dt), k=2, dim=1, largest=largest)
