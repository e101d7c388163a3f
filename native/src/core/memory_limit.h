// The memory limit this process runs under, and where it comes from: the least of the machine's
// physical memory, the memory limit of the process's cgroup (v2 memory.max, v1
// memory.limit_in_bytes, of its own group and of every group above it), RLIMIT_AS, RLIMIT_DATA and
// the ADJOINT_MEMORY_LIMIT environment variable. The allocator's out-of-memory guard and its
// garbage-collection hints are sized from it (allocator.cpp).
#pragma once
#include <cstdint>
#include <string>

namespace adjoint {

struct MemoryLimit {
  int64_t bytes;       // INT64_MAX when nothing limits the process (no source at all)
  std::string source;  // e.g. "cgroup v2 memory.max (/sys/fs/cgroup/app/memory.max)"
};

// What the detection reads from the system; tests pass a fake root directory and figures.
struct MemoryLimitInputs {
  std::string root = "/";       // prefix of the /proc and /sys paths read
  int64_t physical = -1;        // physical memory in bytes; -1: unknown
  int64_t rlimit_as = -1;       // RLIMIT_AS soft limit in bytes; -1: unlimited
  int64_t rlimit_data = -1;     // RLIMIT_DATA soft limit in bytes; -1: unlimited
  std::string env;              // the value of ADJOINT_MEMORY_LIMIT; empty: unset
};

// This process's inputs: root "/", sysconf, getrlimit and the environment.
MemoryLimitInputs system_memory_limit_inputs();

// The least of the limits in `in` (cgroup files read under in.root).
MemoryLimit detect_memory_limit(const MemoryLimitInputs& in);

// The cgroup part alone: the least memory limit of the process's cgroup and its ancestors, v2 or
// v1, found through root/proc/self/cgroup and root/proc/self/mountinfo. bytes = -1 when no
// cgroup limits memory.
MemoryLimit cgroup_memory_limit(const std::string& root);

// "1073741824", "512m", "2G", "64k" (powers of 1024) -> bytes; -1 if malformed or not positive.
int64_t parse_byte_size(const std::string& s);

}  // namespace adjoint
