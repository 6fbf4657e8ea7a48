#!/usr/bin/env bash
# The `kafkawire` command line against a real broker, run as a user would run it.
#   test_cli.sh <path of kafkawire> <path of cli_create_topic>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. Topic and group
# names are unique per run, so the test can run again against a long-lived broker.
set -uo pipefail

KW=${1:?usage: test_cli.sh <kafkawire> <cli_create_topic>}
CREATE=${2:?usage: test_cli.sh <kafkawire> <cli_create_topic>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
RUN=$(date +%s)-$$-$RANDOM
T=cli-$RUN             # two partitions
G=cli-group-$RUN
WORK=$(mktemp -d)
BG_PID=
SILENT_PID=
SPY_PID=
cleanup() {
  [ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
  [ -n "$SPY_PID" ] && kill "$SPY_PID" 2>/dev/null
  [ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

# kw <args...>: kafkawire against the test broker, bounded in time. Output in $WORK/out, $WORK/err; status in $rc.
kw() { run_kw -b "$BOOT" "$@"; }
kwg() { run_kw groups "$@" -b "$BOOT"; }
# offsets_of <group> <topic> <partition>: "current log-end lag" from `groups describe`.
offsets_of() {
  timeout 60 "$KW" groups describe "$1" -b "$BOOT" | awk -v g="$1" -v t="$2" -v p="$3" \
    '$1 == g && $2 == t && $3 == p { print $4, $5, $6 }'
}
# wait_state <group> <state>: until `groups list --state` shows it (30 s at most).
wait_state() {
  for _ in $(seq 150); do
    if timeout 30 "$KW" groups list --state -b "$BOOT" 2>/dev/null | awk -v g="$1" '$1 == g { print $2 }' |
      grep -qx "$2"; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

echo "kafkawire command-line tests against $BOOT (topic $T, group $G)"
"$CREATE" "$BOOT" "$T" 2 || { echo "FAIL: cannot create topic $T" >&2; exit 1; }

# ---------------------------------------------------------------------------------------- produce
kw -P -t "$T" -p 0 -k key1 -H h1=v1 -H h2 < <(printf 'a\nb\nc\n')
expect_rc "produce to partition 0" 0 $rc
expect_eq "produce prints nothing when all went well (stderr not a terminal: no progress)" "" "$err"
# -D record delimiter, -K key delimiter; the last record needs no delimiter after it.
kw -P -t "$T" -p 1 -D ';' -K ':' < <(printf 'k1:x;k2:y;z')
expect_rc "produce with -D and -K" 0 $rc

# ---------------------------------------------------------------------------------------- consume
kw -C -t "$T" -p 0 -e -q -f '%t|%p|%o|%k|%s|%h\n'
expect_rc "consume -f" 0 $rc
expect_eq "consume -f partition 0" "$T|0|0|key1|a|h1=v1,h2
$T|0|1|key1|b|h1=v1,h2
$T|0|2|key1|c|h1=v1,h2" "$out"

kw -C -t "$T" -p 1 -e -f '%p %o [%k] %s %K %S\n'
expect_eq "consume -f partition 1 (null key: empty, length -1)" "1 0 [k1] x 2 1
1 1 [k2] y 2 1
1 2 [] z -1 1" "$out"
expect_contains "-e says where each partition ended" "Reached end of topic $T [1] at offset 3" "$err"

kw -C -t "$T" -p 1 -e -q -J
expect_rc "consume -J" 0 $rc
expect_eq "consume -J (ts masked)" "{\"topic\":\"$T\",\"partition\":1,\"offset\":0,\"ts\":TS,\"key\":\"k1\",\"payload\":\"x\",\"headers\":[]}
{\"topic\":\"$T\",\"partition\":1,\"offset\":1,\"ts\":TS,\"key\":\"k2\",\"payload\":\"y\",\"headers\":[]}
{\"topic\":\"$T\",\"partition\":1,\"offset\":2,\"ts\":TS,\"key\":null,\"payload\":\"z\",\"headers\":[]}" \
  "$(sed -E 's/"ts":[0-9]+/"ts":TS/' <<<"$out")"
kw -C -t "$T" -p 0 -e -q -J -c 1
expect_eq "consume -J headers, null header value" \
  "{\"topic\":\"$T\",\"partition\":0,\"offset\":0,\"ts\":TS,\"key\":\"key1\",\"payload\":\"a\",\"headers\":[\"h1\",\"v1\",\"h2\",null]}" \
  "$(sed -E 's/"ts":[0-9]+/"ts":TS/' <<<"$out")"

kw -C -t "$T" -e -q -f '%p:%s\n'
expect_eq "consume every partition without -p" "0:a
0:b
0:c
1:x
1:y
1:z" "$(sort <<<"$out")"

kw -C -t "$T" -p 0 -e -q -o 1
expect_eq "-o <offset>" "b
c" "$out"
kw -C -t "$T" -p 0 -e -q -o -1
expect_eq "-o -<n> from the end" "c" "$out"
kw -C -t "$T" -e -q -o end
expect_rc "-o end -e" 0 $rc
expect_eq "-o end -e prints nothing" "" "$out"
kw -C -t "$T" -p 0 -q -c 2
expect_eq "-c count (without -e)" "a
b" "$out"
kw -C -t "$T" -p 0 -e -q -o s@0
expect_eq "-o s@<timestamp> before everything" "a
b
c" "$out"
kw -C -t "$T" -p 0 -e -q -o s@$(($(date +%s) * 1000 + 3600000))
expect_eq "-o s@<timestamp> after everything" "" "$out"

# Binary and odd values: -J output stays valid JSON.
kw -P -t "$T" -p 1 < <(printf 'tab\there "quoted" \\ \xff\xfe end\n')
kw -C -t "$T" -p 1 -e -q -J -o 3
expect_contains "-J escapes control characters, quotes, backslashes and non-UTF-8 bytes" \
  '"payload":"tab\there \"quoted\" \\ \u00ff\u00fe end"' "$out"
if command -v python3 >/dev/null; then
  if python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <<<"$out"; then pass; else fail "-J output is not JSON: $out"; fi
fi

# Many records, compressed: all of them back, in order.
kw -P -t "$T" -p 0 -z zstd -X linger.ms=20 < <(seq 1 20000)
expect_rc "produce 20000 records with zstd" 0 $rc
kw -C -t "$T" -p 0 -e -q -o 3
expect_eq "consume 20000 records" "20000 1 20000 200010000" \
  "$(awk 'NR == 1 { first = $1 } { n++; s += $1; last = $1 } END { print n, first, last, s }' <<<"$out")"
kw -P -t "$T" -p 1 -z gzip < <(seq 1 1000)
kw -C -t "$T" -p 1 -e -q -o 4 -c 1000
expect_eq "gzip round trip" "1000 500500" "$(awk '{ n++; s += $1 } END { print n, s }' <<<"$out")"

# Uncompressed fetches of max.partition.fetch.bytes (1 MiB): every record printed is a view into its
# fetch frame, which must stay alive until the next poll.
T3=cli-big-$RUN
"$CREATE" "$BOOT" "$T3" 1 || fail "cannot create topic $T3"
kw -P -t "$T3" < <(seq 1 300000)
expect_rc "produce 300000 records" 0 $rc
kw -C -t "$T3" -e -q
expect_rc "consume 300000 uncompressed records" 0 $rc
expect_eq "consume 300000 uncompressed records" "300000 1 300000 45000150000" \
  "$(awk 'NR == 1 { first = $1 } { n++; s += $1; last = $1 } END { printf "%d %d %d %.0f\n", n, first, last, s }' <<<"$out")"

# ---------------------------------------------------------------------------------- metadata, query
kw -L
expect_rc "-L" 0 $rc
expect_contains "-L lists the topic" "topic \"$T\" with 2 partition(s):" "$out"
expect_contains "-L lists leader, replicas and isrs" "partition 1, leader " "$out"
expect_contains "-L lists the brokers" "broker(s):" "$out"
kw -L -J -t "$T"
expect_rc "-L -J" 0 $rc
expect_contains "-L -J names the topic" "{\"topic\":\"$T\",\"internal\":false,\"partitions\":[{\"partition\":0,\"leader\":" "$out"
if command -v python3 >/dev/null; then
  if python3 -c 'import json,sys; m=json.load(sys.stdin); assert len(m["topics"][0]["partitions"]) == 2' <<<"$out"; then
    pass
  else
    fail "-L -J output: $out"
  fi
fi

kw -Q -t "$T:0:0" -t "$T:1:-1" -t "$T:1:-2"
expect_rc "-Q" 0 $rc
expect_eq "-Q offsets for times, in the order asked" "Topic $T partition 0 timestamp 0 offset 0
Topic $T partition 1 timestamp -1 offset 1004
Topic $T partition 1 timestamp -2 offset 0" "$out"
kw -Q -J -t "$T:0:$(($(date +%s) * 1000 + 3600000))"
expect_contains "-Q -J, a timestamp after everything: offset -1" "\"partition\":0," "$out"
expect_contains "-Q -J offset" "\"offset\":-1}" "$out"

# ---------------------------------------------------------------------------------- group consume
T2=cli-g-$RUN
"$CREATE" "$BOOT" "$T2" 2 || fail "cannot create topic $T2"
kw -P -t "$T2" -p 0 < <(printf 'a\nb\nc\n')
kw -P -t "$T2" -p 1 < <(printf 'x\ny\nz\n')
kw -G "$G" "$T2" -e -q -f '%p %o %s\n'
expect_rc "-G -e" 0 $rc
expect_eq "-G reads everything the first time" "0 0 a
0 1 b
0 2 c
1 0 x
1 1 y
1 2 z" "$(sort <<<"$out")"
expect_eq "describe after -G: partition 0 committed, no lag" "3 3 0" "$(offsets_of "$G" "$T2" 0)"
expect_eq "describe after -G: partition 1 committed, no lag" "3 3 0" "$(offsets_of "$G" "$T2" 1)"

kw -P -t "$T2" -p 0 < <(printf 'd\ne\n')
expect_eq "lag after two more records" "3 5 2" "$(offsets_of "$G" "$T2" 0)"
kw -G "$G" "$T2" -e -q -f '%p %o %s\n'
expect_eq "-G resumes at the committed offsets" "0 3 d
0 4 e" "$out"
expect_eq "committed after resuming" "5 5 0" "$(offsets_of "$G" "$T2" 0)"

kw -P -t "$T2" -p 1 < <(printf 'm\nn\n')
kw -G "$G" "$T2" -q -c 1 -f '%p %o %s\n'
expect_eq "-G -c 1 prints one record" "1 3 m" "$out"
expect_eq "-G -c 1 commits only what it printed" "4 5 1" "$(offsets_of "$G" "$T2" 1)"

# The same with the consumer group protocol (KIP-848): the broker assigns, and the group resumes at its
# commits.
T3=cli-kip848-$RUN
GC=cli-kip848-group-$RUN
"$CREATE" "$BOOT" "$T3" 2 || fail "cannot create topic $T3"
kw -P -t "$T3" -p 0 < <(printf 'a\nb\n')
kw -P -t "$T3" -p 1 < <(printf 'x\n')
kw -G "$GC" "$T3" -X group.protocol=consumer -e -q -f '%p %o %s\n'
expect_rc "-G -X group.protocol=consumer -e" 0 $rc
expect_eq "-G with group.protocol=consumer reads everything the first time" "0 0 a
0 1 b
1 0 x" "$(sort <<<"$out")"
kw -P -t "$T3" -p 1 < <(printf 'y\n')
kw -G "$GC" "$T3" -X group.protocol=consumer -e -q -f '%p %o %s\n'
expect_eq "group.protocol=consumer: the next member resumes at the commits" "1 1 y" "$out"
kw -G "$GC" "$T3" -X group.protocol=consumer -X session.timeout.ms=10000 -e -q
expect_rc "group.protocol=consumer with session.timeout.ms is a configuration error" 2 $rc
expect_contains "the error names the key and the protocol" "session.timeout.ms is not used with group.protocol=consumer" "$err"

kwg describe "$G"
expect_rc "groups describe" 0 $rc
expect_contains "describe: state and protocol" "Group $G: state Empty, protocol type consumer" "$out"
expect_contains "describe: Kafka's columns" "GROUP" "$out"
expect_contains "describe: Kafka's columns" "CURRENT-OFFSET  LOG-END-OFFSET  LAG" "$out"
kwg describe "$G" -J
expect_contains "describe -J" "{\"topic\":\"$T2\",\"partition\":1,\"current_offset\":4,\"log_end_offset\":5,\"lag\":1,\"member_id\":null}" "$out"

kwg list
expect_rc "groups list" 0 $rc
if grep -qx "$G" <<<"$out"; then pass; else fail "groups list does not show $G: $out"; fi

# ---------------------------------------------------------------------------------- reset-offsets
kwg reset-offsets "$G" --topic "$T2:0" --to-offset 1 --dry-run
expect_rc "reset-offsets --dry-run" 0 $rc
expect_eq "reset-offsets plan" "GROUP  TOPIC  PARTITION  CURRENT-OFFSET  NEW-OFFSET
$G  $T2  0  5  1" "$(sed -E 's/  +/  /g' <<<"$out")"
expect_eq "--dry-run changes nothing" "5 5 0" "$(offsets_of "$G" "$T2" 0)"
kwg reset-offsets "$G" --topic "$T2:0" --to-offset 1
expect_eq "without --execute: a dry run" "5 5 0" "$(offsets_of "$G" "$T2" 0)"

kwg reset-offsets "$G" --topic "$T2:0" --to-offset 1 --execute
expect_rc "reset-offsets --execute" 0 $rc
expect_eq "--execute: the new offset is committed" "1 5 4" "$(offsets_of "$G" "$T2" 0)"
kwg reset-offsets "$G" --topic "$T2:0" --shift-by 2 --execute
expect_eq "--shift-by 2" "3 5 2" "$(offsets_of "$G" "$T2" 0)"
kwg reset-offsets "$G" --topic "$T2:0" --shift-by -10 --execute
expect_eq "--shift-by past the start stops at earliest" "0 5 5" "$(offsets_of "$G" "$T2" 0)"
kwg reset-offsets "$G" --topic "$T2" --to-latest --execute
expect_eq "--to-latest partition 0" "5 5 0" "$(offsets_of "$G" "$T2" 0)"
expect_eq "--to-latest partition 1 (whole topic)" "5 5 0" "$(offsets_of "$G" "$T2" 1)"
kwg reset-offsets "$G" --topic "$T2:1" --to-earliest --execute
expect_eq "--to-earliest" "0 5 5" "$(offsets_of "$G" "$T2" 1)"
kwg reset-offsets "$G" --topic "$T2:1" --to-datetime 2100-01-01T00:00:00.000Z --execute
expect_eq "--to-datetime after everything: latest" "5 5 0" "$(offsets_of "$G" "$T2" 1)"
kwg reset-offsets "$G" --topic "$T2:1" --to-datetime 2000-01-01T00:00:00Z --execute
expect_eq "--to-datetime before everything: earliest" "0 5 5" "$(offsets_of "$G" "$T2" 1)"
kwg reset-offsets "$G" --topic "$T2:0" --to-offset 99 --execute
expect_eq "--to-offset past the end stops at latest" "5 5 0" "$(offsets_of "$G" "$T2" 0)"

# An active member: Kafka refuses to reset (or delete) the offsets of a group that has one.
"$KW" -b "$BOOT" -G "$G" "$T2" -q >/dev/null 2>"$WORK/member.err" &
BG_PID=$!
if wait_state "$G" Stable; then pass; else fail "the -G member never made the group Stable: $(cat "$WORK/member.err")"; fi
kwg describe "$G"
expect_contains "describe shows the member and its assignment" "$T2(0,1)" "$out"
expect_contains "describe shows the member's partition owner" "kafkawire" "$(awk -v g="$G" '$1 == g && $3 == 0 { print $7, $8, $9 }' <<<"$out")"
kwg reset-offsets "$G" --topic "$T2:1" --to-offset 2 --execute
expect_rc "reset-offsets refused while the group has a member" 1 $rc
expect_contains "the refusal says why" "active member" "$err"
kwg delete-offsets "$G" --topic "$T2"
expect_rc "delete-offsets refused while the group consumes the topic" 1 $rc
expect_contains "delete-offsets names the broker's error" "GROUP_SUBSCRIBED_TO_TOPIC" "$out"
kill -TERM "$BG_PID"
wait "$BG_PID"
expect_rc "-G member exits cleanly on SIGTERM" 0 $?
BG_PID=
if wait_state "$G" Empty; then pass; else fail "the group did not become Empty after its member left"; fi
expect_eq "the member committed what it read: partition 1 at its end" "5 5 0" "$(offsets_of "$G" "$T2" 1)"

# --------------------------------------------------------------------------------- delete-offsets
kwg delete-offsets "$G" --topic "$T2:0"
expect_rc "delete-offsets" 0 $rc
expect_eq "delete-offsets result" "TOPIC  PARTITION  STATUS
$T2  0  Successful" "$(sed -E 's/  +/  /g' <<<"$out")"
expect_eq "partition 0 has no committed offset any more" "" "$(offsets_of "$G" "$T2" 0)"
expect_eq "partition 1 keeps its offset" "5 5 0" "$(offsets_of "$G" "$T2" 1)"
kwg delete-offsets "$G" --topic "$T2"
kwg describe "$G"
expect_contains "after deleting every offset" "No committed offsets." "$out"

# ----------------------------------------------------------------------------------------- errors
kw -L -X fetch.max.wait=100
expect_rc "unknown -X key: usage error" 2 $rc
expect_contains "unknown -X key names the closest key" "did you mean 'fetch.max.wait.ms'" "$err"
kw -L -X auto.offset.reset=earlest
expect_rc "bad -X value" 2 $rc
expect_contains "bad -X value names the key" "auto.offset.reset" "$err"
printf 'bootstrap.servers=%s\n# a comment\n\nclient.id=from-file\n' "$BOOT" >"$WORK/kw.conf"
timeout 60 "$KW" -F "$WORK/kw.conf" -L >/dev/null 2>&1
expect_rc "-F config file" 0 $?

start=$(date +%s)
timeout 60 "$KW" -b 127.0.0.1:1 -L >"$WORK/out" 2>"$WORK/err"
rc=$?
elapsed=$(($(date +%s) - start))
expect_rc "unreachable broker: failure" 1 $rc
if [ $elapsed -le 20 ]; then pass; else fail "unreachable broker: took ${elapsed}s"; fi
expect_contains "unreachable broker: says which" "127.0.0.1:1" "$(cat "$WORK/err")"
timeout 60 "$KW" -b 127.0.0.1:1 -m 1 -C -t "$T" -e >/dev/null 2>&1
expect_rc "unreachable broker, -C" 1 $?
timeout 60 "$KW" groups list -b 127.0.0.1:1 -m 1 >/dev/null 2>&1
expect_rc "unreachable broker, groups" 1 $?
kw -L -b not-a-host-port
expect_rc "malformed -b" 2 $rc

# A listener that accepts connections and never sends a byte: a hung broker, or another program's port.
# -m bounds the whole wait, the Metadata request in flight included (kcat stops after -m too); before,
# this took request.timeout.ms (30 s).
python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
' >"$WORK/silent.port" &
SILENT_PID=$!
for _ in $(seq 50); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
SILENT=127.0.0.1:$(cat "$WORK/silent.port")
start=$(date +%s)
timeout 60 "$KW" -b "$SILENT" -L -m 2 >"$WORK/out" 2>"$WORK/err"
rc=$?
elapsed=$(($(date +%s) - start))
expect_rc "silent broker, -m 2: failure" 1 $rc
if [ $elapsed -le 8 ]; then pass; else fail "silent broker, -m 2: took ${elapsed}s"; fi
expect_contains "silent broker, -m 2: names the timeout" "$SILENT within the -m timeout (2 s)" "$(cat "$WORK/err")"
# The library gives up on the connection at socket.connection.setup.timeout.ms (ApiVersions unanswered),
# then tries again until -m ends.
timeout 60 "$KW" -b "$SILENT" -L -m 3 -X socket.connection.setup.timeout.ms=500 >"$WORK/out" 2>"$WORK/err"
expect_rc "silent broker, setup timeout: failure" 1 $?
expect_contains "silent broker, setup timeout: the last error is the connection's timeout, and why" \
  "last error: connection setup with $SILENT: no answer to ApiVersions within socket.connection.setup.timeout.ms (500 ms)" \
  "$(cat "$WORK/err")"
kill "$SILENT_PID" 2>/dev/null
SILENT_PID=

kw -C -t "no-such-topic-$RUN" -e
expect_rc "consume an unknown topic" 1 $rc
expect_contains "consume an unknown topic: says so" "no-such-topic-$RUN: no such topic" "$err"
kw -P -t "no-such-topic-$RUN" -X allow.auto.create.topics=false < <(echo x)
expect_rc "produce to an unknown topic without auto-creation" 1 $rc
expect_contains "produce to an unknown topic: says so" "no such topic" "$err"
kw -P -t "$T" -p 7 < <(echo x)
expect_rc "produce to a partition that does not exist" 1 $rc
expect_contains "produce to a partition that does not exist: says so" "no partition 7" "$err"
kw -C -t "$T" -p 7 -e
expect_rc "consume a partition that does not exist" 1 $rc
kwg describe "no-such-group-$RUN"
expect_rc "describe an unknown group" 1 $rc
expect_contains "describe an unknown group: says so" "does not exist" "$err"
kw -Q -t "$T"
expect_rc "-Q without partition and timestamp" 2 $rc
kw -C
expect_rc "-C without a topic" 2 $rc
kwg reset-offsets "$G" --topic "$T2"
expect_rc "reset-offsets without a target" 2 $rc
kwg frobnicate
expect_rc "groups: unknown command" 2 $rc
kw -C -t "$T" -o sideways
expect_rc "-C -o nonsense" 2 $rc

for help in "--help" "groups --help"; do
  # shellcheck disable=SC2086
  timeout 10 "$KW" $help >"$WORK/out" 2>&1
  expect_rc "kafkawire $help" 0 $?
done
expect_contains "--help lists every command" "kafkawire spy" "$("$KW" --help)"

# spy --dump: a file it cannot write is an error naming it, before anything listens.
timeout 10 "$KW" spy --listen 127.0.0.1:0 --upstream 127.0.0.1:1 --dump "$WORK/no-such-dir/frames" >"$WORK/out" 2>&1
expect_rc "spy --dump into a missing directory" 1 $?
expect_contains "spy --dump names the file" "cannot write --dump file $WORK/no-such-dir/frames" "$(cat "$WORK/out")"
timeout 10 "$KW" spy --dump >"$WORK/out" 2>&1
expect_rc "spy --dump without a file" 2 $?

# spy --html: a consume through the spy, written as the wire explorer page (explain --html's) when it stops.
"$KW" spy --listen 127.0.0.1:0 --upstream "$BOOT" --html "$WORK/spy.html" >"$WORK/spy.out" 2>&1 &
SPY_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$WORK/spy.out" && break; sleep 0.1; done
spy_at=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\),.*/\1/p' "$WORK/spy.out")
timeout 60 "$KW" -b "$spy_at" -C -t "$T" -p 0 -o beginning -c 3 -q -f '%s\n' >"$WORK/out" 2>"$WORK/err"
expect_rc "-C through spy --html ($(cat "$WORK/err"))" 0 $?
expect_eq "-C through spy --html: the first records" $'a\nb\nc' "$(cat "$WORK/out")"
kill -TERM "$SPY_PID"
wait "$SPY_PID"
expect_rc "spy --html: stops on SIGTERM" 0 $?
SPY_PID=
page=$(cat "$WORK/spy.html" 2>/dev/null)
expect_contains "spy --html: says where the page went" "frames written to $WORK/spy.html" "$(cat "$WORK/spy.out")"
expect_contains "spy --html: the Fetch exchange in the conversation" '"dir":"request","api":1,"name":"Fetch"' "$page"
expect_contains "spy --html: the Fetch response explained" '"type":"FetchResponse v' "$page"
expect_contains "spy --html: a fetched record's value in its tree" '"name":"value","type":"bytes"' "$page"
expect_contains "spy --html: the explorer's script" 'kafkawire explain --html' "$page"

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
