// Shape, index and reduction ops built from primitives (torch's names): flips and rolls, triangles
// and diagonals, repeats, masked fills, amin/all/any, and the linspace and diag constructors. Each
// is exact in its parts, so every transform handles it; a copy where torch returns a view.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/op_util.h"
#include "ops/ops.h"

namespace adjoint::ops {

namespace {

Tensor zero_of(const Tensor& x) { return scalar(0, x.dtype(), x.device()); }

Tensor index_range(int64_t start, int64_t end, int64_t step, Device device) {
  return arange(double(start), double(end), double(step), DType::Int64, device);
}

void check_min_rank(const char* op, const Tensor& x, int rank) {
  ADJ_CHECK(x.ndim() >= rank, ErrorKind::Shape, op, "expects a tensor of at least " << rank << " dims, got " << x.shape().str());
}

// keep[i, j] for the last two dims: j - i <= k (lower) or j - i >= k (upper), as bool [m, n].
Tensor triangle_mask(int64_t m, int64_t n, int64_t k, bool lower, Device device) {
  Tensor rows = unsqueeze(index_range(0, m, 1, device), 1);
  Tensor cols = unsqueeze(index_range(0, n, 1, device), 0);
  Tensor diff = sub(cols, rows);
  // col - row lies in [-(m - 1), n - 1]: any k beyond [-m, n] gives the same mask, and clamped it
  // converts to the scalar exactly (Long.MAX_VALUE as a double overflows int64).
  k = std::min(std::max(k, -m), n);
  return compare(lower ? OpId::Le : OpId::Ge, diff, scalar(double(k), DType::Int64, device));
}

}  // namespace

Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return as_op("amin", [&] {
    ADJ_CHECK(x.dtype() != DType::Bool, ErrorKind::DType, "amin", "not defined for bool " << x.shape().str());
    return neg(amax(neg(x), dims, keepdim));
  });
}

Tensor all(const Tensor& x) {
  return as_op("all", [&] { return compare(OpId::Eq, sum(to(logical_not(x), DType::Int64), Dims{}, false), scalar(0, DType::Int64, x.device())); });
}

Tensor any(const Tensor& x) {
  return as_op("any", [&] {
    Tensor nonzero = logical_not(logical_not(x));
    return compare(OpId::Gt, sum(to(nonzero, DType::Int64), Dims{}, false), scalar(0, DType::Int64, x.device()));
  });
}

Tensor flip(const Tensor& x, const Dims& dims) {
  return as_op("flip", [&] {
    bool seen[kMaxDims] = {};
    Tensor r = x;
    for (int64_t d : dims) {
      ADJ_CHECK(x.ndim() > 0, ErrorKind::Argument, "flip", "a 0-d tensor has no dim " << d);
      const int w = wrap_dim(d, x.ndim(), "flip");
      ADJ_CHECK(!seen[w], ErrorKind::Argument, "flip", "dim " << d << " appears more than once in " << dims.str());
      seen[w] = true;
      const int64_t n = x.size(w);
      r = index_select(r, w, index_range(n - 1, -1, -1, x.device()));
    }
    return r;
  });
}

Tensor roll(const Tensor& x, int64_t shift, int64_t dim) {
  return as_op("roll", [&] {
    check_min_rank("roll", x, 1);
    const int w = wrap_dim(dim, x.ndim(), "roll");
    const int64_t n = x.size(w);
    if (n == 0) return x;
    const int64_t s = ((shift % n) + n) % n;
    if (s == 0) return x;
    return cat({slice(x, w, n - s, n, 1), slice(x, w, 0, n - s, 1)}, w);
  });
}

Tensor tril(const Tensor& x, int64_t k) {
  return as_op("tril", [&] {
    check_min_rank("tril", x, 2);
    return where(triangle_mask(x.size(x.ndim() - 2), x.size(x.ndim() - 1), k, true, x.device()), x, zero_of(x));
  });
}

Tensor triu(const Tensor& x, int64_t k) {
  return as_op("triu", [&] {
    check_min_rank("triu", x, 2);
    return where(triangle_mask(x.size(x.ndim() - 2), x.size(x.ndim() - 1), k, false, x.device()), x, zero_of(x));
  });
}

// torch: dims d1 and d2 removed, the diagonal appended as the last dim.
Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2) {
  return as_op("diagonal", [&] {
    check_min_rank("diagonal", x, 2);
    const int a = wrap_dim(dim1, x.ndim(), "diagonal"), b = wrap_dim(dim2, x.ndim(), "diagonal");
    ADJ_CHECK(a != b, ErrorKind::Argument, "diagonal", "dim1 and dim2 must differ, both are " << a << " for " << x.shape().str());
    Dims perm, out;
    for (int i = 0; i < x.ndim(); i++)
      if (i != a && i != b) {
        perm.push_back(i);
        out.push_back(x.size(i));
      }
    perm.push_back(a);
    perm.push_back(b);
    const int64_t m = x.size(a), n = x.size(b);
    // In the flattened [m * n] trailing block, the diagonal starts at `start` and steps by n + 1.
    const int64_t count = offset >= 0 ? std::max<int64_t>(0, std::min(m, n - offset)) : std::max<int64_t>(0, std::min(m + offset, n));
    const int64_t start = offset >= 0 ? offset : -offset * n;
    Dims flat = out;
    flat.push_back(m * n);
    Tensor y = reshape(permute(x, perm), flat);
    if (count == 0) return slice(y, -1, 0, 0, 1);
    return slice(y, -1, start, start + (count - 1) * (n + 1) + 1, n + 1);
  });
}

