// CPU memory, data movement that is not elementwise math, and random fills.
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "core/allocator.h"
#include "core/error.h"
#include "core/random.h"

namespace adjoint::cpu {

void* CpuBackend::alloc(size_t nbytes, const char* op) { return host_alloc(nbytes, op); }
void CpuBackend::free(void* p, size_t nbytes) { host_free(p, nbytes); }
void CpuBackend::copy_from_host(void* dst, const void* src, size_t nbytes) { if (nbytes) std::memcpy(dst, src, nbytes); }
void CpuBackend::copy_to_host(void* dst, const void* src, size_t nbytes) { if (nbytes) std::memcpy(dst, src, nbytes); }

void CpuBackend::index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  const int64_t n = index.numel(), isz = index.strides().n ? index.strides()[0] : 1;
  for (int64_t i = 0; i < n; i++) {
    // Copy slab idx[i] of x into slab i of out, both as strided views without `dim`.
    Dims sh = x.shape(), sx = x.strides(), so = out.strides();
    sh.erase(dim);
    sx.erase(dim);
    so.erase(dim);
    Tensor src = Tensor::view_of(x, sh, sx, x.offset() + idx[i * isz] * x.strides()[dim]);
    Tensor dst = Tensor::view_of(out, sh, so, out.offset() + i * out.strides()[dim]);
    copy(src, dst);
  }
}

void CpuBackend::random(Generator& g, bool normal, const Tensor& out) {
  const int64_t n = out.numel();
  if (out.dtype() == DType::Float32) {
    if (normal) g.normal(out.data<float>(), n, 0.0, 1.0); else g.uniform(out.data<float>(), n, 0.0, 1.0);
  } else if (out.dtype() == DType::Float64) {
    if (normal) g.normal(out.data<double>(), n, 0.0, 1.0); else g.uniform(out.data<double>(), n, 0.0, 1.0);
  } else {
    throw Error(ErrorKind::DType, normal ? "randn" : "rand", std::string("dtype ") + dtype_name(out.dtype()) + " is not floating point");
  }
}

}  // namespace adjoint::cpu
