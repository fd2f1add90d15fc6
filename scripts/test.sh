#!/usr/bin/env bash
# The project's one test command (README, .ci/run). On a fresh machine of
# the project's kind it installs what is missing (buf, rustfmt/clippy,
# ClickHouse from Debian, Kafka jars from Maven Central), starts a private
# Kafka broker and ClickHouse server, runs every check in order and stops
# the services again, on failure too.
#
# Environment:
#   LINTAS_TEST_STEPS       run only these steps (comma/space separated),
#                           e.g. LINTAS_TEST_STEPS=fmt,clippy; "test"
#                           implies "services"
#   LINTAS_TEST_KEEP_GOING  1: run the remaining steps after a failure
#   LINTAS_TEST_RUN_DIR     services' run dir (default target/test-services,
#                           apart from scripts/services.sh's target/services
#                           so a developer's own services are not touched)
#   LINTAS_TEST_MIN_FREE_GIB  fail at once when the target dir's file system
#                           has less free space (default: what a cold run needs)
#   LINTAS_CACHE_DIR        download cache (default ~/.cache/lintas); with
#                           CI=true also holds CARGO_TARGET_DIR (unless set)
#                           and the chDB venv (scripts/lib/chdb.sh)
#
# To add a check: append a `step NAME command...` line in main below.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"
# shellcheck source=scripts/lib/chdb.sh
source "$ROOT/scripts/lib/chdb.sh"

RUN="${LINTAS_TEST_RUN_DIR:-$ROOT/target/test-services}"

# CI runs in a fresh clone each time, so ./target would start empty and
# every dependency would be rebuilt. A target dir in the cache survives
# between CI runs on the same machine; developers keep their ./target.
if [[ "${CI:-}" == true && -z "${CARGO_TARGET_DIR:-}" ]]; then
  export CARGO_TARGET_DIR="$LINTAS_CACHE_DIR/cargo-target"
fi
# Incremental caches only pay off in an edit-compile loop; in CI they would be
# gigabytes of disk written for nothing.
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# Measured: a cold run (clippy, tests, fuzz) filled an empty target dir with 4.0 GiB;
# the rest is room for the services' data and logs.
DISK_NEED_GIB=6
SERVICES=(env LINTAS_RUN_DIR="$RUN" "$ROOT/scripts/services.sh")

STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
FAILED=0
T0="$(now_s)"

