#!/usr/bin/env bash
# Runs every channel-adapter fuzz target (fuzz/fuzz_targets/, one per registered adapter) for a
# short bounded time, each seeded with its platform's samples from the channel corpus, and prints
# a table of runs and timings. Fails when a target crashes (panic, sanitizer report, libFuzzer
# timeout or out-of-memory; the input is kept under fuzz/artifacts/<target>/), and when the
# adapter registry and the targets disagree.
#
# Needs cargo-fuzz (crates.io) and a nightly toolchain, because cargo-fuzz instruments with
# -Zsanitizer; both are installed when missing. If nightly cannot be installed, the stable
# toolchain is used with RUSTC_BOOTSTRAP=1 and no sanitizer (panics and libFuzzer's own checks
# still fire; memory errors cannot happen in this forbid(unsafe_code) crate anyway).
#
# Environment:
#   LINTAS_FUZZ_SECONDS        time budget per target in seconds (default 10)
#   LINTAS_FUZZ_TARGETS        run only these targets (comma/space separated)
#   LINTAS_FUZZ_SANITIZER      address (default) or none
#   LINTAS_FUZZ_TOOLCHAIN      toolchain for cargo fuzz (default nightly)
#   LINTAS_CARGO_FUZZ_VERSION  cargo-fuzz version installed when missing (default 0.13.2)
#   LINTAS_CORPUS_DIR          channel corpus (default ../shared/corpus/channels)
#
# Reproduce a crash: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-<hash>
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/tools.sh
source "$ROOT/scripts/lib/tools.sh"
tools_path

SECONDS_PER_TARGET="${LINTAS_FUZZ_SECONDS:-10}"
SANITIZER="${LINTAS_FUZZ_SANITIZER:-address}"
TOOLCHAIN="${LINTAS_FUZZ_TOOLCHAIN:-nightly}"
CARGO_FUZZ_VERSION="${LINTAS_CARGO_FUZZ_VERSION:-0.13.2}"
CORPUS="${LINTAS_CORPUS_DIR:-$ROOT/../shared/corpus/channels}"
FUZZ="$ROOT/fuzz"
# Seeds larger than this are left out: the 5 MiB oversize sample tests the gateway's limit, and
# libFuzzer would make it the length bound of every mutation.
MAX_SEED_BYTES=$((1024 * 1024))

# --- Targets vs registry -----------------------------------------------------------------

registered_ids() {
  sed -n '/^static REGISTRY/,/^];/p' "$ROOT/crates/lintas-adapters/src/adapters/mod.rs" |
    sed -n 's/.*&\([a-z0-9_]*\)::.*/\1/p' | sort
}
target_ids() {
  find "$FUZZ/fuzz_targets" -name '*.rs' -exec basename {} .rs \; | sort
}

registry="$(registered_ids)"
targets="$(target_ids)"
[[ -n "$registry" ]] || die "fuzz: found no adapter in the registry (src/adapters/mod.rs)"
if [[ "$registry" != "$targets" ]]; then
  log "fuzz: adapters without a fuzz target: $(comm -23 <(echo "$registry") <(echo "$targets") | xargs)"
  log "fuzz: fuzz targets without an adapter: $(comm -13 <(echo "$registry") <(echo "$targets") | xargs)"
  die "fuzz: add fuzz/fuzz_targets/<id>.rs and its [[bin]] in fuzz/Cargo.toml for every registered adapter"
fi

selected=()
if [[ -n "${LINTAS_FUZZ_TARGETS:-}" ]]; then
  for want in ${LINTAS_FUZZ_TARGETS//,/ }; do
    grep -qx "$want" <<<"$targets" || die "fuzz: no target '$want' (have: $(xargs <<<"$targets"))"
    selected+=("$want")
  done
else
  mapfile -t selected <<<"$targets"
fi

# --- Tools ---------------------------------------------------------------------------------

command -v cargo >/dev/null 2>&1 || die "fuzz: cargo not found (install Rust with rustup)"
CARGO=(cargo "+$TOOLCHAIN")
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  log "fuzz: toolchain $TOOLCHAIN missing; rustup toolchain install $TOOLCHAIN --profile minimal"
  if ! rustup toolchain install "$TOOLCHAIN" --profile minimal >&2; then
    log "fuzz: cannot install $TOOLCHAIN: stable with RUSTC_BOOTSTRAP=1, no sanitizer"
    CARGO=(cargo +stable)
    export RUSTC_BOOTSTRAP=1
    SANITIZER=none
  fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "fuzz: cargo install cargo-fuzz@$CARGO_FUZZ_VERSION --locked (a minute or two)"
  cargo +stable install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked >&2
fi
log "fuzz: $("${CARGO[@]}" fuzz --version) with $("${CARGO[@]}" rustc --version 2>/dev/null ||
  rustup run "${CARGO[1]#+}" rustc --version), sanitizer $SANITIZER"

# --- Build once, then run each target --------------------------------------------------------

cd "$FUZZ"
FUZZ_FLAGS=(--release --sanitizer "$SANITIZER")
start="$(now_s)"
log "fuzz: building every target (one build, then ${#selected[@]} to run)"
"${CARGO[@]}" fuzz build "${FUZZ_FLAGS[@]}" >&2
BUILD_SECONDS="$(elapsed_since "$start")"
log "fuzz: built in ${BUILD_SECONDS}s"

[[ -d "$CORPUS" ]] || log "fuzz: no corpus at $CORPUS; targets start from empty input"

results=()
failed=()
for target in "${selected[@]}"; do
  seeds="$FUZZ/corpus/$target"
  mkdir -p "$seeds" "$FUZZ/artifacts/$target"
  if [[ -d "$CORPUS/$target" ]]; then
    find "$CORPUS/$target" -type f ! -name '*.headers' -size -"${MAX_SEED_BYTES}"c \
      -exec cp -f {} "$seeds/" \;
  fi
  log_file="$FUZZ/artifacts/$target/last-run.log"
  start="$(now_s)"
  status=0
  "${CARGO[@]}" fuzz run "${FUZZ_FLAGS[@]}" "$target" "$seeds" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log_file" 2>&1 || status=$?
  took="$(elapsed_since "$start")"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log_file" | tail -1)"
  coverage="$(grep -o 'cov: [0-9]*' "$log_file" | tail -1 | tr -dc 0-9)"
  if ((status != 0)); then
    failed+=("$target")
    tail -40 "$log_file" >&2
    log "fuzz: $target FAILED (exit $status); input and log in fuzz/artifacts/$target/"
  fi
  results+=("$(printf '%-10s %7ss %10s %8s %7s  %s' "$target" "$took" "${runs:-?}" \
    "$(awk -v r="${runs:-0}" -v s="$SECONDS_PER_TARGET" 'BEGIN { printf "%d", r / s }')" \
    "${coverage:-?}" "$([[ $status == 0 ]] && echo ok || echo FAILED)")")
done

printf '\nfuzz: %ss per target, sanitizer %s, build %ss\n' "$SECONDS_PER_TARGET" "$SANITIZER" "$BUILD_SECONDS"
printf '%-10s %8s %10s %8s %7s  %s\n' target wall runs runs/s cov result
printf '%s\n' "${results[@]}"
if ((${#failed[@]} > 0)); then
  die "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
fi
