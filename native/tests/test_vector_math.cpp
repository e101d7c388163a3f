// Accuracy, special values and speed of the vectorised kernels (backends/cpu/vector_math.h), for
// every ISA this CPU supports (each forced through vm::kernels(isa)).
//
// float32 results are compared with libm evaluated in double (effectively exact for float32) and
// must be within 2 ulp; float64 exp/tanh/sigmoid are compared with long double libm. Zeros, NaNs and
// infinities must behave exactly as the scalar kernels in elementwise.cpp do.
// ADJOINT_VM_EXHAUSTIVE=1 additionally checks every one of the 2^32 float32 inputs (minutes).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/cpu/vector_math.h"
#include "check.h"
#include "ops/ops.h"

using namespace adjoint;
namespace vm = adjoint::cpu::vm;
namespace O = adjoint::ops;

#ifdef NDEBUG
constexpr int64_t kScale = 4;  // optimised build: about two million inputs per function
#else
constexpr int64_t kScale = 1;  // debug / sanitizer build: a quarter million
#endif

static std::vector<vm::Isa> isas() {
  std::vector<vm::Isa> v;
  for (int i = 0; i < vm::kNumIsas; i++)
    if (vm::isa_supported(vm::Isa(i))) v.push_back(vm::Isa(i));
  return v;
}

static float f_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
static uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static uint64_t bits(double f) { uint64_t u; std::memcpy(&u, &f, 8); return u; }

// |y - ref| in units of the float32 ulp at ref (subnormal spacing below FLT_MIN); inf counts as
// 2^128 so a rounding across FLT_MAX is 1 ulp, not infinitely many. NaN must match NaN.
static double ulp_err_f32(float y, double ref) {
  if (std::isnan(ref) || std::isnan(y)) return std::isnan(ref) && std::isnan(y) ? 0 : INFINITY;
  const double big = std::ldexp(1.0, 128);
  double yy = std::isinf(y) ? std::copysign(big, y) : y;
  double r = std::fabs(ref) >= big ? std::copysign(big, ref) : ref;
  int e = r == 0 ? -200 : std::ilogb(r);
  double ulp = std::ldexp(1.0, std::max(e, -126) - 23);
  return std::fabs(yy - r) / ulp;
}

static double ulp_err_f64(double y, long double ref) {
  if (std::isnan(ref) || std::isnan(y)) return std::isnan(ref) && std::isnan(y) ? 0 : INFINITY;
  const long double big = std::ldexp(1.0L, 1024);
  long double yy = std::isinf(y) ? std::copysign(big, (long double)y) : (long double)y;
  long double r = std::fabs(ref) >= big ? std::copysign(big, ref) : ref;
  int e = r == 0 ? -2000 : std::ilogb(r);
  long double ulp = std::ldexp(1.0L, std::max(e, -1022) - 52);
  return double(std::fabs(yy - r) / ulp);
}

// ---------------------------------------------------------------------------------------------
// The functions under test: the vector kernel, a precise reference, and the scalar kernel from
// elementwise.cpp (the semantics to keep).

template <class T> static T sigmoid_scalar(T x) {
  return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}

struct F32Fn {
  const char* name;
  vm::UnaryF32 vm::Kernels::*kernel;
  double (*ref)(double);
  float (*scalar)(float);
  std::vector<std::pair<double, double>> ranges;  // uniform random inputs
  std::vector<double> edges;                      // sweeps of consecutive floats around these
};

static const std::vector<F32Fn>& f32_fns() {
  static const std::vector<F32Fn> fns = {
      {"exp", &vm::Kernels::exp_f32, [](double x) { return std::exp(x); }, [](float x) { return std::exp(x); },
       {{-110, 95}, {-1, 1}, {-87.5, -86}},
       {0, 88.72283935546875, -87.33654, -103.27893, -103.97208, 1e-7, -1e-7}},
      {"log", &vm::Kernels::log_f32, [](double x) { return std::log(x); }, [](float x) { return std::log(x); },
       {{0, 4}, {0.5, 2}, {0, 1e-37}, {0, 3e38}},
       {1, 0.70710677, 1.17549435e-38, 1.4e-45, 2, 0.5}},
      {"sin", &vm::Kernels::sin_f32, [](double x) { return std::sin(x); }, [](float x) { return std::sin(x); },
       {{-4, 4}, {-1e4, 1e4}, {-1e6, 1e6}, {-2e6, 2e6}},
       {0, 1.5707964, 3.1415927, 4.712389, 1e6, -1e6, 102.10176, 7853.9814, 628318.5}},
      {"cos", &vm::Kernels::cos_f32, [](double x) { return std::cos(x); }, [](float x) { return std::cos(x); },
       {{-4, 4}, {-1e4, 1e4}, {-1e6, 1e6}, {-2e6, 2e6}},
       {0, 1.5707964, 3.1415927, 4.712389, 1e6, -1e6, 102.10176, 7853.9814, 628318.5}},
      {"tanh", &vm::Kernels::tanh_f32, [](double x) { return std::tanh(x); }, [](float x) { return std::tanh(x); },
       {{-12, 12}, {-1, 1}, {-1e-3, 1e-3}},
       {0, 0.625, -0.625, 9.01, 9.5, -9.5, 0.55}},
      {"sigmoid", &vm::Kernels::sigmoid_f32, [](double x) { return sigmoid_scalar(x); }, sigmoid_scalar<float>,
       {{-120, 120}, {-20, 20}, {-104, -86}},
       {0, -87.33654, -103.27893, -103.97208, 16.63, 88.72284, -1e-7}},
  };
  return fns;
}

