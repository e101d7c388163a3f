// glibc symbols that the static libstdc++ and libgcc (linked into the shipped JNI library with
// -static-libstdc++ -static-libgcc) reference at versions newer than our 2.17 baseline, defined
// here so that those references bind inside the library instead of to the build machine's glibc.
// Linked whole (not as an archive scanned before libstdc++.a) into libjniNativeCore.so only; the
// version script keeps every definition here local to it.
//
// NOTE: what each one replaces (Debian 12: GCC 12, glibc 2.36), and who asks for it:
//   __libc_single_threaded (2.32)   libstdc++ headers and objects: "may skip atomics". Always 0
//                                   here: a JVM is never single-threaded, so nothing is lost.
//   pthread_once, __pthread_key_create (2.34: libpthread moved into libc)   libgcc's unwinder and
//                                   libstdc++'s locale init: forwarded to the 2.2.5 versions, which
//                                   glibc < 2.34 has in libpthread.so.0 (a NEEDED of the library).
//   __cxa_thread_atexit_impl (2.18) libsupc++: registers thread_local destructors. glibc's when
//                                   it has one, else a pthread-key list (what libstdc++ itself does
//                                   on such a glibc).
//   _dl_find_object (2.35)          libgcc's unwinder: finds the unwind tables of a code address
//                                   on every frame of a throw. glibc's when it has one, else the
//                                   same answer from dl_iterate_phdr.
//   fstat64 (2.33: stat became real functions; before, __fxstat64 with a version number)
//                                   std::basic_filebuf (std::ifstream of the memory limit's files):
//                                   forwarded to __fxstat64@2.2.5, which every glibc keeps.
//   getentropy (2.25), arc4random (2.36)   std::random_device (random.o, pulled in by libstdc++'s
//                                   string instantiations; we never make one): getrandom(2), or
//                                   /dev/urandom on kernels without it.
// The "glibc's when it has one" lookups happen once, at load time (a constructor), never on a
// hot path; ADJOINT_COMPAT_FALLBACKS=1 in the environment forces the fallbacks (ctest
// test_glibc_shims runs both ways).
#include "glibc_shims.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <new>

#if !defined(ADJOINT_GLIBC_BASE)
#error "glibc_shims.cpp is built for glibc on x86-64 or aarch64 only (glibc_baseline.h is force-included)"
#endif

#define ADJOINT_SHIM extern "C" __attribute__((visibility("hidden")))

