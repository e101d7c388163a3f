// CPU kernels of gather, scatter and scatter_add (IndexedKernel, backends/kernels.h): one strided
// loop over the index, with the indexed operand seen through a view of index's shape whose stride
// along `dim` is 0, so that the index value alone moves along dim.
#include <cstring>
#include <type_traits>

#include "backends/cpu/strided_loop.h"
#include "backends/kernels.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

// t viewed with `shape` (index's) and t's strides, except 0 along dim: element i of the view is
// t's element at i in every other dim and at 0 along dim.
Tensor along_index(const Tensor& t, const Dims& shape, int dim) {
  Dims st = t.strides();
  st[dim] = 0;
  return Tensor::view_of(t, shape, st, t.offset());
}

enum class Mode { Gather, Scatter, Add };

// NOTE: every index value is range-checked right before its one use, so a bad index stops the
// kernel before any read or write through it (never a wild access); the op throws with the value.
template <class T, Mode M>
bool run(const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad) {
  const Dims& shape = index.shape();
  // gather: operands {out, index, x along dim}; scatter: {out along dim, index, x (src)}.
  const Tensor indexed = along_index(M == Mode::Gather ? x : out, shape, dim);
  const Tensor plain = M == Mode::Gather ? out : Tensor::view_of(x, shape, x.strides(), x.offset());
  const int64_t size = M == Mode::Gather ? x.size(dim) : out.size(dim);
  const int64_t step = (M == Mode::Gather ? x.strides()[dim] : out.strides()[dim]) * int64_t(sizeof(T));
  const Tensor* a = M == Mode::Gather ? &plain : &indexed;  // the destination
  const Tensor* b = M == Mode::Gather ? &indexed : &plain;  // the source
  bool ok = true;
  Loop<3> loop(shape, {a, &index, b});
  loop.run([&](const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
    if (!ok) return;
    for (int64_t k = 0; k < n; k++) {
      const int64_t i = *reinterpret_cast<const int64_t*>(p[1] + k * s[1]);
      if (uint64_t(i) >= uint64_t(size)) {  // a negative index wraps to a huge one
        ok = false;
        *bad = i;
        return;
      }
      T* dst = reinterpret_cast<T*>(p[0] + k * s[0] + (M == Mode::Gather ? 0 : i * step));
      const T* src = reinterpret_cast<const T*>(p[2] + k * s[2] + (M == Mode::Gather ? i * step : 0));
      if (M == Mode::Add) {
        if constexpr (std::is_same_v<T, bool>) *dst = *dst || *src;  // bool addition saturates
        else *dst += *src;
      } else {
        std::memcpy(dst, src, sizeof(T));
      }
    }
  });
  return ok;
}

// Gather and scatter move bits: one instance per item size.
template <Mode M>
bool move(const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad) {
  switch (itemsize(out.dtype())) {
    case 8: return run<int64_t, M>(index, x, dim, out, bad);
    case 4: return run<int32_t, M>(index, x, dim, out, bad);
    default: return run<uint8_t, M>(index, x, dim, out, bad);
  }
}

bool add(const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad) {
  switch (out.dtype()) {
    case DType::Float32: return run<float, Mode::Add>(index, x, dim, out, bad);
    case DType::Float64: return run<double, Mode::Add>(index, x, dim, out, bad);
    case DType::Int64: return run<int64_t, Mode::Add>(index, x, dim, out, bad);
    default: return run<bool, Mode::Add>(index, x, dim, out, bad);
  }
}

}  // namespace
}  // namespace adjoint::cpu

namespace adjoint::kernels {
const IndexedKernel gather{cpu::move<cpu::Mode::Gather>};
const IndexedKernel scatter{cpu::move<cpu::Mode::Scatter>};
const IndexedKernel scatter_add{cpu::add};
}  // namespace adjoint::kernels