struct F64Fn {
  const char* name;
  vm::UnaryF64 vm::Kernels::*kernel;
  long double (*ref)(long double);
  double (*scalar)(double);
  std::vector<std::pair<double, double>> ranges;
  std::vector<double> edges;
};

static const std::vector<F64Fn>& f64_fns() {
  static const std::vector<F64Fn> fns = {
      {"exp", &vm::Kernels::exp_f64, [](long double x) { return std::exp(x); }, [](double x) { return std::exp(x); },
       {{-750, 712}, {-1, 1}},
       {0, 709.782712893384, -708.3964185322641, -744.4400719213812, -745.1332191019411, 1e-17}},
      {"tanh", &vm::Kernels::tanh_f64, [](long double x) { return std::tanh(x); }, [](double x) { return std::tanh(x); },
       {{-25, 25}, {-1, 1}, {-1e-5, 1e-5}},
       {0, 0.625, -0.625, 19.06, 22}},
      {"sigmoid", &vm::Kernels::sigmoid_f64, [](long double x) { return sigmoid_scalar(x); }, sigmoid_scalar<double>,
       {{-760, 760}, {-40, 40}},
       {0, -708.3964185322641, -745.1332191019411, 36.7, -1e-17}},
  };
  return fns;
}

// Special inputs that every function gets.
static std::vector<float> special_f32() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f, -0.0f, inf, -inf, std::nanf(""), -std::nanf(""), f_of(0x7fc12345), f_of(0xffa00001),
                          f_of(0x7f800001) /* signalling */, 1.0f, -1.0f, 0.5f, -0.5f, 2.0f, -2.0f,
                          std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                          f_of(0x007fffff), f_of(0x807fffff), f_of(0x00000100),
                          std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                          1e-30f, -1e-30f, 1e30f, -1e30f, 100.0f, -100.0f, 1e7f, -1e7f, 3.0e38f};
  return v;
}

static std::vector<double> special_f64() {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v = {0.0, -0.0, inf, -inf, std::nan(""), -std::nan(""), 1.0, -1.0, 0.5, -0.5,
                           std::numeric_limits<double>::min(), -std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                           1e-300, -1e-300, 1e300, -1e300, 1000.0, -1000.0, 800.0, -800.0};
  return v;
}

template <class T> static std::vector<T> inputs(const std::vector<std::pair<double, double>>& ranges,
                                                const std::vector<double>& edges, std::vector<T> special,
                                                uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<T> v = std::move(special);
  const int64_t n_bits = 128 * 1024 * kScale, n_range = 96 * 1024 * kScale, n_edge = 2048 * kScale;
  for (int64_t i = 0; i < n_bits; i++) {  // every exponent, NaN, inf, subnormals
    uint64_t u = rng();
    T f;
    std::memcpy(&f, &u, sizeof f);
    v.push_back(f);
  }
  for (auto [lo, hi] : ranges) {
    std::uniform_real_distribution<double> d(lo, hi);
    for (int64_t i = 0; i < n_range; i++) v.push_back(T(d(rng)));
  }
  for (double e : edges) {
    for (double s : {e, -e}) {
      T x = T(s), y = T(s);
      for (int64_t i = 0; i < n_edge; i++) {
        v.push_back(x);
        v.push_back(y);
        x = std::nextafter(x, std::numeric_limits<T>::infinity());
        y = std::nextafter(y, -std::numeric_limits<T>::infinity());
      }
    }
  }
  // Near multiples of pi/2 (hard cases for sin/cos argument reduction) for every function.
  for (int k = 1; k < 4000 * kScale; k++) {
    double m = k * (k < 2000 * kScale ? 1.0 : 331.0) * M_PI / 2;
    T x = T(m);
    for (int d = 0; d < 4; d++) {
      v.push_back(x);
      v.push_back(-x);
      x = std::nextafter(x, std::numeric_limits<T>::infinity());
    }
  }
  return v;
}

// Zeros, NaNs and infinities as the scalar kernel produces them (the ulp check handles the rest).
static bool same_special(float y, float s) {
  if (std::isnan(s) || std::isnan(y)) return std::isnan(s) && std::isnan(y);
  if (s == 0 && y == 0) return std::signbit(s) == std::signbit(y);
  return true;
}
static bool same_special(double y, double s) {
  if (std::isnan(s) || std::isnan(y)) return std::isnan(s) && std::isnan(y);
  if (s == 0 && y == 0) return std::signbit(s) == std::signbit(y);
  return true;
}

struct Worst {
  double ulp = 0;
  double x = 0;
  int64_t bad_special = 0;
};

// ---------------------------------------------------------------------------------------------

static double ulp_err(float y, double ref) { return ulp_err_f32(y, ref); }
static double ulp_err(double y, long double ref) { return ulp_err_f64(y, ref); }

