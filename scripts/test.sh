#!/usr/bin/env bash
# `make test`: install everything, start Kafka and PostgreSQL (unless given or already running), run lint, type
# checks, deployment validation and every test, then stop what this script started.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

started_at=$(date +%s)
trap 'status=$?; stop_started_infra; say "test run took $(( $(date +%s) - started_at ))s"; exit $status' EXIT

ensure_java_and_maven
apt_install chromium
sync_python
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
asyncapi_lock=$(sha256sum tools/asyncapi-validate/package-lock.json | cut -d' ' -f1)
if [ "$(cat tools/asyncapi-validate/node_modules/.lock-sha256 2>/dev/null)" != "$asyncapi_lock" ]; then
  say "installing the AsyncAPI parser (npm ci in tools/asyncapi-validate)"
  npm ci --prefix tools/asyncapi-validate --no-audit --no-fund --loglevel=error
  echo "$asyncapi_lock" >tools/asyncapi-validate/node_modules/.lock-sha256
fi

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then start_infra kafka; fi
if [ -z "${METROLOGY_TEST_PG_URL:-}" ]; then start_infra postgres; fi

say "ruff (lint and format)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

say "mypy"
.venv/bin/mypy libs/*/src services/*/src

say "deployment manifests"
bash scripts/validate-deploy.sh

say "Java example consumer (Maven; downloads its dependencies from Maven Central on first build)"
mvn -B -q -f examples/java-consumer/pom.xml package

say "pytest (unit, contract, integration on Kafka and PostgreSQL, e2e, browser)"
.venv/bin/pytest -p no:cacheprovider --durations=20 "$@"
