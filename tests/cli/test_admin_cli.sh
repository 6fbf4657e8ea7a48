#!/usr/bin/env bash
# `kafkawire topics add-partitions`, `kafkawire configs describe|alter` and `kafkawire delete-records`
# against a real broker, run as a user would: each change with --dry-run first (which changes nothing),
# then made; the broker's refusals (INVALID_PARTITIONS, INVALID_CONFIG, OFFSET_OUT_OF_RANGE) named per
# topic, resource or partition with a non-zero exit status; sensitive values masked; --json that parses;
# usage errors.
#   test_admin_cli.sh <path of kafkawire>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. Topic names are
# unique per run, so the test can run again against a long-lived broker.
set -uo pipefail

KW=${1:?usage: test_admin_cli.sh <kafkawire>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
RUN=$(date +%s)-$$-$RANDOM
T=admin-cli-$RUN
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

# kw <args...>: kafkawire against the test broker, bounded in time. Output in $out, $err; status in $rc.
kw() { run_kw "$@" -b "$BOOT"; }
# json <python expression over j>: evaluated on the last output, which must parse.
json() { python3 -c "import json,sys; j=json.load(open('$WORK/out')); print($1)"; }
# partitions <topic>: its partition count as describe shows it once every partition has a leader.
partitions() {
  local i
  for i in $(seq 1 100); do
    kw topics describe "$1" --json
    if [ "$rc" -eq 0 ] && [ "$(json 'all(p["leader"] >= 0 for p in j["topics"][0]["partitions"])')" == True ]; then
      json 'len(j["topics"][0]["partitions"])'
      return
    fi
    sleep 0.2
  done
  echo "none"
}
# config <args of configs describe> <key>: the key's value and source (--all --json).
config() {
  local key=${*: -1}
  kw configs describe "${@:1:$#-1}" --all --json
  json '" ".join(str(x) for c in j["resources"][0]["configs"] if c["name"] == "'"$key"'" for x in (c["value"], c["source"]))'
}
# config_reaching <expected "value source"> <args of configs describe> <key>: config's answer once it is
# the expected one (an alteration reaches the broker that describes it a moment after the controller
# took it), else after 10 s.
config_reaching() {
  local want=$1 got i
  shift
  for i in $(seq 1 50); do
    got=$(config "$@")
    [ "$got" == "$want" ] && break
    sleep 0.2
  done
  echo "$got"
}
# log_start <topic> <partition>: the partition's log start offset, from a dry run that deletes nothing.
log_start() {
  kw delete-records "$1:$2:0" --dry-run --json
  json 'j["partitions"][0]["log_start_offset"]'
}

echo "kafkawire topics add-partitions, configs, delete-records against $BOOT (topics $T-*)"

# ------------------------------------------------------------------------------------------ usage
kw topics --help
expect_contains "topics --help names add-partitions" "add-partitions <topic>... --partitions <n>" "$out"
kw topics add-partitions "$T-a"
expect_rc "add-partitions without --partitions" 2 $rc
expect_contains "add-partitions names what it needs" "--partitions" "$err"
kw configs --help
expect_rc "configs --help" 0 $rc
expect_contains "configs --help names --delete-config" "--delete-config" "$out"
kw configs describe
expect_rc "configs describe without a resource" 2 $rc
expect_contains "configs: the resource options are named" "--topic <name>, --broker <id>" "$err"
kw configs alter --topic "$T-a"
expect_rc "configs alter without a change" 2 $rc
kw configs alter --topic "$T-a" --set retention.ms
expect_rc "--set without =" 2 $rc
kw configs describe --broker one
expect_rc "--broker one" 2 $rc
kw delete-records "$T-a:0"
expect_rc "delete-records without an offset" 2 $rc
expect_contains "the bad spec is named" "'$T-a:0' is not <topic>:<partition>:<offset>" "$err"
kw delete-records "$T-a:0:-5"
expect_rc "delete-records with offset -5" 2 $rc
kw delete-records --help
expect_contains "delete-records --help says what -1 is" "high" "$out"
"$KW" --help >"$WORK/out" 2>&1
expect_contains "kafkawire --help names configs" "kafkawire configs" "$(cat "$WORK/out")"
expect_contains "kafkawire --help names delete-records" "kafkawire delete-records" "$(cat "$WORK/out")"

# ---------------------------------------------------------------------------------- add-partitions
kw topics create "$T-a" --partitions 2 --replication-factor 1
expect_rc "create" 0 $rc
expect_eq "created with 2 partitions" "2" "$(partitions "$T-a")"

kw topics add-partitions "$T-a" --partitions 4 --dry-run
expect_rc "add-partitions --dry-run" 0 $rc
expect_contains "add-partitions --dry-run says what it would do" "would be added" "$out"
expect_contains "add-partitions --dry-run says nothing was added" "no partition added" "$err"
sleep 1
expect_eq "after the dry run: still 2 partitions" "2" "$(partitions "$T-a")"

kw topics add-partitions "$T-a" --partitions 4 --json
expect_rc "add-partitions" 0 $rc
expect_eq "add-partitions --json: before and after" "True 2 4" "$(json 'j["topics"][0]["ok"], j["topics"][0]["partitions_before"], j["topics"][0]["partitions"]')"
expect_eq "4 partitions" "4" "$(partitions "$T-a")"

kw topics add-partitions "$T-a" --partitions 3
expect_rc "add-partitions to fewer" 1 $rc
expect_contains "INVALID_PARTITIONS names the topic and the broker's message" "topic $T-a: INVALID_PARTITIONS: " "$err"
expect_contains "the broker's message gives the count" "4" "$(printf '%s\n' "$err" | grep INVALID_PARTITIONS)"
kw topics add-partitions "$T-none" --partitions 3
expect_rc "add-partitions to a missing topic" 1 $rc
expect_contains "the missing topic is named" "topic $T-none: UNKNOWN_TOPIC_OR_PARTITION" "$err"

# ---------------------------------------------------------------------------------- configs: topics
kw configs describe --topic "$T-a"
expect_rc "configs describe a topic with nothing set" 0 $rc
expect_contains "nothing set on it" "Configs of topic $T-a set on it: 0" "$out"
kw configs alter --topic "$T-a" --set retention.ms=86400000 --add-config 'segment.ms=3600000,cleanup.policy=[delete,compact]' --dry-run
expect_rc "configs alter --dry-run" 0 $rc
expect_contains "alter --dry-run says what it would do" "would be changed" "$out"
expect_contains "alter --dry-run says nothing changed" "nothing changed" "$err"
expect_eq "after the dry run: retention.ms is the default" "604800000 DEFAULT_CONFIG" "$(config --topic "$T-a" retention.ms)"

kw configs alter --topic "$T-a" --set retention.ms=86400000 --add-config 'segment.ms=3600000,cleanup.policy=[delete,compact]'
expect_rc "configs alter" 0 $rc
expect_contains "alter reports it" "changed" "$out"
expect_eq "retention.ms set on the topic" "86400000 DYNAMIC_TOPIC_CONFIG" "$(config_reaching "86400000 DYNAMIC_TOPIC_CONFIG" --topic "$T-a" retention.ms)"
expect_eq "a bracketed list" "delete,compact DYNAMIC_TOPIC_CONFIG" "$(config_reaching "delete,compact DYNAMIC_TOPIC_CONFIG" --topic "$T-a" cleanup.policy)"
kw configs describe --topic "$T-a"
expect_rc "configs describe" 0 $rc
expect_contains "describe: the keys set on it" "Configs of topic $T-a set on it: 3" "$out"
line=$(printf '%s\n' "$out" | awk '$1 == "segment.ms" { print $2, $3 }')
expect_eq "describe: a row per key" "3600000 DYNAMIC_TOPIC_CONFIG" "$line"
kw configs describe --topic "$T-a" --all --synonyms --json
expect_rc "configs describe --all --synonyms --json" 0 $rc
expect_eq "--synonyms: the broker's key segment.bytes falls back to" "log.segment.bytes" \
  "$(json '",".join(s["name"] for c in j["resources"][0]["configs"] if c["name"] == "segment.bytes" for s in c["synonyms"])')"

kw configs alter --topic "$T-a" --delete retention.ms --subtract cleanup.policy=compact
expect_rc "configs alter --delete --subtract" 0 $rc
expect_eq "retention.ms back to the default" "604800000 DEFAULT_CONFIG" "$(config_reaching "604800000 DEFAULT_CONFIG" --topic "$T-a" retention.ms)"
expect_eq "compact subtracted" "delete DYNAMIC_TOPIC_CONFIG" "$(config_reaching "delete DYNAMIC_TOPIC_CONFIG" --topic "$T-a" cleanup.policy)"

kw configs alter --topic "$T-a" --set retention.msx=5 --set segment.ms=7200000
expect_rc "configs alter with a bad key" 1 $rc
expect_contains "INVALID_CONFIG names the topic and the key" "topic $T-a: INVALID_CONFIG: " "$err"
expect_contains "the broker's message names the key" "retention.msx" "$err"
expect_eq "the other key of the change not made" "3600000 DYNAMIC_TOPIC_CONFIG" "$(config --topic "$T-a" segment.ms)"
kw configs alter --topic "$T-a" --set retention.msx=5 --dry-run --json
expect_rc "a bad key in a dry run" 1 $rc
expect_eq "--json: the error" "False INVALID_CONFIG" "$(json 'j["resources"][0]["ok"], j["resources"][0]["error"]["name"]')"
kw configs describe --topic "$T-none"
expect_rc "configs describe a missing topic" 1 $rc
expect_contains "the missing topic is named" "topic $T-none: UNKNOWN_TOPIC_OR_PARTITION" "$err"

# --------------------------------------------------------------------------------- configs: brokers
kw -L -J
broker=$(json 'j["brokers"][0]["id"]')
kw configs describe --broker "$broker" --all --json
expect_rc "configs describe --broker" 0 $rc
expect_eq "the broker's node.id, read-only" "$broker True" "$(json '" ".join(str(x) for c in j["resources"][0]["configs"] if c["name"] == "node.id" for x in (c["value"], c["read_only"]))')"
expect_eq "no sensitive value is printed" "True" "$(json 'all(c["value"] is None for c in j["resources"][0]["configs"] if c["sensitive"])')"
kw configs describe --broker "$broker" --all
sensitive=$(printf '%s\n' "$out" | awk '$NF == "yes" { print $2 }' | sort -u)
if [ -n "$sensitive" ]; then expect_eq "sensitive values masked" "******" "$sensitive"; fi
before=$(config --broker "$broker" log.cleaner.backoff.ms)
kw configs alter --broker "$broker" --set log.cleaner.backoff.ms=16002 --dry-run
expect_rc "configs alter --broker --dry-run" 0 $rc
expect_absent "the dry run changed nothing" "16002" "$(config --broker "$broker" log.cleaner.backoff.ms)"
kw configs alter --broker "$broker" --set log.cleaner.backoff.ms=16002
expect_rc "configs alter --broker" 0 $rc
expect_eq "set on the broker" "16002 DYNAMIC_BROKER_CONFIG" "$(config_reaching "16002 DYNAMIC_BROKER_CONFIG" --broker "$broker" log.cleaner.backoff.ms)"
kw configs alter --broker "$broker" --delete-config log.cleaner.backoff.ms
expect_rc "configs alter --broker --delete-config" 0 $rc
expect_eq "deleted from the broker" "$before" "$(config_reaching "$before" --broker "$broker" log.cleaner.backoff.ms)"
kw configs describe --broker 9999
expect_rc "a broker not in the cluster" 1 $rc
expect_contains "the broker is named" "broker 9999: " "$err"
expect_contains "it is not in the cluster" "not in the cluster" "$err"

# ---------------------------------------------------------------------------------- delete-records
printf '%s\n' $(seq 1 10) | timeout 60 "$KW" -b "$BOOT" -t "$T-a" -P -p 0 >/dev/null 2>&1 || fail "produce to $T-a 0"
printf '%s\n' $(seq 1 6) | timeout 60 "$KW" -b "$BOOT" -t "$T-a" -P -p 1 >/dev/null 2>&1 || fail "produce to $T-a 1"

kw delete-records "$T-a:0:4" "$T-a:1:end" --dry-run
expect_rc "delete-records --dry-run" 0 $rc
expect_contains "delete-records --dry-run says what it would do" "would be deleted" "$out"
expect_contains "delete-records --dry-run says nothing was deleted" "no record deleted" "$err"
expect_eq "dry run: partition 0" "0 10 4 4" "$(printf '%s\n' "$out" | awk '$2 == "0" { print $4, $5, $6, $7 }')"
expect_eq "dry run: partition 1 up to the end" "0 6 6 6" "$(printf '%s\n' "$out" | awk '$2 == "1" { print $4, $5, $6, $7 }')"
expect_eq "after the dry run: partition 0 starts at 0" "0" "$(log_start "$T-a" 0)"

kw delete-records "$T-a:0:4" "$T-a:1:-1" --json
expect_rc "delete-records" 0 $rc
expect_eq "delete-records --json: the low watermarks" "4 6" "$(json '" ".join(str(p["low_watermark"]) for p in j["partitions"])')"
expect_eq "partition 0 starts at 4" "4" "$(log_start "$T-a" 0)"
expect_eq "partition 1 starts at 6" "6" "$(log_start "$T-a" 1)"

kw delete-records "$T-a:0:100" --dry-run
expect_rc "past the high watermark, dry run" 1 $rc
expect_contains "OFFSET_OUT_OF_RANGE named, dry run" "topic $T-a partition 0: OFFSET_OUT_OF_RANGE" "$err"
kw delete-records "$T-a:0:100" "$T-a:9:1" "$T-none:0:1"
expect_rc "past the high watermark" 1 $rc
expect_contains "OFFSET_OUT_OF_RANGE named" "topic $T-a partition 0: OFFSET_OUT_OF_RANGE" "$err"
expect_contains "a partition the topic does not have" "topic $T-a partition 9: UNKNOWN_TOPIC_OR_PARTITION" "$err"
expect_contains "a missing topic" "topic $T-none partition 0: UNKNOWN_TOPIC_OR_PARTITION" "$err"
expect_eq "partition 0 still starts at 4" "4" "$(log_start "$T-a" 0)"

kw topics delete "$T-a"
expect_rc "delete the topic" 0 $rc

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
