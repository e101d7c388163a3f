// What the primitives that run a kernel along one dim share (ops/scan.cpp, ops/sort.cpp): the
// [outer, n, inner] geometry, the dense copies their kernels read, and the batching rule.
#pragma once
#include <vector>

#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint::along_dim {

// NOTE: attrs.ints[0] is the dim of every along-dim primitive, wrapped like torch's (a 0-d tensor
// takes dim 0 or -1 and is one line of one element).
// dim wrapped, or an Index error naming the op, the dim and the shape.
inline int checked_dim(const Dims& shape, int64_t dim, const char* op) {
  const int r = shape.n == 0 ? 1 : shape.n;
  ADJ_CHECK(dim >= -r && dim < r, ErrorKind::Index, op,
            "dim " << dim << " out of range for shape " << shape.str() << " (expected in [" << -r << ", " << r - 1 << "])");
  return int(dim < 0 ? dim + r : dim);
}

inline DimGeom geometry(const Dims& shape, int d, int64_t m, bool flag) {
  DimGeom g{1, 1, 1, m, flag};
  for (int i = 0; i < shape.n; i++) (i < d ? g.outer : i == d ? g.n : g.inner) *= shape[i];
  return g;
}

inline Tensor dense(const Tensor& t, const char* op) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device(), op);
  backend_of(t).copy(t, c);
  return c;
}

// A fresh `out` (shape, dtype) filled by kernel k over the dense inputs along dim d; m is the
// extent of the result along d (its geometry's m; 1 for a reduction).
inline Tensor run(const DimKernel& k, const Tensor* in, int nin, int d, int64_t m, bool flag, const Meta& out, const char* op) {
  Tensor r = Tensor::empty(out.shape, out.dtype, in[0].device(), op);
  if (r.numel() == 0) return r;
  Tensor dn[2];
  for (int i = 0; i < nin; i++) {
    if (i > 0) check_same_device(op, in[0], in[i]);
    dn[i] = dense(in[i], op);
  }
  backend_of(in[0]).along_dim(k, dn, nin, geometry(in[0].shape(), d, m, flag), r);
  return r;
}

inline void check_numeric(const Meta& x, const char* op) {
  ADJ_CHECK(x.dtype != DType::Bool, ErrorKind::DType, op, "not defined for bool " << x.shape.str() << " (convert with to(dtype))");
}

// The attrs of a call: ints = {dim} (argsort appends k), flag = the op's one switch (reverse,
// keepdim or descending).
inline Attrs attrs(int64_t dim, bool flag) {
  Attrs a;
  a.ints = Dims{dim};
  a.flag = flag;
  return a;
}

// The batching rule: every input with the batch in dim 0, the dim moved past it. A 0-d example is
// a line of one ([B, 1] along dim 1) whose per-example result is 0-d again ([B]).
inline Tensor batch_rule(OpId op, const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t batch) {
  std::vector<Tensor> xs;
  for (int i = 0; i < nin; i++) xs.push_back(rules::materialize(v[i], bd[i], batch));
  const int rank = xs[0].ndim() - 1;
  Attrs a = at;
  Dims example = xs[0].shape();
  example.erase(0);
  a.ints[0] = checked_dim(example, at.ints[0], op_name(op)) + 1;
  if (rank > 0) return apply(op, xs.data(), nin, a);
  for (Tensor& x : xs) x = ops::unsqueeze(x, 1);
  return ops::reshape(apply(op, xs.data(), nin, a), Dims{batch});
}
// It as op Op's OpDef::batch (a forward, so that one copy of the rule serves every op).
template <OpId Op>
Tensor batch_rule_of(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t batch) {
  return batch_rule(Op, v, bd, nin, at, batch);
}

}  // namespace adjoint::along_dim
