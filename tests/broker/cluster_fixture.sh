#!/usr/bin/env bash
# ctest fixture for the 3-node cluster tests ([cluster]): `cluster_fixture.sh start` starts a 3-node Apache
# Kafka cluster with tools/broker/kafka-local on base port KAFKAWIRE_CLUSTER_PORT (default 29192: brokers
# 29192, 29194, 29196, controllers one above each), unless one already runs there; `stop` stops only what
# `start` started. State under KAFKAWIRE_BROKER_DIR (default /tmp/kafkawire-broker), as for kafka-local.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${KAFKAWIRE_CLUSTER_PORT:-29192}
marker=${KAFKAWIRE_BROKER_DIR:-/tmp/kafkawire-broker}/cluster-$port-started-by-ctest
local_cmd() { "$root/tools/broker/kafka-local" "$@" --port "$port"; }
case "${1:-}" in
  start)
    if local_cmd status --nodes 3 >/dev/null 2>&1; then
      echo "using the 3-node cluster already running on base port $port"
      exit 0
    fi
    local_cmd start --nodes 3 ${KAFKAWIRE_BROKER_VERSION:+--version "$KAFKAWIRE_BROKER_VERSION"}
    mkdir -p "$(dirname "$marker")" && touch "$marker"
    ;;
  stop)
    if [ -f "$marker" ]; then
      rm -f "$marker"
      local_cmd stop
    fi
    ;;
  *) echo "usage: cluster_fixture.sh start|stop" >&2; exit 2 ;;
esac
