// Creation ops: tensors made from nothing (or from host data). No inputs, so no rules to carry.
#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "interp/rules.h"
#include "ops/op_util.h"
#include "ops/ops.h"

namespace adjoint::ops {

// Before any other argument check, so that a bad shape is reported first (Tensor::empty checks
// it again, with the same message).
static void check_shape(const char* op, const Dims& shape) { numel_of(shape, op); }

Tensor full(const Dims& shape, double value, DType dtype, Device device) {
  check_shape("full", shape);
  check_scalar_fits("full", value, dtype);
  Tensor t = Tensor::empty(shape, dtype, device, "full");
  backend_for(device).fill(t, value);
  return t;
}

Tensor zeros(const Dims& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Dims& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar(double value, DType dtype, Device device) { return full(Dims{}, value, dtype, device); }

Tensor eye(int64_t n, int64_t m, DType dtype, Device device) {
  ADJ_CHECK(n >= 0 && m >= 0, ErrorKind::Argument, "eye", "sizes must be non-negative, got n=" << n << ", m=" << m);
  check_shape("eye", Dims{n, m});
  Tensor t = zeros(Dims{n, m}, dtype, device);
  int64_t k = n < m ? n : m;
  // Fill the diagonal through a strided view: stride m+1 walks it.
  backend_for(device).fill(Tensor::view_of(t, Dims{k}, Dims{wrapping_add(m, 1)}, 0, "eye"), 1.0);  // k = 0 when m + 1 wraps
  return t;
}

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  ADJ_CHECK(step != 0, ErrorKind::Argument, "arange", "step must be nonzero");
  ADJ_CHECK(std::isfinite(start) && std::isfinite(end), ErrorKind::Argument, "arange", "unsupported range: " << start << " -> " << end);
  ADJ_CHECK((step > 0 && end >= start) || (step < 0 && end <= start), ErrorKind::Argument, "arange",
            "upper bound and larger bound inconsistent with step sign (start=" << start << ", end=" << end << ", step=" << step << ")");
  ADJ_CHECK(dtype != DType::Bool, ErrorKind::DType, "arange", "bool is not supported");
  const double count = std::ceil((end - start) / step);
  // Converting a double of 2^63 or more to int64 is undefined: check first.
  ADJ_CHECK(count < 9223372036854775808.0, ErrorKind::Argument, "arange",
            "range " << start << " -> " << end << " with step " << step << " has more elements than int64 can count");
  int64_t n = int64_t(count);
  Tensor t = Tensor::empty(Dims{n}, dtype, device, "arange");
  backend_for(device).arange(t, start, step);
  return t;
}

static Tensor random_fill(Generator& g, const Dims& shape, DType dtype, Device device, bool normal) {
  const char* op = normal ? "randn" : "rand";
  check_shape(op, shape);
  ADJ_CHECK(is_floating(dtype), ErrorKind::DType, op, "dtype must be float32 or float64, got " << dtype_name(dtype));
  // NOTE: numbers are drawn on the host by the PyTorch-compatible generator and then moved, so
  // every device gives the same values for the same seed.
  Tensor host = Tensor::empty(shape, dtype, Device{}, op);
  backend_for(Device{}).random(g, normal, host);
  if (device.type == DeviceType::CPU) return host;
  Tensor t = Tensor::empty(shape, dtype, device, op);
  backend_for(device).copy_from_host(t.raw_data(), host.raw_data(), size_t(host.numel()) * itemsize(dtype));
  return t;
}

// NOTE: random ops under vmap follow the level's randomness mode: `error` refuses (the default, as
// in torch.func: a silently shared sample is a classic bug), `same` draws one sample for the whole
// batch, `different` draws one per example of every such level and returns it batched.
static Tensor random_op(Generator& g, const Dims& shape, DType dtype, Device device, bool normal) {
  const char* op = normal ? "randn" : "rand";
  std::vector<Level*> different;
  for (const auto& l : level_stack()) {
    if (l->kind != LevelKind::Batch) continue;
    ADJ_CHECK(l->randomness != Randomness::Error, ErrorKind::State, op,
              "random op inside vmap with randomness=error; pass randomness \"different\" or \"same\" to vmap");
    if (l->randomness == Randomness::Different) different.push_back(l.get());
  }
  if (different.empty()) return random_fill(g, shape, dtype, device, normal);
  Dims full_shape = shape;
  for (auto it = different.rbegin(); it != different.rend(); ++it) full_shape.insert(0, (*it)->batch_size);
  Tensor t = random_fill(g, full_shape, dtype, device, normal);
  for (Level* l : different) t = batch_wrap_physical(l, t);  // outermost first
  return t;
}

Tensor randn(Generator& g, const Dims& shape, DType dtype, Device device) { return random_op(g, shape, dtype, device, true); }
Tensor rand(Generator& g, const Dims& shape, DType dtype, Device device) { return random_op(g, shape, dtype, device, false); }

Tensor from_data(const void* data, const Dims& shape, DType dtype, Device device) {
  check_shape("from_data", shape);
  Tensor t = Tensor::empty(shape, dtype, device, "from_data");
  size_t nbytes = size_t(t.numel()) * itemsize(dtype);
  if (nbytes) {
    ADJ_CHECK(data != nullptr, ErrorKind::Argument, "from_data", "null data for shape " << shape.str());
    backend_for(device).copy_from_host(t.raw_data(), data, nbytes);
  }
  return t;
}

}  // namespace adjoint::ops

namespace adjoint::ops {

Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }

}  // namespace adjoint::ops
