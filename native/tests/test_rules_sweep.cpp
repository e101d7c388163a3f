// Registry-driven sweep of the transform rules: every primitive (OpId 0..kNumOps-1) is run on the
// sample calls of its table row below, and each sample is checked, in float64, for
//   grad_fd : reverse-mode gradient of sum(u * f(x)) vs central finite differences;
//   hess_fd : grad of (grad . w) (reverse over reverse) vs central differences of the gradient;
//   fwd_rev : jvp of the gradient (forward over reverse) vs reverse over reverse;
//   dot     : <u, jvp(v)> == <vjp(u), v>;
//   jac     : jacfwd (vmap of jvp over a basis) == jacrev (vmap of the backward pass over a basis);
//   vmap    : vmap(f) == stack of per-example f, for every subset of mapped inputs, batch at dim 0
//             and at the last dim;
//   vmap2   : vmap of vmap, the same way;
//   vmap_grad, vmap_jvp: vmap of the gradient and of the jvp (batched primals);
//   meta    : the op's metadata rule (OpDef::meta) gives the shape and dtype eval gives, from the
//             inputs' shapes and dtypes alone (and, in meta_errors_match_eval, the same error).
// Non-differentiable ops (comparisons), integer/bool inputs and outputs get the vmap checks only;
// every skip is listed, with its reason, in the summary.
// Mixed dtypes (samples "mixed: ..."): the binary ops and where promote like torch (ops/promotion.h)
// and run all of the above on the promoted op, plus
//   promote : result dtype == torch's (data/promotion_expected.h), values == the op on inputs cast
//             beforehand, and for every floating input (float32 too) its cotangent (in the input's
//             dtype) and the tangent of the output == those of the op on the cast inputs, cast.
// A primitive with no samples fails the sweep: adding an op means adding one row to sample_table().
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "check.h"
#include "data/promotion_expected.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;
using Args = std::vector<Tensor>;
using Fn = std::function<Tensor(const Args&)>;
using MultiFn = std::function<Args(const Args&)>;

namespace {

constexpr double kFdStep = 1e-6, kFdTol = 1e-6;  // finite differences
constexpr double kAdTol = 1e-10;                 // identities between exact derivatives
constexpr double kVmapTol = 1e-12;               // vmap vs a loop: the same arithmetic
// float32 results of a batch and of a loop may differ in the last bit or two: the vector kernels'
// float32 math (log, exp, ...) need not round as the scalar one does, and sums run in another order.
constexpr double kVmapTolF32 = 1e-6;
constexpr int64_t kBatch = 3;

// ---------------------------------------------------------------- seeded random numbers

struct Rng {  // splitmix64: the same numbers on every platform
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x2545f4914f6cdd1dULL + 1) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1.0p-53; }
  int64_t integer(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo)); }  // [lo, hi)
};

// ---------------------------------------------------------------- sample inputs

// Value domains: each keeps the op smooth (and finite differences meaningful) at every draw,
// except in samples marked smooth = false.
enum class Domain {
  Real,      // uniform [-2, 2]
  Unit,      // uniform [-0.9, 0.9]: asin, acos, and tan away from its poles
  Positive,  // [0.5, 2]: log, sqrt, pow's base
  NonZero,   // |x| in [0.25, 2]: away from the kinks of abs/relu/sign and the pole of div
  WithZeros, // every other element exactly 0, the rest in [0.5, 2]: pow's base at its edge
  OneZero,   // every fourth element (1, 5, ...) exactly 0, the rest +-[0.5, 2]: products with one zero
  Large,     // uniform [-1000, 1000]: exp overflows, logcumsumexp must not
  TwoThree,  // 2 or 3: integer exponents, where pow at a zero base is smooth in the base
  Distinct,  // values at least 0.3 apart: amax without ties
  Coarse,    // {-1, 0, 1}: comparisons with ties
  Ints,      // int64 in [-3, 3]: vmap only
  Index,     // int64 in [0, hi)
  UniqueIndex,  // int64 in [0, hi), no value twice along dim `along` (scatter's derivative needs it)
  Bool,      // where's condition
  // square matrices [..., n, n] (linalg), drawn matrix by matrix:
  Matrix,    // [-1, 1] plus 3 on the diagonal: well conditioned (solve, det, triangular solve)
  Singular,  // as Matrix with the last column zero: rank n - 1, LU's last pivot exactly 0 (det's adjugate)
  Spd,       // M M^T / n + I with M in [-1, 1]: symmetric positive-definite (cholesky)
  SymGapped, // symmetric, [-0.2, 0.2] plus 1.5 i on diagonal entry i: eigenvalues well apart (eigh)
};
enum class Layout { Contiguous, Transposed, Strided };

struct Input {
  Dims shape;
  Domain dom = Domain::Real;
  DType dtype = DType::Float64;
  Layout layout = Layout::Contiguous;
  int64_t hi = 0;  // Domain::Index, UniqueIndex
  int along = 0;   // Domain::UniqueIndex
};

Input real(Dims s) { return {s}; }
Input positive(Dims s) { return {s, Domain::Positive}; }
Input unit(Dims s) { return {s, Domain::Unit}; }
Input nonzero(Dims s) { return {s, Domain::NonZero}; }
Input distinct(Dims s) { return {s, Domain::Distinct}; }
Input matrix(Dims s) { return {s, Domain::Matrix}; }
Input singular(Dims s) { return {s, Domain::Singular}; }
Input spd(Dims s) { return {s, Domain::Spd}; }
Input sym_gapped(Dims s) { return {s, Domain::SymGapped}; }
Input coarse(Dims s) { return {s, Domain::Coarse}; }
Input ints(Dims s) { return {s, Domain::Ints, DType::Int64}; }
Input index(Dims s, int64_t hi) { return {s, Domain::Index, DType::Int64, Layout::Contiguous, hi}; }
Input cond(Dims s) { return {s, Domain::Bool, DType::Bool}; }
Input unique_index(Dims s, int64_t hi, int along) { return {s, Domain::UniqueIndex, DType::Int64, Layout::Contiguous, hi, along}; }
Input f32(Input in) { in.dtype = DType::Float32; return in; }
Input i64(Input in) { in.dtype = DType::Int64; return in; }  // values of its domain, rounded toward zero
// Non-contiguous layouts: stored with the last two dims swapped, or every other element.
Input T(Input in) { in.layout = Layout::Transposed; return in; }
Input S(Input in) { in.layout = Layout::Strided; return in; }

struct Sample {
  std::vector<Input> ins;
  Attrs at;
  std::string note;
  // false: sampled where f is not smooth or not defined on both sides of some input value, so
  // finite differences are skipped; the checks of derivatives against each other still run.
  bool smooth = true;
};

Attrs attrs(Dims ints, bool flag = false) {
  Attrs a;
  a.ints = ints;
  a.flag = flag;
  return a;
}
Attrs to_dtype(DType d) {
  Attrs a;
  a.dtype = d;
  return a;
}

