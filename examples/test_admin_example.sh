#!/usr/bin/env bash
# Runs examples/admin.cpp against the test broker and checks each step it printed: validated, created,
# one line per partition with a leader, two partitions more (as described again), retention.ms before and
# after it was altered (as described again), the log start offset after deleting records (and as a dry
# run's ListOffsets finds it), refused with TOPIC_ALREADY_EXISTS naming the topic, deleted.
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
expect "^partitions of $TOPIC: 4 -> 6$"
expect "^$TOPIC retention.ms=86400000 \(DYNAMIC_TOPIC_CONFIG\)$"
expect "^$TOPIC retention.ms=3600000 \(DYNAMIC_TOPIC_CONFIG\)$"
expect "^deleted the records of $TOPIC-0 below 4: log start offset 4$"
expect "^$TOPIC-0 holds offsets 4 to 9$"
expect "^refused: $TOPIC: TOPIC_ALREADY_EXISTS: Topic '$TOPIC' already exists\.$"
expect "^deleted $TOPIC$"
[ $failures -eq 0 ]
