// PyTorch 1.13 CPU RNG, reproduced bit for bit. Sources mirrored (torch 1.13):
//   aten/src/ATen/core/MT19937RNGEngine.h, aten/src/ATen/CPUGeneratorImpl.cpp,
//   aten/src/ATen/core/{DistributionsHelper,TransformationHelper}.h,
//   aten/src/ATen/native/cpu/DistributionTemplates.h, aten/src/ATen/native/cpu/avx_mathfun.h
#include "core/random.h"

#include <cfloat>
#include <cmath>
#include <cstring>

// x87 excess precision (32-bit x86) would change float rounding; SSE arithmetic is required.
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "core/random.cpp needs FLT_EVAL_METHOD == 0 (e.g. SSE2 math) to match PyTorch bit for bit"
#endif
#if defined(__FAST_MATH__)
#error "core/random.cpp must not be compiled with -ffast-math: it would break bit-exactness with PyTorch"
#endif

namespace adjoint {

// NOTE: torch compiles its distribution kernels once per CPU capability. On x86-64 machines with
// AVX2 (incl. AVX512 ones) the AVX2 kernel runs, built with -mfma and GCC's default
// -ffp-contract=fast, so every `a * b + c` in those kernels became a fused multiply-add. Hence
// the explicit std::fma calls below: each one stands for a contraction GCC made in torch (found
// empirically, then checked on millions of values). Where a mul feeds an add that already
// became an FMA, GCC did not fuse it again -- those stay a separate multiply. Do not "simplify".

namespace {

constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // c10::default_rng_seed_val
constexpr double kPi = 3.14159265358979323846;        // c10::pi<double>

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// log256_ps from avx_mathfun.h (Cephes logf), one lane. Input is 1 - u with u in [0, 1), i.e. in
// [2^-24, 1], so the "x <= 0 -> NaN" branch of the vector code can never trigger and is omitted.
float cephes_log(float x) {
  x = std::fmax(x, bits_to_float(0x00800000u));  // cut off denormals (no-op here, kept for fidelity)
  int32_t exponent = static_cast<int32_t>(float_to_bits(x) >> 23) - 0x7f;
  x = bits_to_float((float_to_bits(x) & ~0x7f800000u) | float_to_bits(0.5f));  // mantissa in [0.5,1)
  float e = static_cast<float>(exponent) + 1.0f;
  const bool below = x < 0.707106781186547524f;  // cephes_SQRTHF
  const float tmp = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + tmp;
  const float z = x * x;
  float y = 7.0376836292E-2f;
  y = std::fma(y, x, -1.1514610310E-1f);
  y = std::fma(y, x, 1.1676998740E-1f);
  y = std::fma(y, x, -1.2420140846E-1f);
  y = std::fma(y, x, 1.4249322787E-1f);
  y = std::fma(y, x, -1.6668057665E-1f);
  y = std::fma(y, x, 2.0000714765E-1f);
  y = std::fma(y, x, -2.4999993993E-1f);
  y = std::fma(y, x, 3.3333331174E-1f);
  y = y * x;
  y = std::fma(y, z, e * -2.12194440e-4f);  // y*z + e*q1: GCC fused the first product only
  y = std::fma(-z, 0.5f, y);                // y - z*0.5
  return std::fma(e, 0.693359375f, x + y);  // (x + y) + e*q2
}

// sincos256_ps from avx_mathfun.h (Cephes sinf/cosf), one lane. theta = 2*pi*u is in [0, 2*pi).
void cephes_sincos(float x, float* s, float* c) {
  uint32_t sign_sin = float_to_bits(x) & 0x80000000u;
  x = std::fabs(x);
  int32_t j = static_cast<int32_t>(x * 1.27323954473516f);  // x * 4/pi, truncated (cvttps)
  j = (j + 1) & ~1;
  const float y = static_cast<float>(j);
  const uint32_t swap_sign_sin = static_cast<uint32_t>(j & 4) << 29;
  const bool poly_sin = (j & 2) == 0;  // true: sine comes from the sin polynomial
  const uint32_t sign_cos = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  sign_sin ^= swap_sign_sin;

  // Extended precision modular arithmetic: x = ((x - y*DP1) - y*DP2) - y*DP3.
  x = std::fma(y, -0.78515625f, x);
  x = std::fma(y, -2.4187564849853515625e-4f, x);
  x = std::fma(y, -3.77489497744594108e-8f, x);

  const float z = x * x;
  float yc = 2.443315711809948E-005f;  // cos polynomial (0 <= x <= pi/4)
  yc = std::fma(yc, z, -1.388731625493765E-003f);
  yc = std::fma(yc, z, 4.166664568298827E-002f);
  yc = yc * z;
  yc = std::fma(yc, z, -(z * 0.5f));  // yc*z - z*0.5: the first product got fused
  yc = yc + 1.0f;

  float ys = -1.9515295891E-4f;  // sin polynomial
  ys = std::fma(ys, z, 8.3321608736E-3f);
  ys = std::fma(ys, z, -1.6666654611E-1f);
  ys = ys * z;
  ys = std::fma(ys, x, x);

  // Vector code selects with masks and adds/subtracts zeros; the result is the same selection.
  const float sin_v = poly_sin ? ys : yc;
  const float cos_v = poly_sin ? yc : ys;
  *s = bits_to_float(float_to_bits(sin_v) ^ sign_sin);
  *c = bits_to_float(float_to_bits(cos_v) ^ sign_cos);
}

// normal_fill_16_AVX2: data[0..16) holds uniforms; Box-Muller on pairs (j, j+8).
void normal_fill_16_float(float* data, float mean, float std) {
  const float two_pi = static_cast<float>(2.0f * kPi);
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - data[j];
    const float u2 = data[j + 8];
    const float radius = std::sqrt(-2.0f * cephes_log(u1));
    const float theta = two_pi * u2;
    float sin_t, cos_t;
    cephes_sincos(theta, &sin_t, &cos_t);
    data[j] = std::fma(radius * cos_t, std, mean);      // _mm256_fmadd_ps
    data[j + 8] = std::fma(radius * sin_t, std, mean);
  }
}

// normal_fill_16<double>: libm log/cos/sin in double (same glibc as torch's process).
void normal_fill_16_double(double* data, double mean, double std) {
  const double two_pi = 2.0f * kPi;
  for (int j = 0; j < 8; ++j) {
    const double u1 = 1 - data[j];  // [0, 1) -> (0, 1] for log
    const double u2 = data[j + 8];
    const double radius = std::sqrt(-2 * std::log(u1));
    const double theta = two_pi * u2;
    data[j] = std::fma(radius * std::cos(theta), std, mean);
    data[j + 8] = std::fma(radius * std::sin(theta), std, mean);
  }
}

}  // namespace

