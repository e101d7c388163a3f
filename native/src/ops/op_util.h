// Small helpers shared by the op definitions: argument checks with uniform messages, and
// metadata-only views that kernels iterate (not ops: they never reach dispatch).
#pragma once
#include <string>

#include "backends/backend.h"
#include "core/error.h"
#include "core/tensor.h"

namespace adjoint {

// x viewed with `shape` by stride-0 broadcasting; shape must be a broadcast of x's shape.
inline Tensor broadcast_view(const Tensor& x, const Dims& shape) {
  if (x.shape() == shape) return x;
  Dims st;
  st.n = shape.n;
  const int lead = shape.n - x.ndim();
  for (int i = 0; i < shape.n; i++) {
    int j = i - lead;
    st[i] = (j < 0 || x.size(j) == 1) ? 0 : x.strides()[j];
  }
  return Tensor::view_of(x, shape, st, x.offset());
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  ADJ_CHECK(a.dtype() == b.dtype(), ErrorKind::DType, op,
            "dtype mismatch: " << dtype_name(a.dtype()) << " " << a.shape().str() << " vs " << dtype_name(b.dtype()) << " "
                               << b.shape().str() << " (convert one with to(dtype))");
}

inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  ADJ_CHECK(a.device() == b.device(), ErrorKind::Argument, op,
            "tensors are on different devices: " << a.device().str() << " and " << b.device().str());
}

inline void check_floating(const char* op, const Tensor& x) {
  ADJ_CHECK(is_floating(x.dtype()), ErrorKind::DType, op,
            "expected a floating point tensor (float32 or float64), got " << dtype_name(x.dtype()) << " " << x.shape().str());
}

// A double taken in the int64 dtype must have an int64 value: NaN, +-Inf and values outside
// [-2^63, 2^63) have none (the C++ conversion is undefined; x86 gives INT64_MIN). Like torch's
// "value cannot be converted to type int64_t without overflow". Other dtypes take any double.
inline void check_scalar_fits(const char* op, double v, DType dt) {
  ADJ_CHECK(dt != DType::Int64 || (v >= -9223372036854775808.0 && v < 9223372036854775808.0), ErrorKind::Argument, op,
            "value " << v << " cannot be converted to int64 without overflow");
}

inline Backend& backend_of(const Tensor& t) { return backend_for(t.device()); }

// NOTE: an error raised inside a composite by one of its primitives is reported under the
// composite's name, the op the caller used ("mean: dim 3 out of range ...", not "sum: ...").
template <class F>
Tensor as_op(const char* op, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    if (e.op() == op) throw;
    std::string msg = e.what();
    const std::string inner = e.op() + ": ";
    if (msg.compare(0, inner.size(), inner) == 0) msg.erase(0, inner.size());
    throw Error(e.kind(), op, msg);
  }
}

// The number of elements a reduction over `dims` (empty = all) combines, as a double.
inline double reduced_count(const char* op, const Tensor& x, const Dims& dims) {
  double n = 1;
  if (dims.empty()) {
    for (int i = 0; i < x.ndim(); i++) n *= double(x.size(i));
    return n;
  }
  for (int64_t d : dims) n *= x.ndim() ? double(x.size(wrap_dim(d, x.ndim(), op))) : 1;
  return n;
}

}  // namespace adjoint
