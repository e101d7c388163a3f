// Neural-network functions (torch.nn.functional's): activations, losses, normalisations, dropout,
// embedding. All composites of primitives, so every transform and nesting handles them; each
// follows torch 1.13's formula and its derivative convention where a kink or a clamp has one.
#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint::ops {

namespace {

Tensor lit(double v, const Tensor& like) { return scalar(v, like.dtype(), like.device()); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(OpId::Lt, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(OpId::Gt, a, b); }

// NOTE: where(c, a, f(x)) differentiates f at every x, also where c discards f(x): an f that
// overflows there (exp of a large x) gives inf * 0 = NaN in the derivative. Each such branch is
// computed on a safe input: x where the branch is taken, a harmless constant elsewhere.
Tensor safe_input(const Tensor& discard, const Tensor& x, double harmless) { return where(discard, lit(harmless, x), x); }

Dims last_dims(int k) {
  Dims d;
  for (int i = k; i >= 1; i--) d.push_back(-i);
  return d;
}

// [C] viewed as [1, C, 1, ...] against x [N, C, *].
Tensor per_channel(const Tensor& v, const Tensor& x) {
  Dims s;
  for (int i = 0; i < x.ndim(); i++) s.push_back(i == 1 ? v.numel() : 1);
  return reshape(v, s);
}

void check_channels(const char* op, const char* what, const Tensor* v, int64_t c) {
  if (!v) return;
  ADJ_CHECK(v->ndim() == 1 && v->size(0) == c, ErrorKind::Shape, op,
            what << " must have shape [" << c << "] (one per channel), got " << v->shape().str());
}

Tensor affine(Tensor y, const Tensor* w, const Tensor* b, const Tensor& x, bool channels) {
  if (w) y = mul(y, channels ? per_channel(*w, x) : *w);
  if (b) y = add(y, channels ? per_channel(*b, x) : *b);
  return y;
}

}  // namespace

// ---------------------------------------------------------------- activations

Tensor gelu(const Tensor& x, bool tanh_approx) {
  return as_op("gelu", [&] {
    check_floating("gelu", x);
    if (!tanh_approx) return mul(mul(lit(0.5, x), x), add(lit(1, x), erf(mul(x, lit(M_SQRT1_2, x)))));
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Tensor inner = mul(lit(0.7978845608028654, x), add(x, mul(lit(0.044715, x), mul(x, mul(x, x)))));
    return mul(mul(lit(0.5, x), x), add(lit(1, x), tanh(inner)));
  });
}

Tensor silu(const Tensor& x) {
  return as_op("silu", [&] {
    check_floating("silu", x);
    return mul(x, sigmoid(x));
  });
}

// torch: x where beta x > threshold, else log1p(exp(beta x)) / beta.
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return as_op("softplus", [&] {
    check_floating("softplus", x);
    ADJ_CHECK(beta != 0 && std::isfinite(beta), ErrorKind::Argument, "softplus", "beta must be finite and nonzero, got " << beta);
    Tensor bx = mul(x, lit(beta, x));
    Tensor linear = gt(bx, lit(threshold, x));
    Tensor soft = div(log1p(exp(safe_input(linear, bx, 0))), lit(beta, x));
    return where(linear, x, soft);
  });
}

// torch: x where x > 0, else alpha (exp(x) - 1); the derivative at 0 is alpha (the left branch).
Tensor elu(const Tensor& x, double alpha) {
  return as_op("elu", [&] {
    check_floating("elu", x);
    Tensor pos = gt(x, lit(0, x));
    return where(pos, x, mul(lit(alpha, x), expm1(safe_input(pos, x, 0))));
  });
}

// torch: the derivative at 0 is the slope (the left branch).
Tensor leaky_relu(const Tensor& x, double slope) {
  return as_op("leaky_relu", [&] {
    check_floating("leaky_relu", x);
    return where(gt(x, lit(0, x)), x, mul(x, lit(slope, x)));
  });
}

// log(sigmoid(x)) = -log1p(exp(-x)); below -40, exp(x) is under 4e-18 of |x| and x itself is the
// value to float64's precision (and exp(-x) would overflow float32 below -88).
Tensor log_sigmoid(const Tensor& x) {
  return as_op("log_sigmoid", [&] {
    check_floating("log_sigmoid", x);
    Tensor far = lt(x, lit(-40, x));
    return where(far, x, neg(log1p(exp(neg(safe_input(far, x, 0))))));
  });
}

