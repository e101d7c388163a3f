#!/usr/bin/env python3
"""Reference values and gradients of Tensor.gather, scatter, scatterAdd, indexAdd and einsum from
PyTorch 1.13.

    /usr/bin/python3 tests/reference/gen_index_reference.py > java/src/test/resources/dev/adjoint/index_reference.txt

IndexReferenceTest reads it, in NnReferenceTest's format (see reference_records.py): per case the
inputs, torch's output, a random cotangent and torch's autograd vjp for every floating input; the
Java test also checks vmap against a loop and jacfwd against jacrev. An einsum equation is written
with '_' for a space. scatter's indices never repeat a position along dim: torch leaves the winner
of a repeated write undefined, and its src gradient is exact only without repeats.
"""
import torch

from reference_records import DTN
import reference_records

torch.manual_seed(1414)


def fit(src, index):
    """src cut to index's extent: all that scatter reads of it. torch's autograd refuses a src larger
    than the index (its gradient has the index's shape); through the cut, the elements scatter never
    reads get the zero gradient they have."""
    if src.dim() == 0:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


FNS = {
    "gather": lambda xs, a: torch.gather(xs[0], a["dim"], xs[1]),
    "scatter": lambda xs, a: torch.scatter(xs[0], a["dim"], xs[1], fit(xs[2], xs[1])),
    "scatterValue": lambda xs, a: torch.scatter(xs[0], a["dim"], xs[1], a["value"]),
    "scatterAdd": lambda xs, a: torch.scatter_add(xs[0], a["dim"], xs[1], fit(xs[2], xs[1])),
    "indexAdd": lambda xs, a: torch.index_add(xs[0], a["dim"], xs[1], xs[2]),
    "einsum": lambda xs, a: torch.einsum(a["eq"].replace("_", " "), *xs),
}


def case(name, fn, inputs, **args):
    reference_records.case(name, fn, FNS[fn], inputs, args)


def r(*s, dt=torch.float64):
    return torch.randn(s, dtype=dt)


def idx(hi, *s):
    return torch.randint(0, hi, s)


def unique_idx(hi, shape, along):
    """int64 of `shape` with no value twice along dim `along` (the start of a permutation per line)."""
    moved = list(shape)
    n = moved.pop(along)
    lines = int(torch.tensor(moved).prod()) if moved else 1
    rows = torch.stack([torch.randperm(hi)[:n] for _ in range(lines)]).reshape(*moved, n)
    return rows.movedim(-1, along).contiguous()


