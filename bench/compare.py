#!/usr/bin/python3
"""Adjoint vs functorch, side by side, in one run: the performance issue's workloads W1-W11.

Run through bench/compare.sh (it builds, sets up functorch's BLAS and the environment, then calls
this). This script imports no torch itself; it drives four long-lived worker processes:

    Adjoint   t=1: java dev.adjoint.bench.SideBySide serve     (OPENBLAS_NUM_THREADS=1)
    Adjoint   t=2: the same                                    (OPENBLAS_NUM_THREADS=2)
    functorch t=1: /usr/bin/python3 bench/functorch_side.py serve 1   (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1)
    functorch t=2: the same with 2

Method (after the functorch peer's, bench README in shared/):
  * every workload is checked first on all four workers: each Adjoint worker against closed-form
    references (Workloads.java), each side's variants against each other, and the two sides
    against each other (inputs are the same random draws, so the fingerprint
    sum_i x_i ((i mod 7) - 3) of every result must agree to 1e-6 of sum_i |x_i|);
  * every variant is warmed up on all four workers (--warm s, at least 2 calls);
  * then --reps repetitions; in each, for t = 1 and 2, Adjoint and functorch are measured one
    after the other (the order alternates), each for --budget s of blocks of n calls (n so that
    a block lasts ~--block s); a variant slower than --slow-s per call gets --slow-reps single
    calls instead. The result of each call is released inside the timed region on both sides;
  * a calibration probe (a fixed pure-Python loop, min of 3) runs before each measurement; when
    it is more than --calib-max x the fastest probe seen (a slow phase of this shared VM) the
    script waits and probes again (up to 3 times), and a measurement whose after-probe is
    disturbed is taken again once; the mean probe ratio is reported per row;
  * median per call = median over all blocks of all repetitions (each block's mean per call);
  * peak RSS: W4 and W6 in fresh processes, 1 thread, 2 calls, last result alive: VmHWM from
    /proc/self/status (per address space, reset by exec) plus the child's ru_maxrss from wait4;
  * the limits, measured after the checks and again at the end (the better of both counts):
    this machine's sgemm GFLOP/s (bench/limits.c: cblas_sgemm 1024^3 on the OpenBLAS Adjoint
    links; Adjoint's and torch's own 1024^3 matmul; the best of the three) and its memory write
    bandwidth (bench/limits.c: filling a pre-touched buffer with non-zero data, the better of memset
    and a vectorised store loop; zero fills are written about twice as fast here) at memory_mib()
    (at least 4x the last-level cache, STREAM's rule, so it measures memory and not a cache: the
    issue's "memory write bandwidth") and, for reference, at the size
    of each output-bound workload's output (rounded up to MiB: what fits in the cache is written
    faster), with 1 and 2 threads; the limit of a row with t threads is the best measured with at
    most t threads.

Fraction of the limit, per workload (counted in Workloads.java, next to each workload):
  FLOPS        W1, W2, W3, W5, W9: FLOPs of the inherent computation = one forward (2 Dout Din)
               + min(Din, Dout) Jacobian-vector or vector-Jacobian products of 2 Dout Din each
               (the cheaper mode; times B for W5), divided by the time, vs sgemm GFLOP/s at the
               same thread count. W11: the CNN's forward and backward per image (times B), the
               conv layer's three products (forward, input and weight gradient).
  WRITE_BYTES  W4, W6, W8, W10 (and W7): bytes of the float32 output per call (W4 4 Dout Din^2,
               W6 4 B Dout Din^2, W8 4 Dout^2 (Din+1), W10 4 B x #parameters, W7 4 n), divided
               by the time, vs the memory write bandwidth; also (column "at size") vs the write
               bandwidth measured at that output size, which for outputs that fit in the
               last-level cache is the cache's, up to twice the memory's.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOADS = [
    ("W1_jac_D16", ["autograd_rowloop", "jacrev"]),
    ("W2_jac_Din32_Dout2048", ["jacfwd", "jacrev"]),
    ("W3_jac_Din2048_Dout32", ["jacfwd", "jacrev"]),
    ("W4_hessian_Din512_Dout32", ["hessian", "jacfwd_jacfwd", "jacrev_jacrev"]),
    ("W5_batch_jac_B64_Din31_Dout33", ["vmap_jacrev", "sum_trick_jacrev"]),
    ("W6_batch_hessian_B64_Din31_Dout33", ["vmap_hessian"]),
    ("W7_hvp_sin_sum_n2048", ["jvp_of_grad", "vjp_of_grad", "hessian_matmul_v"]),
    ("W8_jac_wrt_weight_bias_D16", ["jacrev_argnums01"]),
    ("W8_jac_wrt_weight_bias_Din256_Dout256", ["jacrev_argnums01"]),
    ("W9_square_D16", ["jacfwd", "jacrev"]),
    ("W9_square_D64", ["jacfwd", "jacrev"]),
    ("W9_square_D256", ["jacfwd", "jacrev"]),
    ("W9_square_D1024", ["jacfwd", "jacrev"]),
    ("W10_per_sample_grad_mlp_B64", ["vmap_grad", "autograd_loop"]),
    ("W11_per_sample_grad_cnn_B64", ["vmap_grad", "autograd_loop"]),
    ("W11_conv2d_fwd_vjp_N64_C16_O32", ["vjp"]),
]

# The targets: functorch time / Adjoint time at least this, per workload.
TARGETS = {
    "W1_jac_D16": 20, "W5_batch_jac_B64_Din31_Dout33": 20, "W7_hvp_sin_sum_n2048": 20,
    "W8_jac_wrt_weight_bias_D16": 20, "W4_hessian_Din512_Dout32": 10,
    "W2_jac_Din32_Dout2048": 5, "W3_jac_Din2048_Dout32": 5, "W6_batch_hessian_B64_Din31_Dout33": 5,
    "W9_square_D256": 2, "W9_square_D1024": 2, "W11_per_sample_grad_cnn_B64": 5,
}

# The limit targets: fraction of the workload's limit (memory write bandwidth, or sgemm
# GFLOP/s for the FLOP-bound conv layer), 1 thread (its best variant).
LIMIT_TARGETS = {"W4_hessian_Din512_Dout32": 0.30, "W6_batch_hessian_B64_Din31_Dout33": 0.30,
                 "W10_per_sample_grad_mlp_B64": 0.50, "W11_conv2d_fwd_vjp_N64_C16_O32": 0.50}

RSS_TARGETS = [("W4_hessian_Din512_Dout32", "hessian"), ("W4_hessian_Din512_Dout32", "jacfwd_jacfwd"),
               ("W4_hessian_Din512_Dout32", "jacrev_jacrev"), ("W6_batch_hessian_B64_Din31_Dout33", "vmap_hessian")]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- workers
class Worker:
    def __init__(self, side, threads, cmd, env, logdir):
        self.side, self.threads = side, threads
        self.err = open(os.path.join(logdir, "%s_t%d.stderr.log" % (side, threads)), "w")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
                                  env=env, text=True, bufsize=1)
        self.hello = self._read()
        if not self.hello.get("ready"):
            raise RuntimeError("%s t=%d did not start: %s" % (side, threads, self.hello))

    def _read(self):
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("%s t=%d exited (see its stderr log)" % (self.side, self.threads))
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)

    def cmd(self, *args):
        self.p.stdin.write(" ".join(str(a) for a in args) + "\n")
        self.p.stdin.flush()
        r = self._read()
        if not r.get("ok", True):
            raise RuntimeError("%s t=%d %s: %s" % (self.side, self.threads, args, r.get("error")))
        return r

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)
        except Exception:
            self.p.kill()
        self.err.close()


# --------------------------------------------------------------------------- measurement helpers
CAL = {"best": float("inf")}


def probe():
    """Machine-state probe: min of 3 runs of a fixed pure-Python loop (~1 ms), in us."""
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        acc = 0
        for i in range(30000):
            acc += i
        best = min(best, time.perf_counter() - t)
    us = best * 1e6
    CAL["best"] = min(CAL["best"], us)
    return us


def settle(calib_max, quiet):
    """Probe the machine; while it is in a slow phase (probe > calib_max x the fastest) or other
    processes keep more than quiet["max_busy"] CPUs busy, wait (at most quiet["max_wait_s"] per
    measurement and quiet["budget_s"] in all). Returns (probe us, other processes' busy CPUs)."""
    waited = 0.0
    while True:
        c = probe()
        b0 = proc_stat_busy()
        time.sleep(0.1)
        busy = (proc_stat_busy() - b0) / 0.1
        ok = c <= calib_max * CAL["best"] and busy <= quiet["max_busy"]
        if ok or waited >= quiet["max_wait_s"] or quiet["budget_s"] <= 0:
            return c, busy
        time.sleep(0.5)
        waited += 0.6
        quiet["budget_s"] -= 0.6
        quiet["waited_s"] += 0.6


def proc_stat_busy():
    with open("/proc/stat") as fh:
        v = [int(a) for a in fh.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


def measure(worker, wname, vname, budget, block, est, calib_max, slow, quiet):
    best = None
    for attempt in range(1 if slow else 2):
        c0, busy_before = settle(calib_max, quiet)
        busy0 = proc_stat_busy()
        r = worker.cmd("time", wname, vname, "%.6f" % budget, "%.6f" % block, "%.9g" % est)
        busy = proc_stat_busy() - busy0
        c1 = probe()
        r["calib"] = max(c0, c1) / CAL["best"]
        # CPU time of other processes during the measurement, in CPUs (tick resolution: coarse)
        r["foreign_cpus"] = max(0.0, busy - r["cpu_s"]) / max(r["wall_s"], 1e-9)
        r["foreign_cpus_before"] = busy_before
        r["attempts"] = attempt + 1
        disturbed = r["calib"] > calib_max * 1.05 or (r["wall_s"] >= 0.2 and r["foreign_cpus"] > quiet["max_busy"])
        key = (disturbed, r["calib"] + r["foreign_cpus"])
        if best is None or key < best_key:
            best, best_key = r, key
        if not disturbed:
            break
    return best


def quantile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = p * (len(xs) - 1)
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt_t(s):
    if s != s:
        return "n/a"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    return "%.1f us" % (s * 1e6)


def fmt_ratio(x):
    if x != x:
        return "n/a"
    return "%.1fx" % x if x < 100 else "%.0fx" % x


def fmt_pct(x):
    if x != x:
        return "n/a"
    return "%.2f%%" % (100 * x) if x < 0.1 else "%.1f%%" % (100 * x)


# --------------------------------------------------------------------------- limits
def memory_mib():
    """Buffer size (MiB) for the memory write bandwidth: at least 4x the last-level cache (STREAM's
    rule for arrays), at least 256."""
    llc = 32
    for idx in (3, 2):
        try:
            with open("/sys/devices/system/cpu/cpu0/cache/index%d/size" % idx) as fh:
                v = fh.read().strip()
            llc = int(v[:-1]) // (1024 if v.endswith("K") else 1) if v[-1] in "KM" else int(v) // 2 ** 20
            break
        except (OSError, ValueError):
            continue
    return max(256, 4 * llc)


def write_sizes_mib(works):
    """Buffer sizes (MiB) at which write bandwidth is measured: each output size rounded up, >= 1,
    and memory_mib()."""
    return sorted({max(1, -(-int(w["amount"]) // 2 ** 20)) for w in works.values() if w["limit"] == "WRITE_BYTES"}
                  | {memory_mib()})


def limits(limits_bin, adj_workers, ft_workers, threads, sizes):
    out = {}

    def run(*a):
        return json.loads(subprocess.run([limits_bin] + [str(x) for x in a], capture_output=True, text=True,
                                         check=True).stdout)
    for t in threads:
        out["sgemm_c_t%d" % t] = max(run("sgemm", 1024, t, 20)["gflops"], run("sgemm", 1024, t, 20)["gflops"])
        out["sgemm_adjoint_t%d" % t] = adj_workers[t].cmd("matmul", 1024, 20)["gflops"]
        out["sgemm_torch_t%d" % t] = ft_workers[t].cmd("matmul", 1024, 20)["gflops"]
        for mib in sizes:
            out["write_gbps_%dmib_t%d" % (mib, t)] = run("write", mib, t, 40 if mib <= 64 else 10)["gbps"]
    return out


# --------------------------------------------------------------------------- rss
def rss_run_wait4(cmd, env):
    """Runs cmd as a child and returns (its JSON line, its ru_maxrss in KiB from wait4)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        os.dup2(wfd, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            os.execve(cmd[0], cmd, env)
        finally:
            os._exit(127)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    _, status, ru = os.wait4(pid, 0)
    if status != 0:
        raise RuntimeError("rss run failed (status %d): %s" % (status, " ".join(cmd)))
    text = b"".join(chunks).decode()
    line = [l for l in text.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    r["wait4_ru_maxrss_kb"] = ru.ru_maxrss
    return r


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short smoke run (a few minutes)")
    ap.add_argument("--only", nargs="*", default=None, help="workload name prefixes, e.g. W1 W9_square_D256")
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--budget", type=float, default=None, help="seconds per measurement")
    ap.add_argument("--block", type=float, default=None, help="target seconds per timed block")
    ap.add_argument("--warm", type=float, default=None, help="warm-up seconds per variant and functorch worker")
    ap.add_argument("--java-warm", type=float, default=None,
                    help="warm-up seconds per variant and Adjoint worker (the JIT compiles the Java glue; default 1, quick 0.3)")
    ap.add_argument("--slow-s", type=float, default=1.0, help="variants slower than this per call get single calls")
    ap.add_argument("--slow-reps", type=int, default=None)
    ap.add_argument("--calib-max", type=float, default=1.3)
    ap.add_argument("--max-busy", type=float, default=0.3,
                    help="wait before a measurement while other processes keep more CPUs than this busy")
    ap.add_argument("--max-wait", type=float, default=5.0, help="at most this many seconds of waiting per measurement")
    ap.add_argument("--wait-budget", type=float, default=None, help="seconds of waiting in all (default 240, quick 30)")
    ap.add_argument("--jit-warm", type=float, default=None, help="seconds of JIT warm-up per Adjoint worker at start")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--render", metavar="JSON", help="only print the table of an earlier run's compare-*.json")
    ap.add_argument("--java", default=os.environ.get("ADJ_JAVA", "java"))
    ap.add_argument("--classpath", default=os.environ.get("ADJ_BENCH_CP"), help="the bench classpath (compare.sh sets it)")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--limits-bin", default=os.path.join(HERE, "target", "limits"))
    ap.add_argument("--out-dir", default=os.path.join(HERE, "target"))
    args = ap.parse_args()
    if args.render:
        with open(args.render) as fh:
            print(render(json.load(fh)))
        return
    q = args.quick
    reps = args.reps or (2 if q else 5)
    budget = args.budget or (0.08 if q else 0.3)
    block = args.block or (0.01 if q else 0.02)
    warm = args.warm or (0.1 if q else 0.3)
    java_warm = args.java_warm or (0.3 if q else 1.0)
    slow_reps = args.slow_reps or (1 if q else 2)
    quiet = {"max_busy": args.max_busy, "max_wait_s": args.max_wait, "waited_s": 0.0,
             "budget_s": args.wait_budget if args.wait_budget is not None else (30.0 if q else 240.0)}
    jit_warm = args.jit_warm if args.jit_warm is not None else (1.0 if q else 3.0)
    workloads = WORKLOADS
    if args.only:
        workloads = [(w, v) for w, v in WORKLOADS if any(w.startswith(p) for p in args.only)]
    if not args.classpath:
        ap.error("--classpath (or ADJ_BENCH_CP) is required; run through bench/compare.sh")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = os.path.join(args.out_dir, "compare-logs-" + stamp)
    os.makedirs(logdir, exist_ok=True)
    t_start = time.time()

    base_env = dict(os.environ)

    def env_for(t):
        e = dict(base_env)
        e["OPENBLAS_NUM_THREADS"] = str(t)
        e["OMP_NUM_THREADS"] = str(t)
        return e

    java = shutil.which(args.java) or args.java
    java_cmd = [java] + os.environ.get("ADJ_JAVA_OPTS", "").split() + ["-cp", args.classpath, "dev.adjoint.bench.SideBySide"]
    py_cmd = [args.python, os.path.join(HERE, "functorch_side.py")]
    log("starting workers ...")
    adj = {t: Worker("adjoint", t, java_cmd + ["serve"], env_for(t), logdir) for t in args.threads}
    ft = {t: Worker("functorch", t, py_cmd + ["serve", str(t)], env_for(t), logdir) for t in args.threads}
    for _ in range(20):
        probe()
    log("calibration probe: %.0f us; torch %s, BLAS %s" % (CAL["best"], ft[args.threads[0]].hello.get("torch"),
                                                            ft[args.threads[0]].hello.get("blas")))

    # -------- JIT warm-up of the Adjoint workers (the Java glue reaches steady state)
    for t in args.threads:
        for w, v in (("W1_jac_D16", "jacrev"), ("W1_jac_D16", "autograd_rowloop"), ("W7_hvp_sin_sum_n2048", "jvp_of_grad")):
            adj[t].cmd("warm", w, v, jit_warm / 3)
            adj[t].cmd("drop", w)

    # -------- checks (every worker; fingerprints compared across sides)
    checks, works = {}, {}
    for wname, variants in workloads:
        cres = {}
        for t in args.threads:
            cres[("adjoint", t)] = adj[t].cmd("check", wname)
            cres[("functorch", t)] = ft[t].cmd("check", wname)
        a0 = cres[("adjoint", args.threads[0])]
        works[wname] = a0["work"]
        cross = {}
        for v in variants:
            fa = a0["variants"][v]
            worst = 0.0
            for key, r in cres.items():
                fv = r["variants"][v]
                worst = max(worst, abs(fv["fingerprint"] - fa["fingerprint"]) / max(fa["abs_sum"], 1e-30))
            cross[v] = {"max_rel_fingerprint_diff": worst, "ok": worst <= 1e-6,
                        "adjoint_max_err_vs_reference": fa["max_err_vs_reference"]}
            if worst > 1e-6:
                log("  MISMATCH %s/%s: fingerprints differ across sides (rel %.3g)" % (wname, v, worst))
        checks[wname] = cross
        log("%s: checked (Adjoint vs closed form, variants vs each other, Adjoint vs functorch: %s)"
            % (wname, "ok" if all(c["ok"] for c in cross.values()) else "MISMATCH"))

    sizes = write_sizes_mib(works)
    lim_start = limits(args.limits_bin, adj, ft, args.threads, sizes)
    log("limits (start):", json.dumps(lim_start))

    # -------- timing, interleaved
    rows = []
    for wname, variants in workloads:
        for v in variants:
            # warm-up on all four workers
            est = {}
            for t in args.threads:
                est[("adjoint", t)] = adj[t].cmd("warm", wname, v, java_warm)["per_call_s"]
                est[("functorch", t)] = ft[t].cmd("warm", wname, v, warm)["per_call_s"]
            slow = max(est.values()) > args.slow_s
            n_reps = slow_reps if slow else reps
            parts = {k: [] for k in est}
            for rep in range(n_reps):
                for t in args.threads:
                    order = [("adjoint", adj[t]), ("functorch", ft[t])]
                    if (rep + t) % 2:
                        order.reverse()
                    for side, wk in order:
                        k = (side, t)
                        sb = est[k] > args.slow_s
                        r = measure(wk, wname, v, 0.0 if sb else budget, block, est[k], args.calib_max, sb, quiet)
                        parts[k].append(r)
                        est[k] = quantile(r["times"], 0.5)
            for t in args.threads:
                row = {"workload": wname, "variant": v, "threads": t}
                for side in ("adjoint", "functorch"):
                    ps = parts[(side, t)]
                    ts = [x for p in ps for x in p["times"]]
                    row[side] = {"median_s": quantile(ts, 0.5), "min_s": min(ts), "p25_s": quantile(ts, 0.25),
                                 "p75_s": quantile(ts, 0.75), "rep_medians_s": [quantile(p["times"], 0.5) for p in ps],
                                 "blocks": len(ts), "calls": sum(p["calls"] for p in ps),
                                 "calib": sum(p["calib"] for p in ps) / len(ps),
                                 "foreign_cpus": sum(p["foreign_cpus"] for p in ps) / len(ps),
                                 "attempts": [p["attempts"] for p in ps],
                                 "cpu_per_wall": sum(p["cpu_s"] for p in ps) / max(sum(p["wall_s"] for p in ps), 1e-9),
                                 "gc_ms": sum(p.get("gc_ms", 0) for p in ps)}
                row["ratio"] = row["functorch"]["median_s"] / row["adjoint"]["median_s"]
                rows.append(row)
                log("  %-38s %-17s t=%d  Adjoint %10s  functorch %10s  ratio %7s  calib %.2f/%.2f  other CPUs %.2f/%.2f"
                    % (wname, v, t, fmt_t(row["adjoint"]["median_s"]), fmt_t(row["functorch"]["median_s"]),
                       fmt_ratio(row["ratio"]), row["adjoint"]["calib"], row["functorch"]["calib"],
                       row["adjoint"]["foreign_cpus"], row["functorch"]["foreign_cpus"]))
        for t in args.threads:
            adj[t].cmd("drop", wname)
            ft[t].cmd("drop", wname)

    lim_end = limits(args.limits_bin, adj, ft, args.threads, sizes)
    log("limits (end):", json.dumps(lim_end))
    lim = {k: max(lim_start[k], lim_end[k]) for k in lim_start}
    # The limit at t threads: the best measured with at most t threads (a program allowed two
    # threads can always use one); sgemm: the best of the C program, Adjoint's and torch's matmul.
    for t in args.threads:
        ts = [u for u in args.threads if u <= t]
        lim["sgemm_t%d" % t] = max(lim["sgemm_%s_t%d" % (k, u)] for k in ("c", "adjoint", "torch") for u in ts)
        for m in sizes:
            lim["write_limit_%dmib_t%d" % (m, t)] = max(lim["write_gbps_%dmib_t%d" % (m, u)] for u in ts)
    hello = {"adjoint": adj[args.threads[0]].hello, "functorch": ft[args.threads[0]].hello}
    for w in list(adj.values()) + list(ft.values()):
        w.close()

    # -------- fractions of the limits
    for row in rows:
        wk = works[row["workload"]]
        t = row["threads"]
        if wk["limit"] == "FLOPS":
            peak = lim["sgemm_t%d" % t] * 1e9
            row["limit"] = "sgemm"
        else:
            # NOTE: the limit is the memory write bandwidth: measured over a buffer of at
            # least 4x the last-level cache. The bandwidth at the output's own size (a cache's, for
            # outputs that fit) is reported beside it as "at size", never instead of it.
            peak = lim["write_limit_%dmib_t%d" % (max(sizes), t)] * 1e9
            row["limit"] = "memory write"
            mib = min(m for m in sizes if m * 2 ** 20 >= wk["amount"])
            row["at_size"] = "%d MiB" % mib
            for side in ("adjoint", "functorch"):
                row[side]["fraction_at_size"] = wk["amount"] / row[side]["median_s"] / (lim["write_limit_%dmib_t%d" % (mib, t)] * 1e9)
        for side in ("adjoint", "functorch"):
            row[side]["fraction_of_limit"] = wk["amount"] / row[side]["median_s"] / peak

    # -------- peak RSS in fresh processes
    rss = []
    if not args.no_rss:
        targets = [x for x in RSS_TARGETS if any(x[0] == w for w, _ in workloads)]
        if q:
            targets = [x for x in targets if x[1] != "jacrev_jacrev"]
        for wname, v in targets:
            e = env_for(1)
            ra = rss_run_wait4(java_cmd + ["rss", wname, v, "2"], e)
            rf = rss_run_wait4(py_cmd + ["rss", wname, v, "2", "1"], e)
            rss.append({"workload": wname, "variant": v, "adjoint": ra, "functorch": rf})
            log("RSS %s/%s: Adjoint peak %.0f MiB, functorch peak %.0f MiB"
                % (wname, v, ra["peak_VmHWM_kb"] / 1024, rf["peak_VmHWM_kb"] / 1024))

    total = time.time() - t_start
    info = machine_info(hello, lim)
    settings = {"reps": reps, "budget_s": budget, "block_s": block, "warm_s": warm, "java_warm_s": java_warm, "slow_s": args.slow_s,
                "slow_reps": slow_reps, "calib_max": args.calib_max, "threads": args.threads, "quick": q,
                "calibration_best_us": CAL["best"], "quiet": quiet, "jit_warm_s": jit_warm, "write_sizes_mib": sizes}
    result = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": info, "settings": settings,
              "limits_start": lim_start, "limits_end": lim_end, "limits": lim, "works": works, "checks": checks,
              "rows": rows, "rss": rss, "total_s": total}
    jpath = os.path.join(args.out_dir, "compare-%s.json" % stamp)
    with open(jpath, "w") as fh:
        json.dump(result, fh, indent=1)
    md = render(result)
    mpath = os.path.join(args.out_dir, "compare-latest.md")
    with open(mpath, "w") as fh:
        fh.write(md)
    print(md)
    log("wrote %s and %s (%.0f s)" % (jpath, mpath, total))


def machine_info(hello, lim):
    def first(path, key):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"
    try:
        jv = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    except Exception:
        jv = "?"
    return {"cpu": first("/proc/cpuinfo", "model name"), "cpu_family": first("/proc/cpuinfo", "cpu family"),
            "cpu_model": first("/proc/cpuinfo", "model\t"), "nproc": os.cpu_count(),
            "mem": first("/proc/meminfo", "MemTotal"), "kernel": platform.release(), "java": jv,
            "torch": hello["functorch"].get("torch"), "torch_blas": hello["functorch"].get("blas"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
            "GLIBC_TUNABLES": os.environ.get("GLIBC_TUNABLES", ""),
            "adjoint_commit": os.environ.get("ADJ_COMMIT", "?")}


def render(r):
    m, lim, s = r["machine"], r["limits"], r["settings"]
    L = []
    L.append("## Adjoint vs functorch, %s%s" % (r["date"], " (quick mode)" if s["quick"] else ""))
    L.append("")
    L.append("Machine: %s (family %s), %d CPUs, %s RAM, Linux %s; %s; torch %s (functorch); Adjoint commit %s."
             % (m["cpu"], m["cpu_family"], m["nproc"], m["mem"], m["kernel"], m["java"], m["torch"], m["adjoint_commit"]))
    L.append("functorch BLAS: %s; OPENBLAS_CORETYPE=%s; GLIBC_TUNABLES=%s (both sides)."
             % (", ".join(os.path.basename(b) for b in m["torch_blas"]) or "?", m["OPENBLAS_CORETYPE"] or "(unset)",
                m["GLIBC_TUNABLES"] or "(unset)"))
    L.append("Method: %d interleaved repetitions x %.2f s per (variant, threads, side), blocks of ~%.0f ms, "
             "warm-up %.1f s (Adjoint: %.1f s, for the JIT); variants slower than %.1f s per call: %d single calls; %.0f s spent waiting for a quiet "
             "machine. Total %.0f s."
             % (s["reps"], s["budget_s"], s["block_s"] * 1e3, s["warm_s"], s["java_warm_s"], s["slow_s"], s["slow_reps"],
                s["quiet"]["waited_s"], r["total_s"]))
    L.append("")
    L.append("Limits (best of the start and the end of the run). sgemm: 1024^3 float32, GFLOP/s; the limit used is the "
             "best of the three. Write: GB/s filling a pre-touched buffer of that size with non-zero data (best of memset and a "
             "vectorised store loop); the memory write bandwidth (the limit of output-bound workloads) is the one at %d MiB, at least "
             "4x the last-level cache; smaller sizes are in cache for the most part (the \"at size\" column compares each "
             "output with the smallest size that holds it)." % max(s["write_sizes_mib"]))
    L.append("")
    L.append("| threads | sgemm: C on Adjoint's OpenBLAS | Adjoint matmul | torch matmul | %s |"
             % " | ".join("write %d MiB" % m for m in s["write_sizes_mib"]))
    L.append("|---:|---:|---:|---:|%s" % ("---:|" * len(s["write_sizes_mib"])))
    for t in s["threads"]:
        L.append("| %d | %.0f | %.0f | %.0f | %s |"
                 % (t, lim["sgemm_c_t%d" % t], lim["sgemm_adjoint_t%d" % t], lim["sgemm_torch_t%d" % t],
                    " | ".join("%.0f" % lim["write_gbps_%dmib_t%d" % (m, t)] for m in s["write_sizes_mib"])))
    L.append("")
    L.append("Median time per call; ratio = functorch / Adjoint (> 1: Adjoint faster); limit = achieved fraction of "
             "the sgemm GFLOP/s (FLOPs of the inherent computation / time) or of the memory write bandwidth (bytes of "
             "output / time), the best measured with at most the row's threads; at size = the same bytes / time as a "
             "fraction of the write bandwidth at the output's size (A/F); calib = machine-state "
             "probe during the row's measurements / fastest probe (1.0 = quiet); other CPUs = CPUs kept busy by other processes "
             "during the row's measurements (A/F, tick resolution; this 2-CPU machine is shared). Checked: %s."
             % ("all results match the closed-form references and functorch's" if all(
                 c["ok"] for cs in r["checks"].values() for c in cs.values()) else "MISMATCHES, see json"))
    L.append("")
    L.append("| workload | variant | thr | Adjoint | functorch | ratio | limit | Adjoint % of limit | functorch % of limit | at size A/F | calib A/F | other CPUs A/F | CPU/wall A/F |")
    L.append("|---|---|---:|---:|---:|---:|---|---:|---:|---|---|---|---|")
    for row in sorted(r["rows"], key=lambda x: (x["threads"], [w for w, _ in WORKLOADS].index(x["workload"]))):
        at = ("%s: %s / %s" % (row["at_size"], fmt_pct(row["adjoint"]["fraction_at_size"]), fmt_pct(row["functorch"]["fraction_at_size"]))
              if "at_size" in row else "")
        L.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %.2f/%.2f | %.2f/%.2f | %.2f/%.2f |"
                 % (row["workload"], row["variant"], row["threads"], fmt_t(row["adjoint"]["median_s"]),
                    fmt_t(row["functorch"]["median_s"]), fmt_ratio(row["ratio"]), row["limit"],
                    fmt_pct(row["adjoint"]["fraction_of_limit"]), fmt_pct(row["functorch"]["fraction_of_limit"]), at,
                    row["adjoint"]["calib"], row["functorch"]["calib"], row["adjoint"]["foreign_cpus"],
                    row["functorch"]["foreign_cpus"], row["adjoint"]["cpu_per_wall"], row["functorch"]["cpu_per_wall"]))
    L.append("")
    L.append("FLOPs are those of the textbook mode (a forward plus min(Din, Dout) Jacobian-vector or vector-Jacobian "
             "products); a FLOP fraction above 100% means the implementation does less arithmetic than that, e.g. "
             "Adjoint's one-hot basis turns the basis products into gathers. CPU/wall = CPU time of the worker / wall "
             "time of its measurements (1.0 for one busy thread; well below 1 when other processes share the CPUs).")
    L.append("")
    L.append("Targets of the issue (ratio = functorch / Adjoint). worst = smallest same-variant ratio over variants and "
             "thread counts; best-vs-best = functorch's fastest variant / Adjoint's fastest variant, at the thread count "
             "where that is smallest.")
    L.append("")
    L.append("| workload | target | worst same-variant ratio | best-vs-best | met? |")
    L.append("|---|---:|---:|---:|---|")
    names = []
    for row in r["rows"]:
        if row["workload"] not in names:
            names.append(row["workload"])
    for w in names:
        rs = [x for x in r["rows"] if x["workload"] == w]
        worst = min(x["ratio"] for x in rs)
        bvb = min(min(x["functorch"]["median_s"] for x in rs if x["threads"] == t) /
                  min(x["adjoint"]["median_s"] for x in rs if x["threads"] == t)
                  for t in sorted({x["threads"] for x in rs}))
        tgt = TARGETS.get(w, 1)
        verdict = "yes" if worst >= tgt else ("best-vs-best only" if bvb >= tgt else "NO")
        if worst < 1:
            verdict += " (Adjoint slower on a variant)"
        L.append("| %s | %s | %s | %s | %s |" % (w, ("%dx" % tgt) if w in TARGETS else "never slower",
                                                fmt_ratio(worst), fmt_ratio(bvb), verdict))
    lrows = [x for x in r["rows"] if x["workload"] in LIMIT_TARGETS and x["threads"] == min(s["threads"])]
    if lrows:
        L.append("")
        L.append("Limit targets of the issue (%d thread; fraction of the memory write bandwidth, or of sgemm GFLOP/s for the "
                 "conv layer; met when the workload's best variant reaches it; at size in brackets):" % min(s["threads"]))
        L.append("")
        L.append("| workload | target | per variant: Adjoint % of limit (at size) | met? |")
        L.append("|---|---:|---|---|")
        for w in [w for w, _ in WORKLOADS if w in LIMIT_TARGETS]:
            ws = [x for x in lrows if x["workload"] == w]
            if not ws:
                continue
            best = max(x["adjoint"]["fraction_of_limit"] for x in ws)
            L.append("| %s | %.0f%% | %s | %s |" % (w, 100 * LIMIT_TARGETS[w], "; ".join(
                "%s %s (%s)" % (x["variant"], fmt_pct(x["adjoint"]["fraction_of_limit"]),
                                fmt_pct(x["adjoint"]["fraction_at_size"]) if "fraction_at_size" in x["adjoint"] else x["limit"])
                for x in ws), "yes" if best >= LIMIT_TARGETS[w] else "NO"))
    if r["rss"]:
        L.append("")
        L.append("Peak RSS, fresh process each, 1 thread, 2 calls, last result alive (VmHWM; baseline = after building "
                 "the inputs; ru_maxrss from wait4 in brackets):")
        L.append("")
        L.append("| workload | variant | Adjoint peak (baseline) | functorch peak (baseline) | Adjoint <= functorch? |")
        L.append("|---|---|---:|---:|---|")
        for x in r["rss"]:
            a, f = x["adjoint"], x["functorch"]
            L.append("| %s | %s | %.0f MiB (%.0f) [%.0f] | %.0f MiB (%.0f) [%.0f] | %s |"
                     % (x["workload"], x["variant"], a["peak_VmHWM_kb"] / 1024, a["baseline_VmHWM_kb"] / 1024,
                        a["wait4_ru_maxrss_kb"] / 1024, f["peak_VmHWM_kb"] / 1024, f["baseline_VmHWM_kb"] / 1024,
                        f["wait4_ru_maxrss_kb"] / 1024, "yes" if a["peak_VmHWM_kb"] <= f["peak_VmHWM_kb"] else "NO"))
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
