#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "core/error.h"

namespace adjoint {

void Backend::cat(const Tensor* in, int nin, int dim, bool stacked, const Tensor& out) {
  int64_t pos = 0;
  for (int i = 0; i < nin; i++) {
    Dims shape = out.shape(), strides = out.strides();
    const int64_t offset = out.offset() + pos * strides[dim];
    int64_t extent = 1;
    if (stacked) {
      shape.erase(dim);
      strides.erase(dim);
    } else {
      extent = shape[dim] = in[i].size(dim);
    }
    copy(in[i], Tensor::view_of(out, shape, strides, offset));
    pos += extent;
  }
}

Backend& backend_for(Device d) {
  static cpu::CpuBackend cpu_backend;
  if (d.type == DeviceType::CPU) return cpu_backend;
  throw Error(ErrorKind::Unsupported, "device", "no backend for device " + d.str() + " in this build");
}

}  // namespace adjoint
