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

namespace {

// The index is always a concrete host tensor made by this file, so rules may read it; it may be a
// strided view (an affine index, below), so loops over its entries read a contiguous copy.
Tensor contiguous_index(const Tensor& index) { return index.is_contiguous() ? index : O::contiguous(index); }
const int64_t* idx_data(const Tensor& contiguous) { return contiguous.data<int64_t>(); }

// Facts about an index storage's entries, cached on it (see Storage::value_facts): bit 4 = some
// entry is negative, bit 5 = consecutive (entry i is entry 0 plus i, as in an arange).
uint8_t storage_facts(const Tensor& index) {
  Storage* st = index.impl()->storage.get();
  const uint8_t known = st->value_facts.load(std::memory_order_relaxed);
  if (known & 8) return known & 48;
  const int64_t* p = static_cast<const int64_t*>(st->data);
  const int64_t n = int64_t(st->nbytes / sizeof(int64_t)), p0 = n ? p[0] : 0;
  int64_t any = 0, off = 0;
  for (int64_t i = 0; i < n; i++) {  // branch-free: vectorises, no early exit
    any |= p[i];           // a sign bit
    off |= p[i] ^ (p0 + i);  // nonzero where an entry breaks the run
  }
  const uint8_t facts = uint8_t((any < 0 ? 16 : 0) | (off == 0 && n > 0 ? 32 : 0));  // an empty storage has no entry 0
  st->value_facts.store(uint8_t(known | 8 | facts), std::memory_order_relaxed);
  return facts;
}

bool any_invalid(const Tensor& index) {
  if (!(storage_facts(index) & 16)) return false;
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
  if ((storage_facts(index) & 48) != 32) return false;  // consecutive, and no -1 (a lone -1 is a run)
  *start = static_cast<const int64_t*>(index.impl()->storage->data)[0] + index.offset();
  return true;
}

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
  if (start >= 0 && end > start) r.impl()->storage->value_facts.store(8 | 32, std::memory_order_relaxed);  // see storage_facts
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

// A metadata-only stand-in with `shape`: the view op's own eval rule computes the result shape.
Dims view_result_shape(OpId op, const Dims& shape, DType dtype, const Attrs& attrs) {
  auto* impl = new TensorImpl();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  Tensor probe(Ref<TensorImpl>::adopt(impl));
  return op_def(op).eval(&probe, 1, attrs).shape();  // reshape/squeeze/unsqueeze on a contiguous probe never copy
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

namespace {

// [B, n]: example j's slab pick[j] of x along `dim` (the other dim of 2-D x), times scale[j]. With
// the basis's own scale (all ones) over a run of consecutive slabs, a view of x: nothing copied.
Tensor scaled_rows(const Tensor& x, int dim, std::vector<int64_t>&& pick, const Tensor& scale, const Tensor& index) {
  bool run = !any_invalid(index);
  for (size_t j = 1; j < pick.size() && run; j++) run = pick[j] == pick[j - 1] + 1;
  const int64_t batch = int64_t(pick.size());
  if (run && all_ones(scale)) {
    Tensor s = O::slice(x, dim, pick.empty() ? 0 : pick[0], pick.empty() ? 0 : pick[0] + batch, 1);
    return dim == 0 ? s : O::transpose(s, 0, 1);
  }
  Tensor g = O::index_select(x, dim, make_index(std::move(pick)));
  if (dim == 1) g = O::transpose(g, 0, 1);
  return O::mul(g, O::unsqueeze(mask_invalid(scale, index), 1));
}

// One-hot [m, k] (row r, col c per example) @ dense b [k, n]: example j's rows are zero except
// row r_j = scale_j * b[c_j, :]. Dense result [B, m, n] built from a gather, no identity product.
Tensor onehot_matmul_left(const Tensor& index_view, const Tensor& scale, const Dims& ashape, const Tensor& b) {
  const Tensor index = contiguous_index(index_view);
  const int64_t m = ashape[0], k = ashape[1], batch = index.numel();
  std::vector<int64_t> rows(static_cast<size_t>(batch)), cols(static_cast<size_t>(batch));
  for (int64_t j = 0; j < batch; j++) {
    int64_t p = idx_data(index)[j];
    rows[size_t(j)] = p < 0 ? -1 : p / k;
    cols[size_t(j)] = p < 0 ? 0 : p % k;
  }
  Tensor picked = scaled_rows(b, 0, std::move(cols), scale, index);  // [B, n]
  if (m == 1) return O::unsqueeze(picked, 1);
  Tensor rix = make_index(std::move(rows));
  Tensor mask = O::compare(OpId::Eq, O::unsqueeze(O::arange(0, double(m), 1, DType::Int64), 0), O::unsqueeze(rix, 1));
  return O::where(O::unsqueeze(mask, 2), O::unsqueeze(picked, 1), O::scalar(0, scale.dtype(), scale.device()));  // [B, m, n]
}

// Dense a [m, k] @ one-hot [k, n] (row r, col c): example j is zero except column c_j = scale_j * a[:, r_j].
Tensor onehot_matmul_right(const Tensor& a, const Tensor& index_view, const Tensor& scale, const Dims& bshape) {
  const Tensor index = contiguous_index(index_view);
  const int64_t n = bshape[1], batch = index.numel();
  std::vector<int64_t> rows(static_cast<size_t>(batch)), cols(static_cast<size_t>(batch));
  for (int64_t j = 0; j < batch; j++) {
    int64_t p = idx_data(index)[j];
    rows[size_t(j)] = p < 0 ? 0 : p / n;
    cols[size_t(j)] = p < 0 ? -1 : p % n;
  }
  Tensor picked = scaled_rows(a, 1, std::move(rows), scale, index);  // [B, m]
  if (n == 1) return O::unsqueeze(picked, 2);
  Tensor cix = make_index(std::move(cols));
  Tensor mask = O::compare(OpId::Eq, O::unsqueeze(O::arange(0, double(n), 1, DType::Int64), 0), O::unsqueeze(cix, 1));
  return O::where(O::unsqueeze(mask, 1), O::unsqueeze(picked, 2), O::scalar(0, scale.dtype(), scale.device()));  // [B, m, n]
}

// Matmuls with a multi-hot factor (index [B, K]): each entry contributes one scaled row (left) or
// column (right) of the dense factor, added into zeros. When the entries fill every row of the
// result once, in order (an expanded one-hot times a matrix: jacrev of a sum over a batch), the
// scaled rows are the result as they are.
// p / d and p % d for many p >= 0 with one divisor, without a hardware division each time (the
// entries of a multi-hot value number in the thousands): a double reciprocal, corrected exactly.
struct Divider {
  int64_t d;
  double inv;
  explicit Divider(int64_t d) : d(d), inv(1.0 / double(d)) {}
  int64_t quot(int64_t p) const {
    int64_t q = int64_t(double(p) * inv);
    while (q * d > p) q--;
    while ((q + 1) * d <= p) q++;
    return q;
  }
};

Tensor multihot_matmul_left(const Tensor& index_view, const Tensor& scale, const Dims& ashape, const Tensor& b) {
  const int64_t m = ashape[0], k = ashape[1], n = b.size(1), batch = index_view.size(0), per = entries(index_view), ne = index_view.numel();
  // Every row once, in order, all in one column c_j per example (an expanded one-hot): example j
  // is scale[j, :, None] * b[c_j, None, :], one broadcast multiply of the picked rows of b.
  auto expanded_product = [&](const Tensor& sc, const Tensor& picked) {
    return O::mul(O::reshape(sc, Dims{batch, m, 1}), O::reshape(picked, Dims{batch, 1, n}));
  };
  // An affine index (expand_index of the basis) is one when its entries step by k and its first
  // column stays in [0, k): example j's column is start + j * strides[0], a strided slice of b.
  int64_t start = 0;
  if (per == m && affine_index(index_view, &start)) {
    const int64_t sj = batch <= 1 ? 1 : index_view.strides()[0], last = start + (batch - 1) * sj;
    if ((per == 1 || index_view.strides()[1] == k) && sj > 0 && start >= 0 && last < k)
      return expanded_product(scale, O::slice(b, 0, start, last + 1, sj));  // an affine index has no -1 entries
  }
  const Tensor index = contiguous_index(index_view);
  const int64_t* ix = idx_data(index);
  Tensor sc = mask_invalid(scale, index);
  bool expanded = per == m;
  std::vector<int64_t> c(static_cast<size_t>(batch));
  for (int64_t j = 0; j < batch && expanded; j++) {
    const int64_t* pj = ix + j * per;
    c[size_t(j)] = pj[0];
    expanded = pj[0] >= 0 && pj[0] < k;
    for (int64_t q = 1; q < per && expanded; q++) expanded = pj[q] == q * k + pj[0];
  }
  if (expanded) return expanded_product(sc, O::index_select(b, 0, make_index(std::move(c))));
  std::vector<int64_t> rows(static_cast<size_t>(ne)), cols(static_cast<size_t>(ne));
  bool in_order = per == m;  // every row once, in order: the scaled rows are the result
  const Divider byk(k);
  for (int64_t j = 0, e = 0; j < batch; j++)
    for (int64_t q = 0; q < per; q++, e++) {
      const int64_t p = ix[e], r = p < 0 ? 0 : byk.quot(p);
      rows[size_t(e)] = j * m + r;
      cols[size_t(e)] = p < 0 ? 0 : p - r * k;
      in_order = in_order && r == q && p >= 0;
    }
  Tensor g = O::mul(O::index_select(b, 0, make_index(std::move(cols))), O::reshape(sc, Dims{ne, 1}));
  if (!in_order) g = O::index_add(g, 0, make_index(std::move(rows)), batch * m);
  return O::reshape(g, Dims{batch, m, n});
}

Tensor multihot_matmul_right(const Tensor& a, const Tensor& index_view, const Tensor& scale, const Dims& bshape) {
  const Tensor index = contiguous_index(index_view);
  const int64_t n = bshape[1], m = a.size(0), batch = index.size(0), per = entries(index), ne = index.numel();
  std::vector<int64_t> rows(static_cast<size_t>(ne)), cols(static_cast<size_t>(ne));
  for (int64_t e = 0; e < ne; e++) {
    const int64_t p = idx_data(index)[e];
    rows[size_t(e)] = p < 0 ? 0 : p / n;
    cols[size_t(e)] = e / per * n + (p < 0 ? 0 : p % n);
  }
  Tensor g = O::mul(O::index_select(a, 1, make_index(std::move(rows))), O::reshape(mask_invalid(scale, index), Dims{1, ne}));
  g = O::index_add(g, 1, make_index(std::move(cols)), batch * n);  // [m, B * n]
  return O::permute(O::reshape(g, Dims{m, batch, n}), Dims{1, 0, 2});
}

}  // namespace

Tensor matmul_left(const Tensor& index, const Tensor& scale, const Dims& ashape, const Tensor& b) {
  return entries(index) > 1 ? multihot_matmul_left(index, scale, ashape, b) : onehot_matmul_left(index, scale, ashape, b);
}

Tensor matmul_right(const Tensor& a, const Tensor& index, const Tensor& scale, const Dims& bshape) {
  return entries(index) > 1 ? multihot_matmul_right(a, index, scale, bshape) : onehot_matmul_right(a, index, scale, bshape);
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
