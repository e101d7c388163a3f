// Shapes whose element count does not fit in int64: every op that makes a shape rejects them with
// an Argument error naming the op and the shape (core/shape.h, numel_of's NOTE), instead of a count
// that wrapped (7 * 7905747460161236407 wraps to 1: a reshape of one element "fitted", and a sum
// over it read out of bounds). A shape with a size-0 dim has 0 elements whatever the other sizes,
// and is legal, as in torch (torch.zeros(0, 2**62, 2**62)).
#include <vector>

#include "check.h"
#include "core/random.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

namespace {

constexpr int64_t kBig = 7905747460161236407LL;  // 7 * kBig == 1 (mod 2^64)
constexpr int64_t k32 = int64_t(1) << 32, k40 = int64_t(1) << 40, k62 = int64_t(1) << 62;
const char* kTooMany = "has more elements than int64 can count";

Tensor one() { return O::scalar(1.0, DType::Float64); }
Tensor ones(Dims s) { return O::ones(s, DType::Float64); }

// A level popped when the test body leaves, also by an exception.
struct LevelScope {
  Ref<Level> l;
  LevelScope(LevelKind k, int64_t batch = 0) : l(push_level(k, batch)) {}
  ~LevelScope() { pop_level(l.get(), "test"); }
};

}  // namespace

TEST(reshape_and_view_reject_counts_that_wrap) {
  CHECK(7 * uint64_t(kBig) == 1);
  CHECK_THROWS(O::reshape(one(), Dims{7, kBig}), ErrorKind::Argument, "reshape: shape [7, 7905747460161236407] has more elements");
  CHECK_THROWS(O::view(one(), Dims{7, kBig}), ErrorKind::Argument, "view: shape [7, 7905747460161236407] has more elements");
  CHECK_THROWS(O::reshape(ones({1, 1}), Dims{k32, k32}), ErrorKind::Argument, "reshape: shape [4294967296, 4294967296]");
  // -1 inference: the other sizes' product must not wrap either
  CHECK_THROWS(O::reshape(ones({3}), Dims{-1, k62, 4}), ErrorKind::Argument, "reshape: shape [1, 4611686018427387904, 4]");
  CHECK_THROWS(O::reshape(one(), Dims{7, kBig, -1}), ErrorKind::Argument, kTooMany);
  // a valid -1 still works, and a count that is merely wrong is a Shape error as before
  CHECK(O::reshape(ones({6}), Dims{-1, 3}).shape() == (Dims{2, 3}));
  CHECK_THROWS(O::reshape(ones({6}), Dims{4, -1}), ErrorKind::Shape, "is invalid for input of shape [6]");
}

TEST(expand_rejects_counts_that_wrap) {
  CHECK_THROWS(O::expand(one(), Dims{7, kBig}), ErrorKind::Argument, "expand: shape [7, 7905747460161236407] has more elements");
  CHECK_THROWS(O::expand(one(), Dims{k32, k32}), ErrorKind::Argument, "expand: shape [4294967296, 4294967296]");  // wrapped to 0
  CHECK_THROWS(O::expand(ones({1, 1}), Dims{k40, k40}), ErrorKind::Argument, "expand: shape [1099511627776, 1099511627776]");
  CHECK_THROWS(O::expand(ones({1, 1}), Dims{3, k62, -1}), ErrorKind::Argument, "expand: shape [3, 4611686018427387904, 1]");
  // the largest count that fits is a valid view
  CHECK(O::expand(one(), Dims{INT64_MAX}).numel() == INT64_MAX);
  CHECK(O::expand(ones({1, 1}), Dims{k62, 1}).numel() == k62);
}

TEST(broadcasting_rejects_counts_that_wrap) {
  Tensor col = O::expand(ones({1, 1}), Dims{k40, 1}), row = O::expand(ones({1, 1}), Dims{1, k40});
  CHECK_THROWS(O::add(col, row), ErrorKind::Argument, "add: shape [1099511627776, 1099511627776] has more elements");
  CHECK_THROWS(O::mul(row, col), ErrorKind::Argument, "mul: shape [1099511627776, 1099511627776]");
  CHECK_THROWS(O::compare(OpId::Lt, col, row), ErrorKind::Argument, "lt: shape [1099511627776, 1099511627776]");
  Tensor c = O::expand(O::compare(OpId::Gt, ones({1, 1}), O::scalar(0.0, DType::Float64)), Dims{k40, 1});
  CHECK_THROWS(O::where(c, row, one()), ErrorKind::Argument, "where: shape [1099511627776, 1099511627776]");
  // batch dims of matmul broadcast too
  Tensor a = O::expand(ones({1, 1, 1, 1}), Dims{k40, 1, 1, 1}), b = O::expand(ones({1, 1, 1, 1}), Dims{1, k40, 1, 1});
  CHECK_THROWS(O::matmul(a, b), ErrorKind::Argument, "matmul: shape [1099511627776, 1099511627776, 1, 1]");
}

