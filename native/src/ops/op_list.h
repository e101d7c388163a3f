// The primitive set: one enum entry per primitive (ggml-style, with a count). An op's definition
// (name, arity, metadata, eval, kernel, rules) is one block in its family's file; the registry
// checks that every entry got one. Composite ops (mean, softmax, ...) are built from these in
// composite.cpp and need no entry. Fused primitives (linear, tanh_backward, stack, ...) have one
// kernel for concrete inputs and run as their composite under transforms (OpDef::decompose;
// the elementwise ones keep their kernel under vmap: interp/dispatch.cpp).
#pragma once

#define ADJ_PRIMITIVES(X)                                                        \
  /* elementwise unary (ops/unary.cpp) */                                        \
  X(Neg) X(Exp) X(Log) X(Sin) X(Cos) X(Tanh) X(Sigmoid) X(Relu) X(Sqrt) X(Abs)   \
  X(Sign) X(Log1p) X(Expm1) X(Erf) X(Erfc) X(Tan) X(Asin) X(Acos) X(Atan)        \
  X(Sinh) X(Cosh) X(Log2) X(Log10) X(Floor) X(Ceil) X(Round) X(Trunc)            \
  /* elementwise predicates: bool results (ops/unary.cpp) */                    \
  X(IsNan) X(IsInf) X(IsFinite) X(LogicalNot)                                    \
  /* elementwise binary, broadcasting (ops/binary.cpp) */                        \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow)                                             \
  X(Maximum) X(Minimum) X(Atan2) X(Fmod) X(Remainder)                            \
  X(Eq) X(Ne) X(Lt) X(Le) X(Gt) X(Ge) X(LogicalAnd) X(LogicalOr)                 \
  X(Where) X(Cast)                                                               \
  /* fused derivatives: g * tanh'(x) and g * sigmoid'(x) from the output y, and */ \
  /* relu's g where x > 0 (ops/unary.cpp) */                                     \
  X(TanhBackward) X(SigmoidBackward) X(ReluBackward)                             \
  /* reductions (ops/reduce.cpp) */                                              \
  X(Sum) X(Amax)                                                                 \
  /* linear algebra (ops/linalg.cpp) */                                          \
  X(Matmul) X(Linear)                                                            \
  /* linear algebra on LAPACK (ops/linalg_solve.cpp, decomp, orthogonal) */      \
  X(LinalgSolve) X(SolveTriangular) X(Slogdet) X(Det) X(Cholesky) X(Eigh) X(Qr)  \
  X(Svd) X(Pinv)                                                                 \
  /* convolution (and with its bias), its two derivative products (ops/conv.cpp) */ \
  X(Conv2d) X(Conv2dBias) X(Conv2dInputGrad) X(Conv2dWeightGrad)                 \
  /* max pooling: the gather at each window's maximum and its scatter (ops/pool.cpp) */ \
  X(MaxPool2d) X(MaxPool2dBackward)                                              \
  /* views and data movement (ops/views.cpp, ops/indexing.cpp) */                \
  X(Reshape) X(Permute) X(Expand) X(Slice) X(Select) X(Squeeze) X(Unsqueeze)     \
  X(Contiguous) X(IndexSelect) X(Cat) X(Stack)                                   \
  /* the identity without a derivative (stop_gradient; ops/detach.cpp) */        \
  X(Detach)                                                                      \
  /* adjoints of slicing and gathering (used by vjp rules; ops/indexing.cpp) */  \
  X(SliceBackward) X(IndexAdd)                                                   \
  /* gather and scatter along a dim, torch's (ops/gather_scatter.cpp) */         \
  X(Gather) X(Scatter) X(ScatterAdd)                                            \
  /* scans and the product along one dim (ops/scan.cpp) */                       \
  X(Cumsum) X(Cumprod) X(Logcumsumexp) X(Prod) X(LinearScan)                     \
  /* positions of extremes and of the sorted order: int64 (ops/sort.cpp) */      \
  X(Argmax) X(Argmin) X(Argsort)

namespace adjoint {

enum class OpId : int {
#define ADJ_ENUM_(id) id,
  ADJ_PRIMITIVES(ADJ_ENUM_)
#undef ADJ_ENUM_
  kCount
};
constexpr int kNumOps = int(OpId::kCount);

}  // namespace adjoint