// Every function of one precision (F32Fn or F64Fn) on every ISA: within 2 ulp of the wide
// reference on random, edge and special inputs, and specials exactly as the scalar kernel.
template <class T, class Ref, class Fn>
static void check_within_2ulp(const std::vector<Fn>& fns, const std::vector<T>& specials, int seed, const char* tag, int digits) {
  for (const Fn& fn : fns) {
    std::vector<T> x = inputs<T>(fn.ranges, fn.edges, specials, seed + fn.name[0] + fn.name[1]);
    const size_t n = x.size();
    std::vector<Ref> ref(n);
    std::vector<T> sc(n), y(n);
    for (size_t i = 0; i < n; i++) {
      ref[i] = fn.ref(Ref(x[i]));
      sc[i] = fn.scalar(x[i]);
    }
    for (vm::Isa isa : isas()) {
      const vm::Kernels& k = vm::kernels(isa);
      (k.*fn.kernel)(x.data(), y.data(), int64_t(n));
      Worst w;
      for (size_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], ref[i]);
        if (e > w.ulp) { w.ulp = e; w.x = double(x[i]); }
        if (!same_special(y[i], sc[i])) {
          if (w.bad_special++ < 5)
            std::printf("  %s/%s(%a): got %a, scalar kernel gives %a\n", fn.name, k.name, double(x[i]), double(y[i]), double(sc[i]));
        }
      }
      std::printf("  %s %-8s %-8s max %.3f ulp (at x = %.*g), %zu inputs\n", tag, fn.name, k.name, w.ulp, digits, w.x, n);
      CHECK(w.ulp <= 2.0);
      CHECK(w.bad_special == 0);
    }
  }
}

TEST(float32_transcendentals_within_2ulp) { check_within_2ulp<float, double>(f32_fns(), special_f32(), 1234, "f32", 9); }

TEST(float64_transcendentals_within_2ulp) { check_within_2ulp<double, long double>(f64_fns(), special_f64(), 99, "f64", 17); }

// Exact values at the special points, for every ISA.
TEST(special_values_exact) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  const double dinf = std::numeric_limits<double>::infinity();
  auto f1 = [](vm::UnaryF32 f, float x) { float y; f(&x, &y, 1); return y; };
  auto d1 = [](vm::UnaryF64 f, double x) { double y; f(&x, &y, 1); return y; };
  auto same = [](float a, float b) { return bits(a) == bits(b); };
  auto samed = [](double a, double b) { return bits(a) == bits(b); };
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    CHECK(same(f1(k.exp_f32, 0.0f), 1.0f) && same(f1(k.exp_f32, -0.0f), 1.0f));
    CHECK(same(f1(k.exp_f32, inf), inf) && same(f1(k.exp_f32, -inf), 0.0f));
    CHECK(same(f1(k.exp_f32, 89.0f), inf) && same(f1(k.exp_f32, 1e30f), inf));
    CHECK(same(f1(k.exp_f32, -104.0f), 0.0f) && same(f1(k.exp_f32, -1e30f), 0.0f));
    CHECK(f1(k.exp_f32, -100.0f) > 0 && f1(k.exp_f32, -100.0f) < std::numeric_limits<float>::min());
    CHECK(std::isnan(f1(k.exp_f32, nan)));
    CHECK(same(f1(k.log_f32, 1.0f), 0.0f));
    CHECK(same(f1(k.log_f32, 0.0f), -inf) && same(f1(k.log_f32, -0.0f), -inf));
    CHECK(std::isnan(f1(k.log_f32, -1.0f)) && std::isnan(f1(k.log_f32, -inf)) && std::isnan(f1(k.log_f32, nan)));
    CHECK(std::isnan(f1(k.log_f32, -std::numeric_limits<float>::denorm_min())));
    CHECK(same(f1(k.log_f32, inf), inf));
    CHECK(f1(k.log_f32, std::numeric_limits<float>::denorm_min()) == std::log(std::numeric_limits<float>::denorm_min()));
    CHECK(same(f1(k.sin_f32, 0.0f), 0.0f) && same(f1(k.sin_f32, -0.0f), -0.0f));
    CHECK(same(f1(k.sin_f32, -1e-40f), -1e-40f));
    CHECK(same(f1(k.cos_f32, 0.0f), 1.0f) && same(f1(k.cos_f32, -0.0f), 1.0f));
    for (float x : {inf, -inf, nan}) CHECK(std::isnan(f1(k.sin_f32, x)) && std::isnan(f1(k.cos_f32, x)));
    for (float x : {1e7f, -3e9f, 1e38f, 2.5e6f})  // libm's own result beyond the vector range
      CHECK(same(f1(k.sin_f32, x), std::sin(x)) && same(f1(k.cos_f32, x), std::cos(x)));
    CHECK(same(f1(k.tanh_f32, 0.0f), 0.0f) && same(f1(k.tanh_f32, -0.0f), -0.0f));
    CHECK(same(f1(k.tanh_f32, inf), 1.0f) && same(f1(k.tanh_f32, -inf), -1.0f));
    CHECK(same(f1(k.tanh_f32, 20.0f), 1.0f) && same(f1(k.tanh_f32, -1e30f), -1.0f));
    CHECK(same(f1(k.tanh_f32, -1e-30f), -1e-30f) && std::isnan(f1(k.tanh_f32, nan)));
    CHECK(same(f1(k.sigmoid_f32, 0.0f), 0.5f) && same(f1(k.sigmoid_f32, -0.0f), 0.5f));
    CHECK(same(f1(k.sigmoid_f32, inf), 1.0f) && same(f1(k.sigmoid_f32, -inf), 0.0f));
    CHECK(same(f1(k.sigmoid_f32, 800.0f), 1.0f) && same(f1(k.sigmoid_f32, -800.0f), 0.0f));
    CHECK(std::isnan(f1(k.sigmoid_f32, nan)));

    CHECK(samed(d1(k.exp_f64, 0.0), 1.0) && samed(d1(k.exp_f64, dinf), dinf) && samed(d1(k.exp_f64, -dinf), 0.0));
    CHECK(samed(d1(k.exp_f64, 710.0), dinf) && samed(d1(k.exp_f64, -746.0), 0.0) && std::isnan(d1(k.exp_f64, NAN)));
    CHECK(d1(k.exp_f64, -740.0) > 0 && d1(k.exp_f64, -740.0) < std::numeric_limits<double>::min());
    CHECK(samed(d1(k.tanh_f64, -0.0), -0.0) && samed(d1(k.tanh_f64, dinf), 1.0) && samed(d1(k.tanh_f64, -dinf), -1.0));
    CHECK(samed(d1(k.tanh_f64, -1e-300), -1e-300) && std::isnan(d1(k.tanh_f64, NAN)));
    CHECK(samed(d1(k.sigmoid_f64, 0.0), 0.5) && samed(d1(k.sigmoid_f64, -dinf), 0.0) &&
          samed(d1(k.sigmoid_f64, dinf), 1.0) && std::isnan(d1(k.sigmoid_f64, NAN)));
  }
}

