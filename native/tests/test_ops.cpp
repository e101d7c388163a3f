// C++ unit tests of the tensor core: op results on small hand-checked cases, views, errors.
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "check.h"
#include "backends/cpu/stream_store.h"
#include "core/allocator.h"
#include "core/random.h"
#include "interp/dispatch.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

static Tensor vec(std::vector<double> v, Dims shape = {}, DType dt = DType::Float64) {
  if (shape.empty()) shape = Dims{int64_t(v.size())};
  if (dt == DType::Float64) return O::from_data(v.data(), shape, dt);
  std::vector<float> f(v.begin(), v.end());
  return O::from_data(f.data(), shape, dt);
}

static std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(O::to(t, DType::Float64));
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}

static bool same(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-12) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i])))) return false;
  return true;
}

TEST(registry_has_every_primitive) {
  for (int i = 0; i < kNumOps; i++) {
    CHECK(op_def(OpId(i)).eval != nullptr);
    CHECK(op_def(OpId(i)).id == OpId(i));
  }
}

TEST(broadcast_add_and_mul) {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = vec({10, 20, 30});
  CHECK(same(values(O::add(a, b)), {11, 22, 33, 14, 25, 36}));
  Tensor c = vec({2, 3}, {2, 1});
  CHECK(same(values(O::mul(a, c)), {2, 4, 6, 12, 15, 18}));
  CHECK(O::add(a, b).shape() == (Dims{2, 3}));
}

TEST(unary_math) {
  Tensor x = vec({-1.5, 0, 2});
  CHECK(same(values(O::relu(x)), {0, 0, 2}));
  CHECK(same(values(O::abs(x)), {1.5, 0, 2}));
  CHECK(same(values(O::exp(x)), {std::exp(-1.5), 1, std::exp(2.0)}));
  CHECK(same(values(O::sigmoid(vec({-800, 0, 800}))), {0, 0.5, 1}));
  CHECK(same(values(O::tanh(x)), {std::tanh(-1.5), 0, std::tanh(2.0)}));
}

TEST(reductions) {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(same(values(O::sum(a, Dims{}, false)), {21}));
  CHECK(same(values(O::sum(a, Dims{0}, false)), {5, 7, 9}));
  CHECK(same(values(O::sum(a, Dims{-1}, true)), {6, 15}));
  CHECK(O::sum(a, Dims{-1}, true).shape() == (Dims{2, 1}));
  CHECK(same(values(O::amax(a, Dims{1}, false)), {3, 6}));
  CHECK(same(values(O::mean(a, Dims{0, 1}, false)), {3.5}));
  CHECK(same(values(O::logsumexp(vec({1000, 1000}), Dims{}, false)), {1000 + std::log(2.0)}));
  CHECK(same(values(O::softmax(vec({1, 1, 1, 1}), 0)), {0.25, 0.25, 0.25, 0.25}));
}

TEST(matmul_shapes_and_values) {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = vec({1, 0, 0, 1, 1, 1}, {3, 2});
  CHECK(same(values(O::matmul(a, b)), {4, 5, 10, 11}));
  // transposed operand read in place, 1-D cases, batched with broadcast
  CHECK(same(values(O::matmul(O::transpose(b, 0, 1), O::transpose(a, 0, 1))), {4, 10, 5, 11}));
  CHECK(same(values(O::matmul(vec({1, 1, 1}), b)), {2, 2}));
  CHECK(same(values(O::matmul(a, vec({1, 1, 1}))), {6, 15}));
  CHECK(same(values(O::matmul(vec({1, 2}), vec({3, 4}))), {11}));
  Tensor batch = O::stack({a, O::mul(a, vec({2}, {1}))}, 0);
  Tensor r = O::matmul(batch, b);
  CHECK(r.shape() == (Dims{2, 2, 2}));
  CHECK(same(values(r), {4, 5, 10, 11, 8, 10, 20, 22}));
  Tensor f = vec({1, 2, 3, 4, 5, 6}, {2, 3}, DType::Float32);
  CHECK(same(values(O::linear(f, vec({1, 1, 1, 0, 0, 1}, {2, 3}, DType::Float32), nullptr)), {6, 3, 15, 6}));
}

