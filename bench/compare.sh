#!/bin/bash
# Adjoint vs functorch side by side on the performance issue's workloads W1-W11: one table with
# the median time per call of each, the ratio, the fraction of this machine's limits (sgemm
# GFLOP/s, memory write bandwidth) and peak RSS for W4 and W6.
#
#   bash bench/compare.sh            # full run, 10-15 min on 2 cores (plus the build)
#   bash bench/compare.sh --quick    # smoke run, about 3 min
#   bash bench/compare.sh --only W1 W9_square_D256 --threads 1   # any bench/compare.py option
#
# It builds (mvn install -DskipTests; SKIP_BUILD=1 skips), compiles bench/limits.c against the
# OpenBLAS Adjoint links, gives functorch its best setup (SKIP_SETUP=1 skips the system changes):
#   * Debian's python3-torch 1.13 (/usr/bin/python3) links libblas.so.3, by default the netlib
#     reference BLAS (~9 GFLOP/s): libopenblas0-pthread is installed and the libblas.so.3
#     alternative pointed at it (OpenBLAS 0.3.21, ~15-30x faster sgemm);
#   * glibc malloc keeps freed blocks (mmap_threshold 32 MiB, no trimming), so functorch's large
#     temporaries do not page-fault on every call (the peer's tunables; set for both sides);
#   * OPENBLAS_CORETYPE: this VM's environment says Haswell; on a CPU with AVX-512 the SkylakeX
#     kernels are probed too and the faster one is used, for both sides (BENCH_CORETYPE=NAME forces
#     one, BENCH_CORETYPE=inherit keeps the environment's);
# and writes bench/target/compare-latest.md (the table, also printed) and compare-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=/usr/bin/python3
log() { echo "[compare] $*" >&2; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building (mvn -B -q install -DskipTests) ..."
  mvn -B -q install -DskipTests >&2
fi
mkdir -p bench/target/cp
mvn -B -q -f bench/pom.xml dependency:build-classpath -Dmdep.outputFile="$ROOT/bench/target/classpath.txt" >&2
# Adjoint's jars from this checkout (not ~/.m2, which other checkouts may overwrite during the run),
# and a private JavaCPP cache for their native libraries.
cp java/target/adjoint-*.jar bench/target/cp/
CP="$ROOT/bench/target/classes"
for j in $(tr ':' ' ' < bench/target/classpath.txt); do
  case "$(basename "$j")" in
    adjoint-*.jar) CP="$CP:$ROOT/bench/target/cp/$(basename "$j")" ;;
    *) CP="$CP:$j" ;;
  esac
done
export ADJ_BENCH_CP="$CP"
export ADJ_JAVA_OPTS="-Dorg.bytedeco.javacpp.cachedir=$ROOT/bench/target/javacpp-cache ${ADJ_JAVA_OPTS:-}"
changed=$(git status --porcelain 2>/dev/null | awk '{print $2}' | cut -d/ -f1 | sort -u | tr '\n' ' ')
export ADJ_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')${changed:+ (uncommitted changes in: ${changed% })}"

OB="$ROOT/java/target/openblas/org/bytedeco/openblas/linux-x86_64"
gcc -O3 -march=native -o bench/target/limits bench/limits.c -I"$OB/include" "$OB/libopenblas.so.0" -Wl,-rpath,"$OB" -lpthread

OB_DEB=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ "${SKIP_SETUP:-0}" != 1 ]; then
  need=""
  $PY -c "import torch, functorch" 2>/dev/null || need="python3-torch"
  [ -e "$OB_DEB" ] || need="$need libopenblas0-pthread"
  if [ -n "$need" ]; then
    log "installing $need ..."
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get install -y -q $need >&2 || { $SUDO apt-get update -q >&2 && $SUDO apt-get install -y -q $need >&2; }
  fi
  if [ -e "$OB_DEB" ]; then
    if [ "$(id -u)" = 0 ]; then
      update-alternatives --set libblas.so.3-x86_64-linux-gnu "$OB_DEB" >&2
    else
      sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "$OB_DEB" >&2 || log "WARNING: could not select OpenBLAS for torch"
    fi
  fi
fi
log "libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"

export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=68719476736

# OpenBLAS core type: the faster of the environment's and SkylakeX (AVX-512 CPUs only), by sgemm.
CT="${BENCH_CORETYPE:-auto}"
if [ "$CT" = auto ]; then
  CT=inherit
  if grep -q -w avx512f /proc/cpuinfo && [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ]; then
    gf() { $PY -c 'import json,sys; print(max(json.loads(l)["gflops"] for l in sys.stdin))'; }
    a=$( (bench/target/limits sgemm 1024 1 5; bench/target/limits sgemm 1024 1 5) | gf)
    b=$( (OPENBLAS_CORETYPE=SkylakeX bench/target/limits sgemm 1024 1 5; OPENBLAS_CORETYPE=SkylakeX bench/target/limits sgemm 1024 1 5) | gf)
    log "sgemm 1 thread: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} $a GFLOP/s, SkylakeX $b GFLOP/s"
    if $PY -c "import sys; sys.exit(0 if $b > 1.1 * $a else 1)"; then CT=SkylakeX; fi
  fi
fi
if [ "$CT" != inherit ]; then export OPENBLAS_CORETYPE="$CT"; fi
log "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"

exec $PY bench/compare.py "$@"
