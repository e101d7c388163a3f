// C++ tests of the interpreter stack: each transform alone, nested, and the classic pitfalls.
#include <functional>
#include <vector>

#include "check.h"
#include "core/random.h"
#include "interp/interpreters.h"
#include "interp/onehot.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;
using Fn = std::function<Tensor(const Tensor&)>;

static Tensor vec(std::vector<double> v, Dims shape = {}) {
  if (shape.empty()) shape = Dims{int64_t(v.size())};
  return O::from_data(v.data(), shape, DType::Float64);
}
static std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(t);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}
static bool close(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-10) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i])))) return false;
  return true;
}

// Minimal transform drivers (the Java layer's Func does the same through the C API).
static Fn grad(Fn f) {
  return [f](const Tensor& x) {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor tx = grad_wrap(l.get(), x);
    Tensor y = f(tx);
    pop_level(l.get(), "grad");
    return grad_backward(l.get(), {y}, {O::ones(y.shape(), y.dtype())}, {tx})[0];
  };
}
static Tensor jvp(Fn f, const Tensor& x, const Tensor& t) {
  Ref<Level> l = push_level(LevelKind::Jvp);
  Tensor y = f(jvp_wrap(l.get(), x, t));
  Tensor p, tan;
  jvp_unwrap(l.get(), y, &p, &tan);
  pop_level(l.get(), "jvp");
  return tan;
}
static Fn vmap(Fn f, int64_t in_dim = 0) {
  return [f, in_dim](const Tensor& x) {
    Ref<Level> l = push_level(LevelKind::Batch, x.size(int(in_dim)));
    Tensor y = f(batch_wrap(l.get(), x, in_dim));
    Tensor r = batch_unwrap(l.get(), y, 0);
    pop_level(l.get(), "vmap");
    return r;
  };
}

static Tensor sin_sum(const Tensor& x) { return O::sum(O::sin(x), Dims{}, false); }

// all_finite_deep decides whether one-hot rules apply; its per-storage cache must answer for
// views exactly as a fresh scan would.
TEST(all_finite_facts_per_view) {
  const double inf = INFINITY, nan = NAN;
  Tensor a = vec({1, 2, 0, 4, 5, 6}, {2, 3});
  CHECK(all_finite_deep(a, false));
  CHECK(!all_finite_deep(a, true));  // a zero
  CHECK(all_finite_deep(O::transpose(a, 0, 1), false));
  CHECK(all_finite_deep(O::slice(a, 1, 0, 2, 1), false));
  CHECK(!all_finite_deep(O::transpose(a, 0, 1), true));
  CHECK(all_finite_deep(O::select(a, 0, 1), true));  // [4, 5, 6]: after the whole was cached
  Tensor b = vec({1, inf, 3, nan, 5, 6}, {3, 2});
  CHECK(!all_finite_deep(b, false));
  CHECK(!all_finite_deep(b, false));  // cached
  CHECK(!all_finite_deep(O::transpose(b, 0, 1), false));
  CHECK(all_finite_deep(O::select(b, 1, 0), true));  // column [1, 3, 5] of a non-finite storage
  CHECK(!all_finite_deep(O::select(b, 1, 1), false));
  CHECK(all_finite_deep(O::slice(b, 0, 2, 3, 1), true));
}

TEST(grad_of_sin_sum_is_cos) {
  Tensor x = vec({0.1, -0.7, 2.0});
  CHECK(close(values(grad(sin_sum)(x)), {std::cos(0.1), std::cos(-0.7), std::cos(2.0)}));
}

// The gradients backward hands out are moved out of its table, except for a leaf asked for again.
TEST(backward_gives_a_leaf_asked_twice_twice) {
  Tensor x = vec({0.1, -0.7, 2.0});
  Ref<Level> l = push_level(LevelKind::Grad);
  Tensor tx = grad_wrap(l.get(), x);
  Tensor y = sin_sum(tx);
  pop_level(l.get(), "grad");
  std::vector<Tensor> g = grad_backward(l.get(), {y}, {O::ones(y.shape(), y.dtype())}, {tx, tx});
  const std::vector<double> want = {std::cos(0.1), std::cos(-0.7), std::cos(2.0)};
  CHECK(g.size() == 2 && g[0].defined() && g[1].defined());
  CHECK(close(values(g[0]), want) && close(values(g[1]), want));
}

TEST(grad_of_grad_of_grad) {
  Tensor x = vec({0.3, 1.1});
  Fn g3 = grad([](const Tensor& x) { return O::sum(grad([](const Tensor& y) { return O::sum(grad(sin_sum)(y), Dims{}, false); })(x), Dims{}, false); });
  // d/dx of sum(-sin x) = -cos x
  CHECK(close(values(g3(x)), {-std::cos(0.3), -std::cos(1.1)}));
}

