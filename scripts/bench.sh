#!/usr/bin/env bash
# Benchmarks of the intake path, recorded in BENCHMARKS.md.
#
#   scripts/bench.sh                 adapters and language detection (criterion) + HTTP path,
#                                    writes BENCHMARKS.md
#   scripts/bench.sh --adapters-only criterion benches only (adapters, language detection)
#   scripts/bench.sh --http-only     gateway + broker + load generator only
#   scripts/bench.sh --no-write      print the figures, leave BENCHMARKS.md alone
#
# The HTTP path: release `lintas gateway` in front of a real single-node Kafka
# broker (scripts/lib/kafka.sh, in its own run directory, so it never touches
# the brokers of scripts/services.sh or of the tests), topics created by
# `lintas topics apply`, and `lintas-loadgen` posting batches to
# POST /v1/events: a warm-up run, then two measured runs, texts without
# `language` (the gateway detects it) and with it. Everything runs on this
# machine and shares its cores; the CPU time each process used during a
# measured run is read from /proc, so the report gives events per CPU-second
# of the gateway besides the wall-clock rate. ClickHouse is not started: it is
# not on this path and would only take CPU. Everything started here is
# stopped on exit.
#
# Settings (environment):
#   BENCH_EVENTS=200000 BENCH_BATCH=500 BENCH_CONCURRENCY=8 BENCH_CUSTOMERS=10000
#   BENCH_WARMUP=5s          unmeasured load before the run (connections, metadata, JIT)
#   BENCH_KAFKA_BROKERS=h:p  use this broker instead of starting one
#   LINTAS_BENCH_DIR         work directory (default target/bench): logs, JSON, criterion data
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/kafka.sh
source "$ROOT/scripts/lib/kafka.sh"

EVENTS="${BENCH_EVENTS:-200000}"
BATCH="${BENCH_BATCH:-500}"
CONCURRENCY="${BENCH_CONCURRENCY:-8}"
CUSTOMERS="${BENCH_CUSTOMERS:-10000}"
WARMUP="${BENCH_WARMUP:-5s}"
OUT="${LINTAS_BENCH_DIR:-$ROOT/target/bench}"
RUN="$OUT/services"
# A write key used only by this script's throwaway gateway.
WRITE_KEY="wk_bench_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
TICKS="$(getconf CLK_TCK)"

run_adapters=1 run_http=1 write_md=1
for arg in "$@"; do
  case "$arg" in
    --adapters-only) run_http="" ;;
    --http-only) run_adapters="" ;;
    --no-write) write_md="" ;;
    *)
      awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
      exit 2
      ;;
  esac
done
command -v curl >/dev/null || die "bench: curl is needed to wait for the gateway"
command -v python3 >/dev/null || die "bench: python3 is needed to read the JSON results"
mkdir -p "$OUT"
rm -f "$OUT"/{adapters,language,http}.{md,section} "$OUT"/loadgen-*.json "$OUT"/cpu-*.txt "$OUT/kafka-measured"

# Set by bench_http, read by measure_run and cleanup.
gateway_pid="" started_kafka="" broker_pid="" loadgen="" url=""
cleanup() {
  local rc=$?
  if [[ -n "$gateway_pid" ]] && pid_alive "$gateway_pid"; then
    log "bench: stopping the gateway (pid $gateway_pid)"
    kill -TERM "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$gateway_pid" || break; sleep 0.2; done
    pid_alive "$gateway_pid" && kill -KILL "$gateway_pid" 2>/dev/null
    wait "$gateway_pid" 2>/dev/null || true
  fi
  if [[ -n "$started_kafka" ]]; then
    log "bench: stopping the broker"
    kafka_stop "$RUN" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name in field 2 may contain spaces, so count after the last ')').
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
# CPU ticks of this shell's children that have been waited for (cutime + cstime).
children_ticks() {
  sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'
}

bench_adapters() {
  log "bench: adapters (criterion; one core, no I/O)"
  # CRITERION_HOME pins where criterion keeps its estimates, which are read below.
  CRITERION_HOME="$OUT/criterion" cargo bench -p lintas-adapters --bench adapters -- \
    --warm-up-time 1 --measurement-time 3 | tee "$OUT/adapters.txt"
  python3 - "$OUT/criterion/adapters" "$OUT/adapters.txt" >"$OUT/adapters.md" <<'PY'
import json, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
# Only the benches of this run: criterion keeps the directories of earlier ones.
ran = set(re.findall(r"^adapters/(\S+)\s+time:", pathlib.Path(sys.argv[2]).read_text(), re.M))
print("| adapter | events per request | median time per request | events/s (one core) |")
print("| --- | ---: | ---: | ---: |")
for bench in sorted(root / name for name in ran):
    median_ns = json.loads((bench / "new" / "estimates.json").read_text())["median"]["point_estimate"]
    throughput = json.loads((bench / "new" / "benchmark.json").read_text()).get("throughput") or {}
    events = throughput.get("Elements", 1)
    print(f"| `{bench.name}` | {events} | {median_ns / 1000:.1f} µs | {events * 1e9 / median_ns:,.0f} |")
PY
  bench_language
}

