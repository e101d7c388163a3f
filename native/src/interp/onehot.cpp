// Structured rules for one-hot batched values (see the NOTE in batch.cpp). Each rule either
// produces the exact result of the dense rule in a cheaper form, or returns undefined so that the
// caller densifies and runs the ordinary batching rule.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

namespace O = ops;

// The index is always a concrete host tensor made by this file, so rules may read it.
const int64_t* idx_data(const Tensor& index) { return index.data<int64_t>(); }

Tensor make_index(std::vector<int64_t>&& v) {
  return O::from_data(v.data(), Dims{int64_t(v.size())}, DType::Int64);
}

bool any_invalid(const Tensor& index) {
  const int64_t* p = idx_data(index);
  for (int64_t i = 0, n = index.numel(); i < n; i++)
    if (p[i] < 0) return true;
  return false;
}

// u (per-example shape broadcastable to `shape`) at the flat positions `index` of `shape`.
Tensor gather(const Tensor& u, const Dims& shape, const Tensor& index) {
  Tensor flat = O::reshape(u.shape() == shape ? u : O::expand(u, shape), Dims{-1});
  if (!any_invalid(index)) return O::index_select(flat, 0, index);
  std::vector<int64_t> clamped(idx_data(index), idx_data(index) + index.numel());
  for (int64_t& i : clamped) i = i < 0 ? 0 : i;
  return O::index_select(flat, 0, make_index(std::move(clamped)));
}

// scale with the examples whose index is -1 forced to exactly zero (not 0 * something).
Tensor mask_invalid(const Tensor& scale, const Tensor& index) {
  if (!any_invalid(index)) return scale;
  std::vector<uint8_t> valid(static_cast<size_t>(index.numel()));
  for (int64_t i = 0; i < index.numel(); i++) valid[size_t(i)] = idx_data(index)[i] >= 0;
  Tensor m = O::from_data(valid.data(), Dims{index.numel()}, DType::Bool);
  return O::where(m, scale, O::scalar(0, scale.dtype(), scale.device()));
}

// A metadata-only stand-in with `shape`: lets a view op's own eval rule compute the result shape.
Dims view_result_shape(OpId op, const Dims& shape, DType dtype, const Attrs& attrs) {
  auto* impl = new TensorImpl();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  Tensor probe(Ref<TensorImpl>::adopt(impl));
  return op_def(op).eval(&probe, 1, attrs).shape();  // reshape/squeeze/unsqueeze on a contiguous probe never copy
}

// Flat positions of `shape` mapped through a reduction over `reduced` (keepdim or not).
Tensor reduce_index(const Tensor& index, const Dims& shape, const Dims& out_shape, uint32_t reduced, bool keepdim) {
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
  return make_index(std::move(out));
}

// NOTE: densely, a basis row's zeros meet every element of the other operand, and 0 * Inf,
// 0 * NaN and 0 / 0 put NaN where the one-hot form holds exact zeros (jacrev(sqrt) at [0, 1] is
// [[Inf, 0], [NaN, 0.5]] densely, as in torch.func). So the scaling and matmul rules apply only
// when that operand is all finite (and nonzero for a divisor) — checked through every tracer
// level — and the one-hot form is exact there; otherwise the caller densifies.
bool finite_operand(const Tensor& u, bool nonzero_too) { return all_finite_deep(u, nonzero_too); }

bool is_zero_scalar(const Tensor& t) {
  if (t.is_tracer() || t.ndim() != 0 || !is_floating(t.dtype())) return false;
  Tensor c = O::to(t, DType::Float64);
  return c.data<double>()[0] == 0.0;
}

