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
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ProgramFuzzer} in a forked JVM (same java binary, the test classpath), so that a
 * native crash (SIGSEGV, abort: the JVM dies with an hs_err file) or a hang is reported as a test
 * failure naming the seed that reproduces it, instead of taking the test JVM down.
 *
 * <p>System properties (pass them to Maven with -D): {@code fuzz.count} (number of programs, default
 * 40000, about 50 s on 2 cores), {@code fuzz.seconds} (time budget, default 75: whichever limit comes
 * first), {@code fuzz.seed} (first seed, default 1), {@code fuzz.verbose} (print every program).
 * A longer run: {@code mvn -B -f java/pom.xml test -Dtest=FuzzTest -Dfuzz.seconds=3600 -Dfuzz.count=1000000000};
 * one seed with its program: {@code -Dfuzz.seed=N -Dfuzz.count=1 -Dfuzz.verbose=true}.
 */
class FuzzTest {
  @Test
  void randomProgramsUnderRandomTransformsInAForkedJvm() throws Exception {
    String seconds = System.getProperty("fuzz.seconds", "75");
    String count = System.getProperty("fuzz.count", "40000");
    String seed = System.getProperty("fuzz.seed", "1");
    boolean verbose = Boolean.parseBoolean(System.getProperty("fuzz.verbose", "false"));
    Path dir = Paths.get("target", "fuzz").toAbsolutePath();
    Files.createDirectories(dir);
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "hs_err_*.log")) {
      for (Path p : old) Files.delete(p);
    }
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xss4m", "-Xmx512m", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), "-cp",
        System.getProperty("java.class.path"), ProgramFuzzer.class.getName(), "--seed", seed, "--count", count, "--seconds", seconds,
        "--progress"));
    if (verbose) cmd.add("--verbose");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();

    // The child prints "@seed N" before each program: the last one names the program a crash hit.
    long[] lastSeed = {-1};
    List<String> report = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("@seed ")) {
            synchronized (lastSeed) {
              lastSeed[0] = Long.parseLong(line.substring(6).trim());
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

    double budget = Double.parseDouble(seconds);
    long waitS = (long) Math.min(Long.MAX_VALUE / 2, budget + 180);  // + JVM start, the last program, the summary
    boolean finished = p.waitFor(waitS, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    reader.join(10_000);
    long seedAt;
    synchronized (lastSeed) {
      seedAt = lastSeed[0];
    }
    String tail;
    synchronized (report) {
      tail = String.join("\n", report.subList(Math.max(0, report.size() - 60), report.size()));
    }
    String repro = "reproduce: mvn -B -f java/pom.xml test -Dtest=FuzzTest -Dfuzz.seed=" + seedAt + " -Dfuzz.count=1 -Dfuzz.verbose=true";
    if (!finished) fail("the fuzzer hung (no exit after " + waitS + " s) while running seed " + seedAt + "; " + repro + "\n" + tail);
    int rc = p.exitValue();
    if (rc == 0) return;
    if (rc == 1) fail("the fuzzer found failures (each with its seed above):\n" + tail);
    // Anything else: the JVM died (SIGSEGV -> 134 with an hs_err file, abort, OOM kill, ...).
    StringBuilder crash = new StringBuilder();
    try (DirectoryStream<Path> logs = Files.newDirectoryStream(dir, "hs_err_*.log")) {
      for (Path log : logs) {
        crash.append("\n").append(log).append(":\n");
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        crash.append(String.join("\n", lines.subList(0, Math.min(lines.size(), 40))));
      }
    }
    fail("the fuzzer's JVM crashed (exit status " + rc + ") while running seed " + seedAt + "; " + repro + "\n" + tail + crash);
  }
}
