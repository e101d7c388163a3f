// Helpers shared by the transform rules of every op family.
#pragma once
#include <vector>

#include "core/error.h"
#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint::rules {

// Per-example rank of a value as a batching rule sees it.
inline int logical_rank(const Tensor& v, int bdim) { return v.ndim() - (bdim == 0 ? 1 : 0); }

// A batched value (batch in dim 0) with size-1 dims inserted after the batch dim so that its
// per-example rank is `rank`: then broadcasting against other batched or unbatched values lines
// the batch dims up.
inline Tensor pad_batched(const Tensor& v, int rank) {
  int have = v.ndim() - 1;
  if (have >= rank) return v;
  Dims shape = v.shape();
  for (int i = have; i < rank; i++) shape.insert(1, 1);
  return ops::reshape(v, shape);
}

// The value with an explicit batch dim 0 of size `batch` (unbatched values are broadcast).
inline Tensor materialize(const Tensor& v, int bdim, int64_t batch) {
  if (bdim == 0) return v;
  Dims shape = v.shape();
  shape.insert(0, batch);
  return ops::expand(ops::unsqueeze(v, 0), shape);
}

// Elementwise/broadcasting ops: pad batched inputs to a common per-example rank, then apply.
inline Tensor batch_broadcasting(OpId op, const Tensor* v, const int* bd, int nin, const Attrs& at) {
  int rank = 0;
  for (int i = 0; i < nin; i++) rank = std::max(rank, logical_rank(v[i], bd[i]));
  std::vector<Tensor> args(v, v + nin);
  for (int i = 0; i < nin; i++)
    if (bd[i] == 0) args[i] = pad_batched(v[i], rank);
  return apply(op, args.data(), nin, at);
}

// The normalised, sorted list of dims a reduction covers (attrs.ints empty = all dims).
inline Dims reduced_dims(const Dims& requested, int rank, const char* op) {
  Dims d;
  if (requested.empty()) {
    for (int i = 0; i < rank; i++) d.push_back(i);
    return d;
  }
  bool mark[kMaxDims] = {false};
  for (int64_t x : requested) {
    int w = wrap_dim(x, rank, op);  // range-checked for a 0-d example too, like the primitive
    if (rank == 0) continue;
    ADJ_CHECK(!mark[w], ErrorKind::Argument, op, "dim " << w << " appears more than once in " << requested.str());
    mark[w] = true;
  }
  for (int i = 0; i < rank; i++)
    if (mark[i]) d.push_back(i);
  return d;
}

inline Dims shifted(const Dims& dims, int by) {
  Dims r = dims;
  for (int i = 0; i < r.n; i++) r[i] += by;
  return r;
}

inline Tensor scalar_like(double v, const Tensor& t) { return ops::scalar(v, t.dtype(), t.device()); }

// s^e for s >= 0, with value and derivatives of every order 0 where s == 0: torch's zero
// subgradient at the kink of a root (norms, std) or of |x|^p with p < 1, where the plain power's
// derivative e s^(e-1) is 0 * inf = NaN. The power is taken of where(s == 0, 1, s), so neither the
// value nor any derivative of the discarded branch is infinite.
inline Tensor zero_safe_pow(const Tensor& s, double e) {
  Tensor zero = scalar_like(0, s);
  Tensor is_zero = ops::compare(OpId::Eq, s, zero);
  Tensor safe = ops::where(is_zero, scalar_like(1, s), s);
  Tensor r = e == 0.5 ? ops::sqrt(safe) : ops::pow(safe, scalar_like(e, s));
  return ops::where(is_zero, zero, r);
}

}  // namespace adjoint::rules