// The fused linear kernel gives the composite's numbers bit for bit (the same BLAS calls, the bias
// added after the product) wherever the composite makes one BLAS call, and the layouts it does not
// take fall back to the composite; tanh_backward and sigmoid_backward are their composites exactly.
TEST(fused_linear_matches_composite_exactly) {
  Generator g(7);
  auto layout = [](const Tensor& t, int how) {  // 0 as is, 1 transposed storage, 2 every other element
    if (how == 1 && t.ndim() >= 2) return O::transpose(O::contiguous(O::transpose(t, -1, -2)), -1, -2);
    if (how == 2) return O::select(O::stack({t, O::zeros_like(t)}, -1), -1, 0);
    return t;
  };
  int cases = 0;
  for (DType dt : {DType::Float32, DType::Float64})
    for (Dims xs : {Dims{16}, Dims{1, 16}, Dims{5, 16}, Dims{2, 3, 16}, Dims{0, 16}})
      for (int n : {1, 7, 33})
        for (int xl = 0; xl < 3; xl++)
          for (int wl = 0; wl < 3; wl++)
            for (int bl = -1; bl < 3; bl++) {
              Tensor x = layout(O::randn(g, xs, dt), xl), w = layout(O::randn(g, Dims{n, 16}, dt), wl);
              Tensor b = bl < 0 ? Tensor() : layout(O::randn(g, Dims{n}, dt), bl == 1 ? 0 : bl);
              Tensor fused = O::linear(x, w, bl < 0 ? nullptr : &b);
              Tensor y = O::matmul(x, O::transpose(w, 0, 1));
              if (bl >= 0) y = O::add(y, b);
              CHECK(fused.shape() == y.shape());
              if (wl == 2 && xs.n > 2) {  // matmul packs the weight once per batch and runs a gemm per batch
                CHECK(same(values(fused), values(y), dt == DType::Float32 ? 1e-5 : 1e-13));
              } else {
                CHECK(values(fused) == values(y));
              }
              cases++;
            }
  CHECK(cases == 2 * 5 * 3 * 3 * 3 * 4);
  // Leading dims of size 1 carry any stride: the rows' stride is the outer dim's, not theirs.
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor w = O::randn(g, Dims{5, 16}, dt), b = O::randn(g, Dims{5}, dt);
    for (Tensor x : {O::transpose(O::randn(g, Dims{2, 16, 1}, dt), 1, 2), O::permute(O::randn(g, Dims{1, 3, 16}, dt), Dims{1, 0, 2}),
                     O::permute(O::randn(g, Dims{1, 3, 1, 16}, dt), Dims{2, 1, 0, 3}), O::transpose(O::randn(g, Dims{16, 1}, dt), 0, 1)}) {
      Tensor y = O::add(O::matmul(x, O::transpose(w, 0, 1)), b);
      CHECK(values(O::linear(x, w, &b)) == values(y));
      CHECK(values(O::linear(x, w, &b)) == values(O::linear(O::contiguous(x), w, &b)));
    }
  }
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tensor gr = O::randn(g, Dims{3, 37}, dt), y = O::tanh(O::randn(g, Dims{3, 37}, dt));
    Tensor one = O::full(Dims{}, 1.0, dt);
    CHECK(values(apply2(OpId::TanhBackward, gr, y)) == values(O::mul(gr, O::sub(one, O::mul(y, y)))));
    CHECK(values(apply2(OpId::SigmoidBackward, gr, y)) == values(O::mul(gr, O::mul(y, O::sub(one, y)))));
    // relu's: g where x > 0, 0 at 0, at -0 and at NaN (and a NaN g passes where x > 0)
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor x = O::cat({O::reshape(O::randn(g, Dims{3, 37}, dt), Dims{-1}), vec({0, -0.0, nan, 1}, Dims{4}, dt)}, 0);
    Tensor gn = O::cat({O::reshape(gr, Dims{-1}), vec({1, 2, 3, nan}, Dims{4}, dt)}, 0);
    std::vector<double> want = values(O::where(O::compare(OpId::Gt, x, O::full(Dims{}, 0.0, dt)), gn, O::full(Dims{}, 0.0, dt)));
    std::vector<double> got = values(apply2(OpId::ReluBackward, gn, x));
    CHECK(got.size() == want.size());
    for (size_t i = 0; i < got.size(); i++) CHECK(std::isnan(got[i]) ? std::isnan(want[i]) : got[i] == want[i]);
  }
  // Errors keep the composite's wording, under linear's name (a bias that does not fit falls back
  // to the composite, whose add reports it).
  Tensor b0 = vec({1, 2, 3});
  CHECK_THROWS(O::linear(vec({1, 2, 3}), vec({1, 2, 3, 4}, {2, 2}), nullptr), ErrorKind::Shape, "linear: input [3] and weight [2, 2]");
  CHECK_THROWS(O::linear(vec({1, 2}), vec({1, 2, 3, 4}, {2, 2}), &b0), ErrorKind::Shape, "linear");
}

