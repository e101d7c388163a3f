// Property-based fuzzing of the interpreter stack through the C++ API (the Java side has its own,
// larger fuzzer: java/src/test/java/dev/adjoint/fuzz/ProgramFuzzer.java). Every seed gives one
// random program: a random sequence of float64 ops (elementwise with broadcasting, reductions,
// matmul/linear, views, cat/stack, index_select, softmax/logsumexp, where) over random shapes
// (size-1 dims, 0-d) wrapped in a random nesting (depth 1-3) of grad, vjp, jvp, vmap (random
// in/out dims), jacrev (vmap of the backward pass) and jacfwd (vmap of jvp); hessian arises as
// jacfwd(jacrev).
//   valid programs:   the result equals central finite differences of the plain program, and,
//                     when a vmap is involved, the same nesting with every vmap replaced by a loop;
//   invalid programs: one defect (an op with bad shapes / dims / dtypes / arguments, an escaped
//                     tracer, a vmap in-dim out of range or of the wrong size, an out-dim out of
//                     range, a tangent or cotangent of the wrong shape or dtype, differentiating
//                     an int64 input) must raise adjoint::Error of the right kind, and leave the
//                     level stack empty.
// Deterministic seeds, bounded to a few seconds (also under ASan + UBSan + LSan, where memory
// errors and leaks abort the run). ADJOINT_FUZZ_PROGRAMS and ADJOINT_FUZZ_SEED override the
// number of programs and the first seed for longer runs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;
using Args = std::vector<Tensor>;

namespace {

constexpr int kMaxNumel = 24, kMaxRank = 4;
constexpr double kMaxBound = 20, kMaxCost = 3000;
constexpr int kMaxOrder = 3;
constexpr double kFdStep[] = {0, 1e-6, 1e-4, 2e-3};
constexpr double kFdTol[] = {1e-11, 2e-7, 4e-5, 2e-2};
constexpr double kLoopTol = 1e-10;
const double kThresholds[] = {0.0, 0.3, -0.5};  // where raw inputs are compared: data keeps away

struct Rng {  // splitmix64
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x2545f4914f6cdd1dULL + 0x632be59bd9b4e019ULL) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(int n) { return int(next() % uint64_t(n)); }
  int range(int lo, int hi) { return lo + below(hi - lo + 1); }  // inclusive
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform(0, 1) < p; }
};

Dims with(Dims s, int d, int64_t x) {
  s[d] = x;
  return s;
}
Dims inserted(Dims s, int d, int64_t x) {
  s.insert(d, x);
  return s;
}
Dims erased(Dims s, int d) {
  s.erase(d);
  return s;
}
Dims concat(const Dims& a, const Dims& b) {
  Dims r = a;
  for (int64_t x : b) r.push_back(x);
  return r;
}
bool broadcast(const Dims& a, const Dims& b, Dims* out) {
  int n = std::max(a.n, b.n);
  out->n = n;
  for (int i = 0; i < n; i++) {
    int64_t da = i < n - a.n ? 1 : a[i - (n - a.n)], db = i < n - b.n ? 1 : b[i - (n - b.n)];
    if (da == db || db == 1) (*out)[i] = da;
    else if (da == 1) (*out)[i] = db;
    else return false;
  }
  return true;
}
bool fits(const Dims& s) { return s.n <= kMaxRank && numel_of(s) <= kMaxNumel && numel_of(s) > 0; }

Tensor tensor_of(const std::vector<double>& v, const Dims& s) { return O::from_data(v.data(), s, DType::Float64); }
std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(O::to(t, DType::Float64));
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}
Tensor sc(double v) { return O::scalar(v, DType::Float64); }

// ---------------------------------------------------------------- reference arrays

struct Arr {
  Dims shape;
  std::vector<double> v;
};
Arr arr(const Tensor& t) { return {t.shape(), values(t)}; }
Arr select(const Arr& a, int dim, int64_t idx) {
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < dim; i++) outer *= a.shape[i];
  for (int i = dim + 1; i < a.shape.n; i++) inner *= a.shape[i];
  Arr r{erased(a.shape, dim), {}};
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) r.v.push_back(a.v[size_t((o * a.shape[dim] + idx) * inner + i)]);
  return r;
}
Arr stack(const std::vector<Arr>& parts, int dim) {
  const Dims& s = parts[0].shape;
  int64_t outer = 1, inner = 1, b = int64_t(parts.size());
  for (int i = 0; i < dim; i++) outer *= s[i];
  for (int i = dim; i < s.n; i++) inner *= s[i];
  Arr r{inserted(s, dim, b), std::vector<double>(size_t(outer * b * inner))};
  for (int64_t k = 0; k < b; k++)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) r.v[size_t((o * b + k) * inner + i)] = parts[size_t(k)].v[size_t(o * inner + i)];
  return r;
}
// Set while a mismatch is re-checked: 4-point central differences (error O(h^4), not O(h^2)).
bool g_four_point = false;

// d/dt g(t) at t = 0, elementwise, by central differences with step h.
std::vector<double> deriv(const std::function<std::vector<double>(double)>& g, double h) {
  std::vector<double> p = g(h), m = g(-h), r(p.size());
  if (!g_four_point) {
    for (size_t k = 0; k < r.size(); k++) r[k] = (p[k] - m[k]) / (2 * h);
    return r;
  }
  std::vector<double> p2 = g(2 * h), m2 = g(-2 * h);
  for (size_t k = 0; k < r.size(); k++) r[k] = (8 * (p[k] - m[k]) - (p2[k] - m2[k])) / (12 * h);
  return r;
}

std::vector<Arr> nudged(std::vector<Arr> a, int i, size_t e, double d) {
  a[size_t(i)].v[e] += d;
  return a;
}

// ---------------------------------------------------------------- the plain program

using Step = std::function<Tensor(const Args& env)>;

struct Program {
  std::vector<Dims> args;
  std::vector<bool> is_int;
  std::vector<int64_t> int_hi;
  std::vector<Step> steps;
  std::vector<std::string> text;
  int out = 0;
  Dims out_shape;

  Tensor run(const Args& a) const {
    Args env = a;
    for (const Step& s : steps) env.push_back(s(env));
    return env[size_t(out)];
  }
  std::string str() const {
    std::string s = "f(";
    for (size_t i = 0; i < args.size(); i++) s += (i ? ", " : "") + std::string(is_int[i] ? "i64" : "f64") + args[i].str();
    s += ") {\n";
    for (const std::string& t : text) s += "      " + t + "\n";
    return s + "      return v" + std::to_string(out) + "\n    }";
  }
};

struct Val {
  int id;
  Dims shape;
  double bound;
  bool raw;
};

struct Gen {
  Rng& r;
  Program p;
  std::vector<Val> vals;  // float values
  int next_id = 0;

  explicit Gen(Rng& rng) : r(rng) {}

  const Val& emit(const std::string& what, const Dims& shape, double bound, Step s) {
    p.text.push_back("v" + std::to_string(next_id) + " = " + what + "  // " + shape.str());
    p.steps.push_back(std::move(s));
    vals.push_back({next_id++, shape, bound, false});
    return vals.back();
  }
  Val pick() { return r.chance(0.55) ? vals.back() : vals[size_t(r.below(int(vals.size())))]; }
  std::string n(const Val& v) { return "v" + std::to_string(v.id); }

