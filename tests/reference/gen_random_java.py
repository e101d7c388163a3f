"""Writes java/src/test/resources/dev/adjoint/random_torch.txt: torch's exact random draws.

Each line: <case> <dtype> <shape comma-separated> <hex bit patterns, space-separated>.
Run: /usr/bin/python3 tests/reference/gen_random_java.py > java/src/test/resources/dev/adjoint/random_torch.txt
"""
import struct
import torch

assert torch.__version__.startswith("1.13"), torch.__version__


def bits(t):
    flat = t.contiguous().view(-1).tolist()
    if t.dtype == torch.float32:
        return " ".join("%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in flat)
    return " ".join("%016x" % struct.unpack("<Q", struct.pack("<d", v))[0] for v in flat)


def line(case, t):
    dt = "float32" if t.dtype == torch.float32 else "float64"
    print(case, dt, ",".join(str(s) for s in t.shape) or "-", bits(t))


# The seed notebook's draw order: weight, bias, x.
torch.manual_seed(0)
line("notebook_weight", torch.randn(16, 16))
line("notebook_bias", torch.randn(16))
line("notebook_x", torch.randn(16))
# A mixed sequence on one seed: small and large sizes, both dtypes, randn and rand.
torch.manual_seed(42)
line("seq_randn_3", torch.randn(3))
line("seq_rand_5_f64", torch.rand(5, dtype=torch.float64))
line("seq_randn_2x17", torch.randn(2, 17))
line("seq_randn_7_f64", torch.randn(7, dtype=torch.float64))
line("seq_rand_33", torch.rand(33))
line("seq_randn_1", torch.randn(1))
line("seq_randn_64x31_f64", torch.randn(64, 31, dtype=torch.float64))
# A private generator.
g = torch.Generator().manual_seed(1234)
line("gen1234_randn_4x5", torch.randn(4, 5, generator=g))
line("gen1234_rand_20", torch.rand(20, generator=g))
