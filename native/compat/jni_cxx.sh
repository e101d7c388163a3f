#!/usr/bin/env bash
# The C++ compiler JavaCPP runs for the JNI glue (java/pom.xml, platform.compiler): puts the JNI
# functions of each generated jni*.cpp in name order, then runs g++ with JavaCPP's arguments.
#
# NOTE: reproducible natives need this. JavaCPP writes one function per native method in the order
# Class.getDeclaredMethods() returns them, which HotSpot does not fix (it varies from one JVM run
# to the next), and the order of the functions is the order of the code in the library. Each
# function is a block from its "JNIEXPORT ... Java_..." line to the next line that is "}"; the
# blocks are contiguous, and everything before the first and after the last stays in place.
set -euo pipefail
for arg in "$@"; do
  case "$arg" in
    */jni*.cpp)
      tmp="$arg.sorted"
      # key each line: A = before the first block, B<header> = a block's lines, C = after the last
      LC_ALL=C awk '
        NR == FNR { if ($0 == "}" && open) { last = FNR; open = 0 } if ($0 ~ /^JNIEXPORT .* Java_/) open = 1; next }
        $0 ~ /^JNIEXPORT .* Java_/ { header = $0 }
        { key = header == "" ? "A" : (FNR > last ? "C" : "B" header); print key "\t" $0 }
      ' "$arg" "$arg" | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 | cut -f2- > "$tmp"
      # the same lines, only reordered
      if [ "$(LC_ALL=C sort "$arg" | cksum)" != "$(LC_ALL=C sort "$tmp" | cksum)" ]; then
        echo "jni_cxx.sh: reordering $arg changed its lines" >&2
        exit 1
      fi
      mv "$tmp" "$arg"
      ;;
  esac
done
exec "${ADJOINT_JNI_CXX:-g++}" "$@"
