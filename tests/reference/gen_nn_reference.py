#!/usr/bin/env python3
"""Reference values and gradients of F's composites, Tensor.var/std/norm, from PyTorch 1.13.

    /usr/bin/python3 tests/reference/gen_nn_reference.py > java/src/test/resources/dev/adjoint/nn_reference.txt

NnReferenceTest reads it; the record format is reference_records.py's (a case's inputs, torch's
output, a random cotangent and torch's autograd vjp for every floating input). The gradients are
torch's, conventions at kinks included (relu-like ties, the norm's zero subgradient, clamps).
"""
import warnings

import torch
import torch.nn.functional as F

from reference_records import DTN
import reference_records

torch.manual_seed(1413)
warnings.filterwarnings("ignore")


FNS = {
    "gelu": lambda xs, a: F.gelu(xs[0]),
    "geluTanh": lambda xs, a: F.gelu(xs[0], approximate="tanh"),
    "silu": lambda xs, a: F.silu(xs[0]),
    "softplus": lambda xs, a: F.softplus(xs[0]),
    "softplusBeta": lambda xs, a: F.softplus(xs[0], beta=a["beta"], threshold=a["threshold"]),
    "elu": lambda xs, a: F.elu(xs[0], alpha=a["alpha"]),
    "leakyRelu": lambda xs, a: F.leaky_relu(xs[0], a["slope"]),
    "logSigmoid": lambda xs, a: F.logsigmoid(xs[0]),
    "mseLoss": lambda xs, a: F.mse_loss(xs[0], xs[1]),
    "l1Loss": lambda xs, a: F.l1_loss(xs[0], xs[1]),
    "huberLoss": lambda xs, a: F.huber_loss(xs[0], xs[1], delta=a["delta"]),
    "bce": lambda xs, a: F.binary_cross_entropy(xs[0], xs[1]),
    "bceLogits": lambda xs, a: F.binary_cross_entropy_with_logits(xs[0], xs[1]),
    "oneHot": lambda xs, a: F.one_hot(xs[0], a["classes"]),
    "normalize": lambda xs, a: F.normalize(xs[0], p=a["p"], dim=a["dim"]),
    "cosineSimilarity": lambda xs, a: F.cosine_similarity(xs[0], xs[1], dim=a["dim"]),
    "layerNorm": lambda xs, a: F.layer_norm(xs[0], xs[0].shape[-a["k"]:], xs[1], xs[2], 1e-5),
    "layerNormPlain": lambda xs, a: F.layer_norm(xs[0], xs[0].shape[-a["k"]:], None, None, 1e-5),
    "groupNorm": lambda xs, a: F.group_norm(xs[0], a["groups"], xs[1], xs[2], 1e-5),
    "batchNormTrain": lambda xs, a: F.batch_norm(xs[0], None, None, xs[1], xs[2], training=True, eps=1e-5),
    "batchNormEval": lambda xs, a: F.batch_norm(xs[0], xs[1], xs[2], xs[3], xs[4], training=False, eps=1e-5),
    "embedding": lambda xs, a: F.embedding(xs[0], xs[1]),
    "var": lambda xs, a: xs[0].var(a["dim"]),
    "std": lambda xs, a: xs[0].std(a["dim"]),
    "varDims": lambda xs, a: torch.var(xs[0], dim=a["dims"], correction=a["correction"], keepdim=bool(a["keepdim"])),
    "stdDims": lambda xs, a: torch.std(xs[0], dim=a["dims"], correction=a["correction"], keepdim=bool(a["keepdim"])),
    "norm": lambda xs, a: torch.linalg.vector_norm(xs[0]),
    "normP": lambda xs, a: torch.linalg.vector_norm(xs[0], ord=a["p"], dim=a["dim"], keepdim=bool(a["keepdim"])),
    "amin": lambda xs, a: torch.amin(xs[0], dim=a["dim"]),
    "aminAll": lambda xs, a: torch.amin(xs[0]),
    "all": lambda xs, a: torch.all(xs[0]),
    "any": lambda xs, a: torch.any(xs[0]),
    "flip": lambda xs, a: torch.flip(xs[0], a["dims"]),
    "roll": lambda xs, a: torch.roll(xs[0], a["shift"], a["dim"]),
    "tril": lambda xs, a: torch.tril(xs[0], a["k"]),
    "triu": lambda xs, a: torch.triu(xs[0], a["k"]),
    "diagonal": lambda xs, a: torch.diagonal(xs[0], a["offset"], a["dim1"], a["dim2"]),
    "trace": lambda xs, a: torch.trace(xs[0]),
    "outer": lambda xs, a: torch.outer(xs[0], xs[1]),
    "maskedFill": lambda xs, a: xs[0].masked_fill(xs[1], a["value"]),
    "repeat": lambda xs, a: xs[0].repeat(*a["sizes"]),
    "diag": lambda xs, a: torch.diag(xs[0], a["offset"]),
    "linspace": lambda xs, a: torch.linspace(a["start"], a["end"], a["steps"], dtype=DT[a["dtype"]]),
}
DT = {"float32": torch.float32, "float64": torch.float64}