TEST(jvp_matches_grad) {
  Tensor x = vec({0.5, -1.5, 0.25}), t = vec({1, 2, 3});
  Tensor a = jvp(sin_sum, x, t);
  double expect = std::cos(0.5) * 1 + std::cos(-1.5) * 2 + std::cos(0.25) * 3;
  CHECK(close(values(a), {expect}));
}

TEST(hvp_forward_over_reverse) {
  Tensor x = vec({0.5, -1.5}), v = vec({1, -1});
  Tensor h = jvp(grad(sin_sum), x, v);
  CHECK(close(values(h), {-std::sin(0.5) * 1, -std::sin(-1.5) * -1}));
}

TEST(perturbation_confusion) {
  // d/dx [x * d/dy (x * y)] at x = y = 1 is 2 (not 1).
  Tensor one = vec({1.0}, Dims{});
  Fn outer = [&](const Tensor& x) {
    Fn inner = [&](const Tensor& y) { return O::mul(x, y); };
    Tensor dy = jvp(inner, one, vec({1.0}, Dims{}));
    return O::mul(x, dy);
  };
  CHECK(close(values(jvp(outer, one, vec({1.0}, Dims{}))), {2.0}));
  Fn outer_rev = [&](const Tensor& x) { return O::mul(x, grad([&](const Tensor& y) { return O::mul(x, y); })(one)); };
  CHECK(close(values(grad(outer_rev)(one)), {2.0}));
}

TEST(vmap_of_elementwise_and_reduction) {
  Tensor xs = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(close(values(vmap([](const Tensor& x) { return O::sum(O::mul(x, x), Dims{}, false); })(xs)), {14, 77}));
  Tensor w = vec({1, 0, 0, 1, 1, 1}, {3, 2});
  CHECK(close(values(vmap([&](const Tensor& x) { return O::matmul(x, w); })(xs)), {4, 5, 10, 11}));
  // mapping over dim 1
  CHECK(close(values(vmap([](const Tensor& x) { return O::sum(x, Dims{}, false); }, 1)(xs)), {5, 7, 9}));
}

TEST(per_sample_grad_vmap_of_grad) {
  Tensor xs = vec({0.1, 0.2, 0.3, 0.4}, {2, 2});
  Tensor g = vmap(grad(sin_sum))(xs);
  CHECK(close(values(g), {std::cos(0.1), std::cos(0.2), std::cos(0.3), std::cos(0.4)}));
}

TEST(vmap_of_vmap) {
  Tensor xs = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = vmap(vmap([](const Tensor& x) { return O::mul(x, x); }))(xs);
  CHECK(r.shape() == (Dims{2, 3}));
  CHECK(close(values(r), {1, 4, 9, 16, 25, 36}));
}

TEST(escaped_tracer_is_rejected) {
  Tensor leaked;
  grad([&](const Tensor& x) { leaked = O::mul(x, x); return O::sum(leaked, Dims{}, false); })(vec({1, 2}));
  CHECK_THROWS(O::add(leaked, leaked), ErrorKind::State, "escaped");
}

TEST(random_under_vmap_follows_randomness) {
  Tensor xs = vec({1, 2, 3}, {3, 1});
  Ref<Level> l = push_level(LevelKind::Batch, 3, Randomness::Error);
  CHECK_THROWS(O::randn(default_generator(), Dims{2}, DType::Float64), ErrorKind::State, "randomness");
  pop_level(l.get(), "vmap");
  Ref<Level> d = push_level(LevelKind::Batch, 3, Randomness::Different);
  Tensor r = O::randn(default_generator(), Dims{2}, DType::Float64);
  Tensor u = batch_unwrap(d.get(), r, 0);
  pop_level(d.get(), "vmap");
  CHECK(u.shape() == (Dims{3, 2}));
  auto v = values(u);
  CHECK(v[0] != v[2]);
}

// jacrev through the structured basis (whole and in chunks) equals jacrev through a dense identity.
static Tensor jacrev_rows(Fn f, const Tensor& x, int64_t start, int64_t count, bool structured) {
  Ref<Level> gl = push_level(LevelKind::Grad);
  Tensor tx = grad_wrap(gl.get(), x);
  Tensor y = f(tx);
  pop_level(gl.get(), "vjp");
  const int64_t n = y.numel();
  Ref<Level> vl = push_level(LevelKind::Batch, count);
  Tensor row = structured ? batch_basis(vl.get(), n, start, y.dtype())
                          : batch_wrap(vl.get(), O::slice(O::eye(n, n, y.dtype()), 0, start, start + count, 1), 0);
  Tensor ct = O::reshape(row, y.shape());
  Tensor g = grad_backward(gl.get(), {y}, {ct}, {tx})[0];
  Tensor r = batch_unwrap(vl.get(), g, 0);
  pop_level(vl.get(), "vmap");
  return r;
}

