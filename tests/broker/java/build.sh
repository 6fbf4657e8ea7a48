#!/usr/bin/env bash
# Builds the Java peers once (Maven, kafka-clients from Maven Central) and prints the classpath to run
# them with. Quiet on success; a failure prints Maven's output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f $here/target/peers.jar || ! -f $here/target/classpath.txt || $here/src -nt $here/target/peers.jar ]]; then
  log=$(mktemp)
  if ! mvn -B -q -f "$here/pom.xml" package >"$log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
echo "$here/target/peers.jar:$(<"$here/target/classpath.txt")"