  Val constant(const Dims& s, double lo = -1, double hi = 1) {
    std::vector<double> d(size_t(numel_of(s)));
    for (double& x : d) x = r.uniform(lo, hi);
    return emit("const", s, std::max(std::fabs(lo), std::fabs(hi)), [d, s](const Args&) { return tensor_of(d, s); });
  }
  Val tame(const Val& v, double max_bound) {
    if (v.bound <= max_bound) return v;
    int id = v.id;
    return emit("tanh(" + n(v) + ")", v.shape, 1, [id](const Args& e) { return O::tanh(e[size_t(id)]); });
  }
  Dims compat(const Dims& s) {
    Dims c = s;
    switch (r.below(5)) {
      case 0: return c;
      case 1: {
        int k = r.range(0, s.n);
        Dims d;
        for (int i = k; i < s.n; i++) d.push_back(s[i]);
        return d;
      }
      case 2:
        for (int i = 0; i < c.n; i++)
          if (r.chance(0.5)) c[i] = 1;
        return c;
      case 3: return s.n < kMaxRank ? inserted(s, 0, r.range(1, 2)) : c;
      default: return Dims{};
    }
  }
  Val partner(const Dims& s) {
    std::vector<Val> cands;
    Dims b;
    for (const Val& v : vals)
      if (broadcast(s, v.shape, &b) && fits(b)) cands.push_back(v);
    if (!cands.empty() && r.chance(0.5)) return cands[size_t(r.below(int(cands.size())))];
    return constant(compat(s));
  }
  int dim_arg(int d, int rank) { return r.chance(0.3) ? d - rank : d; }
  Dims random_dims(int rank) {
    std::vector<int> all;
    for (int i = 0; i < rank; i++) all.push_back(i);
    Dims d;
    int k = r.range(1, rank);
    for (int i = 0; i < k; i++) {
      int j = r.below(int(all.size()));
      d.push_back(dim_arg(all[size_t(j)], rank));
      all.erase(all.begin() + j);
    }
    return d;
  }
  Dims reduced_shape(const Dims& s, const Dims& dims, bool keep) {
    Dims out;
    for (int i = 0; i < s.n; i++) {
      bool gone = false;
      for (int64_t d : dims) gone |= (d < 0 ? d + s.n : d) == i;
      if (!gone) out.push_back(s[i]);
      else if (keep) out.push_back(1);
    }
    return out;
  }

