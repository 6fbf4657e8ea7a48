#!/usr/bin/env bash
# Builds the Java peers once (Maven, kafka-clients from Maven Central) and prints the classpath to run
# them with. Quiet on success; a failure prints Maven's output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Stale when any file under src/ (at any depth: a directory's mtime only moves when its own entries
# change) or the pom is newer than the jar.
stale() {
  [[ ! -f $here/target/peers.jar || ! -f $here/target/classpath.txt ]] ||
    [[ -n $(find "$here/src" "$here/pom.xml" -newer "$here/target/peers.jar" -print -quit) ]]
}
if stale; then
  log=$(mktemp)
  if ! mvn -B -q -f "$here/pom.xml" package >"$log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
echo "$here/target/peers.jar:$(<"$here/target/classpath.txt")"
