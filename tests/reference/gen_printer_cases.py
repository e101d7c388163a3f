#!/usr/bin/env python3
"""Generate reference cases for dev.adjoint.internal.TensorPrinter from PyTorch's own repr.

Run with a Python that has torch 1.13 (Debian's python3-torch):

    /usr/bin/python3 tests/reference/gen_printer_cases.py \
        > java/src/test/resources/dev/adjoint/internal/printer_cases.txt

Output format (plain text, parsed by TensorPrinterTest without a JSON library). One record per case:

    case <name>
    dtype <float32|float64|int64|bool>
    shape <d0> <d1> ...        (no numbers for a scalar)
    suffix <dtype name or ->   (what TensorPrinter.format gets as dtypeSuffix; - means null)
    device <device or ->       (- means CPU)
    data <tokens...>           (float32/float64: IEEE bit patterns in hex; int64: decimal; bool: 1/0)
    expected <n>               (followed by exactly n lines: repr(tensor) with "torch." removed)
"""
import math
import sys

import torch
from torch._tensor_str import _add_suffixes, _tensor_str

DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool"}


def data_tokens(t):
    flat = t.contiguous().reshape(-1)
    if t.dtype == torch.float32:
        return ["%08x" % (v & 0xFFFFFFFF) for v in flat.view(torch.int32).tolist()]
    if t.dtype == torch.float64:
        return ["%016x" % (v & 0xFFFFFFFFFFFFFFFF) for v in flat.view(torch.int64).tolist()]
    if t.dtype == torch.int64:
        return [str(v) for v in flat.tolist()]
    return ["1" if v else "0" for v in flat.tolist()]


