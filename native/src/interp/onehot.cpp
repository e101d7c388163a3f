// One-hot batched values (see the NOTE in batch.cpp): densifying them, the helpers that the ops'
// structured rules use (interp/onehot.h), and the dispatch to those rules (OpDef::onehot).
#include "interp/onehot.h"

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace onehot {

namespace O = ops;

// The index is always a concrete host tensor made by this file, so rules may read it; it may be a
// strided view (an affine index, below), so loops over its entries read a contiguous copy.
Tensor contiguous_index(const Tensor& index) { return index.is_contiguous() ? index : O::contiguous(index); }

namespace {

const int64_t* idx_data(const Tensor& contiguous) { return contiguous.data<int64_t>(); }

// Facts about an index storage's entries, cached on it (Storage::value_facts): kIndexAnyNegative
// and kIndexConsecutive (entry i is entry 0 plus i, as in an arange).
constexpr uint8_t kIndexFacts = value_fact::kIndexAnyNegative | value_fact::kIndexConsecutive;
uint8_t storage_facts(const Tensor& index) {
  Storage* st = index.impl()->storage.get();
  const uint8_t known = st->value_facts.load(std::memory_order_relaxed);
  if (known & value_fact::kIndexKnown) return known & kIndexFacts;
  const int64_t* p = static_cast<const int64_t*>(st->data);
  const int64_t n = int64_t(st->nbytes / sizeof(int64_t)), p0 = n ? p[0] : 0;
  int64_t any = 0, off = 0;
  for (int64_t i = 0; i < n; i++) {  // branch-free: vectorises, no early exit
    any |= p[i];           // a sign bit
    off |= p[i] ^ (p0 + i);  // nonzero where an entry breaks the run
  }
  const uint8_t facts = uint8_t((any < 0 ? value_fact::kIndexAnyNegative : 0) |
                                (off == 0 && n > 0 ? value_fact::kIndexConsecutive : 0));  // an empty storage has no entry 0
  st->value_facts.store(uint8_t(known | value_fact::kIndexKnown | facts), std::memory_order_relaxed);
  return facts;
}

}  // namespace

bool any_invalid(const Tensor& index) {
  if (!(storage_facts(index) & value_fact::kIndexAnyNegative)) return false;
  const Tensor c = contiguous_index(index);
  const int64_t* p = idx_data(c);
  int64_t any = 0;
  for (int64_t i = 0, n = c.numel(); i < n; i++) any |= p[i];
  return any < 0;
}

// NOTE: an affine index is a strided view of a consecutive storage (an arange): its entry at
// coordinates c is start + sum(c[d] * strides[d]), so a gather at it is a view with those strides,
// not a copy. expand_index makes one from the basis (jacrev of a sum over a batch dim: positions
// k + 33 q are a transposed arange), and the rules that read positions check the form in O(rank).
bool affine_index(const Tensor& index, int64_t* start) {
  if ((storage_facts(index) & kIndexFacts) != value_fact::kIndexConsecutive) return false;  // consecutive, no -1 (a lone -1 is a run)
  *start = static_cast<const int64_t*>(index.impl()->storage->data)[0] + index.offset();
  return true;
}

namespace {

// The positions of an affine index must lie in [0, n): checked before any view is made from them.
bool affine_in_range(const Tensor& index, int64_t start, int64_t n) {
  int64_t lo = start, hi = start;
  for (int d = 0; d < index.ndim(); d++) {
    if (index.size(d) == 0) return true;
    const int64_t span = (index.size(d) - 1) * index.strides()[d];
    (span < 0 ? lo : hi) += span;
  }
  return lo >= 0 && hi < n;
}

}  // namespace

Tensor make_index(std::vector<int64_t>&& v) {
  return O::from_data(v.data(), Dims{int64_t(v.size())}, DType::Int64);
}

Tensor arange_index(int64_t start, int64_t end) {
  Tensor r = O::arange(double(start), double(end), 1, DType::Int64);
  if (start >= 0 && end > start) r.impl()->storage->value_facts.store(value_fact::kIndexKnown | value_fact::kIndexConsecutive, std::memory_order_relaxed);
  return r;
}

Tensor make_index_like(std::vector<int64_t>&& v, const Tensor& like) {
  return O::from_data(v.data(), like.shape(), DType::Int64);
}

int64_t entries(const Tensor& index) { return index.ndim() == 1 ? 1 : index.size(1); }

Tensor gather(const Tensor& u, const Dims& shape, const Tensor& index) {
  Tensor flat = O::reshape(u.shape() == shape ? u : O::expand(u, shape), Dims{-1});
  // At an affine index (every position once in order, as the basis's, or an expanded basis's
  // transposed arange) the gather is a view of u: nothing copied.
  int64_t start = 0;
  if (!flat.is_tracer() && affine_index(index, &start)) {
    ADJ_CHECK(affine_in_range(index, start, flat.numel()), ErrorKind::Internal, "vmap",
              "one-hot positions out of range for shape " << shape.str());
    const int64_t fs = flat.strides()[0];
    Dims st = index.strides();
    for (int d = 0; d < st.n; d++) st[d] *= fs;
    return Tensor::view_of(flat, index.shape(), st, flat.offset() + start * fs);
  }
  Tensor r;
  const Tensor ix = contiguous_index(index);
  if (!any_invalid(ix)) {
    r = O::index_select(flat, 0, ix.ndim() == 1 ? ix : O::reshape(ix, Dims{-1}));
  } else {
    std::vector<int64_t> clamped(idx_data(ix), idx_data(ix) + ix.numel());
    for (int64_t& i : clamped) i = i < 0 ? 0 : i;
    r = O::index_select(flat, 0, make_index(std::move(clamped)));
  }
  return ix.ndim() == 1 ? r : O::reshape(r, ix.shape());
}

Tensor mask_invalid(const Tensor& scale, const Tensor& index) {
  if (!any_invalid(index)) return scale;
  const Tensor ix = contiguous_index(index);
  std::vector<uint8_t> valid(static_cast<size_t>(ix.numel()));
  for (int64_t i = 0; i < ix.numel(); i++) valid[size_t(i)] = idx_data(ix)[i] >= 0;
  Tensor m = O::from_data(valid.data(), index.shape(), DType::Bool);
  return O::where(m, scale, O::scalar(0, scale.dtype(), scale.device()));
}

Tensor reduce_index(const Tensor& index_view, const Dims& shape, const Dims& out_shape, uint32_t reduced, bool keepdim) {
  const Tensor index = contiguous_index(index_view);
  const int r = shape.n;
  std::vector<int64_t> out(static_cast<size_t>(index.numel()));
  Dims ostr = contiguous_strides(out_shape);
  for (int64_t k = 0; k < index.numel(); k++) {
    int64_t p = idx_data(index)[k];
    if (p < 0) { out[size_t(k)] = -1; continue; }
    int64_t coords[kMaxDims];
    for (int d = r - 1; d >= 0; d--) {
      coords[d] = shape[d] ? p % shape[d] : 0;
      p = shape[d] ? p / shape[d] : 0;
    }
    int64_t q = 0;
    for (int d = 0, o = 0; d < r; d++) {
      bool red = reduced & (1u << d);
      if (red && !keepdim) continue;
      q += (red ? 0 : coords[d]) * ostr[o++];
    }
    out[size_t(k)] = q;
  }
  return make_index_like(std::move(out), index);
}

// Expanding a (multi-)hot value of per-example `shape` to `out` repeats each entry at every
// broadcast copy of its position: entry k of an example becomes entries k * copies + f, f over the
// copies in ascending position order.
Tensor expand_index(const Tensor& index_view, const Dims& shape, const Dims& out, int64_t copies) {
  const int r = out.n, lead = r - shape.n;
  // Each entry of an affine one-hot index (the basis, or a run of it) expands to a row of
  // arange(out) with the kept dims first and the broadcast dims last, in order: a view of it.
  int64_t start = 0;
  const int64_t m = numel_of(shape);
  if (index_view.ndim() == 1 && affine_index(index_view, &start) && affine_in_range(index_view, start, m) &&
      (index_view.size(0) <= 1 || index_view.strides()[0] > 0)) {
    auto broadcast = [&](int d) { return d < lead || (shape[d - lead] == 1 && out[d] != 1); };
    const int64_t n = index_view.size(0), step = n <= 1 ? 1 : index_view.strides()[0];
    // When the kept dims, and the broadcast dims, each merge into one dim of out's row-major
    // layout (always so for one broadcast dim), the rows are a plain strided view: no view ops.
    const Dims ostr = contiguous_strides(out);
    auto merged = [&](bool bc, int64_t* stride) {
      int64_t next = -1;
      *stride = 1;
      for (int d = r - 1; d >= 0; d--) {
        if (broadcast(d) != bc || out[d] == 1) continue;
        if (next >= 0 && ostr[d] != next) return false;
        if (next < 0) *stride = ostr[d];
        next = ostr[d] * out[d];
      }
      return true;
    };
    int64_t rs = 0, cs = 0;
    if (merged(false, &rs) && merged(true, &cs))
      return Tensor::view_of(arange_index(0, m * copies), Dims{n, copies}, Dims{step * rs, cs}, start * rs);
    Dims perm;
    for (int pass = 0; pass < 2; pass++)
      for (int d = 0; d < r; d++)
        if (broadcast(d) == (pass == 1)) perm.push_back(d);
    Tensor full = O::reshape(O::permute(O::reshape(arange_index(0, m * copies), out), perm), Dims{m, copies});
    return O::slice(full, 0, start, start + (n - 1) * step + 1, step);
  }
  const Tensor index = contiguous_index(index_view);
  const Dims ostr = contiguous_strides(out);
  std::vector<int64_t> free{0};  // offsets of the copies: every coordinate of the broadcast dims
  for (int d = 0; d < r; d++) {
    if (d >= lead && !(shape[d - lead] == 1 && out[d] != 1)) continue;
    std::vector<int64_t> next;
    next.reserve(free.size() * size_t(out[d]));
    for (int64_t f : free)
      for (int64_t c = 0; c < out[d]; c++) next.push_back(f + c * ostr[d]);
    free.swap(next);
  }
  const int64_t batch = index.size(0), k = entries(index);
  std::vector<int64_t> pos(static_cast<size_t>(batch * k * copies));
  size_t o = 0;
  for (int64_t e = 0; e < batch * k; e++) {
    int64_t p = idx_data(index)[e], base = 0;
    if (p >= 0)
      for (int d = shape.n - 1; d >= 0; d--) {
        const int64_t c = shape[d] ? p % shape[d] : 0;
        p = shape[d] ? p / shape[d] : 0;
        base += (shape[d] == 1 ? 0 : c) * ostr[lead + d];
      }
    for (int64_t f : free) pos[o++] = idx_data(index)[e] < 0 ? -1 : base + f;
  }
  return O::from_data(pos.data(), Dims{batch, k * copies}, DType::Int64);
}

Tensor slice_index(const Tensor& index_view, int64_t start, int64_t end) {
  const Tensor index = contiguous_index(index_view);
  std::vector<int64_t> pos(static_cast<size_t>(index.numel()));
  for (int64_t e = 0; e < index.numel(); e++) {
    const int64_t p = idx_data(index)[e];
    pos[size_t(e)] = p >= start && p < end ? p - start : -1;
  }
  return make_index_like(std::move(pos), index);
}

// NOTE: see onehot.h: a one-hot value's exact zeros equal the dense rule's only against finite values.
bool finite_operand(const Tensor& u, bool nonzero_too) { return all_finite_deep(u, nonzero_too); }

bool is_zero_scalar(const Tensor& t) {
  if (t.is_tracer() || t.ndim() != 0 || !is_floating(t.dtype())) return false;
  Tensor c = O::to(t, DType::Float64);
  return c.data<double>()[0] == 0.0;
}

bool all_ones(const Tensor& t) {
  if (t.is_tracer() || !is_floating(t.dtype()) || t.device().type != DeviceType::CPU) return false;
  // A strided view (the basis's scale expanded over a batch dim) is all ones if its storage is.
  const bool whole = !t.is_contiguous();
  const int64_t n = whole ? int64_t(t.impl()->storage->nbytes / itemsize(t.dtype())) : t.numel();
  if (whole && n > 4 * t.numel() + 64) return false;  // a small view of a large storage: not worth the scan
  auto check = [&](auto* p) {
    for (int64_t i = 0; i < n; i++)
      if (p[i] != 1) return false;
    return true;
  };
  void* base = whole ? t.impl()->storage->data : t.raw_data();
  return t.dtype() == DType::Float32 ? check(static_cast<float*>(base)) : check(static_cast<double*>(base));
}

}  // namespace onehot

