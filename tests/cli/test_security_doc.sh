#!/usr/bin/env bash
# docs/security.md against the secured test broker: its configuration files work, its C++ blocks say the
# same, and its error messages are what kafkawire prints.
#   test_security_doc.sh <path of kafkawire> <path of docs/security.md>
#
# 1. Every ```properties block of the page is a `kafkawire -F` file. Its host names, paths, user and
#    passwords are replaced by the test broker's (secured.env): bootstrap.servers by the listener its
#    security.protocol names, at "localhost" (the broker's certificate names localhost and 127.0.0.1, so
#    the host-name check and SNI see a name), sasl.username/sasl.password by the test user, ssl.ca.location,
#    ssl.certificate.location, ssl.key.location (the encrypted key when ssl.key.password is set) and
#    ssl.key.password by the test CA and client certificate. Every other line is kept as written. A TLS file
#    that names no CA runs with SSL_CERT_FILE set to the test CA: the system trust store, as OpenSSL reads
#    it. Each file must give `kafkawire -F file -L`, and produce a record that consuming with it reads back.
# 2. The first ```cpp block after each properties block sets the same keys; those given as string literals
#    to the same values.
# 3. Each failure the page shows (a wrong CA, a wrong password, ...) is run, and the line kafkawire prints,
#    with the broker's ports mapped to the default ones (29092...), must be a line of the page.
#
# The broker: secured.env from KAFKAWIRE_SECURED_ENV, else <KAFKAWIRE_BROKER_DIR or /tmp/kafkawire-broker>/
# <port of KAFKAWIRE_BOOTSTRAP, else 29092>/secured.env (the `broker` ctest fixture's). Without one the test
# fails, unless KAFKAWIRE_NO_SECURED_BROKER=1 (then it is skipped, exit 77).
set -uo pipefail

