#!/usr/bin/env bash
# `kafkawire groups` on a consumer group of KIP-848 (group.protocol=consumer) against a real broker: list
# --type, describe (the group and assignment epochs, the assignor, each member's epoch, subscription,
# assignment and target assignment, the offsets and lag) in text and -J, while the member is active and
# after it left. The member is cli_consumer_member (raw ConsumerGroupHeartbeat, as the conformance suite).
#   test_consumer_groups_cli.sh <kafkawire> <cli_create_topic> <cli_consumer_member>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. A broker without
# the consumer group protocol (Kafka 3.x by default): exit 77, skipped.
set -uo pipefail

KW=${1:?usage: test_consumer_groups_cli.sh <kafkawire> <cli_create_topic> <cli_consumer_member>}
CREATE=${2:?usage: test_consumer_groups_cli.sh <kafkawire> <cli_create_topic> <cli_consumer_member>}
MEMBER=${3:?usage: test_consumer_groups_cli.sh <kafkawire> <cli_create_topic> <cli_consumer_member>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
RUN=$(date +%s)-$$-$RANDOM
T=cli-cg-$RUN  # two partitions
G=cli-cg-group-$RUN
C=cli-classic-$RUN  # a classic group, for --type
WORK=$(mktemp -d)
MEMBER_PID=
cleanup() {
  [ -n "$MEMBER_PID" ] && kill "$MEMBER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"
kw() { run_kw -b "$BOOT" "$@"; }
kwg() { run_kw groups "$@" -b "$BOOT"; }
# Text tables with their column padding squeezed to two spaces.
squeeze() { sed -E 's/  +/  /g' <<<"$1"; }

echo "kafkawire groups on a KIP-848 consumer group against $BOOT (topic $T, group $G)"
"$CREATE" "$BOOT" "$T" 2 || { echo "FAIL: cannot create topic $T" >&2; exit 1; }
kw -P -t "$T" -p 0 < <(printf 'a\nb\nc\n')
kw -P -t "$T" -p 1 < <(printf 'x\ny\n')

# The member: joins, is assigned both partitions, commits offset 1 for each, stays until killed.
"$MEMBER" "$BOOT" "$G" "$T" 1 120 >"$WORK/member" 2>"$WORK/member.err" &
MEMBER_PID=$!
for _ in $(seq 150); do
  grep -q '^member ' "$WORK/member" 2>/dev/null && break
  kill -0 "$MEMBER_PID" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q '^member ' "$WORK/member"; then
  if grep -q "UNSUPPORTED_VERSION\|does not support\|no version both" "$WORK/member.err"; then
    echo "SKIP: the broker does not run the consumer group protocol: $(cat "$WORK/member.err")"
    exit 77
  fi
  echo "FAIL: the consumer-protocol member did not join: $(cat "$WORK/member.err")" >&2
  exit 1
fi
expect_eq "the member owns both partitions" "assigned 0,1" "$(grep '^assigned' "$WORK/member")"
read -r _ MID EPOCH < <(grep '^member ' "$WORK/member")

# ------------------------------------------------------------------------------------------- list
# A classic group next to it: an empty one, from a commit of the classic consumer.
kw -G "$C" "$T" -e -q -f '%s\n'
kwg list --type consumer
expect_rc "list --type consumer" 0 $rc
if grep -qx "$G" <<<"$out"; then pass; else fail "list --type consumer does not show $G: $out"; fi
if grep -qx "$C" <<<"$out"; then fail "list --type consumer shows the classic group $C"; else pass; fi
kwg list --type classic
if grep -qx "$C" <<<"$out"; then pass; else fail "list --type classic does not show $C: $out"; fi
if grep -qx "$G" <<<"$out"; then fail "list --type classic shows the consumer group $G"; else pass; fi
kwg list --state --type consumer
expect_eq "list --state: the group's state, protocol type and type" "$G  Stable  consumer  consumer" \
  "$(squeeze "$(grep "^$G " <<<"$out")")"
kwg list --type share
expect_rc "list --type share: not a type kafkawire lists" 2 $rc
expect_contains "list --type share: the error" "--type: 'share' is not classic or consumer" "$err"
kwg describe "$G" --type consumer
expect_rc "--type with describe" 2 $rc

# --------------------------------------------------------------------------------------- describe
kwg describe "$G"
expect_rc "describe a consumer group" 0 $rc
header=$(head -1 <<<"$out")
expect_contains "describe: the group line" "Group $G: consumer group (KIP-848), state Stable, group epoch " "$header"
GE=$(sed -E 's/.*group epoch ([0-9]+),.*/\1/' <<<"$header")
expect_contains "describe: assignment epoch = group epoch once assigned" "assignment epoch $GE, assignor " "$header"
expect_eq "describe: the member's line" \
  "MEMBER-ID  GROUP-INSTANCE-ID  CLIENT-ID  HOST  EPOCH  SUBSCRIPTION  ASSIGNMENT  TARGET-ASSIGNMENT" \
  "$(squeeze "$(grep '^MEMBER-ID' <<<"$out")")"
member_row=$(squeeze "$(grep "^$MID " <<<"$out")")
expect_contains "describe: the member's epoch" "  $EPOCH  $T  $T(0,1)  $T(0,1)" "$member_row"
expect_contains "describe: no instance id" "$MID  -  " "$member_row"
expect_eq "describe: offsets and lag, owned by the member" "$G  $T  0  1  3  2  $MID
$G  $T  1  1  2  1  $MID" "$(squeeze "$(grep "^$G " <<<"$out")" | awk -F'  ' -v OFS='  ' '{ print $1, $2, $3, $4, $5, $6, $7 }')"

kwg describe "$G" -J
expect_rc "describe -J" 0 $rc
expect_contains "-J: type and state" "{\"group\":\"$G\",\"type\":\"consumer\",\"state\":\"Stable\",\"group_epoch\":$GE,\"assignment_epoch\":$GE,\"assignor\":" "$out"
expect_contains "-J: the member" "{\"member_id\":\"$MID\",\"group_instance_id\":null,\"client_id\":" "$out"
expect_contains "-J: epoch, subscription, assignments" "\"member_epoch\":$EPOCH,\"subscribed_topics\":[\"$T\"],\"subscribed_topic_regex\":null,\"assignment\":[{\"topic\":\"$T\",\"partitions\":[0,1]}],\"target_assignment\":[{\"topic\":\"$T\",\"partitions\":[0,1]}]}" "$out"
expect_contains "-J: offsets" "{\"topic\":\"$T\",\"partition\":0,\"current_offset\":1,\"log_end_offset\":3,\"lag\":2,\"member_id\":\"$MID\"}" "$out"
if command -v python3 >/dev/null; then
  python3 -c 'import json, sys; json.loads(sys.stdin.read())' <<<"$out" && pass || fail "-J is not JSON: $out"
fi

# A classic group is still described by DescribeGroups, as before.
kwg describe "$C"
expect_contains "describe a classic group" "Group $C: state Empty, protocol type consumer" "$out"
kwg describe "$C" -J
expect_contains "-J of a classic group: its type" "{\"group\":\"$C\",\"type\":\"classic\",\"state\":\"Empty\"" "$out"

# ------------------------------------------------------------------------------ after it left
kill -TERM "$MEMBER_PID"
wait "$MEMBER_PID"
expect_rc "the member leaves on SIGTERM" 0 $?
MEMBER_PID=
kwg describe "$G"
expect_rc "describe after the member left" 0 $rc
expect_contains "describe after leaving: empty" "Group $G: consumer group (KIP-848), state Empty" "$out"
expect_contains "describe after leaving: no members" "No active members." "$out"
expect_eq "describe after leaving: offsets kept, no owner" "$G  $T  0  1  3  2  -
$G  $T  1  1  2  1  -" "$(squeeze "$(grep "^$G " <<<"$out")" | awk -F'  ' -v OFS='  ' '{ print $1, $2, $3, $4, $5, $6, $7 }')"

kwg describe "cli-no-such-group-$RUN"
expect_rc "describe a group that does not exist" 1 $rc
expect_contains "describe a group that does not exist: the error" "group cli-no-such-group-$RUN does not exist" "$err"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