  bool step() {
    Val x = pick();
    int id = x.id, rank = x.shape.n;
    switch (r.below(15)) {
      case 0: {  // smooth unary
        int k = r.below(6);
        const char* names[] = {"neg", "sin", "cos", "tanh", "sigmoid", "exp"};
        if (k == 5) x = tame(x, 2.5), id = x.id;
        double bound = k == 0 ? x.bound : k == 5 ? std::exp(x.bound) : 1;
        emit(std::string(names[k]) + "(" + n(x) + ")", x.shape, bound, [id, k](const Args& e) {
          const Tensor& t = e[size_t(id)];
          switch (k) {
            case 0: return O::neg(t);
            case 1: return O::sin(t);
            case 2: return O::cos(t);
            case 3: return O::tanh(t);
            case 4: return O::sigmoid(t);
            default: return O::exp(t);
          }
        });
        return true;
      }
      case 1: {  // log / sqrt of a positive value, pow with an integer exponent
        x = tame(x, 3), id = x.id;
        double c = r.uniform(0.3, 1.2);
        int k = r.below(3);
        double bound = k == 0 ? std::log(x.bound * x.bound + c) + 1.3 : k == 1 ? std::sqrt(x.bound * x.bound + c) : x.bound * x.bound * x.bound;
        emit((k == 0 ? "log(" : k == 1 ? "sqrt(" : "pow3(") + n(x) + ")", x.shape, bound, [id, k, c](const Args& e) {
          const Tensor& t = e[size_t(id)];
          if (k == 2) return O::pow(t, sc(3.0));
          Tensor pos = O::add(O::mul(t, t), sc(c));
          return k == 0 ? O::log(pos) : O::sqrt(pos);
        });
        return true;
      }
      case 2:
      case 3: {  // binary with broadcasting
        Val b = partner(x.shape);
        Dims s;
        if (!broadcast(x.shape, b.shape, &s) || !fits(s)) return false;
        if (r.chance(0.3)) std::swap(x, b);
        int k = r.below(4);
        if (k == 2) x = tame(x, 4), b = tame(b, 4);
        int ia = x.id, ib = b.id;
        double bound = k < 2 ? x.bound + b.bound : k == 2 ? x.bound * b.bound : x.bound / 0.5;
        if (bound > kMaxBound) return false;
        const char* names[] = {"add", "sub", "mul", "div"};
        emit(std::string(names[k]) + "(" + n(x) + ", " + n(b) + ")", s, bound, [ia, ib, k](const Args& e) {
          const Tensor &a = e[size_t(ia)], &c = e[size_t(ib)];
          switch (k) {
            case 0: return O::add(a, c);
            case 1: return O::sub(a, c);
            case 2: return O::mul(a, c);
            default: return O::div(a, O::add(O::mul(c, c), sc(0.5)));
          }
        });
        return true;
      }
      case 4: {  // reductions
        int k = r.below(3);
        bool keep = r.chance(0.4);
        Dims dims = rank == 0 ? (r.chance(0.5) ? Dims{} : Dims{-1}) : (r.chance(0.25) ? Dims{} : random_dims(rank));
        Dims out = dims.empty() ? (keep ? Dims::of(std::vector<int64_t>(size_t(rank), 1).data(), rank) : Dims{}) : reduced_shape(x.shape, dims, keep);
        if (rank == 0) out = Dims{};
        double bound = k == 0 ? x.bound * double(numel_of(x.shape)) : k == 1 ? x.bound : x.bound + 3.5;
        if (bound > kMaxBound) return false;
        const char* names[] = {"sum", "mean", "logsumexp"};
        emit(std::string(names[k]) + "(" + n(x) + ", " + dims.str() + (keep ? ", keepdim" : "") + ")", out, bound, [id, k, dims, keep](const Args& e) {
          const Tensor& t = e[size_t(id)];
          return k == 0 ? O::sum(t, dims, keep) : k == 1 ? O::mean(t, dims, keep) : O::logsumexp(t, dims, keep);
        });
        return true;
      }
      case 5: {  // softmax / log_softmax
        int d = rank == 0 ? 0 : dim_arg(r.below(rank), rank);
        bool log = r.chance(0.5);
        if (log && 2 * x.bound + 3 > kMaxBound) return false;
        emit(std::string(log ? "log_softmax(" : "softmax(") + n(x) + ", " + std::to_string(d) + ")", x.shape, log ? 2 * x.bound + 3 : 1,
             [id, d, log](const Args& e) { return log ? O::log_softmax(e[size_t(id)], d) : O::softmax(e[size_t(id)], d); });
        return true;
      }
      case 6: {  // matmul / linear with a weight (a constant or another value)
        if (rank == 0 || rank > 3) return false;
        x = tame(x, 3), id = x.id;
        int64_t k = x.shape[rank - 1], m = r.range(1, 3);
        bool lin = r.chance(0.3);
        Dims ws = lin ? Dims{m, k} : (r.chance(0.3) ? Dims{k} : Dims{k, m});
        Dims out = erased(x.shape, rank - 1);
        if (lin || ws.n == 2) out.push_back(m);
        if (!fits(out)) return false;
        Val w = tame(constant(ws), 1);
        if (x.bound * double(k) > kMaxBound) return false;
        int iw = w.id;
        emit(std::string(lin ? "linear(" : "matmul(") + n(x) + ", " + n(w) + ")", out, x.bound * double(k),
             [id, iw, lin](const Args& e) { return lin ? O::linear(e[size_t(id)], e[size_t(iw)], nullptr) : O::matmul(e[size_t(id)], e[size_t(iw)]); });
        return true;
      }
      case 7: {  // reshape
        int64_t total = numel_of(x.shape);
        Dims s;
        int64_t rem = total;
        while (rem > 1 && s.n < kMaxRank - 1) {
          int64_t d = 2;
          while (rem % d) d++;
          if (r.chance(0.4)) d = rem;
          s.insert(r.below(s.n + 1), d);
          rem /= d;
        }
        if (rem > 1) s.push_back(rem);
        if (s.n < kMaxRank && r.chance(0.3)) s.insert(r.below(s.n + 1), 1);
        Dims req = s;
        if (s.n > 0 && r.chance(0.3)) req[r.below(s.n)] = -1;
        emit("reshape(" + n(x) + ", " + req.str() + ")", s, x.bound, [id, req](const Args& e) { return O::reshape(e[size_t(id)], req); });
        return true;
      }
      case 8: {  // permute / transpose / movedim
        if (rank == 0) return false;
        int k = r.below(3);
        if (k == 0) {
          std::vector<int> idx;
          for (int i = 0; i < rank; i++) idx.push_back(i);
          for (int i = rank - 1; i > 0; i--) std::swap(idx[size_t(i)], idx[size_t(r.below(i + 1))]);
          Dims perm, s;
          for (int i : idx) perm.push_back(dim_arg(i, rank)), s.push_back(x.shape[i]);
          emit("permute(" + n(x) + ", " + perm.str() + ")", s, x.bound, [id, perm](const Args& e) { return O::permute(e[size_t(id)], perm); });
        } else {
          int a = r.below(rank), b = r.below(rank);
          Dims s = x.shape;
          if (k == 1) {
            std::swap(s[a], s[b]);
          } else {
            s = inserted(erased(x.shape, a), b, x.shape[a]);
          }
          int da = dim_arg(a, rank), db = dim_arg(b, rank);
          emit(std::string(k == 1 ? "transpose(" : "movedim(") + n(x) + ", " + std::to_string(da) + ", " + std::to_string(db) + ")", s, x.bound,
               [id, da, db, k](const Args& e) { return k == 1 ? O::transpose(e[size_t(id)], da, db) : O::movedim(e[size_t(id)], da, db); });
        }
        return true;
      }
      case 9: {  // slice / select
        if (rank == 0) return false;
        int d = r.below(rank);
        int64_t size = x.shape[d], st = r.below(int(size));
        int da = dim_arg(d, rank);
        if (r.chance(0.4)) {
          int64_t i = r.chance(0.3) ? st - size : st;
          emit("select(" + n(x) + ", " + std::to_string(da) + ", " + std::to_string(i) + ")", erased(x.shape, d), x.bound,
               [id, da, i](const Args& e) { return O::select(e[size_t(id)], da, i); });
          return true;
        }
        int64_t en = r.range(int(st) + 1, int(size) + 2), step = r.range(1, 2);
        int64_t len = (std::min(en, size) - st + step - 1) / step;
        int64_t start = r.chance(0.3) ? st - size : st;
        emit("slice(" + n(x) + ", " + std::to_string(da) + ", " + std::to_string(start) + ", " + std::to_string(en) + ", " + std::to_string(step) + ")",
             with(x.shape, d, len), x.bound, [id, da, start, en, step](const Args& e) { return O::slice(e[size_t(id)], da, start, en, step); });
        return true;
      }
      case 10: {  // expand / unsqueeze / squeeze
        int k = r.below(3);
        if (k == 0) {
          int lead = rank < kMaxRank ? r.range(0, 1) : 0;
          Dims req, s;
          for (int i = 0; i < lead; i++) req.push_back(2), s.push_back(2);
          for (int i = 0; i < rank; i++) {
            int64_t to = x.shape[i] == 1 ? r.range(1, 3) : x.shape[i];
            s.push_back(to);
            req.push_back(to == x.shape[i] && r.chance(0.4) ? -1 : to);
          }
          if (!fits(s)) return false;
          emit("expand(" + n(x) + ", " + req.str() + ")", s, x.bound, [id, req](const Args& e) { return O::expand(e[size_t(id)], req); });
        } else if (k == 1) {
          if (rank >= kMaxRank) return false;
          int d = r.range(0, rank);
          int da = r.chance(0.3) ? d - rank - 1 : d;
          emit("unsqueeze(" + n(x) + ", " + std::to_string(da) + ")", inserted(x.shape, d, 1), x.bound,
               [id, da](const Args& e) { return O::unsqueeze(e[size_t(id)], da); });
        } else {
          Dims s;
          for (int64_t d : x.shape)
            if (d != 1) s.push_back(d);
          emit("squeeze(" + n(x) + ")", s, x.bound, [id](const Args& e) { return O::squeeze(e[size_t(id)], Dims{}); });
        }
        return true;
      }
      case 11: {  // cat / stack with a constant
        if (rank > 0 && r.chance(0.5)) {
          int d = r.below(rank);
          Val c = constant(with(x.shape, d, r.range(1, 2)));
          Dims s = with(x.shape, d, x.shape[d] + c.shape[d]);
          if (!fits(s)) return false;
          int ic = c.id, da = dim_arg(d, rank);
          bool first = r.chance(0.5);
          emit("cat(" + n(x) + ", " + n(c) + ", " + std::to_string(da) + ")", s, std::max(x.bound, 1.0), [id, ic, da, first](const Args& e) {
            return first ? O::cat({e[size_t(id)], e[size_t(ic)]}, da) : O::cat({e[size_t(ic)], e[size_t(id)]}, da);
          });
          return true;
        }
        if (rank >= kMaxRank) return false;
        Val c = constant(x.shape);
        int d = r.range(0, rank);
        Dims s = inserted(x.shape, d, 2);
        if (!fits(s)) return false;
        int ic = c.id;
        emit("stack(" + n(x) + ", " + n(c) + ", " + std::to_string(d) + ")", s, std::max(x.bound, 1.0),
             [id, ic, d](const Args& e) { return O::stack({e[size_t(id)], e[size_t(ic)]}, d); });
        return true;
      }
      case 12: {  // index_select, with the int64 argument when it fits
        if (rank == 0) return false;
        int d = r.below(rank);
        int64_t size = x.shape[d];
        for (size_t a = 0; a < p.args.size(); a++)
          if (p.is_int[a] && p.int_hi[a] == size && r.chance(0.7)) {
            int ia = int(a);
            Dims s = with(x.shape, d, p.args[a].n == 0 ? 1 : p.args[a][0]);
            emit("index_select(" + n(x) + ", " + std::to_string(d) + ", v" + std::to_string(ia) + ")", s, x.bound,
                 [id, d, ia](const Args& e) { return O::index_select(e[size_t(id)], d, e[size_t(ia)]); });
            return true;
          }
        int len = r.range(1, 3);
        std::vector<int64_t> idx;
        for (int i = 0; i < len; i++) idx.push_back(r.below(int(size)));
        Dims s = with(x.shape, d, len);
        if (!fits(s)) return false;
        emit("index_select(" + n(x) + ", " + std::to_string(d) + ", const)", s, x.bound, [id, d, idx](const Args& e) {
          return O::index_select(e[size_t(id)], d, O::from_data(idx.data(), Dims{int64_t(idx.size())}, DType::Int64));
        });
        return true;
      }
      case 13: {  // where, the condition from a raw argument (values away from the threshold) or a mask
        Val b = partner(x.shape);
        Dims s;
        if (!broadcast(x.shape, b.shape, &s) || !fits(s)) return false;
        int ia = x.id, ib = b.id;
        std::vector<Val> raws;
        Dims t;
        for (const Val& v : vals)
          if (v.raw && broadcast(s, v.shape, &t) && fits(t)) raws.push_back(v);
        if (!raws.empty() && r.chance(0.6)) {
          Val c = raws[size_t(r.below(int(raws.size())))];
          broadcast(s, c.shape, &t);
          double th = kThresholds[r.below(3)];
          int ic = c.id;
          emit("where(gt(" + n(c) + ", " + std::to_string(th) + "), " + n(x) + ", " + n(b) + ")", t, std::max(x.bound, b.bound),
               [ic, ia, ib, th](const Args& e) { return O::where(O::compare(OpId::Gt, e[size_t(ic)], sc(th)), e[size_t(ia)], e[size_t(ib)]); });
          return true;
        }
        std::vector<uint8_t> mask(size_t(numel_of(s)));
        for (auto& m : mask) m = uint8_t(r.below(2));
        emit("where(mask, " + n(x) + ", " + n(b) + ")", s, std::max(x.bound, b.bound),
             [mask, s, ia, ib](const Args& e) { return O::where(O::from_data(mask.data(), s, DType::Bool), e[size_t(ia)], e[size_t(ib)]); });
        return true;
      }
      default: {  // kinks only on raw arguments: relu, abs, amax (raw values are distinct)
        std::vector<Val> raws;
        for (const Val& v : vals)
          if (v.raw) raws.push_back(v);
        if (raws.empty()) return false;
        Val c = raws[size_t(r.below(int(raws.size())))];
        int ic = c.id, k = r.below(3);
        if (k == 2) {
          bool keep = r.chance(0.4);
          Dims dims = c.shape.n == 0 ? Dims{} : random_dims(c.shape.n);
          Dims s = dims.empty() ? Dims{} : reduced_shape(c.shape, dims, keep);
          emit("amax(" + n(c) + ", " + dims.str() + ")", s, c.bound, [ic, dims, keep](const Args& e) { return O::amax(e[size_t(ic)], dims, keep); });
          return true;
        }
        emit(std::string(k == 0 ? "relu(" : "abs(") + n(c) + ")", c.shape, c.bound,
             [ic, k](const Args& e) { return k == 0 ? O::relu(e[size_t(ic)]) : O::abs(e[size_t(ic)]); });
        return true;
      }
    }
  }
};

