#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft, no ZooKeeper) for tests and benchmarks.
#
#   scripts/infra/kafka.sh start      fetch jars if needed, format the storage once, start, wait until it answers
#                                     (the log survives stop/start: topics keep what the relays published)
#   scripts/infra/kafka.sh wipe       stop the broker and delete its storage (the next start formats anew)
#   scripts/infra/kafka.sh stop       stop the broker this script started (pid file), wait for it to exit
#   scripts/infra/kafka.sh status     exit 0 when a Kafka broker answers on 127.0.0.1:$KAFKA_PORT
#   scripts/infra/kafka.sh classpath  print the folder holding the Kafka jars (use it as "<folder>/*")
#
# See scripts/infra/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
KAFKA_HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-180} # a broker loads every partition it holds before it serves
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-60}

CACHE_DIR=${METROLOGY_CACHE_DIR:-$HOME/.cache/metrology-platform}
LIBS_DIR=$CACHE_DIR/kafka-$KAFKA_VERSION/libs
RUN_ROOT=${METROLOGY_RUN_DIR:-$REPO_ROOT/.run}
RUN_DIR=$RUN_ROOT/kafka
DATA_DIR=$RUN_DIR/data
PID_FILE=$RUN_DIR/kafka.pid
LOG_FILE=$RUN_DIR/kafka.log
PROPS_FILE=$RUN_DIR/server.properties
LOG4J_FILE=$RUN_DIR/log4j2.properties  # Kafka 4.x (log4j2)
LOG4J1_FILE=$RUN_DIR/log4j.properties  # Kafka 3.x (reload4j)

die() {
    echo "kafka.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 {start|stop|wipe|status|classpath}" >&2
    exit 2
}

# --- jars --------------------------------------------------------------------

check_java() {
    command -v java >/dev/null 2>&1 || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
    local v major
    v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
    major=${v%%.*}
    [[ $major == 1 ]] && major=$(echo "$v" | cut -d. -f2)
    if [[ ${KAFKA_VERSION%%.*} -ge 4 && ${major:-0} -lt 17 ]]; then
        die "Kafka $KAFKA_VERSION needs Java 17+, found java $v"
    fi
}

fetch_libs() {
    [[ -f $LIBS_DIR/.complete ]] && return 0
    command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch the Kafka $KAFKA_VERSION jars"
    mkdir -p "$CACHE_DIR"
    local lock=$CACHE_DIR/kafka-$KAFKA_VERSION.lock
    exec 8>"$lock"
    flock -w 900 8 || die "timed out waiting for another jar download ($lock)"
    if [[ ! -f $LIBS_DIR/.complete ]]; then
        local tmp
        tmp=$(mktemp -d "$CACHE_DIR/.kafka-$KAFKA_VERSION.XXXXXX")
        cp "$SCRIPT_DIR/kafka-pom.xml" "$tmp/pom.xml"
        if ! mvn -B -q -Dstyle.color=never -f "$tmp/pom.xml" \
                -Dkafka.version="$KAFKA_VERSION" \
                dependency:copy-dependencies \
                -DincludeScope=runtime -DoutputDirectory="$tmp/libs" \
                >"$tmp/mvn.log" 2>&1; then
            cat "$tmp/mvn.log" >&2
            rm -rf "$tmp"
            die "could not fetch Kafka $KAFKA_VERSION jars with Maven"
        fi
        if [[ ! -f $tmp/libs/kafka_2.13-$KAFKA_VERSION.jar ]]; then
            rm -rf "$tmp"
            die "Maven did not deliver kafka_2.13-$KAFKA_VERSION.jar"
        fi
        # Kafka 3.x brings its own slf4j binding (reload4j): keep a single binding.
        if compgen -G "$tmp/libs/slf4j-reload4j-*.jar" >/dev/null; then
            rm -f "$tmp"/libs/log4j-slf4j-impl-*.jar
        fi
        touch "$tmp/libs/.complete"
        rm -rf "$LIBS_DIR"
        mkdir -p "$(dirname "$LIBS_DIR")"
        mv "$tmp/libs" "$LIBS_DIR"
        rm -rf "$tmp"
    fi
    exec 8>&-
}

# --- probes --------------------------------------------------------------------

# True when something accepts TCP connections on the port.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
}

# True when a Kafka broker answers an ApiVersions (v0) request on the port.
kafka_answers() {
    local port=${1:-$KAFKA_PORT} reply
    # size=15 | api_key=18 | api_version=0 | correlation_id="METR" | client_id="probe"
    reply=$(timeout 3 bash -c "
        exec 3<>/dev/tcp/$KAFKA_HOST/$port || exit 1
        printf '\x00\x00\x00\x0f\x00\x12\x00\x00METR\x00\x05probe' >&3
        head -c 10 <&3 | od -An -tx1 | tr -d ' \n'
    " 2>/dev/null) || return 1
    # reply = size(4) correlation_id(4) error_code(2)
    [[ ${reply:8:8} == 4d455452 && ${reply:16:4} == 0000 ]]
}

# Prints the pid of the broker this script started, if it is still alive.
our_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    # Make sure the pid was not reused by another process.
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $PROPS_FILE" || return 1
    echo "$pid"
}

