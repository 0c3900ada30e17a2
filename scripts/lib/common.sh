# Shared by scripts/up.sh, scripts/test.sh and scripts/down.sh: find or install the tools, start infrastructure.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${METROLOGY_RUN_DIR:-$REPO/.run}"
export METROLOGY_RUN_DIR="$RUN_DIR"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # apt_install PACKAGE...: install Debian packages that are missing (one `apt-get update` per run).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian packages)"
  if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_java_and_maven() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v javac >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless  # builds examples/java-consumer
  command -v mvn >/dev/null 2>&1 || apt_install maven
}

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
    say "installing uv (from PyPI)"
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet --break-system-packages uv
    export PATH="$HOME/.local/bin:$PATH"
  fi
  command -v uv >/dev/null 2>&1 || die "uv could not be installed"
}

sync_python() {
  ensure_uv
  say "syncing the Python workspace (uv.lock)"
  # Bytecode written ahead, as the images have it (UV_COMPILE_BYTECODE): a shell with PYTHONDONTWRITEBYTECODE set
  # would otherwise compile every module from source at each process start (5.7 s for a service's command line).
  (cd "$REPO" && uv sync --all-packages --locked --quiet --compile-bytecode)
  (cd "$REPO" && .venv/bin/python -m compileall -q -j 0 libs/*/src services/*/src tests bench >/dev/null)
}

# start_infra NAME: start Kafka or PostgreSQL unless already reachable; remembers what it started.
STARTED_INFRA=()
start_infra() {
  local name=$1
  if bash "$REPO/scripts/infra/$name.sh" status >/dev/null 2>&1; then
    return 0
  fi
  say "starting $name"
  bash "$REPO/scripts/infra/$name.sh" start
  STARTED_INFRA+=("$name")
}

stop_started_infra() {
  local name
  for name in "${STARTED_INFRA[@]}"; do
    say "stopping $name"
    bash "$REPO/scripts/infra/$name.sh" stop || true
  done
}
