#!/usr/bin/env bash
# `kafkawire conformance` against the test broker, run as a user would: the exit status, --json that
# parses, --junit that is well-formed XML with one testcase per cell and per flow, --markdown, --only,
# --read-only creating no topic, no topic left behind, usage errors, an unreachable broker, and the whole
# suite through the secured listeners with a Java client's -F files (SASL_SSL SCRAM-SHA-512, mutual TLS).
#   test_conformance_cli.sh <path of kafkawire>
# The broker: $KAFKAWIRE_BOOTSTRAP, else the `broker` ctest fixture's 127.0.0.1:29092. Its secured
# listeners come from its secured.env ($KAFKAWIRE_SECURED_ENV, else
# ${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/<port>/secured.env); without one that part is skipped only
# when KAFKAWIRE_NO_SECURED_BROKER=1.
set -uo pipefail

KW=${1:?usage: test_conformance_cli.sh <kafkawire>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
first=${BOOT%%,*}
ENV_FILE=${KAFKAWIRE_SECURED_ENV:-${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/${first##*:}/secured.env}
RUN=cli$(date +%s)$$
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

# kwc <args...>: kafkawire conformance, bounded in time. Output in $WORK/out, $WORK/err; status in $rc.
kwc() {
  timeout 300 "$KW" conformance "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}
# The topics the broker has, one a line, sorted.
topics() {
  timeout 60 "$KW" -b "$BOOT" -L -J | python3 -c 'import json,sys; print("\n".join(sorted(t["topic"] for t in json.load(sys.stdin)["topics"])))'
}
# A JUnit file's testcases: "<count> <failures>", or nothing when it is not well-formed XML.
junit_counts() {
  python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
print(len(cases), sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None))
EOF
}
# What the JSON result says: "<passed> <cells that are not 'none' + flows + setup/stage errors>".
json_counts() {
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(1 for a in r["apis"] for c in a["cells"] if c["state"] != "none") + len(r["flows"])
n += (1 if r["setupError"] else 0) + len(r["stageErrors"])
print(str(r["passed"]).lower(), n)
EOF
}

echo "kafkawire conformance against $BOOT (run id $RUN)"

# ------------------------------------------------------------------------------------------ usage
kwc --help
expect_rc "--help" 0 $rc
expect_contains "--help names --read-only" "--read-only" "$out"
kwc -b "$BOOT" --only NoSuchApi
expect_rc "--only with an unknown API" 2 $rc
expect_contains "--only names what it takes" "JoinGroup" "$(cat "$WORK/err")"
kwc -b "$BOOT" --json --markdown
expect_rc "--json and --markdown" 2 $rc
kwc -b "$BOOT" --no-such-option
expect_rc "an unknown option" 2 $rc
kwc -b "$BOOT" --junit
expect_rc "--junit without a file" 2 $rc

# A broker that is not there: a failure (1), said as such, and the JSON says so too.
kwc -b 127.0.0.1:1 --json
expect_rc "no broker at the address" 1 $rc
echo "$out" >"$WORK/down.json"
if python3 -m json.tool "$WORK/down.json" >/dev/null; then pass; else fail "--json for an unreachable broker does not parse"; fi
expect_contains "the JSON names the setup error" '"setupError":"no connection to the broker' "$out"
expect_contains "the JSON says it did not pass" '"passed":false' "$out"

# ------------------------------------------------------------------------- the whole suite: --json, --junit
before=$(topics)
kwc -b "$BOOT" --json --junit "$WORK/junit.xml" --run-id "$RUN" --label "test broker"
expect_rc "the whole suite passes against the test broker" 0 $rc
echo "$out" >"$WORK/result.json"
if python3 -m json.tool "$WORK/result.json" >/dev/null; then pass; else fail "--json does not parse: ${out:0:2000}"; fi
read -r passed cases <<<"$(json_counts "$WORK/result.json")"
expect_eq "--json: passed" "true" "$passed"
read -r junit_cases junit_failures <<<"$(junit_counts "$WORK/junit.xml")"
expect_eq "--junit: one testcase per cell either side serves and per flow, as --json lists them" "$cases" "$junit_cases"
expect_eq "--junit: no failures" "0" "$junit_failures"
if [ "${junit_cases:-0}" -gt 150 ]; then pass; else fail "--junit has only ${junit_cases:-no} testcases"; fi
expect_contains "--junit: a cell" 'name="Fetch v4"' "$(cat "$WORK/junit.xml")"
expect_contains "--junit: a flow" 'name="fetch session kept across fetches: Fetch v7"' "$(cat "$WORK/junit.xml")"
expect_contains "--json: the run id" "\"runId\":\"$RUN\"" "$out"
expect_contains "--json: the consumer-group flow" '"name":"classic consumer group #0' "$out"
expect_contains "--json: a codec round trip" '"name":"produce/fetch round trip, zstd","state":"ok"' "$out"
after=$(topics)
expect_absent "no topic of the run is left" "kwc-$RUN-" "$after"
# On a fresh broker the run's groups and transactions make the broker create __consumer_offsets and
# __transaction_state: the broker's own topics, not the run's.
expect_eq "the topics are what they were before the run (the broker's internal ones aside)" \
  "$(grep -v '^__' <<<"$before")" "$(grep -v '^__' <<<"$after")"

# ------------------------------------------------------------------------------ text, --only, --markdown
kwc -b "$BOOT" --only fetch,ListOffsets
expect_rc "--only Fetch,ListOffsets" 0 $rc
expect_contains "--only: the Fetch row" "| Fetch (1)" "$out"
expect_contains "--only: the ListOffsets row" "| ListOffsets (2)" "$out"
expect_absent "--only: no JoinGroup row" "| JoinGroup (11)" "$out"
expect_contains "--only: what was not run is named" "not run (--only): Produce" "$out"
expect_contains "the text ends with the verdict" "PASS: every cell the broker advertises passed" "$out"

kwc -b "$BOOT" --only ApiVersions,Metadata --markdown --label "Kafka under test"
expect_rc "--markdown" 0 $rc
expect_contains "--markdown: the heading" "### Kafka under test (metadata.version level" "$out"
expect_contains "--markdown: all pass" ": all pass" "$out"
expect_contains "--markdown: the table" "| API (key)                   | kafkawire | broker |" "$out"

# ---------------------------------------------------------------------------------------- --read-only
before=$(topics)
kwc -b "$BOOT" --read-only --json --junit "$WORK/ro.xml"
expect_rc "--read-only passes" 0 $rc
echo "$out" >"$WORK/ro.json"
if python3 -m json.tool "$WORK/ro.json" >/dev/null; then pass; else fail "--read-only --json does not parse"; fi
expect_contains "--read-only: said in the JSON" '"readOnly":true' "$out"
apis=$(python3 -c 'import json,sys; print(" ".join(a["name"] for a in json.load(open(sys.argv[1]))["apis"]))' "$WORK/ro.json")
expect_eq "--read-only: only the APIs that read" \
  "Fetch ListOffsets Metadata OffsetFetch FindCoordinator DescribeGroups ListGroups ApiVersions DescribeConfigs DescribeCluster ConsumerGroupDescribe" \
  "$apis"
read -r passed cases <<<"$(json_counts "$WORK/ro.json")"
read -r junit_cases junit_failures <<<"$(junit_counts "$WORK/ro.xml")"
expect_eq "--read-only --junit: one testcase per cell and flow" "$cases" "$junit_cases"
after=$(topics)
expect_eq "--read-only creates no topic (and deletes none)" "$before" "$after"

# -------------------------------------------------------------------- the secured listeners, with -F files
if [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  cat >"$WORK/sasl.properties" <<EOF
bootstrap.servers=$KAFKAWIRE_SASL_SSL_BOOTSTRAP
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username="$KAFKAWIRE_SASL_USER" password="$KAFKAWIRE_SASL_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKAWIRE_TLS_CA
EOF
  cat "$KAFKAWIRE_TLS_CERT" "$KAFKAWIRE_TLS_KEY" >"$WORK/keystore.pem"
  cat >"$WORK/ssl.properties" <<EOF
bootstrap.servers=$KAFKAWIRE_SSL_BOOTSTRAP
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKAWIRE_TLS_CA
ssl.keystore.type=PEM
ssl.keystore.location=$WORK/keystore.pem
EOF
  kwc -F "$WORK/sasl.properties"
  expect_rc "the whole suite through SASL_SSL (SCRAM-SHA-512) with a Java client's file" 0 $rc
  expect_contains "the header names the security" "over SASL SCRAM-SHA-512 TLS" "$out"
  expect_absent "no password in the output" "$KAFKAWIRE_SASL_PASSWORD" "$out$(cat "$WORK/err")"
  kwc -F "$WORK/ssl.properties" --read-only
  expect_rc "--read-only through mutual TLS" 0 $rc
  # A wrong password: the broker refuses the login, the run fails (1), not a usage error.
  sed "s/password=\"[^\"]*\"/password=\"not-the-password\"/" "$WORK/sasl.properties" >"$WORK/wrong.properties"
  kwc -F "$WORK/wrong.properties" --only ApiVersions
  expect_rc "a wrong SASL password" 1 $rc
  expect_contains "a wrong SASL password: said" "no connection to the broker" "$out"
elif [ "${KAFKAWIRE_NO_SECURED_BROKER:-}" = 1 ]; then
  echo "secured listeners skipped (KAFKAWIRE_NO_SECURED_BROKER=1)"
else
  fail "no $ENV_FILE from kafka-local start --secured (set KAFKAWIRE_NO_SECURED_BROKER=1 to skip)"
fi

if [ $failures -ne 0 ]; then
  echo "$failures of $checks check(s) failed" >&2
  exit 1
fi
echo "kafkawire conformance: all $checks checks passed"