for dt in (torch.float64, torch.float32):
    dn = DTN[dt]
    case("gather_dim0_%s" % dn, "gather", [r(3, 4, dt=dt), idx(3, 2, 4)], dim=0)
    case("gather_neg_dim_%s" % dn, "gather", [r(3, 5, dt=dt), idx(5, 3, 2)], dim=-1)
    case("gather_smaller_index_%s" % dn, "gather", [r(4, 5, dt=dt), idx(5, 2, 3)], dim=1)
    case("gather_3d_%s" % dn, "gather", [r(2, 3, 4, dt=dt), idx(3, 2, 5, 4)], dim=1)
    case("gather_0d_%s" % dn, "gather", [r(dt=dt), torch.tensor(0)], dim=0)
    case("gather_0d_index_%s" % dn, "gather", [r(5, dt=dt), torch.tensor(3)], dim=0)
    case("gather_empty_%s" % dn, "gather", [r(3, 4, dt=dt), idx(3, 0, 4)], dim=0)
    case("scatter_dim0_%s" % dn, "scatter", [r(4, 3, dt=dt), unique_idx(4, (2, 3), 0), r(2, 3, dt=dt)], dim=0)
    case("scatter_src_bigger_%s" % dn, "scatter", [r(3, 5, dt=dt), unique_idx(5, (3, 2), 1), r(4, 3, dt=dt)], dim=-1)
    case("scatter_3d_%s" % dn, "scatter", [r(2, 3, 4, dt=dt), unique_idx(3, (2, 2, 4), 1), r(2, 2, 4, dt=dt)], dim=1)
    case("scatter_0d_%s" % dn, "scatter", [r(dt=dt), torch.tensor(0), r(dt=dt)], dim=0)
    case("scatterValue_%s" % dn, "scatterValue", [r(3, 4, dt=dt), idx(4, 3, 2)], dim=1, value=-2.5)
    case("scatterAdd_repeats_%s" % dn, "scatterAdd", [r(3, 4, dt=dt), idx(3, 5, 4), r(5, 4, dt=dt)], dim=0)
    case("scatterAdd_src_bigger_%s" % dn, "scatterAdd", [r(3, 4, dt=dt), idx(4, 2, 6), r(2, 7, dt=dt)], dim=-1)
    case("scatterAdd_0d_%s" % dn, "scatterAdd", [r(dt=dt), torch.tensor(0), r(dt=dt)], dim=0)
    case("indexAdd_repeats_%s" % dn, "indexAdd", [r(4, 3, dt=dt), torch.tensor([3, 0, 3, 1, 3]), r(5, 3, dt=dt)], dim=0)
    case("indexAdd_neg_dim_%s" % dn, "indexAdd", [r(2, 4, dt=dt), torch.tensor([1, 3, 1]), r(2, 3, dt=dt)], dim=-1)
    case("indexAdd_0d_index_%s" % dn, "indexAdd", [r(3, 2, dt=dt), torch.tensor(2), r(1, 2, dt=dt)], dim=0)
    case("indexAdd_0d_%s" % dn, "indexAdd", [r(dt=dt), torch.tensor(0), r(dt=dt)], dim=0)
case("gather_int64", "gather", [torch.randint(-9, 9, (3, 4)), idx(4, 3, 2)], dim=1)
case("scatterAdd_int64", "scatterAdd", [torch.randint(-9, 9, (3, 4)), idx(3, 5, 4), torch.randint(-9, 9, (5, 4))], dim=0)

EINSUM = [
    ("batch_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("trace", "ii", [(4, 4)]),
    ("diagonal", "ii->i", [(3, 3)]),
    ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ellipsis_bcast", "...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ellipsis_implicit", "...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("col_sums", "ij->j", [(3, 4)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("implicit_transpose", "ji", [(3, 4)]),
    ("dot", "i,i->", [(5,), (5,)]),
    ("dot_implicit", "i,i", [(5,), (5,)]),
    ("matvec", "ij,j->i", [(3, 4), (4,)]),
    ("matmul_implicit", "ij,jk", [(3, 4), (4, 2)]),
    ("bmm_transposed", "bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
    ("repeated_then_transposed", "iij->ji", [(3, 3, 2)]),
    ("batched_diagonal", "...ii->...i", [(2, 3, 3)]),
    ("three_chain", "abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]),
    ("three_outer", "i,j,k->ijk", [(2,), (3,), (2,)]),
    ("attention", "bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("upper_case", "Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ellipsis_ends", "a...,a...->...", [(3, 2, 4), (3, 4)]),
    ("hadamard", "ij,ij->ij", [(3, 4), (3, 4)]),
    ("spaces", "i_j_,_j_k_->_i_k", [(2, 3), (3, 2)]),
    ("size_one_bcast", "bi,i->b", [(3, 1), (4,)]),
    ("chain_implicit", "ij,jk,kl", [(2, 3), (3, 4), (4, 2)]),
    ("sum_shared_batch", "bi,bi->i", [(4, 3), (4, 3)]),
    ("output_reordered", "abc->cab", [(2, 3, 4)]),
]
for name, eq, shapes in EINSUM:
    case("einsum_%s" % name, "einsum", [r(*s) for s in shapes], eq=eq)
for name, eq, shapes in EINSUM[:6]:
    case("einsum_%s_float32" % name, "einsum", [r(*s, dt=torch.float32) for s in shapes], eq=eq)
