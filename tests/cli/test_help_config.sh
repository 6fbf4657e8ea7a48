#!/usr/bin/env bash
# `kafkawire --help-config` wraps each key's meaning to the terminal width ($COLUMNS here), indented, without
# breaking or losing a word (no broker needed).
#   test_help_config.sh <path of kafkawire>
set -uo pipefail
KW=${1:?usage: test_help_config.sh <kafkawire>}
failures=0
check() {  # check <what> <condition...>
  local what=$1; shift
  if "$@"; then :; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}
# The longest line, in characters.
longest() { awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }'; }
# One word a line: what wrapping must keep, in order.
words() { tr -s ' \n' '\n\n' | sed '/^$/d'; }

unwrapped=$(COLUMNS=100000 "$KW" --help-config); rc=$?
check "COLUMNS=100000: exit 0 (got $rc)" test $rc -eq 0
check "COLUMNS=100000: one line per key" test "$(wc -l <<<"$unwrapped")" -eq "$(grep -c '^[a-z]' <<<"$unwrapped")"
check "COLUMNS=100000: bootstrap.servers listed" grep -q '^bootstrap\.servers  ' <<<"$unwrapped"
check "COLUMNS=100000: lines longer than 100 (else this test shows nothing)" test "$(longest <<<"$unwrapped")" -gt 100

for cols in 80 100 60; do  # 60: too narrow for the column, the meaning goes under the key
  out=$(COLUMNS=$cols "$KW" --help-config); rc=$?
  check "COLUMNS=$cols: exit 0 (got $rc)" test $rc -eq 0
  n=$(longest <<<"$out")
  check "COLUMNS=$cols: no line over $cols characters (longest: $n)" test "$n" -le "$cols"
  check "COLUMNS=$cols: the same words in the same order as unwrapped" \
    test "$(words <<<"$out")" == "$(words <<<"$unwrapped")"
  check "COLUMNS=$cols: every key starts a line" \
    test "$(grep -c '^[a-z]' <<<"$out")" -eq "$(grep -c '^[a-z]' <<<"$unwrapped")"
  check "COLUMNS=$cols: every other line is indented" test "$(grep -c '^[^ a-z]' <<<"$out")" -eq 0
done

# The default when $COLUMNS is unset and the output is not a terminal: 100 columns.
out=$(env -u COLUMNS "$KW" --help-config | cat)
n=$(longest <<<"$out")
check "no COLUMNS, not a terminal: no line over 100 characters (longest: $n)" test "$n" -le 100
check "no COLUMNS, not a terminal: wrapped (longest: $n)" test "$n" -gt 80
# -X list prints the same table.
check "-X list is --help-config" test "$(COLUMNS=80 "$KW" -X list)" == "$(COLUMNS=80 "$KW" --help-config)"

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "help-config: all checks passed"
