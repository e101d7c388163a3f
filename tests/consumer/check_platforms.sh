#!/usr/bin/env bash
# What the consumer's one dependency, dev.adjoint:adjoint-platform, resolves to on every platform
# setting: by default the natives of every platform we ship (adjoint, JavaCPP, OpenBLAS, one
# classifier jar each); with -Djavacpp.platform=P exactly those of P, for each P we ship: the
# restriction reaches every block. Only the dependency graph is resolved (POMs), no jar is
# fetched. Fails naming the classifiers it found.
#
#   bash tests/consumer/check_platforms.sh <local repository> <adjoint version>
set -euo pipefail
repo=$1
version=$2
here=$(cd "$(dirname "$0")" && pwd)
shipped="linux-x86_64 linux-arm64"   # the platforms adjoint-platform lists (platform/pom.xml)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# "group:artifact:classifier" of every classifier jar in the consumer's dependency tree, sorted
natives() {
  mvn -B -Dmaven.repo.local="$repo" -f "$here/pom.xml" -Dadjoint.version="$version" "$@" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:tree -DoutputFile="$out" > "$out.log" 2>&1 \
    || { cat "$out.log"; exit 1; }
  grep -oE '[a-z.]+:[a-z-]+:jar:[a-z0-9_-]+:[0-9][^:]*:' "$out" | awk -F: '{print $1 ":" $2 ":" $4}' | sort -u
}

expect() {  # platforms, then the Maven arguments
  local platforms=$1
  shift
  local want=""
  for p in $platforms; do
    want+=$(printf '%s\n' "dev.adjoint:adjoint:$p" "org.bytedeco:javacpp:$p" "org.bytedeco:openblas:$p")$'\n'
  done
  want=$(printf '%s' "$want" | sed '/^$/d' | sort -u)
  local got
  got=$(natives "$@")
  if [ "$got" != "$want" ]; then
    echo "adjoint-platform with [$*]: expected natives"
    echo "$want"
    echo "but resolved"
    echo "$got"
    exit 1
  fi
  echo "adjoint-platform with [$*]: $(echo "$got" | tr '\n' ' ')"
}

expect "$shipped"
expect "linux-x86_64" -Djavacpp.platform=linux-x86_64
expect "linux-arm64" -Djavacpp.platform=linux-arm64
echo "check_platforms: 3 passed, 0 failed"
