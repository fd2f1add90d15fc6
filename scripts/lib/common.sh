# shellcheck shell=bash
# Helpers shared by the test harness libraries (kafka.sh, clickhouse.sh,
# tools.sh). Sourced, never executed: callers set `set -euo pipefail`.

# Guard against double sourcing: every lib sources this file.
if [[ -n "${LINTAS_COMMON_SH:-}" ]]; then
  return 0
fi
LINTAS_COMMON_SH=1

# Where downloaded artefacts (Kafka jars) live between runs. Outside the
# work tree on purpose: a fresh clone (as CI uses) must still hit the cache.
LINTAS_CACHE_DIR="${LINTAS_CACHE_DIR:-$HOME/.cache/lintas}"

# Messages go to stderr so that functions can print results on stdout.
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Run a command as root: the harness is usually run as root (CI), but a
# developer may run it as a normal user with sudo available.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (no sudo found)"
  fi
}

# Seconds since the epoch with fractions, for timing steps.
now_s() { date +%s.%N; }
# Elapsed seconds since $1, with one decimal.
elapsed_since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# Print N distinct free TCP ports on 127.0.0.1, one per line. All sockets
# are held open together so the kernel cannot hand out the same port twice;
# a small race remains between closing and the server binding, which is
# acceptable for a test machine (the server then fails loudly at start).
free_ports() {
  local n="$1"
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$n" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
  else
    # Fallback without python: random high ports that nobody answers on.
    local got=0 port
    local -A seen=()
    while ((got < n)); do
      port=$((20000 + RANDOM % 30000))
      [[ -n "${seen[$port]:-}" ]] && continue
      if ! port_open 127.0.0.1 "$port"; then
        seen[$port]=1
        echo "$port"
        got=$((got + 1))
      fi
    done
  fi
}

# True when something accepts TCP connections on HOST PORT. Uses bash's
# /dev/tcp so that no netcat is needed; the subshell closes the socket.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# True while PID exists and is not a zombie. A service started by this very
# shell stays a zombie until reaped, and `kill -0` succeeds on zombies.
pid_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  # The state follows the command name, which is in parentheses and may
  # itself contain spaces: take the first word after the last ')'.
  state="$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# True when PID is alive and its command line contains PATTERN. Checking the
# command line protects against killing an unrelated process that reused a
# stale pid from an old pid file.
pid_matches() {
  local pid="$1" pattern="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# stop_pidfile NAME PIDFILE PATTERN TIMEOUT
# SIGTERM the process recorded in PIDFILE (if it is still the process we
# started), wait up to TIMEOUT seconds for a clean exit, then SIGKILL.
# Succeeds when nothing is running, so it is safe after a failed start.
stop_pidfile() {
  local name="$1" pidfile="$2" pattern="$3" timeout="$4" pid deadline
  if [[ ! -f "$pidfile" ]]; then
    return 0
  fi
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if ! pid_matches "$pid" "$pattern"; then
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while pid_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if pid_alive "$pid"; then
    log "$name: still running after ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

# make_test_tls DIR: a throwaway CA (DIR/ca.pem) and a server certificate for
# 127.0.0.1 signed by it (server.crt, server.key, and both in server.pem as
# Kafka's PEM keystore wants them), so TLS listeners are tested the way
# operators use them: with a private CA that lintas is told to trust. The
# dhparam file is required by ClickHouse 18.16's Poco config; -dsaparam makes
# it in well under a second.
make_test_tls() {
  local tls="$1"
  if ! command -v openssl >/dev/null 2>&1; then
    log "tls: installing openssl from Debian"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y openssl >&2
  fi
  mkdir -p "$tls"
  (
    cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=lintas test CA" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
      -keyout server.key -out server.csr
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.crt
    cat server.key server.crt >server.pem
    openssl dhparam -dsaparam -out dhparam.pem 2048
    chmod 600 ca.key server.key server.pem
  ) >"$tls/openssl.log" 2>&1 || {
    cat "$tls/openssl.log" >&2
    die "tls: could not make the test certificates in $tls"
  }
}
