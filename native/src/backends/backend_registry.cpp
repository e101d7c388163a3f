#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "core/error.h"

namespace adjoint {

Backend& backend_for(Device d) {
  static cpu::CpuBackend cpu_backend;
  if (d.type == DeviceType::CPU) return cpu_backend;
  throw Error(ErrorKind::Unsupported, "device", "no backend for device " + d.str() + " in this build");
}

}  // namespace adjoint