def repr_on_device(t, device):
    """repr(t) as if t lived on `device` (None: CPU). torch here is CPU-only, so this replays _str_intern's
    suffix logic for a plain dense tensor: device first, then size (empty only), then dtype."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = ["device='" + device + "'"] if device else []
    if t.numel() == 0:
        if t.dim() != 1:
            suffixes.append("size=" + str(tuple(t.shape)))
        if t.dtype != torch.get_default_dtype():
            suffixes.append("dtype=" + str(t.dtype))
        body = "[]"
    else:
        if t.dtype not in (torch.float32, torch.int64, torch.bool):
            suffixes.append("dtype=" + str(t.dtype))
        body = _tensor_str(t, indent)
    return _add_suffixes(prefix + body, suffixes, indent, force_newline=False)


def emit(out, name, t, device=None):
    assert t.dtype in DTYPES, t.dtype
    # the replay must agree with torch wherever torch can check it (CPU)
    assert repr_on_device(t, None) == repr(t) == str(t), name
    expected = repr_on_device(t, device) if device else repr(t)
    expected = expected.replace("dtype=torch.", "dtype=")
    suffix = "float64" if t.dtype == torch.float64 else "-"
    lines = expected.split("\n")
    out.write("case %s\n" % name)
    out.write("dtype %s\n" % DTYPES[t.dtype])
    out.write("shape %s\n" % " ".join(str(d) for d in t.shape))
    out.write("suffix %s\n" % suffix)
    out.write("device %s\n" % (device or "-"))
    out.write("data %s\n" % " ".join(data_tokens(t)))
    out.write("expected %d\n" % len(lines))
    for line in lines:
        out.write(line + "\n")


def f32(values):
    return torch.tensor(values, dtype=torch.float32)


def f64(values):
    return torch.tensor(values, dtype=torch.float64)


def cases():
    nan, inf = math.nan, math.inf
    g = torch.Generator().manual_seed(1234)

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g, dtype=dtype)

    def randint(lo, hi, *shape):
        return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64)

    # random normal float32 of many shapes, including summarized ones
    yield "randn_16", randn(16)
    yield "randn_16x16", randn(16, 16)
    yield "randn_3x4x5", randn(3, 4, 5)
    yield "randn_2x1000", randn(2, 1000)
    yield "randn_1001", randn(1001)
    yield "randn_1000", randn(1000)
    yield "randn_7x7x7x7", randn(7, 7, 7, 7)
    yield "randn_10x9x8x7", randn(10, 9, 8, 7)
    yield "randn_2x3x4x5x6", randn(2, 3, 4, 5, 6)
    yield "randn_1", randn(1)
    yield "randn_1x1x1", randn(1, 1, 1)
    yield "randn_1x16", randn(1, 16)
    yield "randn_16x1", randn(16, 1)
    yield "randn_3x20_wrap", randn(3, 20)
    yield "randn_30_wrap", randn(30)
    yield "randn_1500x2", randn(1500, 2)
    yield "randn_2x2x300", randn(2, 2, 300)
    yield "randn_3x400", randn(3, 400)
    yield "randn_8x200", randn(8, 200)
    yield "randn_x100_25", randn(25) * 100
    yield "randn_x1000_5x5", randn(5, 5) * 1000
    yield "randn_x1e5_2000_sci", randn(2000) * 1e5
    yield "randn_x1e-6_sci", randn(12) * 1e-6
    yield "randn_x1e10_4x4_sci", randn(4, 4) * 1e10
    yield "randn_x1e-3_3x3", randn(3, 3) * 1e-3
    # integral floats (int mode)
    yield "int_mode_arange", torch.arange(10, dtype=torch.float32)
    yield "int_mode_neg", f32([-2.0, 0.0, 3.0, 17.0])
    yield "int_mode_2d", torch.arange(-6, 6, dtype=torch.float32).reshape(3, 4)
    yield "int_mode_sci_ratio", f32([1.0, 2000.0])
    yield "int_mode_sci_big", f32([1e9, 2.0])
    yield "int_mode_ratio_1000", f32([1.0, 1000.0])
    yield "int_mode_1e8", f32([1e8, 1e6])
    yield "int_mode_wrap", torch.arange(40, dtype=torch.float32) * 1000
    yield "all_zeros", torch.zeros(5)
    yield "all_zeros_2d", torch.zeros(2, 3)
    # negative zero
    yield "neg_zero_int_mode", f32([-0.0, 0.0])
    yield "neg_zero_fixed", f32([-0.0, 0.0, 1.5])
    yield "neg_zero_sci", f32([-0.0, 1e-5, 1.0])
    yield "neg_tiny_sci_f64", f64([-0.00004, 0.5, 1.0])
    # nan / inf
    yield "nan_inf", f32([nan, inf, -inf])
    yield "nan_fixed", f32([1.5, nan, -2.25])
    yield "inf_int_mode", f32([1.0, inf, -inf, nan])
    yield "nan_sci", f32([1e-5, nan, 1.0, -inf])
    yield "neg_nan", f32([nan, 1.5]).neg()
    yield "inf_2d", f32([[inf, 0.5], [-1.25, -inf]])
    # mixed magnitudes and borderline sci-mode triggers
    yield "min_just_below_1e-4", f32([1e-4, 1.0])
    yield "min_1e-3", f32([1e-3, 1.0])
    yield "ratio_above_1000", f32([0.5, 600.25])
    yield "max_above_1e8", f32([1.5e8, 2.5e8])
    yield "float32_huge_tiny", f32([3e38, 1.0, 1e-45, -2e-38])
    yield "float64_huge_tiny", f64([1e300, -1e-300, 1.0])
    yield "sci_exp_100", f64([1.5e100, 2.0])
    # rounding: half-even on exact binary values, and the double nearest a decimal tie
    yield "round_ties_fixed", f64([0.03125, 0.09375, 0.00015, 0.00025, 0.12345])
    yield "round_ties_sci", f64([1.03125, 1e-6, 9.99995, 9.999949999])
    yield "round_ties_f32", f32([0.03125, 0.09375, 2.71875, 1.00005])
    yield "round_up_to_10_sci", f64([9.99996e-5, 1.0])
    # int64
    yield "int_arange_20", torch.arange(20)
    yield "int_mixed_width", torch.tensor([-5, 100000, 3])
    yield "int_2x3", randint(-100, 100, 2, 3)
    yield "int_wrap_50", randint(-10**9, 10**9, 50)
    yield "int_4x30_wrap", randint(-1000, 1000, 4, 30)
    yield "int_summarized_2000", randint(0, 10**6, 2000)
    yield "int_summarized_3d", randint(-50, 50, 11, 10, 12)
    yield "int_extremes", torch.tensor([-(2**63), 2**63 - 1, 0])
    yield "int_scalar", torch.tensor(-42)
    # bool
    yield "bool_pair", torch.tensor([True, False])
    yield "bool_5x5", torch.rand(5, 5, generator=g) > 0.5
    yield "bool_40_wrap", torch.rand(40, generator=g) > 0.5
    yield "bool_summarized", torch.rand(1200, generator=g) > 0.5
    yield "bool_scalar", torch.tensor(True)
    # scalars
    yield "scalar_pi", torch.tensor(3.14159265)
    yield "scalar_neg_zero", torch.tensor(-0.0)
    yield "scalar_zero", torch.tensor(0.0)
    yield "scalar_tiny", torch.tensor(1e-10)
    yield "scalar_big", torch.tensor(123456789.0)
    yield "scalar_nan", torch.tensor(nan)
    yield "scalar_neg_inf", torch.tensor(-inf)
    yield "scalar_int_mode", torch.tensor(7.0)
    yield "scalar_f64", torch.tensor(2.718281828459045, dtype=torch.float64)
    # empty
    yield "empty_1d", torch.zeros(0)
    yield "empty_0x3", torch.zeros(0, 3)
    yield "empty_int_2x0x4", torch.zeros(2, 0, 4, dtype=torch.int64)
    yield "empty_int_1d", torch.zeros(0, dtype=torch.int64)
    yield "empty_bool", torch.zeros(0, dtype=torch.bool)
    yield "empty_f64_1d", torch.zeros(0, dtype=torch.float64)
    yield "empty_f64_3x0", torch.zeros(3, 0, dtype=torch.float64)
    # float64 with the dtype suffix, incl. the rule that moves it onto its own line
    yield "f64_randn_5", randn(5, dtype=torch.float64)
    yield "f64_randn_4x4", randn(4, 4, dtype=torch.float64)
    yield "f64_suffix_wraps", f64([1.3579, 0.2637, 0.1564, -2.7910, 0.1481, -0.4637, -0.2206, 0.2586])
    yield "f64_suffix_wraps_7", f64([1.25, -2.5, 3.0625, 4.125, 5.5, 6.75, 7.875])
    # last line 61 chars: wraps only because PyTorch counts "dtype=torch.float64", not "dtype=float64"
    yield "f64_suffix_wraps_tight", f64([1.25, -2.5, 3.0625, 4.125, 5.5, 6.75])
    yield "f64_multiline_suffix", randn(20, dtype=torch.float64)
    yield "f64_2d_suffix", randn(3, 8, dtype=torch.float64)
    yield "f64_summarized", randn(1100, dtype=torch.float64)
    yield "f64_int_mode", f64([1.0, -3.0, 12.0])
    yield "f64_sci", randn(6, dtype=torch.float64) * 1e-7


def device_cases():
    yield "cuda_f32", f32([1.5, -2.25, 3.0]), "cuda:0"
    yield "cuda_f64_wraps", f64([1.25, -2.5, 3.0625, 4.125, 5.5, 6.75]), "cuda:0"
    yield "cuda_int", torch.arange(5), "cuda:1"
    yield "cuda_empty_int_0x2", torch.zeros(0, 2, dtype=torch.int64), "cuda:0"
    yield "cuda_scalar", torch.tensor(0.5), "cuda:0"


def main():
    assert torch.__version__.startswith("1.13"), torch.__version__
    out = sys.stdout
    names = set()
    for name, t in cases():
        assert name not in names, name
        names.add(name)
        emit(out, name, t)
    for name, t, device in device_cases():
        assert name not in names, name
        names.add(name)
        emit(out, name, t, device)


if __name__ == "__main__":
    main()
