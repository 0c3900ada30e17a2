#!/usr/bin/env bash
# `make chaos`: the chaos suite (chaos/, see docs/reliability.md) on its own Kafka and PostgreSQL (private ports and
# folders, stopped at the end): the scripted years over HTTP while relays, consumers, an API, the broker and the
# database fail in turn; then the checks and the table. `QUICK=1` for the short form (about two minutes).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

ensure_java_and_maven
sync_python

quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
mkdir -p "$RUN_DIR/chaos"
say "chaos ${quick[*]} (table: $RUN_DIR/chaos/table.md)"
.venv/bin/python -m chaos "${quick[@]}" --markdown "$RUN_DIR/chaos/table.md" --json "$RUN_DIR/chaos/result.json" "$@"
