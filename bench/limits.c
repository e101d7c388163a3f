// The machine's limits for bench/compare.py, measured in the same run as the workloads:
//   limits sgemm N THREADS REPS   best GFLOP/s of an N x N x N cblas_sgemm (the OpenBLAS Adjoint links)
//   limits write MIB THREADS REPS best GB/s writing non-zero data to a MIB-MiB buffer touched beforehand: the better
//                                 of memset (non-temporal stores for large sizes) and a plain
//                                 vectorised store loop (stays in cache when the buffer fits)
// One JSON line on stdout. Build: see bench/compare.sh.
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

struct part { char* p; size_t n; int val; int loop; };

static void* fill(void* a) {
  struct part* s = a;
  if (s->loop) {
    float* f = (float*)s->p;
    float v = (float)s->val;
    size_t n = s->n / sizeof(float);
    for (size_t i = 0; i < n; i++) f[i] = v;
  } else {
    memset(s->p, s->val, s->n);
  }
  return NULL;
}

// memset of the whole buffer split over `threads` threads; returns seconds.
static double fill_all(char* buf, size_t bytes, int threads, int val, int loop) {
  pthread_t th[64];
  struct part parts[64];
  size_t chunk = (bytes / threads) & ~(size_t)4095;
  double t0 = now();
  for (int i = 0; i < threads; i++) {
    parts[i].p = buf + i * chunk;
    parts[i].n = i == threads - 1 ? bytes - i * chunk : chunk;
    parts[i].val = val;
    parts[i].loop = loop;
    if (i > 0) pthread_create(&th[i], NULL, fill, &parts[i]);
  }
  fill(&parts[0]);
  for (int i = 1; i < threads; i++) pthread_join(th[i], NULL);
  return now() - t0;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: limits sgemm N THREADS REPS | limits write MIB THREADS REPS\n");
    return 2;
  }
  long n = atol(argv[2]);
  int threads = atoi(argv[3]), reps = atoi(argv[4]);
  if (threads < 1 || threads > 64) threads = 1;
  if (strcmp(argv[1], "sgemm") == 0) {
    openblas_set_num_threads(threads);
    float* a = malloc(sizeof(float) * n * n);
    float* b = malloc(sizeof(float) * n * n);
    float* c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < n * n; i++) { a[i] = (float)((i * 7) % 13) / 13.0f; b[i] = (float)((i * 5) % 11) / 11.0f; c[i] = 0; }
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, a, (int)n, b, (int)n, 0.0f, c, (int)n);
      double t = now() - t0;
      if (r > 0 && t < best) best = t;  // the first call warms up (thread start, page faults)
    }
    printf("{\"what\":\"sgemm\",\"n\":%ld,\"threads\":%d,\"best_s\":%.9g,\"gflops\":%.6g}\n", n, threads, best, 2.0 * n * n * n / best * 1e-9);
    free(a); free(b); free(c);
  } else if (strcmp(argv[1], "write") == 0) {
    size_t bytes = (size_t)n << 20;
    char* buf = aligned_alloc(4096, bytes);
    fill_all(buf, bytes, threads, 1, 0);  // touch every page first: no page faults in the timed fills
    double best_memset = 1e30, best_loop = 1e30;
    // NOTE: never zeros: this machine writes zero-filled lines to memory about twice as fast as
    // any other data (rep stosb of 0 over 256 MiB: ~95 GB/s, of 0x5a: ~43 GB/s), and a computed
    // output is not zeros, so a zero fill would overstate the bandwidth an output can get.
    for (int r = 0; r < reps; r++) {
      const int val = 1 + r % 0x7e;
      double t = fill_all(buf, bytes, threads, val, 0);
      if (t < best_memset) best_memset = t;
      t = fill_all(buf, bytes, threads, val, 1);
      if (t < best_loop) best_loop = t;
    }
    volatile char sink = buf[bytes / 3];
    (void)sink;
    double best = best_memset < best_loop ? best_memset : best_loop;
    printf("{\"what\":\"write\",\"mib\":%ld,\"threads\":%d,\"memset_gbps\":%.6g,\"store_loop_gbps\":%.6g,\"gbps\":%.6g}\n",
           n, threads, bytes / best_memset * 1e-9, bytes / best_loop * 1e-9, bytes / best * 1e-9);
    free(buf);
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  return 0;
}