# Language detection per text: the en/id pre-pass with whatlang behind it, against whatlang alone.
bench_language() {
  log "bench: language detection (criterion; one core, no I/O)"
  CRITERION_HOME="$OUT/criterion" cargo bench -p lintas-adapters --bench language -- \
    --warm-up-time 1 --measurement-time 3 | tee "$OUT/language.txt"
  python3 - "$OUT/criterion/language" "$OUT/language.txt" >"$OUT/language.md" <<'PY'
import json, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
ran = set(re.findall(r"^(language/\S+)\s+time:", pathlib.Path(sys.argv[2]).read_text(), re.M))
# Criterion names the directories after the ids with `/` replaced; benchmark.json has the id.
found = {}
for meta in root.glob("*/new/benchmark.json"):
    bench = json.loads(meta.read_text())
    if bench["full_id"] in ran:
        found[bench["full_id"]] = (meta.parent, bench)
texts_label = {"chat": "English and Indonesian chat (the load tool's mix)",
               "fallback": "other languages, scripts, too short (whatlang decides)"}
detector_label = {"detect_language": "pre-pass, then whatlang", "whatlang_only": "whatlang alone (before)"}
print("| texts | detector | median time per text | texts/s (one core) |")
print("| --- | --- | ---: | ---: |")
for full_id in sorted(found):
    directory, bench = found[full_id]
    texts, detector = full_id.split("/")[1:3]
    median_ns = json.loads((directory / "estimates.json").read_text())["median"]["point_estimate"]
    count = (bench.get("throughput") or {}).get("Elements", 1)
    per_text = median_ns / count
    print(f"| {texts_label.get(texts, texts)} | {detector_label.get(detector, detector)} "
          f"| {per_text / 1000:.2f} µs | {1e9 / per_text:,.0f} |")
PY
}

# measure_run NAME LANGUAGE_PERCENT: one measured load run against the running gateway, with the
# CPU ticks the gateway, the broker and the load generator used during it.
measure_run() {
  local name="$1" language_percent="$2" gw0 kf0=0 lg0 gw1 kf1=0 lg1 rc=0
  gw0="$(cpu_ticks "$gateway_pid")"
  if [[ -n "$broker_pid" ]]; then kf0="$(cpu_ticks "$broker_pid")"; fi
  lg0="$(children_ticks)"
  log "bench: $EVENTS events, batch $BATCH, concurrency $CONCURRENCY, language on $language_percent% of texts"
  "$loadgen" --url "$url" --events "$EVENTS" --warmup 0s --batch "$BATCH" \
    --concurrency "$CONCURRENCY" --customers "$CUSTOMERS" \
    --language-percent "$language_percent" --json >"$OUT/loadgen-$name.json" || rc=$?
  gw1="$(cpu_ticks "$gateway_pid")"
  if [[ -n "$broker_pid" ]]; then kf1="$(cpu_ticks "$broker_pid")"; fi
  lg1="$(children_ticks)"
  ((rc == 0)) || die "bench: the load run failed (see above and $OUT/gateway.log)"
  echo "$((gw1 - gw0)) $((kf1 - kf0)) $((lg1 - lg0))" >"$OUT/cpu-$name.txt"
}

