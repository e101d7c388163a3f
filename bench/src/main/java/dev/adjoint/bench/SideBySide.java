package dev.adjoint.bench;

import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The Adjoint side of the side-by-side comparison with functorch ({@code bench/compare.py}), a
 * plain timing loop rather than JMH so that both sides are timed the same way. The mirror image
 * is {@code bench/functorch_side.py}; both speak the same line protocol.
 *
 * <pre>
 * java -cp ... dev.adjoint.bench.SideBySide serve            # worker: one command per stdin line, one JSON line back
 *   check W            build workload W, run every variant once, check against the reference
 *   warm W V SECONDS   call variant V for SECONDS (at least 2 calls; 1 if a call takes longer than SECONDS)
 *   time W V BUDGET BLOCK [EST]  timed blocks of n calls (n so that a block lasts ~BLOCK s, from EST s per
 *                      call, or from one untimed call when EST is absent) until BUDGET s (at least one block)
 *   matmul N REPS      best time of an N x N x N float32 matmul
 *   drop W | quit
 * java -cp ... dev.adjoint.bench.SideBySide rss W V CALLS    # fresh process: peak RSS (VmHWM) over CALLS calls
 * java -cp ... dev.adjoint.bench.SideBySide check [W...]      # check every (or the given) workload and exit
 * </pre>
 *
 * <p>Every call runs in its own {@link Scope}, so what it creates (the result included) is
 * released inside the timed region, as functorch's result is freed when the timed call returns.
 * The number of OpenBLAS threads is the environment's ({@code OPENBLAS_NUM_THREADS}).
 */
public final class SideBySide {
  private SideBySide() {}