Program generate_program(Rng& r) {
  Gen g(r);
  int k = r.range(1, 2);
  for (int i = 0; i < k; i++) {
    Dims s;
    do {
      s = Dims{};
      int rank = r.below(4);
      for (int d = 0; d < rank; d++) s.push_back(r.chance(0.25) ? 1 : r.range(2, 3));
    } while (numel_of(s) > 8);
    g.p.args.push_back(s);
    g.p.is_int.push_back(false);
    g.p.int_hi.push_back(0);
    g.vals.push_back({g.next_id++, s, 1.6, true});
  }
  if (r.chance(0.25) && g.p.args[0].n > 0) {  // an int64 index argument into a dim of argument 0
    g.p.args.push_back(r.chance(0.3) ? Dims{} : Dims{r.range(1, 3)});
    g.p.is_int.push_back(true);
    g.p.int_hi.push_back(g.p.args[0][r.below(g.p.args[0].n)]);
    g.next_id++;
  }
  int steps = r.range(2, 8), done = 0;
  for (int a = 0; done < steps && a < 100; a++) done += g.step();
  Val out = g.vals.back();
  while (numel_of(out.shape) > 12) {
    int id = out.id;
    out = g.emit("sum(v" + std::to_string(id) + ", [0])", erased(out.shape, 0), out.bound * double(out.shape[0]),
                 [id](const Args& e) { return O::sum(e[size_t(id)], Dims{0}, false); });
  }
  // every float argument matters
  for (int i = 0; i < k; i++) {
    int io = out.id;
    out = g.emit("add(v" + std::to_string(io) + ", sum(sin(v" + std::to_string(i) + ")))", out.shape, out.bound + 8,
                 [io, i](const Args& e) { return O::add(e[size_t(io)], O::sum(O::sin(e[size_t(i)]), Dims{}, false)); });
  }
  g.p.out = out.id;
  g.p.out_shape = out.shape;
  return g.p;
}

// ---------------------------------------------------------------- transform nestings

// A level that is popped even when the traced function throws.
struct LevelScope {
  Ref<Level> level;
  bool live = true;
  explicit LevelScope(LevelKind k, int64_t batch = 0) : level(push_level(k, batch)) {}
  Level* get() const { return level.get(); }
  void pop() {
    live = false;
    pop_level(level.get(), level_name(level->kind));
  }
  ~LevelScope() {
    if (!live) return;
    try {
      pop_level(level.get(), "fuzz");
    } catch (...) {
    }
  }
};

enum class Defect {
  None,
  OpShape, OpIndex, OpArgument, OpDType, Escaped,  // one bad op in the program
  InDimRange, InDim0d, BatchSize, OutDimRange,      // vmap
  TangentShape, TangentDType,                        // jvp
  CotangentShape, CotangentDType, EscapedCotangent,  // vjp
  IntInput,                                          // grad / vjp / jvp of an int64 argument
};
const char* defect_name(Defect d) {
  const char* n[] = {"none", "op shape", "op index", "op argument", "op dtype", "escaped tracer", "vmap in-dim range", "vmap of a 0-d input",
                     "vmap batch size", "vmap out-dim range", "tangent shape", "tangent dtype", "cotangent shape", "cotangent dtype",
                     "escaped cotangent", "int64 input"};
  return n[int(d)];
}
ErrorKind expected_kind(Defect d) {
  switch (d) {
    case Defect::OpShape: case Defect::BatchSize: case Defect::TangentShape: case Defect::CotangentShape: return ErrorKind::Shape;
    case Defect::OpIndex: case Defect::InDimRange: case Defect::InDim0d: case Defect::OutDimRange: return ErrorKind::Index;
    case Defect::OpArgument: return ErrorKind::Argument;
    case Defect::OpDType: case Defect::TangentDType: case Defect::CotangentDType: case Defect::IntInput: return ErrorKind::DType;
    case Defect::Escaped: case Defect::EscapedCotangent: return ErrorKind::State;
    default: return ErrorKind::None;
  }
}

// A tracer of a transform that has returned.
Tensor escaped_tracer(const Dims& shape) {
  Tensor kept;
  LevelScope l(LevelKind::Grad);
  kept = O::mul(grad_wrap(l.get(), O::ones(shape, DType::Float64)), sc(2.0));
  l.pop();
  return kept;
}