TEST(cat_and_stack_reject_counts_that_wrap) {
  Tensor half = O::expand(ones({1}), Dims{k62});
  CHECK_THROWS(O::cat({half, half}, 0), ErrorKind::Argument, "cat: the sizes of dim 0 add up to more than int64 can count");
  Tensor most = O::expand(ones({1}), Dims{INT64_MAX});
  CHECK_THROWS(O::cat({most, ones({1})}, 0), ErrorKind::Argument, "cat: the sizes of dim 0");
  CHECK_THROWS(O::stack({half, half, half, half}, 0), ErrorKind::Argument, "stack: shape [4, 4611686018427387904] has more elements");
  CHECK_THROWS(O::stack({half, half}, 1), ErrorKind::Argument, "stack: shape [4611686018427387904, 2]");
}

TEST(creation_ops_reject_counts_that_wrap) {
  CHECK_THROWS(O::zeros(Dims{k40, k40}, DType::Float64), ErrorKind::Argument, "full: shape [1099511627776, 1099511627776] has more elements");
  CHECK_THROWS(O::full(Dims{7, kBig}, 2.0, DType::Float32), ErrorKind::Argument, "full: shape [7, 7905747460161236407]");
  Generator g(0);
  CHECK_THROWS(O::randn(g, Dims{k32, k32}, DType::Float32), ErrorKind::Argument, "randn: shape [4294967296, 4294967296]");
  CHECK_THROWS(O::rand(g, Dims{k32, k32}, DType::Float32), ErrorKind::Argument, "rand: shape [4294967296, 4294967296]");
  double v = 1;
  CHECK_THROWS(O::from_data(&v, Dims{7, kBig}, DType::Float64), ErrorKind::Argument, "from_data: shape [7, 7905747460161236407]");
  CHECK_THROWS(O::eye(k40, k40, DType::Float32), ErrorKind::Argument, "eye: shape [1099511627776, 1099511627776]");
  CHECK_THROWS(O::arange(0, 1e300, 1, DType::Float64), ErrorKind::Argument, "arange: range 0 -> 1e+300 with step 1 has more elements");
  // representable but too large to allocate: still out of memory
  CHECK_THROWS(O::zeros(Dims{int64_t(1) << 59, 8}, DType::Float64), ErrorKind::OutOfMemory, "too large");  // 2^65 bytes
  CHECK_THROWS(O::zeros(Dims{int64_t(1) << 40}, DType::Float64), ErrorKind::OutOfMemory, "");
  CHECK_THROWS(O::zeros(Dims{-1, 2}, DType::Float64), ErrorKind::Argument, "full: negative size -1 in shape [-1, 2]");
}

TEST(results_shaped_by_reductions_are_checked) {
  // [0, 2^62, 2^62] holds nothing; summing away the 0 leaves [2^62, 2^62], which is no shape
  Tensor e = O::zeros(Dims{0, k62, k62}, DType::Float32);
  CHECK_THROWS(O::sum(e, Dims{0}, false), ErrorKind::Argument, "sum: shape [4611686018427387904, 4611686018427387904]");
  CHECK_THROWS(O::sum(e, Dims{0}, true), ErrorKind::Argument, "sum: shape [1, 4611686018427387904, 4611686018427387904]");
}

