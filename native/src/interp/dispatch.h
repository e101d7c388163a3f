// The single entry point every primitive call goes through. Today it evaluates; the transform
// interpreters (jvp, vjp, vmap) hook in here, so that ops and their rules never know who is tracing.
#pragma once
#include <initializer_list>

#include "ops/op.h"

namespace adjoint {

Tensor apply(OpId op, const Tensor* in, int nin, const Attrs& attrs);

inline const Attrs& no_attrs() {
  static const Attrs none{};
  return none;
}

inline Tensor apply(OpId op, std::initializer_list<Tensor> in, const Attrs& attrs = no_attrs()) {
  return apply(op, in.begin(), int(in.size()), attrs);
}

// The fixed-arity forms pass the arguments borrowed (see BorrowedSlots in core/tensor.h).
inline Tensor apply1(OpId op, const Tensor& a, const Attrs& attrs = no_attrs()) { return apply(op, &a, 1, attrs); }
inline Tensor apply2(OpId op, const Tensor& a, const Tensor& b, const Attrs& attrs = no_attrs()) {
  BorrowedSlots<2> in(2);
  in.borrow(0, a);
  in.borrow(1, b);
  return apply(op, in.data(), 2, attrs);
}
inline Tensor apply3(OpId op, const Tensor& a, const Tensor& b, const Tensor& c, const Attrs& attrs = no_attrs()) {
  BorrowedSlots<3> in(3);
  in.borrow(0, a);
  in.borrow(1, b);
  in.borrow(2, c);
  return apply(op, in.data(), 3, attrs);
}

}  // namespace adjoint