struct Node {
  std::vector<Dims> args;
  std::vector<bool> is_int;
  std::vector<int64_t> int_hi;
  Dims out;
  int order = 0;
  double cost = 1;
  bool has_vmap = false;
  Defect defect = Defect::None;
  virtual ~Node() = default;
  virtual Tensor apply(const Args& a, bool loop) = 0;
  virtual Arr ref(const std::vector<Arr>& a, double h) = 0;
  virtual std::string str() const = 0;
  void inherit(const Node& c) {
    args = c.args, is_int = c.is_int, int_hi = c.int_hi, order = c.order, cost = c.cost, has_vmap = c.has_vmap;
  }
};
using NodeP = std::shared_ptr<Node>;

struct Base : Node {
  Program p;
  explicit Base(Program prog) : p(std::move(prog)) {
    args = p.args, is_int = p.is_int, int_hi = p.int_hi, out = p.out_shape;
  }
  Tensor apply(const Args& a, bool) override { return p.run(a); }
  Arr ref(const std::vector<Arr>& a, double) override {
    Args t;
    for (size_t i = 0; i < a.size(); i++) {
      if (is_int[i]) {
        std::vector<int64_t> l(a[i].v.begin(), a[i].v.end());
        t.push_back(O::from_data(l.data(), a[i].shape, DType::Int64));
      } else {
        t.push_back(tensor_of(a[i].v, a[i].shape));
      }
    }
    return arr(p.run(t));
  }
  std::string str() const override { return "f"; }
};

struct Project : Node {  // sum(child * w): a scalar for grad
  NodeP c;
  std::vector<double> w;
  Project(NodeP child, Rng& r) : c(std::move(child)) {
    inherit(*c);
    out = Dims{};
    for (int64_t i = 0; i < numel_of(c->out); i++) w.push_back(r.uniform(-1, 1));
  }
  Tensor apply(const Args& a, bool loop) override { return O::sum(O::mul(c->apply(a, loop), tensor_of(w, c->out)), Dims{}, false); }
  Arr ref(const std::vector<Arr>& a, double h) override {
    Arr y = c->ref(a, h);
    double s = 0;
    for (size_t i = 0; i < w.size(); i++) s += w[i] * y.v[i];
    return {Dims{}, {s}};
  }
  std::string str() const override { return "dot_w(" + c->str() + ")"; }
};

struct Grad : Node {  // gradient of a scalar child with respect to argument i
  NodeP c;
  int i;
  Grad(NodeP child, int arg) : c(std::move(child)), i(arg) {
    inherit(*c);
    out = args[size_t(i)];
    order++;
    cost *= 2 * double(numel_of(out));
  }
  Tensor apply(const Args& a, bool loop) override {
    LevelScope l(LevelKind::Grad);
    Args in = a;
    in[size_t(i)] = grad_wrap(l.get(), a[size_t(i)]);
    Tensor y = c->apply(in, loop);
    l.pop();
    return grad_backward(l.get(), {y}, {O::ones(y.shape(), y.dtype())}, {in[size_t(i)]})[0];
  }
  Arr ref(const std::vector<Arr>& a, double h) override {
    Arr g{out, {}};
    for (size_t e = 0; e < a[size_t(i)].v.size(); e++)
      g.v.push_back(deriv([&](double t) { return c->ref(nudged(a, i, e, t), h).v; }, h)[0]);
    return g;
  }
  std::string str() const override { return "grad(" + std::to_string(i) + (defect != Defect::None ? ", !" + std::string(defect_name(defect)) : "") + ")(" + c->str() + ")"; }
};

struct Vjp : Node {  // cotangent of argument i for the cotangent passed as the last argument
  NodeP c;
  int i, nc;
  Vjp(NodeP child, int arg, const Dims& cot) : c(std::move(child)), i(arg) {
    inherit(*c);
    nc = int(args.size());
    args.push_back(cot), is_int.push_back(false), int_hi.push_back(0);
    out = c->args[size_t(i)];
    order++;
    cost *= 2 * double(numel_of(out));
  }
  Tensor apply(const Args& a, bool loop) override {
    Tensor u = a[size_t(nc)];
    if (defect == Defect::CotangentDType) u = O::to(u, DType::Float32);
    if (defect == Defect::EscapedCotangent) u = escaped_tracer(u.shape());
    LevelScope l(LevelKind::Grad);
    Args in(a.begin(), a.begin() + nc);
    in[size_t(i)] = grad_wrap(l.get(), a[size_t(i)]);
    Tensor y = c->apply(in, loop);
    l.pop();
    return grad_backward(l.get(), {y}, {u}, {in[size_t(i)]})[0];
  }
  Arr ref(const std::vector<Arr>& a, double h) override {
    std::vector<Arr> x(a.begin(), a.begin() + nc);
    const std::vector<double>& u = a[size_t(nc)].v;
    auto dot = [&](const Arr& y) {
      double s = 0;
      for (size_t k = 0; k < u.size(); k++) s += u[k] * y.v[k];
      return s;
    };
    Arr g{out, {}};
    for (size_t e = 0; e < x[size_t(i)].v.size(); e++)
      g.v.push_back(deriv([&](double t) { return std::vector<double>{dot(c->ref(nudged(x, i, e, t), h))}; }, h)[0]);
    return g;
  }
  std::string str() const override { return "vjp(" + std::to_string(i) + (defect != Defect::None ? ", !" + std::string(defect_name(defect)) : "") + ")(" + c->str() + ")"; }
};

struct Jvp : Node {  // tangent of the output for the tangent of argument i passed as the last argument
  NodeP c;
  int i, nc;
  Jvp(NodeP child, int arg, const Dims& tangent) : c(std::move(child)), i(arg) {
    inherit(*c);
    nc = int(args.size());
    args.push_back(tangent), is_int.push_back(false), int_hi.push_back(0);
    out = c->out;
    order++;
    cost *= 2;
  }
  Tensor apply(const Args& a, bool loop) override {
    Tensor t = a[size_t(nc)];
    if (defect == Defect::TangentDType) t = O::to(t, DType::Float32);
    if (defect == Defect::IntInput) t = O::zeros_like(a[size_t(i)]);  // same dtype: the int64 itself is the defect
    LevelScope l(LevelKind::Jvp);
    Args in(a.begin(), a.begin() + nc);
    in[size_t(i)] = jvp_wrap(l.get(), a[size_t(i)], t);
    Tensor y = c->apply(in, loop), p, tan;
    jvp_unwrap(l.get(), y, &p, &tan);
    l.pop();
    return tan;
  }
  Arr ref(const std::vector<Arr>& a, double h) override {
    std::vector<Arr> x(a.begin(), a.begin() + nc);
    auto along = [&](double t) {
      std::vector<Arr> y = x;
      for (size_t e = 0; e < y[size_t(i)].v.size(); e++) y[size_t(i)].v[e] += t * a[size_t(nc)].v[e];
      return c->ref(y, h).v;
    };
    return {out, deriv(along, h)};
  }
  std::string str() const override { return "jvp(" + std::to_string(i) + (defect != Defect::None ? ", !" + std::string(defect_name(defect)) : "") + ")(" + c->str() + ")"; }
};

