package dev.adjoint;

import java.util.Arrays;

/**
 * Which arguments a derivative is taken with respect to, plus the options of the reverse- and
 * forward-mode transforms: {@code hasAux} (the function returns {@code List.of(output, aux)} and
 * aux is passed through), {@code chunkSize} (jacrev/jacfwd: how many basis vectors are pushed
 * through one vmapped pass; default all at once) and {@code randomness} (jacfwd's vmap).
 *
 * <pre>{@code
 * FnN jw = jacrev(predict, argnums(0, 1));            // torch: jacrev(predict, argnums=(0, 1))
 * FnN g = grad(loss, argnums(0).withAux());           // torch: grad(loss, has_aux=True)
 * }</pre>
 */
public final class Argnums {
  final int[] indices;
  final boolean multiple;  // argnums given as a tuple: results come as a list even for one index
  final boolean hasAux;
  final Integer chunkSize;
  final Randomness randomness;

  private Argnums(int[] indices, boolean multiple, boolean hasAux, Integer chunkSize, Randomness randomness) {
    this.indices = indices;
    this.multiple = multiple;
    this.hasAux = hasAux;
    this.chunkSize = chunkSize;
    this.randomness = randomness;
  }

  /** One argument: results have that argument's structure. */
  public static Argnums of(int argnum) {
    return new Argnums(new int[] {argnum}, false, false, null, Randomness.ERROR);
  }

  /** Several arguments: results are a list with one entry per index. */
  public static Argnums of(int first, int... more) {
    int[] all = new int[more.length + 1];
    all[0] = first;
    System.arraycopy(more, 0, all, 1, more.length);
    return new Argnums(all, true, false, null, Randomness.ERROR);
  }

  /** The function returns {@code List.of(output, aux)}; aux is returned alongside, untouched. */
  public Argnums withAux() {
    return new Argnums(indices, multiple, true, chunkSize, randomness);
  }

  /** Process at most {@code n} basis vectors per vectorised pass (jacrev/jacfwd/hessian). */
  public Argnums chunkSize(int n) {
    if (n < 1) throw new AdjointArgumentException("chunkSize", "chunkSize: must be >= 1, got " + n);
    return new Argnums(indices, multiple, hasAux, n, randomness);
  }

  /** Random ops inside jacfwd/hessian's vectorised pass (as vmap's randomness). */
  public Argnums randomness(Randomness r) {
    return new Argnums(indices, multiple, hasAux, chunkSize, r);
  }

  /** Normalised indices, checked against the number of arguments. */
  int[] resolve(String transform, int nargs) {
    int[] r = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      int a = indices[i] < 0 ? indices[i] + nargs : indices[i];
      if (a < 0 || a >= nargs)
        throw new InvalidIndexException(transform, transform + ": argnum " + indices[i] + " out of range for a function called with "
            + nargs + " argument(s)");
      for (int j = 0; j < i; j++)
        if (r[j] == a) throw new AdjointArgumentException(transform, transform + ": argnum " + indices[i] + " repeated in " + this);
      r[i] = a;
    }
    return r;
  }

  @Override
  public String toString() {
    return "argnums" + Arrays.toString(indices) + (hasAux ? " hasAux" : "") + (chunkSize != null ? " chunkSize=" + chunkSize : "");
  }
}
