package dev.adjoint;

import java.util.Arrays;

/**
 * vmap's options: {@code inDims} (per argument: the mapped dim, or null for "not mapped"; a
 * List/Map/array matching an argument's pytree gives per-tensor dims), {@code outDims} (where the
 * batch dim goes in each output), {@code chunkSize} and {@code randomness}.
 *
 * <pre>{@code
 * Fn3 perExample = vmap(jacrev(predict, 2), inDims(null, null, 0));           // in_dims=(None, None, 0)
 * Fn1 g = vmap(f, inDims(0).outDims(1).chunkSize(8).randomness(Randomness.SAME));
 * }</pre>
 */
public final class VmapOptions {
  final Object[] inDims;  // null array = every argument mapped at 0
  final Object outDims;
  final Integer chunkSize;
  final Randomness randomness;

  private VmapOptions(Object[] inDims, Object outDims, Integer chunkSize, Randomness randomness) {
    this.inDims = inDims;
    this.outDims = outDims;
    this.chunkSize = chunkSize;
    this.randomness = randomness;
  }

  /** Every argument mapped over dim 0, outputs batched in dim 0. */
  public static VmapOptions defaults() {
    return new VmapOptions(null, 0, null, Randomness.ERROR);
  }

  /** One entry per argument: an Integer dim, null (not mapped), or a pytree of those. */
  public static VmapOptions inDims(Object... dims) {
    return new VmapOptions(dims == null ? new Object[] {null} : dims.clone(), 0, null, Randomness.ERROR);
  }

  /** Where the batch dim goes in the outputs: an Integer, or a pytree matching the output. */
  public VmapOptions outDims(Object dims) {
    return new VmapOptions(inDims, dims, chunkSize, randomness);
  }

  /** Map at most {@code n} examples per vectorised call (bounds memory; results are concatenated). */
  public VmapOptions chunkSize(int n) {
    if (n < 1) throw new AdjointArgumentException("vmap", "vmap: chunkSize must be >= 1, got " + n);
    return new VmapOptions(inDims, outDims, n, randomness);
  }

  /** Behaviour of random ops inside the mapped function. */
  public VmapOptions randomness(Randomness r) {
    return new VmapOptions(inDims, outDims, chunkSize, r);
  }

  @Override
  public String toString() {
    return "inDims" + (inDims == null ? "(0...)" : Arrays.deepToString(inDims)) + " outDims=" + outDims
        + (chunkSize != null ? " chunkSize=" + chunkSize : "") + " randomness=" + randomness;
  }
}