bench_http() {
  log "bench: building release binaries"
  cargo build --release -p lintas -p lintas-loadgen
  local lintas="$ROOT/target/release/lintas" brokers port
  loadgen="$ROOT/target/release/lintas-loadgen"
  if [[ -n "${BENCH_KAFKA_BROKERS:-}" ]]; then
    brokers="$BENCH_KAFKA_BROKERS"
  else
    started_kafka=1
    kafka_start "$RUN"
    brokers="$(kafka_bootstrap "$RUN")"
    broker_pid="$(kafka_pid "$RUN")"
    touch "$OUT/kafka-measured"
  fi
  log "bench: broker $brokers"
  LINTAS__KAFKA__BROKERS="$brokers" LINTAS__TOPICS__REPLICATION_FACTOR=1 \
    "$lintas" topics apply

  port="$(free_ports 1)"
  url="http://127.0.0.1:$port"
  LINTAS__KAFKA__BROKERS="$brokers" \
    LINTAS__GATEWAY__LISTEN="127.0.0.1:$port" \
    LINTAS__TENANTS__BENCH__WRITE_KEYS="$WRITE_KEY" \
    LINTAS__TELEMETRY__LOG_FORMAT=json \
    "$lintas" gateway >"$OUT/gateway.log" 2>&1 &
  gateway_pid=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
    pid_alive "$gateway_pid" || { tail -n 30 "$OUT/gateway.log" >&2; die "bench: the gateway exited"; }
    ((SECONDS < deadline)) || { tail -n 30 "$OUT/gateway.log" >&2; die "bench: gateway not ready in 60 s"; }
    sleep 0.2
  done
  log "bench: gateway ready on $url (pid $gateway_pid); warm-up $WARMUP"
  export LINTAS_WRITE_KEY="$WRITE_KEY"
  # The warm-up is its own run so the CPU readings below cover the measured run only.
  "$loadgen" --url "$url" --duration "$WARMUP" --warmup 0s --batch "$BATCH" \
    --concurrency "$CONCURRENCY" --customers "$CUSTOMERS" >"$OUT/warmup.txt"

  measure_run plain 0
  measure_run tagged 100
  python3 - "$OUT" "$TICKS" >"$OUT/http.md" <<'PY'
import json, pathlib, sys
out, ticks = pathlib.Path(sys.argv[1]), float(sys.argv[2])
runs = []
for name in ("plain", "tagged"):
    report = json.loads((out / f"loadgen-{name}.json").read_text())
    gateway, kafka, loadgen = (int(t) / ticks for t in (out / f"cpu-{name}.txt").read_text().split())
    runs.append((report, gateway, kafka, loadgen))
kafka_measured = (out / "kafka-measured").exists()

def row(name, cell):
    print(f"| {name} | " + " | ".join(cell(*run) for run in runs) + " |")

def per(events, seconds):
    return f"{events / seconds:,.0f}" if seconds > 0 else "n/a"

print("| figure | texts without `language` (gateway detects it) | every text with `language` |")
print("| --- | ---: | ---: |")
row("events accepted", lambda r, g, k, l: f"{r['events_accepted']:,} in {r['requests']:,} requests")
row("wall time", lambda r, g, k, l: f"{r['elapsed_secs']:.2f} s")
row("**events/s, wall clock (whole machine)**", lambda r, g, k, l: f"**{r['events_per_sec']:,.0f}**")
row("events/s per core, wall clock / 2 cores", lambda r, g, k, l: f"{r['events_per_sec'] / 2:,.0f}")
row("requests/s", lambda r, g, k, l: f"{r['requests_per_sec']:,.1f}")
row("latency per request p50 / p90 / p99 / max (ms)",
    lambda r, g, k, l: " / ".join(f"{r['latency_ms'][q]:.0f}" for q in ("p50", "p90", "p99", "max")))
row("CPU: gateway", lambda r, g, k, l: f"{g:.2f} s ({g / r['elapsed_secs']:.2f} cores)")
if kafka_measured:
    row("CPU: Kafka broker", lambda r, g, k, l: f"{k:.2f} s ({k / r['elapsed_secs']:.2f} cores)")
row("CPU: load generator (incl. building the bodies)", lambda r, g, k, l: f"{l:.2f} s")
row("**events per gateway CPU-second**", lambda r, g, k, l: f"**{per(r['events_accepted'], g)}**")
if kafka_measured:
    row("events per CPU-second of gateway + broker", lambda r, g, k, l: per(r["events_accepted"], g + k))
PY
  cat "$OUT/http.md"
}

# "Measured ..." line of a section: when, at which commit, on what, how busy.
context_line() {
  local commit load
  commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$ROOT" diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
  read -r load _ </proc/loadavg
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) at commit $commit on $(nproc) cores" \
    "($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo))," \
    "load average $load when the run started (other work on the machine skews the figures)."
}

# Read before anything is built or started, so the load average shows the machine as found.
start_context="$(context_line)"
# `if`, not `&&`: errexit stays in force inside the functions.
if [[ -n "$run_adapters" ]]; then bench_adapters; fi
if [[ -n "$run_http" ]]; then bench_http; fi

for section in adapters language http; do
  if [[ -f "$OUT/$section.md" ]]; then
    { echo "$start_context"; echo; cat "$OUT/$section.md"; } >"$OUT/$section.section"
  fi
done

if [[ -n "$write_md" ]]; then
  # Replace what lies between the section markers of BENCHMARKS.md, keeping the prose around
  # them; a section that did not run this time keeps its previous figures.
  python3 - "$ROOT/BENCHMARKS.md" "$OUT" <<'PY'
import pathlib, sys
md, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
text = md.read_text()
for name in ("adapters", "language", "http"):
    section = out / f"{name}.section"
    if not section.exists():
        continue
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    if start not in text or end not in text:
        sys.exit(f"BENCHMARKS.md lacks the markers {start} ... {end}")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    text = f"{before}{start}\n{section.read_text().rstrip()}\n{end}{after}"
md.write_text(text)
PY
  log "bench: updated BENCHMARKS.md"
fi