TEST(views_share_storage) {
  Tensor a = O::arange(0, 24, 1, DType::Float64);
  Tensor v = O::reshape(a, Dims{2, 3, 4});
  CHECK(v.impl()->storage.get() == a.impl()->storage.get());
  Tensor p = O::permute(v, Dims{2, 0, 1});
  CHECK(p.shape() == (Dims{4, 2, 3}));
  CHECK(!p.is_contiguous());
  CHECK(same(values(O::select(p, 0, 1)), {1, 5, 9, 13, 17, 21}));
  CHECK(same(values(O::slice(a, 0, 1, 10, 3)), {1, 4, 7}));
  CHECK(same(values(O::slice(a, 0, -3, 100, 1)), {21, 22, 23}));
  CHECK(O::expand(vec({1, 2}, {2, 1}), Dims{2, 5}).strides()[1] == 0);
  CHECK(O::unsqueeze(a, -1).shape() == (Dims{24, 1}));
  CHECK(O::squeeze(O::reshape(a, Dims{1, 24, 1}), Dims{}).shape() == (Dims{24}));
  // reshape of a permuted tensor must copy, view must refuse
  Tensor r = O::reshape(p, Dims{24});
  CHECK(same(values(r), values(O::contiguous(p))));
  CHECK_THROWS(O::view(p, Dims{24}), ErrorKind::Shape, "view");
  CHECK(same(values(O::movedim(v, 0, 2)), values(O::permute(v, Dims{1, 2, 0}))));
}

TEST(cat_stack_index_select_where) {
  Tensor a = vec({1, 2, 3, 4}, {2, 2});
  Tensor b = vec({5, 6}, {1, 2});
  CHECK(same(values(O::cat({a, b}, 0)), {1, 2, 3, 4, 5, 6}));
  CHECK(same(values(O::cat({a, O::transpose(a, 0, 1)}, 1)), {1, 2, 1, 3, 3, 4, 2, 4}));
  CHECK(O::stack({a, a, a}, 1).shape() == (Dims{2, 3, 2}));
  int64_t idx[] = {1, 0, 1};
  Tensor i = O::from_data(idx, Dims{3}, DType::Int64);
  CHECK(same(values(O::index_select(a, 0, i)), {3, 4, 1, 2, 3, 4}));
  CHECK(same(values(O::index_select(a, 1, i)), {2, 1, 2, 4, 3, 4}));
  Tensor m = O::compare(OpId::Gt, a, vec({2}));
  CHECK(same(values(O::where(m, a, vec({0}))), {0, 0, 3, 4}));
}