// ---- mt19937 (at::mt19937_engine) ----

void Generator::Engine::seed(uint32_t s) {
  state[0] = s;
  for (int j = 1; j < kStateN; ++j) {
    state[j] = 1812433253u * (state[j - 1] ^ (state[j - 1] >> 30)) + static_cast<uint32_t>(j);
  }
  left = 1;
  next = 0;
}

void Generator::Engine::next_state() {
  constexpr int kM = 397;
  auto twist = [](uint32_t u, uint32_t v) {
    return (((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
  };
  uint32_t* p = state;
  left = kStateN;
  next = 0;
  for (int j = kStateN - kM + 1; --j; p++) *p = p[kM] ^ twist(p[0], p[1]);
  for (int j = kM; --j; p++) *p = p[kM - kStateN] ^ twist(p[0], p[1]);
  *p = p[kM - kStateN] ^ twist(p[0], state[0]);
}

uint32_t Generator::Engine::operator()() {
  if (--left == 0) next_state();
  uint32_t y = state[next++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

// ---- Generator ----

Generator::Generator() : Generator(kDefaultSeed) {}

Generator::Generator(uint64_t seed) { reseed_locked(seed); }

void Generator::reseed_locked(uint64_t seed) {
  seed_ = seed;
  engine_.seed(static_cast<uint32_t>(seed & 0xffffffffu));
  has_next_double_normal_ = false;
}

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  reseed_locked(seed);
}

uint64_t Generator::initial_seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seed_;
}

void Generator::copy_state_from(const Generator& src) {
  if (&src == this) return;
  std::scoped_lock lock(mutex_, src.mutex_);
  engine_ = src.engine_;
  seed_ = src.seed_;
  has_next_double_normal_ = src.has_next_double_normal_;
  next_double_normal_ = src.next_double_normal_;
}

std::mutex& Generator::mutex() { return mutex_; }

uint32_t Generator::random() { return engine_(); }

uint64_t Generator::random64() {
  const uint64_t hi = engine_();
  const uint64_t lo = engine_();
  return (hi << 32) | lo;
}

// uniform_real_distribution<float>(0, 1): 24 random bits scaled by 2^-24 (exact).
float Generator::uniform01_float() {
  return static_cast<float>(random() & ((1u << 24) - 1)) * (1.0f / (1u << 24));
}

// uniform_real_distribution<double>(0, 1): 53 bits of random64() scaled by 2^-53 (exact).
double Generator::uniform01_double() {
  return static_cast<double>(random64() & ((1ULL << 53) - 1)) * (1.0 / (1ULL << 53));
}

// at::normal_distribution<double>: one Box-Muller pair, the sine half cached for the next call.
double Generator::normal_scalar(double mean, double std) {
  double ret;
  if (has_next_double_normal_) {
    has_next_double_normal_ = false;
    ret = next_double_normal_;
  } else {
    const double u1 = uniform01_double();
    const double u2 = uniform01_double();
    const double r = std::sqrt(-2.0 * std::log(1.0 - u2));
    const double theta = 2.0 * kPi * u1;
    next_double_normal_ = r * std::sin(theta);
    has_next_double_normal_ = true;
    ret = r * std::cos(theta);
  }
  return std::fma(ret, std, mean);  // transformation::normal: val * std + mean
}

// normal_kernel: n >= 16 fills uniforms then transforms blocks of 16; a ragged tail redraws 16
// fresh uniforms for the last 16 slots and transforms them again. n < 16 uses the scalar path
// (in double, even for float tensors). Neither large path touches the cached normal sample.
void Generator::normal(float* out, int64_t n, double mean, double std) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (n <= 0) return;
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(normal_scalar(mean, std));
    return;
  }
  const float m = static_cast<float>(mean), s = static_cast<float>(std);
  for (int64_t i = 0; i < n; ++i) out[i] = uniform01_float();
  for (int64_t i = 0; i + 16 <= n; i += 16) normal_fill_16_float(out + i, m, s);
  if (n % 16 != 0) {
    float* tail = out + n - 16;
    for (int i = 0; i < 16; ++i) tail[i] = uniform01_float();
    normal_fill_16_float(tail, m, s);
  }
}

void Generator::normal(double* out, int64_t n, double mean, double std) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (n <= 0) return;
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i) out[i] = normal_scalar(mean, std);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = uniform01_double();
  for (int64_t i = 0; i + 16 <= n; i += 16) normal_fill_16_double(out + i, mean, std);
  if (n % 16 != 0) {
    double* tail = out + n - 16;
    for (int i = 0; i < 16; ++i) tail[i] = uniform01_double();
    normal_fill_16_double(tail, mean, std);
  }
}

// uniform_kernel: from/to are cast to the tensor dtype first; x * (to - from) + from is fused.
void Generator::uniform(float* out, int64_t n, double from, double to) {
  std::lock_guard<std::mutex> lock(mutex_);
  const float f = static_cast<float>(from), t = static_cast<float>(to);
  for (int64_t i = 0; i < n; ++i) out[i] = std::fma(uniform01_float(), t - f, f);
}

void Generator::uniform(double* out, int64_t n, double from, double to) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t i = 0; i < n; ++i) out[i] = std::fma(uniform01_double(), to - from, from);
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

}  // namespace adjoint
