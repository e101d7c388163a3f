#!/usr/bin/env python3
"""Generate native/tests/data/random_expected.h: PyTorch's own CPU random numbers, as bit patterns.

Run with a Python that has torch 1.13 (Debian's python3-torch), on an x86-64 CPU with AVX2:

    /usr/bin/python3 tests/reference/gen_random_expected.py > native/tests/data/random_expected.h

Each case is one draw: optionally (re)seed, then torch.randn / torch.rand / normal_ / uniform_ on a
contiguous 1-D (or the notebook's 16x16) tensor. Cases run in order on one generator, so cached
Box-Muller state carries between them exactly as in torch. Values are stored as uint32 (float32)
or uint64 (float64) bit patterns. To keep the header small, a draw with n > FULL_LIMIT stores only
its first and last EDGE values; every draw also stores an FNV-1a-64 hash over all n bit patterns.
"""
import random
import struct
import sys

import torch

FULL_LIMIT = 256
EDGE = 48
SEEDS = [0, 1, 42, 2**40 + 3]

# op: "randn" / "rand" use torch.randn / torch.rand; "normal" / "uniform" use normal_(a, b) /
# uniform_(a, b) on torch.empty. reseed: None (continue), an int (torch.manual_seed), or
# "fresh" (a new torch.Generator(), i.e. default_rng_seed_val; later cases keep using it).


def notebook_cases():
    # The seed notebook's draw order: weight (16x16), bias (16), x (16).
    return [dict(reseed=0, op="randn", dtype="f32", n=256, label="notebook weight randn(16,16)"),
            dict(op="randn", dtype="f32", n=16, label="notebook bias randn(16)"),
            dict(op="randn", dtype="f32", n=16, label="notebook x randn(16)")]


def seed_sequence(seed):
    """A mixed sequence: small (scalar path, cached sample) and large (block-of-16) sizes, both
    dtypes, interleaved so that a leftover cached normal crosses dtypes and path boundaries."""
    items = []
    for n in [1, 16, 2, 17, 3, 31, 5, 33, 7, 100, 15, 1000, 1, 2048]:
        items.append(dict(op="randn", dtype="f32", n=n))
    for n in [3, 16, 1, 1000, 15, 17, 2, 33, 5, 2048, 7, 31, 100, 1]:
        items.append(dict(op="randn", dtype="f64", n=n))
    for n in [1, 7, 16, 33, 1000]:
        items.append(dict(op="rand", dtype="f32", n=n))
    for n in [2, 15, 17, 100, 2048]:
        items.append(dict(op="rand", dtype="f64", n=n))
    items += [dict(op="normal", dtype="f32", n=5, a=0.5, b=2.5),
              dict(op="normal", dtype="f32", n=100, a=-1.5, b=0.3),
              dict(op="normal", dtype="f32", n=7, a=3.0, b=0.7),
              dict(op="normal", dtype="f64", n=3, a=3.0, b=0.7),
              dict(op="normal", dtype="f64", n=33, a=1.0, b=2.0),
              dict(op="normal", dtype="f64", n=1000, a=-0.25, b=1.75),
              dict(op="uniform", dtype="f32", n=7, a=-2.0, b=3.5),
              dict(op="uniform", dtype="f32", n=1000, a=-0.25, b=1.75),
              dict(op="uniform", dtype="f64", n=17, a=-2.0, b=3.5),
              dict(op="uniform", dtype="f64", n=3, a=0.001, b=7.25)]
    random.Random(seed).shuffle(items)
    items[0]["reseed"] = seed
    # End on an odd small normal so a cached sample is pending when the next manual_seed comes.
    items.append(dict(op="randn", dtype="f32", n=3))
    return items


def fresh_generator_cases():
    return [dict(reseed="fresh", op="randn", dtype="f32", n=4),
            dict(op="randn", dtype="f32", n=20),
            dict(op="rand", dtype="f64", n=3),
            dict(op="randn", dtype="f64", n=1)]


def scalar_path_cases():
    """Many n < 16 draws with mean/std != (0, 1): the scalar path's fused `val * std + mean` only
    rounds differently from an unfused one on a few percent of values, so it needs volume."""
    r = random.Random(2024)
    items = []
    for i in range(48):
        n = [15, 13, 9, 11, 14, 12][i % 6]
        items.append(dict(op="normal", dtype="f64" if i % 2 else "f32", n=n,
                          a=round(r.uniform(-4, 4), 3), b=round(r.uniform(0.05, 5), 3)))
    items[0]["reseed"] = 2024
    return items


