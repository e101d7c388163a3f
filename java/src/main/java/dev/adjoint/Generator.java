package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;

/**
 * A random number generator that reproduces PyTorch's CPU generator: for the same seed and the
 * same sequence of draws, {@link #randn} and {@link #rand} give bit-for-bit the numbers of
 * {@code torch.randn} / {@code torch.rand} (float32 and float64).
 *
 * <pre>{@code
 * Generator g = new Generator().manualSeed(0);
 * Tensor w = g.randn(16, 16);   // == torch.manual_seed(0); torch.randn(16, 16)
 * }</pre>
 *
 * {@link #global()} is the process-wide generator used by {@link Tensor#randn}.
 */
public final class Generator {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final Generator GLOBAL = new Generator(0L, true);

  // NOTE: the Cleaner frees the native generator once this object is unreachable, which can be
  // right after `handle` is read for a call: every method that passes it keeps `this` reachable
  // until the call returns (reachabilityFence), as Tensor's op methods do.
  private final long handle;

  /** A generator seeded like {@code torch.Generator()} (seed 67280421310721). */
  public Generator() {
    this(67280421310721L);
  }

  /** A generator seeded with {@code seed}. */
  public Generator(long seed) {
    NativeCore.init();
    long h = NativeCore.adj_generator_new(seed);
    if (h == 0) throw Errors.last();
    this.handle = h;
    CLEANER.register(this, () -> NativeCore.adj_generator_free(h));
  }

  private Generator(long handle, boolean global) {
    NativeCore.init();
    this.handle = handle;  // 0 = the native default generator
  }

  /** The process-wide default generator (like torch's default CPU generator). */
  public static Generator global() {
    return GLOBAL;
  }

  /** Reseeds, like {@code torch.manual_seed(seed)}; returns this. */
  public Generator manualSeed(long seed) {
    int r = NativeCore.adj_generator_manual_seed(handle, seed);
    Reference.reachabilityFence(this);
    Errors.check(r);
    return this;
  }

  /** The seed last set. */
  public long initialSeed() {
    long s = NativeCore.adj_generator_initial_seed(handle);
    Reference.reachabilityFence(this);
    return s;
  }

  /** Makes this generator's state a copy of {@code src}'s (their next draws are the same); returns this. */
  Generator copyStateFrom(Generator src) {
    int r = NativeCore.adj_generator_copy_state(handle, src.handle);
    Reference.reachabilityFence(this);
    Reference.reachabilityFence(src);
    Errors.check(r);
    return this;
  }

  /** Standard normal samples of the {@linkplain Adjoint#defaultDtype() default dtype} and the given shape. */
  public Tensor randn(long... shape) {
    return randn(Adjoint.defaultDtype(), shape);
  }

  /** Standard normal samples of the given dtype (float32 or float64) and shape. */
  public Tensor randn(DType dtype, long... shape) {
    return Tensor.wrap(NativeCore.adj_randn(handle, shape, shape.length, dtype.code), this);
  }

  /** Uniform [0, 1) samples of the {@linkplain Adjoint#defaultDtype() default dtype} and the given shape. */
  public Tensor rand(long... shape) {
    return rand(Adjoint.defaultDtype(), shape);
  }

  /** Uniform [0, 1) samples of the given dtype and shape. */
  public Tensor rand(DType dtype, long... shape) {
    return Tensor.wrap(NativeCore.adj_rand(handle, shape, shape.length, dtype.code), this);
  }

  /** {@link F#dropout(Tensor, double, boolean, Generator)} with this generator's numbers. */
  Tensor dropout(Tensor x, double p, boolean training) {
    return Tensor.wrap(NativeCore.adj_dropout(handle, x.h(), p, training ? 1 : 0), this, x);
  }
}
