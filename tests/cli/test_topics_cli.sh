#!/usr/bin/env bash
# `kafkawire topics` against a real broker, run as a user would: create (with --config and --dry-run),
# list, describe, delete (with --dry-run), --json that parses, the broker's refusals named per topic with
# a non-zero exit status, and usage errors.
#   test_topics_cli.sh <path of kafkawire>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. Topic names are
# unique per run, so the test can run again against a long-lived broker.
set -uo pipefail

KW=${1:?usage: test_topics_cli.sh <kafkawire>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
RUN=$(date +%s)-$$-$RANDOM
T=topics-$RUN
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

# kwt <args...>: kafkawire topics against the test broker, bounded in time. Output in $out, $err; status in $rc.
kwt() {
  timeout 120 "$KW" topics "$@" -b "$BOOT" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}
# json <python expression over j>: evaluated on the last output, which must parse.
json() { python3 -c "import json,sys; j=json.load(open('$WORK/out')); print($1)"; }
# Waits (up to 20 s) until `describe` of the topic exits with the given status: creation and deletion
# complete on the brokers a moment after the controller answers.
wait_describe_rc() {
  local i
  for i in $(seq 1 100); do
    kwt describe "$1"
    [ "$rc" -eq "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

echo "kafkawire topics against $BOOT (topics $T-*)"

# ------------------------------------------------------------------------------------------ usage
kwt --help
expect_rc "--help" 0 $rc
expect_contains "--help names --replication-factor" "--replication-factor" "$out"
kwt create
expect_rc "create without a topic" 2 $rc
kwt frobnicate x
expect_rc "an unknown command" 2 $rc
expect_contains "the unknown command is named" "frobnicate" "$err"
kwt create "$T-x" --partitions zero
expect_rc "--partitions zero" 2 $rc
kwt list --partitions 3
expect_rc "--partitions with list" 2 $rc
kwt create "$T-x" -X no.such.key=1
expect_rc "an unknown -X key" 2 $rc
expect_contains "the unknown key is named" "no.such.key" "$err"
"$KW" --help >"$WORK/out" 2>&1
expect_contains "kafkawire --help names topics" "kafkawire topics" "$(cat "$WORK/out")"

# ----------------------------------------------------------------------------------------- create
kwt create "$T-a" --partitions 3 --replication-factor 1 --config retention.ms=86400000 --dry-run
expect_rc "create --dry-run" 0 $rc
expect_contains "create --dry-run says what it would do" "would be created" "$out"
expect_contains "create --dry-run says nothing was created" "nothing created" "$err"
kwt describe "$T-a"
expect_rc "describe after a dry run: no such topic" 1 $rc
expect_contains "the missing topic is named" "topic $T-a: UNKNOWN_TOPIC_OR_PARTITION" "$err"

kwt create "$T-a" --partitions 3 --replication-factor 1 --config retention.ms=86400000
expect_rc "create" 0 $rc
expect_contains "create reports the topic" "$T-a" "$out"
expect_contains "create reports it created" "created" "$out"
if wait_describe_rc "$T-a" 0; then pass; else fail "describe $T-a never succeeded: $err"; fi

kwt create "$T-a" --partitions 1 --replication-factor 1
expect_rc "create an existing topic" 1 $rc
expect_contains "TOPIC_ALREADY_EXISTS names the topic and the broker's message" \
  "topic $T-a: TOPIC_ALREADY_EXISTS: Topic '$T-a' already exists." "$err"

kwt create "$T-rf" --partitions 1 --replication-factor 5
expect_rc "create with a replication factor above the brokers" 1 $rc
expect_contains "INVALID_REPLICATION_FACTOR is named" "topic $T-rf: INVALID_REPLICATION_FACTOR" "$err"

# Several topics in one call: one created, one refused; the status says a topic failed.
kwt create "$T-b" "$T-a" --partitions 2 --replication-factor 1 --json
expect_rc "create two, one existing" 1 $rc
expect_eq "--json: the created topic" "True 2" "$(json '[(t["ok"], t["partitions"]) for t in j["topics"] if t["topic"] == "'"$T-b"'"][0][0], [t["partitions"] for t in j["topics"] if t["topic"] == "'"$T-b"'"][0]')"
expect_eq "--json: the refused topic's error" "TOPIC_ALREADY_EXISTS 36" "$(json '" ".join(str(x) for x in [t["error"]["name"] for t in j["topics"] if not t["ok"]] + [t["error"]["code"] for t in j["topics"] if not t["ok"]])')"
wait_describe_rc "$T-b" 0 || fail "describe $T-b never succeeded"

# ------------------------------------------------------------------------------------ list, describe
kwt list
expect_rc "list" 0 $rc
expect_contains "list shows the topic" "$T-a" "$out"
line=$(printf '%s\n' "$out" | awk -v t="$T-a" '$1 == t { print $2, $3, $4 }')
expect_eq "list: partitions, replication factor, internal" "3 1 no" "$line"
kwt list --json
expect_rc "list --json" 0 $rc
expect_eq "list --json: the topic" "3 1 False" "$(json '" ".join(str(x) for t in j["topics"] if t["topic"] == "'"$T-a"'" for x in (t["partitions"], t["replication_factor"], t["internal"]))')"
internal=$(json '",".join(sorted(t["topic"] for t in j["topics"] if t["internal"]))')
kwt list --exclude-internal --json
if [ -n "$internal" ]; then
  expect_eq "--exclude-internal leaves out the internal topics" "" "$(json '",".join(t["topic"] for t in j["topics"] if t["internal"])')"
fi

kwt describe "$T-a"
expect_rc "describe" 0 $rc
expect_contains "describe: the header" "Topic $T-a: topic id" "$out"
expect_contains "describe: partitions and replication factor" "3 partition(s), replication factor 1" "$out"
expect_eq "describe: a row per partition" "3" "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/' | wc -l | tr -d ' ')"
kwt describe "$T-a" --json
expect_rc "describe --json" 0 $rc
expect_eq "describe --json: partitions with a leader in their ISR" "0,1,2 True" \
  "$(json '",".join(str(p["partition"]) for p in j["topics"][0]["partitions"]), all(p["leader"] >= 0 and p["leader"] in p["isr"] and p["replicas"] == [p["leader"]] for p in j["topics"][0]["partitions"])')"
expect_eq "describe --json: a topic id" "22" "$(json 'len(j["topics"][0]["topic_id"])')"
kwt describe "$T-a" "$T-none"
expect_rc "describe a missing topic with an existing one" 1 $rc
expect_contains "the existing topic is described" "Topic $T-a:" "$out"
expect_contains "the missing topic is named" "topic $T-none: UNKNOWN_TOPIC_OR_PARTITION" "$err"
kwt describe
expect_rc "describe every topic" 0 $rc
expect_contains "describe without topics shows them all" "Topic $T-b:" "$out"

# ------------------------------------------------------------------------------------------ delete
kwt delete "$T-a" "$T-none" --dry-run
expect_rc "delete --dry-run with a missing topic" 1 $rc
expect_contains "delete --dry-run: what would be deleted" "would be deleted" "$out"
expect_contains "delete --dry-run: the missing topic" "topic $T-none: UNKNOWN_TOPIC_OR_PARTITION" "$err"
expect_contains "delete --dry-run: nothing deleted" "nothing deleted" "$err"
kwt delete "$T-a" --dry-run --json
expect_rc "delete --dry-run --json" 0 $rc
expect_eq "delete --dry-run --json" "True True 3" "$(json 'j["dry_run"], j["topics"][0]["ok"], j["topics"][0]["partitions"]')"
kwt describe "$T-a"
expect_rc "the topic is still there after delete --dry-run" 0 $rc

kwt delete "$T-a" "$T-b"
expect_rc "delete" 0 $rc
expect_contains "delete reports it" "deleted" "$out"
if wait_describe_rc "$T-a" 1; then pass; else fail "$T-a still described after delete"; fi
wait_describe_rc "$T-b" 1 || fail "$T-b still described after delete"
kwt list
expect_absent "list after delete" "$T-a" "$out"
kwt delete "$T-a" --json
expect_rc "delete a missing topic" 1 $rc
expect_eq "delete --json: the error" "False UNKNOWN_TOPIC_OR_PARTITION" "$(json 'j["topics"][0]["ok"], j["topics"][0]["error"]["name"]')"
expect_contains "delete names the missing topic" "topic $T-a: UNKNOWN_TOPIC_OR_PARTITION" "$err"

# ---------------------------------------------------------------------------------- no cluster there
timeout 60 "$KW" topics list -b 127.0.0.1:1 -m 1 >"$WORK/out" 2>"$WORK/err"
rc=$?
expect_rc "an unreachable cluster" 1 $rc
expect_contains "the unreachable cluster is named" "127.0.0.1:1" "$(cat "$WORK/err")"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
