#!/usr/bin/env bash
# Start, stop and inspect the Kafka broker and ClickHouse server that the
# integration, end-to-end and fault tests run against.
#
#   scripts/services.sh start     fresh Kafka + ClickHouse, writes RUN/env
#   scripts/services.sh stop      stop both (safe when nothing runs)
#   scripts/services.sh status    show what runs where (exit 3 if not both)
#   scripts/services.sh env       print RUN/env, for eval "$(... env)"
#   scripts/services.sh kafka-stop|kafka-resume|kafka-restart
#   scripts/services.sh clickhouse-stop|clickhouse-resume|clickhouse-restart
#       for fault tests: stop one service, or start it again with the same
#       ports and data (resume), or both (restart).
#
# RUN is ${LINTAS_RUN_DIR:-<repo>/target/services}. To run tests by hand:
#   scripts/services.sh start && . target/services/env
#   cargo test --workspace --all-features
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/kafka.sh
source "$ROOT/scripts/lib/kafka.sh"
# shellcheck source=scripts/lib/clickhouse.sh
source "$ROOT/scripts/lib/clickhouse.sh"

# Absolute, because the services' command lines (and so the pid checks)
# and Kafka's log.dirs contain it.
RUN="${LINTAS_RUN_DIR:-$ROOT/target/services}"
mkdir -p "$RUN"
RUN="$(cd "$RUN" && pwd)"

usage() {
  # The header comment of this file is the help text.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# The env file names everything a test needs: the two addresses, the pids
# (fault tests signal them) and how to stop/resume a service (this script
# with LINTAS_RUN_DIR). Rewritten after every change, as pids change.
write_env() {
  local tmp="$RUN/env.tmp"
  {
    echo "# Written by scripts/services.sh; source it: . $RUN/env"
    if kafka_running "$RUN"; then
      echo "export LINTAS_TEST_KAFKA_BROKERS=$(kafka_bootstrap "$RUN")"
      echo "export LINTAS_TEST_KAFKA_PID=$(kafka_pid "$RUN")"
      echo "export LINTAS_TEST_KAFKA_SASL_SSL_BROKERS=$(kafka_sasl_ssl_bootstrap "$RUN")"
      echo "export LINTAS_TEST_KAFKA_CA=$(kafka_ca "$RUN")"
      echo "export LINTAS_TEST_KAFKA_SASL_USER=$LINTAS_KAFKA_TEST_USER"
      echo "export LINTAS_TEST_KAFKA_SASL_PASSWORD=$LINTAS_KAFKA_TEST_PASSWORD"
    fi
    if clickhouse_running "$RUN"; then
      echo "export LINTAS_TEST_CLICKHOUSE_URL=$(clickhouse_url "$RUN")"
      echo "export LINTAS_TEST_CLICKHOUSE_HTTPS_URL=$(clickhouse_https_url "$RUN")"
      echo "export LINTAS_TEST_CLICKHOUSE_CA=$(clickhouse_ca "$RUN")"
      echo "export LINTAS_TEST_CLICKHOUSE_PID=$(clickhouse_pid "$RUN")"
    fi
    echo "export LINTAS_RUN_DIR=$RUN"
    echo "export LINTAS_TEST_SERVICES=$ROOT/scripts/services.sh"
  } >"$tmp"
  mv "$tmp" "$RUN/env"
}

stop_all() {
  # Kafka first: nothing of ours depends on it staying up for ClickHouse.
  # Each stop is tried even if the other fails.
  local rc=0
  kafka_stop "$RUN" || rc=1
  clickhouse_stop "$RUN" || rc=1
  rm -f "$RUN/env"
  return "$rc"
}

start_all() {
  local ok=""
  # If anything below fails (or the user interrupts), take down whatever
  # did start, so no half-started service is left behind.
  trap '[[ -n "$ok" ]] || { log "start failed, stopping what was started"; stop_all || true; }' EXIT
  trap 'exit 130' INT TERM
  # ClickHouse first: it starts in well under a second, and its install
  # step (apt) is the likelier one to fail on a fresh machine.
  clickhouse_start "$RUN"
  kafka_start "$RUN"
  write_env
  ok=1
  trap - EXIT INT TERM
  log "services: env in $RUN/env"
}

status() {
  local rc=0
  if kafka_running "$RUN"; then
    echo "kafka: running, pid $(kafka_pid "$RUN"), $(kafka_bootstrap "$RUN")"
  else
    echo "kafka: stopped"
    rc=3
  fi
  if clickhouse_running "$RUN"; then
    echo "clickhouse: running, pid $(clickhouse_pid "$RUN"), $(clickhouse_url "$RUN")"
  else
    echo "clickhouse: stopped"
    rc=3
  fi
  return "$rc"
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status ;;
  env)
    [[ -f "$RUN/env" ]] || die "no $RUN/env: run '$0 start' first"
    cat "$RUN/env"
    ;;
  kafka-stop) kafka_stop "$RUN" && write_env ;;
  kafka-resume) kafka_resume "$RUN" && write_env ;;
  kafka-restart) kafka_restart "$RUN" && write_env ;;
  clickhouse-stop) clickhouse_stop "$RUN" && write_env ;;
  clickhouse-resume) clickhouse_resume "$RUN" && write_env ;;
  clickhouse-restart) clickhouse_restart "$RUN" && write_env ;;
  *) usage ;;
esac
