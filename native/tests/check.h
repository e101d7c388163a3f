// A minimal test harness for the C++ unit tests: CHECK records failures, main() reports them.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace check {

inline int& failures() { static int n = 0; return n; }
inline std::vector<std::pair<const char*, std::function<void()>>>& registry() {
  static std::vector<std::pair<const char*, std::function<void()>>> r;
  return r;
}
struct Register {
  Register(const char* name, std::function<void()> f) { registry().emplace_back(name, std::move(f)); }
};

inline int run_all() {
  int failed_tests = 0;
  for (auto& [name, fn] : registry()) {
    int before = failures();
    try {
      fn();
    } catch (const std::exception& e) {
      std::printf("  %s: unexpected exception: %s\n", name, e.what());
      failures()++;
    }
    bool ok = failures() == before;
    failed_tests += !ok;
    std::printf("[%s] %s\n", ok ? " OK " : "FAIL", name);
  }
  std::printf("%zu passed, %d failed\n", registry().size() - failed_tests, failed_tests);
  return failed_tests ? 1 : 0;
}

}  // namespace check

#define TEST(name)                                                 \
  static void name();                                              \
  static check::Register name##_reg_(#name, name);                 \
  static void name()

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
      check::failures()++;                                                             \
    }                                                                                  \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
  do {                                                                                             \
    double a_ = (a), b_ = (b);                                                                     \
    if (!(std::fabs(a_ - b_) <= (tol))) {                                                          \
      std::printf("  %s:%d: CHECK_NEAR failed: %s = %.17g vs %s = %.17g\n", __FILE__, __LINE__, #a, a_, #b, b_); \
      check::failures()++;                                                                         \
    }                                                                                              \
  } while (0)

// Expects `expr` to throw adjoint::Error of `kind` whose message contains `needle`.
#define CHECK_THROWS(expr, want_kind, needle)                                                         \
  do {                                                                                           \
    bool threw_ = false;                                                                         \
    try {                                                                                        \
      (void)(expr);                                                                              \
    } catch (const adjoint::Error& e) {                                                          \
      threw_ = true;                                                                             \
      if (e.kind() != (want_kind) || std::string(e.what()).find(needle) == std::string::npos) {      \
        std::printf("  %s:%d: wrong error from %s: %s\n", __FILE__, __LINE__, #expr, e.what()); \
        check::failures()++;                                                                     \
      }                                                                                          \
    }                                                                                            \
    if (!threw_) {                                                                               \
      std::printf("  %s:%d: %s did not throw\n", __FILE__, __LINE__, #expr);                    \
      check::failures()++;                                                                       \
    }                                                                                            \
  } while (0)