// References to the old versions: the assembler binds `adjoint_old_X` to X@<base version>.
#define ADJOINT_OLD(ret, name, params) \
  extern "C" ret adjoint_old_##name params; \
  __asm__(".symver adjoint_old_" #name "," #name "@" ADJOINT_GLIBC_BASE);
ADJOINT_OLD(int, pthread_once, (pthread_once_t*, void (*)(void)))
ADJOINT_OLD(int, pthread_key_create, (pthread_key_t*, void (*)(void*)))
ADJOINT_OLD(void*, pthread_getspecific, (pthread_key_t))
ADJOINT_OLD(int, pthread_setspecific, (pthread_key_t, const void*))
ADJOINT_OLD(int, __fxstat64, (int, int, struct stat64*))
#undef ADJOINT_OLD

// The struct layout version __fxstat64 takes (_STAT_VER, which glibc 2.33+ headers no longer give).
#if defined(__x86_64__)
#define ADJOINT_STAT_VER 1
#else
#define ADJOINT_STAT_VER 0
#endif

namespace {

using ThreadAtexitImpl = int (*)(void (*)(void*), void*, void*);
using FindObject = int (*)(void*, struct dl_find_object*);

ThreadAtexitImpl glibc_thread_atexit_impl = nullptr;
FindObject glibc_find_object = nullptr;
// how often the fallbacks ran (test_glibc_shims checks that the unwinder and thread_local
// registration really come through here)
std::atomic<long> find_object_fallback_count{0}, thread_atexit_fallback_count{0};

// Runs before the library's other static initialisers (priority 101), so a throw or a
// thread_local made during them already sees the result.
__attribute__((constructor(101))) void resolve_glibc_functions() { adjoint::compat::resolve(false); }

}  // namespace

namespace adjoint::compat {

void resolve(bool force_fallbacks) {
  const char* env = getenv("ADJOINT_COMPAT_FALLBACKS");
  if (force_fallbacks || (env != nullptr && strcmp(env, "1") == 0)) {
    glibc_thread_atexit_impl = nullptr;
    glibc_find_object = nullptr;
    return;
  }
  glibc_thread_atexit_impl = reinterpret_cast<ThreadAtexitImpl>(dlsym(RTLD_DEFAULT, "__cxa_thread_atexit_impl"));
  glibc_find_object = reinterpret_cast<FindObject>(dlsym(RTLD_DEFAULT, "_dl_find_object"));
}

bool using_glibc_find_object() { return glibc_find_object != nullptr; }
bool using_glibc_thread_atexit() { return glibc_thread_atexit_impl != nullptr; }
long find_object_fallback_calls() { return find_object_fallback_count.load(std::memory_order_relaxed); }
long thread_atexit_fallback_calls() { return thread_atexit_fallback_count.load(std::memory_order_relaxed); }

// --- _dl_find_object from dl_iterate_phdr ---

namespace {
struct FindState {
  uintptr_t pc;
  struct dl_find_object* out;
  bool found;
  bool first;  // the next object is the first dl_iterate_phdr reports: the main program
};

int find_in_object(struct dl_phdr_info* info, size_t, void* data) {
  auto* st = static_cast<FindState*>(data);
  const bool main_program = st->first;
  st->first = false;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t lo = UINTPTR_MAX, hi = 0, seg_lo = 0, seg_hi = 0, expected = 0;
  bool contains = false, contiguous = true;
  const void* eh_frame = nullptr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD) {
      const uintptr_t end = start + ph.p_memsz;
      if (st->pc >= start && st->pc < end) {
        contains = true;
        seg_lo = start;
        seg_hi = end;
      }
      // as glibc's loader judges the main program: each segment starts on the page after the last
      if (expected != 0 && expected != (start & ~(page - 1))) contiguous = false;
      expected = (end + page - 1) & ~(page - 1);
      if (start < lo) lo = start;
      if (end > hi) hi = end;
    } else if (ph.p_type == PT_GNU_EH_FRAME) {
      eh_frame = reinterpret_cast<const void*>(start);
    }
  }
  if (!contains) return 0;
  memset(st->out, 0, sizeof *st->out);
  // glibc reports the object's whole mapping: its PT_LOAD segments from the lowest page to the end;
  // NOTE: except for a main program whose segments leave gaps (mapped by the kernel, not by
  // ld.so, which would reserve the gaps: an aarch64 executable's 64 KiB-aligned segments on 4 KiB
  // pages), where it reports the segment holding pc (glibc 2.35+ dl-find_object.c,
  // _dlfo_process_initial). The unwinder reads only dlfo_eh_frame; the range is kept equal to
  // glibc's so that test_glibc_shims can compare the two.
  const bool per_segment = main_program && !contiguous;
  st->out->dlfo_map_start = reinterpret_cast<void*>(per_segment ? seg_lo : lo & ~(page - 1));
  st->out->dlfo_map_end = reinterpret_cast<void*>(per_segment ? seg_hi : hi);
  st->out->dlfo_eh_frame = const_cast<void*>(eh_frame);
  // dlfo_link_map stays null: the unwinder does not read it (and dladdr1 would need GLIBC_2.3.3)
  st->found = true;
  return 1;
}
}  // namespace

int find_object_fallback(void* pc, struct dl_find_object* out) {
  FindState st{reinterpret_cast<uintptr_t>(pc), out, false, true};
  dl_iterate_phdr(find_in_object, &st);
  return st.found ? 0 : -1;
}

