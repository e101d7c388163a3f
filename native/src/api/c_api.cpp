// Implementation of include/adjoint/adjoint.h: handle conversion and the error barrier.
#include "adjoint/adjoint.h"

#include <new>
#include <string>
#include <vector>

#include "api/handles.h"
#include "api/record.h"
#include "backends/backend.h"
#include "core/allocator.h"
#include "core/error.h"
#include "core/random.h"
#include "core/small_vector.h"
#include "interp/interpreters.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/promotion.h"

using namespace adjoint;
using namespace adjoint::api;

namespace {

thread_local int t_err_kind = 0;
thread_local std::string t_err_msg;

DType to_dtype(int d, const char* op) {
  ADJ_CHECK(d >= 0 && d < kNumDTypes, ErrorKind::Argument, op, "unknown dtype code " << d);
  return DType(d);
}

Dims dims(const int64_t* p, int n, const char* op) {
  ADJ_CHECK(n >= 0 && n <= kMaxDims, ErrorKind::Argument, op, "rank " << n << " not in [0, " << kMaxDims << "]");
  ADJ_CHECK(n == 0 || p != nullptr, ErrorKind::Argument, op, "null dims array");
  return Dims::of(p, n);
}

Level* level_of(int64_t l, const char* op) {
  ADJ_CHECK(l != 0, ErrorKind::State, op, "null transform level");
  return reinterpret_cast<Level*>(intptr_t(l));
}

// The concrete value behind t for reading it out: jvp/grad tracers give their primal.
// NOTE: a tracer whose transform has returned (or that belongs to another thread's transform) is
// refused here as it is by dispatch: its primal is no value of the user's program, and handing it
// out was a silent wrong answer. Checked per layer, only for tracers: plain tensors pay nothing.
Tensor readable(Tensor t, const char* op) {
  while (t.is_tracer()) {
    check_usable(t, op, "tensor");
    t = tracer_of(t)->value_for_read(op);
  }
  return t;
}

// An optional tensor argument (handle 0 = absent): its tensor in `slot`, or null.
const Tensor* optional(adj_t h, const char* op, Tensor& slot) {
  if (h == 0) return nullptr;
  slot = static_cast<const Tensor&>(in(h, op));
  return &slot;
}

}  // namespace

// The pending error of this thread, set by api_guard (api/record.h) for every entry point.
void adjoint::api_record_error(ErrorKind k, const std::string& msg) {
  t_err_kind = int(k);
  t_err_msg = msg;
}