// ---------------------------------------------------------------- losses (torch's reduction='mean')

Tensor mse_loss(const Tensor& input, const Tensor& target) {
  return as_op("mse_loss", [&] {
    check_floating("mse_loss", input);
    Tensor d = sub(input, target);
    return mean(mul(d, d), Dims{}, false);
  });
}

Tensor l1_loss(const Tensor& input, const Tensor& target) {
  return as_op("l1_loss", [&] {
    check_floating("l1_loss", input);
    return mean(abs(sub(input, target)), Dims{}, false);
  });
}

// torch: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); continuous derivative.
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta) {
  return as_op("huber_loss", [&] {
    check_floating("huber_loss", input);
    ADJ_CHECK(delta > 0, ErrorKind::Argument, "huber_loss", "delta must be positive, got " << delta);
    Tensor d = sub(input, target);
    Tensor ad = abs(d);
    Tensor quad = mul(lit(0.5, d), mul(d, d));
    Tensor lin = mul(lit(delta, d), sub(ad, lit(0.5 * delta, d)));
    return mean(where(lt(ad, lit(delta, d)), quad, lin), Dims{}, false);
  });
}

// torch: -(t log(p) + (1 - t) log(1 - p)) with each log clamped at -100 (so p = 0 or 1 is finite).
// NOTE: at p = 0 or 1 exactly the derivative is 0 here, where torch's is (p - t) / 1e-12.
// NOTE: torch refuses probabilities outside [0, 1] (NaN included): they are a common slip (logits
// passed where probabilities belong), and log(1 - p) of them is NaN or a finite wrong number. The
// values are concrete behind every tracer (the primal of grad/jvp, each example of vmap), so the
// check holds under any transform, as the class losses' target check (class_targets.cpp) does.
namespace {
template <class T>
void check_probabilities_t(const Tensor& v, const char* op) {
  const T* x = v.data<T>();
  for (int64_t i = 0, n = v.numel(); i < n; i++)
    ADJ_CHECK(x[i] >= T(0) && x[i] <= T(1), ErrorKind::Argument, op,
              "all elements of input should be between 0 and 1 (as in torch), got " << double(x[i]) << " at flat index " << i
                                                                                  << "; binary_cross_entropy_with_logits takes logits");
}
}  // namespace

Tensor binary_cross_entropy(const Tensor& p, const Tensor& target) {
  return as_op("binary_cross_entropy", [&] {
    check_floating("binary_cross_entropy", p);
    ADJ_CHECK(p.shape() == target.shape(), ErrorKind::Shape, "binary_cross_entropy",
              "target " << target.shape().str() << " must have the input's shape " << p.shape().str());
    const Tensor v = contiguous(every_value_of(p, "binary_cross_entropy"));
    if (v.dtype() == DType::Float64) check_probabilities_t<double>(v, "binary_cross_entropy");
    else check_probabilities_t<float>(v, "binary_cross_entropy");
    auto clamped_log = [&](const Tensor& v) {
      Tensor tiny = lt(v, lit(3.720075976020836e-44, v));  // exp(-100): below it the log is clamped
      return where(tiny, lit(-100, v), log(safe_input(tiny, v, 1)));
    };
    Tensor one = lit(1, p);
    Tensor l = add(mul(target, clamped_log(p)), mul(sub(one, target), clamped_log(sub(one, p))));
    return neg(mean(l, Dims{}, false));
  });
}

// (1 - t) x - log(sigmoid(x)): torch's stable form, derivative sigmoid(x) - t.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target) {
  return as_op("binary_cross_entropy_with_logits", [&] {
    check_floating("binary_cross_entropy_with_logits", logits);
    ADJ_CHECK(logits.shape() == target.shape(), ErrorKind::Shape, "binary_cross_entropy_with_logits",
              "target " << target.shape().str() << " must have the input's shape " << logits.shape().str());
    return mean(sub(mul(sub(lit(1, logits), target), logits), log_sigmoid(logits)), Dims{}, false);
  });
}

