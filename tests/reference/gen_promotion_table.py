#!/usr/bin/env python3
"""Generate torch 1.13's type-promotion answers for Adjoint's binary ops, in two forms:

    /usr/bin/python3 tests/reference/gen_promotion_table.py

writes native/tests/data/promotion_expected.h (the result dtype of every op x dtype pair x operand
standing, read by native/tests/test_promotion.cpp) and
java/src/test/resources/dev/adjoint/promotion_torch.csv (the same table plus value cases, read by
PromotionTest.java). Run with Debian's python3-torch (1.13).

Operands: a dimensioned tensor ("nd", shape [2]), a 0-d tensor ("0d"), or a scalar: a Python int
stands for a Java long ("long"), a Python float for a Java double ("double"). Scalars come second,
or first for the reversed forms (s - t is Tensor.rsub). For where, the operands are its values (the
condition is a bool [2]). Each row gives torch's result dtype, "error" where torch raises, and for
comparisons the dtype they compare in (torch.result_type). Value cases give inputs and torch's
outputs for a few promotions where the compute dtype shows in the numbers.
"""
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}
OPS = ["add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "where",
       "maximum", "minimum", "atan2", "fmod", "remainder", "logical_and", "logical_or"]
# logical_and/or: bool results; their "compute" column is torch.result_type, as for comparisons
COMPARE = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or"}
# the ops torch (and Tensor) take a Python / Java scalar in: the arithmetic, comparisons, fmod and
# remainder (maximum, minimum, atan2, logical_and/or take tensors only, in torch and in Java)
SCALAR_OPS = {"add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "fmod", "remainder"}
PY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
      "pow": lambda a, b: a ** b, "remainder": lambda a, b: a % b}


def tensor(dtype, standing):
    t = torch.ones(2, dtype=DTYPES[dtype]) if standing == "nd" else torch.tensor(1, dtype=DTYPES[dtype])
    return t


def scalar(kind):
    return 2 if kind == "long" else 2.5


def run(op, a, b, reverse=False):
    if op == "where":
        return torch.where(torch.tensor([True, False]), a, b)
    if reverse:
        return PY[op](a, b)
    return getattr(torch, op)(a, b)


def rows():
    out = []
    for op in OPS:
        for da in DTYPES:
            for sa in ["nd", "0d"]:
                seconds = [(db, sb) for db in DTYPES for sb in ["nd", "0d"]]
                if op in SCALAR_OPS:
                    seconds += [("int64", "long"), ("float64", "double")]
                for db, sb in seconds:
                    for reverse in ([False, True] if sb in ("long", "double") and op in PY else [False]):
                        a = tensor(da, sa)
                        b = scalar(sb) if sb in ("long", "double") else tensor(db, sb)
                        try:
                            r = run(op, b, a, True) if reverse else run(op, a, b)
                            result = NAMES[r.dtype]
                            compute = NAMES[torch.result_type(a, b)] if op in COMPARE else result
                        except RuntimeError:
                            result = compute = "error"
                        out.append((op, da, sa, db, sb, int(reverse), result, compute))
    return out


# (op, a, b, reverse): an operand is (dtype, standing, values) with standing "nd", "0d" (one value)
# or "long"/"double" (a scalar). Inputs and outputs are written with repr() (exact for doubles).
VALUE_CASES = [
    ("mul", ("int64", "nd", [0, 1, 2]), ("float64", "double", 0.5), 0),               # arange(3).mul(0.5)
    ("div", ("int64", "nd", [7, -7, 0]), ("int64", "long", 2), 0),                    # true division
    ("div", ("int64", "nd", [0, 1]), ("int64", "nd", [0, 0]), 0),                     # 0/0 nan, 1/0 inf
    ("add", ("float32", "nd", [0.1]), ("float64", "0d", 0.2), 0),                     # computed in float32
    ("add", ("float32", "nd", [0.1]), ("float64", "nd", [0.2]), 0),                   # computed in float64
    ("add", ("int64", "nd", [1, 2]), ("float32", "0d", 0.5), 0),                      # category raised by a 0-d
    ("eq", ("int64", "nd", [16777217]), ("float64", "double", 16777216.0), 0),        # compared in float32
    ("eq", ("int64", "nd", [16777217]), ("float64", "0d", 16777216.0), 0),            # compared in float64
    ("eq", ("float32", "nd", [1.1]), ("float64", "0d", 1.1), 0),                      # compared in float32
    ("gt", ("float64", "nd", [1.1]), ("float32", "nd", [1.1]), 0),                    # compared in float64
    ("pow", ("int64", "nd", [3, 2, -2]), ("int64", "nd", [40, 62, 63]), 0),           # exact, wrapping
    ("pow", ("int64", "nd", [2, 1, -1, 0, -1]), ("int64", "nd", [-1, -1, -1, -1, -2]), 0),
    ("pow", ("int64", "nd", [2, 3]), ("int64", "long", 3), 0),
    ("pow", ("int64", "nd", [2, 3]), ("float64", "double", 0.5), 0),
    ("sub", ("int64", "nd", [2, 3]), ("int64", "long", 10), 1),                        # 10 - t
    ("add", ("bool", "nd", [True, False, True]), ("bool", "nd", [True, False, False]), 0),  # logical or
    ("mul", ("bool", "nd", [True, False, True]), ("bool", "nd", [True, True, False]), 0),   # logical and
    ("add", ("bool", "nd", [True, False]), ("int64", "long", 1), 0),
    ("where", ("int64", "nd", [1, 2]), ("float64", "0d", 0.5), 0),
    ("add", ("int64", "nd", [9007199254740993]), ("int64", "long", 0), 0),            # 2^53 + 1 stays exact
    ("maximum", ("bool", "nd", [True, False, False]), ("bool", "nd", [False, False, True]), 0),  # logical or
    ("minimum", ("bool", "nd", [True, False, True]), ("bool", "nd", [True, True, False]), 0),   # logical and
    ("maximum", ("int64", "nd", [16777217, -3]), ("float32", "0d", 1.5), 0),          # compared in float32
    ("atan2", ("int64", "nd", [1, -1, 0]), ("int64", "nd", [2, 2, -1]), 0),            # integers: default float
    ("fmod", ("int64", "nd", [7, -7]), ("int64", "long", 3), 0),                       # sign of the dividend
    ("remainder", ("int64", "nd", [7, -7]), ("int64", "long", 3), 0),                  # sign of the divisor
    ("remainder", ("int64", "nd", [7, -7]), ("float64", "double", 2.5), 0),            # in the default float
    ("fmod", ("float32", "nd", [5.5, -5.5]), ("float64", "0d", 2.0), 0),
    ("logical_and", ("int64", "nd", [0, 2, 3]), ("float64", "0d", 0.5), 0),
    ("logical_or", ("float32", "nd", [0.0, 0.0]), ("bool", "nd", [True, False]), 0),
]


