// The primitive set. One X-macro line per primitive: adding an op starts here.
// Composite ops (mean, softmax, ...) are built from these in composite.cpp and need no entry.
// Fused primitives (linear, tanh_backward, stack, ...) have one kernel for concrete inputs and run
// as their composite under transforms (OpDef::decompose).
#pragma once

// X(Id, "name", number of tensor inputs; -1 = variadic)
#define ADJ_PRIMITIVES(X)                                   \
  /* elementwise unary */                                   \
  X(Neg, "neg", 1) X(Exp, "exp", 1) X(Log, "log", 1)        \
  X(Sin, "sin", 1) X(Cos, "cos", 1) X(Tanh, "tanh", 1)      \
  X(Sigmoid, "sigmoid", 1) X(Relu, "relu", 1)               \
  X(Sqrt, "sqrt", 1) X(Abs, "abs", 1) X(Sign, "sign", 1)    \
  /* elementwise binary (broadcasting) */                   \
  X(Add, "add", 2) X(Sub, "sub", 2) X(Mul, "mul", 2)        \
  X(Div, "div", 2) X(Pow, "pow", 2)                         \
  X(Eq, "eq", 2) X(Ne, "ne", 2) X(Lt, "lt", 2)              \
  X(Le, "le", 2) X(Gt, "gt", 2) X(Ge, "ge", 2)              \
  X(Where, "where", 3) X(Cast, "to", 1)                     \
  /* fused derivatives: g * tanh'(x) and g * sigmoid'(x) from the output y (see decompose) */ \
  X(TanhBackward, "tanh_backward", 2) X(SigmoidBackward, "sigmoid_backward", 2) \
  /* reductions */                                          \
  X(Sum, "sum", 1) X(Amax, "amax", 1)                       \
  /* linear algebra */                                      \
  X(Matmul, "matmul", 2) X(Linear, "linear", -1)           \
  /* linear algebra on LAPACK (ops/linalg_solve.cpp, linalg_decomp.cpp, linalg_orthogonal.cpp) */ \
  X(LinalgSolve, "linalg.solve", 2) X(SolveTriangular, "linalg.solve_triangular", 2) \
  X(Slogdet, "linalg.slogdet", 1) X(Cholesky, "linalg.cholesky", 1) \
  X(Eigh, "linalg.eigh", 1) X(Qr, "linalg.qr", 1) X(Svd, "linalg.svd", 1) \
  X(Pinv, "linalg.pinv", 1)                                 \
  /* views and data movement */                             \
  X(Reshape, "reshape", 1) X(Permute, "permute", 1)         \
  X(Expand, "expand", 1) X(Slice, "slice", 1)               \
  X(Select, "select", 1) X(Squeeze, "squeeze", 1)           \
  X(Unsqueeze, "unsqueeze", 1) X(Contiguous, "contiguous", 1) \
  X(IndexSelect, "index_select", 2) X(Cat, "cat", -1)       \
  X(Stack, "stack", -1)                                     \
  /* the identity without a derivative (stop_gradient) */   \
  X(Detach, "detach", 1)                                    \
  /* adjoints of slicing and gathering (used by vjp rules) */ \
  X(SliceBackward, "slice_backward", 1) X(IndexAdd, "index_add", 2)

namespace adjoint {

enum class OpId : int {
#define ADJ_ENUM_(id, name, arity) id,
  ADJ_PRIMITIVES(ADJ_ENUM_)
#undef ADJ_ENUM_
  kCount
};
constexpr int kNumOps = int(OpId::kCount);

}  // namespace adjoint
