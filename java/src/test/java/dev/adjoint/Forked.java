package dev.adjoint;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's {@code main} in a JVM of its own (same java binary; by default the test
 * classpath), for what must not share the test JVM: a small -Xmx, a memory limit from the
 * environment, a classpath without the natives. The child's lines are echoed with a tag; lines
 * {@code RESULT key=value ...} are collected.
 */
final class Forked {
  private Forked() {}

  /** What the child printed and how it ended. */
  record Result(int exitCode, String output, Map<String, String> values) {
    String get(String key) {
      String v = values.get(key);
      if (v == null) fail("no " + key + " in the child's RESULT lines:\n" + output);
      return v;
    }

    long getLong(String key) {
      return Long.parseLong(get(key));
    }

    /** The rest of the child's first line starting with {@code prefix} (for text with spaces). */
    String line(String prefix) {
      for (String l : output.split("\n"))
        if (l.startsWith(prefix)) return l.substring(prefix.length());
      return fail("no line '" + prefix + "' in the child's output:\n" + output);
    }
  }

  /** Everything but the main class and its arguments; defaults: no prefix, no env, the test classpath. */
  static final class Options {
    List<String> prefix = List.of();  // a command that runs the java command line given to it
    List<String> jvmArgs = List.of();
    Map<String, String> env = Map.of();
    String classpath = System.getProperty("java.class.path");
    long timeoutSeconds = 600;
  }

  static Result run(String tag, Class<?> main, Options o, String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(o.prefix);
    cmd.add(java);
    cmd.addAll(o.jvmArgs);
    for (String p : System.getProperties().stringPropertyNames())
      if (p.startsWith("org.bytedeco.")) cmd.add("-D" + p + "=" + System.getProperty(p));
    cmd.addAll(List.of("-cp", o.classpath, main.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(o.env);
    Process p = pb.start();
    StringBuffer out = new StringBuffer();
    Map<String, String> values = new HashMap<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          System.out.println("  [" + tag + "] " + line);
          out.append(line).append('\n');
          if (line.startsWith("RESULT ")) {
            synchronized (values) {
              for (String kv : line.substring(7).trim().split(" ")) {
                int eq = kv.indexOf('=');
                if (eq > 0) values.put(kv.substring(0, eq), kv.substring(eq + 1));
              }
            }
          }
        }
      } catch (IOException e) {
        out.append(e).append('\n');
      }
    }, "forked-output");
    reader.setDaemon(true);
    reader.start();
    if (!p.waitFor(o.timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      reader.join(10_000);
      fail("the " + tag + " JVM did not finish in " + o.timeoutSeconds + " s:\n" + out);
    }
    reader.join(10_000);
    synchronized (values) {
      return new Result(p.exitValue(), out.toString(), new HashMap<>(values));
    }
  }

  /** Peak resident set (VmHWM) of this process in KiB, -1 if unknown. */
  static long peakRssKiB() throws IOException {
    return statusKiB("VmHWM:");
  }

  static long statusKiB(String field) throws IOException {
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status")))
      if (line.startsWith(field)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    return -1;
  }
}