struct Vmap : Node {
  NodeP c;
  std::vector<int> in_dims, pass_dims;  // -1: not mapped; pass_dims is what batch_wrap gets
  int64_t batch;
  int out_dim, pass_out;
  Vmap(NodeP child, std::vector<int> dims, int64_t b, int od, int bigger) : c(std::move(child)), in_dims(std::move(dims)), batch(b), out_dim(od) {
    inherit(*c);
    has_vmap = true;
    for (size_t k = 0; k < args.size(); k++)
      if (in_dims[k] >= 0) args[k] = inserted(c->args[k], in_dims[k], int(k) == bigger ? b + 1 : b);
    out = inserted(c->out, out_dim, b);
    cost *= double(b);
    pass_dims = in_dims;
    pass_out = out_dim;
  }
  Tensor apply(const Args& a, bool loop) override {
    if (loop) {
      Args outs;
      for (int64_t b = 0; b < batch; b++) {
        Args s = a;
        for (size_t k = 0; k < a.size(); k++)
          if (in_dims[k] >= 0) s[k] = O::select(a[k], in_dims[k], b);
        outs.push_back(c->apply(s, true));
      }
      return O::stack(outs, out_dim);
    }
    LevelScope l(LevelKind::Batch, batch);
    Args in = a;
    for (size_t k = 0; k < a.size(); k++)
      if (pass_dims[k] != -100) in[k] = batch_wrap(l.get(), a[k], pass_dims[k]);
    Tensor y = batch_unwrap(l.get(), c->apply(in, false), pass_out);
    l.pop();
    return y;
  }
  Arr ref(const std::vector<Arr>& a, double h) override {
    std::vector<Arr> outs;
    for (int64_t b = 0; b < batch; b++) {
      std::vector<Arr> s = a;
      for (size_t k = 0; k < a.size(); k++)
        if (in_dims[k] >= 0) s[k] = select(a[k], in_dims[k], b);
      outs.push_back(c->ref(s, h));
    }
    return stack(outs, out_dim);
  }
  std::string str() const override {
    std::string d;
    for (int x : pass_dims) d += (d.empty() ? "" : ",") + (x == -100 ? std::string("-") : std::to_string(x));
    return "vmap([" + d + "], out " + std::to_string(pass_out) + ", B=" + std::to_string(batch) +
           (defect != Defect::None ? ", !" + std::string(defect_name(defect)) : "") + ")(" + c->str() + ")";
  }
};

Tensor basis(int64_t n, const Dims& shape) { return O::reshape(O::eye(n, n, DType::Float64), inserted(shape, 0, n)); }

struct Jac : Node {  // [out..., in_i...]: reverse (vmap of the backward pass) or forward (vmap of jvp)
  NodeP c;
  int i;
  bool fwd;
  Jac(NodeP child, int arg, bool forward) : c(std::move(child)), i(arg), fwd(forward) {
    inherit(*c);
    out = concat(c->out, args[size_t(i)]);
    order++;
    cost *= 2 * double(numel_of(args[size_t(i)]));
  }
  Tensor apply(const Args& a, bool loop) override {
    const Dims& in_shape = args[size_t(i)];
    const int64_t n = numel_of(in_shape);
    if (fwd) {  // one jvp per basis tangent, all at once
      LevelScope vb(LevelKind::Batch, n);
      Tensor t = batch_wrap(vb.get(), basis(n, in_shape), 0);
      LevelScope l(LevelKind::Jvp);
      Args in = a;
      in[size_t(i)] = jvp_wrap(l.get(), a[size_t(i)], t);
      Tensor y = c->apply(in, loop), p, tan;
      jvp_unwrap(l.get(), y, &p, &tan);
      l.pop();
      Tensor cols = batch_unwrap(vb.get(), tan, -1);  // [out..., n]
      vb.pop();
      return O::reshape(cols, out);
    }
    LevelScope g(LevelKind::Grad);
    Args in = a;
    in[size_t(i)] = grad_wrap(g.get(), a[size_t(i)]);
    Tensor y = c->apply(in, loop);
    g.pop();
    const int64_t m = y.numel();
    LevelScope vb(LevelKind::Batch, m);
    Tensor ct = batch_wrap(vb.get(), basis(m, y.shape()), 0);
    Tensor rows = batch_unwrap(vb.get(), grad_backward(g.get(), {y}, {ct}, {in[size_t(i)]})[0], 0);  // [m, in...]
    vb.pop();
    return O::reshape(rows, out);
  }
  Arr ref(const std::vector<Arr>& a, double h) override {
    const size_t n = a[size_t(i)].v.size(), m = size_t(numel_of(c->out));
    Arr j{out, std::vector<double>(m * n)};
    for (size_t e = 0; e < n; e++) {
      std::vector<double> col = deriv([&](double t) { return c->ref(nudged(a, i, e, t), h).v; }, h);
      for (size_t k = 0; k < m; k++) j.v[k * n + e] = col[k];
    }
    return j;
  }
  std::string str() const override { return std::string(fwd ? "jacfwd(" : "jacrev(") + std::to_string(i) + ")(" + c->str() + ")"; }
};

std::vector<int> float_args(const Node& n) {
  std::vector<int> f;
  for (size_t k = 0; k < n.args.size(); k++)
    if (!n.is_int[k]) f.push_back(int(k));
  return f;
}

Dims bad_shape(Rng& r, const Dims& s) {
  if (s.n == 0 || r.chance(0.3)) return inserted(s, r.range(0, s.n), 2);
  int d = r.below(s.n);
  return with(s, d, s[d] + 1);
}

