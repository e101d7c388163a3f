// The value check of class-index targets (cross entropy, nll loss): torch's "Target 5 is out of
// bounds." The losses pick each target's class with a one-hot mask, which reads no target value,
// so an index outside [0, classes) would silently pick nothing; this reads them instead.
#include "core/error.h"
#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint::ops {

// NOTE: targets are class labels, data rather than values being differentiated, so they are
// concrete behind any tracer: the primal of a jvp/grad tracer, every example of a vmap tracer.
// Each value is checked where it is concrete, whatever transforms wrap the loss.
void check_class_targets(const Tensor& target, int64_t classes, const char* op) {
  ADJ_CHECK(target.dtype() == DType::Int64, ErrorKind::DType, op,
            "target must be int64 class indices, got " << dtype_name(target.dtype()) << " " << target.shape().str());
  const Tensor v = contiguous(every_value_of(target, op));
  const int64_t* p = v.data<int64_t>();
  const int64_t n = v.numel();
  for (int64_t i = 0; i < n; i++) {
    if (p[i] >= 0 && p[i] < classes) continue;
    ADJ_FAIL(ErrorKind::Index, op,
             "target " << p[i] << " is out of bounds for " << classes << " classes (class indices lie in [0, " << classes << "))"
                       << (target.is_tracer() ? std::string() : ", at flat index " + std::to_string(i) + " of target " + target.shape().str())
                       << (p[i] == -100 ? "; torch's ignore_index (-100) is not supported" : ""));
  }
}

}  // namespace adjoint::ops