// The sample calls of every primitive. Shapes stay small: finite differences of the gradient cost
// one backward pass per element.
std::map<OpId, std::vector<Sample>> sample_table() {
  std::map<OpId, std::vector<Sample>> t;
  auto unary = [&](OpId op, Input (*dom)(Dims)) {
    t[op] = {{{dom({2, 3})}, {}, "[2,3]"},
             {{T(dom({3, 4}))}, {}, "transposed [3,4]"},
             {{S(dom({5}))}, {}, "strided [5]"},
             {{dom({})}, {}, "0-d"}};
  };
  unary(OpId::Neg, real), unary(OpId::Exp, real), unary(OpId::Sin, real), unary(OpId::Cos, real);
  unary(OpId::Tanh, real), unary(OpId::Sigmoid, real);
  unary(OpId::Log, positive), unary(OpId::Sqrt, positive);
  unary(OpId::Relu, nonzero), unary(OpId::Abs, nonzero), unary(OpId::Sign, nonzero);
  for (OpId op : {OpId::Expm1, OpId::Erf, OpId::Erfc, OpId::Atan, OpId::Sinh, OpId::Cosh}) unary(op, real);
  for (OpId op : {OpId::Log1p, OpId::Log2, OpId::Log10}) unary(op, positive);
  for (OpId op : {OpId::Tan, OpId::Asin, OpId::Acos}) unary(op, unit);
  // piecewise constant: random draws sit away from the jumps (a derivative of zero to check)
  for (OpId op : {OpId::Floor, OpId::Ceil, OpId::Round, OpId::Trunc}) {
    unary(op, real);
    t[op].push_back({{ints({4})}, {}, "int64"});
  }
  for (OpId op : {OpId::IsNan, OpId::IsInf, OpId::IsFinite, OpId::LogicalNot}) {
    unary(op, real);
    t[op].push_back({{ints({4})}, {}, "int64"});
    t[op].push_back({{cond({4})}, {}, "bool"});
  }
  t[OpId::Neg].push_back({{ints({4})}, {}, "int64"});
  t[OpId::Abs].push_back({{ints({4})}, {}, "int64"});

  auto binary = [&](OpId op, Input (*da)(Dims), Input (*db)(Dims)) {
    t[op] = {{{da({2, 3}), db({2, 3})}, {}, "[2,3] [2,3]"},
             {{da({2, 3}), db({3})}, {}, "broadcast [2,3] [3]"},
             {{da({2, 1}), db({1, 3})}, {}, "broadcast [2,1] [1,3]"},
             {{da({}), T(db({3, 4}))}, {}, "0-d, transposed [3,4]"},
             {{S(da({4})), db({})}, {}, "strided [4], 0-d"}};
  };
  binary(OpId::Add, real, real), binary(OpId::Sub, real, real), binary(OpId::Mul, real, real);
  binary(OpId::Div, real, nonzero), binary(OpId::Pow, positive, real);
  for (OpId op : {OpId::Eq, OpId::Ne, OpId::Lt, OpId::Le, OpId::Gt, OpId::Ge, OpId::LogicalAnd, OpId::LogicalOr})
    binary(op, coarse, coarse);
  binary(OpId::Maximum, real, real), binary(OpId::Minimum, real, real), binary(OpId::Atan2, real, nonzero);
  binary(OpId::Fmod, real, nonzero), binary(OpId::Remainder, real, nonzero);
  for (OpId op : {OpId::Maximum, OpId::Minimum}) {  // ties share the derivative evenly (torch's convention)
    t[op].push_back({{coarse({2, 3}), coarse({3})}, {}, "ties", false});
    t[op].push_back({{ints({2, 3}), ints({3})}, {}, "int64"});
  }
  for (OpId op : {OpId::Fmod, OpId::Remainder}) t[op].push_back({{ints({2, 3}), i64(Input{{3}, Domain::TwoThree})}, {}, "int64"});
  t[OpId::LogicalAnd].push_back({{cond({2, 3}), cond({3})}, {}, "bool"});
  t[OpId::LogicalOr].push_back({{cond({2, 3}), cond({3})}, {}, "bool"});
  t[OpId::Add].push_back({{ints({2, 3}), ints({3})}, {}, "int64"});
  t[OpId::Pow].push_back({{{{4}, Domain::WithZeros}, {{4}, Domain::TwoThree}}, {}, "zero base", false});
  t[OpId::Lt].push_back({{ints({2, 3}), ints({3})}, {}, "int64"});
  // Mixed dtypes, promoted as torch does: float32/float64 pairs, each width of a 0-d operand (which
  // never widens a dimensioned one), int64 with floats (a 0-d float raises the category). `ia`/`ib`
  // are integer stand-ins of each operand's domain.
  auto mixed = [&](OpId op, Input (*da)(Dims), Input (*db)(Dims), Domain ia, Domain ib) {
    auto& v = t[op];
    v.push_back({{f32(da({2, 3})), db({3})}, {}, "mixed: f32 [2,3], f64 [3]"});
    v.push_back({{da({2, 3}), f32(db({}))}, {}, "mixed: f64 [2,3], f32 0-d"});
    v.push_back({{f32(da({2, 3})), db({})}, {}, "mixed: f32 [2,3], f64 0-d -> f32"});
    v.push_back({{da({}), f32(T(db({3, 4})))}, {}, "mixed: f64 0-d, transposed f32 [3,4] -> f32"});
    v.push_back({{i64(Input{{2, 3}, ia}), db({3})}, {}, "mixed: i64 [2,3], f64 [3]"});
    v.push_back({{f32(da({3})), i64(Input{{}, ib})}, {}, "mixed: f32 [3], i64 0-d"});
    v.push_back({{i64(Input{{3}, ia}), f32(db({}))}, {}, "mixed: i64 [3], f32 0-d -> f32"});
    v.push_back({{S(da({4})), cond({4})}, {}, "mixed: strided f64 [4], bool [4]"});
  };
  mixed(OpId::Add, real, real, Domain::Ints, Domain::Ints);
  mixed(OpId::Mul, real, real, Domain::Ints, Domain::Ints);
  mixed(OpId::Div, real, nonzero, Domain::Ints, Domain::TwoThree);
  mixed(OpId::Pow, positive, real, Domain::TwoThree, Domain::Ints);
  mixed(OpId::Sub, real, real, Domain::Ints, Domain::Ints);
  t[OpId::Sub].pop_back();  // no bool operand for sub (torch refuses it; test_promotion.cpp)
  t[OpId::Div].pop_back();  // a bool divisor divides by zero
  t[OpId::Div].push_back({{i64(Input{{2, 3}, Domain::Ints}), i64(Input{{3}, Domain::TwoThree})}, {}, "mixed: i64 / i64 -> f32"});
  // the newer binary ops promote the same way (torch's table covers them too)
  mixed(OpId::Maximum, real, real, Domain::Ints, Domain::Ints);
  mixed(OpId::Minimum, real, real, Domain::Ints, Domain::Ints);
  mixed(OpId::Atan2, real, nonzero, Domain::Ints, Domain::TwoThree);
  mixed(OpId::Fmod, real, nonzero, Domain::Ints, Domain::TwoThree);
  mixed(OpId::Remainder, real, nonzero, Domain::Ints, Domain::TwoThree);
  t[OpId::Maximum].push_back({{cond({2, 3}), cond({3})}, {}, "bool: or"});
  t[OpId::Minimum].push_back({{cond({2, 3}), cond({3})}, {}, "bool: and"});
  t[OpId::Fmod].pop_back();       // a bool divisor divides by zero
  t[OpId::Remainder].pop_back();
  for (OpId op : {OpId::Eq, OpId::Ne, OpId::Lt, OpId::Le, OpId::Gt, OpId::Ge, OpId::LogicalAnd, OpId::LogicalOr}) {
    t[op].push_back({{f32(coarse({2, 3})), coarse({3})}, {}, "mixed: f32 [2,3], f64 [3]"});
    t[op].push_back({{coarse({2, 3}), f32(coarse({}))}, {}, "mixed: f64 [2,3], f32 0-d"});
    t[op].push_back({{i64(Input{{3}, Domain::Coarse}), f32(coarse({}))}, {}, "mixed: i64 [3], f32 0-d"});
  }

  t[OpId::Where] = {{{cond({2, 3}), real({2, 3}), real({2, 3})}, {}, "[2,3] x3"},
                    {{cond({2, 1}), real({3}), real({})}, {}, "broadcast [2,1] [3] 0-d"},
                    {{cond({3}), T(real({2, 3})), real({2, 1})}, {}, "broadcast [3] transposed [2,3] [2,1]"},
                    {{cond({2, 3}), f32(real({2, 3})), real({3})}, {}, "mixed: f32 [2,3], f64 [3]"},
                    {{cond({3}), real({}), f32(real({2, 3}))}, {}, "mixed: f64 0-d, f32 [2,3] -> f32"},
                    {{cond({3}), i64(Input{{3}, Domain::Ints}), real({})}, {}, "mixed: i64 [3], f64 0-d -> f64"}};
  t[OpId::Cast] = {{{real({2, 3})}, to_dtype(DType::Float64), "f64->f64"},
                   {{T(real({3, 4}))}, to_dtype(DType::Float32), "f64->f32"},
                   {{f32(real({2, 3}))}, to_dtype(DType::Float64), "f32->f64"},
                   {{ints({2, 3})}, to_dtype(DType::Float64), "i64->f64"},
                   {{real({2, 3})}, to_dtype(DType::Int64), "f64->i64"},
                   {{cond({4})}, to_dtype(DType::Float64), "bool->f64"}};

  auto reduction = [&](OpId op, Input (*dom)(Dims)) {
    t[op] = {{{dom({2, 3, 4})}, attrs({}), "all dims"},
             {{dom({2, 3, 4})}, attrs({1}, true), "dim 1 keepdim"},
             {{dom({2, 3, 4})}, attrs({-1, 0}), "dims -1,0"},
             {{T(dom({3, 4}))}, attrs({-2}, true), "transposed, dim -2 keepdim"},
             {{dom({})}, attrs({}), "0-d"},
             {{dom({})}, attrs({-1}, true), "0-d dim -1"}};
  };
  reduction(OpId::Sum, real), reduction(OpId::Amax, distinct);
  t[OpId::Sum].push_back({{cond({2, 3})}, attrs({1}), "bool"});
  t[OpId::Sum].push_back({{cond({})}, attrs({}), "0-d bool"});
  t[OpId::Sum].push_back({{ints({2, 3})}, attrs({-1}), "int64"});
  t[OpId::Amax].push_back({{ints({2, 3})}, attrs({0}, true), "int64"});

  t[OpId::Matmul] = {{{real({3, 4}), real({4, 2})}, {}, "[3,4] [4,2]"},
                     {{real({2, 3, 4}), real({4, 5})}, {}, "[2,3,4] [4,5]"},
                     {{real({3, 4}), real({2, 4, 2})}, {}, "[3,4] [2,4,2]"},
                     {{real({1, 3, 4}), T(real({2, 4, 2}))}, {}, "broadcast batch, transposed"},
                     {{T(real({3, 4})), S(real({4, 2}))}, {}, "transposed, strided"},
                     {{ints({2, 3}), ints({3, 2})}, {}, "int64"}};

  // LAPACK ops: A [..., n, n] batched, B broadcast against it. Cholesky and eigh read one triangle
  // of a symmetric input and differentiate as functions of the symmetric matrix, which finite
  // differences of a single entry do not see: their FD checks are in LinalgTest (along symmetric
  // directions); every other check runs here.
  t[OpId::LinalgSolve] = {{{matrix({3, 3}), real({3, 2})}, {}, "[3,3] [3,2]"},
                          {{matrix({2, 3, 3}), real({3, 1})}, {}, "batched A, broadcast B"},
                          {{T(matrix({3, 3})), real({2, 1, 3, 2})}, {}, "transposed A, broadcast batch"},
                          {{f32(matrix({2, 2})), f32(real({2, 3}))}, {}, "float32"},
                          {{matrix({0, 0}), real({0, 2})}, {}, "empty matrix"}};
  t[OpId::SolveTriangular] = {{{matrix({3, 3}), real({3, 2})}, attrs({}, false), "lower"},
                              {{matrix({2, 3, 3}), real({3, 2})}, attrs({}, true), "upper, batched A"},
                              {{T(matrix({3, 3})), S(real({3, 2}))}, attrs({}, false), "transposed A, strided B"}};
  t[OpId::Slogdet] = {{{matrix({3, 3})}, {}, "[3,3]"},
                      {{matrix({2, 2, 2})}, {}, "batched"},
                      {{T(matrix({4, 4}))}, {}, "transposed"},
                      {{f32(matrix({3, 3}))}, {}, "float32"}};
  // det: its derivative is the adjugate, det(A) A^-1 where invertible, from the SVD where not
  t[OpId::Det] = {{{matrix({3, 3})}, {}, "[3,3]"},
                  {{matrix({2, 2, 2})}, {}, "batched"},
                  {{T(matrix({4, 4}))}, {}, "transposed"},
                  {{f32(matrix({3, 3}))}, {}, "float32"},
                  {{singular({3, 3})}, {}, "rank 2 (the adjugate from the SVD)"},
                  {{singular({2, 4, 4})}, {}, "batched rank 3"}};
  t[OpId::Cholesky] = {{{spd({3, 3})}, {}, "[3,3] (one triangle read)", false},
                       {{spd({2, 3, 3})}, {}, "batched (one triangle read)", false},
                       {{f32(spd({2, 2}))}, {}, "float32 (one triangle read)", false}};
  t[OpId::Eigh] = {{{sym_gapped({3, 3})}, {}, "[3,3] (one triangle read)", false},
                   {{sym_gapped({2, 3, 3})}, {}, "batched (one triangle read)", false},
                   {{f32(sym_gapped({2, 2}))}, {}, "float32 (one triangle read)", false}};
  // QR and SVD of full-rank matrices with distinct singular values (random ones are): square,
  // tall and wide. The SVD's full U / Vh of a non-square matrix has no derivative: not sampled.
  t[OpId::Qr] = {{{real({3, 3})}, {}, "[3,3]"},
                 {{real({4, 2})}, {}, "tall [4,2]"},
                 {{T(real({2, 3, 4}))}, {}, "wide, batched, transposed"},
                 {{f32(real({3, 2}))}, {}, "float32"}};
  t[OpId::Svd] = {{{real({3, 3})}, {}, "[3,3]"},
                  {{real({4, 2})}, {}, "tall [4,2]"},
                  {{T(real({2, 2, 3}))}, {}, "wide, batched, transposed"},
                  {{f32(real({3, 2}))}, {}, "float32"}};
  // Attrs: atol 0, rtol's bits in ints[0] (0.0: keep every nonzero singular value)
  t[OpId::Pinv] = {{{real({3, 3})}, attrs({0}), "[3,3]"},
                   {{real({4, 2})}, attrs({0}), "tall [4,2]"},
                   {{T(real({2, 2, 3}))}, attrs({0}), "wide, batched, transposed"},
                   {{f32(real({3, 2}))}, attrs({0}), "float32"}};

  // x [..., k], w [n, k], b [n]: the fused kernel (BLAS-readable rows) and its composite fallback.
  t[OpId::Linear] = {{{real({4}), real({3, 4}), real({3})}, {}, "1-D x, bias"},
                     {{real({2, 4}), real({3, 4})}, {}, "[2,4] no bias"},
                     {{real({2, 2, 4}), T(real({3, 4})), real({3})}, {}, "3-D x, transposed weight"},
                     {{T(real({2, 4})), real({3, 4}), S(real({3}))}, {}, "transposed x, strided bias"},
                     {{S(real({4})), real({1, 4}), real({1})}, {}, "strided 1-D x, one output"},
                     {{real({3, 4}), S(real({2, 4})), real({2})}, {}, "strided weight (packed)"},
                     {{real({0, 4}), real({3, 4}), real({3})}, {}, "empty batch"},
                     {{real({2, 0}), real({3, 0}), real({3})}, {}, "empty inner dim"}};
  for (OpId op : {OpId::TanhBackward, OpId::SigmoidBackward, OpId::ReluBackward})
    t[op] = {{{real({2, 3}), real({2, 3})}, {}, "[2,3] [2,3]"},
             {{T(real({3, 4})), real({3, 4})}, {}, "transposed g"},
             {{S(real({5})), S(real({5}))}, {}, "strided"},
             {{real({2, 3}), real({3})}, {}, "broadcast y"},
             {{real({}), real({})}, {}, "0-d"}};

  t[OpId::Reshape] = {{{real({2, 3, 4})}, attrs({6, 4}), "[6,4]"},
                      {{real({2, 3, 4})}, attrs({4, -1, 2}), "[4,-1,2]"},
                      {{T(real({3, 4}))}, attrs({-1}), "transposed (copies)"},
                      {{real({2, 3, 4})}, attrs({2, 12}, true), "view"},
                      {{real({})}, attrs({1, 1}), "0-d -> [1,1]"},
                      {{real({1})}, attrs({}), "[1] -> 0-d"}};
  t[OpId::Permute] = {{{real({2, 3, 4})}, attrs({2, 0, 1}), "[2,0,1]"},
                      {{real({2, 3, 4})}, attrs({-1, -3, -2}), "negative dims"},
                      {{T(real({3, 4}))}, attrs({1, 0}), "transposed"},
                      {{real({})}, attrs({}), "0-d"}};
  t[OpId::Expand] = {{{real({3, 1})}, attrs({2, 3, 4}), "[3,1] -> [2,3,4]"},
                     {{real({1, 3})}, attrs({4, -1}), "-1 keeps a size"},
                     {{real({})}, attrs({2, 3}), "0-d"},
                     {{T(real({3, 4}))}, attrs({2, -1, -1}), "transposed"}};
  t[OpId::Slice] = {{{real({5, 4})}, attrs({0, 1, 4, 2}), "dim 0 step 2"},
                    {{real({5, 4})}, attrs({-1, -3, 10, 1}), "negative dim/start, clamped end"},
                    {{T(real({4, 5}))}, attrs({1, 0, 5, 3}), "transposed, step 3"},
                    {{S(real({6}))}, attrs({0, 1, -1, 2}), "strided, negative end"}};
  t[OpId::Select] = {{{real({3, 4})}, attrs({0, 1}), "dim 0"},
                     {{real({3, 4})}, attrs({-1, -2}), "negative dim and index"},
                     {{T(real({3, 4}))}, attrs({1, 3}), "transposed"},
                     {{real({4})}, attrs({0, 2}), "-> 0-d"}};
  t[OpId::Squeeze] = {{{real({2, 1, 3, 1})}, attrs({}), "all"},
                      {{real({2, 1, 3, 1})}, attrs({-1}), "dim -1"},
                      {{real({2, 1, 3, 1})}, attrs({0, 1}), "dims 0 (not 1) and 1"},
                      {{real({})}, attrs({}), "0-d"}};
  t[OpId::Unsqueeze] = {{{real({2, 3})}, attrs({0}), "dim 0"},
                        {{real({2, 3})}, attrs({-1}), "dim -1"},
                        {{T(real({2, 3}))}, attrs({1}), "transposed, dim 1"},
                        {{real({})}, attrs({0}), "0-d"}};
  t[OpId::Contiguous] = {{{T(real({3, 4}))}, {}, "transposed"},
                         {{real({2, 3})}, {}, "already contiguous"},
                         {{S(real({5}))}, {}, "strided"}};
  t[OpId::Detach] = {{{real({2, 3})}, {}, "[2,3]"}, {{T(real({3, 4}))}, {}, "transposed"}, {{real({})}, {}, "0-d"}};
  t[OpId::IndexSelect] = {{{real({4, 3}), index({5}, 4)}, attrs({0}), "dim 0, repeats"},
                          {{real({3, 4}), index({2}, 4)}, attrs({-1}), "dim -1"},
                          {{real({3, 4}), index({}, 4)}, attrs({1}), "0-d index"},
                          {{T(real({3, 4})), index({3}, 3)}, attrs({0}), "transposed"}};
  t[OpId::Cat] = {{{real({2, 3}), real({1, 3})}, attrs({0}), "dim 0"},
                  {{real({2, 3}), real({2, 1}), T(real({2, 2}))}, attrs({-1}), "three, dim -1"},
                  {{S(real({3})), real({2})}, attrs({0}), "1-D strided"}};
  t[OpId::Stack] = {{{real({2, 3}), real({2, 3})}, attrs({0}), "dim 0"},
                    {{real({2, 3}), T(real({2, 3})), real({2, 3})}, attrs({-1}), "three, dim -1, a transposed part"},
                    {{S(real({3})), real({3})}, attrs({1}), "1-D strided"},
                    {{real({}), real({})}, attrs({0}), "0-d parts"}};
  t[OpId::SliceBackward] = {{{real({3, 4})}, attrs({0, 1, 6, 2, 6}), "dim 0 step 2"},
                            {{real({2, 3})}, attrs({-1, -3, 10, 1, 5}), "negative dim/start, clamped end"},
                            {{T(real({3, 2}))}, attrs({1, 0, 5, 3, 5}), "transposed, step 3"}};
  t[OpId::IndexAdd] = {{{real({5, 3}), index({5}, 4)}, attrs({0, 4}), "dim 0, repeats"},
                       {{real({3, 2}), index({2}, 5)}, attrs({-1, 5}), "dim -1"},
                       {{real({3, 1}), index({}, 4)}, attrs({1, 4}), "0-d index"},
                       {{T(real({3, 4})), index({3}, 2)}, attrs({0, 2}), "transposed"}};
  // gather / scatter / scatter_add: attrs {dim}. scatter's samples have no repeated position along
  // dim (its derivative in src is exact only then); scatter_add's repeats add up.
  t[OpId::Gather] = {{{real({3, 4}), index({2, 4}, 3)}, attrs({0}), "dim 0, repeats"},
                     {{real({3, 4}), index({3, 2}, 4)}, attrs({-1}), "dim -1, index narrower"},
                     {{T(real({4, 3})), index({2, 2}, 4)}, attrs({0}), "transposed, index smaller in dim 1"},
                     {{real({2, 3, 4}), index({2, 5, 3}, 3)}, attrs({1}), "3-D, index longer along dim"},
                     {{S(real({5})), index({}, 5)}, attrs({0}), "strided 1-D, 0-d index"},
                     {{real({}), index({}, 1)}, attrs({0}), "0-d"},
                     {{f32(real({3, 4})), index({2, 4}, 3)}, attrs({0}), "f32"},
                     {{ints({3, 4}), index({2, 4}, 3)}, attrs({1}), "int64"},
                     {{real({3, 4}), index({0, 4}, 3)}, attrs({0}), "empty index"}};
  t[OpId::ScatterAdd] = {{{real({3, 4}), index({5, 4}, 3), real({5, 4})}, attrs({0}), "dim 0, repeats add up"},
                         {{real({3, 4}), index({2, 3}, 4), real({2, 5})}, attrs({-1}), "dim -1, index smaller than src"},
                         {{T(real({4, 3})), index({2, 3}, 4), T(real({3, 3}))}, attrs({0}), "transposed self and src"},
                         {{real({5}), index({}, 5), real({})}, attrs({0}), "0-d index and src"},
                         {{real({}), index({}, 1), real({})}, attrs({0}), "0-d"},
                         {{f32(real({3, 4})), index({2, 4}, 3), f32(real({2, 4}))}, attrs({0}), "f32"},
                         {{ints({3, 4}), index({5, 4}, 3), ints({5, 4})}, attrs({0}), "int64"},
                         {{real({3, 4}), index({0, 4}, 3), real({0, 4})}, attrs({0}), "empty index"}};
  t[OpId::Scatter] = {{{real({4, 3}), unique_index({2, 3}, 4, 0), real({2, 3})}, attrs({0}), "dim 0"},
                      {{real({3, 5}), unique_index({3, 2}, 5, 1), real({4, 3})}, attrs({-1}), "dim -1, index smaller than src"},
                      {{T(real({4, 3})), unique_index({3, 2}, 4, 0), S(real({3, 3}))}, attrs({0}), "transposed self, strided src"},
                      {{real({2, 3, 4}), unique_index({2, 2, 4}, 3, 1), real({2, 2, 4})}, attrs({1}), "3-D"},
                      {{real({5}), index({}, 5), real({})}, attrs({0}), "0-d index and src"},
                      {{real({}), index({}, 1), real({})}, attrs({0}), "0-d"},
                      {{f32(real({4, 3})), unique_index({2, 3}, 4, 0), f32(real({2, 3}))}, attrs({0}), "f32"},
                      {{ints({3, 4}), index({5, 4}, 3), ints({5, 4})}, attrs({0}), "int64, repeats (one write wins)"},
                      {{real({3, 4}), index({0, 4}, 3), real({0, 4})}, attrs({0}), "empty index"}};
  // Empty tensors: zero-size dims through every transform.
  t[OpId::Sum].push_back({{real({0, 3})}, attrs({0}), "empty [0,3] dim 0"});
  t[OpId::Matmul].push_back({{real({2, 0}), real({0, 3})}, {}, "empty inner dim"});
  t[OpId::Cat].push_back({{real({2, 3}), real({0, 3})}, attrs({0}), "with an empty input"});
  t[OpId::Slice].push_back({{real({4, 3})}, attrs({0, 2, 2, 1}), "empty result"});
  t[OpId::IndexSelect].push_back({{real({4, 3}), index({0}, 4)}, attrs({0}), "empty index"});
  t[OpId::Mul].push_back({{real({0, 3}), real({3})}, {}, "empty broadcast"});
  // More zero-size samples: every kind of rule (and jacfwd/jacrev, whose bases then have no rows
  // or examples with no elements) on inputs or outputs with no elements.
  t[OpId::Exp].push_back({{real({0, 3})}, {}, "empty [0,3]"});
  t[OpId::Tanh].push_back({{T(real({3, 0}))}, {}, "empty transposed [3,0]"});
  t[OpId::Div].push_back({{real({2, 0}), nonzero({1})}, {}, "empty [2,0] / [1]"});
  t[OpId::Pow].push_back({{positive({0}), real({})}, {}, "empty base, 0-d exponent"});
  t[OpId::Lt].push_back({{coarse({0, 2}), coarse({2})}, {}, "empty"});
  t[OpId::Where].push_back({{cond({0, 1}), real({3}), real({0, 3})}, {}, "empty broadcast"});
  t[OpId::Cast].push_back({{real({0, 3})}, to_dtype(DType::Float32), "empty f64->f32"});
  t[OpId::Sum].push_back({{real({2, 0})}, attrs({1}), "over the empty dim: zeros [2]"});
  t[OpId::Sum].push_back({{real({2, 0})}, attrs({}), "all of an empty tensor: 0-d 0"});
  t[OpId::Sum].push_back({{real({2, 0, 3})}, attrs({1}, true), "empty dim 1 keepdim"});
  t[OpId::Amax].push_back({{distinct({0, 3})}, attrs({1}), "empty [0,3] over dim 1"});
  t[OpId::Matmul].push_back({{real({0, 4}), real({4, 2})}, {}, "no rows"});
  t[OpId::Matmul].push_back({{real({3, 4}), real({4, 0})}, {}, "no columns"});
  t[OpId::TanhBackward].push_back({{real({0, 3}), real({0, 3})}, {}, "empty"});
  t[OpId::ReluBackward].push_back({{real({0, 3}), real({0, 3})}, {}, "empty"});
  t[OpId::Reshape].push_back({{real({0, 3})}, attrs({3, 0}), "empty [0,3] -> [3,0]"});
  t[OpId::Reshape].push_back({{real({2, 0, 3})}, attrs({-1, 3}), "empty, -1 inferred as 0"});
  t[OpId::Permute].push_back({{real({0, 3})}, attrs({1, 0}), "empty"});
  t[OpId::Expand].push_back({{real({0, 1})}, attrs({0, 4}), "empty [0,1] -> [0,4]"});
  t[OpId::Expand].push_back({{real({1, 3})}, attrs({0, 3}), "size 1 -> 0"});
  t[OpId::Slice].push_back({{real({0, 3})}, attrs({1, 1, 3, 1}), "of an empty tensor"});
  t[OpId::Select].push_back({{real({0, 3})}, attrs({1, 2}), "empty [0,3] -> [0]"});
  t[OpId::Squeeze].push_back({{real({0, 1})}, attrs({}), "empty [0,1]"});
  t[OpId::Unsqueeze].push_back({{real({0})}, attrs({0}), "empty [0]"});
  t[OpId::Contiguous].push_back({{T(real({0, 3}))}, {}, "empty transposed"});
  t[OpId::IndexSelect].push_back({{real({0, 3}), index({2}, 3)}, attrs({1}), "of an empty tensor"});
  t[OpId::Cat].push_back({{real({0, 3}), real({0, 2})}, attrs({1}), "empty parts"});
  t[OpId::Stack].push_back({{real({0, 2}), real({0, 2})}, attrs({1}), "empty parts"});
  t[OpId::SliceBackward].push_back({{real({0, 3})}, attrs({1, 0, 5, 2, 5}), "empty gradient"});
  t[OpId::IndexAdd].push_back({{real({0, 3}), index({0}, 4)}, attrs({0, 4}), "no rows added: zeros [4,3]"});
  // Convolution: attrs {sh, sw, ph, pw, dh, dw, groups} (+ the input's {h, w} for the input
  // gradient, the kernel's {kh, kw} for the weight gradient). The second geometry of each has
  // strides that leave input rows unused, padding, dilation and groups.
  t[OpId::Conv2d] = {{{real({2, 2, 5, 5}), real({3, 2, 3, 3})}, attrs({1, 1, 0, 0, 1, 1, 1}), "3x3"},
                     {{real({1, 4, 6, 5}), T(real({4, 2, 2, 3}))}, attrs({2, 1, 1, 0, 1, 2, 2}), "stride 2x1, pad, dilation, groups 2"},
                     {{T(real({2, 3, 4, 4})), real({2, 3, 1, 1})}, attrs({1, 1, 0, 0, 1, 1, 1}), "1x1, transposed x"},
                     {{f32(real({1, 2, 4, 4})), f32(real({2, 2, 3, 3}))}, attrs({1, 1, 1, 1, 1, 1, 1}), "f32, pad 1"},
                     {{real({0, 2, 4, 4}), real({3, 2, 3, 3})}, attrs({1, 1, 0, 0, 1, 1, 1}), "no images"},
                     {{real({1, 2, 4, 5}), real({2, 2, 3, 3})}, attrs({1, 1, 1, 1, 1, 1, 1}), "3x3 pad 1: output as wide as the input"}};
  // conv2d_bias (x, w, b): the vmap checks batch every subset of the three (b alone, w and b: the
  // per-example rule; x alone: the folded call with the bias).
  t[OpId::Conv2dBias] = {{{real({2, 2, 5, 5}), real({3, 2, 3, 3}), real({3})}, attrs({1, 1, 0, 0, 1, 1, 1}), "3x3"},
                         {{real({1, 4, 6, 5}), real({4, 2, 2, 3}), real({4})}, attrs({2, 1, 1, 0, 1, 2, 2}), "stride 2x1, pad, dilation, groups 2"},
                         {{f32(real({1, 2, 4, 4})), f32(real({2, 2, 3, 3})), f32(real({2}))}, attrs({1, 1, 1, 1, 1, 1, 1}), "f32, pad 1"},
                         {{real({0, 2, 4, 4}), real({3, 2, 3, 3}), real({3})}, attrs({1, 1, 0, 0, 1, 1, 1}), "no images"},
                         {{real({1, 4, 4, 5}), real({5, 4, 3, 3}), real({5})}, attrs({1, 1, 1, 1, 1, 1, 1}), "3x3 pad 1: as wide as the input"}};
  t[OpId::Conv2dInputGrad] = {{{real({2, 3, 3, 3}), real({3, 2, 3, 3})}, attrs({1, 1, 0, 0, 1, 1, 1, 5, 5}), "3x3"},
                              {{real({1, 4, 4, 1}), real({4, 2, 2, 3})}, attrs({2, 1, 1, 0, 1, 2, 2, 6, 5}), "stride 2x1, pad, dilation, groups 2"},
                              {{S(real({2, 2, 4, 4})), real({2, 3, 1, 1})}, attrs({1, 1, 0, 0, 1, 1, 1, 4, 4}), "1x1, strided g"},
                              {{real({1, 2, 4, 5}), real({2, 2, 3, 3})}, attrs({1, 1, 1, 1, 1, 1, 1, 4, 5}), "3x3 pad 1"}};
  t[OpId::Conv2dWeightGrad] = {{{real({2, 2, 5, 5}), real({2, 3, 3, 3})}, attrs({1, 1, 0, 0, 1, 1, 1, 3, 3}), "3x3"},
                               {{real({1, 4, 6, 5}), real({1, 4, 4, 1})}, attrs({2, 1, 1, 0, 1, 2, 2, 2, 3}), "stride 2x1, pad, dilation, groups 2"},
                               {{real({2, 3, 4, 4}), T(real({2, 2, 4, 4}))}, attrs({1, 1, 0, 0, 1, 1, 1, 1, 1}), "1x1, transposed g"},
                               {{real({1, 2, 4, 5}), real({1, 2, 4, 5})}, attrs({1, 1, 1, 1, 1, 1, 1, 3, 3}), "3x3 pad 1"}};
  // Max pooling (v, x): attrs {kh, kw, sh, sw}; x distinct (no ties: the derivative in x is 0).
  t[OpId::MaxPool2d] = {{{real({2, 4, 4}), distinct({2, 4, 4})}, attrs({2, 2, 2, 2}), "2x2"},
                        {{real({1, 2, 5, 5}), distinct({1, 2, 5, 5})}, attrs({3, 3, 2, 2}), "3x3 stride 2 (overlapping)"},
                        {{T(real({3, 5})), distinct({3, 5})}, attrs({2, 3, 1, 2}), "2x3 stride 1x2, transposed v"},
                        {{f32(real({2, 4, 4})), f32(distinct({2, 4, 4}))}, attrs({2, 2, 2, 2}), "f32"},
                        {{real({2, 4, 4}), coarse({2, 4, 4})}, attrs({2, 2, 2, 2}), "ties", false}};
  t[OpId::MaxPool2dBackward] = {{{real({2, 2, 2}), distinct({2, 4, 4})}, attrs({2, 2, 2, 2}), "2x2"},
                                {{real({1, 2, 2, 2}), distinct({1, 2, 5, 5})}, attrs({3, 3, 2, 2}), "3x3 stride 2 (overlapping)"},
                                {{real({2, 2}), T(distinct({3, 5}))}, attrs({2, 3, 1, 2}), "2x3 stride 1x2, transposed x"},
                                {{real({2, 2, 2}), coarse({2, 4, 4})}, attrs({2, 2, 2, 2}), "ties", false}};
  // Scans and the product along one dim (ops/scan.cpp): attrs {dim}, flag = reverse (cumsum,
  // linear_scan) or keepdim (prod). Zeros in products: one per line (OneZero, lines of 4) and
  // several (WithZeros), where the gradient must not divide by x.
  auto along = [&](OpId op, Input (*dom)(Dims)) {
    t[op] = {{{dom({2, 3, 4})}, attrs({1}), "dim 1"},
             {{dom({2, 3, 4})}, attrs({-1}), "dim -1"},
             {{T(dom({3, 4}))}, attrs({0}), "transposed, dim 0"},
             {{S(dom({5}))}, attrs({0}), "strided [5]"},
             {{f32(dom({2, 3}))}, attrs({1}), "float32"},
             {{dom({})}, attrs({-1}), "0-d"},
             {{dom({0, 3})}, attrs({0}), "empty dim"},
             {{dom({2, 0})}, attrs({0}), "empty lines"}};
  };
  along(OpId::Cumsum, real), along(OpId::Cumprod, real), along(OpId::Prod, real), along(OpId::Logcumsumexp, real);
  t[OpId::Cumsum].push_back({{real({2, 3, 4})}, attrs({1}, true), "dim 1 reversed"});
  t[OpId::Cumsum].push_back({{ints({2, 3})}, attrs({1}), "int64"});
  for (OpId op : {OpId::Cumprod, OpId::Prod}) {
    t[op].push_back({{{{3, 4}, Domain::OneZero}}, attrs({1}), "one zero per line"});
    t[op].push_back({{{{2, 4}, Domain::WithZeros}}, attrs({-1}), "two zeros per line"});
    t[op].push_back({{T(Input{{4, 3}, Domain::WithZeros})}, attrs({0}), "zeros, transposed, dim 0"});
    t[op].push_back({{ints({2, 3})}, attrs({1}), "int64"});
  }
  t[OpId::Prod].push_back({{real({2, 3, 4})}, attrs({1}, true), "dim 1 keepdim"});
  t[OpId::Prod].push_back({{{{2, 19}, Domain::OneZero}}, attrs({1}), "lines of 19 (partial products), zeros"});
  t[OpId::Prod].push_back({{real({})}, attrs({0}, true), "0-d keepdim"});
  t[OpId::Prod].push_back({{real({2, 0})}, attrs({1}, true), "over an empty dim: ones"});
  t[OpId::Logcumsumexp].push_back({{{{3, 4}, Domain::Large}}, attrs({1}), "large entries"});
  t[OpId::LinearScan] = {{{real({2, 4}), real({2, 4})}, attrs({1}), "dim 1"},
                         {{real({2, 4}), real({2, 4})}, attrs({1}, true), "dim 1 reversed"},
                         {{T(real({3, 4})), real({3, 4})}, attrs({0}), "transposed a, dim 0"},
                         {{real({4, 3}), S(real({4, 3}))}, attrs({0}, true), "strided b, dim 0 reversed"},
                         {{{{2, 4}, Domain::WithZeros}, real({2, 4})}, attrs({-1}), "zero factors"},
                         {{f32(real({2, 3})), f32(real({2, 3}))}, attrs({1}), "float32"},
                         {{real({}), real({})}, attrs({0}), "0-d"},
                         {{real({2, 0}), real({2, 0})}, attrs({1}), "empty"},
                         {{ints({2, 3}), ints({2, 3})}, attrs({1}), "int64"}};
  // Positions (ops/sort.cpp): argmax / argmin attrs {dim}, flag = keepdim; argsort {dim, k}, flag =
  // descending. Integer results: the vmap checks.
  for (OpId op : {OpId::Argmax, OpId::Argmin})
    t[op] = {{{distinct({2, 3, 4})}, attrs({1}), "dim 1"},
             {{distinct({2, 3, 4})}, attrs({-1}, true), "dim -1 keepdim"},
             {{T(distinct({3, 4}))}, attrs({0}), "transposed"},
             {{coarse({3, 5})}, attrs({1}), "ties: the first"},
             {{ints({2, 3})}, attrs({0}), "int64"},
             {{f32(distinct({4}))}, attrs({0}), "float32"},
             {{real({})}, attrs({0}), "0-d"},
             {{real({0, 3})}, attrs({1}), "no lines"}};
  t[OpId::Argmax].push_back({{distinct({2, 19})}, attrs({-1}), "lines of 19"});
  t[OpId::Argmin].push_back({{coarse({3, 9})}, attrs({-1}), "ties in lines of 9"});
  t[OpId::Argsort] = {{{distinct({2, 5})}, attrs({1, 5}), "sort dim 1"},
                      {{distinct({2, 5})}, attrs({-1, 2}, true), "top 2, descending"},
                      {{coarse({3, 4})}, attrs({1, 4}), "ties: stable"},
                      {{coarse({3, 4})}, attrs({0, 2}, true), "ties, descending, dim 0"},
                      {{T(distinct({3, 4}))}, attrs({0, 3}), "transposed"},
                      {{ints({2, 3})}, attrs({1, 3}, true), "int64"},
                      {{f32(distinct({4}))}, attrs({0, 4}), "float32"},
                      {{real({})}, attrs({0, 1}), "0-d"},
                      {{real({2, 3})}, attrs({1, 0}), "k = 0"},
                      {{real({0, 3})}, attrs({1, 2}), "no lines"}};
  return t;
}

