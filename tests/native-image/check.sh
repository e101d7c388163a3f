#!/usr/bin/env bash
# Runs NativeImageConfigCheck.java (GraalVM's configuration tool on the natives jars' native-image
# configuration) on a Java 21+ JDK: the tool's classes are Java 21 class files, and Maven may run on
# an older Java (17 here).
# usage: check.sh JDK CLASSPATH DIR    (DIR: the natives jars to check; tests/native-image/pom.xml)
set -euo pipefail
jdk=$1 classpath=$2 dir=$3
shopt -s nullglob
jars=("$dir"/*.jar)
if [ ${#jars[@]} -eq 0 ]; then
  echo "native-image config check: no natives jar in $dir" >&2
  exit 1
fi
if [ ! -x "$jdk/bin/java" ]; then
  echo "native-image config check: no JDK at $jdk (GraalVM's configuration tool needs Java 21+)." >&2
  echo "  Install one there (these machines have Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64)," >&2
  echo "  or point to one: -Dadjoint.nativeimage.jdk=/path/to/jdk21+, or skip this check: -Dadjoint.nativeimage.skip" >&2
  exit 1
fi
exec "$jdk/bin/java" -cp "$classpath" "$(dirname "$0")/NativeImageConfigCheck.java" "${jars[@]}"
