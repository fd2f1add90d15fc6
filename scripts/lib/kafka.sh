# shellcheck shell=bash
# A real Apache Kafka broker for integration, end-to-end and fault tests.
#
# No Kafka distribution can be downloaded on the test machines, but Maven
# Central is reachable: the broker's jars are resolved from there with the
# small pom in scripts/kafka/pom.xml, cached per version, and the broker is
# started straight from the jars as one KRaft node (broker + controller) on
# 127.0.0.1. Sourced by scripts/services.sh and scripts/test.sh.
#
# Public functions (RUN is a run directory; Kafka uses RUN/kafka):
#   kafka_fetch               resolve the jars into the cache (once)
#   kafka_start RUN           fresh broker: new data dir, free ports, wait
#   kafka_stop RUN            SIGTERM, then SIGKILL after a deadline
#   kafka_resume RUN          start again on the same ports and data dir
#   kafka_restart RUN         kafka_stop + kafka_resume
#   kafka_running RUN         true while the broker process is alive
#   kafka_bootstrap RUN       prints 127.0.0.1:PORT (PLAINTEXT listener)
#   kafka_sasl_ssl_bootstrap RUN  prints 127.0.0.1:PORT of the SASL_SSL
#                             listener: TLS with a certificate from the CA
#                             kafka_ca RUN, SASL PLAIN and SCRAM-SHA-256 for
#                             user $LINTAS_KAFKA_TEST_USER
#   kafka_ca RUN              prints the path of that CA certificate (PEM)
#   kafka_pid RUN             prints the broker's pid
#   kafka_tool CLASS ARGS...  run a Kafka tools class from the cached jars

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# 4.4.0 is the newest 4.x that Maven Central serves here; its jars are Java
# 17 bytecode (class file 61), so it runs on the machine's JDK 17.
LINTAS_KAFKA_VERSION="${LINTAS_KAFKA_VERSION:-4.4.0}"
LINTAS_KAFKA_POM="$(cd "$(dirname "${BASH_SOURCE[0]}")/../kafka" && pwd)/pom.xml"
# Max heap of the broker; small on purpose: 2-core test machines also run
# ClickHouse, cargo and the tests themselves.
LINTAS_KAFKA_HEAP="${LINTAS_KAFKA_HEAP:--Xms256m -Xmx512m}"
# The SASL user of the SASL_SSL listener: a throwaway credential of the local
# test broker, never a real one.
LINTAS_KAFKA_TEST_USER="lintas"
LINTAS_KAFKA_TEST_PASSWORD="lintas-test-password"

kafka_home() { echo "$LINTAS_CACHE_DIR/kafka-$LINTAS_KAFKA_VERSION"; }
kafka_libs() { echo "$(kafka_home)/libs"; }

