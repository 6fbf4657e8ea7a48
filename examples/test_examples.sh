#!/usr/bin/env bash
# Runs each example twice against the test broker with the same topic and group, and checks what it
# printed: every record it produced was consumed once (count and sum), the first run started at offset 0,
# the second run started exactly at the offsets the first one committed, and the committed offsets are
# the end of what was produced. Each example does this with the classic group protocol (its default),
# then again with `-X group.protocol=consumer` (KIP-848); $KAFKAWIRE_CLI (the kafkawire command line,
# which ctest passes) checks that each group is of that type on the broker (`kafkawire groups list
# --type`). An unknown -X key must be refused naming it and the closest known key.
# example-exactly-once does its own job, with each protocol too (exactly_once below; it needs
# $KAFKAWIRE_CLI to write its input and read its output).
#   test_examples.sh <example> ...
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. Topic and group
# names are unique per run.
set -uo pipefail
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
N=${KAFKAWIRE_EXAMPLE_RECORDS:-200}
RUN=$(date +%s)-$$-$RANDOM
SUM=$((N * (N - 1) / 2))
failures=0
fail() {
  failures=$((failures + 1))
  echo "FAIL: $*" >&2
}

# Lines "<word> <topic>-<partition>@<offset>" of the output, as "partition=offset" sorted.
offsets() { awk -v w="$1" -v t="$2" '$1 == w && index($NF, t "-") == 1 { print substr($NF, length(t) + 2) }' | tr @ = | sort; }

CLI=${KAFKAWIRE_CLI:-}
[ -n "$CLI" ] || echo "KAFKAWIRE_CLI is not set: the groups' types are not checked"

# exactly_once <example-exactly-once> <protocol> <settings...>: N records into a new input topic, a run until
# it is idle for 3 s, N records more, a second run: each run processed the N new records, and the output,
# read as read_committed, holds each input record's result once.
exactly_once() {
  local example=$1 protocol=$2 name in out_topic group run expected got
  shift 2
  name=${example##*/}${*:+ $*}
  in=${example##*/}-$protocol-in-$RUN
  out_topic=${example##*/}-$protocol-out-$RUN
  group=${example##*/}-$protocol-group-$RUN
  for t in "$in" "$out_topic"; do
    "$CLI" topics create -b "$BOOT" "$t" --partitions 2 >/dev/null || fail "$name: cannot create $t"
  done
  for run in 1 2; do
    seq $(((run - 1) * N)) $((run * N - 1)) | "$CLI" -P -q -b "$BOOT" -t "$in" ||
      fail "$name run $run: cannot produce its input"
    start=$(date +%s%N)
    out=$(timeout 120 "$example" "$BOOT" "$in" "$out_topic" "$group" --idle-exit 3 "$@" 2>&1)
    rc=$?
    echo "--- $name run $run ($((($(date +%s%N) - start) / 1000000)) ms, exit $rc)"
    echo "$out"
    [ $rc -eq 0 ] || fail "$name run $run exited with $rc"
    grep -q "^processed $N records in " <<<"$out" || fail "$name run $run: expected 'processed $N records'"
  done
  expected=$(seq 0 $((2 * N - 1)) | sed 's/^/processed /' | sort)
  got=$(timeout 60 "$CLI" -C -q -b "$BOOT" -t "$out_topic" -e -X isolation.level=read_committed -f '%s\n' | sort)
  [ "$got" = "$expected" ] ||
    fail "$name: the output is not each input record's result once ($(wc -l <<<"$got") lines, $(sort -u <<<"$got" | wc -l) distinct)"
  listed=$("$CLI" groups list -b "$BOOT" --type $protocol 2>&1)
  awk -v g="$group" '$1 == g { found = 1 } END { exit !found }' <<<"$listed" ||
    fail "$name: $group is not listed as a $protocol group:"$'\n'"$listed"
}

for example in "$@"; do
  name=${example##*/}
  out=$("$example" "$BOOT" topic group -X fetch.max.wait=100 2>&1)
  rc=$?
  [ $rc -eq 2 ] || fail "$name with an unknown -X key: exit status $rc, expected 2"
  grep -q "unknown configuration key 'fetch.max.wait'; did you mean 'fetch.max.wait.ms'?" <<<"$out" ||
    fail "$name with an unknown -X key: the error does not name it and the closest key: $out"
  for protocol in classic consumer; do
    settings=()
    [ $protocol = classic ] || settings=(-X group.protocol=$protocol)
    if [ "$name" = example-exactly-once ]; then
      if [ -n "$CLI" ]; then exactly_once "$example" $protocol "${settings[@]}"; else fail "$name needs KAFKAWIRE_CLI"; fi
      continue
    fi
    name=${example##*/}${settings[*]:+ ${settings[*]}}
    topic=${example##*/}-$protocol-$RUN
    group=${example##*/}-$protocol-group-$RUN
    prev_committed=
    for run in 1 2; do
      start=$(date +%s%N)
      out=$(timeout 120 "$example" "$BOOT" "$topic" "$group" "$N" "${settings[@]}" 2>&1)
      rc=$?
      echo "--- $name run $run ($((($(date +%s%N) - start) / 1000000)) ms, exit $rc)"
      echo "$out"
      [ $rc -eq 0 ] || { fail "$name run $run exited with $rc"; continue; }
      grep -qx "produced $N records to $topic" <<<"$out" || fail "$name run $run: no 'produced $N records'"
      grep -qx "consumed $N records, sum of amounts $SUM" <<<"$out" ||
        fail "$name run $run: expected to consume the $N records it produced once each (sum $SUM)"
      grep -q "^assigned $topic-" <<<"$out" || fail "$name run $run: the rebalance listener saw no assignment"
      started=$(offsets started "$topic" <<<"$out" | paste -sd' ')
      committed=$(offsets committed "$topic" <<<"$out" | paste -sd' ')
      [ -n "$committed" ] || fail "$name run $run: no committed offsets printed"
      # What was produced in total by now, per partition: the committed offsets must add up to it.
      total=0
      for c in $committed; do total=$((total + ${c#*=})); done
      [ "$total" -eq $((N * run)) ] || fail "$name run $run: committed offsets ($committed) do not add up to $((N * run))"
      if [ $run = 1 ]; then
        for s in $started; do
          [ "${s#*=}" = 0 ] || fail "$name run 1: a fresh group should start at offset 0, started at $s"
        done
      else
        # Partitions the second run read from must start where the first run committed.
        for s in $started; do
          grep -qw -- "$s" <<<"$prev_committed" ||
            fail "$name run 2: started at $s, not at an offset run 1 committed ($prev_committed)"
        done
      fi
      prev_committed=$committed
    done
    if [ -n "$CLI" ]; then
      listed=$("$CLI" groups list -b "$BOOT" --type $protocol 2>&1)
      awk -v g="$group" '$1 == g { found = 1 } END { exit !found }' <<<"$listed" || fail "$name: $group is not listed as a $protocol group:"$'\n'"$listed"
    fi
  done
done
if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all examples, with either group protocol: produced, consumed once, committed, resumed"