// neg/abs/relu/sqrt and add/sub/mul/div are exact: bit-identical to the scalar expressions,
// for every length (tails), broadcast pattern and in place, without touching past the end.
TEST(simple_ops_bit_exact_with_tails) {
  std::mt19937 rng(7);
  std::vector<float> pool = special_f32();
  std::uniform_real_distribution<float> d(-10, 10);
  for (int i = 0; i < 200; i++) pool.push_back(d(rng));
  auto pick = [&]() { return pool[rng() % pool.size()]; };
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0;
    for (int n = 0; n <= 70; n++) {
      std::vector<float> a(n + 16), b(n + 16), o(n + 16, 12345.0f);
      std::vector<double> ad(n + 16), bd(n + 16), od(n + 16, 12345.0);
      for (int i = 0; i < n + 16; i++) { a[i] = pick(); b[i] = pick(); ad[i] = a[i] * 1.1; bd[i] = b[i]; }
      struct U { vm::UnaryF32 f; vm::UnaryF64 g; float (*s)(float); double (*t)(double); };
      const U us[] = {
          {k.neg_f32, k.neg_f64, [](float x) { return -x; }, [](double x) { return -x; }},
          {k.abs_f32, k.abs_f64, [](float x) { return std::abs(x); }, [](double x) { return std::abs(x); }},
          {k.relu_f32, k.relu_f64, [](float x) { return x > 0 ? x : (x != x ? x : 0.0f); },
           [](double x) { return x > 0 ? x : (x != x ? x : 0.0); }},
          {k.sqrt_f32, k.sqrt_f64, [](float x) { return std::sqrt(x); }, [](double x) { return std::sqrt(x); }},
      };
      for (const U& u : us) {
        u.f(a.data(), o.data(), n);
        u.g(ad.data(), od.data(), n);
        for (int i = 0; i < n; i++) {
          float s = u.s(a[i]);
          double t = u.t(ad[i]);
          bad += !(bits(o[i]) == bits(s) || (std::isnan(s) && std::isnan(o[i])));
          bad += !(bits(od[i]) == bits(t) || (std::isnan(t) && std::isnan(od[i])));
        }
        for (int i = n; i < n + 16; i++) bad += o[i] != 12345.0f || od[i] != 12345.0;
      }
      struct B { vm::BinaryF32 f; vm::BinaryF64 g; int op; };
      const B bs[] = {{k.add_f32, k.add_f64, 0}, {k.sub_f32, k.sub_f64, 1}, {k.mul_f32, k.mul_f64, 2},
                      {k.div_f32, k.div_f64, 3}, {k.relu_backward_f32, k.relu_backward_f64, 4}};
      auto ref = [](int op, auto x, auto y) {
        using T = decltype(x);
        return op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : op == 3 ? x / y : (y > T(0) ? x : T(0));
      };
      for (const B& bo : bs) {
        for (auto [sa, sb] : {std::pair<int, int>{1, 1}, {1, 0}, {0, 1}}) {
          bo.f(a.data(), sa, b.data(), sb, o.data(), n);
          bo.g(ad.data(), sa, bd.data(), sb, od.data(), n);
          for (int i = 0; i < n; i++) {
            float s = ref(bo.op, a[i * sa], b[i * sb]);
            double t = ref(bo.op, ad[i * sa], bd[i * sb]);
            bad += !(bits(o[i]) == bits(s) || (std::isnan(s) && std::isnan(o[i])));
            bad += !(bits(od[i]) == bits(t) || (std::isnan(t) && std::isnan(od[i])));
          }
          for (int i = n; i < n + 16; i++) bad += o[i] != 12345.0f || od[i] != 12345.0;
        }
      }
      // In place (exact aliasing).
      std::vector<float> c(a.begin(), a.end()), want(n);
      for (int i = 0; i < n; i++) want[i] = std::exp(c[i]);
      k.exp_f32(c.data(), c.data(), n);
      for (int i = 0; i < n; i++) bad += ulp_err_f32(c[i], std::exp(double(a[i]))) > 2;
      std::vector<float> c2(a.begin(), a.end());
      k.mul_f32(c2.data(), 1, b.data(), 1, c2.data(), n);
      for (int i = 0; i < n; i++) bad += !(bits(c2[i]) == bits(a[i] * b[i]) || std::isnan(c2[i]));
      std::vector<float> c3(a.begin(), a.end());
      k.sin_f32(c3.data(), c3.data(), n);  // includes huge lanes taken by libm
      for (int i = 0; i < n; i++) bad += ulp_err_f32(c3[i], std::sin(double(a[i]))) > 2;
    }
    if (bad) std::printf("  %s: %d mismatches\n", k.name, bad);
    CHECK(bad == 0);
  }
}