TEST(structured_basis_matches_dense_identity) {
  Tensor w = vec({0.5, -1, 2, 0.25, 1.5, -0.75}, {3, 2}), b = vec({0.1, -0.2, 0.3});
  Fn fns[] = {
      [&](const Tensor& x) { return O::tanh(O::linear(x, w, &b)); },
      [&](const Tensor& x) { return O::relu(O::sub(O::mul(x, x), vec({0.3}, Dims{}))); },
      [&](const Tensor& x) { return O::sum(O::mul(O::exp(x), x), Dims{}, false); },
      [&](const Tensor& x) { return O::softmax(O::matmul(w, x), 0); },
      [&](const Tensor& x) {
        int64_t ix[] = {1, 0, 1};
        Tensor idx = O::from_data(ix, Dims{3}, DType::Int64);
        Tensor h = O::tanh(O::matmul(w, x));
        Tensor r = O::index_select(O::add(O::where(O::compare(OpId::Gt, O::cat({x, x}, 0), vec({0.0}, Dims{})), O::sin(O::cat({x, x}, 0)),
                                                   O::mul(O::cat({x, x}, 0), vec({0.5}, Dims{}))),
                                          vec({0.1, 0.2, 0.3, 0.4})),
                                   0, idx);
        return O::cat({O::mul(O::softmax(h, 0), O::exp(O::slice(x, 0, 0, 1, 1))), r}, 0);
      },
  };
  Tensor x = vec({0.7, -0.4});
  // The composition test's vector function (R^4 -> R^5), verbatim.
  Tensor w4 = vec({0.3, -0.2, 0.5, 0.1, -0.4, 0.6, 0.2, -0.1, 0.05, 0.3, -0.5, 0.25}, {3, 4});
  int64_t ix2[] = {3, 0};
  Tensor idx2 = O::from_data(ix2, Dims{2}, DType::Int64);
  Fn vec_fn = [&](const Tensor& x) {
    Tensor h = O::tanh(O::matmul(w4, x));
    Tensor s = O::mul(O::softmax(h, 0), O::exp(O::slice(x, 0, 1, 4, 1)));
    Tensor r = O::index_select(O::add(O::where(O::compare(OpId::Gt, x, vec({0.0}, Dims{})), O::sin(x), O::mul(O::mul(x, x), vec({0.5}, Dims{}))),
                                      O::mul(O::relu(O::sub(x, vec({0.3}, Dims{}))), x)),
                               0, idx2);
    return O::cat({s, O::add(r, O::logsumexp(x, Dims{0}, false))}, 0);
  };
  Tensor x4 = vec({0.9, -0.3, 0.4, 1.1});
  for (int64_t c : {int64_t(5), int64_t(1), int64_t(2), int64_t(3)})
    for (int64_t s = 0; s < 5; s += c) {
      int64_t cnt = std::min<int64_t>(c, 5 - s);
      CHECK(close(values(jacrev_rows(vec_fn, x4, s, cnt, true)), values(jacrev_rows(vec_fn, x4, s, cnt, false))));
    }
  for (Fn& f : fns) {
    Tensor y = f(x);
    int64_t n = y.numel();
    CHECK(close(values(jacrev_rows(f, x, 0, n, true)), values(jacrev_rows(f, x, 0, n, false))));
    for (int64_t s = 0; s < n; s += 2) {
      int64_t c = std::min<int64_t>(2, n - s);
      CHECK(close(values(jacrev_rows(f, x, s, c, true)), values(jacrev_rows(f, x, s, c, false))));
    }
  }
}

// jacfwd through the structured basis (vmap over the tangent's basis rows) or a dense identity.
static Tensor jacfwd_cols(Fn f, const Tensor& x, bool structured) {
  const int64_t n = x.numel();
  Ref<Level> vl = push_level(LevelKind::Batch, n);
  Tensor basis = structured ? batch_basis(vl.get(), n, 0, x.dtype()) : batch_wrap(vl.get(), O::eye(n, n, x.dtype()), 0);
  Ref<Level> jl = push_level(LevelKind::Jvp);
  Tensor y = f(jvp_wrap(jl.get(), x, O::reshape(basis, x.shape())));
  Tensor p, t;
  jvp_unwrap(jl.get(), y, &p, &t);
  pop_level(jl.get(), "jvp");
  Tensor r = batch_unwrap(vl.get(), t, 0);
  pop_level(vl.get(), "vmap");
  return r;
}