Tensor one_hot(const Tensor& target, int64_t classes) {
  return as_op("one_hot", [&] {
    ADJ_CHECK(classes >= 0, ErrorKind::Argument, "one_hot", "number of classes must be >= 0, got " << classes);
    check_class_targets(target, classes, "one_hot");
    Tensor eq = compare(OpId::Eq, unsqueeze(target, -1), arange(0, double(classes), 1, DType::Int64, target.device()));
    return to(eq, DType::Int64);
  });
}

// ---------------------------------------------------------------- norms of vectors

// Tensor.norm: linalg.vector_norm for p > 0 (one definition of the zero-safe root), under its
// own name in errors.
Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  return as_op("norm", [&] {
    check_floating("norm", x);
    ADJ_CHECK(p > 0, ErrorKind::Argument, "norm", "p must be > 0 or infinity, got " << p);
    if (p == INFINITY && reduced_count("norm", x, dims) == 0) return sum(abs(x), dims, keepdim);  // 0 over nothing, like torch
    return linalg_vector_norm(x, p, dims, keepdim);
  });
}

// torch: x / max(norm_p(x, dim), eps).
Tensor normalize(const Tensor& x, double p, int64_t dim, double eps) {
  return as_op("normalize", [&] {
    Tensor n = norm(x, p, Dims{dim}, true);
    const Tensor e = lit(eps, n);
    return div(x, clamp(n, &e, nullptr));
  });
}

// torch 1.13: sum((x1 / max(|x1|, eps)) (x2 / max(|x2|, eps))) along dim, the clamps taken
// without a derivative (their derivative is the norm's).
Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim, double eps) {
  return as_op("cosine_similarity", [&] {
    check_floating("cosine_similarity", a);
    check_floating("cosine_similarity", b);
    const Dims shape = broadcast_shapes(a.shape(), b.shape(), "cosine_similarity");
    const Tensor x1 = expand(a, shape), x2 = expand(b, shape);
    auto unit = [&](const Tensor& v) {
      Tensor n = norm(v, 2, Dims{dim}, true);
      const Tensor e = lit(eps, n);
      // NOTE: the value max(|v|, eps), with the derivative torch 1.13's gradient has: d|v| scaled
      // by |v| / max(|v|, eps) (its clamp_min_ in place under no_grad leaves the norm's backward
      // dividing by the clamped norm). Above eps the factor is exactly 1, so every order of
      // derivative is the plain norm's; below it, it is torch's first derivative.
      const Tensor nc = detach(clamp(n, &e, nullptr));
      Tensor clamped = add(nc, mul(sub(n, detach(n)), div(detach(n), nc)));
      return div(v, clamped);
    };
    return sum(mul(unit(x1), unit(x2)), Dims{dim}, false);
  });
}

// ---------------------------------------------------------------- normalisations

Tensor layer_norm(const Tensor& x, const Dims& normalized_shape, const Tensor* w, const Tensor* b, double eps) {
  return as_op("layer_norm", [&] {
    check_floating("layer_norm", x);
    const int k = normalized_shape.n;
    bool fits = k >= 1 && k <= x.ndim();
    for (int i = 0; fits && i < k; i++) fits = x.size(x.ndim() - k + i) == normalized_shape[i];
    ADJ_CHECK(fits, ErrorKind::Shape, "layer_norm",
              "normalized_shape " << normalized_shape.str() << " must be a nonempty suffix of the input's shape " << x.shape().str());
    for (const Tensor* v : {w, b})
      ADJ_CHECK(!v || v->shape() == normalized_shape, ErrorKind::Shape, "layer_norm",
                (v == w ? "weight " : "bias ") << v->shape().str() << " must have normalized_shape " << normalized_shape.str());
    const Dims dims = last_dims(k);
    Tensor m = mean(x, dims, true);
    Tensor v = var(x, dims, 0, true);
    return affine(mul(sub(x, m), rsqrt(add(v, lit(eps, v)))), w, b, x, false);
  });
}

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor* w, const Tensor* b, double eps) {
  return as_op("group_norm", [&] {
    check_floating("group_norm", x);
    ADJ_CHECK(x.ndim() >= 2, ErrorKind::Shape, "group_norm", "input must be [N, C, *], got " << x.shape().str());
    const int64_t c = x.size(1);
    ADJ_CHECK(groups > 0 && c % groups == 0, ErrorKind::Shape, "group_norm",
              "num_groups " << groups << " must divide the " << c << " channels of " << x.shape().str());
    check_channels("group_norm", "weight", w, c);
    check_channels("group_norm", "bias", b, c);
    Tensor g = reshape(x, Dims{x.size(0), groups, -1});
    Tensor m = mean(g, Dims{2}, true);
    Tensor v = var(g, Dims{2}, 0, true);
    Tensor y = reshape(mul(sub(g, m), rsqrt(add(v, lit(eps, v)))), x.shape());
    return affine(y, w, b, x, true);
  });
}