KW=${1:?usage: test_security_doc.sh <kafkawire> <docs/security.md>}
DOC=${2:?usage: test_security_doc.sh <kafkawire> <docs/security.md>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
BASE=${BOOT##*:}
BASE=${BASE%%,*}
ENV_FILE=${KAFKAWIRE_SECURED_ENV:-${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/$BASE/secured.env}
if [ ! -f "$ENV_FILE" ]; then
  if [ "${KAFKAWIRE_NO_SECURED_BROKER:-}" = 1 ]; then
    echo "skipped: KAFKAWIRE_NO_SECURED_BROKER=1"
    exit 77
  fi
  echo "FAIL: no $ENV_FILE (kafka-local start --secured writes it; KAFKAWIRE_NO_SECURED_BROKER=1 skips)" >&2
  exit 1
fi
setting() {
  local v
  v=$(sed -n "s/^$1=//p" "$ENV_FILE")
  v=${v#\'}
  printf '%s' "${v%\'}"
}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RUN=$(date +%s)-$$-$RANDOM

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

first() { printf '%s' "${1%%,*}"; }  # the first host:port of a bootstrap list
port_of() { local a; a=$(first "$1"); printf '%s' "${a##*:}"; }
PLAINTEXT=$(first "$(setting KAFKAWIRE_BOOTSTRAP)")
SSL=$(first "$(setting KAFKAWIRE_SSL_BOOTSTRAP)")
SASL_SSL=$(first "$(setting KAFKAWIRE_SASL_SSL_BOOTSTRAP)")
SASL_PLAINTEXT=$(first "$(setting KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP)")
WRONG_HOST=$(first "$(setting KAFKAWIRE_TLS_WRONG_HOST_BOOTSTRAP)")
CA=$(setting KAFKAWIRE_TLS_CA)
CERT=$(setting KAFKAWIRE_TLS_CERT)
KEY=$(setting KAFKAWIRE_TLS_KEY)
KEY_ENCRYPTED=$(setting KAFKAWIRE_TLS_KEY_ENCRYPTED)
KEY_PASSWORD=$(setting KAFKAWIRE_TLS_KEY_PASSWORD)
USER_NAME=$(setting KAFKAWIRE_SASL_USER)
PASSWORD=$(setting KAFKAWIRE_SASL_PASSWORD)
for v in PLAINTEXT SSL SASL_SSL SASL_PLAINTEXT WRONG_HOST CA CERT KEY KEY_ENCRYPTED KEY_PASSWORD USER_NAME PASSWORD; do
  [ -n "${!v}" ] || { echo "FAIL: $ENV_FILE lacks what $v comes from" >&2; exit 1; }
done
P=$(port_of "$PLAINTEXT")

# ------------------------------------------------------------------------------------ the blocks

# block-N.properties and block-N.cpp (the first cpp block after it, if any), N from 1.
awk -v dir="$WORK" '
  /^```properties$/ { n++; out = dir "/block-" n ".properties"; want_cpp = 1; next }
  /^```cpp$/ && want_cpp { out = dir "/block-" n ".cpp"; want_cpp = 0; next }
  /^```/ { out = ""; next }
  out != "" { print > out }
' "$DOC"
blocks=$(find "$WORK" -name 'block-*.properties' | wc -l)
[ "$blocks" -ge 3 ] && pass || fail "docs/security.md has $blocks properties blocks, not the three setups"

# key=value of a properties file (comments and blank lines skipped)
value_of() { sed -n "s/^$2=//p" "$1" | tail -1; }

for props in "$WORK"/block-*.properties; do
  name=$(sed -n '1s/^# *\([^:]*\).*/\1/p' "$props")
  [ -n "$name" ] || name=$(basename "$props")
  proto=$(value_of "$props" security.protocol)
  case ${proto^^} in
    SSL) listener=$SSL ;;
    SASL_SSL) listener=$SASL_SSL ;;
    SASL_PLAINTEXT) listener=$SASL_PLAINTEXT ;;
    *) listener=$PLAINTEXT ;;
  esac
  # Every bootstrap host:port of the file becomes the listener, at localhost.
  local_listener=localhost:${listener##*:}
  test_file=$WORK/$name
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%%=*}
    case $line in
      '#'* | '') printf '%s\n' "$line" ;;
      bootstrap.servers=*)
        n=$(awk -F, '{ print NF }' <<<"${line#*=}")
        printf 'bootstrap.servers=%s\n' "$(for _ in $(seq "$n"); do printf '%s,' "$local_listener"; done | sed 's/,$//')"
        ;;
      sasl.username=*) printf '%s=%s\n' "$key" "$USER_NAME" ;;
      sasl.password=*) printf '%s=%s\n' "$key" "$PASSWORD" ;;
      ssl.ca.location=*) printf '%s=%s\n' "$key" "$CA" ;;
      ssl.certificate.location=*) printf '%s=%s\n' "$key" "$CERT" ;;
      ssl.key.location=*)
        if [ -n "$(value_of "$props" ssl.key.password)" ]; then
          printf '%s=%s\n' "$key" "$KEY_ENCRYPTED"
        else
          printf '%s=%s\n' "$key" "$KEY"
        fi
        ;;
      ssl.key.password=*) printf '%s=%s\n' "$key" "$KEY_PASSWORD" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done <"$props" >"$test_file"
  runner=()
  if [[ ${proto^^} == *SSL ]] && [ -z "$(value_of "$props" ssl.ca.location)" ] &&
    [ -z "$(value_of "$props" ssl.ca.pem)" ]; then
    runner=(env SSL_CERT_FILE="$CA")  # the "system" trust store
  fi
  out=$(timeout 60 "${runner[@]}" "$KW" -F "$test_file" -L -m 20 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [[ $out == *"Metadata for all topics"* ]]; then pass; else
    fail "$name: kafkawire -F $name -L: exit $rc:"$'\n'"$out"$'\n'"--- the file as run:"$'\n'"$(cat "$test_file")"
  fi
  topic=security-doc-$RUN-${name%%.*}
  out=$(printf 'doc:%s\n' "$name" | timeout 60 "${runner[@]}" "$KW" -F "$test_file" -P -t "$topic" -K : 2>&1)
  rc=$?
  [ $rc -eq 0 ] && pass || fail "$name: producing with it: exit $rc: $out"
  out=$(timeout 60 "${runner[@]}" "$KW" -F "$test_file" -q -C -t "$topic" -o beginning -e -f '%k:%s\n' \
    2>"$WORK/err")
  rc=$?
  [ $rc -eq 0 ] && [ "$out" = "doc:$name" ] && pass ||
    fail "$name: consuming with it: exit $rc, read '$out', not 'doc:$name': $(cat "$WORK/err")"

  # The C++ block after it: the same keys, the same literal values.
  cpp=${props%.properties}.cpp
  if [ ! -f "$cpp" ]; then
    fail "$name: no \`\`\`cpp block after it"
    continue
  fi
  # {"key", value} pairs, a pair's key and value possibly on two lines.
  pairs=$(tr '\n' ' ' <"$cpp" | grep -oE '\{"[a-z.]+", *[^}]*\}' |
    sed -E 's/^\{"([a-z.]+)", *(.*)\}$/\1\t\2/; s/[[:space:]]+$//')
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '#'* | '') continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    cpp_value=$(awk -F'\t' -v k="$key" '$1 == k { print $2 }' <<<"$pairs")
    if [ -z "$cpp_value" ]; then
      fail "$name: the C++ block does not set $key"
    elif [[ $cpp_value == \"*\" ]]; then
      # Adjacent literals ("a" "b") are one string.
      literal=$(sed -E 's/"[[:space:]]*"//g; s/^"//; s/"$//' <<<"$cpp_value")
      [ "$literal" = "$value" ] && pass || fail "$name: C++ sets $key to \"$literal\", the file to \"$value\""
    else
      pass  # a variable (a secret from the program): the key is there
    fi
  done <"$props"
  n_props=$(grep -cvE '^(#|$)' "$props")
  n_cpp=$(grep -c . <<<"$pairs")
  [ "$n_props" = "$n_cpp" ] && pass || fail "$name: the file sets $n_props keys, the C++ block $n_cpp"
done

# ------------------------------------------------------------------------------------ the failures

# The line kafkawire printed, with the broker's ports as the default broker's (base 29092).
normalise() {
  local off sed_args=()
  for off in 0 10 20 30 40; do sed_args+=(-e "s/:$((P + off))\\b/:$((29092 + off))/g"); done
  sed "${sed_args[@]}"
}
# expect_error WHAT ARGS...: kafkawire ARGS -L fails, and what it printed is a line of the page.
expect_error() {
  local what=$1 out rc line
  shift
  out=$(timeout 60 "$KW" "$@" -L 2>&1)
  rc=$?
  line=$(printf '%s\n' "$out" | tail -1 | normalise)
  if [ $rc -eq 0 ]; then
    fail "$what: kafkawire $* -L succeeded"
  elif grep -qxF -- "$line" "$DOC"; then
    pass
  else
    fail "$what: docs/security.md does not have the line kafkawire prints today:"$'\n'"$line"
  fi
}

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=another CA' -keyout "$WORK/other-ca-key.pem" \
  -out "$WORK/other-ca.pem" >/dev/null 2>&1 || fail "openssl could not make a CA"
sasl_ssl=(-b "$SASL_SSL" -X security.protocol=SASL_SSL -X "ssl.ca.location=$CA" -X "sasl.username=$USER_NAME")
expect_error "a CA that did not sign the broker's certificate" -b "$SASL_SSL" -X security.protocol=SASL_SSL \
  -X "ssl.ca.location=$WORK/other-ca.pem" -X sasl.mechanism=PLAIN -X "sasl.username=$USER_NAME" \
  -X "sasl.password=$PASSWORD"
expect_error "a certificate for another host" -b "$WRONG_HOST" -X security.protocol=SSL -X "ssl.ca.location=$CA"
expect_error "a wrong PLAIN password" "${sasl_ssl[@]}" -X sasl.mechanism=PLAIN -X sasl.password=not-the-password
expect_error "a wrong SCRAM password" "${sasl_ssl[@]}" -X sasl.mechanism=SCRAM-SHA-512 \
  -X sasl.password=not-the-password
expect_error "a mechanism the listener does not enable" -b "$SASL_PLAINTEXT" -X security.protocol=SASL_PLAINTEXT \
  -X sasl.mechanism=OAUTHBEARER -X sasl.oauthbearer.token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJrYWZrYXdpcmUifQ.
expect_error "a plaintext client on a TLS port" -b "$SSL"
expect_error "a TLS client on a plaintext port" -b "$PLAINTEXT" -X security.protocol=SSL -X "ssl.ca.location=$CA"
expect_error "no client certificate" -b "$SSL" -X security.protocol=SSL -X "ssl.ca.location=$CA"
expect_error "a wrong key password" -b "$SSL" -X security.protocol=SSL -X "ssl.ca.location=$CA" \
  -X "ssl.certificate.location=$CERT" -X "ssl.key.location=$KEY_ENCRYPTED" -X ssl.key.password=not-the-password
expect_error "a client without SASL on a SASL listener" -b "$SASL_PLAINTEXT"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
