#!/usr/bin/env bash
# `make bench`: start Kafka and PostgreSQL if needed and run every benchmark (`QUICK=1` for a smoke run).
# The numbers of record, with machine, date and command, go into BENCHMARKS.md by hand.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

trap 'stop_started_infra' EXIT
ensure_java_and_maven
sync_python
start_infra kafka
start_infra postgres

quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
for name in eventkit_appends eventkit_relay eventkit_projector; do
  say "bench/$name.py ${quick[*]}"
  .venv/bin/python "bench/$name.py" "${quick[@]}"
done
.venv/bin/python bench/consumer_recovery.py "${quick[@]}"
if [ -n "${QUICK:-}" ]; then
  .venv/bin/python bench/verification_write.py --instruments 500 --requests 200
  .venv/bin/python bench/reporting_million.py --events 20000 --requests 50 --progress-requests 5
else
  .venv/bin/python bench/verification_write.py
  .venv/bin/python bench/scale_out.py
  .venv/bin/python bench/reporting_million.py --events 1000000 --requests 200 --progress-requests 20
fi