# Java and Maven come with the machine image; install them from Debian only
# if a machine lacks them, so the harness stays self-sufficient.
kafka_need_java() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if ((${#missing[@]} > 0)); then
    log "kafka: installing ${missing[*]}"
    as_root apt-get install -y "${missing[@]}" >&2 ||
      { as_root apt-get update >&2 && as_root apt-get install -y "${missing[@]}" >&2; }
  fi
  local major
  major="$(java -XshowSettings:properties -version 2>&1 |
    awk -F'= ' '/java.specification.version/ { print $2 }')"
  if [[ -z "$major" ]] || ((${major%%.*} < 17)); then
    die "kafka: Kafka 4.x brokers need Java 17 or newer, found '${major:-none}'"
  fi
}

# The stamp records what was resolved (version + pom checksum): editing the
# pom or changing LINTAS_KAFKA_VERSION re-resolves, anything else is a hit.
kafka_stamp_content() {
  printf 'kafka %s\npom %s\n' "$LINTAS_KAFKA_VERSION" \
    "$(sha256sum "$LINTAS_KAFKA_POM" | cut -d' ' -f1)"
}

kafka_fetch() {
  local home libs stamp tmp start attempt
  home="$(kafka_home)"
  libs="$home/libs"
  stamp="$home/.complete"
  if [[ -f "$stamp" && -d "$libs" ]] &&
    [[ "$(cat "$stamp")" == "$(kafka_stamp_content)" ]]; then
    log "kafka: jars for $LINTAS_KAFKA_VERSION cached in $libs"
    return 0
  fi
  kafka_need_java
  mkdir -p "$home"
  # Copy into a temporary dir and rename, so an interrupted download never
  # leaves a half-filled libs dir that looks complete.
  tmp="$(mktemp -d "$home/libs.tmp.XXXXXX")"
  start="$(now_s)"
  log "kafka: resolving org.apache.kafka:kafka_2.13:$LINTAS_KAFKA_VERSION from Maven Central"
  # Maven's output goes to a log shown only on failure (Debian's Maven 3.8
  # prints stray colour codes even with -q -B). Two attempts: a registry
  # hiccup should not fail a whole test run.
  for attempt in 1 2; do
    if mvn -B --no-transfer-progress -Dstyle.color=never -f "$LINTAS_KAFKA_POM" \
      -Dkafka.version="$LINTAS_KAFKA_VERSION" \
      dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$home/mvn.log" 2>&1; then
      break
    fi
    grep -E '^\[(ERROR|WARNING)\]' "$home/mvn.log" | tail -n 20 >&2 || true
    if ((attempt == 2)); then
      rm -rf "$tmp"
      die "kafka: could not resolve the Kafka jars with Maven (log: $home/mvn.log)"
    fi
    log "kafka: maven failed, retrying"
  done
  rm -rf "$libs"
  mv "$tmp" "$libs"
  kafka_stamp_content >"$stamp"
  log "kafka: $(find "$libs" -name '*.jar' | wc -l) jars in $libs ($(elapsed_since "$start")s)"
}

# Run a class from the cached jars (console producer/consumer, topics, ...).
# Short-lived JVMs: serial GC and C1 only start noticeably faster.
kafka_tool() {
  local class="$1"
  shift
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -cp "$(kafka_libs)/*" "$class" "$@"
}

kafka_dir() { echo "${1:?run dir}/kafka"; }

kafka_pid() { cat "$(kafka_dir "$1")/kafka.pid" 2>/dev/null; }

# The process is recognised by its config path, so a pid reused by another
# process (or another run dir's broker) is never taken for ours.
kafka_running() {
  pid_matches "$(kafka_pid "$1" || true)" "kafka.Kafka $(kafka_dir "$1")/server.properties"
}

kafka_bootstrap() {
  local port
  read -r port _ <"$(kafka_dir "$1")/ports"
  echo "127.0.0.1:$port"
}

kafka_sasl_ssl_bootstrap() {
  local _port _cport sport
  read -r _port _cport sport <"$(kafka_dir "$1")/ports"
  echo "127.0.0.1:$sport"
}

kafka_ca() { echo "$(kafka_dir "$1")/tls/ca.pem"; }

# A KRaft cluster id is 16 random bytes in unpadded base64url. Done in bash
# to save a JVM start (StorageTool random-uuid); a leading '-' would be read
# as an option, which is also why Kafka's own generator avoids it.
kafka_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" != -* ]] && break
  done
  echo "$id"
}

