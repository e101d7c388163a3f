// A backend owns memory and kernels for one device type. Backends know nothing of autodiff:
// they run kernels on concrete tensors whose metadata the op layer has already checked.
#pragma once
#include <cstddef>

#include "backends/kernels.h"
#include "core/device.h"
#include "core/tensor.h"
#include "ops/op_list.h"

namespace adjoint {

class Generator;

// NOTE: kernel contracts. `out` is always a freshly allocated contiguous tensor unless said
// otherwise; inputs may be arbitrary strided views (including stride-0 broadcasts) already
// expanded to the shape the kernel iterates over. Dtypes have been checked by the op layer.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceType type() const = 0;
  virtual bool supports(OpId op) const = 0;

  virtual void* alloc(size_t nbytes, const char* op) = 0;
  virtual void free(void* p, size_t nbytes) = 0;
  // Host <-> device transfer of contiguous bytes.
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes) = 0;

  // The op's kernel (backends/kernels.h), run on this backend.
  virtual void unary(const UnaryKernel& k, const Tensor& x, const Tensor& out) = 0;
  // a, b: same shape as out (broadcast views). Comparisons write bool.
  virtual void binary(const BinaryKernel& k, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // Strided copy with dtype conversion; dst may be a strided view (used by cat, eye, contiguous).
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  // out (fresh) = the inputs side by side along `dim`: each in[i] has out's shape except in dim,
  // where it has its own extent; or, when `stacked`, lacks dim (extent 1: a stack). The default
  // copies each input into a view of out; backends may skip the views for dense inputs.
  virtual void cat(const Tensor* in, int nin, int dim, bool stacked, const Tensor& out);
  virtual void fill(const Tensor& dst, double value) = 0;  // dst may be strided
  virtual void arange(const Tensor& out, double start, double step) = 0;
  // The reduction of x into out, where out_view is `out` viewed with x's shape (stride 0 on reduced dims).
  virtual void reduce(const ReduceKernel& k, const Tensor& x, const Tensor& out_view, const Tensor& out) = 0;
  // Facts about the values of a float32/float64 tensor laid out densely (Tensor::is_dense: any
  // order, no gaps): value_fact::kAllFinite and kAllFiniteNonzero bits (core/tensor.h; see all_finite_deep).
  virtual uint8_t value_facts(const Tensor& x) = 0;
  // a [..., m, k], b [..., k, n] with equal batch dims (broadcast views), out [..., m, n].
  virtual void matmul(const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out [..., n] = x [..., k] @ w[n, k]^T (+ b[n] when b is not null), or x @ w for w [k, n] when
  // w_kn, floating: x's leading dims merge into rows at one stride (Tensor::merged_row_stride >= 0,
  // which the op layer checks), w and b any strides, out fresh.
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& out, bool w_kn) = 0;
  // A convolution's product (ConvKernel: conv2d, its input or weight gradient), contiguous inputs.
  virtual void conv(const ConvKernel& k, const Tensor& a, const Tensor& b, const ConvGeom& g, const Tensor& out) = 0;
  // conv2d plus its bias (ConvBiasKernel), contiguous inputs.
  virtual void conv_bias(const ConvBiasKernel& k, const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                         const Tensor& out) = 0;
  // A max-pooling gather or scatter (PoolKernel), contiguous inputs.
  virtual void pool(const PoolKernel& k, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) = 0;
  // A kernel along one dim (DimKernel: scans, products, arg-reductions, sorts), contiguous inputs.
  virtual void along_dim(const DimKernel& k, const Tensor* in, int nin, const DimGeom& g, const Tensor& out) = 0;
  // out = x.index_select(dim, index); index is int64 1-D and already bounds-checked.
  virtual void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  // out.index_select(dim, index) += g, slab by slab in index order; index as for index_select.
  virtual void index_add(const Tensor& g, int dim, const Tensor& index, const Tensor& out) = 0;
  // A gather or scatter along dim (IndexedKernel); false at an out-of-range index (*bad: its value).
  virtual bool indexed(const IndexedKernel& k, const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad) = 0;
  virtual void random(Generator& g, bool normal, const Tensor& out) = 0;
};

Backend& backend_for(Device d);  // throws Unsupported for a device without a backend

}  // namespace adjoint
