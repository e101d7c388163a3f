package dev.adjoint.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs a fuzzer's main class in a forked JVM (same java binary, the test classpath), so that a
 * native crash (SIGSEGV, abort: the JVM dies with an hs_err file) or a hang is reported as a test
 * failure naming the seed that reproduces it, instead of taking the test JVM down. The child
 * prints {@code @seed X} before each case; exit status 0 means all passed, 1 that it found failures.
 */
final class ForkedJvm {
  private ForkedJvm() {}

  /**
   * Runs {@code main} with {@code args}; waits {@code waitS} seconds at most. {@code repro} turns
   * the last {@code @seed} tag into the command that reproduces it.
   */
  static void run(String what, Class<?> main, List<String> jvmArgs, List<String> args, long waitS, Function<String, String> repro) throws Exception {
    Path dir = Paths.get("target", "fuzz").toAbsolutePath();
    Files.createDirectories(dir);
    String prefix = "hs_err_" + main.getSimpleName() + "_";
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, prefix + "*.log")) {
      for (Path p : old) Files.delete(p);
    }
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xss4m", "-Xmx512m", "-XX:ErrorFile=" + dir.resolve(prefix + "%p.log")));
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();

    // The child prints "@seed X" before each case: the last one names the case a crash hit.
    String[] lastSeed = {"-1"};
    List<String> report = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("@seed ")) {
            synchronized (lastSeed) {
              lastSeed[0] = line.substring(6).trim();
            }
            continue;
          }
          System.out.println(line);
          synchronized (report) {
            report.add(line);
          }
        }
      } catch (IOException e) {
        synchronized (report) {
          report.add("(reading the fuzzer's output failed: " + e + ")");
        }
      }
    }, "fuzz-output");
    reader.setDaemon(true);
    reader.start();

    boolean finished = p.waitFor(waitS, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    reader.join(10_000);
    String seedAt;
    synchronized (lastSeed) {
      seedAt = lastSeed[0];
    }
    String tail;
    synchronized (report) {
      tail = String.join("\n", report.subList(Math.max(0, report.size() - 60), report.size()));
    }
    String again = "reproduce: " + repro.apply(seedAt);
    if (!finished) fail(what + " hung (no exit after " + waitS + " s) while running seed " + seedAt + "; " + again + "\n" + tail);
    int rc = p.exitValue();
    if (rc == 0) return;
    if (rc == 1) fail(what + " found failures (each with its seed above):\n" + tail);
    // Anything else: the JVM died (SIGSEGV -> 134 with an hs_err file, abort, OOM kill, ...).
    StringBuilder crash = new StringBuilder();
    try (DirectoryStream<Path> logs = Files.newDirectoryStream(dir, prefix + "*.log")) {
      for (Path log : logs) {
        crash.append("\n").append(log).append(":\n");
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        crash.append(String.join("\n", lines.subList(0, Math.min(lines.size(), 40))));
      }
    }
    fail(what + "'s JVM crashed (exit status " + rc + ") while running seed " + seedAt + "; " + again + "\n" + tail + crash);
  }
}
