// ctest for glibc_shims.cpp, run twice: as linked (glibc's own functions where it has them) and
// with ADJOINT_COMPAT_FALLBACKS=1 (the fallbacks an old glibc gets). Linked like the JNI library
// (shims whole, static libstdc++ and libgcc), so the throws and thread_locals below go through
// the shims: the unwinder calls our _dl_find_object, thread_local registration our
// __cxa_thread_atexit_impl.
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "glibc_shims.h"

namespace {

int failures = 0;
#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      printf("  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                       \
    }                                                                   \
  } while (0)

bool fallbacks_requested() {
  const char* env = getenv("ADJOINT_COMPAT_FALLBACKS");
  return env != nullptr && strcmp(env, "1") == 0;
}

// The mode is the one asked for: the shims answer from glibc, or from the fallbacks.
void test_mode() {
  const bool fallback = fallbacks_requested();
  CHECK(adjoint::compat::using_glibc_find_object() == !fallback);
  CHECK(adjoint::compat::using_glibc_thread_atexit() == !fallback);
}

// The fallback finds the same object, mapping and unwind tables as glibc's own _dl_find_object.
void test_find_object_matches_glibc() {
  using FindObject = int (*)(void*, struct dl_find_object*);
  auto glibc = reinterpret_cast<FindObject>(dlsym(RTLD_DEFAULT, "_dl_find_object"));
  if (glibc == nullptr) {
    printf("  (glibc < 2.35 here: no _dl_find_object to compare with)\n");
    return;
  }
  int stack_value = 0;
  std::vector<void*> addresses = {
      reinterpret_cast<void*>(&test_find_object_matches_glibc),  // this executable
      dlsym(RTLD_DEFAULT, "printf"),                             // libc
      dlsym(RTLD_DEFAULT, "cos"),                                // libm
      reinterpret_cast<void*>(&failures),                        // this executable's data
      &stack_value,                                              // in no object
  };
  for (void* pc : addresses) {
    struct dl_find_object a, b;
    memset(&a, 0x5a, sizeof a);
    memset(&b, 0x5a, sizeof b);
    const int ra = glibc(pc, &a), rb = adjoint::compat::find_object_fallback(pc, &b);
    CHECK(ra == rb);
    if (ra != 0 || rb != 0) continue;
    CHECK(a.dlfo_map_start == b.dlfo_map_start);
    CHECK(a.dlfo_map_end == b.dlfo_map_end);
    CHECK(a.dlfo_eh_frame == b.dlfo_eh_frame);
    CHECK(b.dlfo_eh_frame != nullptr);
  }
}

[[gnu::noinline]] void throw_from_depth(int depth) {
  if (depth == 0) throw std::runtime_error("deep");
  throw_from_depth(depth - 1);
  asm volatile("");  // not a tail call: every level is a frame to unwind
}

// Exceptions unwind through several frames and this executable's tables.
void test_exceptions_unwind() {
  int caught = 0;
  for (int i = 0; i < 100; i++) {
    try {
      throw_from_depth(i % 10);
    } catch (const std::runtime_error& e) {
      caught += strcmp(e.what(), "deep") == 0;
    }
  }
  CHECK(caught == 100);
  // the unwinder asked our _dl_find_object: through the fallback in that mode, never otherwise
  const long calls = adjoint::compat::find_object_fallback_calls();
  CHECK(fallbacks_requested() ? calls >= 100 : calls == 0);
  try {
    try {
      throw std::invalid_argument("inner");
    } catch (const std::invalid_argument&) {
      throw std::out_of_range("rethrown");
    }
  } catch (const std::out_of_range& e) {
    CHECK(strcmp(e.what(), "rethrown") == 0);
  }
}

std::atomic<int> destroyed{0};
std::atomic<int> order_ok{0};
thread_local int construction_step = 0;

struct Tracked {
  int step;
  explicit Tracked(int s) : step(s) {}
  ~Tracked() {
    // destructors run newest first: the later one sees the higher step
    if (step == construction_step) order_ok++;
    construction_step--;
    destroyed++;
  }
};

struct MadeInDestructor {
  ~MadeInDestructor() { destroyed++; }
};

