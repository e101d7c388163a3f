// Iterates N same-shaped strided operands: dims are coalesced where every operand is contiguous
// across them, then `inner(ptrs, byte_strides, n)` runs over the innermost dim. This one loop
// serves every elementwise, copy, fill and reduction kernel on arbitrary views.
#pragma once
#include <array>
#include <cstdint>
#include <utility>

#include "core/shape.h"
#include "core/tensor.h"

namespace adjoint::cpu {

inline int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

template <int N>
struct Loop {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];  // bytes
  std::array<char*, N> base;
  bool empty = false;

  // by_first: walk dims in the memory order of operand 0 (the output) — elementwise results may be
  // permuted (see empty_elementwise in ops/op_util.h), and writing them in order keeps stores dense.
  // Reductions keep the logical order (their accumulation order is part of their numbers).
  Loop(const Dims& sh, const std::array<const Tensor*, N>& ts, bool by_first = false) {
    // Nothing to visit: the sizes of a shape with no elements may multiply past int64 (numel_of's
    // NOTE), and its strides and offset address nothing, so none of them is looked at.
    for (int i = 0; i < sh.n; i++) empty |= sh[i] == 0;
    if (empty) return;
    for (int k = 0; k < N; k++) base[k] = static_cast<char*>(ts[k]->raw_data());
    // Drop size-1 dims, then coalesce from the innermost outwards.
    for (int i = 0; i < sh.n; i++) {
      if (sh[i] == 1) continue;
      shape[ndim] = sh[i];
      for (int k = 0; k < N; k++) strides[k][ndim] = ts[k]->strides()[i] * int64_t(itemsize(ts[k]->dtype()));
      ndim++;
    }
    if (by_first) {
      // Stable insertion sort by operand 0's stride, largest outermost (a no-op when contiguous).
      for (int i = 1; i < ndim; i++) {
        for (int j = i; j > 0 && abs64(strides[0][j - 1]) < abs64(strides[0][j]); j--) {
          std::swap(shape[j - 1], shape[j]);
          for (int k = 0; k < N; k++) std::swap(strides[k][j - 1], strides[k][j]);
        }
      }
    }
    int w = 0;
    for (int i = 0; i < ndim; i++) {
      if (w > 0) {
        bool merge = true;
        for (int k = 0; k < N; k++)
          if (strides[k][w - 1] != strides[k][i] * shape[i]) { merge = false; break; }
        if (merge) {
          shape[w - 1] *= shape[i];
          for (int k = 0; k < N; k++) strides[k][w - 1] = strides[k][i];
          continue;
        }
      }
      shape[w] = shape[i];
      for (int k = 0; k < N; k++) strides[k][w] = strides[k][i];
      w++;
    }
    ndim = w;
  }

  template <class F>
  void run(F&& inner) const {
    std::array<int64_t, N> s;
    if (empty) return;
    if (ndim == 0) {
      for (int k = 0; k < N; k++) s[k] = 0;
      inner(base, s, int64_t(1));
      return;
    }
    for (int k = 0; k < N; k++) s[k] = strides[k][ndim - 1];
    const int64_t n = shape[ndim - 1];
    if (ndim == 1) { inner(base, s, n); return; }
    int64_t idx[kMaxDims] = {0};
    std::array<char*, N> p = base;
    do inner(p, s, n);
    while (advance(idx, p, ndim - 1));
  }

  // Like run, but hands over the two innermost dims at once — inner(ptrs, strides, n, rows,
  // row_strides) — so a kernel over many short rows (batched Jacobians: rows of 31 or 512) loops
  // over them itself instead of paying this odometer per row.
  template <class F>
  void run_rows(F&& inner) const {
    if (empty) return;
    std::array<int64_t, N> s{}, rs{};
    if (ndim <= 1) {
      if (ndim == 1)
        for (int k = 0; k < N; k++) s[k] = strides[k][0];
      inner(base, s, ndim == 1 ? shape[0] : int64_t(1), int64_t(1), rs);
      return;
    }
    for (int k = 0; k < N; k++) {
      s[k] = strides[k][ndim - 1];
      rs[k] = strides[k][ndim - 2];
    }
    const int64_t n = shape[ndim - 1], rows = shape[ndim - 2];
    if (ndim == 2) { inner(base, s, n, rows, rs); return; }
    int64_t idx[kMaxDims] = {0};
    std::array<char*, N> p = base;
    do inner(p, s, n, rows, rs);
    while (advance(idx, p, ndim - 2));
  }

 private:
  // The odometer over dims [0, outer): steps idx/p to the next position; false after the last.
  bool advance(int64_t* idx, std::array<char*, N>& p, int outer) const {
    for (int d = outer - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        for (int k = 0; k < N; k++) p[k] += strides[k][d];
        return true;
      }
      for (int k = 0; k < N; k++) p[k] -= strides[k][d] * (shape[d] - 1);
      idx[d] = 0;
    }
    return false;
  }
};

}  // namespace adjoint::cpu