selected() {
  local name="$1" want
  [[ -z "${LINTAS_TEST_STEPS:-}" ]] && return 0
  for want in ${LINTAS_TEST_STEPS//,/ }; do
    [[ "$want" == "$name" ]] && return 0
    # The tests need the services, so asking for them implies starting them.
    [[ "$name" == services && "$want" == test ]] && return 0
  done
  return 1
}

# step NAME COMMAND...: run one check with a header and its time, record
# the result for the summary. The command runs in a subshell with `set -e`
# in force (it would be off inside an `if`), so a failing line inside a
# shell function fails the step; state meant for later steps must be left
# in files (the services' env file), not in variables.
step() {
  local name="$1" start rc
  shift
  if ((FAILED)) && [[ "${LINTAS_TEST_KEEP_GOING:-0}" != 1 ]]; then
    record "$name" "not run" ""
    return 0
  fi
  if ! selected "$name"; then
    record "$name" "skipped" ""
    return 0
  fi
  printf '\n==== %s: %s\n' "$name" "$*"
  start="$(now_s)"
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  if ((rc == 0)); then
    record "$name" "ok" "$(elapsed_since "$start")"
    printf '==== %s: ok (%ss)\n' "$name" "${STEP_TIMES[-1]}"
  else
    FAILED=1
    record "$name" "FAILED (exit $rc)" "$(elapsed_since "$start")"
    printf '==== %s: FAILED with exit %s (%ss)\n' "$name" "$rc" "${STEP_TIMES[-1]}"
  fi
}

record() {
  STEP_NAMES+=("$1")
  STEP_RESULTS+=("$2")
  STEP_TIMES+=("$3")
}

summary() {
  local i
  printf '\n==== summary\n'
  for i in "${!STEP_NAMES[@]}"; do
    printf '  %-12s %-18s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" \
      "${STEP_TIMES[$i]:+${STEP_TIMES[$i]}s}"
  done
  # Worded so that it is not mistaken for a test runner's "N passed" line.
  if ((FAILED)); then
    printf '  result: FAILED after %ss\n' "$(elapsed_since "$T0")"
  else
    printf '  result: all selected steps ok in %ss\n' "$(elapsed_since "$T0")"
  fi
  printf '  disk: %s GiB free for %s\n' "$(free_gib "$TARGET_DIR")" "$TARGET_DIR"
}

# Always stop the services this run started, whatever happened; a second
# stop is harmless, so no bookkeeping of what was started is needed.
cleanup() {
  local rc=$?
  "${SERVICES[@]}" stop || true
  exit "$rc"
}

# ---- the steps ------------------------------------------------------------

# A full disk used to surface as "No space left on device" deep inside a
# compile ten minutes in; check first and say what is needed where.
free_gib() {
  local dir="$1"
  while [[ ! -d "$dir" ]]; do dir="$(dirname "$dir")"; done
  df -Pk "$dir" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'
}

disk_check() {
  local need="${LINTAS_TEST_MIN_FREE_GIB:-$DISK_NEED_GIB}" have
  have="$(free_gib "$TARGET_DIR")"
  echo "free on the file system of $TARGET_DIR: ${have} GiB (a cold run needs about ${DISK_NEED_GIB} GiB)"
  if ((have < need)); then
    die "only ${have} GiB free for $TARGET_DIR, need ${need} GiB: free some space or point CARGO_TARGET_DIR elsewhere (LINTAS_TEST_MIN_FREE_GIB overrides the floor)"
  fi
}

start_services() {
  "${SERVICES[@]}" start
}

buf_lint() {
  if [[ ! -f proto/buf.yaml ]]; then
    echo "no proto/buf.yaml: nothing to lint"
    return 0
  fi
  (cd proto && buf lint)
}

# The contract only evolves compatibly: compare proto/ with the main branch
# (a no-op on main itself, the guard on every other branch).
buf_breaking() {
  if ! git rev-parse --verify --quiet main >/dev/null; then
    echo "no local main branch to compare with"
    return 0
  fi
  buf breaking proto --against ".git#branch=main,subdir=proto"
}

cargo_test() {
  # The integration tests fail (never skip) without these; take them from
  # the env file that the services step wrote.
  [[ -f "$RUN/env" ]] || die "no $RUN/env: the services step did not run"
  # shellcheck source=/dev/null
  source "$RUN/env"
  echo "LINTAS_TEST_KAFKA_BROKERS=$LINTAS_TEST_KAFKA_BROKERS"
  echo "LINTAS_TEST_CLICKHOUSE_URL=$LINTAS_TEST_CLICKHOUSE_URL"
  cargo test --workspace --all-features --locked
}

main() {
  # In this shell, not only in the tools step's subshell: later steps need
  # buf and cargo on PATH.
  tools_path
  trap cleanup EXIT
  # Turn signals into an exit so that the EXIT trap stops the services.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Stop anything a killed earlier run left in our run dir: tests start
  # from fresh services.
  "${SERVICES[@]}" stop

  step disk disk_check
  step tools tools_ensure
  step services start_services
  step fmt cargo fmt --all -- --check
  step buf-lint buf_lint
  step buf-breaking buf_breaking
  step clippy cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  step test cargo_test
  # ClickHouse 26.x in-process (chDB, from PyPI): the modern schema, the sink encoder's
  # RowBinary read back, every query of the pack against its expected answers.
  step chdb chdb_check
  # Dockerfile, Helm chart and dashboards checked offline (deploy/check.sh): hadolint, helm
  # lint/template, strict decoding into the Kubernetes API types, rendered configs, metric list.
  step deploy "$ROOT/deploy/check.sh"
  # Every adapter's parser under libFuzzer for a bounded time (scripts/fuzz.sh).
  step fuzz env LINTAS_FUZZ_SECONDS="${LINTAS_FUZZ_SECONDS:-10}" "$ROOT/scripts/fuzz.sh"

  summary
  return "$FAILED"
}

main "$@"
