#!/usr/bin/env bash
# The newcomer's one command: from a clone to classified interactions in ClickHouse.
#
#   scripts/quickstart.sh
#
# 1. builds `lintas` and the replay tool `lintas-shop-day` (cargo shows its progress);
# 2. makes sure Kafka and ClickHouse run: when LINTAS__CLICKHOUSE__URL is not set, it starts a
#    local ClickHouse and a local Kafka broker with their own data directories under
#    target/quickstart/services (scripts/services.sh installs them on first use); when only
#    ClickHouse is given and LINTAS__KAFKA__BROKERS is not, `lintas run` uses its embedded
#    in-memory broker;
# 3. starts `lintas run --migrate` (gateway, classifier and sink in one process);
# 4. replays the example day of a small shop (examples/shop-day/day.toml) through the real HTTP
#    endpoints as a fresh tenant: signed webhooks of 11 platforms and /v1/events batches;
# 5. waits until every accepted event is queryable, prints the query pack's tables, and ends
#    with `events sent N, accepted N, rows in ClickHouse N, DLQ N`, exiting 0 only if they
#    reconcile (and every row is the expected event).
#
# Environment: LINTAS__CLICKHOUSE__URL (and __USER, __PASSWORD, __DATABASE), LINTAS__KAFKA__BROKERS
# point it at existing services; QUICKSTART_DIR (default target/quickstart) holds the config,
# logs and outcomes; QUICKSTART_PROFILE=release builds optimised binaries (slower to build).
# Services started here keep running for you to query; stop them with
#   LINTAS_RUN_DIR=target/quickstart/services scripts/services.sh stop
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"

DIR="${QUICKSTART_DIR:-$ROOT/target/quickstart}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
# One run per directory: two runs would overwrite each other's config and services.
exec 9>"$DIR/.lock"
flock -n 9 || die "another quickstart is running in $DIR; wait for it or use QUICKSTART_DIR=target/quickstart-<name>"
PROFILE="${QUICKSTART_PROFILE:-dev}"
started_at="$(now_s)"

step() { printf '\n==> %s\n' "$*"; }

step "building lintas and lintas-shop-day (profile $PROFILE)"
build_started="$(now_s)"
tools_path
tools_native
cargo build --profile "$PROFILE" -p lintas -p lintas-shop-day --manifest-path "$ROOT/Cargo.toml"
target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path "$ROOT/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[[ "$PROFILE" == dev ]] && out="$target_dir/debug" || out="$target_dir/$PROFILE"
LINTAS="$out/lintas"
SHOP_DAY="$out/lintas-shop-day"
echo "built in $(elapsed_since "$build_started")s"

step "services"
if [[ -z "${LINTAS__CLICKHOUSE__URL:-}" ]]; then
  services=(env LINTAS_RUN_DIR="$DIR/services" "$ROOT/scripts/services.sh")
  if "${services[@]}" status >/dev/null 2>&1; then
    echo "reusing the quickstart's Kafka and ClickHouse ($DIR/services)"
  else
    # A half-running pair (one crashed) is restarted whole.
    "${services[@]}" stop >/dev/null 2>&1 || true
    # 9>&-: the long-lived servers must not inherit (and so keep) the run's lock.
    "${services[@]}" start 9>&-
  fi
  # shellcheck disable=SC1091
  source "$DIR/services/env"
  export LINTAS__CLICKHOUSE__URL="$LINTAS_TEST_CLICKHOUSE_URL"
  export LINTAS__KAFKA__BROKERS="${LINTAS__KAFKA__BROKERS:-$LINTAS_TEST_KAFKA_BROKERS}"
  # One local broker: one replica per topic.
  export LINTAS__TOPICS__REPLICATION_FACTOR="${LINTAS__TOPICS__REPLICATION_FACTOR:-1}"
fi
echo "clickhouse: $LINTAS__CLICKHOUSE__URL"
echo "kafka: ${LINTAS__KAFKA__BROKERS:-embedded in-memory broker (lintas run)}"

# Each run is its own tenant: new rows, customers unknown again (see lintas-shop-day's docs).
tenant="kopi-senja-$(date -u +%Y%m%d-%H%M%S)"
port="$(free_ports 1)"
config="$DIR/lintas.toml"
{
  echo "# Written by scripts/quickstart.sh for tenant $tenant."
  echo "[gateway]"
  echo "listen = \"127.0.0.1:$port\""
  echo
  # So that `lintas --config $config query ...` finds the same ClickHouse afterwards (the user
  # and password stay in the environment only).
  echo "[clickhouse]"
  echo "url = \"$LINTAS__CLICKHOUSE__URL\""
  echo
  "$SHOP_DAY" tenant --tenant "$tenant"
} >"$config"
chmod 600 "$config"

step "starting lintas run --migrate (gateway on 127.0.0.1:$port, log $DIR/lintas-run.log)"
"$LINTAS" --config "$config" run --migrate >"$DIR/lintas-run.log" 2>&1 9>&- &
run_pid=$!
stop_run() {
  if pid_alive "$run_pid"; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
}
trap stop_run EXIT
trap 'exit 130' INT TERM
ready_started="$(now_s)"
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  if ! pid_alive "$run_pid"; then
    tail -n 20 "$DIR/lintas-run.log" >&2
    die "lintas run exited during start (log above)"
  fi
  if (($(date +%s) - ${ready_started%.*} > 120)); then
    tail -n 20 "$DIR/lintas-run.log" >&2
    die "lintas run not ready after 120s"
  fi
  sleep 0.5
done
echo "ready in $(elapsed_since "$ready_started")s: $(curl -s "http://127.0.0.1:$port/readyz")"

step "replaying the day of Kopi Senja as tenant $tenant"
outcomes="$DIR/outcomes.jsonl"
"$SHOP_DAY" --config "$config" replay --tenant "$tenant" \
  --gateway "http://127.0.0.1:$port" --outcomes "$outcomes"

step "waiting until every accepted event is queryable"
verify_rc=0
"$SHOP_DAY" --config "$config" verify --tenant "$tenant" --outcomes "$outcomes" \
  >"$DIR/verify.txt" || verify_rc=$?
sed '$d' "$DIR/verify.txt"

# The day opened 13 hours before the replay, possibly yesterday in UTC.
from="$(date -u -d '-1 day' +%F)"
to="$(date -u +%F)"
query() {
  local name="$1"
  shift
  step "$name: $("$LINTAS" query 2>/dev/null | awk -v n="$name" '$0 == n { getline; sub(/^ +/, ""); print; exit }')"
  "$LINTAS" --config "$config" query "$name" --param "tenant=$tenant" "$@"
}
query channel_mix --param "from=$from" --param "to=$to"
query interaction_matrix --param "from=$from" --param "to=$to"
query journey_funnel --param "from=$from" --param "to=$to"
query first_response_times --param "from=$from" --param "to=$to"
query feedback_trend --param "from=$from" --param "to=$to"
query customer_timeline --param "customer=email:michael.tan@example.com"

step "summary (tenant $tenant, $(elapsed_since "$started_at")s in all)"
tail -n 1 "$DIR/verify.txt"
exit "$verify_rc"
