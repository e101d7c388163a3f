// Data-gathering primitives: index_select and cat.
#include "ops/op.h"
#include "ops/op_util.h"

namespace adjoint {
namespace {

// attrs.ints = {dim}; index: int64, 0-d or 1-D, every value in range.
Tensor eval_index_select(const Tensor* in, int, const Attrs& at) {
  const Tensor &x = in[0], &index = in[1];
  ADJ_CHECK(index.dtype() == DType::Int64, ErrorKind::DType, "index_select",
            "index must be int64, got " << dtype_name(index.dtype()) << " " << index.shape().str());
  ADJ_CHECK(index.ndim() <= 1, ErrorKind::Shape, "index_select", "index must be 0-d or 1-D, got shape " << index.shape().str());
  check_same_device("index_select", x, index);
  ADJ_CHECK(x.ndim() > 0, ErrorKind::Index, "index_select", "cannot index a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.ndim(), "index_select");
  // NOTE: indices are bounds-checked here, on a contiguous copy, so a bad index never reaches a
  // kernel (an out-of-range read would be a crash or a silently wrong number).
  Tensor idx = index;
  if (!idx.is_contiguous()) {
    idx = Tensor::empty(index.shape(), DType::Int64, index.device(), "index_select");
    backend_of(index).copy(index, idx);
  }
  Tensor host = idx;
  if (idx.device().type != DeviceType::CPU) {
    host = Tensor::empty(idx.shape(), DType::Int64, Device{}, "index_select");
    backend_of(idx).copy_to_host(host.raw_data(), idx.raw_data(), size_t(idx.numel()) * 8);
  }
  const int64_t* p = host.data<int64_t>();
  for (int64_t i = 0, n = host.numel(); i < n; i++)
    ADJ_CHECK(p[i] >= 0 && p[i] < x.size(d), ErrorKind::Index, "index_select",
              "index " << p[i] << " out of range for dim " << d << " of size " << x.size(d) << " (shape " << x.shape().str() << ")");
  Dims sh = x.shape();
  sh[d] = idx.numel();
  Tensor out = Tensor::empty(sh, x.dtype(), x.device(), "index_select");
  backend_of(x).index_select(x, d, idx, out);
  return out;
}

// attrs.ints = {dim}
Tensor eval_cat(const Tensor* in, int nin, const Attrs& at) {
  ADJ_CHECK(nin > 0, ErrorKind::Argument, "cat", "expected a non-empty list of tensors");
  const Tensor& first = in[0];
  ADJ_CHECK(first.ndim() > 0, ErrorKind::Shape, "cat", "zero-dimensional tensor (input 0) cannot be concatenated");
  int d = wrap_dim(at.ints[0], first.ndim(), "cat");
  Dims sh = first.shape();
  sh[d] = 0;
  for (int i = 0; i < nin; i++) {
    const Tensor& t = in[i];
    check_same_dtype("cat", first, t);
    check_same_device("cat", first, t);
    bool ok = t.ndim() == first.ndim();
    for (int j = 0; ok && j < t.ndim(); j++) ok = j == d || t.size(j) == first.size(j);
    ADJ_CHECK(ok, ErrorKind::Shape, "cat",
              "input " << i << " has shape " << t.shape().str() << " but input 0 has shape " << first.shape().str()
                       << "; all sizes must match except in dim " << d);
    sh[d] += t.size(d);
  }
  Tensor out = Tensor::empty(sh, first.dtype(), first.device(), "cat");
  int64_t pos = 0;
  for (int i = 0; i < nin; i++) {
    Dims part = out.shape();
    part[d] = in[i].size(d);
    Tensor dst = Tensor::view_of(out, part, out.strides(), pos * out.strides()[d]);
    backend_of(out).copy(in[i], dst);
    pos += part[d];
  }
  return out;
}

}  // namespace

void register_index_ops(OpDef* t) {
  t[int(OpId::IndexSelect)].eval = eval_index_select;
  t[int(OpId::Cat)].eval = eval_cat;
}

}  // namespace adjoint