def draw(case, gen):
    dt = torch.float32 if case["dtype"] == "f32" else torch.float64
    n, op = case["n"], case["op"]
    shape = (16, 16) if case.get("label", "").startswith("notebook weight") else (n,)
    if op == "randn":
        t = torch.randn(shape, dtype=dt, generator=gen)
    elif op == "rand":
        t = torch.rand(shape, dtype=dt, generator=gen)
    elif op == "normal":
        t = torch.empty(shape, dtype=dt).normal_(case["a"], case["b"], generator=gen)
    else:
        t = torch.empty(shape, dtype=dt).uniform_(case["a"], case["b"], generator=gen)
    assert t.is_contiguous() and t.numel() == n
    fmt = "<f" if dt == torch.float32 else "<d"
    ufmt = "<I" if dt == torch.float32 else "<Q"
    return [struct.unpack(ufmt, struct.pack(fmt, v))[0] for v in t.reshape(-1).tolist()]


def fnv1a64(bits, nbytes):
    h = 0xcbf29ce484222325
    for v in bits:
        for k in range(nbytes):
            h ^= (v >> (8 * k)) & 0xff
            h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


def main():
    if not torch.__version__.startswith("1.13"):
        sys.exit(f"need torch 1.13, got {torch.__version__}")
    cap = [l for l in torch.__config__.show().splitlines() if "CPU capability usage" in l]
    if not cap or not any(k in cap[0] for k in ("AVX2", "AVX512")):
        sys.exit(f"need an AVX2/AVX512 CPU (torch's float normal path differs otherwise): {cap}")

    cases = notebook_cases()
    for s in SEEDS:
        cases += seed_sequence(s)
    cases += scalar_path_cases()
    cases += fresh_generator_cases()

    gen = torch.default_generator
    f32, f64, rows = [], [], []
    for c in cases:
        r = c.get("reseed")
        if r == "fresh":
            gen = torch.Generator()
        elif r is not None:
            gen = torch.default_generator
            torch.manual_seed(r)
        bits = draw(c, gen)
        n = c["n"]
        head, tail = (n, 0) if n <= FULL_LIMIT else (EDGE, EDGE)
        store = f32 if c["dtype"] == "f32" else f64
        offset = len(store)
        store += bits[:head] + (bits[n - tail:] if tail else [])
        nbytes = 4 if c["dtype"] == "f32" else 8
        reseed = 0 if r is None else (2 if r == "fresh" else 1)
        label = c.get("label") or f"{c['op']} {c['dtype']} n={n}" + (
            f" ({c['a']!r}, {c['b']!r})" if "a" in c else "")
        a, b = c.get("a", 0.0), c.get("b", 1.0)
        kind = "kNormal" if c["op"] in ("randn", "normal") else "kUniform"
        rows.append(f'  {{"{label}", {reseed}, {r if isinstance(r, int) else 0}ULL, {kind}, '
                    f'{int(c["dtype"] == "f64")}, {n}, {a!r}, {b!r}, {head}, {tail}, {offset}, '
                    f'0x{fnv1a64(bits, nbytes):016x}ULL}},')

    def array(name, ctype, vals, width):
        lines = []
        for i in range(0, len(vals), 8):
            lines.append("  " + " ".join(f"0x{v:0{width}x}u," for v in vals[i:i + 8]))
        return f"static const {ctype} {name}[] = {{\n" + "\n".join(lines) + "\n};\n"

    out = sys.stdout
    out.write("// GENERATED by tests/reference/gen_random_expected.py with torch "
              f"{torch.__version__} -- do not edit.\n")
    out.write("#pragma once\n#include <cstdint>\n\nnamespace random_expected {\n\n")
    out.write("enum Kind { kNormal = 0, kUniform = 1 };\n\n")
    out.write("struct Case {\n"
              "  const char* label;\n"
              "  int reseed;         // 0: continue, 1: manual_seed(seed), 2: fresh Generator()\n"
              "  uint64_t seed;\n"
              "  int kind;           // Kind; randn/rand are normal(0,1)/uniform(0,1)\n"
              "  int is_double;      // 0: float32 (bits in kF32), 1: float64 (bits in kF64)\n"
              "  int64_t n;\n"
              "  double a, b;        // mean/std or from/to\n"
              "  int64_t head, tail; // stored: first `head` and last `tail` of the n values\n"
              "  int64_t offset;     // into kF32 or kF64\n"
              "  uint64_t fnv1a64;   // FNV-1a 64 over all n bit patterns, little-endian bytes\n"
              "};\n\n")
    out.write("static const Case kCases[] = {\n" + "\n".join(rows) + "\n};\n\n")
    out.write(array("kF32", "uint32_t", f32, 8) + "\n")
    out.write(array("kF64", "uint64_t", f64, 16).replace("u,", "ull,") + "\n")
    out.write("}  // namespace random_expected\n")


if __name__ == "__main__":
    main()
