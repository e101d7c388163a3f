// Reverse-mode Jacobian in one native call: the backward pass of a finished vjp vmapped over the
// rows of the output identity (structured, see interp/onehot.h), in chunks, with the results cut and
// shaped per (output, input) pair. Same computation as vmap(pullback)(basis) built from the C
// API, without a round trip to Java per step.
#include <algorithm>

#include "core/error.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

namespace adjoint {

std::vector<Tensor> jacrev_backward(Level* grad_level, const std::vector<Tensor>& outs, const std::vector<Tensor>& ins,
                                    int64_t chunk) {
  ADJ_CHECK(!outs.empty(), ErrorKind::Argument, "jacrev", "the function has no tensor output");
  int64_t total = 0;
  for (const Tensor& y : outs) {
    ADJ_CHECK(is_floating(y.dtype()), ErrorKind::DType, "jacrev",
              "output of dtype " << dtype_name(y.dtype()) << " " << y.shape().str() << " has no derivative (floating point only)");
    total += y.numel();
  }
  const DType dt = outs[0].dtype();
  if (total == 0) {
    // No output elements, so no rows: each Jacobian is empty, shaped [out..., in...] like the
    // ones jacfwd gives (a vmap over a basis of zero rows has nothing to run).
    std::vector<Tensor> result;
    for (const Tensor& y : outs) {
      for (const Tensor& x : ins) {
        Dims shape = y.shape();
        for (int d = 0; d < x.ndim(); d++) shape.push_back(x.size(d));
        result.push_back(ops::zeros(shape, x.dtype(), x.device()));
      }
    }
    return result;
  }
  if (chunk <= 0 || chunk > total) chunk = total;
  std::vector<std::vector<Tensor>> parts(ins.size());
  for (int64_t start = 0; start < total; start += chunk) {
    const int64_t count = std::min(chunk, total - start);
    Ref<Level> vl = push_level(LevelKind::Batch, count);
    try {
      Tensor rows = batch_basis(vl.get(), total, start, dt);
      std::vector<Tensor> cts;
      int64_t off = 0;
      for (const Tensor& y : outs) {
        const int64_t n = y.numel();
        Tensor ct = off == 0 && n == total ? rows : ops::slice(rows, 0, off, off + n, 1);
        if (ct.shape() != y.shape()) ct = ops::reshape(ct, y.shape());
        if (ct.dtype() != y.dtype()) ct = ops::to(ct, y.dtype());
        cts.push_back(ct);
        off += n;
      }
      std::vector<Tensor> g = grad_backward(grad_level, outs, cts, ins);
      for (size_t j = 0; j < ins.size(); j++) parts[j].push_back(batch_unwrap(vl.get(), g[j], 0));
      pop_level(vl.get(), "jacrev");
    } catch (...) {
      if (vl->alive) pop_level(vl.get(), "jacrev");
      throw;
    }
  }
  std::vector<Tensor> result;
  result.reserve(outs.size() * ins.size());
  std::vector<Tensor> full(ins.size());
  for (size_t j = 0; j < ins.size(); j++) full[j] = parts[j].size() == 1 ? parts[j][0] : ops::cat(parts[j], 0);
  int64_t off = 0;
  for (const Tensor& y : outs) {
    const int64_t n = y.numel();
    for (size_t j = 0; j < ins.size(); j++) {
      Tensor rows = off == 0 && n == total ? full[j] : ops::slice(full[j], 0, off, off + n, 1);
      Dims shape = y.shape();
      for (int d = 1; d < rows.ndim(); d++) shape.push_back(rows.size(d));
      result.push_back(rows.shape() == shape ? rows : ops::reshape(rows, shape));
    }
    off += n;
  }
  return result;
}

}  // namespace adjoint