// cat and stack take dense inputs as blocks and others through views: each part of the result,
// read back through a view, must equal its input, for every dim and mixes of layouts and dtypes.
TEST(cat_and_stack_place_every_part) {
  Tensor base = O::reshape(O::arange(0, 24, 1, DType::Float64), Dims{2, 3, 4});
  Tensor other = O::add(base, vec({100}));
  Tensor moved = O::contiguous(O::permute(other, Dims{0, 2, 1}));
  Tensor strided = O::permute(moved, Dims{0, 2, 1});  // base's shape, not contiguous
  for (DType dt : {DType::Float64, DType::Float32, DType::Int64}) {
    std::vector<Tensor> parts = {O::to(base, dt), O::to(strided, dt), O::to(other, dt)};
    for (int d = 0; d <= 3; d++) {
      Tensor s = O::stack(parts, d);
      CHECK(s.dtype() == dt);
      for (int i = 0; i < 3; i++) CHECK(same(values(O::select(s, d, i)), values(parts[size_t(i)])));
      if (d == 3) continue;
      std::vector<Tensor> cparts = {parts[0], O::slice(parts[1], d, 0, 1, 1), parts[2]};
      Tensor c = O::cat(cparts, d);
      int64_t pos = 0;
      for (const Tensor& p : cparts) {
        CHECK(same(values(O::slice(c, d, pos, pos + p.size(d), 1)), values(p)));
        pos += p.size(d);
      }
      CHECK(pos == c.size(d));
    }
  }
  auto scalar = [](double v) { return O::reshape(vec({v}), Dims{}); };
  Tensor sc = O::stack({scalar(1), scalar(2), scalar(3)}, 0);  // 0-d parts
  CHECK(sc.shape() == (Dims{3}) && same(values(sc), {1, 2, 3}));
  Tensor empty = O::reshape(vec({}), Dims{0, 2});
  CHECK(O::stack({empty, empty}, 1).shape() == (Dims{0, 2, 2}));
  CHECK(O::cat({empty, vec({1, 2}, {1, 2})}, 0).shape() == (Dims{1, 2}));
  CHECK_THROWS(O::stack({base, O::to(base, DType::Float32)}, 0), ErrorKind::DType, "stack");
}

// Elementwise results follow a transposed input's memory order (see empty_elementwise) and the
// values never depend on layout; index_select copies runs of consecutive indices as blocks.
TEST(layouts_and_gathers) {
  Tensor a = O::reshape(O::arange(0, 12, 1, DType::Float64), Dims{3, 4});
  Tensor t = O::transpose(a, 0, 1);  // [4, 3], strides (1, 4)
  Tensor e = O::exp(t);
  CHECK(e.strides() == t.strides());
  CHECK(same(values(e), values(O::exp(O::contiguous(t)))));
  Tensor bias = vec({1, 2, 3});
  Tensor s = O::add(t, bias);  // broadcast input: the transposed one decides
  CHECK(s.strides() == t.strides());
  CHECK(same(values(s), values(O::add(O::contiguous(t), bias))));
  Tensor mixed = O::mul(t, O::contiguous(t));  // a contiguous full-shape input keeps row-major
  CHECK(mixed.is_contiguous());
  CHECK(same(values(mixed), values(O::mul(O::contiguous(t), O::contiguous(t)))));
  CHECK(same(values(O::reshape(e, Dims{12})), values(O::reshape(O::contiguous(e), Dims{12}))));
  CHECK(same(values(O::to(t, DType::Float32)), values(t)));
  // a strided broadcast operand (transposed [4, 3] against [2, 4, 3])
  Tensor big = O::reshape(O::arange(0, 24, 1, DType::Float64), Dims{2, 4, 3});
  CHECK(same(values(O::mul(big, t)), values(O::mul(big, O::contiguous(t)))));
  CHECK(same(values(O::where(O::compare(OpId::Gt, big, vec({5})), t, big)),
             values(O::where(O::compare(OpId::Gt, big, vec({5})), O::contiguous(t), big))));
  // index_select: runs, repeats, reversed, on a transposed source, and 1-D gathers
  int64_t idx[] = {0, 1, 2, 2, 1, 3, 0};
  Tensor i = O::from_data(idx, Dims{7}, DType::Int64);
  Tensor g = O::index_select(t, 0, i);
  std::vector<double> tv = values(t), want;
  for (int64_t r : idx)
    for (int c = 0; c < 3; c++) want.push_back(tv[size_t(r * 3 + c)]);
  CHECK(same(values(g), want));
  int64_t cols[] = {2, 0, 1};
  std::vector<double> want_cols;
  for (int r = 0; r < 4; r++)
    for (int64_t c : cols) want_cols.push_back(tv[size_t(r * 3 + c)]);
  CHECK(same(values(O::index_select(t, 1, O::from_data(cols, Dims{3}, DType::Int64))), want_cols));
  Tensor flat = O::slice(O::arange(0, 20, 1, DType::Float32), 0, 1, 20, 3);  // strided 1-D
  CHECK(same(values(O::index_select(flat, 0, i)), {1, 4, 7, 7, 4, 10, 1}));
}

