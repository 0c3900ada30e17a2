#!/usr/bin/env bash
# `make down`: stop the services `make up` started, then the Kafka broker it started.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

PID_DIR="$RUN_DIR/pids"
[ -d "$PID_DIR" ] || { say "nothing to stop"; exit 0; }
# One stop at a time: `make up` runs this script when its services exit, so a `make down` from another terminal
# and the one it starts would otherwise read and remove the same pid files at once.
if command -v flock >/dev/null; then
  exec 9>"$PID_DIR/.stopping"
  flock 9
fi
for pid_file in "$PID_DIR"/*.pid; do
  pid=$(cat "$pid_file" 2>/dev/null) || continue
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $(basename "$pid_file" .pid)"
    kill -TERM "$pid" 2>/dev/null
  fi
done
for pid_file in "$PID_DIR"/*.pid; do
  pid=$(cat "$pid_file" 2>/dev/null) || continue
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pid_file"
done
if [ -f "$PID_DIR/.started-kafka" ]; then
  bash "$REPO/scripts/infra/kafka.sh" stop
  rm -f "$PID_DIR/.started-kafka"
fi
say "stopped"