// --- thread_local destructors on a glibc without __cxa_thread_atexit_impl ---

namespace {
struct DtorNode {
  void (*dtor)(void*);
  void* obj;
  DtorNode* next;
};

pthread_key_t dtor_key;

// Runs a thread's destructors, newest first; one may register more (a thread_local first used in
// another's destructor), so the list is re-read until it stays empty.
void run_thread_dtors(void* head) {
  while (head != nullptr) {
    auto* node = static_cast<DtorNode*>(head);
    adjoint_old_pthread_setspecific(dtor_key, node->next);
    node->dtor(node->obj);
    delete node;
    head = adjoint_old_pthread_getspecific(dtor_key);
  }
}

// The main thread leaves through exit(), which runs no key destructors: an atexit handler does.
void run_main_thread_dtors() { run_thread_dtors(adjoint_old_pthread_getspecific(dtor_key)); }

void make_dtor_key() {
  adjoint_old_pthread_key_create(&dtor_key, run_thread_dtors);
  atexit(run_main_thread_dtors);
}
}  // namespace

int thread_atexit_fallback(void (*dtor)(void*), void* obj) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  adjoint_old_pthread_once(&once, make_dtor_key);
  auto* node = new (std::nothrow) DtorNode{dtor, obj, static_cast<DtorNode*>(adjoint_old_pthread_getspecific(dtor_key))};
  if (node == nullptr) return -1;
  adjoint_old_pthread_setspecific(dtor_key, node);
  return 0;
}

// --- entropy ---

int getentropy_impl(void* buffer, size_t length) {
  if (length > 256) {  // getentropy's documented limit
    errno = EIO;
    return -1;
  }
  auto* p = static_cast<unsigned char*>(buffer);
  size_t done = 0;
  while (done < length) {
    const long n = syscall(SYS_getrandom, p + done, length - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == ENOSYS) {  // kernel < 3.17
      const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      if (fd < 0) return -1;
      while (done < length) {
        const ssize_t r = read(fd, p + done, length - done);
        if (r > 0) {
          done += static_cast<size_t>(r);
        } else if (!(r < 0 && errno == EINTR)) {
          close(fd);
          errno = EIO;
          return -1;
        }
      }
      close(fd);
    } else {
      return -1;
    }
  }
  return 0;
}

}  // namespace adjoint::compat

// --- the glibc names, as the static libstdc++ and libgcc reference them ---

extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

ADJOINT_SHIM int pthread_once(pthread_once_t* once, void (*init)(void)) { return adjoint_old_pthread_once(once, init); }

ADJOINT_SHIM int __pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return adjoint_old_pthread_key_create(key, destructor);
}

ADJOINT_SHIM int __cxa_thread_atexit_impl(void (*dtor)(void*), void* obj, void* dso_symbol) {
  if (glibc_thread_atexit_impl != nullptr) return glibc_thread_atexit_impl(dtor, obj, dso_symbol);
  thread_atexit_fallback_count.fetch_add(1, std::memory_order_relaxed);
  return adjoint::compat::thread_atexit_fallback(dtor, obj);
}

ADJOINT_SHIM int _dl_find_object(void* pc, struct dl_find_object* out) noexcept {
  if (glibc_find_object != nullptr) return glibc_find_object(pc, out);
  find_object_fallback_count.fetch_add(1, std::memory_order_relaxed);
  return adjoint::compat::find_object_fallback(pc, out);
}

ADJOINT_SHIM int fstat64(int fd, struct stat64* buf) noexcept { return adjoint_old___fxstat64(ADJOINT_STAT_VER, fd, buf); }

ADJOINT_SHIM int getentropy(void* buffer, size_t length) { return adjoint::compat::getentropy_impl(buffer, length); }

ADJOINT_SHIM uint32_t arc4random(void) {
  uint32_t v;
  if (adjoint::compat::getentropy_impl(&v, sizeof v) != 0) abort();  // as glibc's: no entropy is fatal
  return v;
}