// ---------------------------------------------------------------- building tensors

// The linalg domains, matrix by matrix over the last two dims of in.shape.
void draw_matrices(const Input& in, Rng& r, std::vector<double>& v) {
  const int64_t n = in.shape.n >= 2 ? in.shape[in.shape.n - 1] : 0;
  if (n == 0) return;
  std::vector<double> m(size_t(n * n));
  for (size_t e = 0; e < v.size() / size_t(n * n); e++) {
    double* a = v.data() + e * size_t(n * n);
    for (auto& x : m) x = r.uniform(-1, 1);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < n; j++) {
        double& x = a[i * n + j];
        if (in.dom == Domain::Matrix || in.dom == Domain::Singular) {
          x = m[size_t(i * n + j)] + (i == j ? 3 : 0);
        } else if (in.dom == Domain::Spd) {
          x = i == j ? 1 : 0;
          for (int64_t k = 0; k < n; k++) x += m[size_t(i * n + k)] * m[size_t(j * n + k)] / double(n);
        } else {
          x = 0.2 * m[size_t(std::min(i, j) * n + std::max(i, j))] + (i == j ? 1.5 * double(i) : 0);
        }
      }
    if (in.dom == Domain::Singular)
      for (int64_t i = 0; i < n; i++) a[i * n + n - 1] = 0;
  }
}

