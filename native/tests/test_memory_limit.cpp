// The process's memory limit (core/memory_limit.h) read from fake /proc and /sys trees: cgroup v2
// and v1, nested groups whose parent is stricter, containers whose mount root is their own group,
// hybrid setups, "no limit" values, rlimits and ADJOINT_MEMORY_LIMIT. Then the allocator's use of
// it (core/allocator.cpp): the out-of-memory guard with its message, the handler that runs before
// the one retry, and the pressure flag that asks the Java layer for a garbage collection.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "check.h"
#include "core/allocator.h"
#include "core/memory_limit.h"

using namespace adjoint;

namespace {

// A fresh directory tree under /tmp; files are written with their parent directories.
struct FakeRoot {
  std::string dir;
  FakeRoot() {
    char tmpl[] = "/tmp/adjoint_memlimit_XXXXXX";
    const char* d = mkdtemp(tmpl);
    dir = d ? d : "/nonexistent";
  }
  ~FakeRoot() { std::system(("rm -rf '" + dir + "'").c_str()); }
  void write(const std::string& rel, const std::string& text) const {
    std::string path = dir + "/" + rel;
    for (size_t i = dir.size() + 1; i < path.size(); i++)
      if (path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
    std::ofstream(path) << text;
  }
  std::string path(const std::string& rel) const { return dir + "/" + rel; }
};

constexpr int64_t MiB = int64_t(1) << 20, GiB = int64_t(1) << 30;

const char* kV2Mountinfo =
    "22 1 0:21 / / rw,relatime - ext4 /dev/root rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
const char* kV1Mountinfo =
    "22 1 0:21 / / rw,relatime - ext4 /dev/root rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";

MemoryLimitInputs inputs(const FakeRoot& r, int64_t physical = 64 * GiB) {
  MemoryLimitInputs in;
  in.root = r.dir;
  in.physical = physical;
  return in;
}

}  // namespace

TEST(parse_byte_size_reads_plain_and_suffixed_sizes) {
  CHECK(parse_byte_size("1073741824") == GiB);
  CHECK(parse_byte_size("512m") == 512 * MiB);
  CHECK(parse_byte_size("2G") == 2 * GiB);
  CHECK(parse_byte_size("64k") == 64 * 1024);
  CHECK(parse_byte_size(" 3 g ") == 3 * GiB);
  CHECK(parse_byte_size("") == -1);
  CHECK(parse_byte_size("0") == -1);
  CHECK(parse_byte_size("-5m") == -1);
  CHECK(parse_byte_size("12x") == -1);
  CHECK(parse_byte_size("max") == -1);
  CHECK(parse_byte_size("99999999999999999999") == -1);
  CHECK(parse_byte_size("9000000000t") == -1);  // overflows int64 once scaled
}

TEST(cgroup_v2_limit_of_the_process_group) {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/user.slice/app.scope\n");
  r.write("proc/self/mountinfo", kV2Mountinfo);
  r.write("sys/fs/cgroup/user.slice/app.scope/memory.max", "536870912\n");
  r.write("sys/fs/cgroup/user.slice/memory.max", "max\n");
  MemoryLimit l = cgroup_memory_limit(r.dir);
  CHECK(l.bytes == 512 * MiB);
  CHECK(l.source == "cgroup v2 memory.max (" + r.path("sys/fs/cgroup/user.slice/app.scope/memory.max") + ")");
  MemoryLimit d = detect_memory_limit(inputs(r));
  CHECK(d.bytes == 512 * MiB);
  CHECK(d.source == l.source);
}

TEST(cgroup_v2_a_stricter_parent_wins) {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/outer/inner\n");
  r.write("proc/self/mountinfo", kV2Mountinfo);
  r.write("sys/fs/cgroup/outer/inner/memory.max", "max\n");
  r.write("sys/fs/cgroup/outer/memory.max", "268435456\n");
  MemoryLimit l = cgroup_memory_limit(r.dir);
  CHECK(l.bytes == 256 * MiB);
  CHECK(l.source.find("/sys/fs/cgroup/outer/memory.max)") != std::string::npos);
}

TEST(cgroup_v2_unlimited_is_no_limit) {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("proc/self/mountinfo", kV2Mountinfo);
  r.write("sys/fs/cgroup/memory.max", "max\n");
  CHECK(cgroup_memory_limit(r.dir).bytes == -1);
  MemoryLimit d = detect_memory_limit(inputs(r, 8 * GiB));
  CHECK(d.bytes == 8 * GiB);
  CHECK(d.source == "physical memory");
}

TEST(cgroup_v2_in_a_container_namespace) {
  // A container with a cgroup namespace: its group is "/" and the group's directory is mounted at
  // /sys/fs/cgroup itself.
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/\n");
  r.write("proc/self/mountinfo", kV2Mountinfo);
  r.write("sys/fs/cgroup/memory.max", "1073741824\n");
  MemoryLimit l = cgroup_memory_limit(r.dir);
  CHECK(l.bytes == GiB);
  CHECK(l.source == "cgroup v2 memory.max (" + r.path("sys/fs/cgroup/memory.max") + ")");
}

TEST(cgroup_v1_memory_limit_in_bytes) {
  FakeRoot r;
  r.write("proc/self/cgroup", "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
  r.write("proc/self/mountinfo", kV1Mountinfo);
  r.write("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "805306368\n");
  r.write("sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "9223372036854771712\n");
  r.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  MemoryLimit l = cgroup_memory_limit(r.dir);
  CHECK(l.bytes == 768 * MiB);
  CHECK(l.source == "cgroup v1 memory.limit_in_bytes (" + r.path("sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes") + ")");
}

TEST(cgroup_v1_unlimited_and_mount_root_at_the_group) {
  // The page-counter maximum means "no limit".
  {
    FakeRoot r;
    r.write("proc/self/cgroup", "4:memory:/\n");
    r.write("proc/self/mountinfo", kV1Mountinfo);
    r.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK(cgroup_memory_limit(r.dir).bytes == -1);
  }
  // Without a namespace, a container's memory hierarchy may be mounted from its own group
  // (mount root /docker/abc): the group's path, relative to that root, is empty.
  {
    FakeRoot r;
    r.write("proc/self/cgroup", "4:memory:/docker/abc\n");
    r.write("proc/self/mountinfo",
            "22 1 0:21 / / rw - ext4 /dev/root rw\n"
            "34 22 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n");
    r.write("sys/fs/cgroup/memory/memory.limit_in_bytes", "134217728\n");
    MemoryLimit l = cgroup_memory_limit(r.dir);
    CHECK(l.bytes == 128 * MiB);
    CHECK(l.source == "cgroup v1 memory.limit_in_bytes (" + r.path("sys/fs/cgroup/memory/memory.limit_in_bytes") + ")");
  }
}

TEST(cgroup_hybrid_takes_the_least_and_escaped_mount_points) {
  FakeRoot r;
  r.write("proc/self/cgroup", "4:memory:/svc\n0::/svc\n");
  // the v1 memory hierarchy mounted at a path with a space (mountinfo writes it as \040)
  r.write("proc/self/mountinfo",
          "30 22 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
          "34 22 0:31 / /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory\n");
  r.write("sys/fs/cgroup/unified/svc/memory.max", "2147483648\n");
  r.write("sys/fs/cgroup/mem ory/svc/memory.limit_in_bytes", "1073741824\n");
  MemoryLimit l = cgroup_memory_limit(r.dir);
  CHECK(l.bytes == GiB);
  CHECK(l.source.find("cgroup v1 memory.limit_in_bytes") == 0);
  CHECK(l.source.find("/sys/fs/cgroup/mem ory/svc/memory.limit_in_bytes") != std::string::npos);
}

TEST(cgroup_defaults_without_mountinfo_and_nothing_at_all) {
  {
    FakeRoot r;
    r.write("proc/self/cgroup", "0::/job\n");
    r.write("sys/fs/cgroup/job/memory.max", "402653184\n");
    CHECK(cgroup_memory_limit(r.dir).bytes == 384 * MiB);
  }
  {
    FakeRoot r;  // no /proc/self/cgroup: not in any cgroup we can see
    CHECK(cgroup_memory_limit(r.dir).bytes == -1);
    MemoryLimitInputs in = inputs(r, -1);
    MemoryLimit d = detect_memory_limit(in);
    CHECK(d.bytes == INT64_MAX);
    CHECK(d.source == "no limit found");
  }
  {
    FakeRoot r;  // garbage in the files is no limit, not a crash
    r.write("proc/self/cgroup", "garbage\n::\n0::/x\n");
    r.write("proc/self/mountinfo", "short line\n1 2 3 - - -\n");
    r.write("sys/fs/cgroup/x/memory.max", "lots\n");
    CHECK(cgroup_memory_limit(r.dir).bytes == -1);
  }
}

TEST(detect_takes_the_least_of_all_sources) {
  FakeRoot r;
  r.write("proc/self/cgroup", "0::/app\n");
  r.write("proc/self/mountinfo", kV2Mountinfo);
  r.write("sys/fs/cgroup/app/memory.max", "4294967296\n");
  MemoryLimitInputs in = inputs(r, 16 * GiB);
  CHECK(detect_memory_limit(in).bytes == 4 * GiB);
  in.rlimit_data = 3 * GiB;
  CHECK(detect_memory_limit(in).bytes == 3 * GiB);
  CHECK(detect_memory_limit(in).source == "RLIMIT_DATA (ulimit -d)");
  in.rlimit_as = 2 * GiB;
  CHECK(detect_memory_limit(in).source == "RLIMIT_AS (ulimit -v)");
  in.env = "1g";
  CHECK(detect_memory_limit(in).bytes == GiB);
  CHECK(detect_memory_limit(in).source == "ADJOINT_MEMORY_LIMIT=1g");
  in.env = "64g";  // a larger setting does not raise the limit
  CHECK(detect_memory_limit(in).bytes == 2 * GiB);
  in.env = "nonsense";
  CHECK(detect_memory_limit(in).bytes == 2 * GiB);
}

TEST(this_process_has_a_limit_no_larger_than_physical_memory) {
  MemoryLimit l = memory_limit();
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  CHECK(l.bytes > 0);
  CHECK(l.bytes <= int64_t(pages) * size);
  CHECK(!l.source.empty());
  std::printf("  this process: %lld bytes, from %s\n", (long long)l.bytes, l.source.c_str());
}

// ---- the allocator's use of the limit

namespace {
int g_handler_calls = 0;
int64_t g_handler_bytes = 0;
void* g_victim = nullptr;  // a block the handler frees, as the Cleaner would
size_t g_victim_size = 0;
int handler(int64_t nbytes) {
  g_handler_calls++;
  g_handler_bytes = nbytes;
  if (g_victim) host_free(g_victim, g_victim_size);
  g_victim = nullptr;
  return 0;
}

// Restores the detected limit and removes the handler when a test ends.
struct LimitOverride {
  MemoryLimit saved = memory_limit();
  explicit LimitOverride(int64_t bytes) {
    host_empty_cache();
    set_memory_limit(MemoryLimit{held_bytes() + bytes, "a test's limit"});
  }
  ~LimitOverride() {
    set_oom_handler(nullptr);
    set_memory_limit(saved);
    host_empty_cache();
  }
};
}  // namespace

TEST(a_request_over_the_limit_names_bytes_and_source) {
  LimitOverride o(64 * MiB);
  CHECK_THROWS(host_alloc(size_t(128) * MiB, "exp"), ErrorKind::OutOfMemory,
               "exp: cannot allocate 134217728 bytes: more than the process's memory limit of ");
  CHECK_THROWS(host_alloc(size_t(128) * MiB, "exp"), ErrorKind::OutOfMemory, "from a test's limit");
}

TEST(the_guard_counts_what_is_held_and_the_handler_gets_one_retry) {
  LimitOverride o(64 * MiB);
  void* a = host_alloc(size_t(40) * MiB, "test");
  // 40 + 40 MiB would pass the limit: with no handler the allocation fails at once, naming the
  // live bytes and the limit
  CHECK_THROWS(host_alloc(size_t(40) * MiB, "mul"), ErrorKind::OutOfMemory, "mul: cannot allocate 41943040 bytes: native tensors hold ");
  CHECK_THROWS(host_alloc(size_t(40) * MiB, "mul"), ErrorKind::OutOfMemory, "no garbage collection could be asked for here");
  // a handler that frees the first block (as the Cleaner does after a collection): the retry succeeds
  set_oom_handler(handler);
  g_handler_calls = 0;
  g_victim = a;
  g_victim_size = size_t(40) * MiB;
  void* b = host_alloc(size_t(40) * MiB, "mul");
  CHECK(b != nullptr);
  CHECK(g_handler_calls == 1);
  CHECK(g_handler_bytes == 40 * MiB);
  // a handler that frees nothing: one call, then the error says a collection did not help
  g_handler_calls = 0;
  CHECK_THROWS(host_alloc(size_t(40) * MiB, "add"), ErrorKind::OutOfMemory, "still so after a garbage collection");
  CHECK(g_handler_calls == 1);
  // inside a JNI critical region the handler is not called
  {
    NoOomUpcall no;
    g_handler_calls = 0;
    CHECK_THROWS(host_alloc(size_t(40) * MiB, "jvp"), ErrorKind::OutOfMemory, "no garbage collection could be asked for here");
    CHECK(g_handler_calls == 0);
  }
  host_free(b, size_t(40) * MiB);
}

TEST(cached_blocks_are_given_back_before_the_guard_refuses) {
  LimitOverride o(64 * MiB);  // the cache keeps at most an eighth of the limit: 8 MiB and more
  const int64_t held = held_bytes();
  void* a = host_alloc(size_t(6) * MiB, "test");
  host_free(a, size_t(6) * MiB);  // cached: still held (under ASan, which caches nothing: given back)
  void* b = host_alloc(size_t(60) * MiB, "test");  // 6 + 60 MiB would pass the limit; 60 alone does not
  CHECK(b != nullptr);
  CHECK(held_bytes() == held + 60 * MiB);
  host_free(b, size_t(60) * MiB);
}

TEST(net_growth_raises_the_hint_flag) {
  int32_t* flag = gc_hint_flag();
  const int64_t threshold = gc_hint_threshold();
  CHECK(threshold >= 32 * MiB && threshold <= 256 * MiB);
  gc_hint_taken();
  CHECK(*flag == 0);
  // blocks that come and go (a scoped loop) never raise it
  for (int i = 0; i < 200; i++) {
    void* p = host_alloc(size_t(4) * MiB, "test");
    host_free(p, size_t(4) * MiB);
  }
  CHECK(*flag == 0);
  CHECK(gc_hint_pressure() < 8 * MiB);
  // net growth does, once it reaches the threshold
  std::vector<void*> kept;
  while (int64_t(kept.size()) * 4 * MiB < threshold - 8 * MiB) kept.push_back(host_alloc(size_t(4) * MiB, "test"));
  CHECK(*flag == 0);
  for (int i = 0; i < 4; i++) kept.push_back(host_alloc(size_t(4) * MiB, "test"));
  CHECK(*flag == 1);
  CHECK(gc_hint_pressure() >= threshold);
  gc_hint_taken();
  CHECK(*flag == 0);
  CHECK(gc_hint_pressure() == 0);
  // what is freed after the hint holds the count at 0, not below: the next growth counts in full
  for (void* p : kept) host_free(p, size_t(4) * MiB);
  CHECK(gc_hint_pressure() == 0);
  host_empty_cache();
}

TEST(small_tensors_count_by_their_objects) {
  // tensor objects count once they come from the system: past the thread's free list of 1024
  gc_hint_taken();
  std::vector<void*> objs;
  for (int i = 0; i < 16384; i++) objs.push_back(tensor_impl_alloc(312));
  CHECK(gc_hint_pressure() >= (16384 - 1024) * kTensorObjectBytes - MiB);
  CHECK(gc_hint_pressure() <= 16384 * kTensorObjectBytes);
  for (void* p : objs) tensor_impl_free(p, 312);
  CHECK(gc_hint_pressure() <= 2 * MiB);  // what the free list took back
  gc_hint_taken();
  // made and dropped through the free list (an op's tensors in a scope): nothing counted
  for (int i = 0; i < 100000; i++) tensor_impl_free(tensor_impl_alloc(312), 312);
  CHECK(gc_hint_pressure() == 0);
}

int main() { return check::run_all(); }