// One transform around c, possibly carrying the defect d; null if it does not apply.
NodeP wrap(Rng& r, NodeP c, Defect d) {
  std::vector<int> fl = float_args(*c);
  if (fl.empty()) return nullptr;
  int arg = fl[size_t(r.below(int(fl.size())))];
  int int_arg = -1;
  for (size_t k = 0; k < c->args.size(); k++)
    if (c->is_int[k]) int_arg = int(k);
  if (d == Defect::IntInput) {
    if (int_arg < 0) return nullptr;
    arg = int_arg;
  }
  int kind;  // 0 grad, 1 vjp, 2 jvp, 3 vmap, 4 jacrev, 5 jacfwd, 6 hessian
  switch (d) {
    case Defect::InDimRange: case Defect::InDim0d: case Defect::BatchSize: case Defect::OutDimRange: kind = 3; break;
    case Defect::TangentShape: case Defect::TangentDType: kind = 2; break;
    case Defect::CotangentShape: case Defect::CotangentDType: case Defect::EscapedCotangent: kind = 1; break;
    case Defect::IntInput: kind = r.below(3); break;
    default: {
      const int w[] = {14, 14, 14, 30, 10, 10, 8};
      int k = r.below(100);
      kind = 0;
      while (k >= w[kind]) k -= w[kind++];
    }
  }
  NodeP n;
  switch (kind) {
    case 0: n = std::make_shared<Grad>(c->out.n == 0 ? c : std::make_shared<Project>(c, r), arg); break;
    case 1: n = std::make_shared<Vjp>(c, arg, d == Defect::CotangentShape ? bad_shape(r, c->out) : c->out); break;
    case 2: n = std::make_shared<Jvp>(c, arg, d == Defect::TangentShape ? bad_shape(r, c->args[size_t(arg)]) : c->args[size_t(arg)]); break;
    case 3: {
      std::vector<int> dims;
      int mapped = 0;
      for (size_t k = 0; k < c->args.size(); k++) {
        bool m = r.chance(0.65) || (k + 1 == c->args.size() && mapped == 0);
        dims.push_back(m ? r.range(0, c->args[k].n) : -1);
        mapped += m;
      }
      int bigger = -1, zero_d = -1;
      if (d == Defect::BatchSize) {
        std::vector<int> ms;
        for (size_t k = 0; k < dims.size(); k++)
          if (dims[k] >= 0) ms.push_back(int(k));
        if (ms.size() < 2) return nullptr;
        bigger = ms[size_t(r.range(1, int(ms.size()) - 1))];
      }
      if (d == Defect::InDim0d) {
        for (size_t k = 0; k < dims.size(); k++)
          if (c->args[k].n == 0) zero_d = int(k);
        if (zero_d < 0) return nullptr;
        dims[size_t(zero_d)] = -1;
      }
      auto v = std::make_shared<Vmap>(c, dims, r.range(1, 3), r.range(0, c->out.n), bigger);
      for (size_t k = 0; k < dims.size(); k++)
        v->pass_dims[k] = dims[k] >= 0 ? (r.chance(0.3) ? dims[k] - c->args[k].n - 1 : dims[k]) : -100;
      if (d == Defect::InDim0d) v->pass_dims[size_t(zero_d)] = r.chance(0.5) ? 0 : -1;
      if (d == Defect::InDimRange) {
        std::vector<int> ms;
        for (size_t k = 0; k < dims.size(); k++)
          if (dims[k] >= 0) ms.push_back(int(k));
        int k = ms[size_t(r.below(int(ms.size())))], rank = c->args[size_t(k)].n + 1;
        v->pass_dims[size_t(k)] = r.chance(0.5) ? rank : -rank - 1;
      }
      if (d == Defect::OutDimRange) v->pass_out = r.chance(0.5) ? c->out.n + 1 : -c->out.n - 2;
      else if (r.chance(0.3)) v->pass_out = v->out_dim - c->out.n - 1;
      n = v;
      break;
    }
    case 4: n = std::make_shared<Jac>(c, arg, false); break;
    case 5: n = std::make_shared<Jac>(c, arg, true); break;
    default: {
      NodeP s = c->out.n == 0 ? c : std::make_shared<Project>(c, r);
      n = std::make_shared<Jac>(std::make_shared<Jac>(s, arg, false), arg, true);
    }
  }
  n->defect = d;
  if (d != Defect::None) return n;
  return n->order <= kMaxOrder && n->cost <= kMaxCost && n->args.size() <= 5 && numel_of(n->out) <= 300 && n->out.n <= 10 ? n : nullptr;
}

// One bad op (inserted into the program), raising `d`'s kind.
bool poison(Rng& r, Program& p, Defect d) {
  // a float value of the program: an argument (shape known) or the output of a step
  std::vector<std::pair<int, Dims>> cands;
  for (size_t k = 0; k < p.args.size(); k++)
    if (!p.is_int[k]) cands.push_back({int(k), p.args[k]});
  auto [id, s] = cands[size_t(r.below(int(cands.size())))];
  int rank = s.n;
  Step st;
  std::string what;
  switch (d) {
    case Defect::OpShape: {
      int k = r.below(4);
      if (k == 0) {
        if (rank == 0 || s[rank - 1] == 1) return false;
        Dims c = with(s, rank - 1, s[rank - 1] + 1);  // neither equal nor 1: does not broadcast
        what = "add(v, const" + c.str() + ")";
        st = [id, c](const Args& e) { return O::add(e[size_t(id)], O::ones(c, DType::Float64)); };
      } else if (k == 1) {
        int64_t kk = rank == 0 ? 1 : s[rank - 1];
        what = "matmul(v, const[k+1, 2])";
        st = [id, kk](const Args& e) { return O::matmul(e[size_t(id)], O::ones(Dims{kk + 1, 2}, DType::Float64)); };
      } else if (k == 2) {
        int64_t n = numel_of(s);
        what = "reshape(v, [numel+1])";
        st = [id, n](const Args& e) { return O::reshape(e[size_t(id)], Dims{n + 1}); };
      } else {
        Dims c = inserted(s, 0, 2);
        what = "stack(v, const" + c.str() + ")";
        st = [id, c](const Args& e) { return O::stack({e[size_t(id)], O::ones(c, DType::Float64)}, 0); };
      }
      break;
    }
    case Defect::OpIndex: {
      int over = r.chance(0.5) ? std::max(rank, 1) : -std::max(rank, 1) - 1;
      int k = r.below(4);
      if (k == 0) {
        what = "sum(v, [" + std::to_string(over) + "])";
        st = [id, over](const Args& e) { return O::sum(e[size_t(id)], Dims{over}, false); };
      } else if (k == 1) {
        what = "softmax(v, " + std::to_string(over) + ")";
        st = [id, over](const Args& e) { return O::softmax(e[size_t(id)], over); };
      } else if (k == 2) {
        if (rank == 0) return false;
        int64_t i = s[0];
        what = "select(v, 0, size)";
        st = [id, i](const Args& e) { return O::select(e[size_t(id)], 0, i); };
      } else {
        int dd = rank + 1;
        what = "unsqueeze(v, rank+1)";
        st = [id, dd](const Args& e) { return O::unsqueeze(e[size_t(id)], dd); };
      }
      break;
    }
    case Defect::OpArgument: {
      if (rank == 0) {
        what = "reshape(v, [-1, -1])";
        st = [id](const Args& e) { return O::reshape(e[size_t(id)], Dims{-1, -1}); };
        break;
      }
      int k = r.below(3);
      if (k == 0) {
        Dims dims{0, -rank};
        what = "sum(v, [0, -rank])";
        st = [id, dims](const Args& e) { return O::sum(e[size_t(id)], dims, false); };
      } else if (k == 1) {
        int64_t sz = s[0];
        what = "slice(v, 0, 0, n, 0)";
        st = [id, sz](const Args& e) { return O::slice(e[size_t(id)], 0, 0, sz, 0); };
      } else {
        Dims c = inserted(s, 0, -1);
        what = "expand(v, [-1, ...])";
        st = [id, c](const Args& e) { return O::expand(e[size_t(id)], c); };
      }
      break;
    }
    case Defect::OpDType: {
      int k = r.below(3);
      if (k == 0) {
        // mixed float dtypes promote (ops/promotion.h); a bool operand of sub is refused, as in torch
        what = "sub(v, bool const)";
        st = [id, s](const Args& e) { return O::sub(e[size_t(id)], O::ones(s, DType::Bool)); };
      } else if (k == 1) {
        what = "where(v, v, v)";
        st = [id](const Args& e) { return O::where(e[size_t(id)], e[size_t(id)], e[size_t(id)]); };
      } else {
        what = "exp(to(v, int64))";
        st = [id](const Args& e) { return O::exp(O::to(e[size_t(id)], DType::Int64)); };
      }
      break;
    }
    default: {  // Escaped
      what = "add(v, escaped tracer)";
      st = [id, s](const Args& e) { return O::add(e[size_t(id)], escaped_tracer(s)); };
    }
  }
  size_t pos = size_t(r.range(0, int(p.steps.size())));
  // NOTE: steps refer to values by position in env, so the poisoned step goes last in env order
  // (its result is never used): run it from a wrapper at position pos.
  Step orig = pos < p.steps.size() ? p.steps[pos] : Step();
  if (pos < p.steps.size()) {
    p.steps[pos] = [st, orig](const Args& e) {
      st(e);
      return orig(e);
    };
    p.text[pos] = "POISON " + what + "; then " + p.text[pos];
  } else {
    int out = p.out;
    p.steps.push_back([st, out](const Args& e) {
      st(e);
      return e[size_t(out)];
    });
    p.text.push_back("POISON " + what);
    p.out = int(p.args.size() + p.steps.size()) - 1;
  }
  return true;
}