// NOTE: functional: in training mode the batch's statistics normalise, and the running statistics
// are left as they are (torch updates them in place; here tensors are values).
Tensor batch_norm(const Tensor& x, const Tensor* running_mean, const Tensor* running_var, const Tensor* w, const Tensor* b,
                  bool training, double eps) {
  return as_op("batch_norm", [&] {
    check_floating("batch_norm", x);
    ADJ_CHECK(x.ndim() >= 2, ErrorKind::Shape, "batch_norm", "input must be [N, C, *], got " << x.shape().str());
    const int64_t c = x.size(1);
    check_channels("batch_norm", "running_mean", running_mean, c);
    check_channels("batch_norm", "running_var", running_var, c);
    check_channels("batch_norm", "weight", w, c);
    check_channels("batch_norm", "bias", b, c);
    Tensor m, v;
    if (training) {
      Dims dims;
      for (int i = 0; i < x.ndim(); i++)
        if (i != 1) dims.push_back(i);
      ADJ_CHECK(reduced_count("batch_norm", x, dims) > 1, ErrorKind::Shape, "batch_norm",
                "expected more than 1 value per channel when training, got input " << x.shape().str());
      m = mean(x, dims, true);
      v = var(x, dims, 0, true);
    } else {
      ADJ_CHECK(running_mean && running_var, ErrorKind::Argument, "batch_norm", "running_mean and running_var are required when not training");
      m = per_channel(*running_mean, x);
      v = per_channel(*running_var, x);
    }
    return affine(mul(sub(x, m), rsqrt(add(v, lit(eps, v)))), w, b, x, true);
  });
}

// ---------------------------------------------------------------- dropout, embedding

Tensor dropout(Generator& g, const Tensor& x, double p, bool training) {
  return as_op("dropout", [&] {
    check_floating("dropout", x);
    ADJ_CHECK(p >= 0 && p <= 1, ErrorKind::Argument, "dropout", "dropout probability has to be between 0 and 1, but got " << p);
    if (!training || p == 0) return x;
    if (p == 1) return mul(x, lit(0, x));
    // rand follows vmap's randomness mode (ops/creation.cpp): one mask per example or one shared.
    Tensor keep = to(compare(OpId::Ge, rand(g, x.shape(), x.dtype(), x.device()), lit(p, x)), x.dtype());
    return mul(x, mul(keep, lit(1 / (1 - p), x)));
  });
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
  return as_op("embedding", [&] {
    ADJ_CHECK(weight.ndim() == 2, ErrorKind::Shape, "embedding", "weight must be 2-D [num_embeddings, dim], got " << weight.shape().str());
    ADJ_CHECK(indices.dtype() == DType::Int64, ErrorKind::DType, "embedding",
              "indices must be int64, got " << dtype_name(indices.dtype()) << " " << indices.shape().str());
    Dims out = indices.shape();
    out.push_back(weight.size(1));
    return reshape(index_select(weight, 0, reshape(indices, Dims{-1})), out);
  });
}

// ---------------------------------------------------------------- statistics

// torch: sum((x - mean)^2) / max(0, N - correction).
Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return as_op("var", [&] {
    check_floating("var", x);
    Tensor d = sub(x, mean(x, dims, true));
    Tensor s = sum(mul(d, d), dims, keepdim);
    return div(s, lit(std::max(0.0, reduced_count("var", x, dims) - correction), s));
  });
}

// NOTE: at a zero variance (a constant slice) the derivative of every order is 0, as torch's
// std_backward masks it, not sqrt's 1 / (2 * 0) * 0 = NaN.
Tensor stddev(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return as_op("std", [&] { return rules::zero_safe_pow(var(x, dims, correction, keepdim), 0.5); });
}

}  // namespace adjoint::ops
