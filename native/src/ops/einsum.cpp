// torch.einsum as a composite of diagonal, permute, unsqueeze, sum, mul and matmul, so that every
// transform sees primitives with all their rules. It follows torch 1.13's algorithm (without
// opt_einsum): repeated subscripts of one operand become a diagonal; every operand is permuted
// into one common layout of "slots" (the output's dims in output order, then the summed ones),
// with size-1 dims where it lacks a subscript; then the operands are combined left to right, each
// summed dim contracted by a batched matmul at the last operand that has it (a dim that only one
// side has is summed beforehand, as torch does).
#include <algorithm>
#include <string>
#include <vector>

#include "ops/op_util.h"
#include "ops/ops.h"

namespace adjoint::ops {
namespace {

constexpr int kLabels = 52;  // A-Z then a-z: torch's subscript order (the implicit output's order)

int label_of(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' : 26 + (c - 'a'); }
char char_of(int l) { return char(l < 26 ? 'A' + l : 'a' + (l - 26)); }
constexpr int kEllipsis = -1;  // in a term's list of subscripts

struct Equation {
  std::vector<std::vector<int>> terms;  // per operand: labels, kEllipsis for "..."
  std::vector<int> out;                 // the output term (filled in for an implicit one)
  bool explicit_out = false;
};

// Parses the equation: spaces ignored, "..." as one subscript, letters only.
Equation parse(const std::string& eq, size_t nops) {
  const std::string where = " in equation \"" + eq + "\"";
  Equation e;
  std::vector<int>* term = &e.terms.emplace_back();
  for (size_t i = 0; i < eq.size(); i++) {
    const char c = eq[i];
    if (c == ' ') continue;
    if (c == '.') {
      ADJ_CHECK(eq.compare(i, 3, "...") == 0, ErrorKind::Argument, "einsum", "found '.' that is not part of any ellipsis ('...')" << where);
      ADJ_CHECK(std::find(term->begin(), term->end(), kEllipsis) == term->end(), ErrorKind::Argument, "einsum",
                "found more than one ellipsis ('...') in one term" << where);
      term->push_back(kEllipsis);
      i += 2;
    } else if (c == ',') {
      ADJ_CHECK(!e.explicit_out, ErrorKind::Argument, "einsum", "found ',' in the output" << where);
      term = &e.terms.emplace_back();
    } else if (c == '-') {
      ADJ_CHECK(!e.explicit_out && i + 1 < eq.size() && eq[i + 1] == '>', ErrorKind::Argument, "einsum",
                "found '-' that is not part of one arrow ('->')" << where);
      e.explicit_out = true;
      term = &e.out;
      i++;
    } else {
      ADJ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), ErrorKind::Argument, "einsum",
                "invalid subscript '" << c << "' at index " << i << ", subscripts must be in [a-zA-Z]" << where);
      term->push_back(label_of(c));
    }
  }
  ADJ_CHECK(e.terms.size() == nops, ErrorKind::Argument, "einsum",
            (e.terms.size() < nops ? "more operands were provided than" : "fewer operands were provided than")
                << " specified: " << e.terms.size() << " terms, " << nops << " operands" << where);
  return e;
}

std::string shape_list(const std::vector<Tensor>& ops) {
  std::string s;
  for (size_t i = 0; i < ops.size(); i++) s += (i ? ", " : "") + ops[i].shape().str();
  return s;
}

// a and b at full rank (every slot, size 1 where absent), contracted over `sum` (slots where both
// have the same size > 1): one batched matmul, the result at full rank with size 1 at `sum`.
Tensor sumproduct_pair(const Tensor& a, const Tensor& b, const std::vector<int>& sum) {
  const int n = a.ndim();
  std::vector<int> both, left, right, rest;
  int64_t nb = 1, nl = 1, nr = 1, ns = 1;
  for (int s : sum) ns *= a.size(s);
  for (int k = 0; k < n; k++) {
    if (std::find(sum.begin(), sum.end(), k) != sum.end()) continue;
    if (a.size(k) != 1 && b.size(k) != 1) both.push_back(k), nb *= a.size(k);
    else if (a.size(k) != 1) left.push_back(k), nl *= a.size(k);
    else if (b.size(k) != 1) right.push_back(k), nr *= b.size(k);
    else rest.push_back(k);
  }
  auto perm = [](std::initializer_list<const std::vector<int>*> parts) {
    Dims p;
    for (const auto* v : parts)
      for (int k : *v) p.push_back(k);
    return p;
  };
  // each side's size-1 slots go last, where the reshape drops them
  Tensor a3 = reshape(permute(a, perm({&both, &left, &sum, &right, &rest})), Dims{nb, nl, ns});
  Tensor b3 = reshape(permute(b, perm({&both, &sum, &right, &left, &rest})), Dims{nb, ns, nr});
  Tensor r = matmul(a3, b3);  // [both, left, right]
  Dims sizes, order = perm({&both, &left, &right});
  for (int k : order) sizes.push_back(a.size(k) != 1 ? a.size(k) : b.size(k));
  r = reshape(r, sizes);
  // back to slot order, size 1 at the slots r lacks (summed ones included)
  Dims back;
  for (int k = 0; k < n; k++)
    for (int j = 0; j < order.n; j++)
      if (order[j] == k) back.push_back(j);
  r = permute(r, back);
  for (int k = 0; k < n; k++)
    if (std::find(order.begin(), order.end(), k) == order.end()) r = unsqueeze(r, k);
  return r;
}

Tensor einsum_impl(const std::string& eq, const std::vector<Tensor>& operands) {
  const char* op = "einsum";
  const std::string where = " in equation \"" + eq + "\"";
  ADJ_CHECK(!operands.empty(), ErrorKind::Argument, op, "must provide at least one operand" << where);
  Equation e = parse(eq, operands.size());
  const size_t nops = operands.size();
  for (size_t i = 1; i < nops; i++)
    ADJ_CHECK(operands[i].dtype() == operands[0].dtype(), ErrorKind::DType, op,
              "operand " << i << " is " << dtype_name(operands[i].dtype()) << " " << operands[i].shape().str() << " but operand 0 is "
                         << dtype_name(operands[0].dtype()) << " " << operands[0].shape().str() << where
                         << " (convert one with to(dtype))");

  // Each term against its operand's rank; the ellipsis covers the dims the subscripts leave.
  int ell_dims = 0;
  int count[kLabels] = {0};
  std::vector<int> ell_of(nops, 0);
  for (size_t i = 0; i < nops; i++) {
    const std::vector<int>& t = e.terms[i];
    const bool has_ell = std::find(t.begin(), t.end(), kEllipsis) != t.end();
    const int labels = int(t.size()) - (has_ell ? 1 : 0), rank = operands[i].ndim();
    if (has_ell) {
      ADJ_CHECK(labels <= rank, ErrorKind::Shape, op,
                "the number of subscripts (" << labels << ") is more than the number of dimensions (" << rank << ") of operand " << i << " "
                                             << operands[i].shape().str() << where);
      ell_of[i] = rank - labels;
      ell_dims = std::max(ell_dims, ell_of[i]);
    } else {
      ADJ_CHECK(labels == rank, ErrorKind::Shape, op,
                "the number of subscripts (" << labels << ") does not match the number of dimensions (" << rank << ") of operand " << i
                                             << " " << operands[i].shape().str() << " and no ellipsis was given" << where);
    }
    for (int l : t)
      if (l != kEllipsis) count[l]++;
  }

  // Slots: the output's dims in output order, then the ellipsis dims the output drops, then the
  // summed subscripts in label order.
  int slot_of[kLabels];
  std::fill(slot_of, slot_of + kLabels, -1);
  int nslots = 0, ell_slot = -1;
  if (e.explicit_out) {
    bool out_ell = false;
    for (int l : e.out) {
      if (l == kEllipsis) {
        ADJ_CHECK(!out_ell, ErrorKind::Argument, op, "found more than one ellipsis ('...') in the output" << where);
        out_ell = true;
        ell_slot = nslots;
        nslots += ell_dims;
        continue;
      }
      ADJ_CHECK(count[l] > 0, ErrorKind::Argument, op,
                "output subscript " << char_of(l) << " does not appear in the equation for any input operand" << where);
      ADJ_CHECK(slot_of[l] < 0, ErrorKind::Argument, op, "output subscript " << char_of(l) << " appears more than once in the output" << where);
      slot_of[l] = nslots++;
    }
  } else {
    ell_slot = 0;
    nslots = ell_dims;
    for (int l = 0; l < kLabels; l++)
      if (count[l] == 1) slot_of[l] = nslots++;
  }
  const int out_slots = nslots;
  if (ell_slot < 0) {
    ell_slot = nslots;
    nslots += ell_dims;
  }
  for (int l = 0; l < kLabels; l++)
    if (count[l] > 0 && slot_of[l] < 0) slot_of[l] = nslots++;
  ADJ_CHECK(nslots <= kMaxDims, ErrorKind::Argument, op, "the equation has " << nslots << " distinct dims, more than " << kMaxDims << where);

  // Each operand: diagonals of repeated subscripts, then permuted and unsqueezed to every slot.
  std::vector<Tensor> full(nops);
  for (size_t i = 0; i < nops; i++) {
    Tensor x = operands[i];
    std::vector<int> slots;  // slot of each current dim of x
    int dim_of[kLabels];
    std::fill(dim_of, dim_of + kLabels, -1);
    for (int l : e.terms[i]) {
      if (l == kEllipsis) {
        for (int k = 0; k < ell_of[i]; k++) slots.push_back(ell_slot + ell_dims - ell_of[i] + k);
        continue;
      }
      const int cur = int(slots.size());
      if (dim_of[l] >= 0) {  // repeated: keep the diagonal, in the first occurrence's place
        ADJ_CHECK(x.size(dim_of[l]) == x.size(cur), ErrorKind::Shape, op,
                  "subscript " << char_of(l) << " is repeated for operand " << i << " " << operands[i].shape().str()
                               << " but the sizes don't match, " << x.size(dim_of[l]) << " != " << x.size(cur) << where);
        x = movedim(diagonal(x, 0, dim_of[l], cur), -1, dim_of[l]);
        continue;
      }
      dim_of[l] = cur;
      slots.push_back(slot_of[l]);
    }
    Dims perm;
    for (int s = 0; s < nslots; s++)
      for (size_t j = 0; j < slots.size(); j++)
        if (slots[j] == s) perm.push_back(int64_t(j));
    x = permute(x, perm);
    for (int s = 0; s < nslots; s++)
      if (std::find(slots.begin(), slots.end(), s) == slots.end()) x = unsqueeze(x, s);
    full[i] = x;
  }

  // Sizes agree slot by slot (or are 1: broadcast), and the last operand with each summed slot.
  std::vector<int> last(size_t(nslots), 0);
  for (int s = 0; s < nslots; s++) {
    int64_t size = 1;
    size_t first = 0;
    for (size_t i = 0; i < nops; i++) {
      const int64_t n = full[i].size(s);
      if (n == 1) continue;
      ADJ_CHECK(size == 1 || n == size, ErrorKind::Shape, op,
                "operands do not broadcast: dim of size " << n << " in operand " << i << " against " << size << " in operand " << first
                                                          << " (shapes " << shape_list(operands) << ")" << where);
      size = n, first = i, last[size_t(s)] = int(i);
    }
  }

  auto summed = [&](const Tensor& t, int s) { return sum(t, Dims{s}, true); };
  Tensor result = full[0];
  for (int s = out_slots; s < nslots; s++)
    if (last[size_t(s)] == 0 && result.size(s) != 1) result = summed(result, s);
  for (size_t i = 1; i < nops; i++) {
    Tensor x = full[i];
    std::vector<int> contract;
    for (int s = out_slots; s < nslots; s++) {
      if (last[size_t(s)] != int(i)) continue;
      if (result.size(s) == 1) x = summed(x, s);
      else if (x.size(s) == 1) result = summed(result, s);
      else contract.push_back(s);
    }
    result = contract.empty() ? mul(result, x) : sumproduct_pair(result, x, contract);
  }
  Dims out_shape;
  for (int s = 0; s < out_slots; s++) out_shape.push_back(result.size(s));
  return reshape(result, out_shape);  // the summed slots have size 1 now
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  return as_op("einsum", [&] { return einsum_impl(equation, operands); });
}

}  // namespace adjoint::ops
