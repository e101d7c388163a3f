// Element types and the one place that maps a DType to its C++ type.
#pragma once
#include <cstddef>
#include <cstdint>

namespace adjoint {

// NOTE: the numeric values are part of the C API (adjoint.h ADJ_DTYPE_*) and of the Java DType enum.
enum class DType : int8_t { Float32 = 0, Float64 = 1, Int64 = 2, Bool = 3 };
constexpr int kNumDTypes = 4;

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }

// Calls f(T{}) with T the C++ type of d. bool is stored as uint8_t.
template <class F>
auto visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::Bool: default: return f(uint8_t{});
  }
}

template <class F>
auto visit_floating(DType d, F&& f) {
  if (d == DType::Float64) return f(double{});
  return f(float{});
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::Bool; }

}  // namespace adjoint