std::vector<double> draw(const Input& in, Rng& r) {
  const int64_t n = numel_of(in.shape);
  std::vector<double> v(size_t(n), 0.0);
  for (int64_t i = 0; i < n; i++) {
    double& x = v[size_t(i)];
    switch (in.dom) {
      case Domain::Real: x = r.uniform(-2, 2); break;
      case Domain::Unit: x = r.uniform(-0.9, 0.9); break;
      case Domain::Positive: x = r.uniform(0.5, 2); break;
      case Domain::NonZero: x = r.uniform(0.25, 2) * (r.next() & 1 ? 1 : -1); break;
      case Domain::WithZeros: x = i % 2 ? r.uniform(0.5, 2) : 0.0; break;
      case Domain::OneZero: x = i % 4 == 1 ? 0.0 : r.uniform(0.5, 2) * (r.next() & 1 ? 1 : -1); break;
      case Domain::Large: x = r.uniform(-1000, 1000); break;
      case Domain::TwoThree: x = double(r.integer(2, 4)); break;
      case Domain::Distinct: x = 0.5 * double(i) + r.uniform(-0.1, 0.1); break;
      case Domain::Coarse: x = double(r.integer(-1, 2)); break;
      case Domain::Ints: x = double(r.integer(-3, 4)); break;
      case Domain::Index: x = double(r.integer(0, in.hi)); break;
      case Domain::UniqueIndex: break;  // below
      case Domain::Bool: x = double(r.next() & 1); break;
      case Domain::Matrix: case Domain::Singular: case Domain::Spd: case Domain::SymGapped: break;  // below
    }
  }
  if (in.dom == Domain::Matrix || in.dom == Domain::Singular || in.dom == Domain::Spd || in.dom == Domain::SymGapped)
    draw_matrices(in, r, v);
  if (in.dom == Domain::UniqueIndex) {  // each line along `along`: the start of a shuffle of [0, hi)
    const int64_t len = in.shape[in.along];
    int64_t stride = 1;
    for (int d = in.along + 1; d < in.shape.n; d++) stride *= in.shape[d];
    for (int64_t i = 0; i < n; i++) {
      if ((i / stride) % len != 0) continue;  // i starts a line
      std::vector<double> perm;
      for (int64_t k = 0; k < in.hi; k++) perm.push_back(double(k));
      for (int64_t k = in.hi - 1; k > 0; k--) std::swap(perm[size_t(k)], perm[size_t(r.integer(0, k + 1))]);
      for (int64_t k = 0; k < len; k++) v[size_t(i + k * stride)] = perm[size_t(k)];
    }
  }
  if (in.dom == Domain::Distinct)  // shuffle so that the maximum sits anywhere
    for (int64_t i = n - 1; i > 0; i--) std::swap(v[size_t(i)], v[size_t(r.integer(0, i + 1))]);
  return v;
}

