#!/usr/bin/env bash
# Local private PostgreSQL cluster for tests and benchmarks.
#
#   scripts/infra/postgres.sh start   initdb (first time) and start the cluster, wait until it answers
#   scripts/infra/postgres.sh stop    stop the cluster this script started
#   scripts/infra/postgres.sh status  exit 0 when a server answers on $PGHOST:$PGPORT
#   scripts/infra/postgres.sh url     print the connection URL
#
# See scripts/infra/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-55432}
DB_NAME=metrology
DB_USER=metrology
DB_PASSWORD=metrology
PG_START_TIMEOUT=${PG_START_TIMEOUT:-60}
PG_SYSTEM_USER=metrology-pg # created only when running as root and there is no "postgres" user

RUN_ROOT=${METROLOGY_RUN_DIR:-$REPO_ROOT/.run}

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 {start|stop|status|url}" >&2
    exit 2
}

# --- binaries ------------------------------------------------------------------

PG_BIN=

# Finds initdb/pg_ctl/postgres: /usr/lib/postgresql/<version>/bin (the version the
# cluster was created with if it exists, else the newest), then PATH.
find_pg_bin() {
    local want="" d
    [[ -n ${DATA_DIR:-} && -f $DATA_DIR/PG_VERSION ]] && want=$(<"$DATA_DIR/PG_VERSION")
    if [[ -n $want ]]; then
        d=/usr/lib/postgresql/$want/bin
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
            PG_BIN=$d
            return 0
        fi
    fi
    while read -r d; do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
            PG_BIN=$d
            break
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r)
    if [[ -z $PG_BIN ]] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v pg_ctl)")
    fi
    [[ -n $PG_BIN ]] || return 1
    if [[ -n $want && -x $PG_BIN/postgres ]]; then
        local have
        have=$("$PG_BIN/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)[.0-9]*.*/\1/p')
        [[ $have == "$want" ]] || die "cluster in $DATA_DIR was created by PostgreSQL $want, but only $have binaries were found (remove $PG_HOME to start over)"
    fi
}

ensure_pg_bin() {
    find_pg_bin && return 0
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "PostgreSQL server binaries not found and not root: install the 'postgresql' package"
        sudo=(sudo)
    fi
    local log
    log=$(mktemp)
    # Wait for a concurrent apt/dpkg run instead of failing on its lock.
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
    if ! { "${apt[@]}" update && "${apt[@]}" install -y postgresql; } >"$log" 2>&1 </dev/null 9>&-; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get install postgresql failed"
    fi
    rm -f "$log"
    find_pg_bin || die "PostgreSQL server binaries still not found after installing 'postgresql'"
}

# --- the system user the server runs as ---------------------------------------

RUN_AS= # empty: run as the current (non-root) user

pick_run_as() {
    [[ $EUID -eq 0 ]] || return 0
    if id -u postgres >/dev/null 2>&1; then
        RUN_AS=postgres
    else
        RUN_AS=$PG_SYSTEM_USER
    fi
}

create_run_as() {
    [[ -n $RUN_AS ]] || return 0
    id -u "$RUN_AS" >/dev/null 2>&1 && return 0
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$RUN_AS" ||
        id -u "$RUN_AS" >/dev/null 2>&1 ||
        die "could not create system user $RUN_AS"
}

# Runs a command as the server's user, from / (it may not be able to read the cwd),
# without inheriting the lock file descriptor.
as_pg() {
    if [[ -n $RUN_AS ]]; then
        (cd / && runuser -u "$RUN_AS" -- "$@" 9>&-)
    else
        (cd / && "$@" 9>&-)
    fi
}

# --- locations -------------------------------------------------------------------

