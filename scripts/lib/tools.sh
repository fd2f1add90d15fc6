# shellcheck shell=bash
# Build and lint tools that the test command needs besides the services:
# buf (protobuf lint, built from the Go module proxy) and the rustfmt and
# clippy components of the active Rust toolchain.
# Sourced by scripts/test.sh.
#
# Public functions:
#   tools_path     put Go's and Cargo's bin dirs on PATH
#   tools_buf      go install buf if it is missing or another version
#   tools_rust     rustup component add rustfmt/clippy if missing
#   tools_native   apt-get install the C headers the build links (OpenSSL)
#   tools_ensure   all of the above

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Pinned so lint results do not change under us; bump deliberately.
LINTAS_BUF_VERSION="${LINTAS_BUF_VERSION:-1.75.0}"

# `go install` puts binaries in GOBIN (or GOPATH/bin) and rustup in
# ~/.cargo/bin; CI's environment may not have either on PATH.
tools_path() {
  local gobin
  if [[ -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
    PATH="$HOME/.cargo/bin:$PATH"
  fi
  if [[ -d /usr/local/go/bin && ":$PATH:" != *":/usr/local/go/bin:"* ]]; then
    PATH="/usr/local/go/bin:$PATH"
  fi
  if command -v go >/dev/null 2>&1; then
    gobin="$(go env GOBIN)"
    [[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
    if [[ ":$PATH:" != *":$gobin:"* ]]; then
      PATH="$gobin:$PATH"
    fi
  fi
  export PATH
}

tools_buf() {
  local have=""
  tools_path
  if command -v buf >/dev/null 2>&1; then
    have="$(buf --version 2>/dev/null || true)"
  fi
  if [[ "$have" == "$LINTAS_BUF_VERSION" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "tools: buf $LINTAS_BUF_VERSION is missing and there is no Go toolchain to build it"
  log "tools: go install buf v$LINTAS_BUF_VERSION (found: ${have:-none}); takes a few minutes cold"
  local start
  start="$(now_s)"
  go install "github.com/bufbuild/buf/cmd/buf@v$LINTAS_BUF_VERSION" >&2
  tools_path
  have="$(buf --version 2>/dev/null || true)"
  [[ "$have" == "$LINTAS_BUF_VERSION" ]] ||
    die "tools: installed buf but 'buf --version' says '${have:-nothing}' (is another buf earlier on PATH?)"
  log "tools: buf $have installed ($(elapsed_since "$start")s)"
}

# The components belong to the toolchain that is active here (a
# rust-toolchain.toml in the repo may select one), so ask through cargo.
tools_rust() {
  tools_path
  command -v cargo >/dev/null 2>&1 || die "tools: cargo not found (install Rust with rustup)"
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if ((${#missing[@]} > 0)); then
    command -v rustup >/dev/null 2>&1 || die "tools: ${missing[*]} missing and no rustup to add them"
    log "tools: rustup component add ${missing[*]}"
    rustup component add "${missing[@]}" >&2
  fi
}

# librdkafka is built with TLS and SCRAM (rdkafka's `ssl` feature), which
# links the system OpenSSL through openssl-sys: it needs the headers and
# pkg-config. Present on a usual Debian build machine; installed otherwise.
tools_native() {
  local pkgs=()
  command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
  pkg-config --exists openssl 2>/dev/null || [[ -f /usr/include/openssl/ssl.h ]] || pkgs+=(libssl-dev)
  ((${#pkgs[@]} == 0)) && return 0
  log "tools: installing ${pkgs[*]} from Debian"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2; then
    as_root apt-get update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2
  fi
}

# One line per tool, so a failing run's log says what it ran with.
tools_versions() {
  echo "rust: $(rustc --version) / $(cargo --version)"
  echo "rustfmt: $(cargo fmt --version) / clippy: $(cargo clippy --version)"
  echo "buf: $(buf --version)"
  echo "openssl: $(pkg-config --modversion openssl 2>/dev/null || echo headers only)"
  echo "java: $(java -version 2>&1 | head -n 1) / maven: $(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g')"
}

tools_ensure() {
  tools_path
  tools_rust
  tools_native
  tools_buf
  tools_versions
}