// Expanded one-hots (sum's backward over a batch dim, expand in a forward pass) stay multi-hot
// through scaling, where, reshapes, slices, sums and matmuls on either side; every Jacobian equals
// the one through a dense identity, whole and in chunks.
TEST(multihot_basis_matches_dense_identity) {
  Generator g(7);
  auto rnd = [&](Dims shape) { return O::randn(g, shape, DType::Float64); };
  Tensor w = rnd({4, 5}), b = rnd({4}), v = rnd({5, 4}), u = rnd({4, 5}), w2 = rnd({7, 6}), c30 = rnd({6, 5});
  Fn mats[] = {  // on x [6, 5]
      [&](const Tensor& x) { return O::sum(O::tanh(O::linear(x, w, &b)), Dims{0}, false); },  // the sum trick
      [&](const Tensor& x) { return O::mul(O::sum(O::exp(x), Dims{0}, true), x); },
      [&](const Tensor& x) { return O::matmul(w2, O::sum(O::relu(O::sub(x, vec({0.2}, Dims{}))), Dims{1}, false)); },
      [&](const Tensor& x) { return O::sum(O::matmul(x, v), Dims{0}, false); },                       // multi-hot @ dense
      [&](const Tensor& x) { return O::sum(O::matmul(x, v), Dims{1}, false); },                       // (rows repeat)
      [&](const Tensor& x) { return O::sum(O::matmul(u, O::transpose(x, 0, 1)), Dims{1}, false); },  // transposed
      [&](const Tensor& x) { return O::sum(O::matmul(u, O::reshape(x, Dims{5, 6})), Dims{1}, false); },  // dense @ multi-hot
      [&](const Tensor& x) { return O::mul(O::expand(O::sum(O::mul(x, c30), Dims{}, false), Dims{2, 5}), O::sin(O::slice(x, 0, 0, 2, 1))); },
  };
  Tensor x = rnd({6, 5});
  for (Fn& f : mats) {
    const int64_t n = f(x).numel();
    CHECK(close(values(jacrev_rows(f, x, 0, n, true)), values(jacrev_rows(f, x, 0, n, false))));
    // chunks starting past 0 (an affine basis run whose first position is not 0), of 1 to 3 rows
    for (int64_t len = 1; len <= 3; len++)
      for (int64_t s = 1; s + len <= n; s++)
        CHECK(close(values(jacrev_rows(f, x, s, len, true)), values(jacrev_rows(f, x, s, len, false))));
    CHECK(close(values(jacfwd_cols(f, x, true)), values(jacfwd_cols(f, x, false))));
  }
  Tensor x5 = rnd({5}), c40 = rnd({40}), c85 = rnd({8, 5}), v52 = rnd({5, 2}), c3 = rnd({3});
  Fn vecs[] = {  // on x [5]: expands in the forward pass (jacfwd's tangents), then matmul, slice, where
      // a slice leaves examples without an entry (-1): later rules must see them (cached validity)
      [&](const Tensor& x) { return O::mul(O::exp(O::mul(O::slice(O::tanh(x), 0, 1, 4, 1), c3)), c3); },
      [&](const Tensor& x) { return O::matmul(O::mul(O::expand(O::unsqueeze(x, 0), Dims{8, 5}), c85), v52); },
      [&](const Tensor& x) { return O::slice(O::mul(O::reshape(O::expand(O::unsqueeze(O::tanh(x), 0), Dims{8, 5}), Dims{40}), c40), 0, 3, 30, 1); },
      [&](const Tensor& x) {
        Tensor e = O::reshape(O::expand(O::unsqueeze(O::slice(O::cat({x, x}, 0), 0, 1, 6, 1), 0), Dims{8, 5}), Dims{40});
        return O::where(O::compare(OpId::Gt, c40, vec({0.0}, Dims{})), e, vec({0.0}, Dims{}));
      },
  };
  for (Fn& f : vecs) {
    const int64_t n = f(x5).numel();
    CHECK(close(values(jacrev_rows(f, x5, 0, n, true)), values(jacrev_rows(f, x5, 0, n, false))));
    CHECK(close(values(jacfwd_cols(f, x5, true)), values(jacfwd_cols(f, x5, false))));
  }
}

