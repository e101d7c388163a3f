#!/usr/bin/python3
"""The functorch side of the side-by-side comparison (bench/compare.py): the performance issue's
workloads W1-W11 in functorch (PyTorch 1.13, Debian python3-torch; run with /usr/bin/python3),
timed exactly like the Adjoint side (dev.adjoint.bench.SideBySide), with the same line protocol:

    /usr/bin/python3 bench/functorch_side.py serve THREADS   # worker: one command per stdin line, one JSON line back
        check W | warm W V SECONDS | time W V BUDGET BLOCK [EST] | matmul N REPS | drop W | quit
    /usr/bin/python3 bench/functorch_side.py rss W V CALLS THREADS   # fresh process: peak RSS (VmHWM)
    /usr/bin/python3 bench/functorch_side.py check [W...]            # run every variant once, print fingerprints

Inputs are drawn with torch.manual_seed(0) + torch.randn in the same order as the Java side
(Adjoint's generator reproduces torch's), so both sides compute the same numbers: the
fingerprint sum_i x_i ((i mod 7) - 3) of every result is compared across sides by compare.py.
The result of each timed call is dropped inside the timed region (freed by refcount), as the
Java side closes its Scope.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from functorch import grad, hessian, jacfwd, jacrev, jvp, vjp, vmap

DTYPE = torch.float32


def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


def linear_inputs(din, dout, batch=None):
    torch.manual_seed(0)
    weight = torch.randn(dout, din, dtype=DTYPE)
    bias = torch.randn(dout, dtype=DTYPE)
    x = torch.randn(din, dtype=DTYPE) if batch is None else torch.randn(batch, din, dtype=DTYPE)
    return weight, bias, x


# Each builder returns {variant: zero-argument callable}; pairs of variants that must agree.
def w1():
    d = 16
    weight, bias, x = linear_inputs(d, d)
    unit_vectors = torch.eye(d, dtype=DTYPE)
    xp = x.clone().requires_grad_()

    def compute_jac():  # the functorch tutorial's row-by-row loop: one forward + one vjp per row
        rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0] for vec in unit_vectors]
        return torch.stack(rows)

    jr = jacrev(predict, argnums=2)
    return {"autograd_rowloop": compute_jac, "jacrev": lambda: jr(weight, bias, x)}, [("autograd_rowloop", "jacrev")]


def fwd_vs_rev(din, dout):
    weight, bias, x = linear_inputs(din, dout)
    jf, jr = jacfwd(predict, argnums=2), jacrev(predict, argnums=2)
    return {"jacfwd": lambda: jf(weight, bias, x), "jacrev": lambda: jr(weight, bias, x)}, [("jacfwd", "jacrev")]


def w4():
    weight, bias, x = linear_inputs(512, 32)
    h = hessian(predict, argnums=2)
    ff = jacfwd(jacfwd(predict, argnums=2), argnums=2)
    rr = jacrev(jacrev(predict, argnums=2), argnums=2)
    return ({"hessian": lambda: h(weight, bias, x), "jacfwd_jacfwd": lambda: ff(weight, bias, x),
             "jacrev_jacrev": lambda: rr(weight, bias, x)},
            [("hessian", "jacfwd_jacfwd"), ("hessian", "jacrev_jacrev")])


def w5():
    weight, bias, x = linear_inputs(31, 33, batch=64)
    vj = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
    js = jacrev(lambda w, b, xx: predict(w, b, xx).sum(0), argnums=2)
    return ({"vmap_jacrev": lambda: vj(weight, bias, x),
             "sum_trick_jacrev": lambda: js(weight, bias, x).movedim(1, 0)},
            [("vmap_jacrev", "sum_trick_jacrev")])


def w6():
    weight, bias, x = linear_inputs(31, 33, batch=64)
    vh = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))
    return {"vmap_hessian": lambda: vh(weight, bias, x)}, []


def w7():
    n = 2048
    torch.manual_seed(0)
    x = torch.randn(n, dtype=DTYPE)
    v = torch.randn(n, dtype=DTYPE)

    def f(t):
        return t.sin().sum()

    gf, hf = grad(f), hessian(f)

    def hvp_fwdrev():
        return jvp(gf, (x,), (v,))[1]

    def hvp_revrev():
        _, vjp_fn = vjp(gf, x)
        return vjp_fn(v)[0]

    return ({"jvp_of_grad": hvp_fwdrev, "vjp_of_grad": hvp_revrev, "hessian_matmul_v": lambda: hf(x) @ v},
            [("jvp_of_grad", "vjp_of_grad"), ("jvp_of_grad", "hessian_matmul_v")])


def w8(din, dout):
    weight, bias, x = linear_inputs(din, dout)
    jwb = jacrev(predict, argnums=(0, 1))
    return {"jacrev_argnums01": lambda: jwb(weight, bias, x)}, []


def w10():
    B, din, hid, nout = 64, 784, 128, 10
    torch.manual_seed(0)
    w1_ = torch.randn(hid, din, dtype=DTYPE) / din ** 0.5
    b1_ = torch.zeros(hid, dtype=DTYPE)
    w2_ = torch.randn(nout, hid, dtype=DTYPE) / hid ** 0.5
    b2_ = torch.zeros(nout, dtype=DTYPE)
    X = torch.randn(B, din, dtype=DTYPE)
    T = (torch.arange(B) * 7) % nout      # the same targets as the Java side
    params = (w1_, b1_, w2_, b2_)

    def loss(params, x, t):
        w1, b1, w2, b2 = params
        h = torch.tanh(F.linear(x.unsqueeze(0), w1, b1))
        return F.cross_entropy(F.linear(h, w2, b2), t.unsqueeze(0))

    psg = vmap(grad(loss), in_dims=(None, 0, 0))
    params_rg = tuple(p.detach().clone().requires_grad_() for p in params)

    def loop():
        per = [torch.autograd.grad(loss(params_rg, X[i], T[i]), params_rg) for i in range(B)]
        return tuple(torch.stack(shards) for shards in zip(*per))

    return {"vmap_grad": lambda: psg(params, X, T), "autograd_loop": loop}, [("vmap_grad", "autograd_loop")]


def w11_cnn():
    B = 64
    torch.manual_seed(0)
    w1_, b1_ = torch.randn(16, 1, 3, 3, dtype=DTYPE) / 3.0, torch.zeros(16, dtype=DTYPE)
    w2_, b2_ = torch.randn(32, 16, 3, 3, dtype=DTYPE) / 12.0, torch.zeros(32, dtype=DTYPE)
    wl_, bl_ = torch.randn(10, 32 * 7 * 7, dtype=DTYPE) / (32 * 7 * 7) ** 0.5, torch.zeros(10, dtype=DTYPE)
    X = torch.randn(B, 1, 28, 28, dtype=DTYPE)
    T = (torch.arange(B) * 7) % 10      # the same targets as the Java side
    params = (w1_, b1_, w2_, b2_, wl_, bl_)

    def loss(params, x, t):
        w1, b1, w2, b2, wl, bl = params
        h = F.max_pool2d(F.relu(F.conv2d(x.unsqueeze(0), w1, b1, 1, 1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, 1, 1)), 2)
        return F.cross_entropy(F.linear(h.reshape(1, -1), wl, bl), t.unsqueeze(0))

    psg = vmap(grad(loss), in_dims=(None, 0, 0))
    params_rg = tuple(p.detach().clone().requires_grad_() for p in params)

    def loop():
        per = [torch.autograd.grad(loss(params_rg, X[i], T[i]), params_rg) for i in range(B)]
        return tuple(torch.stack(shards) for shards in zip(*per))

    return {"vmap_grad": lambda: psg(params, X, T), "autograd_loop": loop}, [("vmap_grad", "autograd_loop")]


def w11_conv():
    torch.manual_seed(0)
    x = torch.randn(64, 16, 28, 28, dtype=DTYPE)
    w = torch.randn(32, 16, 3, 3, dtype=DTYPE) / 12.0
    u = torch.randn(64, 32, 28, 28, dtype=DTYPE)

    def fwd_vjp():
        y, vjp_fn = vjp(lambda a, b: F.conv2d(a, b, None, 1, 1), x, w)
        gx, gw = vjp_fn(u)
        return y, gx, gw

    return {"vjp": fwd_vjp}, []


BUILDERS = {
    "W1_jac_D16": w1,
    "W2_jac_Din32_Dout2048": lambda: fwd_vs_rev(32, 2048),
    "W3_jac_Din2048_Dout32": lambda: fwd_vs_rev(2048, 32),
    "W4_hessian_Din512_Dout32": w4,
    "W5_batch_jac_B64_Din31_Dout33": w5,
    "W6_batch_hessian_B64_Din31_Dout33": w6,
    "W7_hvp_sin_sum_n2048": w7,
    "W8_jac_wrt_weight_bias_D16": lambda: w8(16, 16),
    "W8_jac_wrt_weight_bias_Din256_Dout256": lambda: w8(256, 256),
    "W9_square_D16": lambda: fwd_vs_rev(16, 16),
    "W9_square_D64": lambda: fwd_vs_rev(64, 64),
    "W9_square_D256": lambda: fwd_vs_rev(256, 256),
    "W9_square_D1024": lambda: fwd_vs_rev(1024, 1024),
    "W10_per_sample_grad_mlp_B64": w10,
    "W11_per_sample_grad_cnn_B64": w11_cnn,
    "W11_conv2d_fwd_vjp_N64_C16_O32": w11_conv,
}

BUILT = {}


def workload(name):
    if name not in BUILT:
        BUILT[name] = BUILDERS[name]()
    return BUILT[name]


def leaves(out):
    if isinstance(out, torch.Tensor):
        return [out]
    res = []
    for o in out:
        res.extend(leaves(o))
    return res


def check(name):
    t0 = time.perf_counter()
    fns, pairs = workload(name)
    flat, res = {}, {}
    for v, fn in fns.items():
        out = fn()
        x = torch.cat([t.detach().reshape(-1).double() for t in leaves(out)])
        w = (torch.arange(x.numel()) % 7 - 3).double()
        flat[v] = x
        res[v] = {"fingerprint": float((x * w).sum()), "abs_sum": float(x.abs().sum())}
    agree = {}
    for a, b in pairs:
        d = float((flat[a] - flat[b]).abs().max())
        agree["%s~%s" % (a, b)] = d
        scale = max(1.0, float(flat[a].abs().max()))
        if not d <= 1e-4 * scale:
            return {"ok": False, "error": "%s: %s vs %s max|diff| %.3g" % (name, a, b, d)}
    return {"ok": True, "workload": name, "variants": res, "agree_max_abs_diff": agree,
            "check_s": time.perf_counter() - t0}


def warm(name, variant, seconds):
    fn = workload(name)[0][variant]
    t0 = time.perf_counter()
    calls, first = 0, 0.0
    while True:
        fn()
        calls += 1
        if calls == 1:
            first = time.perf_counter() - t0
        if first >= seconds or (calls >= 2 and time.perf_counter() - t0 >= seconds):
            break
    total = time.perf_counter() - t0
    per = (total - first) / (calls - 1) if calls > 1 else first
    return {"ok": True, "calls": calls, "first_s": first, "per_call_s": per}


def time_blocks(name, variant, budget, block, est=0.0):
    fn = workload(name)[0][variant]
    if not est > 0:
        p0 = time.perf_counter()
        fn()
        est = time.perf_counter() - p0
    n = int(max(1, min(1_000_000, round(block / max(est, 1e-9)))))
    times = []
    c0 = time.process_time()
    w0 = time.perf_counter()
    calls = 0
    perf = time.perf_counter
    while True:
        b0 = perf()
        for _ in range(n):
            fn()
        times.append((perf() - b0) / n)
        calls += n
        if perf() - w0 >= budget:
            break
    return {"ok": True, "number_per_block": n, "calls": calls, "wall_s": time.perf_counter() - w0,
            "cpu_s": time.process_time() - c0, "times": times}


def matmul(n, reps):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return {"ok": True, "n": n, "best_s": best, "gflops": 2.0 * n ** 3 / best * 1e-9}


def mapped_blas():
    libs = set()
    with open("/proc/self/maps") as fh:
        for line in fh:
            p = line.split()[-1]
            if any(s in p for s in ("blas", "lapack", "gomp")):
                libs.add(os.path.realpath(p))
    return sorted(libs)


def set_threads(n):
    torch.set_num_threads(n)


def serve(threads):
    set_threads(threads)
    out = sys.stdout
    sys.stdout = sys.stderr          # stray prints must not corrupt the protocol
    out.write(json.dumps({"ready": True, "side": "functorch", "pid": os.getpid(), "torch": torch.__version__,
                          "threads": torch.get_num_threads(), "blas": mapped_blas()}) + "\n")
    out.flush()
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        try:
            if a[0] == "quit":
                break
            elif a[0] == "check":
                r = check(a[1])
            elif a[0] == "warm":
                r = warm(a[1], a[2], float(a[3]))
            elif a[0] == "time":
                r = time_blocks(a[1], a[2], float(a[3]), float(a[4]), float(a[5]) if len(a) > 5 else 0.0)
            elif a[0] == "matmul":
                r = matmul(int(a[1]), int(a[2]))
            elif a[0] == "drop":
                BUILT.pop(a[1], None)
                r = {"ok": True}
            else:
                r = {"ok": False, "error": "unknown command " + a[0]}
        except Exception as e:  # report, keep serving
            r = {"ok": False, "error": repr(e)}
        out.write(json.dumps(r) + "\n")
        out.flush()


def status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def rss(name, variant, calls, threads):
    # VmHWM is per address space and reset by exec, unlike ru_maxrss, which an exec'd child
    # inherits from the process that forked it.
    set_threads(threads)
    fn = workload(name)[0][variant]
    base_hwm, base_rss = status_kb("VmHWM"), status_kb("VmRSS")
    t0 = time.perf_counter()
    out = None
    for _ in range(calls):
        out = None
        out = fn()            # the last result stays alive until the high-water mark is read
    print(json.dumps({"ok": True, "side": "functorch", "workload": name, "variant": variant, "calls": calls,
                      "baseline_VmRSS_kb": base_rss, "baseline_VmHWM_kb": base_hwm,
                      "peak_VmHWM_kb": status_kb("VmHWM"), "seconds": time.perf_counter() - t0}))
    del out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    mode = sys.argv[1]
    if mode == "serve":
        serve(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    elif mode == "rss":
        rss(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    elif mode == "check":
        for n in sys.argv[2:] or list(BUILDERS):
            print(json.dumps(check(n)), flush=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
