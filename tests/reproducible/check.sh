#!/usr/bin/env bash
# Reproducible builds (issue 15): builds the library and the aggregator twice with -Dreproducible,
# from two copies of this working tree in two folders of different path lengths, and compares every
# jar byte for byte (classes, sources, javadoc, the natives of each platform, adjoint-platform).
# Prints each jar's size and SHA-256; exits 1 on the first difference, naming the differing entries.
# Takes two builds of the java module (the C++ core twice: about 10 minutes on 2 cores).
#
#   bash tests/reproducible/check.sh [extra Maven arguments, e.g. -o -Dmaven.repo.local=...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/adjoint-repro.XXXXXX")
# the two trees stay for a look when a jar differs
trap '[ "${status:-1}" = 0 ] && rm -rf "$work" || echo "builds kept in $work"' EXIT

sides=(a build-with-a-longer-path)
for side in "${sides[@]}"; do
  mkdir -p "$work/$side"
  # the working tree as git sees it (tracked files and new ones not ignored), no build output
  (cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/$side")
  echo "== building in $work/$side"
  (cd "$work/$side" && mvn -B -Dreproducible -DskipTests "$@" -pl java,platform package > "$work/$side.log" 2>&1) || {
    tail -50 "$work/$side.log"
    echo "build in $work/$side failed"
    exit 1
  }
done

status=0
a="$work/${sides[0]}"
b="$work/${sides[1]}"
for jar in "$a"/java/target/*.jar "$a"/platform/target/*.jar; do
  rel=${jar#"$a"/}
  if cmp -s "$jar" "$b/$rel"; then
    printf '%-60s %10d bytes  sha256 %s  identical\n' "$rel" "$(stat -c %s "$jar")" "$(sha256sum "$jar" | cut -c1-16)"
  else
    echo "DIFFERENT: $rel"
    # name the entries that differ
    diff <(unzip -v "$jar" | awk 'NR>3 {print $7, $8}') <(unzip -v "$b/$rel" | awk 'NR>3 {print $7, $8}') || true
    status=1
  fi
done
[ "$status" = 0 ] && echo "reproducible: every jar identical across the two builds"
exit $status
