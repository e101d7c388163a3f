// Custom derivative rules: a function whose derivative the core does not derive from its ops but
// asks of the caller (Java's Func.customVjp, customJvp and checkpoint), through a CustomRule.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "interp/level.h"

namespace adjoint {

// What a custom rule is asked to run (the numbers are part of the C API: ADJ_CUSTOM_CALL_*).
//   F   (inputs...)                     -> (output)              the function itself
//   Fwd (inputs...)                     -> (output, residuals...) a vjp rule's forward pass
//   Bwd (residuals..., cotangent)       -> (input cotangents...)  undefined = zero
//   Jvp (inputs..., input tangents...)  -> (output, tangent)
enum class CustomCall : int { F = 0, Fwd = 1, Bwd = 2, Jvp = 3 };
// Its name in error messages: "function", "fwd", "bwd", "jvp rule".
const char* custom_call_name(CustomCall c);

// Opaque state a rule hands out with Fwd's residuals and gets back with Bwd (Java: the structure
// of the residuals' pytree); released when the last tape node holding it goes.
struct CustomState {
  std::atomic<int32_t> refs{1};
  virtual ~CustomState() = default;
};

struct CustomRule {
  enum class Kind { Vjp, Jvp };
  std::atomic<int32_t> refs{1};
  Kind kind = Kind::Vjp;
  // Vjp kind: under jvp, run F as written (differentiated by its ops) instead of refusing. For
  // checkpoint, whose "vjp rule" is f's own.
  bool jvp_runs_f = false;
  const char* name = "customVjp";  // in error messages
  int nin = 0;                      // number of tensor inputs
  virtual ~CustomRule() = default;
  // Runs `what` on args. For Fwd, *state receives the residuals' state; for Bwd it holds it.
  virtual std::vector<Tensor> call(CustomCall what, std::vector<Tensor> args, Ref<CustomState>* state) = 0;
};

// The custom function applied to `in` (nin == rule->nin): dispatched like a primitive to the
// innermost level among its inputs, which applies the rule (see custom.cpp's NOTE).
Tensor custom_call(const Ref<CustomRule>& rule, const Tensor* in, int nin);

// A tape node's backward that is not an op's vjp rule (custom.cpp gives them; grad.cpp runs them).
struct CustomBackward {
  std::atomic<int32_t> refs{1};
  Ref<CustomRule> rule;
  virtual ~CustomBackward() = default;
  // Cotangents of the inputs flagged in `need` given the cotangent g of `out` (as OpDef::vjp).
  virtual void vjp(const Tensor& g, const Tensor* primals, int nin, const Tensor& out, const bool* need, Tensor* grads) = 0;
};

// Records on grad `level`'s tape the custom call of bw->rule on `in` (of which at least one is
// traced by level), whose inputs one level down are `primals` and whose value is `out`.
Tensor grad_record_custom(Level* level, const Tensor* in, const Tensor* primals, int nin, Tensor out, Ref<CustomBackward> bw);

// Re-evaluates the tape that computed `outs` from the leaves `leaves` (grad tracers of one level,
// which may have ended) with the leaves' values replaced by `values`: every recorded op is applied
// again, through dispatch, to the new values and the constants it saw. The tape of a jvp whose
// tangents were traced by that level is the tangent map: linearize's jvpFn (Linearize.java's NOTE).
// An output that is not on the tape is returned as it is (a constant of the map).
void grad_replay(const Tensor* leaves, const Tensor* values, int nleaf, const Tensor* outs, int nout, Tensor* results);

}  // namespace adjoint