# PG_HOME holds data/, sock/ and postgres.log. Normally $RUN_ROOT/postgres; if the
# server's user cannot reach the run dir (e.g. a checkout under /root), a folder
# in /tmp derived from the run dir is used instead.
resolve_home() {
    PG_HOME=$RUN_ROOT/postgres
    if [[ -n $RUN_AS ]] && id -u "$RUN_AS" >/dev/null 2>&1; then
        mkdir -p "$RUN_ROOT"
        if ! runuser -u "$RUN_AS" -- test -x "$RUN_ROOT" 2>/dev/null; then
            PG_HOME=${TMPDIR:-/tmp}/metrology-pg-$(printf '%s' "$RUN_ROOT" | cksum | cut -d' ' -f1)
        fi
    fi
    DATA_DIR=$PG_HOME/data
    LOG_FILE=$PG_HOME/postgres.log
    SOCK_DIR=$PG_HOME/sock
    # Unix socket paths are limited to 107 bytes.
    if ((${#SOCK_DIR} + 20 > 107)); then
        SOCK_DIR=/tmp/metrology-pg-sock-$(printf '%s' "$PG_HOME" | cksum | cut -d' ' -f1)
    fi
}

prepare_dirs() {
    mkdir -p "$RUN_ROOT"
    if [[ -z ${METROLOGY_RUN_DIR:-} && ! -e $RUN_ROOT/.gitignore ]]; then
        echo '*' >"$RUN_ROOT/.gitignore"
    fi
    mkdir -p "$PG_HOME" "$SOCK_DIR"
    if [[ -n $RUN_AS ]]; then
        chown "$RUN_AS": "$PG_HOME" "$SOCK_DIR"
        [[ -d $DATA_DIR ]] && chown -R "$RUN_AS": "$DATA_DIR"
        [[ -e $LOG_FILE ]] && chown "$RUN_AS": "$LOG_FILE"
    fi
    chmod 755 "$PG_HOME" "$SOCK_DIR"
}

lock() {
    exec 9>"$PG_HOME/.lock"
    flock -w 180 9 || die "timed out waiting for another postgres.sh run ($PG_HOME/.lock)"
}

# --- probes ----------------------------------------------------------------------

server_answers() {
    local isready=
    if [[ -n $PG_BIN && -x $PG_BIN/pg_isready ]]; then
        isready=$PG_BIN/pg_isready
    elif command -v pg_isready >/dev/null 2>&1; then
        isready=$(command -v pg_isready)
    fi
    if [[ -n $isready ]]; then
        "$isready" -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -t 3 9>&-
    else
        timeout 2 bash -c "exec 3<>/dev/tcp/$PG_HOST/$PG_PORT" 2>/dev/null
    fi
}

# True when the cluster in DATA_DIR (ours) is running.
ours_running() {
    [[ -f $DATA_DIR/postmaster.pid ]] || return 1
    local pid
    pid=$(head -n1 "$DATA_DIR/postmaster.pid")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    grep -qF -- "$DATA_DIR" "/proc/$pid/cmdline" 2>/dev/null
}

# --- setup -----------------------------------------------------------------------

init_cluster() {
    [[ -f $DATA_DIR/PG_VERSION ]] && return 0
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    [[ -n $RUN_AS ]] && chown "$RUN_AS": "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    local log=$PG_HOME/initdb.log
    if ! as_pg "$PG_BIN/initdb" -D "$DATA_DIR" --username=postgres \
            --auth-local=trust --auth-host=trust --encoding=UTF8 --locale=C \
            >"$log" 2>&1; then
        cat "$log" >&2
        rm -rf "$DATA_DIR"
        die "initdb failed"
    fi
    # Trust, but only on the Unix socket (in PG_HOME) and on IPv4 loopback.
    cat >"$DATA_DIR/pg_hba.conf" <<'EOF'
# Generated by scripts/infra/postgres.sh
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF
    echo "include = 'metrology.conf'" >>"$DATA_DIR/postgresql.conf"
    [[ -n $RUN_AS ]] && chown "$RUN_AS": "$DATA_DIR/pg_hba.conf"
    return 0
}

write_settings() {
    # Rewritten on every start so port/socket changes take effect.
    # Durability settings (fsync, synchronous_commit, ...) are left at their defaults.
    cat >"$DATA_DIR/metrology.conf" <<EOF
# Generated by scripts/infra/postgres.sh; rewritten on every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = 300
shared_buffers = 256MB
logging_collector = off
EOF
    [[ -n $RUN_AS ]] && chown "$RUN_AS": "$DATA_DIR/metrology.conf"
    return 0
}

ensure_role_and_db() {
    local psql=$PG_BIN/psql
    [[ -x $psql ]] || psql=$(command -v psql) || die "psql not found"
    local log=$PG_HOME/setup.log
    if ! (cd / && "$psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U postgres -d postgres \
            >"$log" 2>&1 9>&-) <<EOF; then
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
EOF
        cat "$log" >&2
        die "could not create role/database $DB_USER/$DB_NAME"
    fi
}

# --- commands ----------------------------------------------------------------------

cmd_start() {
    pick_run_as
    create_run_as
    resolve_home
    prepare_dirs
    lock
    find_pg_bin || true
    if ours_running; then
        ensure_pg_bin
        local i
        for ((i = 0; i < PG_START_TIMEOUT * 5; i++)); do
            server_answers && break
            sleep 0.2
        done
        server_answers || die "our cluster in $DATA_DIR is running but does not answer on $PG_HOST:$PG_PORT"
        ensure_role_and_db
        return 0
    fi
    if server_answers; then
        return 0 # some server already answers there (not ours): use it as is
    fi
    ensure_pg_bin
    init_cluster
    write_settings
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$PG_START_TIMEOUT" -s start \
            >"$PG_HOME/pg_ctl.log" 2>&1 </dev/null; then
        cat "$PG_HOME/pg_ctl.log" >&2
        tail -n 30 "$LOG_FILE" >&2 2>/dev/null || true
        die "PostgreSQL did not start (log: $LOG_FILE)"
    fi
    local i
    for ((i = 0; i < PG_START_TIMEOUT * 5; i++)); do
        server_answers && break
        sleep 0.2
    done
    server_answers || die "PostgreSQL started but does not answer on $PG_HOST:$PG_PORT (log: $LOG_FILE)"
    ensure_role_and_db
}

cmd_stop() {
    pick_run_as
    resolve_home
    [[ -d $PG_HOME ]] || return 0
    lock
    ours_running || return 0
    find_pg_bin || die "PostgreSQL binaries not found, cannot stop the cluster in $DATA_DIR"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 60 -s stop >"$PG_HOME/pg_ctl.log" 2>&1; then
        cat "$PG_HOME/pg_ctl.log" >&2
        die "could not stop the cluster in $DATA_DIR"
    fi
}

cmd_status() {
    pick_run_as
    resolve_home
    find_pg_bin 2>/dev/null || true
    if server_answers; then
        if ours_running; then
            echo "postgres: up at $PG_HOST:$PG_PORT (data $DATA_DIR)"
        else
            echo "postgres: up at $PG_HOST:$PG_PORT (not started by this script)"
        fi
        return 0
    fi
    echo "postgres: down"
    return 1
}

cmd_url() {
    echo "postgresql://$DB_USER:$DB_PASSWORD@$PG_HOST:$PG_PORT/$DB_NAME"
}

[[ $# -eq 1 ]] || usage
case $1 in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    *) usage ;;
esac
