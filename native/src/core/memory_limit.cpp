#include "core/memory_limit.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace adjoint {
namespace {

constexpr int64_t kUnlimited = INT64_MAX;
// cgroup v1 reports "no limit" as the largest page-aligned counter value (9223372036854771712 on
// 4 KiB pages); anything this large is no limit.
constexpr int64_t kV1NoLimit = int64_t(1) << 62;

bool read_first_line(const std::string& path, std::string* line) {
  std::ifstream f(path);
  return f && std::getline(f, *line);
}

// A non-negative decimal, the whole of s (after trailing whitespace); -1 otherwise.
int64_t parse_decimal(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (s.empty() || s.size() > 19) return -1;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo (octal).
std::string unescape_octal(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 2])) && std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
      r += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      r += s[i];
    }
  }
  return r;
}

std::string join(const std::string& a, const std::string& b) {
  if (b.empty()) return a;
  if (!a.empty() && a.back() == '/' && b.front() == '/') return a + b.substr(1);
  if (!a.empty() && a.back() != '/' && b.front() != '/') return a + "/" + b;
  return a + b;
}

struct Mount {
  std::string root, point;  // the mount's root within its hierarchy, and where it is mounted
  bool found = false;
};

// The cgroup2 mount (v2) or the cgroup mount carrying the memory controller (v1).
Mount find_mount(const std::string& root, bool v2) {
  std::ifstream f(join(root, "proc/self/mountinfo"));
  for (std::string line; f && std::getline(f, line);) {
    std::istringstream ss(line);
    std::vector<std::string> fields;
    for (std::string w; ss >> w;) fields.push_back(w);
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") dash++;
    if (dash < 6 || dash + 3 > fields.size()) continue;  // not a mountinfo line we understand
    const std::string& fstype = fields[dash + 1];
    bool match = false;
    if (v2) {
      match = fstype == "cgroup2";
    } else if (fstype == "cgroup") {
      std::istringstream opts(fields[dash + 3]);
      for (std::string o; std::getline(opts, o, ',');) match |= o == "memory";
    }
    if (match) return Mount{unescape_octal(fields[3]), unescape_octal(fields[4]), true};
  }
  // No mountinfo (or no entry): the usual places.
  return Mount{"/", v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", false};
}

// The process's path in the v2 hierarchy ("0::/path") or in the v1 memory hierarchy ("N:...memory...:/path").
bool cgroup_path(const std::string& root, bool v2, std::string* path) {
  std::ifstream f(join(root, "proc/self/cgroup"));
  for (std::string line; f && std::getline(f, line);) {
    size_t c1 = line.find(':');
    if (c1 == std::string::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string id = line.substr(0, c1), controllers = line.substr(c1 + 1, c2 - c1 - 1);
    bool match = false;
    if (v2) {
      match = id == "0" && controllers.empty();
    } else {
      std::istringstream cs(controllers);
      for (std::string c; std::getline(cs, c, ',');) match |= c == "memory";
    }
    if (match) {
      *path = line.substr(c2 + 1);  // the rest: a path may hold ':'
      return true;
    }
  }
  return false;
}

// NOTE: the limit that applies to a cgroup is the least of its own and its ancestors' (a parent's
// memory.max caps its children), so the walk goes from the process's group up to the root of the
// mounted hierarchy. The group's directory is the mount point plus the group's path relative to
// the mount's root (inside a container with a cgroup namespace, /proc/self/cgroup says "/" and
// the mount root is "/"; without one, the mount root may be the container's own group, which the
// path then starts with).
MemoryLimit cgroup_limit(const std::string& root, bool v2) {
  MemoryLimit none{-1, ""};
  std::string path;
  if (!cgroup_path(root, v2, &path)) return none;
  Mount m = find_mount(root, v2);
  std::string rel;
  if (m.root == "/") rel = path;
  else if (path.compare(0, m.root.size(), m.root) == 0 && (path.size() == m.root.size() || path[m.root.size()] == '/'))
    rel = path.substr(m.root.size());
  // else: the process's group is outside what is mounted here; the mount point is the nearest we can see
  const std::string base = join(root, m.point);
  std::string dir = join(base, rel);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const char* file = v2 ? "memory.max" : "memory.limit_in_bytes";
  MemoryLimit best = none;
  for (;;) {
    const std::string f = join(dir, file);
    std::string line;
    if (read_first_line(f, &line)) {
      int64_t v = parse_decimal(line);  // v2 "max" is not a number: no limit
      if (v >= 0 && !(!v2 && v >= kV1NoLimit) && (best.bytes < 0 || v < best.bytes))
        best = MemoryLimit{v, std::string(v2 ? "cgroup v2 memory.max (" : "cgroup v1 memory.limit_in_bytes (") + f + ")"};
    }
    if (dir.size() <= base.size()) break;
    size_t slash = dir.rfind('/');
    dir = slash == std::string::npos || slash < base.size() ? base : dir.substr(0, slash);
  }
  return best;
}

}  // namespace

int64_t parse_byte_size(const std::string& text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  if (s.empty()) return -1;
  int shift = 0;
  switch (std::tolower(static_cast<unsigned char>(s.back()))) {
    case 'k': shift = 10; break;
    case 'm': shift = 20; break;
    case 'g': shift = 30; break;
    case 't': shift = 40; break;
    default: break;
  }
  if (shift) s.pop_back();
  int64_t v = parse_decimal(s);
  if (v <= 0 || v > (kUnlimited >> shift)) return -1;
  return v << shift;
}

MemoryLimit cgroup_memory_limit(const std::string& root) {
  MemoryLimit v2 = cgroup_limit(root, true), v1 = cgroup_limit(root, false);
  if (v2.bytes < 0) return v1;
  if (v1.bytes < 0) return v2;
  return v1.bytes < v2.bytes ? v1 : v2;  // a hybrid setup may show both
}

MemoryLimitInputs system_memory_limit_inputs() {
  MemoryLimitInputs in;
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  in.physical = pages > 0 && size > 0 ? int64_t(pages) * int64_t(size) : -1;
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < uint64_t(kUnlimited)) in.rlimit_as = int64_t(rl.rlim_cur);
  if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < uint64_t(kUnlimited)) in.rlimit_data = int64_t(rl.rlim_cur);
  if (const char* e = std::getenv("ADJOINT_MEMORY_LIMIT")) in.env = e;
  return in;
}

MemoryLimit detect_memory_limit(const MemoryLimitInputs& in) {
  MemoryLimit best{kUnlimited, "no limit found"};
  auto take = [&](int64_t v, const std::string& source) {
    if (v > 0 && v < best.bytes) best = MemoryLimit{v, source};
  };
  take(in.physical, "physical memory");
  MemoryLimit cg = cgroup_memory_limit(in.root);
  take(cg.bytes, cg.source);
  take(in.rlimit_as, "RLIMIT_AS (ulimit -v)");
  take(in.rlimit_data, "RLIMIT_DATA (ulimit -d)");
  if (!in.env.empty()) {
    int64_t v = parse_byte_size(in.env);
    take(v, "ADJOINT_MEMORY_LIMIT=" + in.env);
  }
  return best;
}

}  // namespace adjoint
