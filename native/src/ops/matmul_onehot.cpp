// matmul's structured (one-hot) batching rule and its bodies: a one-hot or multi-hot factor times a
// dense one is built from gathers of the dense factor, never as a product with the one-hot zeros.
#include <cstdint>
#include <vector>

#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

namespace O = ops;
using namespace onehot;

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
    int64_t p = index.data<int64_t>()[j];
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
    int64_t p = index.data<int64_t>()[j];
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
  const int64_t* ix = index.data<int64_t>();
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
    const int64_t p = index.data<int64_t>()[e];
    rows[size_t(e)] = p < 0 ? 0 : p / n;
    cols[size_t(e)] = e / per * n + (p < 0 ? 0 : p % n);
  }
  Tensor g = O::mul(O::index_select(a, 1, make_index(std::move(rows))), O::reshape(mask_invalid(scale, index), Dims{1, ne}));
  g = O::index_add(g, 1, make_index(std::move(cols)), batch * n);  // [m, B * n]
  return O::permute(O::reshape(g, Dims{m, batch, n}), Dims{1, 0, 2});
}

Tensor matmul_left(const Tensor& index, const Tensor& scale, const Dims& ashape, const Tensor& b) {
  return entries(index) > 1 ? multihot_matmul_left(index, scale, ashape, b) : onehot_matmul_left(index, scale, ashape, b);
}

Tensor matmul_right(const Tensor& a, const Tensor& index, const Tensor& scale, const Dims& bshape) {
  return entries(index) > 1 ? multihot_matmul_right(a, index, scale, bshape) : onehot_matmul_right(a, index, scale, bshape);
}


}  // namespace

// One-hot @ dense or dense @ one-hot (2-D): gathers of the dense factor, not a product with zeros.
Tensor onehot_matmul(const OnehotCall& c) {
  const Tensor* in = c.in;
  if (c.n_oh != 1 || in[0].ndim() != 2 || in[1].ndim() != 2 || in[0].dtype() != in[1].dtype()) return Tensor();
  if (in[0].size(1) != in[1].size(0)) return Tensor();  // let the ordinary rule report the error
  if (!finite_operand(in[1 - c.oh], false)) return Tensor();
  return c.dense(c.oh == 0 ? matmul_left(c.index[0], c.scale[0], in[0].shape(), in[1])
                           : matmul_right(in[0], c.index[1], c.scale[1], in[1].shape()));
}

}  // namespace adjoint
