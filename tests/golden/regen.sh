#!/usr/bin/env bash
# Regenerates the golden test vectors from Apache Kafka's own Java classes
# (kafka-clients, see tests/golden/gen/pom.xml):
#   tests/golden/messages.txt       protocol message bodies, from the JSON lines
#                                   that $GOLDEN_FILL prints (one per case)
#   tests/golden/record_batches.txt RecordBatch v2 batches from Kafka's builder
#   tests/golden/assignments.txt    what Kafka's range, roundrobin and cooperative-sticky
#                                   assignors hand out for a fixed set of groups
#   protocol/src/kafka_errors.inc   the Errors enum: code, name, retriable (RetriableException),
#                                   invalid metadata (InvalidMetadataException), message
#
# Usage: tests/golden/regen.sh [messages] [records] [assignments] [errors]   (default: all four)
#        tests/golden/regen.sh --only FetchRequest,FetchResponse
#          regenerates only those messages' lines of messages.txt and keeps the others
#   GOLDEN_FILL  the C++ tool printing the message JSON lines
#                (default: build/tests/golden-fill under the repo root)
#
# Needs Java 17+ and Maven (dependencies come from Maven Central or ~/.m2).
# A golden file is replaced only when its whole generation succeeded.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
gen="$here/gen"
fill=${GOLDEN_FILL:-$root/build/tests/golden-fill}

want_messages=1 want_records=1 want_assignments=1 want_errors=1
only=""
if [[ ${1:-} == --only ]]; then
  [[ -n ${2:-} ]] || { echo "usage: $0 --only Name[,Name...]" >&2; exit 2; }
  only=$2
  set -- messages
fi
if (($# > 0)); then
  want_messages=0 want_records=0 want_assignments=0 want_errors=0
  for arg in "$@"; do
    case $arg in
      messages) want_messages=1 ;;
      records) want_records=1 ;;
      assignments) want_assignments=1 ;;
      errors) want_errors=1 ;;
      *) echo "usage: $0 [messages] [records] [assignments] [errors]" >&2; exit 2 ;;
    esac
  done
fi

if ((want_messages)) && [[ ! -x $fill ]]; then
  echo "regen.sh: golden filler '$fill' not found or not executable (build it, or set GOLDEN_FILL)" >&2
  exit 1
fi

# One regeneration at a time: several people may run this in one checkout.
exec 9>"$here/.regen.lock"
flock 9

# Build the generator jar; `package` also writes target/classpath.txt.
# (Maven 3.8 -q still prints bare ANSI resets; strip them, keep its errors.)
mvn -B -q -f "$gen/pom.xml" package 2>&1 | sed 's/\x1b\[0m//g' >&2
cp="$gen/target/golden-gen.jar:$(<"$gen/target/classpath.txt")"
run() { java -cp "$cp" kafkawire.golden.Main "$@"; }
# The same generator with an older kafka-clients (pom.xml: kafka.older.version) in place of the current
# one: it writes the versions Kafka 4.0 removed (KIP-896) that Kafka 3.9 still serves.
older_cp=$(tr ':' '\n' <<<"$cp" | sed "s|.*/kafka-clients-[^/]*\.jar$|$gen/target/older/kafka-clients-older.jar|" | paste -sd:)
run_older() { java -cp "$older_cp" kafkawire.golden.Main "$@"; }

# Guard: the tool's schema-name and JSON conventions still hold for every
# message in this kafka-clients version.
run selftest >/dev/null

tmp_files=()
cleanup() { ((${#tmp_files[@]})) && rm -f "${tmp_files[@]}"; return 0; }
trap cleanup EXIT

# Writes the output of the given command to a temp file next to $1, then renames it
# over $1 (same directory, so the rename is atomic) if the command succeeded.
generate() {
  local out=$1; shift
  local tmp
  tmp=$(mktemp "$out.tmp.XXXXXX")
  tmp_files+=("$tmp")
  "$@" >"$tmp"
  chmod 644 "$tmp" # mktemp makes it 0600
  if [[ ! -s $tmp ]]; then
    echo "regen.sh: $(basename "$out") would be empty" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
  echo "regen.sh: wrote ${out#"$root"/} ($(wc -l <"$out") lines)"
}

# The golden lines of golden-fill's JSON lines (stdin), in their order: those kafka-clients no longer
# writes come from the older one.
encode_messages() {
  local input=$here/.fill.tmp older=$here/.older.tmp new=$here/.new.tmp
  cat >"$input"
  run messages --older "$older" <"$input" >"$new"
  if [[ -s $older ]]; then
    run_older messages <"$older" >>"$new"
  fi
  # golden-fill's order: "name version" of each input line, then its golden line.
  sed -E 's/^\{"name":"([^"]*)","version":([0-9]+),.*/\1 \2/' "$input" |
    awk 'NR == FNR { line[$1 " " $2] = $0; next } ($0 in line) { print line[$0] }' "$new" -
  rm -f "$input" "$older" "$new"
}

messages() {
  if [[ -z $only ]]; then
    "$fill" | encode_messages
    return
  fi
  # Keep every other message's lines; replace the named ones.
  local names
  IFS=, read -r -a names <<<"$only"
  "$fill" "${names[@]}" | encode_messages >"$here/.only.tmp"
  [[ -s $here/.only.tmp ]] || { echo "regen.sh: no such message in golden-fill: $only" >&2; exit 1; }
  if [[ -f $here/messages.txt ]]; then
    awk -v only="$only" 'BEGIN { n = split(only, a, ","); for (i = 1; i <= n; i++) skip[a[i]] = 1 } !($1 in skip)' \
      "$here/messages.txt"
  fi
  cat "$here/.only.tmp"
  rm -f "$here/.only.tmp"
}

if ((want_messages)); then generate "$here/messages.txt" messages; fi
if ((want_records)); then generate "$here/record_batches.txt" run records; fi
if ((want_assignments)); then generate "$here/assignments.txt" run assignments; fi
if ((want_errors)); then generate "$root/protocol/src/kafka_errors.inc" run errors; fi