  private static final Map<String, Workloads.Workload> BUILT = new HashMap<>();

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      System.err.println("usage: SideBySide serve | rss W V CALLS | check [W...]");
      System.exit(2);
    }
    switch (args[0]) {
      case "serve" -> serve();
      case "rss" -> rss(args[1], args[2], Integer.parseInt(args[3]));
      case "check" -> {
        List<String> names = args.length > 1 ? List.of(args).subList(1, args.length) : Workloads.NAMES;
        for (String n : names) System.out.println(check(n));
      }
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static Workloads.Workload workload(String name) {
    return BUILT.computeIfAbsent(name, Workloads::build);
  }

  static void serve() throws IOException {
    // Results go to the real stdout; anything else printed (e.g. library messages) to stderr.
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    out.println("{\"ready\":true,\"side\":\"adjoint\",\"pid\":" + ProcessHandle.current().pid() + "}");
    String line;
    while ((line = in.readLine()) != null) {
      String[] a = line.trim().split("\\s+");
      if (a.length == 0 || a[0].isEmpty()) continue;
      String reply;
      try {
        reply = switch (a[0]) {
          case "check" -> check(a[1]);
          case "warm" -> warm(a[1], a[2], Double.parseDouble(a[3]));
          case "time" -> time(a[1], a[2], Double.parseDouble(a[3]), Double.parseDouble(a[4]), a.length > 5 ? Double.parseDouble(a[5]) : 0);
          case "matmul" -> matmul(Integer.parseInt(a[1]), Integer.parseInt(a[2]));
          case "drop" -> {
            BUILT.remove(a[1]);
            System.gc();
            yield "{\"ok\":true}";
          }
          case "quit" -> null;
          default -> "{\"ok\":false,\"error\":" + json("unknown command " + a[0]) + "}";
        };
      } catch (Throwable t) {
        reply = "{\"ok\":false,\"error\":" + json(t.toString()) + "}";
      }
      if (reply == null) break;
      out.println(reply);
    }
  }

  static String check(String name) {
    long t0 = System.nanoTime();
    Workloads.Workload w = workload(name);
    Map<String, double[]> fp = w.check();
    StringBuilder sb = new StringBuilder("{\"ok\":true,\"workload\":").append(json(name)).append(",\"variants\":{");
    boolean first = true;
    for (Map.Entry<String, double[]> e : fp.entrySet()) {
      if (!first) sb.append(',');
      first = false;
      double[] v = e.getValue();
      sb.append(json(e.getKey())).append(":{\"fingerprint\":").append(num(v[0])).append(",\"abs_sum\":").append(num(v[1]))
          .append(",\"max_err_vs_reference\":").append(num(v[2])).append('}');
    }
    sb.append("},\"work\":{\"limit\":").append(json(w.work.limit().name())).append(",\"amount\":").append(num(w.work.amount()))
        .append(",\"how\":").append(json(w.work.how())).append("},\"check_s\":").append(num((System.nanoTime() - t0) * 1e-9)).append('}');
    return sb.toString();
  }

  static void callOnce(Supplier<Object> body) {
    try (Scope s = Scope.open()) {
      body.get();
    }
  }

  static String warm(String name, String variant, double seconds) {
    Supplier<Object> body = workload(name).variant(variant);
    long t0 = System.nanoTime();
    int calls = 0;
    long first = 0;
    do {
      callOnce(body);
      calls++;
      if (calls == 1) first = System.nanoTime() - t0;
    } while (first < seconds * 1e9 && (calls < 2 || System.nanoTime() - t0 < seconds * 1e9));
    long total = System.nanoTime() - t0;
    double perCall = calls > 1 ? (total - first) * 1e-9 / (calls - 1) : first * 1e-9;
    return "{\"ok\":true,\"calls\":" + calls + ",\"first_s\":" + num(first * 1e-9) + ",\"per_call_s\":" + num(perCall) + "}";
  }

  /** Blocks of n calls until {@code budget} seconds have passed (at least one block). */
  static String time(String name, String variant, double budget, double block, double est) {
    Supplier<Object> body = workload(name).variant(variant);
    if (!(est > 0)) {  // probe one call for the block size
      long p0 = System.nanoTime();
      callOnce(body);
      est = (System.nanoTime() - p0) * 1e-9;
    }
    int n = (int) Math.max(1, Math.min(1_000_000, Math.round(block / Math.max(est, 1e-9))));
    List<Double> perCall = new ArrayList<>();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long gc0 = gcMillis();
    long w0 = System.nanoTime();
    int calls = 0;
    do {
      long b0 = System.nanoTime();
      for (int i = 0; i < n; i++) callOnce(body);
      perCall.add((System.nanoTime() - b0) * 1e-9 / n);
      calls += n;
    } while (System.nanoTime() - w0 < budget * 1e9);
    double wall = (System.nanoTime() - w0) * 1e-9;
    double cpu = (os.getProcessCpuTime() - cpu0) * 1e-9;
    StringBuilder sb = new StringBuilder("{\"ok\":true,\"number_per_block\":").append(n).append(",\"calls\":").append(calls)
        .append(",\"wall_s\":").append(num(wall)).append(",\"cpu_s\":").append(num(cpu))
        .append(",\"gc_ms\":").append(gcMillis() - gc0).append(",\"times\":[");
    for (int i = 0; i < perCall.size(); i++) sb.append(i == 0 ? "" : ",").append(num(perCall.get(i)));
    return sb.append("]}").toString();
  }

  static long gcMillis() {
    long t = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) t += Math.max(0, gc.getCollectionTime());
    return t;
  }

  /** Best time of {@code reps} N^3 float32 matmuls through Adjoint (OpenBLAS sgemm). */
  static String matmul(int n, int reps) {
    Tensor a, b;
    try (Scope s = Scope.open()) {
      a = s.keep(Tensor.randn(n, n));
      b = s.keep(Tensor.randn(n, n));
    }
    callOnce(() -> a.matmul(b));
    double best = Double.MAX_VALUE;
    for (int r = 0; r < reps; r++) {
      long t0 = System.nanoTime();
      callOnce(() -> a.matmul(b));
      best = Math.min(best, (System.nanoTime() - t0) * 1e-9);
    }
    a.close();
    b.close();
    return "{\"ok\":true,\"n\":" + n + ",\"best_s\":" + num(best) + ",\"gflops\":" + num(2.0 * n * n * n / best * 1e-9) + "}";
  }

  /** Peak RSS in a fresh process: VmHWM after building the inputs, and after CALLS calls (the last result kept). */
  static void rss(String name, String variant, int calls) throws IOException {
    Workloads.Workload w = workload(name);
    Supplier<Object> body = w.variant(variant);
    long baseHwm = status("VmHWM"), baseRss = status("VmRSS");
    long t0 = System.nanoTime();
    try (Scope s = Scope.open()) {
      for (int i = 0; i < calls; i++) {
        if (i < calls - 1) callOnce(body);
        else body.get();   // the last result stays alive until the high-water mark is read
      }
      long peak = status("VmHWM");
      System.out.println("{\"ok\":true,\"side\":\"adjoint\",\"workload\":" + json(name) + ",\"variant\":" + json(variant)
          + ",\"calls\":" + calls + ",\"baseline_VmRSS_kb\":" + baseRss + ",\"baseline_VmHWM_kb\":" + baseHwm
          + ",\"peak_VmHWM_kb\":" + peak + ",\"seconds\":" + num((System.nanoTime() - t0) * 1e-9) + "}");
    }
  }

  static long status(String field) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status")))
      if (l.startsWith(field + ":")) return Long.parseLong(l.substring(field.length() + 1).trim().split("\\s+")[0]);
    return -1;
  }

  static String num(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return "null";
    return String.format(Locale.ROOT, "%.9g", v);
  }

  static String json(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.append('"').toString();
  }
}