// x * 1 and x / 1 by a broadcast one return x itself (bit for bit, NaN and -0 included); any other
// factor, or a broadcast that would change x's shape, is computed.
TEST(multiply_by_broadcast_one_is_identity) {
  Tensor x = vec({1.5, -0.0, NAN, INFINITY, -2.25, 3.0}, {2, 3});
  Tensor one = O::expand(O::scalar(1, DType::Float64), Dims{2, 3});
  CHECK(O::mul(x, one).impl() == x.impl());
  CHECK(O::mul(one, x).impl() == x.impl());
  CHECK(O::div(x, one).impl() == x.impl());
  CHECK(O::div(one, x).impl() != x.impl());
  CHECK(O::mul(x, O::scalar(1, DType::Float64)).impl() == x.impl());
  Tensor two = O::expand(O::scalar(2, DType::Float64), Dims{2, 3});
  std::vector<double> got = values(O::mul(x, two));
  CHECK(got[0] == 3.0 && std::signbit(got[1]) && std::isnan(got[2]) && got[5] == 6.0);
  Tensor row = vec({1.0, 1.0, 1.0});  // a stored row of ones, not a broadcast: computed
  CHECK(O::mul(x, row).impl() != x.impl());
  Tensor grow = O::mul(O::reshape(x, Dims{2, 1, 3}), O::expand(O::scalar(1, DType::Float64), Dims{2, 2, 3}));  // shape grows
  CHECK(grow.shape() == (Dims{2, 2, 3}));
}

// index_add (index_select's adjoint) on matrices, both dims, repeated indices, transposed sources,
// float32 and float64: every element is the sum of its slabs, added in index order.
TEST(index_add_matrices) {
  int64_t idx[] = {3, 0, 3, 1, 3};
  Tensor i = O::from_data(idx, Dims{5}, DType::Int64);
  for (DType dt : {DType::Float64, DType::Float32})
    for (int dim : {0, 1})
      for (bool transposed : {false, true}) {
        Tensor g = dim == 0 ? O::reshape(O::arange(1, 16, 1, dt), Dims{5, 3}) : O::reshape(O::arange(1, 16, 1, dt), Dims{3, 5});
        if (transposed) g = O::transpose(O::contiguous(O::transpose(g, 0, 1)), 0, 1);  // same values, strides swapped
        std::vector<double> gv = values(g), want(size_t(3 * 4), 0.0);
        for (int64_t k = 0; k < 5; k++)
          for (int64_t j = 0; j < 3; j++) {
            const double v = dim == 0 ? gv[size_t(k * 3 + j)] : gv[size_t(j * 5 + k)];
            want[size_t(dim == 0 ? idx[k] * 3 + j : j * 4 + idx[k])] += v;
          }
        CHECK(same(values(O::index_add(g, dim, i, 4)), want, 0));
      }
}

