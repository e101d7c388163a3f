#!/usr/bin/env bash
# What the linux-arm64 build and its tests need on an x86-64 Debian/Ubuntu machine, installed if
# missing (java/pom.xml runs this first, in every `mvn install` that builds linux-arm64):
#   - g++-aarch64-linux-gnu (the cross compiler; its /usr/aarch64-linux-gnu is qemu's guest root)
#   - qemu-user (qemu-aarch64: runs the C++ tests and an arm64 JVM on this machine)
#   - Debian's arm64 OpenJDK 17 (openjdk-17-jre-headless:arm64, with zlib1g:arm64 that it links),
#     fetched with `apt-get download` into a private folder: <dir>/sysroot/usr/lib/jvm/...
#
#   bash cmake/linux-arm64-setup.sh <dir>      # prints the arm64 JDK's home when done
#
# NOTE: the system's apt configuration is not changed: no `dpkg --add-architecture`. The arm64
# package lists are fetched into <dir>/apt with apt's options (APT::Architecture=arm64 and private
# Dir::State::Lists / Dir::Cache) from the machine's own Debian sources, and the packages are
# unpacked with `dpkg -x` (not installed). Absolute symbolic links in the JDK (its conf/ files
# point into /etc/java-17-openjdk) are rewritten into the private root, since the guest JVM reads
# them by their host path. Done once per <dir> (a stamp file records the JDK package version);
# concurrent builds wait for each other on a lock.
set -euo pipefail
dir=${1:?usage: linux-arm64-setup.sh <dir>}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
exec 9>"$dir/.lock"
flock 9

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# 1. cross compiler and qemu
if ! command -v aarch64-linux-gnu-g++ > /dev/null || ! command -v qemu-aarch64 > /dev/null; then
  command -v apt-get > /dev/null || { echo "linux-arm64-setup: no apt-get: install an aarch64-linux-gnu g++ and qemu-aarch64, or build one platform only with -Djavacpp.platform=linux-x86_64" >&2; exit 1; }
  echo "linux-arm64-setup: installing g++-aarch64-linux-gnu qemu-user"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends g++-aarch64-linux-gnu qemu-user \
    || { as_root apt-get update && as_root apt-get install -y --no-install-recommends g++-aarch64-linux-gnu qemu-user; }
fi

# 2. the arm64 JDK
root="$dir/sysroot"
jdk="$root/usr/lib/jvm/java-17-openjdk-arm64"
guest=/usr/aarch64-linux-gnu
apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o "Dir::State::Lists=$dir/apt/lists"
          -o "Dir::Cache=$dir/apt/cache" -o Dir::State::Status=/dev/null -o Debug::NoLocking=1)
# (as root, apt would hand the downloads to its _apt user, who cannot write into a private folder)
if [ "$(id -u)" = 0 ]; then apt_opts+=(-o APT::Sandbox::User=root); fi
if [ ! -x "$jdk/bin/java" ] || [ ! -f "$dir/jdk.stamp" ]; then
  rm -rf "$dir/apt" "$dir/debs" "$root" "$dir/jdk.stamp"
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs"
  echo "linux-arm64-setup: fetching Debian's arm64 package lists into $dir/apt"
  apt-get "${apt_opts[@]}" update > "$dir/apt/update.log" 2>&1 || { cat "$dir/apt/update.log" >&2; exit 1; }
  (cd "$dir/debs" && apt-get "${apt_opts[@]}" download openjdk-17-jre-headless zlib1g) > "$dir/apt/download.log" 2>&1 \
    || { cat "$dir/apt/download.log" >&2; exit 1; }
  mkdir -p "$root"
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done
  # absolute links into the private root (/etc/java-17-openjdk/... -> $root/etc/java-17-openjdk/...);
  # those with no target there (the CA certificates) keep pointing at the host's files
  while IFS= read -r link; do
    target=$(readlink "$link")
    if [ -e "$root$target" ]; then ln -sfn "$root$target" "$link"; fi
  done < <(find "$root" -type l -lname '/*')
  dpkg-deb -f "$dir"/debs/openjdk-17-jre-headless_*.deb Version > "$dir/jdk.stamp"
fi

# 3. it runs
if ! out=$(qemu-aarch64 -L "$guest" -E "LD_LIBRARY_PATH=$root/lib/aarch64-linux-gnu" "$jdk/bin/java" -version 2>&1); then
  echo "linux-arm64-setup: the arm64 JDK does not start under qemu-aarch64:" >&2
  echo "$out" >&2
  exit 1
fi
echo "linux-arm64-setup: arm64 JDK $(cat "$dir/jdk.stamp") at $jdk (under qemu-aarch64 -L $guest)"
