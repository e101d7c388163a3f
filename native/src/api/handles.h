// The C API's handle helpers, for every entry-point file of this directory (c_api*.cpp): a tensor
// handed out or borrowed in, a generator handle, and the two call shapes that run an op inside the
// error barrier (api/record.h) and hand its result(s) out.
#pragma once
#include <cstdint>
#include <utility>

#include "adjoint/adjoint.h"
#include "api/record.h"
#include "core/error.h"
#include "core/random.h"
#include "core/tensor.h"

namespace adjoint::api {
namespace {  // internal linkage and no `inline` hints: see api/record.h's NOTE

// A tensor handed out: the handle owns one reference count (adj_release gives it back).
[[maybe_unused]] adj_t out(Tensor t) { return adj_t(reinterpret_cast<intptr_t>(std::move(t).take().release())); }

// NOTE: a handle passed in is borrowed without a reference count of its own (each count update
// is a locked instruction: two per argument were ~0.1 us of a W1 row). The handle's count keeps the
// tensor alive for the call: the Java side holds the Tensor reachable across the call (its
// reachability fences) and no entry point releases a handle it was given. Releasing a handle while
// another thread's call uses it is a race either way (a count taken on entry would come too late).
[[maybe_unused]] BorrowedTensor in(adj_t h, const char* op = "tensor") {
  if (h == 0) throw Error(ErrorKind::State, op, "tensor handle is null (closed or never created)");
  return BorrowedTensor(reinterpret_cast<TensorImpl*>(intptr_t(h)));
}

// A generator handle; 0 is the default generator.
[[maybe_unused]] Generator& gen(int64_t g) { return g == 0 ? default_generator() : *reinterpret_cast<Generator*>(intptr_t(g)); }

// One tensor out: f's result handed out, or 0 with this thread's pending error set.
template <class F>
adj_t handle_call(F&& f) {
  return api_guard<adj_t>(0, [&] { return out(f()); });
}

// Two tensors out (values and indices, or two factors): f's first returned, its second written to
// *second; both or neither (0 and the pending error, *second untouched).
template <class F>
adj_t handle_pair_call(adj_t* second, const char* op, F&& f) {
  return api_guard<adj_t>(0, [&] {
    ADJ_CHECK(second != nullptr, ErrorKind::Argument, op, "null output pointer");
    std::pair<Tensor, Tensor> r = f();
    *second = out(std::move(r.second));
    return out(std::move(r.first));
  });
}

}  // namespace
}  // namespace adjoint::api