Tensor from_values(const std::vector<double>& v, const Dims& shape, DType dt) {
  switch (dt) {
    case DType::Float64: return O::from_data(v.data(), shape, dt);
    case DType::Float32: { std::vector<float> f(v.begin(), v.end()); return O::from_data(f.data(), shape, dt); }
    case DType::Int64: { std::vector<int64_t> i(v.begin(), v.end()); return O::from_data(i.data(), shape, dt); }
    case DType::Bool: { std::vector<uint8_t> b(v.begin(), v.end()); return O::from_data(b.data(), shape, dt); }
  }
  return Tensor();
}

DType dtype_of_name(const char* n) {
  for (int d = 0; d < kNumDTypes; d++)
    if (std::strcmp(n, dtype_name(DType(d))) == 0) return DType(d);
  throw Error(ErrorKind::Internal, "sweep", std::string("no dtype named ") + n);
}

// The input with values v (logical order) in its layout.
Tensor build(const Input& in, const std::vector<double>& v) {
  Tensor t = from_values(v, in.shape, in.dtype);
  if (in.layout == Layout::Transposed && t.ndim() >= 2) return O::transpose(O::contiguous(O::transpose(t, -1, -2)), -1, -2);
  if (in.layout == Layout::Strided && t.ndim() >= 1) return O::select(O::stack({t, O::zeros_like(t)}, -1), -1, 0);
  return t;
}

std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(O::to(t, DType::Float64));
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
  return s;
}

// A point: the values of every input of a sample.
using Point = std::vector<std::vector<double>>;

Args build_all(const Sample& s, const Point& p) {
  Args xs;
  for (size_t i = 0; i < s.ins.size(); i++) xs.push_back(build(s.ins[i], p[i]));
  return xs;
}

// A random tensor shaped like t (projection and tangent directions).
Tensor random_like(const Tensor& t, Rng& r) {
  Input in{t.shape()};
  in.dtype = t.dtype();
  return build(in, draw(in, r));
}

Tensor basis(int64_t n, const Dims& shape, DType dt) {
  Dims s = shape;
  s.insert(0, n);
  return O::reshape(O::eye(n, n, dt), s);
}

// ---------------------------------------------------------------- transform drivers

// A level that is popped even when the traced function throws, so that one failing sample does
// not leave the level stack broken for the rest of the sweep.
struct LevelScope {
  Ref<Level> level;
  bool live = true;
  explicit LevelScope(LevelKind k, int64_t batch = 0) : level(push_level(k, batch)) {}
  Level* get() const { return level.get(); }
  void pop() { live = false; pop_level(level.get(), level_name(level->kind)); }
  ~LevelScope() {
    if (!live) return;
    try { pop_level(level.get(), "sweep"); } catch (...) {}
  }
};

// Cotangents of xs[diff[k]] for the cotangent `ct` of f's output (the gradient of sum(ct * f)).
Args vjp(const Fn& f, const Args& xs, const std::vector<int>& diff, const Tensor& ct) {
  LevelScope l(LevelKind::Grad);
  Args in = xs, leaves;
  for (int i : diff) leaves.push_back(in[size_t(i)] = grad_wrap(l.get(), xs[size_t(i)]));
  Tensor y = f(in);
  l.pop();
  return grad_backward(l.get(), {y}, {ct}, leaves);
}

// Output tangents of f for tangents ts[k] of xs[diff[k]].
Args jvp(const MultiFn& f, const Args& xs, const std::vector<int>& diff, const Args& ts) {
  LevelScope l(LevelKind::Jvp);
  Args in = xs;
  for (size_t k = 0; k < diff.size(); k++) in[size_t(diff[k])] = jvp_wrap(l.get(), xs[size_t(diff[k])], ts[k]);
  Args ys = f(in), tangents;
  for (const Tensor& y : ys) {
    Tensor p, t;
    jvp_unwrap(l.get(), y, &p, &t);
    tangents.push_back(t);
  }
  l.pop();
  return tangents;
}

// vmap of f with xs[i] mapped over dim in_dims[i] (-1: unmapped); the batch lands in dim 0.
Tensor vmap(const Fn& f, const Args& xs, const std::vector<int>& in_dims, int64_t batch) {
  LevelScope l(LevelKind::Batch, batch);
  Args in = xs;
  for (size_t i = 0; i < xs.size(); i++)
    if (in_dims[i] >= 0) in[i] = batch_wrap(l.get(), xs[i], in_dims[i]);
  Tensor r = batch_unwrap(l.get(), f(in), 0);
  l.pop();
  return r;
}

// Jacobian of f w.r.t. xs[i], [numel(x_i), out...]: the jvp of every basis tangent at once.
Tensor jacfwd(const Fn& f, const Args& xs, int i) {
  const Tensor& x = xs[size_t(i)];
  MultiFn mf = [&](const Args& a) { return Args{f(a)}; };
  Fn one = [&](const Args& e) { return jvp(mf, xs, {i}, {e[0]})[0]; };
  return vmap(one, {basis(x.numel(), x.shape(), x.dtype())}, {0}, x.numel());
}

// Jacobian of f w.r.t. xs[i], [numel(out), x_i...]: one forward pass, then the backward pass
// vmapped over a basis of cotangents (how jacrev does it: the vjp rules see batched cotangents).
Tensor jacrev(const Fn& f, const Args& xs, int i) {
  LevelScope g(LevelKind::Grad);
  Args in = xs;
  in[size_t(i)] = grad_wrap(g.get(), xs[size_t(i)]);
  Tensor y = f(in);
  g.pop();
  const int64_t m = y.numel();
  Fn back = [&](const Args& ct) { return grad_backward(g.get(), {y}, {ct[0]}, {in[size_t(i)]})[0]; };
  return vmap(back, {basis(m, y.shape(), y.dtype())}, {0}, m);
}

// The same Jacobians through the structured (one-hot) basis jacrev/jacfwd really use: the
// structured batching rules must give exactly what the dense identity gives.
Tensor structured_basis(LevelScope& l, int64_t n, const Dims& shape, DType dt) {
  return O::reshape(batch_basis(l.get(), n, 0, dt), shape);
}

Tensor jacfwd_structured(const Fn& f, const Args& xs, int i) {
  const Tensor& x = xs[size_t(i)];
  MultiFn mf = [&](const Args& a) { return Args{f(a)}; };
  LevelScope l(LevelKind::Batch, x.numel());
  Tensor e = structured_basis(l, x.numel(), x.shape(), x.dtype());
  Tensor r = batch_unwrap(l.get(), jvp(mf, xs, {i}, {e})[0], 0);
  l.pop();
  return r;
}