// The rows form of each binary kernel equals one call per row, bit for bit, for every broadcast
// pattern, row length (tails) and row stride (rows of a larger matrix, and a broadcast row).
TEST(binary_rows_match_row_calls) {
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.0f, 2.0f);
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    const vm::BinaryF32 f1[] = {k.add_f32, k.sub_f32, k.mul_f32, k.div_f32, k.relu_backward_f32};
    const vm::BinaryRowsF32 fr[] = {k.add_rows_f32, k.sub_rows_f32, k.mul_rows_f32, k.div_rows_f32, k.relu_backward_rows_f32};
    const vm::BinaryF64 g1[] = {k.add_f64, k.sub_f64, k.mul_f64, k.div_f64, k.relu_backward_f64};
    const vm::BinaryRowsF64 gr[] = {k.add_rows_f64, k.sub_rows_f64, k.mul_rows_f64, k.div_rows_f64, k.relu_backward_rows_f64};
    int bad = 0;
    for (int64_t n : {1, 7, 9, 16, 17, 31, 32, 33, 100}) {  // around one and two vectors of each width
      const int64_t rows = 300, ld = n + 3;  // row stride larger than the row
      std::vector<float> a(size_t(rows * ld)), b(size_t(rows * ld));
      for (float& v : a) v = d(rng);
      for (float& v : b) v = d(rng);
      std::vector<double> ad(a.begin(), a.end()), bd(b.begin(), b.end());
      for (int op = 0; op < 5; op++)
        for (auto [sa, sb] : {std::pair<int64_t, int64_t>{1, 1}, {1, 0}, {0, 1}})
          for (auto [ra, rb] : {std::pair<int64_t, int64_t>{ld, ld}, {ld, 0}, {0, ld}, {0, 0}, {n, n}, {n, 0}, {0, n}}) {
            // n: contiguous rows, 0: one row for all (with a scalar operand: the flat paths)
            std::vector<float> o(size_t(rows * n)), w(size_t(rows * n));
            std::vector<double> od(size_t(rows * n)), wd(size_t(rows * n));
            fr[op](a.data(), sa, ra, b.data(), sb, rb, o.data(), n, n, rows);
            gr[op](ad.data(), sa, ra, bd.data(), sb, rb, od.data(), n, n, rows);
            for (int64_t r = 0; r < rows; r++) {
              f1[op](a.data() + r * ra, sa, b.data() + r * rb, sb, w.data() + r * n, n);
              g1[op](ad.data() + r * ra, sa, bd.data() + r * rb, sb, wd.data() + r * n, n);
            }
            bad += std::memcmp(o.data(), w.data(), o.size() * sizeof(float)) != 0;
            bad += std::memcmp(od.data(), wd.data(), od.size() * sizeof(double)) != 0;
            if (sb == 0 && rb == n && ra == n) {  // in place over the contiguous rows: o is a
              std::vector<float> ip(a.begin(), a.begin() + rows * n);
              std::vector<double> ipd(ad.begin(), ad.begin() + rows * n);
              fr[op](ip.data(), 1, n, b.data(), 0, n, ip.data(), n, n, rows);
              gr[op](ipd.data(), 1, n, bd.data(), 0, n, ipd.data(), n, n, rows);
              bad += std::memcmp(ip.data(), w.data(), ip.size() * sizeof(float)) != 0;
              bad += std::memcmp(ipd.data(), wd.data(), ipd.size() * sizeof(double)) != 0;
            }
            if (sa == 1 && sb == 1 && ra == n && rb == 0) {  // in place over the rows, against one row
              std::vector<float> ip(a.begin(), a.begin() + rows * n);
              std::vector<double> ipd(ad.begin(), ad.begin() + rows * n);
              fr[op](ip.data(), 1, n, b.data(), 1, 0, ip.data(), n, n, rows);
              gr[op](ipd.data(), 1, n, bd.data(), 1, 0, ipd.data(), n, n, rows);
              bad += std::memcmp(ip.data(), w.data(), ip.size() * sizeof(float)) != 0;
              bad += std::memcmp(ipd.data(), wd.data(), ipd.size() * sizeof(double)) != 0;
            }
          }
    }
    if (bad) std::printf("  %s: %d mismatching cases\n", k.name, bad);
    CHECK(bad == 0);
  }
}

// Sums in double: every ISA within a few double ulps of a long double reference (summation order
// differs), over lengths around the vector/unroll boundaries, and the same for every call.
TEST(sums_accurate_every_isa) {
  std::mt19937 rng(5);
  std::normal_distribution<double> d(0.0, 3.0);
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0;
    for (int64_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 2048, 70001}) {
      std::vector<float> f(static_cast<size_t>(n));
      std::vector<double> g(static_cast<size_t>(n));
      long double rf = 0, rg = 0, af = 0, ag = 0;
      for (int64_t i = 0; i < n; i++) {
        f[size_t(i)] = float(d(rng));
        g[size_t(i)] = d(rng);
        rf += f[size_t(i)];
        rg += g[size_t(i)];
        af += std::fabs(f[size_t(i)]);
        ag += std::fabs(g[size_t(i)]);
      }
      const double sf = k.sum_f32(f.data(), n), sg = k.sum_f64(g.data(), n);
      bad += std::fabs(double(sf - rf)) > 1e-15 * double(af) + 1e-300;
      bad += std::fabs(double(sg - rg)) > 1e-15 * double(ag) + 1e-300;
      bad += k.sum_f32(f.data(), n) != sf || k.sum_f64(g.data(), n) != sg;
    }
    if (bad) std::printf("  %s: %d bad sums\n", k.name, bad);
    CHECK(bad == 0);
  }
}