def make(dtype, standing, values):
    if standing in ("long", "double"):
        return values
    return torch.tensor(values, dtype=DTYPES[dtype])


def fmt(values):
    return " ".join(repr(v) for v in values)


def value_rows():
    out = []
    for op, (da, sa, va), (db, sb, vb), rev in VALUE_CASES:
        a, b = make(da, sa, va), make(db, sb, vb)
        r = run(op, b, a, True) if rev else run(op, a, b)
        va = va if isinstance(va, list) else [va]
        vb = vb if isinstance(vb, list) else [vb]
        out.append((op, da, sa, fmt(va), db, sb, fmt(vb), rev, NAMES[r.dtype], fmt(r.reshape(-1).tolist())))
    return out


def write_header(table, path):
    kinds = {"nd": "kDim", "0d": "kZeroDim", "long": "kScalar", "double": "kScalar"}
    with open(path, "w") as f:
        f.write("// GENERATED by tests/reference/gen_promotion_table.py with torch %s -- do not edit.\n" % torch.__version__)
        f.write("// torch's result dtype for each op x operand dtypes x standing (nd: shape [2], 0-d, or a scalar:\n")
        f.write("// int64 = a Java long, float64 = a Java double); \"error\" where torch raises. compute: the dtype a\n")
        f.write("// comparison compares in (torch.result_type), else the result dtype.\n")
        f.write("#pragma once\n\nnamespace promotion_expected {\n\n")
        f.write("enum Standing { kScalar = 0, kZeroDim = 1, kDim = 2 };\n\n")
        f.write("struct Row {\n  const char* op;\n  const char* a_dtype;\n  int a_standing;\n  const char* b_dtype;\n"
                "  int b_standing;\n  int reverse;  // scalar first: s (op) t\n  const char* result;\n  const char* compute;\n};\n\n")
        f.write("constexpr Row kRows[] = {\n")
        for op, da, sa, db, sb, rev, res, comp in table:
            f.write('    {"%s", "%s", %s, "%s", %s, %d, "%s", "%s"},\n' % (op, da, kinds[sa], db, kinds[sb], rev, res, comp))
        f.write("};\n\n}  // namespace promotion_expected\n")


def write_csv(table, values, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# GENERATED by tests/reference/gen_promotion_table.py with torch %s -- do not edit.\n" % torch.__version__)
        f.write("# dtype rows: dtype,op,a_dtype,a_standing,b_dtype,b_standing,reverse,result,compute\n")
        f.write("# value rows: value,op,a_dtype,a_standing,a_values,b_dtype,b_standing,b_values,reverse,result,result_values\n")
        for row in table:
            f.write("dtype," + ",".join(str(x) for x in row) + "\n")
        for row in values:
            f.write("value," + ",".join(str(x) for x in row) + "\n")


def main():
    table = rows()
    write_header(table, os.path.join(ROOT, "native/tests/data/promotion_expected.h"))
    write_csv(table, value_rows(), os.path.join(ROOT, "java/src/test/resources/dev/adjoint/promotion_torch.csv"))
    print("%d dtype rows, %d value cases" % (len(table), len(VALUE_CASES)), file=sys.stderr)


if __name__ == "__main__":
    main()