def case(name, fn, inputs, nograd=(), **args):
    reference_records.case(name, fn, FNS[fn], inputs, args, nograd)


def r(*s, dt=torch.float64, scale=1.0):
    return torch.randn(*s, dtype=dt) * scale


def t(v, dt=torch.float64):
    return torch.tensor(v, dtype=dt)


EDGE = [-60.0, -41.0, -39.0, -20.5, -3.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 2.5, 19.9, 20.0, 20.1, 35.0, 60.0]
for dt in (torch.float64, torch.float32):
    dn = DTN[dt]
    for fn in ("gelu", "geluTanh", "silu", "softplus", "logSigmoid"):
        case("%s_%s" % (fn, dn), fn, [r(3, 4, dt=dt, scale=2)])
        case("%s_edge_%s" % (fn, dn), fn, [t(EDGE, dt)])
    case("elu_%s" % dn, "elu", [t(EDGE, dt)], alpha=1.0)
    case("elu_alpha_%s" % dn, "elu", [r(5, dt=dt)], alpha=0.7)
    case("leakyRelu_%s" % dn, "leakyRelu", [t(EDGE, dt)], slope=0.1)
    case("softplusBeta_%s" % dn, "softplusBeta", [t(EDGE, dt)], beta=2.0, threshold=5.0)
    case("mseLoss_%s" % dn, "mseLoss", [r(4, 3, dt=dt), r(4, 3, dt=dt)])
    case("mseLoss_bcast_%s" % dn, "mseLoss", [r(4, 3, dt=dt), r(3, dt=dt)])
    case("l1Loss_%s" % dn, "l1Loss", [t([1.0, 2.0, -3.0, 0.5], dt), t([1.0, 0.0, -3.0, 2.0], dt)])
    case("huberLoss_%s" % dn, "huberLoss", [t([0.0, 0.5, 1.0, 1.5, -1.0, -3.0], dt), t([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], dt)], delta=1.0)
    case("huberLoss_delta_%s" % dn, "huberLoss", [r(3, 4, dt=dt, scale=2), r(3, 4, dt=dt)], delta=0.5)
    case("bce_%s" % dn, "bce", [torch.rand(5, 2, dtype=dt) * 0.98 + 0.01, torch.rand(5, 2, dtype=dt)])
    case("bceLogits_%s" % dn, "bceLogits", [t([-50.0, -3.0, 0.0, 2.0, 40.0], dt), t([1.0, 0.0, 0.5, 1.0, 0.0], dt)])
    case("normalize_%s" % dn, "normalize", [torch.cat([r(2, 3, dt=dt), torch.zeros(1, 3, dtype=dt)])], p=2.0, dim=1)
    case("normalize_p1_%s" % dn, "normalize", [r(3, 4, dt=dt)], p=1.0, dim=0)
    case("cosineSimilarity_%s" % dn, "cosineSimilarity", [r(4, 5, dt=dt), r(4, 5, dt=dt)], dim=1)
    case("cosineSimilarity_bcast_%s" % dn, "cosineSimilarity", [r(4, 5, dt=dt), r(5, dt=dt)], dim=-1)
    case("layerNorm_%s" % dn, "layerNorm", [r(2, 3, 4, dt=dt), r(3, 4, dt=dt), r(3, 4, dt=dt)], k=2)
    case("layerNormPlain_%s" % dn, "layerNormPlain", [r(3, 5, dt=dt, scale=3)], k=1)
    case("groupNorm_%s" % dn, "groupNorm", [r(2, 6, 3, dt=dt), r(6, dt=dt), r(6, dt=dt)], groups=3)
    case("batchNormTrain_%s" % dn, "batchNormTrain", [r(4, 3, 2, dt=dt), r(3, dt=dt), r(3, dt=dt)])
    case("batchNormEval_%s" % dn, "batchNormEval", [r(4, 3, dt=dt), r(3, dt=dt), torch.rand(3, dtype=dt) + 0.5, r(3, dt=dt), r(3, dt=dt)], nograd=(1, 2))
    case("embedding_%s" % dn, "embedding", [t([[0, 2], [2, 3]], torch.int64), r(4, 3, dt=dt)])
    case("var_%s" % dn, "var", [r(3, 5, dt=dt)], dim=1)
    case("std_%s" % dn, "std", [r(3, 5, dt=dt)], dim=0)
    case("varDims_%s" % dn, "varDims", [r(2, 3, 4, dt=dt)], dims=[0, 2], correction=0, keepdim=1)
    case("stdDims_%s" % dn, "stdDims", [r(2, 3, 4, dt=dt)], dims=[1], correction=2, keepdim=0)
    case("norm_%s" % dn, "norm", [r(3, 4, dt=dt)])
    case("norm_zero_%s" % dn, "norm", [torch.zeros(3, dtype=dt)])
    for p in (1.0, 2.0, 3.0, 0.5):
        case("normP_%s_%s" % (str(p).replace(".", "p"), dn), "normP", [r(3, 4, dt=dt)], p=p, dim=1, keepdim=0)
    case("normP_inf_ties_%s" % dn, "normP", [t([[1.0, -3.0, 3.0], [0.5, 0.25, -0.5]], dt)], p=float("inf"), dim=1, keepdim=1)
    case("normP_2_zero_row_%s" % dn, "normP", [t([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]], dt)], p=2.0, dim=1, keepdim=0)
    case("normP_1_zero_%s" % dn, "normP", [t([[0.0, 0.0], [1.0, -2.0]], dt)], p=1.0, dim=1, keepdim=0)