Tensor trace(const Tensor& x) {
  return as_op("trace", [&] {
    ADJ_CHECK(x.ndim() == 2, ErrorKind::Shape, "trace", "expects a matrix, got " << x.shape().str());
    return sum(diagonal(x, 0, 0, 1), Dims{}, false);
  });
}

Tensor outer(const Tensor& a, const Tensor& b) {
  return as_op("outer", [&] {
    ADJ_CHECK(a.ndim() == 1 && b.ndim() == 1, ErrorKind::Shape, "outer", "expects two vectors, got " << a.shape().str() << " and " << b.shape().str());
    return mul(unsqueeze(a, 1), unsqueeze(b, 0));
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return as_op("masked_fill", [&] {
    ADJ_CHECK(mask.dtype() == DType::Bool, ErrorKind::DType, "masked_fill",
              "mask must be bool, got " << dtype_name(mask.dtype()) << " " << mask.shape().str());
    check_scalar_fits("masked_fill", value, x.dtype());
    ADJ_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), ErrorKind::Shape, "masked_fill",
              "mask " << mask.shape().str() << " must broadcast to the input's shape " << x.shape().str());
    return where(mask, scalar(value, x.dtype(), x.device()), x);
  });
}

// torch: sizes has at least x's rank; x gets leading 1s, then dim i is tiled sizes[i] times.
Tensor repeat(const Tensor& x, const Dims& sizes) {
  return as_op("repeat", [&] {
    ADJ_CHECK(sizes.n >= x.ndim(), ErrorKind::Argument, "repeat",
              "number of repeat dims " << sizes.n << " can not be smaller than the number of tensor dims " << x.ndim() << " (" << x.shape().str() << ")");
    ADJ_CHECK(2 * sizes.n <= kMaxDims, ErrorKind::Argument, "repeat", "at most " << kMaxDims / 2 << " repeat dims, got " << sizes.n);
    Dims split, tiled, out;
    const int lead = sizes.n - x.ndim();
    for (int i = 0; i < sizes.n; i++) {
      ADJ_CHECK(sizes[i] >= 0, ErrorKind::Argument, "repeat", "repeat sizes must be >= 0, got " << sizes.str());
      const int64_t s = i < lead ? 1 : x.size(i - lead);
      split.push_back(1);
      split.push_back(s);
      tiled.push_back(sizes[i]);
      tiled.push_back(s);
      out.push_back(sizes[i] * s);
    }
    return reshape(expand(reshape(x, split), tiled), out);
  });
}

// torch.diag: a vector becomes a square matrix with it on the diagonal; a matrix gives its diagonal.
Tensor diag(const Tensor& v, int64_t offset) {
  return as_op("diag", [&] {
    ADJ_CHECK(v.ndim() == 1 || v.ndim() == 2, ErrorKind::Shape, "diag", "expects a vector or a matrix, got " << v.shape().str());
    if (v.ndim() == 2) return diagonal(v, offset, 0, 1);
    int64_t n = 0;
    ADJ_CHECK(offset != INT64_MIN && !__builtin_add_overflow(v.size(0), offset < 0 ? -offset : offset, &n), ErrorKind::OutOfMemory,
              "diag", "offset " << offset << " of a vector " << v.shape().str() << " gives a matrix too large to hold");
    Tensor on = triangle_mask(n, n, offset, true, v.device());
    on = logical_and(on, triangle_mask(n, n, offset, false, v.device()));
    // row i, column i + offset holds v[min(i, i + offset)]: v's index is the row above the main
    // diagonal, the column below it; v padded to n, read along that dim
    Tensor padded = cat({v, zeros(Dims{n - v.size(0)}, v.dtype(), v.device())}, 0);
    Tensor values = offset >= 0 ? expand(unsqueeze(padded, 1), Dims{n, n}) : expand(unsqueeze(padded, 0), Dims{n, n});
    return where(on, values, zero_of(v));
  });
}

// torch's CPU kernel: step = (end - start) / (steps - 1) in the result's type; the first half
// counts up from start, the second down from end, so both ends are exact.
Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  ADJ_CHECK(steps >= 0, ErrorKind::Argument, "linspace", "number of steps must be non-negative, got " << steps);
  ADJ_CHECK(is_floating(dtype), ErrorKind::DType, "linspace", "dtype must be float32 or float64, got " << dtype_name(dtype));
  // NOTE: the values are written into a CPU tensor made first, so that a step count too large to
  // hold fails there as the out-of-memory error naming linspace and the shape (a host vector of
  // that size threw a bare std::length_error); another device gets a copy.
  Tensor out = Tensor::empty(Dims{steps}, dtype, Device{}, "linspace");
  const int64_t half = steps / 2;
  if (dtype == DType::Float64) {
    double* d = out.data<double>();
    const double step = steps > 1 ? (end - start) / double(steps - 1) : 0;
    for (int64_t i = 0; i < steps; i++) d[i] = i < half ? start + step * double(i) : end - step * double(steps - i - 1);
    if (steps == 1) d[0] = start;
  } else {
    float* f = out.data<float>();
    const float fs = float(start), fe = float(end);
    const float step = steps > 1 ? (fe - fs) / float(steps - 1) : 0;
    for (int64_t i = 0; i < steps; i++) f[i] = i < half ? fs + step * float(i) : fe - step * float(steps - i - 1);
    if (steps == 1) f[0] = fs;
  }
  return device.type == DeviceType::CPU ? out : from_data(out.data<char>(), Dims{steps}, dtype, device);
}

}  // namespace adjoint::ops
