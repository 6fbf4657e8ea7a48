#!/usr/bin/env bash
# ctest fixture for the broker tests: `fixture.sh start` starts a local Apache Kafka (tools/broker/kafka-local)
# unless KAFKAWIRE_BOOTSTRAP names one already; `fixture.sh stop` stops only what `start` started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
marker=${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/started-by-ctest
case "${1:-}" in
  start)
    if [ -n "${KAFKAWIRE_BOOTSTRAP:-}" ]; then
      echo "using the broker at $KAFKAWIRE_BOOTSTRAP"
      exit 0
    fi
    # --secured: TLS and SASL listeners beside the plaintext one, for tests/broker/test_security.cpp.
    "$root/tools/broker/kafka-local" start --secured ${KAFKAWIRE_BROKER_VERSION:+--version "$KAFKAWIRE_BROKER_VERSION"}
    mkdir -p "$(dirname "$marker")" && touch "$marker"
    ;;
  stop)
    if [ -f "$marker" ]; then
      rm -f "$marker"
      "$root/tools/broker/kafka-local" stop
    fi
    ;;
  *) echo "usage: fixture.sh start|stop" >&2; exit 2 ;;
esac