struct Case {
  NodeP node;
  Defect defect = Defect::None;
  std::string program;
};

Case generate(uint64_t seed, double invalid_ratio) {
  Rng r(seed);
  for (int attempt = 0; attempt < 50; attempt++) {
    Defect d = Defect::None;
    if (r.chance(invalid_ratio)) d = Defect(r.range(1, int(Defect::IntInput)));
    Program p = generate_program(r);
    bool in_program = d >= Defect::OpShape && d <= Defect::Escaped;
    if (in_program && !poison(r, p, d)) continue;
    std::string text = p.str();
    NodeP n = std::make_shared<Base>(std::move(p));
    int depth = r.range(1, 3), at = r.range(1, depth);
    bool ok = true;
    for (int level = 1; level <= depth && ok; level++) {
      NodeP next;
      for (int t = 0; t < 12 && !next; t++) next = wrap(r, n, level == at && !in_program ? d : Defect::None);
      if (next) n = next;
      else ok = false;
    }
    if (ok) return {n, d, text};
  }
  return {};
}

std::vector<double> raw_values(Rng& r, size_t n) {
  std::vector<double> v;
  double gap = std::min(0.02, 1.0 / double(n + 1));
  while (v.size() < n) {
    double x = r.uniform(-1.6, 1.6);
    bool good = true;
    for (double t : kThresholds) good &= std::fabs(x - t) > 0.06;
    for (double y : v) good &= std::fabs(x - y) > gap;
    if (good) v.push_back(x);
  }
  return v;
}

struct Stats {
  int valid = 0, invalid = 0, fd_checks = 0, loop_checks = 0, failures = 0;
  int by_defect[int(Defect::IntInput) + 1] = {};
  double worst[kMaxOrder + 1] = {};
};
Stats g_stats;

void report(uint64_t seed, const Case& cs, const std::string& what) {
  std::printf("  seed %llu: %s\n    %s\n    %s\n", (unsigned long long)seed, what.c_str(), cs.node ? cs.node->str().c_str() : "?", cs.program.c_str());
  check::failures()++;
  g_stats.failures++;
}

// max |got - want| / (tol * max(1, max |want|)), or -1 (with `why`) on a mismatch.
double compare(const Tensor& got, const Arr& want, const Dims& shape, double tol, std::string* why) {
  if (got.shape() != shape || got.dtype() != DType::Float64) {
    *why = "result has shape " + got.shape().str() + " " + dtype_name(got.dtype()) + ", expected " + shape.str() + " float64";
    return -1;
  }
  std::vector<double> g = values(got);
  double scale = 1, worst = 0;
  for (double w : want.v) scale = std::max(scale, std::fabs(w));
  for (size_t k = 0; k < g.size(); k++) {
    double d = std::fabs(g[k] - want.v[k]);
    if (!(d <= tol * scale)) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "element %zu is %.17g, expected %.17g (tol %.1g * scale %.3g)", k, g[k], want.v[k], tol, scale);
      *why = buf;
      return -1;
    }
    worst = std::max(worst, d / (tol * scale));
  }
  return worst;
}

void run_case(uint64_t seed, const Case& cs) {
  Rng r(seed ^ 0x5deece66dULL);
  const Node& n = *cs.node;
  std::vector<Arr> a;
  Args t;
  for (size_t k = 0; k < n.args.size(); k++) {
    size_t cnt = size_t(numel_of(n.args[k]));
    Arr x{n.args[k], {}};
    if (n.is_int[k]) {
      for (size_t e = 0; e < cnt; e++) x.v.push_back(double(r.below(int(n.int_hi[k]))));
      std::vector<int64_t> l(x.v.begin(), x.v.end());
      t.push_back(O::from_data(l.data(), x.shape, DType::Int64));
    } else {
      x.v = raw_values(r, cnt);
      t.push_back(tensor_of(x.v, x.shape));
    }
    a.push_back(x);
  }
  if (cs.defect != Defect::None) {
    g_stats.invalid++;
    g_stats.by_defect[int(cs.defect)]++;
    try {
      cs.node->apply(t, false);
      report(seed, cs, std::string("expected an error (") + defect_name(cs.defect) + "), nothing was thrown");
    } catch (const Error& e) {
      if (e.kind() != expected_kind(cs.defect))
        report(seed, cs, std::string("wrong error kind for ") + defect_name(cs.defect) + ": " + e.what());
    } catch (const std::exception& e) {
      report(seed, cs, std::string("not an adjoint::Error: ") + e.what());
    }
  } else {
    g_stats.valid++;
    try {
      Tensor y = cs.node->apply(t, false);
      double h = kFdStep[std::max(1, n.order)];
      std::string why, ignored;
      double w = compare(y, cs.node->ref(a, h), n.out, kFdTol[n.order], &why);
      // Steep programs defeat 2-point differences: re-check with 4 points before calling it a bug.
      g_four_point = true;
      for (double hh : {h, h / 2})
        if (w < 0) w = compare(y, cs.node->ref(a, hh), n.out, kFdTol[n.order], &ignored);
      g_four_point = false;
      if (w < 0) report(seed, cs, "vs finite differences of the plain program: " + why);
      else g_stats.worst[n.order] = std::max(g_stats.worst[n.order], w), g_stats.fd_checks++;
      if (n.has_vmap) {
        Tensor l = cs.node->apply(t, true);
        if (l.shape() != n.out) report(seed, cs, "the loop version has shape " + l.shape().str() + ", expected " + n.out.str());
        else if (compare(y, arr(l), n.out, kLoopTol, &why) < 0) report(seed, cs, "vmap vs a loop: " + why);
        else g_stats.loop_checks++;
      }
    } catch (const std::exception& e) {
      report(seed, cs, std::string("valid program threw: ") + e.what());
    }
  }
  if (!level_stack().empty()) {
    report(seed, cs, "transform levels left on the stack");
    std::exit(1);  // later results would be meaningless
  }
}

uint64_t env_or(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

}  // namespace

TEST(fuzz_random_programs) {
  const uint64_t first = env_or("ADJOINT_FUZZ_SEED", 1), count = env_or("ADJOINT_FUZZ_PROGRAMS", 800);
  for (uint64_t s = first; s < first + count; s++) {
    Case cs = generate(s, 0.35);
    if (!cs.node) {
      std::printf("  seed %llu: no program could be generated\n", (unsigned long long)s);
      check::failures()++;
      continue;
    }
    run_case(s, cs);
  }
}

TEST(fuzz_summary) {
  const Stats& s = g_stats;
  std::printf("  %d programs: %d valid (%d vs finite differences, %d vmap vs loop), %d invalid, %d failures\n", s.valid + s.invalid, s.valid,
              s.fd_checks, s.loop_checks, s.invalid, s.failures);
  std::printf("  worst error / tolerance by derivative order:");
  for (int o = 0; o <= kMaxOrder; o++) std::printf(" %d: %.3g", o, s.worst[o]);
  std::printf("\n  invalid programs by defect:");
  for (int d = 1; d <= int(Defect::IntInput); d++) std::printf(" %s=%d", defect_name(Defect(d)), s.by_defect[d]);
  std::printf("\n");
  CHECK(s.valid > 0 && s.invalid > 0);
}

int main() { return check::run_all(); }
