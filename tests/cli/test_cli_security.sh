#!/usr/bin/env bash
# `kafkawire -F client.properties` with the files a Java client uses to reach a secured broker: produce and
# consume through SASL_SSL (SCRAM-SHA-512, sasl.jaas.config continued over lines, a PEM trust store) and
# through mutual TLS, `kafkawire groups` with the same file; -X dump shows the configuration with every
# secret redacted, and no error message shows one.
#   test_cli_security.sh <path of kafkawire> <path of cli_create_topic>
# The broker: the `broker` ctest fixture (kafka-local start --secured), or $KAFKAWIRE_BOOTSTRAP. Its secured
# listeners and test credentials come from its secured.env: $KAFKAWIRE_SECURED_ENV, else
# ${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/<port>/secured.env (as tests/broker/secured_env.hpp finds
# it). Without one the test fails, unless KAFKAWIRE_NO_SECURED_BROKER=1 (an outside broker): then it skips.
set -uo pipefail

KW=${1:?usage: test_cli_security.sh <kafkawire> <cli_create_topic>}
CREATE=${2:?usage: test_cli_security.sh <kafkawire> <cli_create_topic>}
BOOT=${KAFKAWIRE_BOOTSTRAP:-127.0.0.1:29092}
first=${BOOT%%,*}
ENV_FILE=${KAFKAWIRE_SECURED_ENV:-${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/${first##*:}/secured.env}
if [ ! -f "$ENV_FILE" ]; then
  if [ "${KAFKAWIRE_NO_SECURED_BROKER:-}" = 1 ]; then
    echo "skipped: no secured broker (KAFKAWIRE_NO_SECURED_BROKER=1)"
    exit 0
  fi
  echo "FAIL: no $ENV_FILE from kafka-local start --secured (set KAFKAWIRE_NO_SECURED_BROKER=1 to skip)" >&2
  exit 1
fi
# shellcheck disable=SC1090
. "$ENV_FILE"

RUN=$(date +%s)-$$-$RANDOM
T=cli-sec-$RUN
G=cli-sec-group-$RUN
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"
# expect_no_secret <what> <text> <secret...>: none of the secrets appears in the text.
expect_no_secret() {
  local what=$1 text=$2 s
  shift 2
  for s in "$@"; do
    if [[ $text == *"$s"* ]]; then
      fail "$what shows a secret ('${s:0:3}...'):"$'\n'"$text"
      return
    fi
  done
  pass
}

# kw <args...>: kafkawire with no -b (the files name the brokers). Output in $out, $err; status in $rc.
kw() { run_kw "$@"; }

echo "kafkawire -F with Java client files against $KAFKAWIRE_SASL_SSL_BOOTSTRAP (SASL_SSL) and" \
  "$KAFKAWIRE_SSL_BOOTSTRAP (SSL) (topic $T)"
"$CREATE" "$BOOT" "$T" 2 || { echo "FAIL: cannot create topic $T" >&2; exit 1; }

# A Java client's file for SASL_SSL, written the ways such files are: the JAAS line continued with
# backslashes, `key: value` and `key value` separators, # and ! comments, blanks around '=', and keys
# Java clients need that kafkawire takes as what it does anyway.
cat >"$WORK/sasl.properties" <<EOF
# Kafka client configuration (Java)
bootstrap.servers = $KAFKAWIRE_SASL_SSL_BOOTSTRAP
security.protocol: SASL_SSL
sasl.mechanism SCRAM-SHA-512
! the credentials
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username="$KAFKAWIRE_SASL_USER" \\
    password="$KAFKAWIRE_SASL_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKAWIRE_TLS_CA
client.dns.lookup=use_all_dns_ips
key.serializer=org.apache.kafka.common.serialization.ByteArraySerializer
value.serializer=org.apache.kafka.common.serialization.StringSerializer
EOF
# Mutual TLS: the client's certificate and key as a PEM key store (certificate and key in one file).
cat "$KAFKAWIRE_TLS_CERT" "$KAFKAWIRE_TLS_KEY" >"$WORK/keystore.pem"
cat >"$WORK/ssl.properties" <<EOF
bootstrap.servers=$KAFKAWIRE_SSL_BOOTSTRAP
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKAWIRE_TLS_CA
ssl.keystore.type=PEM
ssl.keystore.location=$WORK/keystore.pem
ssl.endpoint.identification.algorithm=https
EOF

# ------------------------------------------------------------------------ produce and consume, both ways
kw -F "$WORK/sasl.properties" -P -t "$T" -p 0 -K : < <(printf 'k1:over SASL_SSL 1\nk2:over SASL_SSL 2\n')
expect_rc "produce through SASL_SSL with the Java file" 0 $rc
expect_eq "produce through SASL_SSL: nothing on stderr" "" "$err"
kw -F "$WORK/ssl.properties" -P -t "$T" -p 1 < <(printf 'over mTLS 1\nover mTLS 2\n')
expect_rc "produce through mutual TLS with the Java file" 0 $rc
kw -F "$WORK/ssl.properties" -C -t "$T" -p 0 -e -q -f '%k=%s\n'
expect_rc "consume through mutual TLS" 0 $rc
expect_eq "mutual TLS reads what SASL_SSL wrote" "k1=over SASL_SSL 1
k2=over SASL_SSL 2" "$out"
kw -F "$WORK/sasl.properties" -C -t "$T" -p 1 -e -q
expect_rc "consume through SASL_SSL" 0 $rc
expect_eq "SASL_SSL reads what mutual TLS wrote" "over mTLS 1
over mTLS 2" "$out"

# A group member through SASL_SSL commits; `kafkawire groups` through mutual TLS sees the offsets.
kw -F "$WORK/sasl.properties" -G "$G" "$T" -c 4 -q -f '%p:%s\n'
expect_rc "-G through SASL_SSL" 0 $rc
expect_eq "-G reads every record" "0:over SASL_SSL 1
0:over SASL_SSL 2
1:over mTLS 1
1:over mTLS 2" "$(sort <<<"$out")"
kw groups describe "$G" -F "$WORK/ssl.properties"
expect_rc "groups describe through mutual TLS" 0 $rc
expect_eq "the committed offsets, through the other listener" "$G $T 0 2 2 0
$G $T 1 2 2 0" "$(awk -v g="$G" '$1 == g { print $1, $2, $3, $4, $5, $6 }' <<<"$out" | sort)"
kw groups list -F "$WORK/sasl.properties"
expect_rc "groups list through SASL_SSL" 0 $rc
expect_contains "groups list through SASL_SSL" "$G" "$out"

# Java's empty ssl.endpoint.identification.algorithm turns the host name check off: the WRONG_HOST
# listener's certificate names another host.
if [ -n "${KAFKAWIRE_TLS_WRONG_HOST_BOOTSTRAP:-}" ]; then
  printf 'bootstrap.servers=%s\nsecurity.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=%s\n' \
    "$KAFKAWIRE_TLS_WRONG_HOST_BOOTSTRAP" "$KAFKAWIRE_TLS_CA" >"$WORK/wrong-host.properties"
  kw -F "$WORK/wrong-host.properties" -L -m 2
  expect_rc "a certificate for another host is refused" 1 $rc
  expect_contains "and the error says why" "certificate does not name 127.0.0.1" "$err"
  echo 'ssl.endpoint.identification.algorithm=' >>"$WORK/wrong-host.properties"
  kw -F "$WORK/wrong-host.properties" -L
  expect_rc "ssl.endpoint.identification.algorithm= (empty, as Java): no host name check" 0 $rc
fi

# ------------------------------------------------------------------------------- secrets never shown
KEY_BODY=$(sed -n 2p "$KAFKAWIRE_TLS_KEY")  # a line of the private key's base64
TOKEN=eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLWZvci10ZXN0.
kw -F "$WORK/sasl.properties" -X dump
expect_rc "-X dump" 0 $rc
expect_contains "-X dump: the file's settings" "security.protocol=SASL_SSL" "$out"
expect_contains "-X dump: the JAAS line with its password redacted" \
  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$KAFKAWIRE_SASL_USER\" password=[redacted, ${#KAFKAWIRE_SASL_PASSWORD} chars];" \
  "$out"
expect_contains "-X dump: defaults too" "fetch.max.wait.ms=500" "$out"
expect_no_secret "-X dump" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
kw -b "$BOOT" -X security.protocol=SASL_SSL -X sasl.mechanism=PLAIN -X sasl.username=u \
  -X "sasl.password=$KAFKAWIRE_SASL_PASSWORD" -X "ssl.key.password=$KAFKAWIRE_TLS_KEY_PASSWORD" \
  -X "ssl.key.pem=$(cat "$KAFKAWIRE_TLS_KEY")" -X "ssl.certificate.pem=$(cat "$KAFKAWIRE_TLS_CERT")" \
  -X "sasl.oauthbearer.token=$TOKEN" -X dump
expect_rc "-X dump with every secret key" 0 $rc
expect_contains "-X dump: sasl.password" "sasl.password=[redacted, ${#KAFKAWIRE_SASL_PASSWORD} chars]" "$out"
expect_contains "-X dump: ssl.key.password" "ssl.key.password=[redacted, ${#KAFKAWIRE_TLS_KEY_PASSWORD} chars]" "$out"
expect_contains "-X dump: sasl.oauthbearer.token" "sasl.oauthbearer.token=[redacted, ${#TOKEN} chars]" "$out"
expect_contains "-X dump: ssl.key.pem" "ssl.key.pem=[redacted, " "$out"
expect_contains "-X dump: a certificate is not a secret" "ssl.certificate.pem=-----BEGIN CERTIFICATE-----\\n" "$out"
expect_no_secret "-X dump" "$out$err" "$KAFKAWIRE_SASL_PASSWORD" "$KAFKAWIRE_TLS_KEY_PASSWORD" "$TOKEN" \
  "$KEY_BODY" "PRIVATE KEY"
kw groups -F "$WORK/sasl.properties" -X dump
expect_rc "groups -X dump" 0 $rc
expect_contains "groups -X dump: its own defaults" "enable.auto.commit=false" "$out"
expect_no_secret "groups -X dump" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"

# Errors: the key and the reason, never the secret.
kw -F "$WORK/sasl.properties" -X "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"$KAFKAWIRE_SASL_PASSWORD" -L
expect_rc "an unclosed quote in sasl.jaas.config" 2 $rc
expect_contains "it names the key" "sasl.jaas.config: a quoted value" "$err"
expect_no_secret "the sasl.jaas.config error" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
kw -F "$WORK/sasl.properties" -X "ssl.truststore.password=$KAFKAWIRE_SASL_PASSWORD" -L
expect_rc "ssl.truststore.password with a PEM trust store" 2 $rc
expect_contains "it names the key and says why" "ssl.truststore.password: a PEM trust store has no password" "$err"
expect_no_secret "the ssl.truststore.password error" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
kw -F "$WORK/sasl.properties" -X "sasl.password:$KAFKAWIRE_SASL_PASSWORD" -L
expect_rc "-X without '='" 2 $rc
expect_contains "it shows the key" "'sasl.password' and $((${#KAFKAWIRE_SASL_PASSWORD} + 1)) more characters is not key=value" "$err"
expect_no_secret "the -X error" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
printf 'security.protocol=SASL_SSL\nsasl.password=%s\\u12\n' "$KAFKAWIRE_SASL_PASSWORD" >"$WORK/bad.properties"
kw -F "$WORK/bad.properties" -L
expect_rc "a bad escape in the file" 2 $rc
expect_contains "it names the file and the line" "-F: $WORK/bad.properties: line 2: malformed \\uXXXX escape" "$err"
expect_no_secret "the -F error" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
kw groups list -F "$WORK/bad.properties"
expect_rc "groups: a bad escape in the file" 2 $rc
expect_no_secret "the groups -F error" "$out$err" "$KAFKAWIRE_SASL_PASSWORD"
# The broker refuses a wrong password: its error, not the password.
WRONG=not-$KAFKAWIRE_SASL_PASSWORD
sed "s/password=\"$KAFKAWIRE_SASL_PASSWORD\"/password=\"$WRONG\"/" "$WORK/sasl.properties" >"$WORK/wrong.properties"
kw -F "$WORK/wrong.properties" -L -m 2
expect_rc "a wrong password" 1 $rc
expect_contains "the broker's refusal" "SASL_AUTHENTICATION_FAILED" "$err"
expect_no_secret "the authentication error" "$out$err" "$WRONG"

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
