#!/usr/bin/env bash
# Runs examples/admin.cpp against the test broker and checks each step it printed: validated, created,
# one line per partition with a leader, refused with TOPIC_ALREADY_EXISTS naming the topic, deleted.
#   test_admin_example.sh <example-admin>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092.
set -uo pipefail
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
TOPIC=example-admin-$(date +%s)-$$-$RANDOM
out=$(timeout 60 "${1:?usage: test_admin_example.sh <example-admin>}" "$BOOT" "$TOPIC" 4 2>&1)
rc=$?
echo "$out"
failures=0
expect() { grep -qE "$1" <<<"$out" || { echo "FAIL: no line matching '$1'" >&2; failures=$((failures + 1)); }; }
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc" >&2; failures=$((failures + 1)); }
expect "^validated $TOPIC: 4 partitions$"
expect "^created $TOPIC$"
[ "$(grep -cE '^partition [0-3]: leader [0-9]+, 1 replica\(s\), 1 in sync$' <<<"$out")" -eq 4 ] ||
  { echo "FAIL: expected 4 partition lines" >&2; failures=$((failures + 1)); }
expect "^refused: $TOPIC: TOPIC_ALREADY_EXISTS: Topic '$TOPIC' already exists\.$"
expect "^deleted $TOPIC$"
[ $failures -eq 0 ]