Tensor jacrev_structured(const Fn& f, const Args& xs, int i) {
  LevelScope g(LevelKind::Grad);
  Args in = xs;
  in[size_t(i)] = grad_wrap(g.get(), xs[size_t(i)]);
  Tensor y = f(in);
  g.pop();
  const int64_t m = y.numel();
  LevelScope l(LevelKind::Batch, m);
  Tensor ct = structured_basis(l, m, y.shape(), y.dtype());
  Tensor r = batch_unwrap(l.get(), grad_backward(g.get(), {y}, {ct}, {in[size_t(i)]})[0], 0);
  l.pop();
  return r;
}

// ---------------------------------------------------------------- comparing and reporting

struct Counts {
  int samples = 0, grad_fd = 0, hess_fd = 0, fwd_rev = 0, dot = 0, jac = 0, vmap = 0, vmap2 = 0, vmap_grad = 0, vmap_jvp = 0, meta = 0;
  std::map<std::string, std::vector<std::string>> skipped;  // reason -> samples
};
Counts g_counts[kNumOps];

// The op or composite under test, the sample, and where its counts go.
struct Ctx {
  OpId op;  // kCount for a composite
  const Sample* s;
  const char* name;
  Counts* n;
};

void fail(const Ctx& c, const char* check, const std::string& what) {
  std::printf("  %s [%s] %s: %s\n", c.name, c.s->note.c_str(), check, what.c_str());
  check::failures()++;
}

// |got - want| <= tol * max(scale, |want|) elementwise; reports the first mismatch.
bool expect_close(const Ctx& c, const char* check, const std::string& where, const std::vector<double>& got,
                  const std::vector<double>& want, double tol, double scale = 1) {
  if (got.size() != want.size()) {
    fail(c, check, where + ": " + std::to_string(got.size()) + " values, expected " + std::to_string(want.size()));
    return false;
  }
  for (size_t j = 0; j < got.size(); j++) {
    double bound = tol * std::max(scale, std::fabs(want[j]));
    if (!(std::fabs(got[j] - want[j]) <= bound)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, ": element %zu is %.17g, expected %.17g (diff %.3g)", j, got[j], want[j], got[j] - want[j]);
      fail(c, check, where + buf);
      return false;
    }
  }
  return true;
}

// Runs one check, turning an exception into a failure of that check (the sweep goes on).
template <class F>
void guarded(const Ctx& c, const char* check, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    fail(c, check, std::string("threw: ") + e.what());
  }
}

// Central differences of the scalar `fun` at p along every element of the inputs in `diff`.
std::vector<std::vector<double>> finite_differences(const std::function<double(const Point&)>& fun, const Point& p,
                                                    const std::vector<int>& diff) {
  std::vector<std::vector<double>> d;
  for (int i : diff) {
    std::vector<double> di;
    for (size_t j = 0; j < p[size_t(i)].size(); j++) {
      Point hi = p, lo = p;
      hi[size_t(i)][j] += kFdStep;
      lo[size_t(i)][j] -= kFdStep;
      di.push_back((fun(hi) - fun(lo)) / (2 * kFdStep));
    }
    d.push_back(di);
  }
  return d;
}

std::string input_name(int i) { return "input " + std::to_string(i); }

// ---------------------------------------------------------------- the checks

// 1-3: first and second order derivatives of the projection sum(u * f) against finite differences
// and each other.
void check_derivatives(const Ctx& c, const Fn& f, const Sample& s, const Point& p, const std::vector<int>& diff, Rng& r) {
  Counts& n = *c.n;
  Args xs = build_all(s, p);
  Tensor u = random_like(f(xs), r);
  Args v, w;
  for (int i : diff) v.push_back(random_like(xs[size_t(i)], r)), w.push_back(random_like(xs[size_t(i)], r));

  // The gradient of sum(u * f) and w . gradient, as functions of the inputs (traceable).
  MultiFn grad = [&](const Args& a) { return vjp(f, a, diff, u); };
  Fn grad_dot_w = [&](const Args& a) {
    Args g = grad(a);
    Tensor acc = O::scalar(0, DType::Float64);
    for (size_t k = 0; k < g.size(); k++) acc = O::add(acc, O::sum(O::mul(g[k], w[k]), Dims{}, false));
    return acc;
  };
  Args g;
  guarded(c, "grad_fd", [&] {
    g = grad(xs);
    if (!s.smooth) return;
    auto fd = finite_differences([&](const Point& q) { return dot(values(u), values(f(build_all(s, q)))); }, p, diff);
    for (size_t k = 0; k < diff.size(); k++) expect_close(c, "grad_fd", input_name(diff[k]), values(g[k]), fd[k], kFdTol);
    n.grad_fd++;
  });
  if (g.size() != diff.size()) return;
  guarded(c, "dot", [&] {
    MultiFn mf = [&](const Args& a) { return Args{f(a)}; };
    double lhs = dot(values(u), values(jvp(mf, xs, diff, v)[0])), rhs = 0, scale = 0;
    for (size_t k = 0; k < diff.size(); k++) {
      rhs += dot(values(g[k]), values(v[k]));
      for (double x : values(g[k])) scale += std::fabs(x);
    }
    expect_close(c, "dot", "<u, jvp(v)> vs <vjp(u), v>", {lhs}, {rhs}, kAdTol, scale);
    n.dot++;
  });
  Args hw;  // reverse over reverse: grad of (grad . w), i.e. the Hessian of sum(u * f) times w
  guarded(c, "hess_fd", [&] {
    hw = vjp(grad_dot_w, xs, diff, O::scalar(1, DType::Float64));
    if (!s.smooth) return;
    auto fd = finite_differences([&](const Point& q) { return values(grad_dot_w(build_all(s, q)))[0]; }, p, diff);
    for (size_t k = 0; k < diff.size(); k++) expect_close(c, "hess_fd", input_name(diff[k]), values(hw[k]), fd[k], kFdTol);
    n.hess_fd++;
  });
  if (hw.size() != diff.size()) return;
  guarded(c, "fwd_rev", [&] {
    Args jw = jvp(grad, xs, diff, w);  // forward over reverse: the same Hessian-vector product
    for (size_t k = 0; k < diff.size(); k++)
      expect_close(c, "fwd_rev", input_name(diff[k]), values(jw[k]), values(hw[k]), kAdTol);
    n.fwd_rev++;
  });
}

// 5: jacfwd == jacrev for each differentiable input (`tol` loosened for float32 outputs).
void check_jacobians(const Ctx& c, const Fn& f, const Args& xs, const std::vector<int>& diff, double tol) {
  for (int i : diff) {
    guarded(c, "jac", [&] {
      Tensor jf = jacfwd(f, xs, i), jr = jacrev(f, xs, i);
      const int64_t ni = xs[size_t(i)].numel(), m = jr.size(0);
      if (jf.size(0) != ni || jf.numel() != ni * m) return fail(c, "jac", "jacfwd has shape " + jf.shape().str());
      // jacfwd is [n_i, out...], jacrev [out, x_i...]: compare jf^T with jr.
      std::vector<double> vf = values(jf), vr = values(jr), ft(vf.size());
      for (int64_t a = 0; a < ni; a++)
        for (int64_t b = 0; b < m; b++) ft[size_t(b * ni + a)] = vf[size_t(a * m + b)];
      expect_close(c, "jac", input_name(i), ft, vr, tol);
      expect_close(c, "jac", input_name(i) + " structured jacfwd", values(jacfwd_structured(f, xs, i)), vf, 1e-12);
      expect_close(c, "jac", input_name(i) + " structured jacrev", values(jacrev_structured(f, xs, i)), vr, 1e-12);
      c.n->jac++;
    });
  }
}

// Batched results against the loop's: same shape and dtype, the same numbers up to rounding.
bool expect_same(const Ctx& c, const char* check, const std::string& where, const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype()) {
    fail(c, check, where + ": got " + got.shape().str() + " " + dtype_name(got.dtype()) + ", expected " + want.shape().str() + " " +
                       dtype_name(want.dtype()));
    return false;
  }
  return expect_close(c, check, where, values(got), values(want), want.dtype() == DType::Float32 ? kVmapTolF32 : kVmapTol);
}

// 4: vmap of g against a loop over examples, for every non-empty subset of mapped inputs, with
// the batch at dim 0 or at the last dim (all mapped inputs alike, or the first at 0 and the rest
// last). `count` is the counter the check adds to.
void check_vmap(const Ctx& c, const char* check, const Fn& g, const Sample& s, const Point& p, uint64_t seed, int& count) {
  const int nin = int(s.ins.size());
  std::vector<std::vector<int>> seen;
  for (int mask = 1; mask < (1 << nin); mask++) {
    for (int mode = 0; mode < 3; mode++) {
      std::vector<int> in_dims(size_t(nin), -1);
      bool first = true;
      for (int i = 0; i < nin; i++) {
        if (!(mask >> i & 1)) continue;
        in_dims[size_t(i)] = mode == 0 || (mode == 2 && first) ? 0 : s.ins[size_t(i)].shape.n;
        first = false;
      }
      if (std::find(seen.begin(), seen.end(), in_dims) != seen.end()) continue;  // e.g. 0-d: last dim == dim 0
      seen.push_back(in_dims);
      std::string where = "in_dims [";
      for (int i = 0; i < nin; i++) where += (i ? ", " : "") + (in_dims[size_t(i)] < 0 ? std::string("-") : std::to_string(in_dims[size_t(i)]));
      where += "]";
      guarded(c, check, [&] {
        Rng r(seed + uint64_t(mask) * 7919);
        std::vector<Args> examples;
        Args want_parts;
        for (int64_t b = 0; b < kBatch; b++) {
          Point pb = p;
          for (int i = 0; i < nin; i++)
            if (in_dims[size_t(i)] >= 0) pb[size_t(i)] = draw(s.ins[size_t(i)], r);
          examples.push_back(build_all(s, pb));
          want_parts.push_back(g(examples.back()));
        }
        Args phys = examples[0];
        for (int i = 0; i < nin; i++) {
          if (in_dims[size_t(i)] < 0) continue;
          Args per;
          for (const Args& e : examples) per.push_back(e[size_t(i)]);
          phys[size_t(i)] = O::stack(per, in_dims[size_t(i)]);
        }
        if (expect_same(c, check, where, vmap(g, phys, in_dims, kBatch), O::stack(want_parts, 0))) count++;
      });
    }
  }
}

// 4 nested: vmap of vmap (outer batch kBatch at dim 0, inner batch 2 at the last dim), with every
// input mapped by both levels, and with the first input mapped by the outer level only and the
// others by the inner level only.
void check_vmap_nested(const Ctx& c, const Fn& f, const Sample& s, const Point& p, uint64_t seed) {
  const int nin = int(s.ins.size());
  constexpr int64_t kInner = 2;
  for (int split = 0; split < (nin > 1 ? 2 : 1); split++) {
    guarded(c, "vmap2", [&] {
      std::vector<int> outer(s.ins.size(), -1), inner(s.ins.size(), -1);
      for (int i = 0; i < nin; i++) {
        bool by_outer = !split || i == 0, by_inner = !split || i > 0;
        outer[size_t(i)] = by_outer ? 0 : -1;
        inner[size_t(i)] = by_inner ? s.ins[size_t(i)].shape.n : -1;  // the last dim, per outer example
      }
      Rng r(seed ^ 0xbeef);
      Point draws[kBatch][kInner];  // the inputs of example (b, k): they vary only along the levels that map them
      for (int64_t b = 0; b < kBatch; b++)
        for (int64_t k = 0; k < kInner; k++)
          for (int i = 0; i < nin; i++) {
            const bool by_outer = outer[size_t(i)] >= 0, by_inner = inner[size_t(i)] >= 0;
            if (!by_outer && !by_inner) draws[b][k].push_back(p[size_t(i)]);
            else if (!by_inner && k > 0) draws[b][k].push_back(draws[b][0][size_t(i)]);
            else if (!by_outer && b > 0) draws[b][k].push_back(draws[0][k][size_t(i)]);
            else draws[b][k].push_back(draw(s.ins[size_t(i)], r));
          }
      Args want_outer, phys = build_all(s, p);
      std::vector<Args> phys_outer(s.ins.size());
      for (int64_t b = 0; b < kBatch; b++) {
        Args want_inner;
        std::vector<Args> phys_inner(s.ins.size());
        for (int64_t k = 0; k < kInner; k++) {
          Args x = build_all(s, draws[b][k]);
          want_inner.push_back(f(x));
          for (int i = 0; i < nin; i++) phys_inner[size_t(i)].push_back(x[size_t(i)]);
        }
        want_outer.push_back(O::stack(want_inner, 0));
        for (int i = 0; i < nin; i++)
          phys_outer[size_t(i)].push_back(inner[size_t(i)] >= 0 ? O::stack(phys_inner[size_t(i)], inner[size_t(i)]) : phys_inner[size_t(i)][0]);
      }
      for (int i = 0; i < nin; i++)
        phys[size_t(i)] = outer[size_t(i)] >= 0 ? O::stack(phys_outer[size_t(i)], 0) : phys_outer[size_t(i)][0];
      Fn inner_map = [&](const Args& a) { return vmap(f, a, inner, kInner); };
      const char* where = split ? "outer maps input 0, inner the rest" : "both map every input";
      if (expect_same(c, "vmap2", where, vmap(inner_map, phys, outer, kBatch), O::stack(want_outer, 0))) c.n->vmap2++;
    });
  }
}