struct MakesAnotherInDestructor {
  ~MakesAnotherInDestructor() {
    thread_local MadeInDestructor late;  // first used while the thread's destructors run
    (void)&late;
    destroyed++;
  }
};

void touch_thread_locals() {
  thread_local Tracked first(++construction_step);
  thread_local Tracked second(++construction_step);
  thread_local MakesAnotherInDestructor maker;
  (void)&first;
  (void)&second;
  (void)&maker;
}

// thread_local destructors run at thread exit, newest first, including one first used by another
// destructor.
void test_thread_local_destructors() {
  destroyed = 0;
  order_ok = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) threads.emplace_back(touch_thread_locals);
  for (auto& t : threads) t.join();
  CHECK(destroyed == 4 * 4);
  CHECK(order_ok == 4 * 2);
  const long calls = adjoint::compat::thread_atexit_fallback_calls();
  CHECK(fallbacks_requested() ? calls >= 4 * 4 : calls == 0);
}

// The main thread's thread_locals are destroyed at exit() (a forked child checks).
void test_main_thread_destructor_at_exit() {
  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(stdout);  // or the child prints the buffered lines again
  const pid_t pid = fork();
  if (pid == 0) {
    struct WritesOnExit {
      int fd;
      ~WritesOnExit() { (void)!write(fd, "x", 1); }
    };
    thread_local WritesOnExit w{fds[1]};
    (void)&w;
    close(fds[0]);
    exit(0);
  }
  close(fds[1]);
  char c = 0;
  const ssize_t n = read(fds[0], &c, 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(n == 1 && c == 'x');
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// fstat64 (our shim over __fxstat64, as std::ifstream reaches it) reports a file as the kernel does.
void test_fstat64() {
  char path[] = "/tmp/adjoint_shims_XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  char data[123] = {0};
  CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
  struct stat64 st;
  memset(&st, 0, sizeof st);
  CHECK(fstat64(fd, &st) == 0);
  CHECK(st.st_size == 123 && S_ISREG(st.st_mode) && st.st_nlink == 1);
  struct stat64 bad;
  errno = 0;
  CHECK(fstat64(-1, &bad) == -1 && errno == EBADF);
  close(fd);
  unlink(path);
}

void test_entropy() {
  unsigned char a[256], b[256];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  CHECK(adjoint::compat::getentropy_impl(a, sizeof a) == 0);
  CHECK(adjoint::compat::getentropy_impl(b, sizeof b) == 0);
  CHECK(memcmp(a, b, sizeof a) != 0);
  int nonzero = 0;
  for (unsigned char v : a) nonzero += v != 0;
  CHECK(nonzero > 200);  // 256 random bytes: about 255 nonzero
  errno = 0;
  CHECK(adjoint::compat::getentropy_impl(a, 257) == -1 && errno == EIO);
  // the name the static libstdc++'s std::random_device calls
  uint32_t r0 = arc4random(), r1 = arc4random(), r2 = arc4random();
  CHECK(!(r0 == r1 && r1 == r2));
}

}  // namespace

int main() {
  printf("glibc shims, %s\n", fallbacks_requested() ? "fallbacks (as on glibc < 2.18 / 2.35)" : "glibc's own where present");
  struct Test {
    const char* name;
    void (*fn)();
  } tests[] = {
      {"mode", test_mode},
      {"find_object_matches_glibc", test_find_object_matches_glibc},
      {"exceptions_unwind", test_exceptions_unwind},
      {"thread_local_destructors", test_thread_local_destructors},
      {"main_thread_destructor_at_exit", test_main_thread_destructor_at_exit},
      {"fstat64", test_fstat64},
      {"entropy", test_entropy},
  };
  int failed = 0;
  for (const Test& t : tests) {
    const int before = failures;
    try {
      t.fn();
    } catch (const std::exception& e) {
      printf("  unexpected exception: %s\n", e.what());
      failures++;
    }
    const bool ok = failures == before;
    failed += !ok;
    printf("[%s] %s\n", ok ? " OK " : "FAIL", t.name);
  }
  printf("%d passed, %d failed\n", int(sizeof tests / sizeof tests[0]) - failed, failed);
  return failed ? 1 : 0;
}