// Outputs at least the size of the last-level cache take the streaming-store path (see
// backends/cpu/stream_store.h); its rows start unaligned here (odd row length) and broadcast both
// ways. Every element must equal the same op on a small (cached-path) slice.
TEST(large_outputs_stream_exactly) {
  const int64_t rows = 8209, cols = 1031;  // 8.46M float32 = 33.9 MB, above a 32 MiB L3
  Tensor a = O::reshape(O::arange(0, double(rows), 1, DType::Float32), Dims{rows, 1});
  Tensor b = O::div(O::arange(1, double(cols) + 1, 1, DType::Float32), vec({7}, {}, DType::Float32));
  Tensor big = O::mul(a, b);
  Tensor full = O::sub(big, O::reshape(O::arange(0, double(rows * cols), 1, DType::Float32), Dims{rows, cols}));
  // The last stream_cached_tail_bytes() go out with ordinary stores: rows on both sides of that
  // boundary too.
  const int64_t out_bytes = rows * cols * 4, row_bytes = cols * 4;
  const int64_t tail_row = (out_bytes - std::min(out_bytes, cpu::stream_cached_tail_bytes()) + row_bytes - 1) / row_bytes;
  CHECK(out_bytes >= cpu::stream_threshold_bytes() || cpu::stream_threshold_bytes() > (int64_t(32) << 20));
  for (int64_t r : {int64_t(0), int64_t(1), int64_t(4097), rows - 1, std::max<int64_t>(0, tail_row - 1), std::min(rows - 1, tail_row)}) {
    Tensor ar = O::select(a, 0, r);
    CHECK(same(values(O::select(big, 0, r)), values(O::mul(ar, b)), 0));
    Tensor seq = O::arange(double(r * cols), double((r + 1) * cols), 1, DType::Float32);
    CHECK(same(values(O::select(full, 0, r)), values(O::sub(O::mul(ar, b), seq)), 0));
  }
}

// Short rows (jacfwd(jacfwd)'s Hessian has its 32-wide output dim innermost) stream in blocks of
// rows: every row of every block, the last block partial, is the product computed row by row.
TEST(large_outputs_of_short_rows_stream_exactly) {
  for (int64_t cols : {int64_t(32), int64_t(33)}) {
    const int64_t rows = 270001;  // x 33 float32 = 35.6 MB, above a 32 MiB L3; not a multiple of a block's rows
    Tensor a = O::reshape(O::arange(0, double(rows), 1, DType::Float32), Dims{rows, 1});
    Tensor b = O::div(O::arange(1, double(cols) + 1, 1, DType::Float32), vec({7}, {}, DType::Float32));
    Tensor big = O::mul(a, b);
    for (int64_t r : {int64_t(0), int64_t(1), int64_t(30), int64_t(31), int64_t(32), int64_t(1000), rows - 2, rows - 1}) {
      std::vector<double> got = values(O::select(big, 0, r)), want = values(O::mul(O::select(a, 0, r), b));
      CHECK(same(got, want, 0));
    }
  }
}

TEST(creation) {
  CHECK(same(values(O::eye(2, 3, DType::Float32)), {1, 0, 0, 0, 1, 0}));
  CHECK(same(values(O::arange(1, 2, 0.25, DType::Float64)), {1, 1.25, 1.5, 1.75}));
  CHECK(same(values(O::full(Dims{2}, 7, DType::Int64)), {7, 7}));
  CHECK(O::zeros(Dims{0, 3}, DType::Float32).numel() == 0);
}

