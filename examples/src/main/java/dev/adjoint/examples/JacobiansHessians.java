package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.F;
import dev.adjoint.Fn1;
import dev.adjoint.Fn3;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VjpResult;
import dev.adjoint.examples.Timer.Timing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * "Jacobians, Hessians, hvp, vhp, and more: composing functorch transforms" — the PyTorch
 * tutorial notebook, section by section, in Java. It draws the same random numbers as the
 * notebook ({@code torch.manual_seed(0)}, then the notebook's draws in order), so the first
 * Jacobian row printed below is the notebook's {@code tensor([-0.5956, -0.6096, -0.1326, ...])}.
 * The notebook's {@code assert}s are checks that throw; its {@code torch.utils.benchmark.Timer}
 * comparisons are timed with {@link Timer} (warm-up, then the median of several repetitions of N
 * calls, each call in its own {@link Scope}) and summarised in a table at the end.
 *
 * <p>Run: {@code mvn -B install -DskipTests && mvn -B -f examples/pom.xml exec:java}
 */
public final class JacobiansHessians {

  // def predict(weight, bias, x):
  //     return F.linear(x, weight, bias).tanh()
  static Tensor predict(Tensor weight, Tensor bias, Tensor x) {
    return F.linear(x, weight, bias).tanh();
  }

  static final Fn3 PREDICT = JacobiansHessians::predict;

  /** Every timing comparison, printed as a table at the end. */
  static final List<String[]> SUMMARY = new ArrayList<>();

  public static void main(String[] args) {
    long start = System.nanoTime();
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);  // _ = torch.manual_seed(0)
      computingTheJacobian();
      jacrevVsJacfwd();
      hessians();
      batchJacobianAndBatchHessian();
      hessianVectorProducts();
    }
    printSummary();
    // Each timed call ran in its own Scope, everything else in the outer one: nothing is left alive.
    Adjoint.MemoryStats mem = Adjoint.memoryStats();
    System.out.printf(Locale.ROOT, "%nNative memory after the run: %d live tensors, %d live bytes (%.1f MiB cached for reuse)%n",
        mem.liveTensors(), mem.liveBytes(), mem.cachedBytes() / 1048576.0);
    System.out.printf(Locale.ROOT, "%nAll checks passed (%.1f s).%n", (System.nanoTime() - start) / 1e9);
  }

  // =====================================================================================
  // ## Computing the Jacobian
  // =====================================================================================

  static void computingTheJacobian() {
    header("Computing the Jacobian");
    int D = 16;
    Tensor weight = Tensor.randn(D, D);
    Tensor bias = Tensor.randn(D);
    Tensor x = Tensor.randn(D);  // feature vector

    // Autograd computes vector-Jacobian products: the full Jacobian of R^D -> R^D row by row,
    // one vjp per unit vector (the notebook's compute_jac, which re-runs predict for every row).
    Tensor unitVectors = Tensor.eye(D);
    Tensor jacobian = computeJac(weight, bias, x, unitVectors);
    System.out.println(shape(jacobian));
    System.out.println(jacobian.get(0));  // show first row

    // Instead of the loop, vmap the pullback over all unit vectors at once:
    // _, vjp_fn = vjp(partial(predict, weight, bias), x); ft_jacobian, = vmap(vjp_fn)(unit_vectors)
    VjpResult vjpFn = vjp(xx -> predict(weight, bias, xx), x);
    Tensor ftJacobian = vmap(vjpFn::applyTensor).apply(unitVectors);
    check(ftJacobian.allclose(jacobian), "vmap(vjp_fn)(unit_vectors) == compute_jac(xp)");

    // jacrev is the vmap-of-vjp composition; argnums=2 differentiates with respect to x.
    ftJacobian = jacrev(PREDICT, 2).apply(weight, bias, x);
    check(ftJacobian.allclose(jacobian), "jacrev(predict, argnums=2) == compute_jac(xp)");

    // Performance: the row-by-row loop against the vectorised jacrev.
    List<Timing> t = Timer.compare(
        Timer.stmt("compute_jac(xp)", () -> computeJac(weight, bias, x, unitVectors)),
        Timer.stmt("jacrev(predict, argnums=2)(weight, bias, x)", () -> jacrev(PREDICT, 2).apply(weight, bias, x)));
    Timing noVmap = t.get(0), withVmap = t.get(1);
    System.out.println(noVmap);
    System.out.println(withVmap);
    getPerf(noVmap, "without vmap", withVmap, "vmap");
    SUMMARY.add(row("Jacobian D=16", "vjp loop (compute_jac)", noVmap, "vmap / jacrev", withVmap));

    // Jacobians with respect to the parameters instead of the input: argnums=(0, 1).
    List<Tensor> wb = jacrev(PREDICT, argnums(0, 1)).applyTensors(weight, bias, x);
    Tensor ftJacWeight = wb.get(0), ftJacBias = wb.get(1);
    System.out.println("ft_jac_weight: " + shape(ftJacWeight) + ", ft_jac_bias: " + shape(ftJacBias));
    check(Arrays.equals(ftJacWeight.shape(), new long[] {D, D, D}) && Arrays.equals(ftJacBias.shape(), new long[] {D, D}),
        "jacrev(predict, argnums=(0, 1)) shapes");
  }

  /** The notebook's compute_jac: one reverse pass per unit vector, stacked into the Jacobian. */
  static Tensor computeJac(Tensor weight, Tensor bias, Tensor x, Tensor unitVectors) {
    List<Tensor> rows = new ArrayList<>();
    for (int i = 0; i < unitVectors.size(0); i++)
      rows.add(vjp(xp -> predict(weight, bias, xp), x).applyTensor(unitVectors.get(i)));
    return Tensor.stack(rows, 0);
  }

  // =====================================================================================
  // ## reverse-mode Jacobian (jacrev) vs forward-mode Jacobian (jacfwd)
  // =====================================================================================

  static void jacrevVsJacfwd() {
    header("reverse-mode Jacobian (jacrev) vs forward-mode Jacobian (jacfwd)");
    // Rule of thumb for R^N -> R^M: jacrev computes M rows (vjps), jacfwd N columns (jvps);
    // with many more outputs than inputs (a tall Jacobian) prefer jacfwd, otherwise jacrev.

    // First, more outputs than inputs (Din = 32, Dout = 2048): a tall Jacobian.
    subheader("Din = 32, Dout = 2048 (tall)");
    compareModes(32, 2048);

    // And the reverse: more inputs than outputs (Din = 2048, Dout = 32): a wide Jacobian.
    subheader("Din = 2048, Dout = 32 (wide)");
    compareModes(2048, 32);
  }

  static void compareModes(int din, int dout) {
    Tensor weight = Tensor.randn(dout, din);
    Tensor bias = Tensor.randn(dout);
    Tensor x = Tensor.randn(din);
    System.out.println("weight shape = " + shape(weight));

    Tensor fwd = jacfwd(PREDICT, 2).apply(weight, bias, x);
    Tensor rev = jacrev(PREDICT, 2).apply(weight, bias, x);
    check(Arrays.equals(fwd.shape(), new long[] {dout, din}), "jacobian shape [Dout, Din]");
    check(fwd.allclose(rev, 1e-5, 1e-6), "jacfwd == jacrev");

    // Func.jacobian (the automatic choice) is timed alongside.
    List<Timing> t = Timer.compare(
        Timer.stmt("jacfwd(predict, argnums=2)(weight, bias, x)", () -> jacfwd(PREDICT, 2).apply(weight, bias, x)),
        Timer.stmt("jacrev(predict, argnums=2)(weight, bias, x)", () -> jacrev(PREDICT, 2).apply(weight, bias, x)),
        Timer.stmt("jacobian(predict, argnums=2)(weight, bias, x)", () -> jacobian(PREDICT, 2).apply(weight, bias, x)));
    Timing jacfwdTiming = t.get(0), jacrevTiming = t.get(1), autoTiming = t.get(2);
    System.out.println("jacfwd time: " + jacfwdTiming);
    System.out.println("jacrev time: " + jacrevTiming);
    getPerf(jacfwdTiming, "jacfwd", jacrevTiming, "jacrev");
    String shapeName = din < dout ? "tall" : "wide";
    SUMMARY.add(row("Jacobian " + shapeName + " Din=" + din + " Dout=" + dout, "jacfwd", jacfwdTiming, "jacrev", jacrevTiming));

    // Func.jacobian applies the rule of thumb at run time: jacrev when outputs <= inputs.
    String picked = dout <= din ? "jacrev" : "jacfwd";
    String better = jacfwdTiming.medianUs() < jacrevTiming.medianUs() ? "jacfwd" : "jacrev";
    Tensor auto = jacobian(PREDICT, 2).apply(weight, bias, x);
    check(auto.allclose(rev, 1e-5, 1e-6), "jacobian == jacrev");
    System.out.printf(Locale.ROOT, "Func.jacobian picks %s (%d outputs %s %d inputs): %s; the faster mode here is %s -> %s%n",
        picked, dout, dout <= din ? "<=" : ">", din, autoTiming.time(), better, picked.equals(better) ? "same choice" : "DIFFERENT");
  }

  // =====================================================================================
  // ## Hessian computation with functorch.hessian (here Func.hessian)
  // =====================================================================================

  static void hessians() {
    header("Hessian computation with Func.hessian");
    // hessian(f) is jacfwd(jacrev(f)); jacfwd(jacfwd(f)) or jacrev(jacrev(f)) also work, and
    // the tall/wide rule says which is cheaper. Sizes reduced as in the notebook: hessians are big.
    int din = 512, dout = 32;
    Tensor weight = Tensor.randn(dout, din);
    Tensor bias = Tensor.randn(dout);
    Tensor x = Tensor.randn(din);

    Tensor hessApi = hessian(PREDICT, 2).apply(weight, bias, x);
    Tensor hessFwdFwd = jacfwd(jacfwd(PREDICT, 2), 2).apply(weight, bias, x);
    Tensor hessRevRev = jacrev(jacrev(PREDICT, 2), 2).apply(weight, bias, x);
    System.out.println("hess_api shape = " + shape(hessApi));
    // torch.allclose(hess_api, hess_fwdfwd)
    System.out.println("allclose(hess_api, hess_fwdfwd): " + hessApi.allclose(hessFwdFwd, 1e-5, 1e-6));
    check(hessApi.allclose(hessFwdFwd, 1e-5, 1e-6), "hessian == jacfwd(jacfwd)");
    check(hessApi.allclose(hessRevRev, 1e-5, 1e-6), "hessian == jacrev(jacrev)");

    List<Timing> t = Timer.compare(
        Timer.stmt("hessian(predict, argnums=2)  [jacfwd(jacrev)]", () -> hessian(PREDICT, 2).apply(weight, bias, x)),
        Timer.stmt("jacfwd(jacfwd(predict, argnums=2), argnums=2)", () -> jacfwd(jacfwd(PREDICT, 2), 2).apply(weight, bias, x)));
    Timing api = t.get(0), fwdfwd = t.get(1);
    // jacrev(jacrev) pulls back the 32*512 = 16384 rows of an identity: a 16384 x 16384 float
    // basis (1 GiB) — why the notebook leaves it commented out. It is timed alone (far slower).
    Timing revrev = Timer.timeit("jacrev(jacrev(predict, argnums=2), argnums=2)", () -> jacrev(jacrev(PREDICT, 2), 2).apply(weight, bias, x));
    System.out.println(api);
    System.out.println(fwdfwd);
    System.out.println(revrev);
    getPerf(fwdfwd, "jacfwd(jacfwd)", api, "hessian");
    getPerf(revrev, "jacrev(jacrev)", api, "hessian");
    SUMMARY.add(row("Hessian Din=512 Dout=32", "jacfwd(jacfwd)", fwdfwd, "hessian = jacfwd(jacrev)", api));
    SUMMARY.add(row("Hessian Din=512 Dout=32", "jacrev(jacrev)", revrev, "hessian = jacfwd(jacrev)", api));
  }

  // =====================================================================================
  // ## Batch Jacobian and Batch Hessian
  // =====================================================================================

  static void batchJacobianAndBatchHessian() {
    header("Batch Jacobian and Batch Hessian");
    int batchSize = 64, din = 31, dout = 33;
    Tensor weight = Tensor.randn(dout, din);
    System.out.println("weight shape = " + shape(weight));
    Tensor bias = Tensor.randn(dout);
    Tensor x = Tensor.randn(batchSize, din);

    // compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
    Fn3 computeBatchJacobian = vmap(jacrev(PREDICT, 2), inDims(null, null, 0));
    Tensor batchJacobian0 = computeBatchJacobian.apply(weight, bias, x);

    // (B, N) -> (B, M) with independent rows: sum the outputs over the batch, take one Jacobian.
    Fn3 predictWithOutputSummed = (w, b, xx) -> predict(w, b, xx).sum(0);
    Tensor batchJacobian1 = jacrev(predictWithOutputSummed, 2).apply(weight, bias, x).movedim(1, 0);
    System.out.println("batch_jacobian0 shape = " + shape(batchJacobian0));
    check(batchJacobian0.allclose(batchJacobian1), "vmap(jacrev) == sum trick");

    List<Timing> t = Timer.compare(
        Timer.stmt("vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))", () -> computeBatchJacobian.apply(weight, bias, x)),
        Timer.stmt("jacrev(predict_with_output_summed, argnums=2).movedim(1, 0)",
            () -> jacrev(predictWithOutputSummed, 2).apply(weight, bias, x).movedim(1, 0)));
    Timing vmapped = t.get(0), summed = t.get(1);
    System.out.println(vmapped);
    System.out.println(summed);
    getPerf(vmapped, "vmap(jacrev)", summed, "the sum trick");
    SUMMARY.add(row("Batch Jacobian B=64 Din=31 Dout=33", "vmap(jacrev)", vmapped, "sum trick", summed));

    // compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
    Fn3 computeBatchHessian = vmap(hessian(PREDICT, 2), inDims(null, null, 0));
    Tensor batchHess = computeBatchHessian.apply(weight, bias, x);
    System.out.println("batch_hess.shape = " + shape(batchHess));
    check(Arrays.equals(batchHess.shape(), new long[] {64, 33, 31, 31}), "batch hessian shape [64, 33, 31, 31]");
  }

  // =====================================================================================
  // ## Computing Hessian-vector products
  // =====================================================================================

  // def hvp(f, primals, tangents): return jvp(grad(f), primals, tangents)[1]   (forward-over-reverse)
  static Tensor hvp(Fn1 f, Tensor primal, Tensor tangent) {
    return jvp(grad(f), primal, tangent).tangent();
  }

  // def hvp_revrev(f, primals, tangents): _, vjp_fn = vjp(grad(f), *primals); return vjp_fn(*tangents)
  static Tensor hvpRevrev(Fn1 f, Tensor primal, Tensor tangent) {
    return vjp(grad(f), primal).applyTensor(tangent);
  }

  static void hessianVectorProducts() {
    header("Computing Hessian-vector products");
    Fn1 f = xx -> xx.sin().sum();  // def f(x): return x.sin().sum()
    Tensor x = Tensor.randn(2048);
    Tensor tangent = Tensor.randn(2048);

    Tensor result = hvp(f, x, tangent);
    Tensor resultHvpRevrev = hvpRevrev(f, x, tangent);
    check(result.allclose(resultHvpRevrev), "hvp (forward-over-reverse) == hvp_revrev (reverse-over-reverse)");
    check(result.allclose(x.sin().neg().mul(tangent), 1e-5, 1e-6), "hvp == -sin(x) * tangent (closed form)");
    System.out.println("hvp shape = " + shape(result) + ", first entries: " + result.slice(0, 0, 4));

    List<Timing> t = Timer.compare(
        Timer.stmt("hvp(f, (x,), (tangent,))  [jvp(grad(f))]", () -> hvp(f, x, tangent)),
        Timer.stmt("hvp_revrev(f, (x,), (tangent,))  [vjp(grad(f))]", () -> hvpRevrev(f, x, tangent)));
    Timing fwdRev = t.get(0), revRev = t.get(1);
    System.out.println(fwdRev);
    System.out.println(revRev);
    getPerf(revRev, "reverse-over-reverse", fwdRev, "forward-over-reverse");
    SUMMARY.add(row("hvp n=2048", "reverse-over-reverse", revRev, "forward-over-reverse", fwdRev));
  }

  // =====================================================================================
  // Timing helpers
  // =====================================================================================

  /**
   * The notebook's get_perf: the relative time saved by the faster statement. (The notebook's
   * version always names the second statement and takes an absolute value, so it can credit the
   * slower one; this one names whichever is faster.)
   */
  static void getPerf(Timing first, String firstDescriptor, Timing second, String secondDescriptor) {
    boolean secondFaster = second.medianUs() <= first.medianUs();
    double slower = Math.max(first.medianUs(), second.medianUs()), faster = Math.min(first.medianUs(), second.medianUs());
    double gain = (slower - faster) / slower * 100;
    System.out.printf(Locale.ROOT, " Performance delta: %.4f percent improvement with %s (%.2fx faster)%n", gain,
        secondFaster ? secondDescriptor : firstDescriptor, slower / faster);
  }

  static String[] row(String problem, String aName, Timing a, String bName, Timing b) {
    String winner = a.medianUs() <= b.medianUs() ? aName : bName;
    double ratio = Math.max(a.medianUs(), b.medianUs()) / Math.min(a.medianUs(), b.medianUs());
    return new String[] {problem, aName, a.time(), bName, b.time(), String.format(Locale.ROOT, "%s, %.2fx", winner, ratio)};
  }

  static void printSummary() {
    header("Summary: median time per call");
    String[] head = {"problem", "A", "time A", "B", "time B", "faster"};
    int[] w = new int[head.length];
    for (int i = 0; i < head.length; i++) w[i] = head[i].length();
    for (String[] r : SUMMARY)
      for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
    printRow(head, w);
    String[] rule = new String[head.length];
    for (int i = 0; i < head.length; i++) rule[i] = "-".repeat(w[i]);
    printRow(rule, w);
    for (String[] r : SUMMARY) printRow(r, w);
  }

  static void printRow(String[] cells, int[] w) {
    StringBuilder sb = new StringBuilder("|");
    for (int i = 0; i < cells.length; i++) {
      boolean right = i == 2 || i == 4;
      String c = cells[i];
      String pad = " ".repeat(w[i] - c.length());
      sb.append(' ').append(right ? pad + c : c + pad).append(" |");
    }
    System.out.println(sb);
  }

  // =====================================================================================
  // Small printing / checking helpers
  // =====================================================================================

  static void header(String title) {
    System.out.println();
    System.out.println("## " + title);
    System.out.println();
  }

  static void subheader(String title) {
    System.out.println();
    System.out.println("### " + title);
  }

  static String shape(Tensor t) {
    return "Size(" + Arrays.toString(t.shape()) + ")";
  }

  /** The notebook's {@code assert}: throws when violated. */
  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError("check failed: " + what);
    System.out.println("check ok: " + what);
  }
}
