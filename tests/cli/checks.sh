# The checks of the CLI test scripts (sourced): pass / fail count, expect_eq, expect_rc (reads $out and
# $err for its message), expect_contains, expect_absent. A script ends with
#   echo "$checks checks, $failures failed"; [ "$failures" -eq 0 ]
failures=0
checks=0
pass() { checks=$((checks + 1)); }
fail() {
  checks=$((checks + 1))
  failures=$((failures + 1))
  echo "FAIL: $*" >&2
}
expect_eq() {
  if [ "$2" == "$3" ]; then pass; else fail "$1"$'\n'"--- expected:"$'\n'"$2"$'\n'"--- got:"$'\n'"$3"; fi
}
expect_rc() { if [ "$2" -eq "$3" ]; then pass; else fail "$1: exit status $3, expected $2"$'\n'"$out"$'\n'"$err"; fi; }
expect_contains() {
  if [[ $3 == *"$2"* ]]; then pass; else fail "$1: no '$2' in:"$'\n'"$3"; fi
}
expect_absent() {
  if [[ $3 != *"$2"* ]]; then pass; else fail "$1: '$2' in:"$'\n'"$3"; fi
}