extern "C" {

int adj_last_error_kind(void) { return t_err_kind; }
const char* adj_last_error_message(void) { return t_err_msg.c_str(); }
const char* adj_version(void) { return "0.1.0"; }
int adj_num_primitives(void) { return kNumOps; }
const char* adj_primitive_name(int i) { return i >= 0 && i < kNumOps ? op_name(OpId(i)) : ""; }

void adj_memory_stats(int64_t* o) {
  MemoryStats s = memory_stats();
  o[0] = s.live_bytes;
  o[1] = s.cached_bytes;
  o[2] = s.live_tensors;
}
void adj_empty_cache(void) { host_empty_cache(); }

int64_t adj_memory_limit(void) { return memory_limit().bytes; }
const char* adj_memory_limit_source(void) {
  thread_local std::string source;
  source = memory_limit().source;
  return source.c_str();
}
int64_t adj_gc_hint_threshold(void) { return gc_hint_threshold(); }
int64_t adj_gc_hint_pressure(void) { return gc_hint_pressure(); }
int64_t adj_gc_hint_footprint(void) { return gc_hint_footprint(); }
int32_t* adj_gc_hint_flag(void) { return gc_hint_flag(); }
void adj_gc_hint_taken(void) { gc_hint_taken(); }
void adj_set_oom_handler(adj_oom_handler handler) { set_oom_handler(handler); }

void adj_release(adj_t t) {
  if (t) Ref<TensorImpl>::adopt(reinterpret_cast<TensorImpl*>(intptr_t(t))).reset();
}
void adj_release_many(const adj_t* ts, int n) {
  for (int i = 0; i < n; i++) adj_release(ts[i]);
}
adj_t adj_share(adj_t t) { return handle_call([&] { return in(t); }); }

int adj_ndim(adj_t t) { return api_guard(-1, [&] { return in(t)->ndim(); }); }
int adj_shape(adj_t t, int64_t* o) {
  return api_guard(-1, [&] {
    const BorrowedTensor b = in(t);
    const Tensor& x = b;
    for (int i = 0; i < x.ndim(); i++) o[i] = x.size(i);
    return x.ndim();
  });
}
int adj_strides(adj_t t, int64_t* o) {
  return api_guard(-1, [&] {
    const BorrowedTensor b = in(t);
    const Tensor& x = b;
    for (int i = 0; i < x.ndim(); i++) o[i] = x.strides()[i];
    return x.ndim();
  });
}
int adj_dtype(adj_t t) { return api_guard(-1, [&] { return int(in(t)->dtype()); }); }
int adj_device(adj_t t) { return api_guard(-1, [&] { Device d = in(t)->device(); return int(d.type) * 256 + d.index; }); }
int adj_is_contiguous(adj_t t) { return api_guard(-1, [&] { return int(in(t)->is_contiguous()); }); }
int64_t adj_numel(adj_t t) { return api_guard<int64_t>(-1, [&] { return in(t)->numel(); }); }

adj_t adj_from_data(const void* data, int dtype, const int64_t* shape, int ndim) {
  return handle_call([&] { return ops::from_data(data, dims(shape, ndim, "from_data"), to_dtype(dtype, "from_data")); });
}

int adj_copy_to_host(adj_t t, int dtype, void* dst, int64_t capacity) {
  return api_guard(-1, [&] {
    Tensor x = readable(in(t, "copy_to_host"), "copy_to_host");
    DType dt = to_dtype(dtype, "copy_to_host");
    int64_t need = x.numel() * int64_t(itemsize(dt));
    ADJ_CHECK(capacity >= need, ErrorKind::Argument, "copy_to_host",
              "destination holds " << capacity << " bytes but the " << dtype_name(dt) << " data of shape " << x.shape().str() << " needs " << need);
    Tensor c = ops::contiguous(ops::to(x, dt));  // both return x itself when nothing changes
    backend_for(c.device()).copy_to_host(dst, c.raw_data(), size_t(need));
    return 0;
  });
}

adj_t adj_full(const int64_t* shape, int ndim, double value, int dtype) {
  return handle_call([&] { return ops::full(dims(shape, ndim, "full"), value, to_dtype(dtype, "full")); });
}
adj_t adj_full_like(adj_t t, double value) {
  return handle_call([&] { const BorrowedTensor b = in(t, "full_like"); const Tensor& x = b; check_scalar_fits("full_like", value, x.dtype()); return ops::full(x.shape(), value, x.dtype(), x.device()); });
}
adj_t adj_eye(int64_t n, int64_t m, int dtype) { return handle_call([&] { return ops::eye(n, m, to_dtype(dtype, "eye")); }); }
adj_t adj_arange(double start, double end, double step, int dtype) {
  return handle_call([&] { return ops::arange(start, end, step, to_dtype(dtype, "arange")); });
}

int64_t adj_generator_new(uint64_t seed) {
  return api_guard<int64_t>(0, [&] { return int64_t(reinterpret_cast<intptr_t>(new Generator(seed))); });
}
void adj_generator_free(int64_t g) {
  if (g) delete reinterpret_cast<Generator*>(intptr_t(g));
}
int adj_generator_manual_seed(int64_t g, uint64_t seed) { return api_guard(-1, [&] { gen(g).manual_seed(seed); return 0; }); }
uint64_t adj_generator_initial_seed(int64_t g) { return gen(g).initial_seed(); }
adj_t adj_randn(int64_t g, const int64_t* shape, int ndim, int dtype) {
  return handle_call([&] { return ops::randn(gen(g), dims(shape, ndim, "randn"), to_dtype(dtype, "randn")); });
}
adj_t adj_rand(int64_t g, const int64_t* shape, int ndim, int dtype) {
  return handle_call([&] { return ops::rand(gen(g), dims(shape, ndim, "rand"), to_dtype(dtype, "rand")); });
}

#define ADJ_UNARY_API_(fn) \
  adj_t adj_##fn(adj_t x) { return handle_call([&] { return ops::fn(in(x, #fn)); }); }
ADJ_UNARY_API_(neg)
ADJ_UNARY_API_(exp)
ADJ_UNARY_API_(log)
ADJ_UNARY_API_(sin)
ADJ_UNARY_API_(cos)
ADJ_UNARY_API_(tanh)
ADJ_UNARY_API_(sigmoid)
ADJ_UNARY_API_(relu)
ADJ_UNARY_API_(sqrt)
ADJ_UNARY_API_(abs)
ADJ_UNARY_API_(sign)
ADJ_UNARY_API_(contiguous)
ADJ_UNARY_API_(log1p)
ADJ_UNARY_API_(expm1)
ADJ_UNARY_API_(erf)
ADJ_UNARY_API_(erfc)
ADJ_UNARY_API_(tan)
ADJ_UNARY_API_(asin)
ADJ_UNARY_API_(acos)
ADJ_UNARY_API_(atan)
ADJ_UNARY_API_(sinh)
ADJ_UNARY_API_(cosh)
ADJ_UNARY_API_(log2)
ADJ_UNARY_API_(log10)
ADJ_UNARY_API_(floor)
ADJ_UNARY_API_(ceil)
ADJ_UNARY_API_(round)
ADJ_UNARY_API_(trunc)
ADJ_UNARY_API_(isnan)
ADJ_UNARY_API_(isinf)
ADJ_UNARY_API_(isfinite)
ADJ_UNARY_API_(logical_not)
ADJ_UNARY_API_(square)
ADJ_UNARY_API_(reciprocal)
ADJ_UNARY_API_(rsqrt)
#undef ADJ_UNARY_API_

#define ADJ_BINARY_API_(fn) \
  adj_t adj_##fn(adj_t a, adj_t b) { return handle_call([&] { return ops::fn(in(a, #fn), in(b, #fn)); }); }
ADJ_BINARY_API_(add)
ADJ_BINARY_API_(sub)
ADJ_BINARY_API_(mul)
ADJ_BINARY_API_(div)
ADJ_BINARY_API_(pow)
ADJ_BINARY_API_(matmul)
ADJ_BINARY_API_(maximum)
ADJ_BINARY_API_(minimum)
ADJ_BINARY_API_(atan2)
ADJ_BINARY_API_(fmod)
ADJ_BINARY_API_(remainder)
ADJ_BINARY_API_(logical_and)
ADJ_BINARY_API_(logical_or)
#undef ADJ_BINARY_API_

adj_t adj_clamp(adj_t x, adj_t lo, adj_t hi) {
  return handle_call([&] {
    const BorrowedTensor xb = in(x, "clamp");
    Tensor l, h;
    if (lo) l = static_cast<const Tensor&>(in(lo, "clamp"));
    if (hi) h = static_cast<const Tensor&>(in(hi, "clamp"));
    return ops::clamp(xb, lo ? &l : nullptr, hi ? &h : nullptr);
  });
}

// Bounds given as doubles are scalars of x's dtype when x is floating (a float32 x stays float32),
// else of the default float dtype (an integer tensor with a Python float, in torch).
adj_t adj_clamp_scalar(adj_t x, double lo, double hi, int which) {
  return handle_call([&] {
    const BorrowedTensor xb = in(x, "clamp");
    const Tensor& xt = xb;
    const DType dt = is_floating(xt.dtype()) ? xt.dtype() : default_float_dtype();
    const Tensor l = ops::scalar(lo, dt, xt.device()), h = ops::scalar(hi, dt, xt.device());
    return ops::clamp(xt, (which & 1) ? &l : nullptr, (which & 2) ? &h : nullptr);
  });
}

namespace {
// The scalar ops' selectors (adjoint.h) and their names, for messages before the op runs.
constexpr OpId kScalarOps[] = {OpId::Add, OpId::Sub, OpId::Mul, OpId::Div, OpId::Pow, OpId::Fmod, OpId::Remainder};
constexpr const char* kScalarOpNames[] = {"add", "sub", "mul", "div", "pow", "fmod", "remainder"};
constexpr int kNumScalarOps = int(sizeof(kScalarOps) / sizeof(kScalarOps[0]));
constexpr const char* kCompareNames[] = {"eq", "ne", "lt", "le", "gt", "ge"};

void check_scalar_op(int op) { ADJ_CHECK(op >= 0 && op < kNumScalarOps, ErrorKind::Argument, "scalar_op", "unknown scalar op " << op); }
OpId cmp_op(int cmp) {
  ADJ_CHECK(cmp >= 0 && cmp <= 5, ErrorKind::Argument, "compare", "unknown comparison " << cmp);
  return OpId(int(OpId::Eq) + cmp);
}

adj_t scalar_call(int op, adj_t a, const Scalar& s, int reverse) {
  return handle_call([&] { check_scalar_op(op); return apply_scalar(kScalarOps[op], in(a, kScalarOpNames[op]), s, reverse != 0); });
}
adj_t compare_scalar_call(int cmp, adj_t a, const Scalar& s) {
  return handle_call([&] { const OpId id = cmp_op(cmp); return apply_scalar(id, in(a, kCompareNames[cmp]), s, false); });
}
}  // namespace

adj_t adj_scalar_op(int op, adj_t a, double s, int reverse) { return scalar_call(op, a, Scalar::of(s), reverse); }
adj_t adj_scalar_op_long(int op, adj_t a, int64_t s, int reverse) { return scalar_call(op, a, Scalar::of_long(s), reverse); }
adj_t adj_compare(int cmp, adj_t a, adj_t b) {
  return handle_call([&] { return ops::compare(cmp_op(cmp), in(a, "compare"), in(b, "compare")); });
}
adj_t adj_compare_scalar(int cmp, adj_t a, double s) { return compare_scalar_call(cmp, a, Scalar::of(s)); }
adj_t adj_compare_scalar_long(int cmp, adj_t a, int64_t s) { return compare_scalar_call(cmp, a, Scalar::of_long(s)); }
int adj_set_default_dtype(int dtype) {
  return api_guard(-1, [&] { set_default_float_dtype(to_dtype(dtype, "set_default_dtype"), "set_default_dtype"); return 0; });
}
int adj_default_dtype(void) { return int(default_float_dtype()); }
int adj_check_class_targets(adj_t target, int64_t classes, const char* op) {
  return api_guard(-1, [&] {
    const char* name = op ? op : "class_targets";
    ops::check_class_targets(in(target, name), classes, name);
    return 0;
  });
}
adj_t adj_where(adj_t c, adj_t a, adj_t b) {
  return handle_call([&] { return ops::where(in(c, "where"), in(a, "where"), in(b, "where")); });
}
adj_t adj_to(adj_t x, int dtype) { return handle_call([&] { return ops::to(in(x, "to"), to_dtype(dtype, "to")); }); }

#define ADJ_REDUCE_API_(fn)                                                                 \
  adj_t adj_##fn(adj_t x, const int64_t* d, int n, int keepdim) {                           \
    return handle_call([&] { return ops::fn(in(x, #fn), dims(d, n, #fn), keepdim != 0); }); \
  }
ADJ_REDUCE_API_(sum)
ADJ_REDUCE_API_(mean)
ADJ_REDUCE_API_(amax)
ADJ_REDUCE_API_(logsumexp)
#undef ADJ_REDUCE_API_

adj_t adj_softmax(adj_t x, int64_t dim) { return handle_call([&] { return ops::softmax(in(x, "softmax"), dim); }); }
adj_t adj_log_softmax(adj_t x, int64_t dim) { return handle_call([&] { return ops::log_softmax(in(x, "log_softmax"), dim); }); }

// --- statistics, vector norms and torch.nn.functional's composites (ops/nn.cpp) ---
adj_t adj_var(adj_t x, const int64_t* d, int n, double correction, int keepdim) {
  return handle_call([&] { return ops::var(in(x, "var"), dims(d, n, "var"), correction, keepdim != 0); });
}
adj_t adj_std(adj_t x, const int64_t* d, int n, double correction, int keepdim) {
  return handle_call([&] { return ops::stddev(in(x, "std"), dims(d, n, "std"), correction, keepdim != 0); });
}
adj_t adj_norm(adj_t x, double p, const int64_t* d, int n, int keepdim) {
  return handle_call([&] { return ops::norm(in(x, "norm"), p, dims(d, n, "norm"), keepdim != 0); });
}
adj_t adj_gelu(adj_t x, int tanh_approx) { return handle_call([&] { return ops::gelu(in(x, "gelu"), tanh_approx != 0); }); }
adj_t adj_silu(adj_t x) { return handle_call([&] { return ops::silu(in(x, "silu")); }); }
adj_t adj_softplus(adj_t x, double beta, double threshold) {
  return handle_call([&] { return ops::softplus(in(x, "softplus"), beta, threshold); });
}
adj_t adj_elu(adj_t x, double alpha) { return handle_call([&] { return ops::elu(in(x, "elu"), alpha); }); }
adj_t adj_leaky_relu(adj_t x, double slope) { return handle_call([&] { return ops::leaky_relu(in(x, "leaky_relu"), slope); }); }
adj_t adj_log_sigmoid(adj_t x) { return handle_call([&] { return ops::log_sigmoid(in(x, "log_sigmoid")); }); }
adj_t adj_mse_loss(adj_t a, adj_t t) { return handle_call([&] { return ops::mse_loss(in(a, "mse_loss"), in(t, "mse_loss")); }); }
adj_t adj_l1_loss(adj_t a, adj_t t) { return handle_call([&] { return ops::l1_loss(in(a, "l1_loss"), in(t, "l1_loss")); }); }
adj_t adj_huber_loss(adj_t a, adj_t t, double delta) {
  return handle_call([&] { return ops::huber_loss(in(a, "huber_loss"), in(t, "huber_loss"), delta); });
}
adj_t adj_binary_cross_entropy(adj_t p, adj_t t) {
  const char* op = "binary_cross_entropy";
  return handle_call([&] { return ops::binary_cross_entropy(in(p, op), in(t, op)); });
}
adj_t adj_binary_cross_entropy_with_logits(adj_t x, adj_t t) {
  const char* op = "binary_cross_entropy_with_logits";
  return handle_call([&] { return ops::binary_cross_entropy_with_logits(in(x, op), in(t, op)); });
}
adj_t adj_one_hot(adj_t t, int64_t classes) { return handle_call([&] { return ops::one_hot(in(t, "one_hot"), classes); }); }
adj_t adj_normalize(adj_t x, double p, int64_t dim, double eps) {
  return handle_call([&] { return ops::normalize(in(x, "normalize"), p, dim, eps); });
}
adj_t adj_cosine_similarity(adj_t a, adj_t b, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  return handle_call([&] { return ops::cosine_similarity(in(a, op), in(b, op), dim, eps); });
}
// Optional tensor arguments (weight, bias, running statistics): handle 0 = absent.
adj_t adj_layer_norm(adj_t x, const int64_t* shape, int n, adj_t w, adj_t b, double eps) {
  const char* op = "layer_norm";
  return handle_call([&] {
    Tensor wt, bt;
    return ops::layer_norm(in(x, op), dims(shape, n, op), optional(w, op, wt), optional(b, op, bt), eps);
  });
}
adj_t adj_group_norm(adj_t x, int64_t groups, adj_t w, adj_t b, double eps) {
  const char* op = "group_norm";
  return handle_call([&] {
    Tensor wt, bt;
    return ops::group_norm(in(x, op), groups, optional(w, op, wt), optional(b, op, bt), eps);
  });
}
adj_t adj_batch_norm(adj_t x, adj_t rm, adj_t rv, adj_t w, adj_t b, int training, double eps) {
  const char* op = "batch_norm";
  return handle_call([&] {
    Tensor mt, vt, wt, bt;
    return ops::batch_norm(in(x, op), optional(rm, op, mt), optional(rv, op, vt), optional(w, op, wt), optional(b, op, bt), training != 0,
                           eps);
  });
}
adj_t adj_dropout(int64_t g, adj_t x, double p, int training) {
  return handle_call([&] { return ops::dropout(gen(g), in(x, "dropout"), p, training != 0); });
}
adj_t adj_embedding(adj_t indices, adj_t weight) {
  return handle_call([&] { return ops::embedding(in(indices, "embedding"), in(weight, "embedding")); });
}

// --- shape, index and reduction composites (ops/shape_composites.cpp) ---
adj_t adj_amin(adj_t x, const int64_t* d, int n, int keepdim) {
  return handle_call([&] { return ops::amin(in(x, "amin"), dims(d, n, "amin"), keepdim != 0); });
}
adj_t adj_all(adj_t x) { return handle_call([&] { return ops::all(in(x, "all")); }); }
adj_t adj_any(adj_t x) { return handle_call([&] { return ops::any(in(x, "any")); }); }
adj_t adj_flip(adj_t x, const int64_t* d, int n) { return handle_call([&] { return ops::flip(in(x, "flip"), dims(d, n, "flip")); }); }
adj_t adj_roll(adj_t x, int64_t shift, int64_t dim) { return handle_call([&] { return ops::roll(in(x, "roll"), shift, dim); }); }
adj_t adj_tril(adj_t x, int64_t k) { return handle_call([&] { return ops::tril(in(x, "tril"), k); }); }
adj_t adj_triu(adj_t x, int64_t k) { return handle_call([&] { return ops::triu(in(x, "triu"), k); }); }
adj_t adj_diagonal(adj_t x, int64_t offset, int64_t dim1, int64_t dim2) {
  return handle_call([&] { return ops::diagonal(in(x, "diagonal"), offset, dim1, dim2); });
}
adj_t adj_trace(adj_t x) { return handle_call([&] { return ops::trace(in(x, "trace")); }); }
adj_t adj_outer(adj_t a, adj_t b) { return handle_call([&] { return ops::outer(in(a, "outer"), in(b, "outer")); }); }
adj_t adj_masked_fill(adj_t x, adj_t mask, double value) {
  return handle_call([&] { return ops::masked_fill(in(x, "masked_fill"), in(mask, "masked_fill"), value); });
}
adj_t adj_repeat(adj_t x, const int64_t* sizes, int n) {
  return handle_call([&] { return ops::repeat(in(x, "repeat"), dims(sizes, n, "repeat")); });
}
adj_t adj_diag(adj_t v, int64_t offset) { return handle_call([&] { return ops::diag(in(v, "diag"), offset); }); }
adj_t adj_linspace(double start, double end, int64_t steps, int dtype) {
  return handle_call([&] { return ops::linspace(start, end, steps, to_dtype(dtype, "linspace")); });
}

adj_t adj_linear(adj_t x, adj_t w, adj_t b) {
  return handle_call([&] {
    if (b == 0) return ops::linear(in(x, "linear"), in(w, "linear"), nullptr);
    const BorrowedTensor bt = in(b, "linear");
    return ops::linear(in(x, "linear"), in(w, "linear"), &bt.get());
  });
}

#define ADJ_CONV_API_(fn)                                                                                        \
  adj_t adj_##fn(adj_t x, adj_t w, adj_t b, const int64_t* st, int nst, const int64_t* pd, int npd, const int64_t* dl, \
                 int ndl, int64_t groups) {                                                                        \
    return handle_call([&] {                                                                                       \
      const Dims stride = dims(st, nst, #fn), padding = dims(pd, npd, #fn), dilation = dims(dl, ndl, #fn);          \
      if (b == 0) return ops::fn(in(x, #fn), in(w, #fn), nullptr, stride, padding, dilation, groups);              \
      const BorrowedTensor bt = in(b, #fn);                                                                        \
      return ops::fn(in(x, #fn), in(w, #fn), &bt.get(), stride, padding, dilation, groups);                        \
    });                                                                                                            \
  }
ADJ_CONV_API_(conv2d)
ADJ_CONV_API_(conv1d)
#undef ADJ_CONV_API_
adj_t adj_max_pool2d(adj_t x, int64_t kernel, int64_t stride) {
  return handle_call([&] { return ops::max_pool2d(in(x, "max_pool2d"), kernel, stride); });
}
adj_t adj_avg_pool2d(adj_t x, int64_t kernel) { return handle_call([&] { return ops::avg_pool2d(in(x, "avg_pool2d"), kernel); }); }
adj_t adj_pad(adj_t x, const int64_t* p, int n) { return handle_call([&] { return ops::pad(in(x, "pad"), dims(p, n, "pad")); }); }

adj_t adj_reshape(adj_t x, const int64_t* s, int n) { return handle_call([&] { return ops::reshape(in(x, "reshape"), dims(s, n, "reshape")); }); }
adj_t adj_view(adj_t x, const int64_t* s, int n) { return handle_call([&] { return ops::view(in(x, "view"), dims(s, n, "view")); }); }
adj_t adj_permute(adj_t x, const int64_t* p, int n) { return handle_call([&] { return ops::permute(in(x, "permute"), dims(p, n, "permute")); }); }
adj_t adj_transpose(adj_t x, int64_t d0, int64_t d1) { return handle_call([&] { return ops::transpose(in(x, "transpose"), d0, d1); }); }
adj_t adj_movedim(adj_t x, int64_t s, int64_t d) { return handle_call([&] { return ops::movedim(in(x, "movedim"), s, d); }); }
adj_t adj_expand(adj_t x, const int64_t* s, int n) { return handle_call([&] { return ops::expand(in(x, "expand"), dims(s, n, "expand")); }); }
adj_t adj_slice(adj_t x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return handle_call([&] { return ops::slice(in(x, "slice"), dim, start, end, step); });
}
adj_t adj_select(adj_t x, int64_t dim, int64_t index) { return handle_call([&] { return ops::select(in(x, "select"), dim, index); }); }
adj_t adj_squeeze(adj_t x, const int64_t* d, int n) { return handle_call([&] { return ops::squeeze(in(x, "squeeze"), dims(d, n, "squeeze")); }); }
adj_t adj_unsqueeze(adj_t x, int64_t dim) { return handle_call([&] { return ops::unsqueeze(in(x, "unsqueeze"), dim); }); }
adj_t adj_index_select(adj_t x, int64_t dim, adj_t index) {
  return handle_call([&] { return ops::index_select(in(x, "index_select"), dim, in(index, "index_select")); });
}

static std::vector<Tensor> tensor_list(const adj_t* xs, int n, const char* op) {
  ADJ_CHECK(n > 0 && xs != nullptr, ErrorKind::Argument, op, "expected a non-empty list of tensors, got " << n);
  std::vector<Tensor> v;
  v.reserve(size_t(n));
  for (int i = 0; i < n; i++) v.push_back(in(xs[i], op));
  return v;
}
adj_t adj_cat(const adj_t* xs, int n, int64_t dim) { return handle_call([&] { return ops::cat(tensor_list(xs, n, "cat"), dim); }); }
adj_t adj_stack(const adj_t* xs, int n, int64_t dim) { return handle_call([&] { return ops::stack(tensor_list(xs, n, "stack"), dim); }); }

// --- gather, scatter, index_add and einsum (ops/gather_scatter.cpp, ops/einsum.cpp) ---
adj_t adj_gather(adj_t x, int64_t dim, adj_t index) {
  return handle_call([&] { return ops::gather(in(x, "gather"), dim, in(index, "gather")); });
}
adj_t adj_scatter(adj_t self, int64_t dim, adj_t index, adj_t src) {
  return handle_call([&] { return ops::scatter(in(self, "scatter"), dim, in(index, "scatter"), in(src, "scatter")); });
}
adj_t adj_scatter_value(adj_t self, int64_t dim, adj_t index, double value) {
  return handle_call([&] { return ops::scatter(in(self, "scatter"), dim, in(index, "scatter"), value); });
}
adj_t adj_scatter_add(adj_t self, int64_t dim, adj_t index, adj_t src) {
  return handle_call([&] { return ops::scatter_add(in(self, "scatter_add"), dim, in(index, "scatter_add"), in(src, "scatter_add")); });
}
adj_t adj_index_add(adj_t self, int64_t dim, adj_t index, adj_t source) {
  return handle_call([&] { return ops::index_add(in(self, "index_add"), dim, in(index, "index_add"), in(source, "index_add")); });
}
adj_t adj_einsum(const char* equation, const adj_t* xs, int n) {
  return handle_call([&] {
    ADJ_CHECK(equation != nullptr, ErrorKind::Argument, "einsum", "the equation is null");
    return ops::einsum(equation, tensor_list(xs, n, "einsum"));
  });
}

int64_t adj_level_begin(int kind, int64_t batch_size, int randomness) {
  return api_guard<int64_t>(0, [&] {
    ADJ_CHECK(kind >= 0 && kind <= 2, ErrorKind::Argument, "transform", "unknown level kind " << kind);
    ADJ_CHECK(randomness >= 0 && randomness <= 2, ErrorKind::Argument, "vmap", "unknown randomness mode " << randomness);
    if (kind == ADJ_LEVEL_VMAP) ADJ_CHECK(batch_size >= 0, ErrorKind::Argument, "vmap", "negative batch size " << batch_size);
    Ref<Level> l = push_level(LevelKind(kind), batch_size, Randomness(randomness));
    return int64_t(reinterpret_cast<intptr_t>(l.release()));
  });
}
int adj_level_end(int64_t level) {
  return api_guard(-1, [&] { Level* l = level_of(level, "transform"); pop_level(l, level_name(l->kind)); return 0; });
}
void adj_level_release(int64_t level) {
  if (level) Ref<Level>::adopt(reinterpret_cast<Level*>(intptr_t(level))).reset();
}
int adj_level_close(int64_t level) {
  const int r = adj_level_end(level);
  adj_level_release(level);
  return r;
}
int adj_level_depth(void) { return int(level_stack().size()); }
int adj_is_tracer(adj_t t) {
  return api_guard(-1, [&] {
    const BorrowedTensor b = in(t);
    const Tensor& x = b;
    if (!x.is_tracer()) return 0;
    const Level* l = tracer_of(x)->level.get();
    // the thread first: `alive` is only ever written by the level's own thread (check_usable's NOTE)
    const int state = l->thread != std::this_thread::get_id() ? ADJ_TRACER_OTHER_THREAD : l->alive ? ADJ_TRACER_LIVE : ADJ_TRACER_ESCAPED;
    return state | int(l->kind) << 2;
  });
}

adj_t adj_jvp_wrap(int64_t level, adj_t primal, adj_t tangent) {
  return handle_call([&] {
    Level* l = level_of(level, "jvp");
    return tangent ? jvp_wrap(l, in(primal, "jvp"), in(tangent, "jvp")) : jvp_wrap(l, in(primal, "jvp"), Tensor());
  });
}
int adj_jvp_unwrap(int64_t level, adj_t y, adj_t* o) {
  NoOomUpcall in_critical_region;  // NativeCore binds this call with @CriticalRegion
  return api_guard(-1, [&] {
    Tensor p, t;
    jvp_unwrap(level_of(level, "jvp"), in(y, "jvp"), &p, &t);
    o[0] = out(std::move(p));
    o[1] = out(std::move(t));
    return 0;
  });
}
adj_t adj_vmap_wrap(int64_t level, adj_t x, int64_t in_dim) {
  return handle_call([&] { return batch_wrap(level_of(level, "vmap"), in(x, "vmap"), in_dim); });
}
adj_t adj_vmap_unwrap(int64_t level, adj_t y, int64_t out_dim) {
  return handle_call([&] { return batch_unwrap(level_of(level, "vmap"), in(y, "vmap"), out_dim); });
}
adj_t adj_vmap_basis(int64_t level, int64_t n, int64_t start, int dtype) {
  return handle_call([&] {
    DType dt = to_dtype(dtype, "vmap");
    ADJ_CHECK(is_floating(dt), ErrorKind::DType, "vmap", "basis dtype must be floating point, got " << dtype_name(dt));
    return batch_basis(level_of(level, "vmap"), n, start, dt);
  });
}
adj_t adj_grad_wrap(int64_t level, adj_t x) { return handle_call([&] { return grad_wrap(level_of(level, "grad"), in(x, "grad")); }); }
adj_t adj_grad_unwrap(int64_t level, adj_t y) { return handle_call([&] { return grad_unwrap(level_of(level, "grad"), in(y, "grad")); }); }
namespace {
// Unwraps y at level l and ends the level whatever happens (also releasing its handle when
// `release_level`); the first error is the one recorded.
adj_t unwrap_and_end(int64_t l, adj_t y, bool release_level, const char* op) {
  const adj_t r = handle_call([&] { return grad_unwrap(level_of(l, op), in(y, op)); });
  if (r == 0) {
    const int kind = t_err_kind;
    const std::string msg = t_err_msg;
    release_level ? adj_level_close(l) : adj_level_end(l);
    api_record_error(ErrorKind(kind), msg);
    return 0;
  }
  if ((release_level ? adj_level_close(l) : adj_level_end(l)) != 0) {
    adj_release(r);
    return 0;
  }
  return r;
}
}  // namespace

adj_t adj_grad_unwrap_close(int64_t level, adj_t y) { return unwrap_and_end(level, y, true, "grad"); }
namespace {
// The grad level a vjp's traced input belongs to (adj_vjp_begin's result).
Level* level_of_traced(adj_t t, const char* op) {
  const BorrowedTensor x = in(t, op);
  ADJ_CHECK(x->is_tracer() && tracer_of(x)->level->kind == LevelKind::Grad, ErrorKind::State, op,
            "expected the traced input of a vjp (adj_vjp_begin's result), got " << (x->is_tracer() ? "another transform's tracer" : "a plain tensor"));
  return tracer_of(x)->level.get();
}
}  // namespace

adj_t adj_vjp_begin(adj_t x) {
  return handle_call([&] {
    const BorrowedTensor bx = in(x, "vjp");
    Ref<Level> l = push_level(LevelKind::Grad);
    l->handleless = true;
    try {
      return grad_wrap(l.get(), bx);
    } catch (...) {
      pop_level(l.get(), "vjp");
      throw;
    }
  });
}

adj_t adj_vjp_close(adj_t traced_x, adj_t y) {
  int64_t l = 0;
  if (api_guard(-1, [&] { l = int64_t(reinterpret_cast<intptr_t>(level_of_traced(traced_x, "vjp"))); return 0; }) != 0) return 0;
  const adj_t r = unwrap_and_end(l, y, false, "vjp");
  if (r == 0) return 0;
  // Only a floating-point output has a cotangent (as torch.func.vjp); checked here, after the
  // level ended, so the one-tensor vjp pays no extra native call for it.
  const DType dt = reinterpret_cast<TensorImpl*>(intptr_t(r))->dtype;
  if (is_floating(dt)) return r;
  std::string shape = reinterpret_cast<TensorImpl*>(intptr_t(r))->shape.str();
  adj_release(r);
  api_record_error(ErrorKind::DType, std::string("vjp: output 0 has dtype ") + dtype_name(dt) + " (shape " + shape +
                                     "): only floating-point outputs can be differentiated (return other values as aux)");
  return 0;
}

int adj_vjp_abort(void) {
  return api_guard(-1, [&] {
    const auto& stack = level_stack();
    ADJ_CHECK(!stack.empty() && stack.back()->handleless, ErrorKind::State, "vjp",
              "no vjp level begun by adj_vjp_begin is the innermost live level of this thread");
    pop_level(stack.back().get(), "vjp");
    return 0;
  });
}

int64_t adj_vjp_level(adj_t traced_x) {
  return api_guard<int64_t>(0, [&] {
    Ref<Level> l = Ref<Level>::borrow(level_of_traced(traced_x, "vjp"));  // a count of its own
    return int64_t(reinterpret_cast<intptr_t>(l.release()));
  });
}

namespace {
int grad_backward_call(int64_t level, const adj_t* outs, const adj_t* cots, int nout, const adj_t* ins, int nin,
                       adj_t* grads_out, int flags) {
  const int r = api_guard(-1, [&] {
    Level* l = level == 0 && nin > 0 ? level_of_traced(ins[0], "vjp") : level_of(level, "vjp");
    if (flags & ADJ_BACKWARD_END) pop_level(l, level_name(l->kind));
    ADJ_CHECK(nout >= 0 && nin >= 0, ErrorKind::Argument, "vjp", "negative count of outputs (" << nout << ") or inputs (" << nin << ")");
    BorrowedSlots<4> o(nout), c(nout), x(nin);  // no heap for the usual few
    SmallVector<Tensor, 4> seeds(nout), g(nin);
    for (int i = 0; i < nout; i++) {
      o.borrow(i, in(outs[i], "vjp"));
      // A null cotangent is grad's seed: ones like the output (as full_like would make it).
      if (cots[i]) {
        c.borrow(i, in(cots[i], "vjp"));
      } else {
        seeds[i] = ops::full(o[i].shape(), 1.0, o[i].dtype(), o[i].device());
        c.borrow(i, seeds[i]);
      }
    }
    for (int i = 0; i < nin; i++) x.borrow(i, in(ins[i], "vjp"));
    grad_backward(l, o.data(), c.data(), nout, x.data(), nin, g.data());
    for (int i = 0; i < nin; i++) grads_out[i] = out(std::move(g[i]));
    return 0;
  });
  if (flags & ADJ_BACKWARD_RELEASE) adj_level_release(level);
  return r;
}
}  // namespace

int adj_grad_backward(int64_t level, const adj_t* outs, const adj_t* cots, int nout, const adj_t* ins, int nin, adj_t* grads_out) {
  return grad_backward_call(level, outs, cots, nout, ins, nin, grads_out, 0);
}
int adj_grad_backward_ex(int64_t level, const adj_t* outs, const adj_t* cots, int nout, const adj_t* ins, int nin,
                         adj_t* grads_out, int flags) {
  return grad_backward_call(level, outs, cots, nout, ins, nin, grads_out, flags);
}

int adj_jacrev_backward(int64_t level, const adj_t* outs, int nout, const adj_t* ins, int nin, int64_t chunk, adj_t* jac_out) {
  return api_guard(-1, [&] {
    std::vector<Tensor> o, x;
    for (int i = 0; i < nout; i++) o.push_back(in(outs[i], "jacrev"));
    for (int i = 0; i < nin; i++) x.push_back(in(ins[i], "jacrev"));
    std::vector<Tensor> j = jacrev_backward(level_of(level, "jacrev"), o, x, chunk);
    for (size_t i = 0; i < j.size(); i++) jac_out[i] = out(std::move(j[i]));
    return 0;
  });
}

adj_t adj_grad_backward1(int64_t level, adj_t out, adj_t cot, adj_t in, int flags) {
  adj_t g = 0;
  return grad_backward_call(level, &out, &cot, 1, &in, 1, &g, flags) == 0 ? g : 0;
}
adj_t adj_jacrev_backward1(int64_t level, adj_t out, adj_t in, int64_t chunk) {
  adj_t j = 0;
  return adj_jacrev_backward(level, &out, 1, &in, 1, chunk, &j) == 0 ? j : 0;
}

}  // extern "C"
