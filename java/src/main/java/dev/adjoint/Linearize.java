package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import java.util.Arrays;

/**
 * {@link Func#linearize}: {@code f} runs once, and {@code jvpFn} replays only the tangent map.
 *
 * <p>NOTE: how (JAX's linearize is a jvp whose tangent computation is kept apart by partial
 * evaluation; this is the same with a tape instead of a jaxpr). The tangent fed to {@code f}'s jvp
 * is itself traced, by a grad level begun below the jvp level, with zeros as placeholder values:
 * every op a jvp rule applies to tangents is recorded on that tape with the primal-side values it
 * uses (cos x for sin, the weights of a matmul) saved as constants, while the primal computation
 * touches no tangent and is not recorded. The tape is then the linear map t -> J t; each
 * {@code jvpFn(t)} re-applies its ops to the new t (adj_replay1, native grad_replay), through
 * dispatch, so vmap of jvpFn and any other enclosing transform trace it as usual. The tape's
 * leaf and output are held by the returned {@link Func.Linearized} (Scope.keep keeps them with
 * it).
 */
final class Linearize {
  private static final int JVP = 0, GRAD = 1;  // ADJ_LEVEL_*

  private Linearize() {}

  /** The tangent map recorded at a point: a tape (leaf -> out) replayed for each tangent. */
  static final class TangentMap implements Fn1 {
    final Tensor leaf, out;

    TangentMap(Tensor leaf, Tensor out) {
      this.leaf = leaf;
      this.out = out;
    }

    @Override
    public Tensor apply(Tensor t) {
      if (t == null)  // named as jvp names it (this is a jvp)
        throw new AdjointArgumentException("jvp", "jvp: tangent 0 (null) is not a tensor (linearize's jvpFn takes one tensor)");
      return Tensor.wrap(NativeCore.adj_replay1(leaf.h(), out.h(), t.h()), leaf, out, t);
    }
  }

  static Func.Linearized of(Fn1 f, Tensor x) {
    if (f == null) throw new AdjointArgumentException("linearize", "linearize: the function is null");
    if (x == null) throw new AdjointArgumentException("linearize", "linearize: the input is null instead of a tensor");
    if (x.isClosed()) throw new IllegalStateException("linearize: the input is a closed tensor");
    if (!x.dtype().isFloatingPoint())
      throw new DTypeMismatchException("linearize", "linearize: the input has dtype " + x.dtype().displayName() + " (shape "
          + Arrays.toString(x.shape()) + "): only floating-point inputs can be differentiated");
    long rec = begin(GRAD), fwd = 0;
    try (Scope scope = Scope.open()) {
      Tensor zeros = Tensor.zerosLike(x);
      Tensor leaf = Tensor.wrap(NativeCore.adj_grad_wrap(rec, zeros.h()), zeros);
      fwd = begin(JVP);
      Tensor traced = Tensor.wrap(NativeCore.adj_jvp_wrap(fwd, x.h(), leaf.h()), x, leaf);
      Tensor y = f.apply(traced);
      if (y == null) throw new AdjointArgumentException("linearize", "linearize: the function returned null instead of a tensor");
      if (y.isClosed()) throw new AdjointArgumentException("linearize", "linearize: the function returned a closed tensor");
      if (!y.dtype().isFloatingPoint())
        throw new DTypeMismatchException("linearize", "linearize: output 0 has dtype " + y.dtype().displayName() + " (shape "
            + Arrays.toString(y.shape()) + "): only floating-point outputs can be differentiated");
      long[] pt = new long[2];
      Errors.check(NativeCore.adj_jvp_unwrap(fwd, y.h(), pt));
      Tensor out = Tensor.wrap(pt[0]), tangent = Tensor.wrap(pt[1]);
      long l = fwd;
      fwd = 0;
      Errors.check(NativeCore.adj_level_close(l));
      l = rec;
      rec = 0;
      Errors.check(NativeCore.adj_level_close(l));
      scope.keep(out);
      scope.keep(leaf);  // the tape: its tracers hold their (ended) level
      scope.keep(tangent);
      return new Func.Linearized(out, new TangentMap(leaf, tangent));
    } catch (Throwable e) {
      // innermost first; the user's exception wins, a failure to end a level rides along
      if (fwd != 0 && NativeCore.adj_level_close(fwd) < 0) e.addSuppressed(Errors.last());
      if (rec != 0 && NativeCore.adj_level_close(rec) < 0) e.addSuppressed(Errors.last());
      throw e;
    }
  }

  private static long begin(int kind) {
    long l = NativeCore.adj_level_begin(kind, 0, 0);
    if (l == 0) throw Errors.last();
    return l;
  }
}
