#!/usr/bin/env bash
# Uses kafkawire from another CMake project both ways the API guide describes, with the tiny project in
# tests/package/consumer:
#   1. `cmake --install` of this build tree into a temporary prefix, then find_package(kafkawire)
#   2. add_subdirectory of the source tree (tests, tools and examples must stay off there)
# Each time the program must build, link (static libraries: the codec libraries come from the package's
# config file) and run: parse a Config, build and read back a record batch per codec with its CRC.
#   test_package.sh <kafkawire build dir> <kafkawire source dir> <c++ compiler> <build type> <generator>
set -uo pipefail
BUILD=${1:?usage: test_package.sh <build dir> <source dir> <compiler> <build type> <generator>}
SRC=${2:?}
CXX_COMPILER=${3:?}
BUILD_TYPE=${4:-RelWithDebInfo}
GENERATOR=${5:-Ninja}
# Under the build tree and kept: a second run rebuilds only what changed (the add_subdirectory build
# compiles the whole library the first time, ~1 min on two cores).
WORK=$BUILD/package-test
mkdir -p "$WORK"
failures=0
fail() {
  failures=$((failures + 1))
  echo "FAIL: $*" >&2
}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_NOHASHDIR=true
fi
configure() {  # configure <build dir> <extra args...>
  local dir=$1
  shift
  rm -f "$dir.log"
  cmake -S "$SRC/tests/package/consumer" -B "$dir" -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX_COMPILER" \
    -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${launcher[@]}" "$@" >"$dir.log" 2>&1
}
check_output() {  # check_output <how> <output>
  local how=$1 out=$2
  grep -q "^linked with $how" <<<"$out" || fail "$how: the program did not say how it was linked"
  grep -q "^config: group.id=billing fetch.max.wait.ms=500$" <<<"$out" || fail "$how: the Config was not parsed"
  grep -q "^config error: unknown configuration key 'fetch.max.wait'; did you mean 'fetch.max.wait.ms'?$" <<<"$out" ||
    fail "$how: no error naming the closest key"
  for codec in none zstd; do
    grep -q "^batch $codec: .*matches.*: ok$" <<<"$out" || fail "$how: no checked $codec batch"
  done
}

start=$(date +%s)
echo "--- 1. cmake --install, then find_package(kafkawire)"
prefix=$WORK/prefix
rm -rf "$prefix" "$WORK/badver"
if ! cmake --install "$BUILD" --prefix "$prefix" >"$WORK/install.log" 2>&1; then
  cat "$WORK/install.log"
  fail "cmake --install failed"
fi
for f in lib/cmake/kafkawire/kafkawireConfig.cmake lib/cmake/kafkawire/kafkawireConfigVersion.cmake \
  lib/cmake/kafkawire/kafkawireTargets.cmake include/kafkawire/consumer/consumer.hpp \
  include/kafkawire/protocol/record_batch.hpp include/kafkawire/net/pool.hpp include/kafkawire/group/coordinator.hpp; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
if configure "$WORK/installed" -DCMAKE_PREFIX_PATH="$prefix" && cmake --build "$WORK/installed" >>"$WORK/installed.log" 2>&1; then
  out=$("$WORK/installed/tiny" 2>&1) || fail "find_package: the program failed"
  echo "$out"
  check_output "find_package 0.1.0" "$out"
  installed_out=$(grep -v '^linked with' <<<"$out")
else
  cat "$WORK/installed.log"
  fail "find_package: configure or build failed"
fi
# A version the package does not satisfy must be refused.
mkdir -p "$WORK/badver"
cat >"$WORK/badver/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(badver LANGUAGES CXX)
find_package(kafkawire 9.0 REQUIRED)
CM
if cmake -S "$WORK/badver" -B "$WORK/badver/b" -DCMAKE_PREFIX_PATH="$prefix" >"$WORK/badver.log" 2>&1; then
  fail "find_package(kafkawire 9.0) was accepted by version 0.1"
fi
echo "($(($(date +%s) - start)) s)"

start=$(date +%s)
echo "--- 2. add_subdirectory"
# What this checks is the CMake wiring (targets, include directories, codec libraries), so the library is
# compiled here without optimisation or debug information (an empty build type): about a third of the time.
if configure "$WORK/sub" -DKAFKAWIRE_SOURCE_DIR="$SRC" -DCMAKE_BUILD_TYPE= &&
  cmake --build "$WORK/sub" >>"$WORK/sub.log" 2>&1; then
  out=$("$WORK/sub/tiny" 2>&1) || fail "add_subdirectory: the program failed"
  echo "$out"
  check_output "add_subdirectory" "$out"
  [ "$(grep -v '^linked with' <<<"$out")" = "${installed_out:-}" ] || fail "the two builds printed different results"
  # As a subproject, kafkawire's own tests, tools and examples are not even defined.
  targets=$(cmake --build "$WORK/sub" --target help 2>/dev/null)
  for t in unit_tests kafkawire-demo example-blocking; do
    grep -qw "$t" <<<"$targets" && fail "add_subdirectory defined kafkawire's $t target"
  done
else
  cat "$WORK/sub.log"
  fail "add_subdirectory: configure or build failed"
fi
echo "($(($(date +%s) - start)) s)"

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "kafkawire works from another project: find_package and add_subdirectory"