// 4 under the other transforms: per-example gradients (vmap of grad: batched primals, unbatched
// cotangent) and per-example jvps (batched primals, unbatched tangents), one differentiable input
// at a time.
void check_vmap_of_derivatives(const Ctx& c, const Fn& f, const Sample& s, const Point& p, const std::vector<int>& diff,
                               uint64_t seed) {
  Rng r(seed ^ 0x5eed);
  Args xs = build_all(s, p), v;
  Tensor u = random_like(f(xs), r);
  for (int i : diff) v.push_back(random_like(xs[size_t(i)], r));
  MultiFn mf = [&](const Args& a) { return Args{f(a)}; };
  Counts& n = *c.n;
  for (size_t k = 0; k < diff.size(); k++) {
    Fn grad_k = [&, k](const Args& a) { return vjp(f, a, diff, u)[k]; };
    check_vmap(c, "vmap_grad", grad_k, s, p, seed + k, n.vmap_grad);
  }
  Fn tangent = [&](const Args& a) { return jvp(mf, a, diff, v)[0]; };
  check_vmap(c, "vmap_jvp", tangent, s, p, seed, n.vmap_jvp);
}

// torch's result dtype and compute dtype for the operands of a sample (promotion_expected.h).
const promotion_expected::Row* torch_row(OpId op, const Input& a, const Input& b) {
  for (const auto& r : promotion_expected::kRows) {
    auto standing = [](const Input& in) { return in.shape.n > 0 ? promotion_expected::kDim : promotion_expected::kZeroDim; };
    if (std::strcmp(r.op, op_name(op)) == 0 && !r.reverse && std::strcmp(r.a_dtype, dtype_name(a.dtype)) == 0 &&
        std::strcmp(r.b_dtype, dtype_name(b.dtype)) == 0 && r.a_standing == standing(a) && r.b_standing == standing(b))
      return &r;
  }
  return nullptr;
}

// 5: a promoted sample against torch's dtype and against the op on inputs cast beforehand (a
// same-dtype call, checked against finite differences by the rest of the sweep): the values, the
// cotangent of every floating input (float32 ones included: in their own dtype) and the tangent of
// the output; then per-example gradients and jvps under vmap over every floating input.
void check_promotion(const Ctx& c, const Fn& f, const Sample& s, const Point& p, uint64_t seed) {
  const OpDef& def = op_def(c.op);
  if (def.promotion == Promotion::None) return;
  const int first = def.promotion == Promotion::Where ? 1 : 0;
  const Input &ia = s.ins[size_t(first)], &ib = s.ins[size_t(first + 1)];
  if (ia.dtype == ib.dtype && (def.promotion != Promotion::TrueDiv || is_floating(ia.dtype))) return;  // nothing promoted
  guarded(c, "promote", [&] {
    const promotion_expected::Row* row = torch_row(c.op, ia, ib);
    if (!row) return fail(c, "promote", "no row in promotion_expected.h for these operands");
    Args xs = build_all(s, p), xc = xs;
    Tensor y = f(xs);
    if (y.dtype() != dtype_of_name(row->result))
      return fail(c, "promote", std::string("result dtype ") + dtype_name(y.dtype()) + ", torch gives " + row->result);
    const DType compute = dtype_of_name(row->compute);
    for (size_t i = size_t(first); i < xs.size(); i++) xc[i] = O::to(xs[i], compute);
    if (!expect_same(c, "promote", "values", y, f(xc)) || !def.differentiable || !is_floating(y.dtype())) return;
    std::vector<int> diff;
    for (size_t i = size_t(first); i < xs.size(); i++)
      if (is_floating(xs[i].dtype())) diff.push_back(int(i));
    Rng r(seed ^ 0x9a0d);
    const Tensor u = random_like(y, r);
    const Args g = vjp(f, xs, diff, u), gc = vjp(f, xc, diff, u);
    Args ts, tc;
    for (int i : diff) {
      ts.push_back(random_like(xs[size_t(i)], r));
      tc.push_back(O::to(ts.back(), compute));
    }
    for (size_t k = 0; k < diff.size(); k++)
      if (!expect_same(c, "promote", input_name(diff[k]) + " cotangent", g[k], O::to(gc[k], xs[size_t(diff[k])].dtype()))) return;
    MultiFn mf = [&](const Args& a) { return Args{f(a)}; };
    if (!expect_same(c, "promote", "tangent", jvp(mf, xs, diff, ts)[0], jvp(mf, xc, diff, tc)[0])) return;
    check_vmap_of_derivatives(c, f, s, p, diff, seed);
  });
}

void note_skip(const Ctx& c, const char* why) { c.n->skipped[why].push_back(c.s->note); }

// Derivatives: float64 inputs of differentiable ops with a floating output; the rest explicitly skipped.
void check_sample_derivatives(const Ctx& c, const Fn& f, const Point& p, DType out_dtype, bool differentiable, uint64_t seed, Rng& r) {
  const Sample& s = *c.s;
  std::vector<int> diff;
  for (size_t i = 0; i < s.ins.size(); i++)
    if (s.ins[i].dtype == DType::Float64) diff.push_back(int(i));
  if (!differentiable) return note_skip(c, "not differentiable: vmap only");
  if (!is_floating(out_dtype)) return note_skip(c, "integer/bool output: vmap only");
  if (diff.empty()) return note_skip(c, "no float64 input: vmap only");
  if (out_dtype != DType::Float64) {
    // Finite differences through a float32 output measure rounding, not the derivative.
    note_skip(c, "float32 output: finite-difference checks skipped, jac at 1e-6");
    check_jacobians(c, f, build_all(s, p), diff, 1e-6);
    return;
  }
  if (!s.smooth) note_skip(c, "not smooth at the sample: finite differences skipped");
  check_derivatives(c, f, s, p, diff, r);
  check_jacobians(c, f, build_all(s, p), diff, kAdTol);
  check_vmap_of_derivatives(c, f, s, p, diff, seed);
}

void sweep_op(OpId op) {
  static const std::map<OpId, std::vector<Sample>> table = sample_table();
  auto it = table.find(op);
  if (it == table.end() || it->second.empty()) {
    std::printf("  %s: no sample calls; add a row for it to sample_table() in %s\n", op_name(op), __FILE__);
    check::failures()++;
    return;
  }
  const OpDef& def = op_def(op);
  for (size_t k = 0; k < it->second.size(); k++) {
    const Sample& s = it->second[k];
    Ctx c{op, &s, op_name(op), &g_counts[int(op)]};
    if (def.arity >= 0 && int(s.ins.size()) != def.arity) {
      fail(c, "table", "sample has " + std::to_string(s.ins.size()) + " inputs, op takes " + std::to_string(def.arity));
      continue;
    }
    g_counts[int(op)].samples++;
    const uint64_t seed = uint64_t(op) * 1000003 + k * 101;
    Rng r(seed);
    Point p;
    for (const Input& in : s.ins) p.push_back(draw(in, r));
    Fn f = [op, &s](const Args& xs) { return apply(op, xs.data(), int(xs.size()), s.at); };
    check_vmap(c, "vmap", f, s, p, seed, g_counts[int(op)].vmap);
    check_vmap_nested(c, f, s, p, seed);
    check_promotion(c, f, s, p, seed);

    // Derivatives: float64 inputs of differentiable ops with a floating output; the rest explicitly skipped.
    DType out_dtype;
    try {
      const Args xs = build_all(s, p);
      const Tensor out = f(xs);
      out_dtype = out.dtype();
      std::vector<Meta> metas;
      for (const Tensor& x : xs) metas.push_back({x.shape(), x.dtype()});
      const Meta m = def.meta(metas.data(), int(metas.size()), s.at);
      if (m.shape != out.shape() || m.dtype != out.dtype())
        fail(c, "meta", "metadata rule gives " + m.shape.str() + " " + dtype_name(m.dtype) + ", eval " + out.shape().str() + " " +
                            dtype_name(out.dtype()));
      g_counts[int(op)].meta++;
    } catch (const std::exception& e) {
      fail(c, "eval", e.what());
      continue;
    }
    check_sample_derivatives(c, f, p, out_dtype, def.differentiable, seed, r);
  }
}

// Composites (ops made of primitives, with no rules of their own) swept like the primitives:
// every check but meta and promotion. One row per composite, its samples and the call.
struct CompositeSample {
  Sample s;
  Fn f;
};