wait_ready() {
    local pid=$1 deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 40 "$LOG_FILE" >&2 || true
            die "broker exited during startup (log: $LOG_FILE)"
        fi
        # "Kafka Server started" is logged once the broker is unfenced and serving.
        if grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null && kafka_answers "$KAFKA_PORT"; then
            return 0
        fi
        sleep 0.2
    done
    tail -n 40 "$LOG_FILE" >&2 || true
    local partitions
    partitions=$(find "$DATA_DIR" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
    die "broker did not become ready within ${KAFKA_START_TIMEOUT}s; it holds ${partitions} partition directories (test runs delete theirs at their end; runs stopped before it leave them): raise KAFKA_START_TIMEOUT, or '$0 wipe' to start empty (log: $LOG_FILE)"
}

# --- config ------------------------------------------------------------------

write_config() {
    cat >"$PROPS_FILE" <<EOF
# Generated by scripts/infra/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.recovery.threads.per.data.dir=1
EOF
    cat >"$LOG4J_FILE" <<'EOF'
# Generated by scripts/infra/kafka.sh. Broker stdout goes to kafka.log.
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka_request.name = kafka.request.logger
logger.kafka_request.level = WARN
logger.state_change.name = state.change.logger
logger.state_change.level = WARN
EOF
    cat >"$LOG4J1_FILE" <<'EOF'
# Generated by scripts/infra/kafka.sh. Broker stdout goes to kafka.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

new_cluster_id() {
    # Kafka cluster ids are 16 random bytes, base64url without padding. One that begins with '-' (1 in 64) would
    # be read by kafka-storage as an option ("--cluster-id: expected one argument"): draw again.
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
        [[ $id == -* ]] || break
    done
    echo "$id"
}

# --- commands ----------------------------------------------------------------

lock_run_dir() {
    mkdir -p "$RUN_DIR"
    if [[ -z ${METROLOGY_RUN_DIR:-} && ! -e $RUN_ROOT/.gitignore ]]; then
        echo '*' >"$RUN_ROOT/.gitignore"
    fi
    exec 9>"$RUN_DIR/.lock"
    flock -w 180 9 || die "timed out waiting for another kafka.sh run ($RUN_DIR/.lock)"
}

cmd_start() {
    lock_run_dir
    local pid
    if pid=$(our_pid); then
        wait_ready "$pid"
        return 0
    fi
    rm -f "$PID_FILE"
    if kafka_answers "$KAFKA_PORT"; then
        return 0 # a broker is already up (another run's, or an external one): share it
    fi
    if port_open "$KAFKA_PORT"; then
        die "port $KAFKA_HOST:$KAFKA_PORT is in use by something that does not answer as Kafka"
    fi
    if port_open "$KAFKA_CONTROLLER_PORT"; then
        die "controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is already in use (set KAFKA_CONTROLLER_PORT)"
    fi

    check_java
    fetch_libs

    write_config
    [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"

    local cp="$LIBS_DIR/*"
    local jvm_log=(-Dlog4j2.configurationFile="$LOG4J_FILE" -Dlog4j.configuration="file:$LOG4J1_FILE"
        -Dkafka.logs.dir="$RUN_DIR")
    # Format once: a formatted folder holds meta.properties. Re-formatting would drop every topic while the
    # services' stores still hold (and their relays have already published) every event.
    if [[ ! -f $DATA_DIR/meta.properties ]]; then
        rm -rf "$DATA_DIR"
        mkdir -p "$DATA_DIR"
        if ! java -cp "$cp" "${jvm_log[@]}" kafka.tools.StorageTool format --standalone \
                --cluster-id "$(new_cluster_id)" --config "$PROPS_FILE" \
                >"$RUN_DIR/format.log" 2>&1; then
            cat "$RUN_DIR/format.log" >&2
            rm -rf "$DATA_DIR"
            die "formatting the storage in $DATA_DIR failed"
        fi
    fi

    # The broker must not inherit the lock (fd 9). setsid detaches it from the
    # caller's process group so Ctrl-C in the calling shell does not kill it.
    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
    setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        "${jvm_log[@]}" -cp "$cp" \
        kafka.Kafka "$PROPS_FILE" >"$LOG_FILE" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    wait_ready "$pid"
}

cmd_stop() {
    lock_run_dir
    local pid
    if ! pid=$(our_pid); then
        rm -f "$PID_FILE"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "kafka.sh: broker (pid $pid) did not stop within ${KAFKA_STOP_TIMEOUT}s, killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
}

cmd_wipe() {
    cmd_stop
    rm -rf "$DATA_DIR"
}

cmd_status() {
    local pid
    if kafka_answers "$KAFKA_PORT"; then
        if pid=$(our_pid); then
            echo "kafka: up at $KAFKA_HOST:$KAFKA_PORT (pid $pid, data $DATA_DIR)"
        else
            echo "kafka: up at $KAFKA_HOST:$KAFKA_PORT (not started by this script)"
        fi
        return 0
    fi
    if pid=$(our_pid); then
        echo "kafka: starting or unresponsive (pid $pid, log $LOG_FILE)"
    else
        echo "kafka: down"
    fi
    return 1
}

cmd_classpath() {
    fetch_libs
    echo "$LIBS_DIR"
}

[[ $# -eq 1 ]] || usage
case $1 in
    start) cmd_start ;;
    stop) cmd_stop ;;
    wipe) cmd_wipe ;;
    status) cmd_status ;;
    classpath) cmd_classpath ;;
    *) usage ;;
esac
