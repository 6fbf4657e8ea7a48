# The checks of the CLI test scripts (sourced): pass / fail count and
#   expect_eq <what> <expected> <actual>
#   expect_rc <what> <expected status> <actual status>     (its message quotes $out and $err, when set)
#   expect_contains <what> <needle> <haystack>, expect_absent <what> <needle> <haystack>
#   run_kw <args...>: "$KW" <args...> bounded in time (120 s); output in $out and $err (also $WORK/out,
#   $WORK/err), status in $rc. Scripts wrap it with their own arguments (kw, kwg).
# A script ends with
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
# Output quoted in a failure message: its first 3000 characters.
expect_rc() {
  local o=${out-} e=${err-}
  if [ "$2" -eq "$3" ]; then pass; else fail "$1: exit status $3, expected $2"$'\n'"${o:0:3000}"$'\n'"${e:0:3000}"; fi
}
expect_contains() {
  if [[ $3 == *"$2"* ]]; then pass; else fail "$1: no '$2' in:"$'\n'"${3:0:3000}"; fi
}
expect_absent() {
  if [[ $3 != *"$2"* ]]; then pass; else fail "$1: '$2' in:"$'\n'"${3:0:3000}"; fi
}

run_kw() {
  timeout 120 "$KW" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  out=$(cat "$WORK/out")
  err=$(cat "$WORK/err")
}