for dt in (torch.float64, torch.float32):
    dn = DTN[dt]
    case("amin_%s" % dn, "amin", [t([[1.0, -2.0, -2.0], [0.5, 3.0, 0.5]], dt)], dim=1)
    case("aminAll_%s" % dn, "aminAll", [r(3, 4, dt=dt)])
    case("flip_%s" % dn, "flip", [r(2, 3, 4, dt=dt)], dims=[0, 2])
    case("roll_%s" % dn, "roll", [r(3, 5, dt=dt)], shift=-7, dim=1)
    for k in (-1, 0, 2):
        case("tril_%d_%s" % (k + 1, dn), "tril", [r(2, 3, 4, dt=dt)], k=k)
        case("triu_%d_%s" % (k + 1, dn), "triu", [r(4, 3, dt=dt)], k=k)
    for off, d1, d2 in ((0, 0, 1), (1, 0, 1), (-2, 0, 1), (1, 2, 0), (5, 0, 1)):
        case("diagonal_%d_%d_%d_%s" % (off + 2, d1, d2, dn), "diagonal", [r(4, 3, 5, dt=dt)], offset=off, dim1=d1, dim2=d2)
    case("trace_%s" % dn, "trace", [r(3, 4, dt=dt)])
    case("outer_%s" % dn, "outer", [r(3, dt=dt), r(4, dt=dt)])
    case("maskedFill_%s" % dn, "maskedFill", [r(3, 4, dt=dt), torch.rand(4) > 0.5], value=-1.5)
    case("repeat_%s" % dn, "repeat", [r(2, 3, dt=dt)], sizes=[2, 1, 3])
    for off in (0, 1, -2):
        case("diag_vec_%d_%s" % (off + 2, dn), "diag", [r(3, dt=dt)], offset=off)
    case("diag_mat_%s" % dn, "diag", [r(3, 4, dt=dt)], offset=1)
    for steps in (0, 1, 2, 7, 100):
        case("linspace_%d_%s" % (steps, dn), "linspace", [], start=-1.3, end=2.9, steps=steps, dtype=dn)
case("all_true", "all", [t([[1.0, 2.0], [-1.0, 0.5]])])
case("all_false", "all", [t([1, 0, 3], torch.int64)])
case("all_empty", "all", [torch.zeros(0)])
case("any_true", "any", [t([0.0, 0.0, -0.5])])
case("any_false", "any", [t([False, False])])
case("any_nan", "any", [t([0.0, float("nan")])])
case("oneHot", "oneHot", [t([[0, 3], [2, 1]], torch.int64)], classes=4)
case("oneHot_0d", "oneHot", [t(2, torch.int64)], classes=3)
