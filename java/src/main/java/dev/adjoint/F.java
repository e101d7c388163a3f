package dev.adjoint;

import dev.adjoint.internal.NativeCore;

/**
 * Functional forms of the neural-network ops, named after {@code torch.nn.functional}.
 *
 * <pre>{@code
 * import static dev.adjoint.F.*;
 * Tensor y = linear(x, weight, bias).tanh();   // F.linear(x, weight, bias).tanh()
 * }</pre>
 */
public final class F {
  private F() {}

  /** {@code x @ weight^T + bias} (bias may be null). */
  public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    return x.linear(weight, bias);
  }

  /** {@code x @ weight^T}. */
  public static Tensor linear(Tensor x, Tensor weight) {
    return x.linear(weight, null);
  }

  /** max(x, 0). */
  public static Tensor relu(Tensor x) {
    return x.relu();
  }

  /** 1 / (1 + e^-x). */
  public static Tensor sigmoid(Tensor x) {
    return x.sigmoid();
  }

  /** tanh(x). */
  public static Tensor tanh(Tensor x) {
    return x.tanh();
  }

  /** Softmax along {@code dim}. */
  public static Tensor softmax(Tensor x, int dim) {
    return x.softmax(dim);
  }

  /** Log-softmax along {@code dim}. */
  public static Tensor logSoftmax(Tensor x, int dim) {
    return x.logSoftmax(dim);
  }

  /**
   * Cross-entropy of unnormalised {@code logits} against class indices, averaged over the batch,
   * like {@code torch.nn.functional.cross_entropy(logits, target)} (reduction "mean", no weights):
   * {@code mean_i(logsumexp(logits[i]) - logits[i, target[i]])}.
   *
   * <pre>{@code
   * Tensor loss = F.crossEntropy(F.linear(h, w2, b2), labels);   // logits [N, C], labels [N] int64
   * }</pre>
   *
   * <p>Shapes: {@code logits} [N, C] (float32 or float64) with {@code target} [N] int64, or a
   * single example, {@code logits} [C] with a 0-d int64 {@code target}; the result is a 0-d tensor
   * of the logits' dtype. The class is picked with a one-hot mask ({@code target} compared with
   * {@code 0..C-1}), so the function is made of tensor ops only and works under every transform
   * ({@code grad}, {@code vjp}, {@code jvp}, {@code vmap}, {@code hessian}, ...), with the target
   * batched or not. Every target value is checked to lie in {@code [0, C)}, also under transforms
   * (targets are data: behind a vmap tracer all examples are checked), as torch raises "Target 5 is
   * out of bounds"; torch's {@code ignore_index} is not supported.
   *
   * @throws ShapeMismatchException if the shapes are not [N, C] / [N] or [C] / []
   * @throws DTypeMismatchException if {@code target} is not int64 or {@code logits} not floating point
   * @throws InvalidIndexException if a target is negative or at least C, naming the value and C
   */
  public static Tensor crossEntropy(Tensor logits, Tensor target) {
    Tensor picked = pickClass("crossEntropy", logits, target);  // logits[i, target[i]]
    return logits.logsumexp(-1).sub(picked).mean();
  }

  /**
   * Negative log-likelihood of log-probabilities against class indices, averaged over the batch,
   * like {@code torch.nn.functional.nll_loss(logProbs, target)} (reduction "mean", no weights):
   * {@code -mean_i(logProbs[i, target[i]])}. {@code crossEntropy(z, t)} equals
   * {@code nllLoss(z.logSoftmax(-1), t)}.
   *
   * <pre>{@code
   * Tensor loss = F.nllLoss(F.linear(h, w2, b2).logSoftmax(-1), labels);   // [N, C] with [N] int64
   * }</pre>
   *
   * <p>Shapes, dtypes, transforms and the check of the target values as for
   * {@link #crossEntropy(Tensor, Tensor)}.
   *
   * @throws ShapeMismatchException if the shapes are not [N, C] / [N] or [C] / []
   * @throws DTypeMismatchException if {@code target} is not int64 or {@code logProbs} not floating point
   * @throws InvalidIndexException if a target is negative or at least C, naming the value and C
   */
  public static Tensor nllLoss(Tensor logProbs, Tensor target) {
    return pickClass("nllLoss", logProbs, target).mean().neg();
  }

  // ------------------------------------------------------------------ activations

  /** GELU, exact: {@code x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))}, like {@code F.gelu(x)}. */
  public static Tensor gelu(Tensor x) {
    return Tensor.nn(NativeCore.adj_gelu(x.h(), 0), x);
  }

  /**
   * GELU with {@code approximate} "none" (exact, as {@link #gelu(Tensor)}) or "tanh":
   * {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, like {@code F.gelu(x, approximate="tanh")}.
   *
   * @throws AdjointArgumentException for another {@code approximate}
   */
  public static Tensor gelu(Tensor x, String approximate) {
    if (approximate == null) throw new AdjointArgumentException("gelu", "gelu: approximate must be \"none\" or \"tanh\", got null");
    int tanh = switch (approximate) {
      case "none" -> 0;
      case "tanh" -> 1;
      default -> throw new AdjointArgumentException("gelu", "gelu: approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
    };
    return Tensor.nn(NativeCore.adj_gelu(x.h(), tanh), x);
  }

  /** SiLU (swish): {@code x * sigmoid(x)}. */
  public static Tensor silu(Tensor x) {
    return Tensor.nn(NativeCore.adj_silu(x.h()), x);
  }

  /**
   * {@code log(1 + e^x)}, and x itself where {@code x > 20} (torch's beta 1, threshold 20); computed with
   * log1p, so it is accurate for very negative x, and its derivative (sigmoid) never overflows.
   */
  public static Tensor softplus(Tensor x) {
    return softplus(x, 1, 20);
  }

  /** {@code log(1 + e^(beta x)) / beta}, and x where {@code beta x > threshold}, like torch. */
  public static Tensor softplus(Tensor x, double beta, double threshold) {
    return Tensor.nn(NativeCore.adj_softplus(x.h(), beta, threshold), x);
  }

  /** ELU with alpha 1: x where {@code x > 0}, else {@code e^x - 1} (expm1: accurate near 0). */
  public static Tensor elu(Tensor x) {
    return elu(x, 1);
  }

  /** ELU: x where {@code x > 0}, else {@code alpha (e^x - 1)}; the derivative at 0 is alpha, like torch. */
  public static Tensor elu(Tensor x, double alpha) {
    return Tensor.nn(NativeCore.adj_elu(x.h(), alpha), x);
  }

  /** x where {@code x > 0}, else {@code slope * x}; the derivative at 0 is the slope, like torch. */
  public static Tensor leakyRelu(Tensor x, double slope) {
    return Tensor.nn(NativeCore.adj_leaky_relu(x.h(), slope), x);
  }

  /** {@code log(sigmoid(x)) = -log(1 + e^-x)}, stable for large |x|. */
  public static Tensor logSigmoid(Tensor x) {
    return Tensor.nn(NativeCore.adj_log_sigmoid(x.h()), x);
  }

  // ------------------------------------------------------------------ losses (reduction "mean")

  /** Mean squared error {@code mean((input - target)^2)}; the two broadcast. */
  public static Tensor mseLoss(Tensor input, Tensor target) {
    return Tensor.nn(NativeCore.adj_mse_loss(input.h(), target.h()), input, target);
  }

  /** Mean absolute error {@code mean(|input - target|)}; derivative 0 where they are equal, like torch. */
  public static Tensor l1Loss(Tensor input, Tensor target) {
    return Tensor.nn(NativeCore.adj_l1_loss(input.h(), target.h()), input, target);
  }

  /** Huber loss with delta 1 (torch's default); see {@link #huberLoss(Tensor, Tensor, double)}. */
  public static Tensor huberLoss(Tensor input, Tensor target) {
    return huberLoss(input, target, 1);
  }

  /**
   * Huber loss: the mean of {@code 0.5 d^2} where {@code |d| < delta}, else
   * {@code delta (|d| - 0.5 delta)}, with {@code d = input - target}.
   */
  public static Tensor huberLoss(Tensor input, Tensor target, double delta) {
    return Tensor.nn(NativeCore.adj_huber_loss(input.h(), target.h(), delta), input, target);
  }

  /**
   * Binary cross-entropy of probabilities {@code p} in [0, 1] against targets of the same shape:
   * {@code -mean(t log p + (1 - t) log(1 - p))}, each log clamped at -100 like torch (so p = 0 or
   * 1 gives a finite loss). At p exactly 0 or 1 the derivative is 0 here, where torch's is
   * {@code (p - t) / 1e-12}. Prefer {@link #binaryCrossEntropyWithLogits} on logits: it is stable.
   *
   * @throws ShapeMismatchException if the shapes differ
   * @throws AdjointArgumentException if an element of {@code p} is outside [0, 1] or NaN (torch's
   *     check; also under transforms), naming the value and its flat index
   */
  public static Tensor binaryCrossEntropy(Tensor p, Tensor target) {
    return Tensor.nn(NativeCore.adj_binary_cross_entropy(p.h(), target.h()), p, target);
  }

  /**
   * Binary cross-entropy on logits: {@code mean((1 - t) x - log(sigmoid(x)))}, torch's stable form
   * of {@code binaryCrossEntropy(sigmoid(x), t)}; its derivative is {@code sigmoid(x) - t} (over N).
   *
   * @throws ShapeMismatchException if the shapes differ
   */
  public static Tensor binaryCrossEntropyWithLogits(Tensor logits, Tensor target) {
    return Tensor.nn(NativeCore.adj_binary_cross_entropy_with_logits(logits.h(), target.h()), logits, target);
  }

  /**
   * One-hot encoding of int64 class indices: int64 {@code [..., numClasses]} with a 1 at each
   * target. Every target is checked to lie in {@code [0, numClasses)}, also under transforms.
   *
   * @throws InvalidIndexException for a target outside {@code [0, numClasses)}
   * @throws DTypeMismatchException if {@code target} is not int64
   */
  public static Tensor oneHot(Tensor target, long numClasses) {
    return Tensor.nn(NativeCore.adj_one_hot(target.h(), numClasses), target);
  }

  // ------------------------------------------------------------------ vector norms

  /**
   * {@code x / max(||x||_p, 1e-12)} along {@code dim}, like {@code F.normalize(x, p, dim)}: the zero
   * vector stays zero, with a finite derivative.
   */
  public static Tensor normalize(Tensor x, double p, int dim) {
    return Tensor.nn(NativeCore.adj_normalize(x.h(), p, dim, 1e-12), x);
  }

  /** Cosine similarity along dim 1 with eps 1e-8, like {@code F.cosine_similarity(a, b)}. */
  public static Tensor cosineSimilarity(Tensor a, Tensor b) {
    return cosineSimilarity(a, b, 1, 1e-8);
  }

  /**
   * Cosine similarity along {@code dim} (the inputs broadcast): torch 1.13's
   * {@code sum((a / max(|a|, eps)) (b / max(|b|, eps)))}. Where a norm is below {@code eps} its
   * derivative is torch's too: that of {@code |a|} scaled by {@code |a| / eps} (torch clamps the
   * norm in place, which its backward then divides by); the zero vector's gradient is finite.
   */
  public static Tensor cosineSimilarity(Tensor a, Tensor b, int dim, double eps) {
    return Tensor.nn(NativeCore.adj_cosine_similarity(a.h(), b.h(), dim, eps), a, b);
  }

  // ------------------------------------------------------------------ normalisation layers

  /**
   * Layer normalisation over the last dims ({@code normalizedShape}, a suffix of x's shape): each
   * slice to mean 0 and (biased) variance 1 with {@code eps} added, then {@code * weight + bias}
   * (each of {@code normalizedShape}, or null), like {@code F.layer_norm}.
   *
   * @throws ShapeMismatchException if {@code normalizedShape} is not a suffix of x's shape, or
   *     weight or bias do not have it
   */
  public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
    return Tensor.layerNorm(x, normalizedShape, weight, bias, eps);
  }

  /**
   * Group normalisation of x [N, C, *]: the C channels split into {@code numGroups} groups, each
   * group of each example normalised (biased variance, {@code eps} added), then per-channel
   * {@code weight} and {@code bias} [C] (or null), like {@code F.group_norm}.
   *
   * @throws ShapeMismatchException if numGroups does not divide C, or weight/bias are not [C]
   */
  public static Tensor groupNorm(Tensor x, long numGroups, Tensor weight, Tensor bias, double eps) {
    return Tensor.nn(NativeCore.adj_group_norm(x.h(), numGroups, Tensor.hOrZero(weight), Tensor.hOrZero(bias), eps), x, weight, bias);
  }

  /**
   * Batch normalisation of x [N, C, *], functional: with {@code training} the batch's per-channel
   * mean and (biased) variance normalise, else the given running statistics [C]; then per-channel
   * {@code weight} and {@code bias} (or null). Unlike torch, the running statistics are not updated
   * in place (tensors here are values): compute the new ones from the batch if you keep them.
   *
   * @throws ShapeMismatchException if a [C] argument has another shape, or training sees one value per channel
   * @throws AdjointArgumentException if not training and a running statistic is null
   */
  public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
      boolean training, double eps) {
    return Tensor.batchNorm(x, runningMean, runningVar, weight, bias, training, eps);
  }

  // ------------------------------------------------------------------ dropout, embedding

  /**
   * Dropout: with {@code training}, each element zeroed with probability p and the rest scaled by
   * 1 / (1 - p), from the global generator; the identity otherwise. Under {@code vmap} it follows
   * the vmap's randomness setting (an error by default; "different" masks per example, "same" one
   * mask), like torch.func.
   *
   * @throws AdjointArgumentException if p is outside [0, 1]
   */
  public static Tensor dropout(Tensor x, double p, boolean training) {
    return Generator.global().dropout(x, p, training);
  }

  /** {@link #dropout(Tensor, double, boolean)} with the numbers of {@code generator}. */
  public static Tensor dropout(Tensor x, double p, boolean training, Generator generator) {
    return generator.dropout(x, p, training);
  }

  /**
   * Rows of {@code weight} [numEmbeddings, dim] picked by int64 {@code indices} of any shape:
   * {@code [..indices.shape, dim]}, like {@code F.embedding}; the gradient reaches the picked rows.
   *
   * @throws InvalidIndexException for an index outside [0, numEmbeddings)
   */
  public static Tensor embedding(Tensor indices, Tensor weight) {
    return Tensor.nn(NativeCore.adj_embedding(indices.h(), weight.h()), indices, weight);
  }

  // ------------------------------------------------------------------ convolution and pooling

  /**
   * 2-D convolution (cross-correlation, like {@code torch.nn.functional.conv2d(x, weight, bias,
   * stride, padding)}), the same stride and padding in both spatial dims, no dilation, one group.
   *
   * <pre>{@code
   * Tensor h1 = F.conv2d(x, weight, bias, 1, 1).relu();   // [N, 1, 28, 28] * [16, 1, 3, 3] -> [N, 16, 28, 28]
   * }</pre>
   *
   * <p>Shapes: {@code x} [N, C, H, W] or unbatched [C, H, W]; {@code weight} [O, C, kH, kW];
   * {@code bias} [O] or null. The result is [N, O, H', W'] (or [O, H', W']) with
   * {@code H' = (H + 2 padding - kH) / stride + 1}. float32 or float64, all of one dtype. Every
   * transform applies ({@code grad}, {@code jvp}, {@code vmap}, {@code jacrev}, {@code hessian},
   * ...): the input gradient is a transposed convolution, the weight gradient a convolution of
   * the input with the output's gradient, and {@code vmap} folds its batch into the images (or,
   * for batched weights, into groups), one call for the whole batch.
   *
   * @throws ShapeMismatchException if the ranks, channels ({@code C != weight.size(1)}) or sizes
   *     (an input smaller than the kernel) do not fit, naming the shapes
   * @throws AdjointArgumentException if {@code stride < 1} or {@code padding < 0}
   * @throws DTypeMismatchException if the dtypes differ or are not floating point
   */
  public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
    return conv2d(x, weight, bias, new int[] {stride}, new int[] {padding}, new int[] {1}, 1);
  }

  /**
   * 2-D convolution with every option of {@code torch.nn.functional.conv2d}: {@code stride},
   * {@code padding} and {@code dilation} each with one entry (both spatial dims) or two
   * (height, width), and {@code groups}: the input's C channels and the O filters are split into
   * {@code groups} equal parts, part i of the filters seeing part i of the channels only.
   *
   * <pre>{@code
   * // depthwise 3x3 over 8 channels, stride 2, "same" padding, dilation 1
   * Tensor y1 = F.conv2d(x, w, null, new int[] {2}, new int[] {1}, new int[] {1}, 8);   // w [8, 1, 3, 3]
   * }</pre>
   *
   * <p>Shapes: {@code x} [N, C, H, W] or [C, H, W]; {@code weight} [O, C / groups, kH, kW] with O
   * divisible by {@code groups}; {@code bias} [O] or null; the result [N, O, H', W'] with
   * {@code H' = (H + 2 padding[0] - dilation[0] (kH - 1) - 1) / stride[0] + 1}, likewise W'.
   * Transforms as for {@link #conv2d(Tensor, Tensor, Tensor, int, int)}.
   *
   * @throws ShapeMismatchException if the ranks, channels, groups or sizes do not fit, naming the shapes
   * @throws AdjointArgumentException if an array has not 1 or 2 entries, {@code stride} or
   *     {@code dilation} is below 1, {@code padding} below 0 or {@code groups} below 1
   * @throws DTypeMismatchException if the dtypes differ or are not floating point
   */
  public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
    long[] s = longs("conv2d", "stride", stride), p = longs("conv2d", "padding", padding), d = longs("conv2d", "dilation", dilation);
    return Tensor.wrap(NativeCore.adj_conv2d(x.h(), weight.h(), bias == null ? 0 : bias.h(), s, s.length, p, p.length, d, d.length, groups),
        x, weight, bias);
  }

  /**
   * 1-D convolution, like {@code torch.nn.functional.conv1d(x, weight, bias, stride, padding)}.
   *
   * <pre>{@code
   * Tensor y1 = F.conv1d(x, w, b, 1, 2);   // [N, 4, 100] * [8, 4, 5] -> [N, 8, 100]
   * }</pre>
   *
   * <p>Shapes: {@code x} [N, C, L] or unbatched [C, L]; {@code weight} [O, C, kL]; {@code bias}
   * [O] or null; the result [N, O, L'] with {@code L' = (L + 2 padding - kL) / stride + 1}. It runs
   * as a 2-D convolution of height 1, so everything said of
   * {@link #conv2d(Tensor, Tensor, Tensor, int, int)} holds, with messages in 1-D terms.
   *
   * @throws ShapeMismatchException if the ranks, channels or sizes do not fit, naming the shapes
   * @throws AdjointArgumentException if {@code stride < 1} or {@code padding < 0}
   * @throws DTypeMismatchException if the dtypes differ or are not floating point
   */
  public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
    return conv1d(x, weight, bias, stride, padding, 1, 1);
  }

  /**
   * 1-D convolution with dilation and groups, like {@code torch.nn.functional.conv1d(x, weight,
   * bias, stride, padding, dilation, groups)}; {@code weight} is [O, C / groups, kL].
   *
   * <pre>{@code
   * Tensor y1 = F.conv1d(x, w, null, 1, 4, 2, 1);   // kernel 5 with dilation 2 spans 9 samples
   * }</pre>
   *
   * @throws ShapeMismatchException if the ranks, channels, groups or sizes do not fit, naming the shapes
   * @throws AdjointArgumentException if {@code stride}, {@code dilation} or {@code groups} is below
   *     1 or {@code padding} below 0
   * @throws DTypeMismatchException if the dtypes differ or are not floating point
   */
  public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups) {
    long[] s = {stride}, p = {padding}, d = {dilation};
    return Tensor.wrap(NativeCore.adj_conv1d(x.h(), weight.h(), bias == null ? 0 : bias.h(), s, 1, p, 1, d, 1, groups), x, weight, bias);
  }

  /**
   * Max pooling over {@code kernel} x {@code kernel} windows that tile the image (stride =
   * kernel), like {@code torch.nn.functional.max_pool2d(x, kernel)}; rows and columns past the
   * last whole window are left out.
   *
   * <pre>{@code
   * Tensor pooled = F.maxPool2d(F.conv2d(x, w, b, 1, 1).relu(), 2);   // [N, 16, 28, 28] -> [N, 16, 14, 14]
   * }</pre>
   *
   * <p>Shapes: [N, C, H, W] or [C, H, W] become [.., H / kernel, W / kernel]; float32 or float64.
   * The gradient goes to one element of each window, as torch's does: the first maximum in
   * row-major order (at ties the others get 0), a NaN wins. Every transform applies; second and
   * higher derivatives are zero.
   *
   * @throws ShapeMismatchException if the input is not 3-D or 4-D or smaller than a window
   * @throws AdjointArgumentException if {@code kernel < 1}
   * @throws DTypeMismatchException if the input is not floating point
   */
  public static Tensor maxPool2d(Tensor x, int kernel) {
    return maxPool2d(x, kernel, kernel);
  }

  /**
   * Max pooling over {@code kernel} x {@code kernel} windows every {@code stride} elements, like
   * {@code torch.nn.functional.max_pool2d(x, kernel, stride)} (no padding, no dilation).
   *
   * <pre>{@code
   * Tensor pooled = F.maxPool2d(x, 3, 2);   // overlapping 3x3 windows: [N, C, 9, 9] -> [N, C, 4, 4]
   * }</pre>
   *
   * <p>The output has {@code (H - kernel) / stride + 1} rows (likewise columns); gradients as for
   * {@link #maxPool2d(Tensor, int)} (an element that is the maximum of several windows gets the
   * sum of their gradients).
   *
   * @throws ShapeMismatchException if the input is not 3-D or 4-D or smaller than a window
   * @throws AdjointArgumentException if {@code kernel < 1} or {@code stride < 1}
   * @throws DTypeMismatchException if the input is not floating point
   */
  public static Tensor maxPool2d(Tensor x, int kernel, int stride) {
    return Tensor.wrap(NativeCore.adj_max_pool2d(x.h(), kernel, stride), x);
  }

  /**
   * Average pooling over {@code kernel} x {@code kernel} windows that tile the image (stride =
   * kernel), like {@code torch.nn.functional.avg_pool2d(x, kernel)}; rows and columns past the
   * last whole window are left out.
   *
   * <pre>{@code
   * Tensor pooled = F.avgPool2d(x, 2);   // [N, C, 28, 28] -> [N, C, 14, 14]
   * }</pre>
   *
   * <p>Shapes: [N, C, H, W] or [C, H, W]; float32 or float64. A composite (a view of the windows
   * and a sum), so every transform applies.
   *
   * @throws ShapeMismatchException if the input is not 3-D or 4-D or smaller than a window
   * @throws AdjointArgumentException if {@code kernel < 1}
   * @throws DTypeMismatchException if the input is not floating point
   */
  public static Tensor avgPool2d(Tensor x, int kernel) {
    return Tensor.wrap(NativeCore.adj_avg_pool2d(x.h(), kernel), x);
  }

  /**
   * Zero padding, like {@code torch.nn.functional.pad(x, pad)} (mode "constant", value 0), in
   * torch's order: {@code pad[0], pad[1]} are added before and after the last dim,
   * {@code pad[2], pad[3]} before and after the one before it, and so on; a negative entry
   * removes that many elements instead.
   *
   * <pre>{@code
   * Tensor padded = F.pad(x, 1, 1, 2, 0);   // [C, 5, 5] -> [C, 7, 7]: 1 column each side, 2 rows on top
   * }</pre>
   *
   * <p>Any dtype and rank; every transform applies (the padding's derivative is zero).
   *
   * @throws AdjointArgumentException if {@code pad} has an odd length, covers more dims than
   *     {@code x} has, or removes more elements than a dim has
   */
  public static Tensor pad(Tensor x, long... pad) {
    if (pad == null) throw new AdjointArgumentException("pad", "pad: the padding array is null");
    return Tensor.wrap(NativeCore.adj_pad(x.h(), pad, pad.length), x);
  }

  /** The int[] parameter as the core's int64 array, refusing null with a message naming the op. */
  private static long[] longs(String op, String what, int[] v) {
    if (v == null) throw new AdjointArgumentException(op, op + ": " + what + " is null");
    long[] r = new long[v.length];
    for (int i = 0; i < v.length; i++) r[i] = v[i];
    return r;
  }

  /** scores[..., target[...]] for [N, C] / [N] or [C] / [], after the checks of the class losses. */
  private static Tensor pickClass(String op, Tensor scores, Tensor target) {
    int nd = scores.ndim();
    if (nd < 1 || nd > 2 || target.ndim() != nd - 1 || (nd == 2 && target.size(0) != scores.size(0)))
      throw new ShapeMismatchException(op, op + ": expects input [N, C] with target [N], or input [C] with a 0-d target; got input "
          + java.util.Arrays.toString(scores.shape()) + " and target " + java.util.Arrays.toString(target.shape()));
    if (target.dtype() != DType.INT64)
      throw new DTypeMismatchException(op, op + ": target must be int64 class indices, got " + target.dtype().displayName());
    DType dt = scores.dtype();
    if (!dt.isFloatingPoint())
      throw new DTypeMismatchException(op, op + ": input must be float32 or float64, got " + dt.displayName());
    long classes = scores.size(nd - 1);
    target.checkClassTargets(classes, op);
    Tensor picked = target.unsqueeze(-1).eq(Tensor.arange(classes));  // bool [N, C] or [C]
    // NOTE: a select (where), not a product with the one-hot mask: a masked-out class's score is
    // often -inf (logSoftmax of a masked logit), and -inf * 0 is NaN where torch's loss is finite.
    return Tensor.where(picked, scores, Tensor.scalar(0, dt)).sum(-1);
  }
}
