package dev.adjoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real memory cgroup with a small limit, for running a forked JVM under it (the kernel kills a
 * process that passes the limit). Made where this machine allows (root, a writable cgroup v1 memory
 * hierarchy, or cgroup v2 with the memory controller delegated); {@link #create} returns null
 * elsewhere, and the tests that need one are skipped.
 */
final class SmallCgroup implements AutoCloseable {
  final Path dir;
  final boolean v2;

  private SmallCgroup(Path dir, boolean v2) {
    this.dir = dir;
    this.v2 = v2;
  }

  static SmallCgroup create(String name, long limitBytes) {
    String unique = name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    Path v1 = Path.of("/sys/fs/cgroup/memory");
    Path v2 = Path.of("/sys/fs/cgroup");
    try {
      if (Files.isWritable(v1.resolve("cgroup.procs"))) return make(v1.resolve(unique), "memory.limit_in_bytes", limitBytes, false);
      if (Files.isRegularFile(v2.resolve("cgroup.controllers")) && Files.readString(v2.resolve("cgroup.subtree_control")).contains("memory"))
        return make(v2.resolve(unique), "memory.max", limitBytes, true);
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  private static SmallCgroup make(Path dir, String file, long limit, boolean v2) throws IOException {
    Files.createDirectory(dir);
    try {
      Files.writeString(dir.resolve(file), Long.toString(limit));
    } catch (IOException e) {
      Files.deleteIfExists(dir);
      throw e;
    }
    return new SmallCgroup(dir, v2);
  }

  /** A command prefix that moves the process into this group, then runs the command after it. */
  List<String> prefix() {
    return List.of("sh", "-c", "echo $$ > '" + dir.resolve("cgroup.procs") + "' && exec \"$@\"", "sh");
  }

  /** Times the group hit its limit (v1 memory.failcnt; v2 memory.events "max"); -1 if unknown. */
  long limitHits() {
    try {
      if (!v2) return Long.parseLong(Files.readString(dir.resolve("memory.failcnt")).trim());
      for (String line : Files.readAllLines(dir.resolve("memory.events")))
        if (line.startsWith("max ")) return Long.parseLong(line.substring(4).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  @Override
  public void close() throws IOException {
    Files.deleteIfExists(dir);  // the group is empty once its process has ended
  }
}
