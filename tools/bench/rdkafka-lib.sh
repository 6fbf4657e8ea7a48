# Sourced by the benchmark scripts (produce-bench, group-bench) that run a C program against a librdkafka
# other than the one it was linked with (Debian's librdkafka-dev), through LD_LIBRARY_PATH.
#
#   rdkafka_wheel_lib SECONDS   prints the path of the librdkafka bundled in the newest confluent-kafka wheel
#                               on PyPI (pip download --no-deps, at most once a day, SECONDS at most; cached in
#                               ${XDG_CACHE_HOME:-~/.cache}/kafkawire/confluent-kafka-wheel, unzipped); fails
#                               when there is none. The wheel's name is in that directory's file `wheel`.
#   rdkafka_lib_dir WHO LIB DIR makes DIR a directory for LD_LIBRARY_PATH holding LIB as librdkafka.so.1
#                               (LIB: a file, or a directory with exactly one librdkafka*.so*); says what is
#                               wrong, prefixed with WHO, and fails when LIB is neither.

rdkafka_wheel_lib() {
  local dir=${XDG_CACHE_HOME:-$HOME/.cache}/kafkawire/confluent-kafka-wheel
  mkdir -p "$dir"
  if [ -z "$(find "$dir" -maxdepth 1 -name 'stamp' -mmin -1440 2>/dev/null)" ]; then
    local tmp whl
    tmp=$(mktemp -d "$dir/dl.XXXXXX")
    if timeout "$1" pip download --no-deps --only-binary=:all: --no-cache-dir -q --timeout 10 \
         --retries 1 -d "$tmp" confluent-kafka >&2 &&
       whl=$(ls "$tmp"/confluent_kafka-*.whl 2>/dev/null | head -1) && [ -n "$whl" ]; then
      rm -rf "$dir/x" && mkdir -p "$dir/x" && python3 -m zipfile -e "$whl" "$dir/x" >&2 && touch "$dir/stamp"
      echo "${whl##*/}" >"$dir/wheel"
    fi
    rm -rf "$tmp"
  fi
  local found=("$dir"/x/confluent_kafka.libs/librdkafka*.so*)
  [ -f "${found[0]}" ] && echo "${found[0]}"
}

rdkafka_lib_dir() {
  local who=$1 lib=$2 dir=$3
  if [ -d "$lib" ]; then
    local found=("$lib"/librdkafka*.so*)
    [ ${#found[@]} = 1 ] && [ -f "${found[0]}" ] ||
      { echo "$who: --rdkafka-lib $lib: want exactly one librdkafka*.so* in it" >&2; return 2; }
    lib=${found[0]}
  fi
  [ -f "$lib" ] || { echo "$who: --rdkafka-lib $lib: no such file" >&2; return 2; }
  mkdir -p "$dir"
  ln -sf "$lib" "$dir/librdkafka.so.1"
}