// accumulate: acc[k] += x[k] in double, the same bits as the scalar loop, every length and ISA.
TEST(accumulate_every_isa_matches_scalar) {
  std::mt19937 rng(11);
  std::normal_distribution<double> d(0.0, 3.0);
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0;
    for (int64_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100}) {
      std::vector<float> f(static_cast<size_t>(n));
      std::vector<double> g(static_cast<size_t>(n)), acc(static_cast<size_t>(n) + 1), want;
      for (int64_t i = 0; i < n; i++) f[size_t(i)] = float(d(rng)), g[size_t(i)] = d(rng), acc[size_t(i)] = d(rng);
      acc[size_t(n)] = 42;  // past the end: untouched
      want = acc;
      for (int64_t i = 0; i < n; i++) want[size_t(i)] = (want[size_t(i)] + double(f[size_t(i)])) + g[size_t(i)];
      k.accumulate_f32(acc.data(), f.data(), n);
      k.accumulate_f64(acc.data(), g.data(), n);
      bad += acc != want;
    }
    if (bad) std::printf("  %s: %d bad accumulations\n", k.name, bad);
    CHECK(bad == 0);
  }
}

// Small matrix-vector products against a long-double reference, every ISA, every tail length;
// rows past n of y are left alone, and the row stride (lda > row length) is honoured.
template <class T>
int check_gemv(const vm::Kernels& k, std::mt19937& rng, int64_t n, int64_t kk, bool rows) {
  std::normal_distribution<double> d(0.0, 1.0);
  const int64_t lda = (rows ? kk : n) + 3, arows = rows ? n : kk;
  std::vector<T> a(size_t(arows * lda + 1)), x(size_t(kk) + 1), y(size_t(n) + 1, T(42));
  for (T& v : a) v = T(d(rng));
  for (T& v : x) v = T(d(rng));
  if (std::is_same<T, float>::value) {
    auto f = rows ? k.gemv_rows_f32 : k.gemv_cols_f32;
    f(reinterpret_cast<const float*>(a.data()), lda, reinterpret_cast<const float*>(x.data()), reinterpret_cast<float*>(y.data()), n, kk);
  } else {
    auto f = rows ? k.gemv_rows_f64 : k.gemv_cols_f64;
    f(reinterpret_cast<const double*>(a.data()), lda, reinterpret_cast<const double*>(x.data()), reinterpret_cast<double*>(y.data()), n, kk);
  }
  int bad = y[size_t(n)] != T(42);
  const double eps = std::is_same<T, float>::value ? 1e-6 : 1e-15;
  for (int64_t j = 0; j < n; j++) {
    long double want = 0, mag = 0;
    for (int64_t p = 0; p < kk; p++) {
      const long double e = (long double)(rows ? a[size_t(j * lda + p)] : a[size_t(p * lda + j)]) * x[size_t(p)];
      want += e;
      mag += e < 0 ? -e : e;
    }
    bad += !(std::fabs(double(y[size_t(j)] - want)) <= eps * double(kk + 1) * double(mag + 1e-30L));
  }
  return bad;
}

TEST(small_gemv_every_isa_and_tail) {
  std::mt19937 rng(5);
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0, cases = 0;
    for (int64_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 33})
      for (int64_t kk : {0, 1, 2, 5, 8, 16, 17, 31, 40})
        for (bool rows : {true, false}) {
          bad += check_gemv<float>(k, rng, n, kk, rows) + check_gemv<double>(k, rng, n, kk, rows);
          cases += 2;
        }
    if (bad) std::printf("  %s: %d bad gemv results in %d cases\n", k.name, bad, cases);
    CHECK(bad == 0);
  }
}

TEST(iota_every_isa) {
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0;
    for (int64_t n : {0, 1, 2, 7, 8, 9, 17, 100}) {
      std::vector<int64_t> o(static_cast<size_t>(n) + 1, -7);
      k.iota_i64(o.data(), 5 - n, n);
      for (int64_t i = 0; i < n; i++) bad += o[size_t(i)] != 5 - n + i;
      bad += o[size_t(n)] != -7;
    }
    CHECK(bad == 0);
  }
}

// Value facts: one Inf, NaN or zero placed anywhere (head, vector body, tail, second block) is seen.
TEST(value_facts_every_isa_and_position) {
  for (vm::Isa isa : isas()) {
    const vm::Kernels& k = vm::kernels(isa);
    int bad = 0;
    for (int64_t n : {0, 1, 5, 16, 17, 33, 8192, 8193, 20000}) {
      std::vector<float> f(size_t(n), 1.25f);
      std::vector<double> g(size_t(n), -3.5);
      bad += k.facts_f32(f.data(), n) != 6 || k.facts_f64(g.data(), n) != 6;
      for (int64_t pos : {int64_t(0), n / 2, n - 1, int64_t(8191), int64_t(8200)}) {
        if (pos < 0 || pos >= n) continue;
        const std::pair<double, uint8_t> cases[] = {{INFINITY, 0}, {-INFINITY, 0}, {NAN, 0}, {0.0, 2}, {-0.0, 2}, {1e-40, 6}};
        for (auto [v, want] : cases) {
          f[size_t(pos)] = float(v);
          g[size_t(pos)] = v == 1e-40 ? 1e-310 : v;  // subnormal: finite and nonzero
          bad += k.facts_f32(f.data(), n) != want;
          bad += k.facts_f64(g.data(), n) != want;
          f[size_t(pos)] = 1.25f;
          g[size_t(pos)] = -3.5;
        }
      }
    }
    if (bad) std::printf("  %s: %d wrong facts\n", k.name, bad);
    CHECK(bad == 0);
  }
}

