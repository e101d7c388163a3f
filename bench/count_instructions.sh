#!/usr/bin/env bash
# Instructions per call of one workload variant on the main thread, under callgrind: deterministic
# to ~0.01% between runs (-Xbatch: compiles are synchronous, and the compiler threads are counted
# apart), where timings on a shared 2-core machine move by 5-40%. Two runs, WARM calls then 0 or N
# more; the difference divided by N is the steady state (JIT code included; the per-method split
# comes from the JVM's perf map).
#   bench/count_instructions.sh CLASSPATH WORKLOAD VARIANT [WARM=5000] [N=5000]
# CLASSPATH: the bench classes, an adjoint jar (or classes) with its natives jar, and JavaCPP/OpenBLAS
# (e.g. `mvn -f bench/pom.xml dependency:build-classpath` plus bench/target/classes).
# NOTE: each run extracts the natives into a JavaCPP cache of its own: with a shared one, one run
# unpacks and the other does not, and that difference lands in the per-call figure.
# NOTE: --vex-iropt-register-updates=allregs-at-mem-access is required: the JVM's safepoint polls
# and implicit null checks are SIGSEGVs it handles by pc, which valgrind otherwise reports imprecisely.
set -euo pipefail
CP=$1; W=$2; V=$3; WARM=${4:-5000}; N=${5:-5000}
out=$(mktemp -d)
run() {
  OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --smc-check=all \
    --vex-iropt-register-updates=allregs-at-mem-access --separate-threads=yes \
    --callgrind-out-file="$out/$1/cg" java -Xbatch -Dorg.bytedeco.javacpp.cachedir="$out/$1/javacpp" -cp "$CP" dev.adjoint.bench.Count "$W" "$V" "$WARM" "$2" \
    > "$out/$1.log" 2>&1
}
mkdir -p "$out/a" "$out/b"
run a 0 & run b "$N" & wait
main() { grep -m1 '^summary' "$out/$1/cg-02" | awk '{print $2}'; }  # thread 2: the JVM's main thread
a=$(main a); b=$(main b)
echo "$W $V: $(( (b - a) / N )) instructions per call on the main thread (callgrind, $N calls after $WARM)"
