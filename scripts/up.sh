#!/usr/bin/env bash
# `make up`: install what is missing, start Kafka and the five services (SQLite, the embedded default), load the
# demo data, print the URLs, and keep running until Ctrl-C (or `make down` from another terminal).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

SERVICES=(registry verification outreach training reporting webhooks inspection)
declare -A PORTS=([registry]=8001 [verification]=8002 [outreach]=8003 [training]=8004 [reporting]=8005 [webhooks]=8006 [inspection]=8007)
PID_DIR="$RUN_DIR/pids"
LOG_DIR="$RUN_DIR/logs"

# A platform already running here keeps its ports, its services and its Kafka: this start says so and touches
# nothing (before, its services failed to bind, and its exit stopped the Kafka the running one was using).
for service in "${SERVICES[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${PORTS[$service]}") 2>/dev/null; then
    die "port ${PORTS[$service]} ($service) is in use: is the platform already running? \`make down\` stops it"
  fi
done
mkdir -p "$PID_DIR" "$LOG_DIR" "$RUN_DIR/data"

# Development mode: development secrets and HS256 tokens (production refuses to start with them).
export ENVIRONMENT=development
export AUTH_JWT_SECRET="${AUTH_JWT_SECRET:-local-demo-secret-$(hostname)-0123456789abcdef0123456789}"
export TENANT="${TENANT:-83}"

stop_all() {
  trap - INT TERM EXIT
  bash "$REPO/scripts/down.sh"
}

ensure_java_and_maven
sync_python
kafka_was_up=no
bash "$REPO/scripts/infra/kafka.sh" status >/dev/null 2>&1 && kafka_was_up=yes
bash "$REPO/scripts/infra/kafka.sh" start
[ "$kafka_was_up" = yes ] || echo kafka >"$PID_DIR/.started-kafka" # `make down` stops only a broker started here
trap stop_all INT TERM EXIT

for service in "${SERVICES[@]}"; do
  port=${PORTS[$service]}
  say "starting $service on :$port"
  env "${service^^}_DATA_DIR=$RUN_DIR/data" \
    .venv/bin/metrology-"$service" run --host 127.0.0.1 --port "$port" >>"$LOG_DIR/$service.log" 2>&1 &
  echo $! >"$PID_DIR/$service.pid"
done

wait_ready() {
  local service=$1 port=$2
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$(cat "$PID_DIR/$service.pid")" 2>/dev/null || die "$service exited; see $LOG_DIR/$service.log"
    sleep 0.5
  done
  die "$service not ready after 60 s; see $LOG_DIR/$service.log"
}
for service in "${SERVICES[@]}"; do wait_ready "$service" "${PORTS[$service]}"; done

TOKEN=$(.venv/bin/metrology-registry token --role province-admin --subject demo-loader)
# The demo data goes in when the registry holds no enterprise: a first start, or databases wiped since (the
# loaders are idempotent, so a service that kept its data answers each command with its first answer).
registry_is_empty() {
  local page
  page=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[registry]}/enterprises?limit=1") ||
    die "could not ask the registry for its enterprises; see $LOG_DIR/registry.log"
  [ "$(.venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["total"])' <<<"$page")" = 0 ]
}
if registry_is_empty; then
  for service in registry verification outreach training inspection; do
    say "loading demo data into $service"
    .venv/bin/metrology-"$service" demo-data --url "http://127.0.0.1:${PORTS[$service]}" --token "$TOKEN"
  done
fi

VIEWER=$(.venv/bin/metrology-registry token --role viewer --subject demo-viewer)
cat <<EOT

metrology-platform is running (Ctrl-C or \`make down\` stops it):
  dashboard     http://127.0.0.1:8005/            (Bến Tre plan, Vietnamese / English)
  registry      http://127.0.0.1:8001/docs
  verification  http://127.0.0.1:8002/docs        public check: /public/certificates/{number}
  outreach      http://127.0.0.1:8003/docs
  training      http://127.0.0.1:8004/docs
  reporting     http://127.0.0.1:8005/docs        KPI: /kpis/person-times-trained
  webhooks      http://127.0.0.1:8006/docs        deliveries of events to HTTP receivers
  inspection    http://127.0.0.1:8007/docs        state metrological inspection: campaigns, visits, findings
  Kafka         ${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}                    logs: $LOG_DIR
  a viewer token for the APIs (12 h):
    $VIEWER
EOT

wait