// The backend routes contiguous float runs through the active kernels and keeps the scalar path for
// strided views; both agree with the reference.
// The library runs the best table the CPU supports: on aarch64 that is neon (Advanced SIMD is part
// of every AArch64 Linux system), and neither x86 table is ever offered there (nor neon on x86-64).
TEST(best_isa_is_active) {
  if (std::getenv("ADJOINT_VM_ISA") != nullptr) return;  // capped on purpose
  int best = 0;
  for (vm::Isa isa : isas()) best = std::max(best, int(isa));
  CHECK(int(vm::active_isa()) == best);
#if defined(__aarch64__)
  CHECK(vm::isa_supported(vm::Isa::Neon));
  CHECK(vm::active_isa() == vm::Isa::Neon);
  CHECK(!vm::isa_supported(vm::Isa::Avx2) && !vm::isa_supported(vm::Isa::Avx512));
#else
  CHECK(!vm::isa_supported(vm::Isa::Neon));
#endif
}

TEST(backend_uses_vector_kernels) {
  const int64_t n = 1000;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; i++) v[i] = float(i - 500) * 0.037f;
  Tensor x = O::from_data(v.data(), Dims{n}, DType::Float32);
  Tensor xs = O::slice(O::reshape(x, Dims{n / 2, 2}), 1, 0, 1, 1);  // stride-2 view
  const vm::Kernels& k = vm::active();
  std::printf("  active ISA: %s\n", k.name);
  struct C { Tensor (*op)(const Tensor&); vm::UnaryF32 f; double (*ref)(double); };
  const C cs[] = {{O::exp, k.exp_f32, [](double x) { return std::exp(x); }},
                  {O::log, k.log_f32, [](double x) { return std::log(x); }},
                  {O::sin, k.sin_f32, [](double x) { return std::sin(x); }},
                  {O::cos, k.cos_f32, [](double x) { return std::cos(x); }},
                  {O::tanh, k.tanh_f32, [](double x) { return std::tanh(x); }},
                  {O::sigmoid, k.sigmoid_f32, [](double x) { return sigmoid_scalar(x); }}};
  for (const C& c : cs) {
    Tensor y = c.op(x);
    std::vector<float> want(n);
    c.f(v.data(), want.data(), n);
    CHECK(std::memcmp(y.data<float>(), want.data(), n * sizeof(float)) == 0);
    Tensor ys = O::contiguous(c.op(xs));
    for (int64_t i = 0; i < n / 2; i++) CHECK(ulp_err_f32(ys.data<float>()[i], c.ref(v[2 * i])) <= 2);
  }
  Tensor s = O::add(x, O::scalar(2.5, DType::Float32));
  for (int64_t i = 0; i < n; i++) CHECK(s.data<float>()[i] == v[i] + 2.5f);
  Tensor s2 = O::sub(O::scalar(2.5, DType::Float32), x);
  for (int64_t i = 0; i < n; i++) CHECK(s2.data<float>()[i] == 2.5f - v[i]);
}

