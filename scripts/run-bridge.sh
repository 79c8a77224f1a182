#!/usr/bin/env bash
# Starts the built bridge in the background (PID file, log file), waits until it is ready, prints a curl to try.
# Usage: scripts/run-bridge.sh CONFIG | scripts/run-bridge.sh --stop
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PID_FILE=var/run/bridge.pid
LOG_FILE=var/log/bridge.log
mkdir -p var/run var/log

running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(<"$PID_FILE")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

if [[ ${1:-} == --stop ]]; then
  if pid=$(running_pid); then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { echo "bridge (pid $pid) did not stop within 30 s; sending SIGKILL" >&2; kill -KILL "$pid"; }
    echo "bridge stopped (pid $pid)"
  else
    echo "bridge is not running"
  fi
  rm -f "$PID_FILE"
  exit 0
fi

CONFIG=${1:?usage: $0 CONFIG}
eval "$(bash scripts/stack.sh env)"
export BRIDGE_KAFKA_BROKERS=${BRIDGE_KAFKA_BROKERS:-$KAFKA_BROKERS}
export BRIDGE_SCHEMA_REGISTRY_URL=${BRIDGE_SCHEMA_REGISTRY_URL:-$SCHEMA_REGISTRY_URL}
PORT=${BRIDGE_HTTP_PORT:-$(sed -n 's/^ *port: *\([0-9]*\).*/\1/p' "$CONFIG" | head -1)}
PORT=${PORT:-8080}

if pid=$(running_pid); then
  echo "bridge already running (pid $pid); restarting it with $CONFIG"
  bash "$0" --stop >/dev/null
fi
nohup node dist/main.js serve --config "$CONFIG" >>"$LOG_FILE" 2>&1 &
echo $! >"$PID_FILE"
pid=$!

for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the bridge exited during start-up; last lines of $LOG_FILE:" >&2
    tail -n 30 "$LOG_FILE" >&2
    exit 1
  fi
  if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "bridge not ready after 60 s; see $LOG_FILE" >&2; exit 1; }

cat <<MSG
hotel-kafka-bridge is running (pid $pid) on http://127.0.0.1:$PORT   log: $LOG_FILE   stop: make stop
Kafka: $KAFKA_BROKERS   schema registry: $SCHEMA_REGISTRY_URL

Post the DV2000 document's example event:

curl -sS -X POST 'http://127.0.0.1:$PORT/v1/dv2000/front-desk?token=demo-dv2000-secret' -H 'Content-Type: application/json' -H 'User-Agent: DuVoice/8.0.20' --data-binary '{"category":3,"date":"2023/09/13","event":12,"message":{"actor":"Visitant","event":12,"firstname":"Carmella","guestid":"15478364","lastname":"Galvano","maidstatus":"0","mailbox":"3101","room":"100-101","source":"testapp","timestamp":"2023-09-13T08:07:46-07:00","vip":"0"},"service_id":1064,"service_name":"Visitant","time":"08:07:46","timestamp":"2023-09-13T08:07:46-07:00"}'

Then read it back, decoded through the registry:

node dist/main.js tail dv2000.hospitality --config $CONFIG --from-beginning --max 1
MSG