using namespace onehot;
namespace O = ops;

Tensor OnehotCall::wrap(const Tensor& idx, const Tensor& sc, const Dims& shp) const { return batch_wrap_onehot(level, idx, sc, shp); }
Tensor OnehotCall::dense(const Tensor& value) const { return batch_wrap_physical(level, value); }

Tensor onehot_densify(const Tensor& index_view, const Tensor& scale, const Dims& shape) {
  const Tensor index = contiguous_index(index_view);
  const int64_t batch = index.size(0), k = entries(index), m = numel_of(shape);
  Dims full = shape;
  full.insert(0, batch);
  if (m == 0) return O::zeros(full, scale.dtype(), scale.device());
  ADJ_CHECK(batch <= INT64_MAX / m, ErrorKind::OutOfMemory, "vmap",
            "a batch of " << batch << " one-hot rows of shape " << shape.str() << " has more elements than can be addressed");
  // Zeros with each example's scale added at its flat position: a scatter (index_add), not a
  // product, so an Inf or NaN scale does not spill into the example's zeros. Examples whose
  // index is -1 add an exact 0 at their row's first position.
  std::vector<int64_t> flat(static_cast<size_t>(batch * k));
  for (int64_t e = 0; e < batch * k; e++) {
    int64_t p = idx_data(index)[e];
    flat[size_t(e)] = e / k * m + (p < 0 ? 0 : p);
  }
  Tensor values = mask_invalid(scale, index), positions = make_index(std::move(flat));
  if (k > 1) values = O::reshape(values, Dims{-1});
  Tensor dense = O::index_add(values, 0, positions, batch * m);  // a multi-hot's repeated positions add up
  if (!dense.is_tracer() && !values.is_tracer() && k == 1 && m >= 4) {  // nnz = batch of batch * m elements
    values = O::contiguous(values);
    dense.impl()->storage->sparse.reset(new SparseFacts{positions, values});
  }
  return O::reshape(dense, full);
}

Tensor onehot_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& at) {
  if (!def.onehot || nin > 3) return Tensor();
  // Which inputs are one-hot at this level, and are all other inputs unbatched here?
  OnehotCall call{level, in, nin, at, -1, 0, {}, {}};
  for (int i = 0; i < nin; i++) {
    if (batch_is_onehot(in[i], level, &call.index[i], &call.scale[i])) {
      call.oh = call.oh < 0 ? i : call.oh;
      call.n_oh++;
    } else if (belongs_to(in[i], level)) {
      return Tensor();
    }
  }
  return call.oh < 0 ? Tensor() : def.onehot(call);
}

}  // namespace adjoint
