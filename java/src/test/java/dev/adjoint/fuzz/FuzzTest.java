package dev.adjoint.fuzz;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ProgramFuzzer} in a forked JVM ({@link ForkedJvm}), so that a native crash or a hang
 * is reported as a test failure naming the seed that reproduces it.
 *
 * <p>System properties (pass them to Maven with -D): {@code fuzz.count} (number of programs, default
 * 40000, about 60 s on 2 cores), {@code fuzz.seconds} (time budget, default 90: whichever limit comes
 * first), {@code fuzz.seed} (first seed, default 1), {@code fuzz.verbose} (print every program),
 * {@code fuzz.dedicated} (after the main run, the first K seeds of every special category; default
 * 8 long chains, one per transform, and 40 of each other category),
 * {@code fuzz.category} (run only that special category: chains, shapes, zerosize, buffers,
 * intoutputs), and one switch per special category, on by default: {@code -Dfuzz.chains=false} etc.
 * A longer run: {@code mvn -B -f java/pom.xml test -Dtest=FuzzTest -Dfuzz.seconds=3600 -Dfuzz.count=1000000000};
 * one seed with its program: {@code -Dfuzz.seed=N -Dfuzz.count=1 -Dfuzz.verbose=true} (plus
 * {@code -Dfuzz.category=NAME} for a seed of the dedicated set, reported as NAME:N). To see past a
 * failure that masks others: {@code -Dfuzz.probes=3,5} (only those probe kinds of shapes/zerosize),
 * {@code -Dfuzz.chain.ops=N} (chains of N ops instead of 10^5).
 */
class FuzzTest {
  @Test
  void randomProgramsUnderRandomTransformsInAForkedJvm() throws Exception {
    String seconds = System.getProperty("fuzz.seconds", "90");
    String count = System.getProperty("fuzz.count", "40000");
    String seed = System.getProperty("fuzz.seed", "1");
    String category = System.getProperty("fuzz.category", "");
    String dedicated = System.getProperty("fuzz.dedicated", "-1");
    boolean verbose = Boolean.parseBoolean(System.getProperty("fuzz.verbose", "false"));
    List<String> args = new ArrayList<>(List.of("--seed", seed, "--count", count, "--seconds", seconds, "--progress", "--dedicated", dedicated));
    if (!category.isEmpty()) args.addAll(List.of("--category", category));
    List<String> off = new ArrayList<>();
    for (String k : SpecialCase.Category.keys())
      if (!Boolean.parseBoolean(System.getProperty("fuzz." + k, "true"))) off.add(k);
    if (!off.isEmpty()) args.addAll(List.of("--off", String.join(",", off)));
    if (verbose) args.add("--verbose");
    double budget = Double.parseDouble(seconds);
    // + JVM start, the last program, the dedicated set, the summary
    long waitS = (long) Math.min(Long.MAX_VALUE / 2, budget + 240);
    // Knobs read inside the fuzzer's JVM: passed on when given.
    List<String> jvm = new ArrayList<>();
    for (String k : List.of("fuzz.probes", "fuzz.chain.ops"))
      if (System.getProperty(k) != null) jvm.add("-D" + k + "=" + System.getProperty(k));
    ForkedJvm.run("the fuzzer", ProgramFuzzer.class, jvm, args, waitS, tag -> {
      int colon = tag.indexOf(':');
      String cat = colon > 0 ? " -Dfuzz.category=" + tag.substring(0, colon) : "";
      return "mvn -B -f java/pom.xml test -Dtest=FuzzTest" + cat + " -Dfuzz.seed=" + tag.substring(colon + 1) + " -Dfuzz.count=1 -Dfuzz.verbose=true";
    });
  }
}