bool all_ones(const Tensor& t) {
  if (t.is_tracer() || !is_floating(t.dtype()) || !t.is_contiguous()) return false;
  auto check = [&](auto* p) {
    for (int64_t i = 0, n = t.numel(); i < n; i++)
      if (p[i] != 1) return false;
    return true;
  };
  return t.dtype() == DType::Float32 ? check(t.data<float>()) : check(t.data<double>());
}

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
Tensor onehot_matmul_left(const Tensor& index, const Tensor& scale, const Dims& ashape, const Tensor& b) {
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
Tensor onehot_matmul_right(const Tensor& a, const Tensor& index, const Tensor& scale, const Dims& bshape) {
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

}  // namespace

Tensor onehot_densify(const Tensor& index, const Tensor& scale, const Dims& shape) {
  const int64_t batch = index.numel(), m = numel_of(shape);
  Dims full = shape;
  full.insert(0, batch);
  if (m == 0) return O::zeros(full, scale.dtype(), scale.device());
  ADJ_CHECK(batch <= INT64_MAX / m, ErrorKind::OutOfMemory, "vmap",
            "a batch of " << batch << " one-hot rows of shape " << shape.str() << " has more elements than can be addressed");
  // Zeros with each example's scale added at its flat position: a scatter (index_add), not a
  // product, so an Inf or NaN scale does not spill into the example's zeros. Examples whose
  // index is -1 add an exact 0 at their row's first position.
  std::vector<int64_t> flat(static_cast<size_t>(batch));
  for (int64_t j = 0; j < batch; j++) {
    int64_t p = idx_data(index)[j];
    flat[size_t(j)] = j * m + (p < 0 ? 0 : p);
  }
  Tensor values = mask_invalid(scale, index), positions = make_index(std::move(flat));
  Tensor dense = O::index_add(values, 0, positions, batch * m);
  if (!dense.is_tracer() && !values.is_tracer() && m >= 4) {  // nnz = batch of batch * m elements
    values = O::contiguous(values);
    dense.impl()->storage->sparse.reset(new SparseFacts{positions, values});
  }
  return O::reshape(dense, full);
}

Tensor onehot_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& at) {
  // Which inputs are one-hot at this level, and are all other inputs unbatched here?
  int oh = -1, n_oh = 0;
  bool other_batched = false;
  Tensor index[3], scale[3];
  for (int i = 0; i < nin && i < 3; i++) {
    if (batch_is_onehot(in[i], level, &index[i], &scale[i])) {
      oh = oh < 0 ? i : oh;
      n_oh++;
    } else if (belongs_to(in[i], level)) {
      other_batched = true;
    }
  }
  if (oh < 0 || other_batched || nin > 3) return Tensor();
  const Tensor& x = in[oh];
  const Dims& shape = x.shape();
  auto wrap = [&](const Tensor& idx, const Tensor& sc, const Dims& shp) { return batch_wrap_onehot(level, idx, sc, shp); };

  switch (def.id) {
    case OpId::Neg: return wrap(index[oh], O::neg(scale[oh]), shape);
    case OpId::Cast:
      if (!is_floating(at.dtype)) return Tensor();
      return wrap(index[oh], O::to(scale[oh], at.dtype), shape);
    case OpId::Contiguous: return x;
    case OpId::Reshape:
    case OpId::Squeeze:
    case OpId::Unsqueeze:
      // Row-major reshapes keep every element's flat position.
      return wrap(index[oh], scale[oh], view_result_shape(def.id, shape, x.dtype(), at));
    case OpId::Mul:
    case OpId::Div: {
      if (n_oh != 1 || (def.id == OpId::Div && oh != 0)) return Tensor();
      const Tensor& u = in[1 - oh];
      if (u.dtype() != x.dtype()) return Tensor();
      // u may add leading size-1 dims (a [1, n] cotangent times an [n] one-hot): the result has
      // the same elements in the same flat order, so each example stays one-hot at its position.
      const Dims r = broadcast_shapes(shape, u.shape(), def.name);
      if (numel_of(r) != numel_of(shape)) return Tensor();
      if (!finite_operand(u, def.id == OpId::Div)) return Tensor();
      Tensor g = gather(u, r, index[oh]);
      Tensor sc = def.id == OpId::Mul ? O::mul(scale[oh], g) : O::div(scale[oh], g);
      return wrap(index[oh], mask_invalid(sc, index[oh]), r);
    }
    case OpId::Add:
    case OpId::Sub: {
      // Two one-hots with the same positions (e.g. cotangents accumulated in backward).
      if (n_oh != 2 || in[0].shape() != in[1].shape() || index[0].impl() != index[1].impl()) return Tensor();
      return wrap(index[0], def.id == OpId::Add ? O::add(scale[0], scale[1]) : O::sub(scale[0], scale[1]), shape);
    }
    case OpId::Where: {
      // where(c, onehot, 0) / where(c, 0, onehot) with c unbatched: relu's rules use these.
      if (n_oh != 1 || oh == 0 || !is_zero_scalar(in[oh == 1 ? 2 : 1]) || in[0].dtype() != DType::Bool) return Tensor();
      if (broadcast_shapes(shape, in[0].shape(), "where") != shape) return Tensor();
      Tensor c = gather(in[0], shape, index[oh]);
      Tensor zero = O::scalar(0, x.dtype(), x.device());
      Tensor sc = oh == 1 ? O::where(c, scale[oh], zero) : O::where(c, zero, scale[oh]);
      return wrap(index[oh], mask_invalid(sc, index[oh]), shape);
    }
    case OpId::Sum: {
      if (x.ndim() == 0) {
        rules::reduced_dims(at.ints, 0, "sum");  // still reject bad dims
        return x;
      }
      uint32_t reduced = 0;
      for (int64_t d : rules::reduced_dims(at.ints, x.ndim(), "sum")) reduced |= 1u << d;  // validates dims
      Dims out_shape;
      for (int d = 0; d < x.ndim(); d++) {
        if (!(reduced & (1u << d))) out_shape.push_back(shape[d]);
        else if (at.flag) out_shape.push_back(1);
      }
      return wrap(reduce_index(index[oh], shape, out_shape, reduced, at.flag), scale[oh], out_shape);
    }
    case OpId::Slice: {
      // A step-1 slice of a 1-D one-hot (jacrev/jacfwd cut the basis row per output/input).
      if (x.ndim() != 1 || at.ints[3] != 1) return Tensor();
      int64_t n = shape[0], start = at.ints[1], end = at.ints[2];
      if (start < 0) start += n;
      if (end < 0) end += n;
      start = std::max<int64_t>(0, std::min(start, n));
      end = std::max(start, std::min(end, n));
      std::vector<int64_t> idx(static_cast<size_t>(index[oh].numel()));
      for (int64_t k = 0; k < index[oh].numel(); k++) {
        int64_t p = idx_data(index[oh])[k];
        idx[size_t(k)] = p >= start && p < end ? p - start : -1;
      }
      Tensor ni = make_index(std::move(idx));
      return wrap(ni, mask_invalid(scale[oh], ni), Dims{end - start});
    }
    case OpId::Matmul: {
      if (n_oh != 1 || in[0].ndim() != 2 || in[1].ndim() != 2 || in[0].dtype() != in[1].dtype()) return Tensor();
      if (in[0].size(1) != in[1].size(0)) return Tensor();  // let the ordinary rule report the error
      if (!finite_operand(in[1 - oh], false)) return Tensor();
      Tensor dense = oh == 0 ? onehot_matmul_left(index[0], scale[0], in[0].shape(), in[1])
                             : onehot_matmul_right(in[0], index[1], scale[1], in[1].shape());
      return batch_wrap_physical(level, dense);
    }
    default: return Tensor();
  }
}

}  // namespace adjoint
