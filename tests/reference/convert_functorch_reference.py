#!/usr/bin/env python3
"""Convert the functorch 1.13 reference files (JSON, float64) into one text resource.

Run with the system Python (standard library only):

    /usr/bin/python3 tests/reference/convert_functorch_reference.py [REFERENCE_DIR] \
        > java/src/test/resources/dev/adjoint/functorch_reference.txt

REFERENCE_DIR defaults to /work/shared/reference (40 files, one (function, transform) case each,
described in that directory's README.md). FunctorchReferenceTest parses the output without a JSON
library and never reads the JSON files itself.

Format: plain text, one record per case, fields on their own lines, tokens separated by one space.
Lines starting with '#' are comments.

    case <id>                         the file name without .json
    call <text>                       the functorch call that produced the outputs (informative)
    failed <text>                     zero or more: calls functorch 1.13 could not run (informative)
    in <name> <dtype> <shape> <data...>     every input, in the file's input_order
    out <name> <dtype> <shape> <data...>    every output, in the file's output_order
    end

  dtype  float64 | int64
  shape  comma-separated sizes, "_" for a 0-d tensor
  data   float64: IEEE-754 bit patterns as 16 hex digits (exact round trip); int64: decimal
"""
import json
import os
import struct
import sys


def f64_hex(v):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise ValueError("not a number: %r" % (v,))
    return struct.pack(">d", float(v)).hex()


def tensor_tokens(name, t):
    dtype, shape, data = t["dtype"], t["shape"], t["data"]
    n = 1
    for s in shape:
        n *= s
    if len(data) != n:
        raise ValueError("%s: %d values for shape %s" % (name, len(data), shape))
    if dtype == "float64":
        vals = [f64_hex(v) for v in data]
    elif dtype == "int64":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in data):
            raise ValueError("%s: int64 tensor with non-integer data" % name)
        vals = [str(v) for v in data]
    else:
        raise ValueError("%s: unsupported dtype %s" % (name, dtype))
    shp = ",".join(str(s) for s in shape) if shape else "_"
    return [name, dtype, shp] + vals


def one_line(s):
    return " ".join(str(s).split())


def convert(path):
    with open(path) as f:
        d = json.load(f)
    case_id = os.path.splitext(os.path.basename(path))[0]
    if d.get("id", case_id) != case_id:
        raise ValueError("%s: id %r does not match the file name" % (path, d.get("id")))
    lines = ["case " + case_id, "call " + one_line(d["call"])]
    for fc in d.get("functorch_1_13_failed_calls") or []:
        lines.append("failed " + one_line(fc["call"]))
    for name in d["input_order"]:
        lines.append(" ".join(["in"] + tensor_tokens(name, d["inputs"][name])))
    for name in d["output_order"]:
        lines.append(" ".join(["out"] + tensor_tokens(name, d["outputs"][name])))
    if set(d["inputs"]) != set(d["input_order"]) or set(d["outputs"]) != set(d["output_order"]):
        raise ValueError("%s: input_order/output_order do not cover the tensors" % path)
    lines.append("end")
    return lines


def main():
    ref_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference"
    files = sorted(f for f in os.listdir(ref_dir) if f.endswith(".json"))
    out = [
        "# functorch 1.13 reference values (float64), converted from %d JSON files by" % len(files),
        "# tests/reference/convert_functorch_reference.py; format described there.",
    ]
    for f in files:
        out.extend(convert(os.path.join(ref_dir, f)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
