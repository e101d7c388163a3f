package dev.adjoint.fuzz;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ConcurrentLifecycleFuzzer} in a forked JVM ({@link ForkedJvm}): a use-after-free
 * or a double release that crashes the JVM is reported with the round's seed.
 *
 * <p>System properties: {@code fuzz.concurrent.seconds} (default 4), {@code fuzz.concurrent.threads}
 * (default 4), {@code fuzz.seed} (first round's seed, default 1), {@code fuzz.verbose}. A longer run:
 * {@code mvn -B -f java/pom.xml test -Dtest=ConcurrentLifecycleFuzzTest -Dfuzz.concurrent.seconds=600}.
 */
class ConcurrentLifecycleFuzzTest {
  @Test
  void threadsShareComputeCloseAndDropTensorsInAForkedJvm() throws Exception {
    String seconds = System.getProperty("fuzz.concurrent.seconds", "4");
    String threads = System.getProperty("fuzz.concurrent.threads", "4");
    String seed = System.getProperty("fuzz.seed", "1");
    List<String> args = new ArrayList<>(List.of("--seed", seed, "--seconds", seconds, "--threads", threads, "--progress"));
    if (Boolean.parseBoolean(System.getProperty("fuzz.verbose", "false"))) args.add("--verbose");
    long waitS = (long) Math.min(Long.MAX_VALUE / 2, Double.parseDouble(seconds) + 180);
    ForkedJvm.run("the concurrent lifecycle fuzzer", ConcurrentLifecycleFuzzer.class, List.of(), args, waitS,
        tag -> "mvn -B -f java/pom.xml test -Dtest=ConcurrentLifecycleFuzzTest -Dfuzz.seed=" + tag + " -Dfuzz.concurrent.seconds=1");
  }
}
