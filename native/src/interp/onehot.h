// Structured batching of one-hot values (see the NOTE in batch.cpp): what an op's `onehot` rule
// (ops/op.h) receives, and the helpers rules use to keep the form. A rule returns the exact result
// of the dense batching rule in a cheaper form, or undefined: the caller then densifies the
// one-hot inputs and runs the op's ordinary batching rule.
#pragma once
#include <cstdint>
#include <vector>

#include "interp/level.h"
#include "ops/op.h"

namespace adjoint {

// One op call at a batch level where at least one input is one-hot and every other input is
// unbatched there (at most three inputs).
struct OnehotCall {
  Level* level;
  const Tensor* in;
  int nin;
  const Attrs& at;
  int oh;    // the first one-hot input
  int n_oh;  // how many inputs are one-hot
  Tensor index[3], scale[3];  // per one-hot input: positions [B] or [B, K] and their values
  const Dims& shape() const { return in[oh].shape(); }  // per-example shape of in[oh]
  Tensor wrap(const Tensor& index, const Tensor& scale, const Dims& shape) const;  // a one-hot result
  Tensor dense(const Tensor& value) const;  // a dense result, batch in dim 0
};

namespace onehot {

// Entries per example: 1 for a one-hot index [B], K for a multi-hot one [B, K].
int64_t entries(const Tensor& index);
// Positions (a host int64 vector) as an index tensor: 1-D, or shaped like `like`.
Tensor make_index(std::vector<int64_t>&& v);
// Positions start, start + 1, ..., end - 1 (0 <= start <= end), known to be an affine index.
Tensor arange_index(int64_t start, int64_t end);
Tensor make_index_like(std::vector<int64_t>&& v, const Tensor& like);
// u (per-example shape broadcastable to `shape`) at the flat positions `index` of `shape`, shaped like index.
Tensor gather(const Tensor& u, const Dims& shape, const Tensor& index);
// scale with the entries whose index is -1 forced to exactly zero (not 0 * something).
Tensor mask_invalid(const Tensor& scale, const Tensor& index);
// Whether the dense rule's zeros stay exact zeros against u: all finite (and nonzero for a divisor),
// through every tracer level. NOTE: densely, 0 * Inf, 0 * NaN and 0 / 0 give NaN where the one-hot
// form holds exact zeros (jacrev(sqrt) at [0, 1] is [[Inf, 0], [NaN, 0.5]] densely, as in
// torch.func), so scaling and matmul rules apply only when this holds.
bool finite_operand(const Tensor& u, bool nonzero_too);
bool is_zero_scalar(const Tensor& t);
// A concrete contiguous floating tensor of ones (the basis's scale): a product with it is the other factor.
bool all_ones(const Tensor& t);
// Flat positions moved by a reduction over `reduced` (keepdim or not), or an expand to `out`
// (each entry repeated at its `copies` broadcast copies: [B, K * copies]).
Tensor reduce_index(const Tensor& index, const Dims& shape, const Dims& out_shape, uint32_t reduced, bool keepdim);
Tensor expand_index(const Tensor& index, const Dims& shape, const Dims& out, int64_t copies);
// Positions of a 1-D shape cut to [start, end) (0 <= start <= end): shifted, or -1 outside.
Tensor slice_index(const Tensor& index, int64_t start, int64_t end);
// Reading positions (rules that compute with them, e.g. ops/matmul_onehot.cpp): a contiguous copy
// of an index to loop over; whether any entry is -1 (an invalid position); whether the index is an
// affine view of an arange (then *start is its first position; see onehot.cpp's NOTE).
Tensor contiguous_index(const Tensor& index);
bool any_invalid(const Tensor& index);
bool affine_index(const Tensor& index, int64_t* start);

}  // namespace onehot
}  // namespace adjoint