// Exhaustive float32 check (opt-in: ADJOINT_VM_EXHAUSTIVE=1 for every function, or a
// comma-separated list of names such as exp,sigmoid). A few minutes per function.
TEST(float32_exhaustive_opt_in) {
  const char* env = std::getenv("ADJOINT_VM_EXHAUSTIVE");
  if (!env || !*env || std::string(env) == "0") {
    std::printf("  skipped (set ADJOINT_VM_EXHAUSTIVE=1)\n");
    return;
  }
  const std::string want = std::string(",") + env + ",";
  const int64_t chunk = 1 << 22;
  std::vector<float> x(chunk), y(chunk), sc(chunk);
  std::vector<double> ref(chunk);
  for (const F32Fn& fn : f32_fns()) {
    if (want != ",1," && want.find(std::string(",") + fn.name + ",") == std::string::npos) continue;
    std::vector<Worst> w(vm::kNumIsas);
    for (uint64_t start = 0; start < (uint64_t(1) << 32); start += chunk) {
      for (int64_t i = 0; i < chunk; i++) {
        x[i] = f_of(uint32_t(start + i));
        ref[i] = fn.ref(double(x[i]));
        sc[i] = fn.scalar(x[i]);
      }
      for (vm::Isa isa : isas()) {
        (vm::kernels(isa).*fn.kernel)(x.data(), y.data(), chunk);
        Worst& wi = w[int(isa)];
        for (int64_t i = 0; i < chunk; i++) {
          double e = ulp_err_f32(y[i], ref[i]);
          if (e > wi.ulp) { wi.ulp = e; wi.x = x[i]; }
          wi.bad_special += !same_special(y[i], sc[i]);
        }
      }
    }
    for (vm::Isa isa : isas()) {
      const Worst& wi = w[int(isa)];
      std::printf("  exhaustive f32 %-8s %-8s max %.3f ulp (at x = %.9g), %" PRId64 " special mismatches\n", fn.name,
                  vm::kernels(isa).name, wi.ulp, wi.x, wi.bad_special);
      CHECK(wi.ulp <= 2.0);
      CHECK(wi.bad_special == 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Speed: ns/element, scalar libm loop (the old kernel) vs each ISA, on an L1/L2-resident buffer.

// Best of 5 timed runs (each ~6 ms in optimised builds): robust to a busy machine.
template <class F> static double ns_per_elem(F f, int64_t n) {
  using clk = std::chrono::steady_clock;
  f();  // warm up
  double best = INFINITY;
  const double budget = kScale > 1 ? 0.006 : 0.001;
  for (int trial = 0; trial < 5; trial++) {
    int64_t reps = 0;
    auto t0 = clk::now();
    double el = 0;
    do {
      f();
      reps++;
      el = std::chrono::duration<double>(clk::now() - t0).count();
    } while (el < budget);
    best = std::min(best, el * 1e9 / double(reps * n));
  }
  return best;
}

template <class T> static void no_opt(T* p) { asm volatile("" : : "r"(p) : "memory"); }

TEST(benchmark_report) {
  const int64_t n = 4096;
  std::mt19937 rng(3);
  std::vector<float> x(n), y(n), b(n);
  std::vector<double> xd(n), yd(n), bd(n);
  std::printf("  ns/element, n = %" PRId64 " (speedup vs scalar libm loop)\n", n);
  std::printf("  %-14s %9s", "op", "scalar");
  for (vm::Isa isa : isas()) std::printf(" %16s", vm::kernels(isa).name);
  std::printf("\n");
  // The baseline is the old contiguous kernel: a loop with the scalar op inlined (a lambda), as
  // unary_loop compiled it.
  auto row = [&](const char* name, double lo, double hi, auto scalar, auto member, auto& xs, auto& ys) {
    using T = std::decay_t<decltype(xs[0])>;
    std::uniform_real_distribution<double> d(lo, hi);
    for (auto& v : xs) v = T(d(rng));
    double base = ns_per_elem([&] { for (int64_t i = 0; i < n; i++) ys[i] = scalar(xs[i]); no_opt(ys.data()); }, n);
    std::printf("  %-14s %9.3f", name, base);
    for (vm::Isa isa : isas()) {
      auto f = vm::kernels(isa).*member;
      double t = ns_per_elem([&] { f(xs.data(), ys.data(), n); no_opt(ys.data()); }, n);
      std::printf("  %7.3f (%5.1fx)", t, base / t);
    }
    std::printf("\n");
  };
  using K = vm::Kernels;
  row("exp f32", -10, 10, [](float v) { return std::exp(v); }, &K::exp_f32, x, y);
  row("log f32", 0.01, 100, [](float v) { return std::log(v); }, &K::log_f32, x, y);
  row("sin f32", -10, 10, [](float v) { return std::sin(v); }, &K::sin_f32, x, y);
  row("cos f32", -10, 10, [](float v) { return std::cos(v); }, &K::cos_f32, x, y);
  row("sin f32 1e4", -1e4, 1e4, [](float v) { return std::sin(v); }, &K::sin_f32, x, y);
  row("tanh f32", -5, 5, [](float v) { return std::tanh(v); }, &K::tanh_f32, x, y);
  // (the library is built with -fno-math-errno, so its exp(x)/(1+exp(x)) calls exp once; this test
  // is not, hence the explicit temporary, same results)
  auto sig = [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  };
  row("sigmoid f32", -10, 10, [&](float v) { return sig(v); }, &K::sigmoid_f32, x, y);
  row("relu f32", -10, 10, [](float v) { return v > 0 ? v : (v != v ? v : 0.0f); }, &K::relu_f32, x, y);
  row("exp f64", -10, 10, [](double v) { return std::exp(v); }, &K::exp_f64, xd, yd);
  row("tanh f64", -5, 5, [](double v) { return std::tanh(v); }, &K::tanh_f64, xd, yd);
  row("sigmoid f64", -10, 10, [&](double v) { return sig(v); }, &K::sigmoid_f64, xd, yd);
  // add: the old loop is a plain scalar loop compiled like the library (baseline x86-64).
  for (auto& v : x) v = float(rng() % 1000) * 0.01f;
  for (auto& v : b) v = float(rng() % 1000) * 0.01f + 1;
  {
    double base = ns_per_elem([&] { for (int64_t i = 0; i < n; i++) y[i] = x[i] + b[i]; no_opt(y.data()); }, n);
    std::printf("  %-14s %9.3f", "add f32", base);
    for (vm::Isa isa : isas()) {
      vm::BinaryF32 f = vm::kernels(isa).add_f32;
      double t = ns_per_elem([&] { f(x.data(), 1, b.data(), 1, y.data(), n); no_opt(y.data()); }, n);
      std::printf("  %7.3f (%5.1fx)", t, base / t);
    }
    std::printf("\n");
  }
  // End to end through ops:: on a 1M-element float32 tensor, active ISA.
  const int64_t big = 1 << 20;
  std::vector<float> v(big);
  std::uniform_real_distribution<float> d(-5, 5);
  for (auto& e : v) e = d(rng);
  Tensor t = O::from_data(v.data(), Dims{big}, DType::Float32);
  Tensor ts = O::slice(O::reshape(O::cat({t, t}, 0), Dims{big, 2}), 1, 0, 1, 1);  // a stride-2 view
  for (auto [name, op] : {std::pair<const char*, Tensor (*)(const Tensor&)>{"ops::tanh", O::tanh},
                          {"ops::exp", O::exp}, {"ops::sigmoid", O::sigmoid}}) {
    double strided = ns_per_elem([&] { Tensor r = op(ts); no_opt(r.data<float>()); }, big);
    double contig = ns_per_elem([&] { Tensor r = op(t); no_opt(r.data<float>()); }, big);
    std::printf("  %-14s 1M f32: strided (scalar path) %.3f ns/el, contiguous (%s) %.3f ns/el\n", name, strided,
                vm::active().name, contig);
  }
}

int main() { return check::run_all(); }