kafka_write_config() {
  local dir="$1" port="$2" cport="$3" sport="$4"
  cat >"$dir/server.properties" <<EOF
# Single-node KRaft test broker written by scripts/lib/kafka.sh.
process.roles=broker,controller
node.id=1
# Dynamic quorum (KIP-853), formatted with StorageTool --standalone.
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
# The secured listener, as production brokers run it: TLS with a certificate
# from a private CA (PEM keystore: key and chain in one file), SASL PLAIN and
# SCRAM-SHA-256 (its credential is written by StorageTool format --add-scram).
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$dir/tls/server.pem
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$LINTAS_KAFKA_TEST_USER="$LINTAS_KAFKA_TEST_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$dir/data
# One node: every internal topic must live with a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: creating them is most of
# the first consumer group's latency on a 2-core machine.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Consumer groups start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# Kept on so simple tests can produce to a topic without creating it; the
# product itself creates topics explicitly (lintas topics apply), and tests
# of that path create topics with the admin API and declared settings.
auto.create.topics.enable=true
num.partitions=1
EOF
  # Broker log to stdout (redirected to kafka.log by kafka_launch): one file
  # to read when a test fails. Request logging is as noisy as it is useless.
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# Start the broker from an existing, formatted RUN/kafka and wait for it.
kafka_launch() {
  local run="$1" dir port pid start deadline version offset
  dir="$(kafka_dir "$run")"
  read -r port _ <"$dir/ports"
  # kafka.log is appended across restarts: only lines after this offset
  # belong to this start.
  offset=$(($(stat -c %s "$dir/kafka.log" 2>/dev/null || echo 0) + 1))
  start="$(now_s)"
  # Heap options are split on purpose: they are several JVM flags.
  # shellcheck disable=SC2086
  nohup java $LINTAS_KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$(kafka_libs)/*" kafka.Kafka "$dir/server.properties" \
    >>"$dir/kafka.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"
  deadline=$((SECONDS + ${LINTAS_KAFKA_START_TIMEOUT:-120}))
  # Ready = the port accepts connections and the server says it finished
  # starting (the port opens a little before the broker is registered).
  # (grep reads a process substitution, not a pipe: with pipefail, grep -q
  # leaving early would fail the pipeline through tail's SIGPIPE.)
  until port_open 127.0.0.1 "$port" &&
    grep -q 'Kafka Server started' < <(tail -c "+$offset" "$dir/kafka.log"); do
    if ! pid_alive "$pid"; then
      tail -n 40 "$dir/kafka.log" >&2 || true
      die "kafka: broker exited during start (log: $dir/kafka.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$dir/kafka.log" >&2 || true
      kafka_stop "$run" || true
      die "kafka: not ready after ${LINTAS_KAFKA_START_TIMEOUT:-120}s (log: $dir/kafka.log)"
    fi
    sleep 0.3
  done
  version="$(grep -o -m1 'Kafka version: [^ ]*' < <(tail -c "+$offset" "$dir/kafka.log") |
    awk '{ print $3 }' || true)"
  echo "kafka: Apache Kafka ${version:-unknown} on 127.0.0.1:$port" \
    "(pid $pid, ready in $(elapsed_since "$start")s, log $dir/kafka.log)"
}

kafka_start() {
  local run="${1:?run dir}" dir ports port cport sport cluster_id
  dir="$(kafka_dir "$run")"
  if kafka_running "$run"; then
    log "kafka: already running (pid $(kafka_pid "$run")) on $(kafka_bootstrap "$run")"
    return 0
  fi
  kafka_fetch
  kafka_need_java
  # A start is a fresh broker: no topics or offsets left from an earlier
  # run. kafka_restart is the way to keep data.
  rm -rf "$dir"
  mkdir -p "$dir/data"
  mapfile -t ports < <(free_ports 3)
  port="${LINTAS_KAFKA_PORT:-${ports[0]}}"
  cport="${ports[1]}"
  sport="${ports[2]}"
  [[ "$cport" == "$port" ]] && cport="${ports[0]}"
  [[ "$sport" == "$port" ]] && sport="${ports[0]}"
  echo "$port $cport $sport" >"$dir/ports"
  make_test_tls "$dir/tls"
  kafka_write_config "$dir" "$port" "$cport" "$sport"
  cluster_id="$(kafka_cluster_id)"
  # Kafka 4.x formats storage with kafka.tools.StorageTool (in kafka_2.13);
  # --standalone makes this node the single voter of a dynamic quorum.
  if ! kafka_tool kafka.tools.StorageTool format --standalone \
    --add-scram "SCRAM-SHA-256=[name=$LINTAS_KAFKA_TEST_USER,password=$LINTAS_KAFKA_TEST_PASSWORD]" \
    -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "kafka: formatting storage failed"
  fi
  kafka_launch "$run"
}

kafka_stop() {
  local run="${1:?run dir}"
  # A clean shutdown of a combined node takes a few seconds; SIGKILL after
  # the deadline keeps a wedged broker from hanging the test run.
  stop_pidfile kafka "$(kafka_dir "$run")/kafka.pid" \
    "kafka.Kafka $(kafka_dir "$run")/server.properties" \
    "${LINTAS_KAFKA_STOP_TIMEOUT:-60}"
}

# Start again after kafka_stop, on the same ports and data dir (fault tests:
# the broker comes back with every topic and committed offset).
kafka_resume() {
  local run="${1:?run dir}" dir
  dir="$(kafka_dir "$run")"
  [[ -f "$dir/server.properties" && -f "$dir/ports" ]] ||
    die "kafka: nothing to resume in $dir (start it first)"
  if kafka_running "$run"; then
    log "kafka: already running (pid $(kafka_pid "$run"))"
    return 0
  fi
  kafka_launch "$run"
}

kafka_restart() {
  local run="${1:?run dir}"
  kafka_stop "$run"
  kafka_resume "$run"
}