// An affine index (a strided view of an arange) expands, and gathers, as its contiguous copy does
// (the copy's storage is not an arange, so it takes the generic loops).
TEST(affine_index_matches_its_copy) {
  Tensor strided = O::slice(onehot::arange_index(0, 10), 0, 1, 9, 2);  // positions 1, 3, 5, 7
  Tensor copy = O::contiguous(strided);
  const std::pair<Dims, Dims> cases[] = {{Dims{10}, Dims{3, 10}}, {Dims{2, 5}, Dims{2, 2, 5}}, {Dims{2, 1, 5}, Dims{2, 4, 5}}};
  for (const auto& [shape, out] : cases) {
    const int64_t copies = numel_of(out) / numel_of(shape);
    Tensor a = onehot::expand_index(strided, shape, out, copies), b = onehot::expand_index(copy, shape, out, copies);
    CHECK(a.shape() == b.shape());
    CHECK(values(O::to(a, DType::Float64)) == values(O::to(b, DType::Float64)));
    Tensor u = O::reshape(O::arange(0, double(numel_of(out)), 1, DType::Float64), out);
    CHECK(values(onehot::gather(u, out, a)) == values(onehot::gather(u, out, b)));
  }
  // An empty run (no entry 0 to read) takes the generic path and stays empty.
  Tensor none = onehot::expand_index(onehot::arange_index(4, 4), Dims{10}, Dims{3, 10}, 3);
  CHECK(none.shape() == (Dims{0, 3}));
  CHECK(onehot::gather(O::zeros(Dims{3, 10}, DType::Float64), Dims{3, 10}, none).numel() == 0);
}

// A densified one-hot batch knows its nonzero places (Storage::sparse); matmul with it, on either
// side and transposed, must equal the dense product computed here from its values; an operand
// with Inf/NaN must give the dense product's NaN rows (the sparse path stands aside).
static std::vector<double> dense_product(const Tensor& a, const Tensor& b) {
  std::vector<double> av = values(a), bv = values(b), out;
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k; p++) acc += av[size_t(i * k + p)] * bv[size_t(p * n + j)];
      out.push_back(acc);
    }
  return out;
}

TEST(matmul_with_densified_onehot_uses_its_places) {
  Generator g(3);
  const int64_t n = 12;
  // Rows j of an [n, n] matrix with one value each, at scattered columns; example 5 invalid (-1).
  std::vector<int64_t> ix;
  for (int64_t j = 0; j < n; j++) ix.push_back(j == 5 ? -1 : (j * 7) % n);
  Tensor index = O::from_data(ix.data(), Dims{n}, DType::Int64);
  Tensor scale = O::randn(g, Dims{n}, DType::Float64);
  Tensor h = onehot_densify(index, scale, Dims{n});
  CHECK(h.impl()->storage->sparse != nullptr);
  Tensor v = O::randn(g, Dims{n, 3}, DType::Float64), u = O::randn(g, Dims{3, n}, DType::Float64);
  CHECK(close(values(O::matmul(h, v)), dense_product(h, v), 1e-14));
  CHECK(close(values(O::matmul(u, h)), dense_product(u, h), 1e-14));
  Tensor ht = O::transpose(h, 0, 1);
  CHECK(close(values(O::matmul(ht, v)), dense_product(O::contiguous(ht), v), 1e-14));
  CHECK(close(values(O::matmul(u, ht)), dense_product(u, O::contiguous(ht)), 1e-14));
  Tensor hv = O::matmul(h, O::select(v, 1, 0));  // matrix @ vector (the hessian @ v of the notebook)
  CHECK(close(values(hv), values(O::select(O::matmul(O::add(h, vec({0.0}, Dims{})), v), 1, 0)), 1e-14));
  // A view that is not the whole storage takes the dense path and still agrees.
  Tensor part = O::slice(h, 0, 2, 8, 1);
  CHECK(close(values(O::matmul(part, v)), dense_product(part, v), 1e-14));
  // Inf in the other factor: densely every row meets it (0 * Inf = NaN), so must the result.
  std::vector<double> bad = values(v);
  bad[4] = INFINITY;
  Tensor vb = vec(bad, Dims{n, 3});
  std::vector<double> got = values(O::matmul(h, vb));
  for (size_t i = 0; i < got.size(); i++) CHECK(std::isnan(got[i]) || std::isinf(got[i]) == std::isinf(dense_product(h, vb)[i]));
  int nan_got = 0, nan_want = 0;
  for (double x : got) nan_got += std::isnan(x);
  for (double x : dense_product(h, vb)) nan_want += std::isnan(x);
  CHECK(nan_got == nan_want && nan_want > 0);
}

int main() { return check::run_all(); }