// Composites that select by position (ops/sort.cpp) and the product of every element
// (ops/scan.cpp): their derivatives are their parts' (index_select at the int64 positions,
// linear_scan). attrs: ints = {dim} ({dim, k} for topk), flag = keepdim / descending / largest.
void reduce_composites(std::map<std::string, std::vector<CompositeSample>>& t) {
  using Call = Tensor (*)(const Args& x, const Attrs& a);
  auto add = [&](const char* name, Call call, const std::vector<Sample>& samples) {
    for (const Sample& s : samples) t[name].push_back({s, [call, at = s.at](const Args& xs) { return call(xs, at); }});
  };
  const std::vector<Sample> extremes = {{{distinct({2, 3, 4})}, attrs({1}), "dim 1"},
                                        {{distinct({2, 3, 4})}, attrs({-1}, true), "dim -1 keepdim"},
                                        {{T(distinct({3, 4}))}, attrs({0}), "transposed"},
                                        {{coarse({3, 4})}, attrs({1}), "ties: the first", false},
                                        {{f32(distinct({4}))}, attrs({0}), "float32"},
                                        {{real({})}, attrs({0}), "0-d"},
                                        {{real({0, 3})}, attrs({1}), "no lines"}};
  add("max(dim)", [](const Args& x, const Attrs& a) { return O::max_dim(x[0], a.ints[0], a.flag).first; }, extremes);
  add("min(dim)", [](const Args& x, const Attrs& a) { return O::min_dim(x[0], a.ints[0], a.flag).first; }, extremes);
  add("max(dim) indices", [](const Args& x, const Attrs& a) { return O::max_dim(x[0], a.ints[0], a.flag).second; }, extremes);
  add("sort", [](const Args& x, const Attrs& a) { return O::sort(x[0], a.ints[0], a.flag).first; },
      {{{distinct({2, 5})}, attrs({1}), "dim 1"},
       {{distinct({2, 5})}, attrs({-1}, true), "descending"},
       {{T(distinct({3, 4}))}, attrs({0}), "transposed, dim 0"},
       {{coarse({3, 4})}, attrs({1}, true), "ties", false},
       {{f32(distinct({4}))}, attrs({0}), "float32"},
       {{real({})}, attrs({0}), "0-d"},
       {{real({0, 3})}, attrs({1}), "no lines"}});
  add("sort indices", [](const Args& x, const Attrs& a) { return O::sort(x[0], a.ints[0], a.flag).second; },
      {{{coarse({3, 4})}, attrs({1}, true), "ties, descending"}, {{real({})}, attrs({0}), "0-d"}});
  add("topk", [](const Args& x, const Attrs& a) { return O::topk(x[0], a.ints[1], a.ints[0], a.flag).first; },
      {{{distinct({2, 5})}, attrs({1, 2}, true), "k 2, largest"},
       {{distinct({2, 5})}, attrs({-1, 3}), "k 3, smallest"},
       {{T(distinct({4, 3}))}, attrs({0, 1}, true), "transposed, dim 0"},
       {{distinct({2, 3})}, attrs({1, 0}, true), "k 0"},
       {{real({})}, attrs({0, 1}, true), "0-d"}});
  add("prod()", [](const Args& x, const Attrs&) { return O::prod(x[0]); },
      {{{real({2, 3})}, {}, "[2,3]"},
       {{{{2, 4}, Domain::OneZero}}, {}, "one zero in each half"},
       {{{{2, 4}, Domain::WithZeros}}, {}, "four zeros"},
       {{T(real({3, 2}))}, {}, "transposed"},
       {{real({})}, {}, "0-d"},
       {{real({0})}, {}, "empty: 1"}});
  add("argmax()", [](const Args& x, const Attrs&) { return O::argmax(x[0]); },
      {{{distinct({2, 3})}, {}, "[2,3]"}, {{coarse({4})}, {}, "ties"}, {{real({})}, {}, "0-d"}});
}

std::map<std::string, std::vector<CompositeSample>> composite_table() {
  std::map<std::string, std::vector<CompositeSample>> t;
  auto einsum = [&](const std::string& eq, std::vector<Input> ins, bool smooth = true) {
    t["einsum"].push_back({{ins, {}, eq, smooth}, [eq](const Args& xs) { return O::einsum(eq, xs); }});
  };
  einsum("bij,bjk->bik", {real({2, 2, 3}), real({2, 3, 2})});
  einsum("i,j->ij", {real({3}), real({2})});
  einsum("ii", {real({3, 3})});
  einsum("ii->i", {T(real({3, 3}))});
  einsum("bn,anm,bm->ba", {real({2, 3}), real({2, 3, 2}), real({2, 2})});
  einsum("...ij,...jk", {real({2, 2, 3}), real({3, 2})});
  einsum("ij->", {real({2, 3})});
  einsum("i->", {S(real({5}))});
  einsum("iij->ji", {real({2, 2, 3})});
  einsum("i,i", {real({4}), real({4})});
  einsum("bi,i->b", {real({3, 1}), real({4})});  // a size-1 dim broadcast against 4
  auto index_add = [&](int64_t dim, std::vector<Input> ins, const std::string& note) {
    t["index_add"].push_back(
        {{ins, {}, note}, [dim](const Args& xs) { return O::index_add(xs[0], dim, xs[1], xs[2]); }});
  };
  index_add(0, {real({4, 3}), index({5}, 4), real({5, 3})}, "dim 0, repeats");
  index_add(-1, {real({2, 3}), index({2}, 3), T(real({2, 2}))}, "dim -1, transposed source");
  index_add(0, {real({}), index({}, 1), real({})}, "0-d");
  auto scatter_value = [&](int64_t dim, double value, std::vector<Input> ins, const std::string& note) {
    t["scatter(value)"].push_back(
        {{ins, {}, note}, [dim, value](const Args& xs) { return O::scatter(xs[0], dim, xs[1], value); }});
  };
  scatter_value(1, 2.5, {real({2, 4}), index({2, 3}, 4)}, "dim 1, repeats");
  reduce_composites(t);
  return t;
}

std::map<std::string, Counts> g_composite_counts;

void sweep_composite(const std::string& name, const std::vector<CompositeSample>& samples) {
  Counts& counts = g_composite_counts[name];
  for (size_t k = 0; k < samples.size(); k++) {
    const Sample& s = samples[k].s;
    const Fn& f = samples[k].f;
    Ctx c{OpId::kCount, &s, name.c_str(), &counts};
    counts.samples++;
    const uint64_t seed = std::hash<std::string>{}(name) % 1000003 + k * 101;
    Rng r(seed);
    Point p;
    for (const Input& in : s.ins) p.push_back(draw(in, r));
    check_vmap(c, "vmap", f, s, p, seed, counts.vmap);
    check_vmap_nested(c, f, s, p, seed);
    DType out_dtype;
    try {
      out_dtype = f(build_all(s, p)).dtype();
    } catch (const std::exception& e) {
      fail(c, "eval", e.what());
      continue;
    }
    check_sample_derivatives(c, f, p, out_dtype, true, seed, r);
  }
}

// One test per primitive, registered from the op table so that none can be missed.
[[maybe_unused]] const bool registered_ = [] {
  for (int i = 0; i < kNumOps; i++) check::registry().emplace_back(op_name(OpId(i)), [i] { sweep_op(OpId(i)); });
  static const std::map<std::string, std::vector<CompositeSample>> composites = composite_table();
  for (const auto& [name, samples] : composites)
    check::registry().emplace_back(name.c_str(), [&name = name, &samples = samples] { sweep_composite(name, samples); });
  return true;
}();

}  // namespace

TEST(sweep_summary) {
  const char* hdr[] = {"samples", "grad_fd", "hess_fd", "fwd_rev", "dot", "jac", "vmap", "vmap2", "vmap_grad", "vmap_jvp", "meta"};
  auto row = [](const char* name, const Counts& n) {
    std::printf("%-15s %7d %7d %7d %7d %7d %7d %7d %7d %9d %8d %7d\n", name, n.samples, n.grad_fd, n.hess_fd, n.fwd_rev, n.dot,
                n.jac, n.vmap, n.vmap2, n.vmap_grad, n.vmap_jvp, n.meta);
  };
  std::printf("%-15s", "op");
  for (const char* h : hdr) std::printf(" %7s", h);
  std::printf("\n");
  Counts total;
  for (int i = 0; i < kNumOps; i++) {
    const Counts& n = g_counts[i];
    row(op_name(OpId(i)), n);
    for (const auto& [why, notes] : n.skipped) {
      std::string list;
      for (const std::string& note : notes) list += " [" + note + "]";
      std::printf("%15s   %s:%s\n", "", why.c_str(), list.c_str());
    }
    total.samples += n.samples, total.grad_fd += n.grad_fd, total.hess_fd += n.hess_fd, total.fwd_rev += n.fwd_rev;
    total.dot += n.dot, total.jac += n.jac, total.vmap += n.vmap, total.vmap2 += n.vmap2, total.vmap_grad += n.vmap_grad, total.vmap_jvp += n.vmap_jvp;
    total.meta += n.meta;
    CHECK(n.samples > 0);
    CHECK(n.meta == n.samples);
  }
  row("total", total);
  for (const auto& [name, n] : g_composite_counts) {
    row(name.c_str(), n);
    for (const auto& [why, notes] : n.skipped) {
      std::string list;
      for (const std::string& note : notes) list += " [" + note + "]";
      std::printf("%15s   %s:%s\n", "", why.c_str(), list.c_str());
    }
    CHECK(n.samples > 0);
  }
}

// Bad calls: the metadata rule refuses them with eval's error (kind and message), without data.
TEST(meta_errors_match_eval) {
  struct Bad {
    OpId op;
    std::vector<Tensor> in;
    Attrs at;
  };
  auto f64 = [](Dims s) { return O::zeros(s, DType::Float64); };
  auto i64 = [](Dims s) { return O::zeros(s, DType::Int64); };
  auto b = [](Dims s) { return O::zeros(s, DType::Bool); };
  const std::vector<Bad> bad = {
      {OpId::Add, {f64({2, 3}), f64({4})}, {}},         {OpId::Sub, {b({2}), b({2})}, {}},
      {OpId::Pow, {b({2}), b({2})}, {}},                {OpId::Exp, {i64({2})}, {}},
      {OpId::Neg, {b({2})}, {}},                        {OpId::Where, {f64({2}), f64({2}), f64({2})}, {}},
      {OpId::Sum, {f64({2, 3})}, attrs({0, 0})},        {OpId::Amax, {f64({2, 0})}, attrs({1})},
      {OpId::Reshape, {f64({2, 3})}, attrs({4, -1})},   {OpId::Expand, {f64({2, 3})}, attrs({3, 3})},
      {OpId::Permute, {f64({2, 3})}, attrs({0, 0})},    {OpId::Slice, {f64({})}, attrs({0, 0, 1, 1})},
      {OpId::Select, {f64({2})}, attrs({0, 5})},        {OpId::Unsqueeze, {f64({2})}, attrs({3})},
      {OpId::Matmul, {f64({2, 3}), f64({4, 2})}, {}},   {OpId::Matmul, {f64({2, 3}), O::zeros({3, 2}, DType::Float32)}, {}},
      {OpId::Cat, {f64({2, 3}), f64({2, 4})}, attrs({0})}, {OpId::IndexSelect, {f64({3}), f64({1})}, attrs({0})},
      {OpId::Gather, {f64({2, 3}), i64({3, 1})}, attrs({1})}, {OpId::Gather, {f64({2, 3}), i64({2})}, attrs({0})},
      {OpId::Gather, {f64({2, 3}), f64({2, 3})}, attrs({0})}, {OpId::Scatter, {f64({3}), i64({2}), O::zeros({2}, DType::Float32)}, attrs({0})},
      {OpId::ScatterAdd, {f64({3, 4}), i64({1, 4}), f64({1, 3})}, attrs({0})}, {OpId::ScatterAdd, {f64({3, 4}), i64({1, 4}), f64({1, 4})}, attrs({2})},
      {OpId::Cumsum, {f64({2, 3})}, attrs({2})},        {OpId::Logcumsumexp, {i64({3})}, attrs({0})},
      {OpId::Prod, {b({3})}, attrs({0})},               {OpId::LinearScan, {f64({2}), f64({3})}, attrs({0})},
      {OpId::Argmax, {f64({2, 0})}, attrs({1})},        {OpId::Argmin, {b({2})}, attrs({0})},
      {OpId::Argsort, {f64({2, 3})}, attrs({1, 4})},    {OpId::Argsort, {f64({})}, attrs({0, 0})},
  };
  for (const Bad& c : bad) {
    std::vector<Meta> metas;
    for (const Tensor& x : c.in) metas.push_back({x.shape(), x.dtype()});
    std::string eval_error, meta_error;
    try {
      op_def(c.op).eval(c.in.data(), int(c.in.size()), c.at);
    } catch (const Error& e) {
      eval_error = std::to_string(int(e.kind())) + " " + e.what();
    }
    try {
      op_def(c.op).meta(metas.data(), int(metas.size()), c.at);
    } catch (const Error& e) {
      meta_error = std::to_string(int(e.kind())) + " " + e.what();
    }
    if (eval_error.empty() || eval_error != meta_error)
      std::printf("  %s: eval threw \"%s\", meta \"%s\"\n", op_name(c.op), eval_error.c_str(), meta_error.c_str());
    CHECK(!eval_error.empty() && eval_error == meta_error);
  }
}

int main() { return check::run_all(); }