TEST(zero_size_dims_with_huge_ones_are_legal) {
  Tensor e = O::zeros(Dims{0, k62, k62}, DType::Float64);
  CHECK(e.numel() == 0);
  CHECK(O::zeros(Dims{k62, k62, 0}, DType::Float64).numel() == 0);  // torch rejects this order (its check runs left to right)
  CHECK(O::reshape(O::zeros(Dims{0}, DType::Float64), Dims{0, k62, k62}).shape() == (Dims{0, k62, k62}));
  CHECK(O::expand(O::zeros(Dims{0, 1}, DType::Float64), Dims{0, k62}).shape() == (Dims{0, k62}));
  CHECK(O::expand(O::zeros(Dims{1, 1, 0}, DType::Float64), Dims{k62, k62, 0}).numel() == 0);
  CHECK_THROWS(O::reshape(O::zeros(Dims{0}, DType::Float64), Dims{-1, 0, 5}), ErrorKind::Shape, "ambiguous");
  CHECK_THROWS(O::reshape(O::zeros(Dims{0}, DType::Float64), Dims{-1, k62, k62}), ErrorKind::Argument, kTooMany);  // torch: ambiguous
  CHECK(O::sum(e, Dims{}, false).numel() == 1);
  CHECK(O::sum(e, Dims{}, false).data<double>()[0] == 0.0);
  CHECK(O::sum(e, Dims{1, 2}, false).shape() == (Dims{0}));
  CHECK(O::amax(e, Dims{1, 2}, false).shape() == (Dims{0}));
  CHECK(O::add(e, one()).shape() == e.shape());
  CHECK(O::exp(e).shape() == e.shape());
  CHECK(O::mul(O::transpose(e, 0, 2), one()).shape() == (Dims{k62, k62, 0}));
  CHECK(O::contiguous(O::transpose(e, 0, 2)).shape() == (Dims{k62, k62, 0}));
  CHECK(O::reshape(O::transpose(e, 0, 2), Dims{-1}).shape() == (Dims{0}));
  CHECK(O::select(e, 1, 5).shape() == (Dims{0, k62}));
  CHECK(O::slice(e, 2, k62 / 2, k62, 1).shape() == (Dims{0, k62, k62 / 2}));
  CHECK(O::unsqueeze(e, 1).shape() == (Dims{0, 1, k62, k62}));
  CHECK(O::softmax(e, 1).shape() == e.shape());
  CHECK(O::logsumexp(e, Dims{2}, false).shape() == (Dims{0, k62}));
  CHECK(O::stack({e, e}, 0).shape() == (Dims{2, 0, k62, k62}));
  CHECK(O::index_select(e, 1, O::from_data(std::vector<int64_t>{0}.data(), Dims{1}, DType::Int64)).shape() == (Dims{0, 1, k62}));
  // and under transforms: gradients, tangents and Jacobians with no elements
  {
    LevelScope g(LevelKind::Grad);
    Tensor x = grad_wrap(g.l.get(), e);
    Tensor y = O::sum(O::exp(O::transpose(x, 0, 1)), Dims{}, false);
    CHECK(grad_backward(g.l.get(), {y}, {one()}, {x})[0].shape() == e.shape());
    Tensor s = O::sum(x, Dims{1, 2}, false);  // [0]: a Jacobian [0, 0, 2^62, 2^62] of no rows
    CHECK(jacrev_backward(g.l.get(), {s}, {x}, 0)[0].shape() == (Dims{0, 0, k62, k62}));
  }
  {
    LevelScope j(LevelKind::Jvp);
    Tensor p, t;
    jvp_unwrap(j.l.get(), O::mul(O::exp(jvp_wrap(j.l.get(), e, e)), one()), &p, &t);
    CHECK(t.shape() == e.shape() && p.shape() == e.shape());
  }
}

TEST(transforms_check_the_shapes_they_make) {
  // vmap over dim 0 of [0, 2^62, 2^62]: each example would be [2^62, 2^62]
  {
    LevelScope v(LevelKind::Batch, 0);
    CHECK_THROWS(batch_wrap(v.l.get(), O::zeros(Dims{0, k62, k62}, DType::Float64), 0), ErrorKind::Argument,
                 "vmap: shape [4611686018427387904, 4611686018427387904]");
  }
  // the batching rules of reshape and expand check the per-example shape (and the batched one)
  {
    LevelScope v(LevelKind::Batch, 3);
    Tensor x = batch_wrap(v.l.get(), ones({3, 1}), 0);
    CHECK_THROWS(O::reshape(x, Dims{7, kBig}), ErrorKind::Argument, "reshape: shape [7, 7905747460161236407]");
    CHECK_THROWS(O::expand(x, Dims{k32, k32}), ErrorKind::Argument, "expand: shape [3, 4294967296, 4294967296]");
    CHECK_THROWS(O::expand(x, Dims{k62, 1}), ErrorKind::Argument, "expand: shape [3, 4611686018427387904, 1]");
  }
  // under grad and jvp the primal op rejects it
  {
    LevelScope g(LevelKind::Grad);
    Tensor x = grad_wrap(g.l.get(), ones({1}));
    CHECK_THROWS(O::reshape(x, Dims{7, kBig}), ErrorKind::Argument, "reshape: shape [7, 7905747460161236407]");
  }
  {
    LevelScope j(LevelKind::Jvp);
    Tensor x = jvp_wrap(j.l.get(), ones({1}), ones({1}));
    CHECK_THROWS(O::expand(x, Dims{7, kBig}), ErrorKind::Argument, "expand: shape [7, 7905747460161236407]");
  }
}

int main() { return check::run_all(); }