TEST(errors_name_op_and_shapes) {
  Tensor a = vec({1, 2, 3});
  Tensor b = vec({1, 2});
  CHECK_THROWS(O::add(a, b), ErrorKind::Shape, "add: shapes [3] and [2] cannot be broadcast");
  // binary elementwise ops promote mixed dtypes (test_promotion.cpp); matmul, like torch, does not
  CHECK_THROWS(O::matmul(a, vec({1, 2, 3}, {}, DType::Float32)), ErrorKind::DType, "dtype mismatch: float64 [3] vs float32 [3]");
  CHECK_THROWS(O::sum(a, Dims{1}, false), ErrorKind::Index, "sum: dim 1 out of range");
  CHECK_THROWS(O::reshape(a, Dims{2, 2}), ErrorKind::Shape, "shape [2, 2] is invalid for input of shape [3]");
  CHECK_THROWS(O::zeros(Dims{-1}, DType::Float32), ErrorKind::Argument, "negative size -1");
  CHECK_THROWS(O::matmul(vec({1, 2, 3, 4, 5, 6}, {2, 3}), vec({1, 2, 3, 4}, {2, 2})), ErrorKind::Shape, "matmul: shapes [2, 3] and [2, 2]");
  int64_t bad[] = {3};
  CHECK_THROWS(O::index_select(a, 0, O::from_data(bad, Dims{1}, DType::Int64)), ErrorKind::Index, "index 3 out of range");
  CHECK_THROWS(O::select(a, 0, -4), ErrorKind::Index, "index -4 out of range");
  CHECK_THROWS(O::exp(O::full(Dims{2}, 1, DType::Int64)), ErrorKind::DType, "exp: expected a floating point tensor");
  CHECK_THROWS(O::permute(vec({1, 2, 3, 4}, {2, 2}), Dims{0, 0}), ErrorKind::Argument, "repeated");
  CHECK_THROWS(O::expand(a, Dims{2, 4}), ErrorKind::Shape, "cannot expand shape [3] to [2, 4]");
  CHECK_THROWS(O::zeros(Dims{1ll << 40, 1ll << 40}, DType::Float64), ErrorKind::Argument, "full: shape [1099511627776, 1099511627776] has more elements than int64 can count");
  CHECK_THROWS(O::zeros(Dims{1ll << 40, 1ll << 20}, DType::Float64), ErrorKind::OutOfMemory, "");
}

TEST(nan_and_inf_propagate) {
  double inf = INFINITY, nan = NAN;
  Tensor x = vec({nan, inf, -inf, 1});
  auto r = values(O::relu(x));
  CHECK(std::isnan(r[0]) && r[1] == inf && r[2] == 0);
  auto m = values(O::amax(x, Dims{}, false));
  CHECK(std::isnan(m[0]));
  auto s = values(O::sum(vec({inf, -inf}), Dims{}, false));
  CHECK(std::isnan(s[0]));
}

TEST(memory_is_returned) {
  MemoryStats before = memory_stats();
  for (int i = 0; i < 1000; i++) {
    Tensor t = O::add(O::ones(Dims{64}, DType::Float32), O::ones(Dims{64}, DType::Float32));
    (void)t;
  }
  MemoryStats after = memory_stats();
  CHECK(after.live_bytes == before.live_bytes);
  CHECK(after.live_tensors == before.live_tensors);
}

// Threads that make tensors, hand some to another thread and exit: every count comes back. The
// thread-exit hooks retire a thread's counts and cached blocks, including frees that happen in
// its exit after them (a thread_local holding a tensor), and a freed-elsewhere tensor counts on
// the freeing thread.
namespace {
struct HeldAtExit {
  Tensor t;
};
}  // namespace

TEST(memory_is_returned_across_thread_exits) {
  MemoryStats before = memory_stats();
  std::vector<Tensor> handed(8);
  for (int round = 0; round < 3; round++) {
    std::vector<std::thread> threads;
    for (int k = 0; k < 8; k++)
      threads.emplace_back([&handed, k] {
        // Made before the thread's first allocation, so destroyed after the allocator's exit hooks.
        static thread_local HeldAtExit held;
        for (int i = 0; i < 200; i++) (void)O::add(O::ones(Dims{64 + i}, DType::Float32), O::ones(Dims{1}, DType::Float32));
        held.t = O::ones(Dims{1000}, DType::Float64);
        handed[size_t(k)] = O::ones(Dims{32}, DType::Float32);  // released by the main thread
      });
    for (std::thread& t : threads) t.join();
    handed.assign(8, Tensor());
  }
  MemoryStats after = memory_stats();
  CHECK(after.live_bytes == before.live_bytes);
  CHECK(after.live_tensors == before.live_tensors);
}

int main() { return check::run_all(); }
