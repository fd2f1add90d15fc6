# shellcheck shell=bash
# A private ClickHouse server for integration, end-to-end and fault tests.
#
# Debian's clickhouse-server (18.16, see ARCHITECTURE.md section 5) is the
# only ClickHouse server installable here. It is started with the package's
# config file and every path and port overridden on the command line, so it
# needs no root, never touches /var/lib/clickhouse and cannot collide with a
# system instance that the package may have started (8123/9000/9009).
# Sourced by scripts/services.sh and scripts/test.sh.
#
# Public functions (RUN is a run directory; ClickHouse uses RUN/clickhouse):
#   clickhouse_install        apt-get install the server if it is missing
#   clickhouse_start RUN      fresh server: new data dir, free ports, wait
#   clickhouse_stop RUN       SIGTERM, then SIGKILL after a deadline
#   clickhouse_resume RUN     start again on the same ports and data dir
#   clickhouse_restart RUN    clickhouse_stop + clickhouse_resume
#   clickhouse_running RUN    true while the server process is alive
#   clickhouse_url RUN        prints http://127.0.0.1:PORT
#   clickhouse_https_url RUN  prints https://127.0.0.1:PORT (certificate from
#                             clickhouse_ca RUN, a CA made for this server)
#   clickhouse_ca RUN         prints the path of that CA certificate (PEM)
#   clickhouse_pid RUN        prints the server's pid
#   clickhouse_query RUN SQL  run SQL over HTTP, print the result

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LINTAS_CLICKHOUSE_CONFIG="${LINTAS_CLICKHOUSE_CONFIG:-/etc/clickhouse-server/config.xml}"

# The package puts the server in /usr/sbin, which a non-root user's PATH
# usually lacks.
clickhouse_bin() {
  local bin
  for bin in "$(command -v clickhouse-server || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [[ -n "$bin" && -x "$bin" ]]; then
      echo "$bin"
      return 0
    fi
  done
  return 1
}

clickhouse_install() {
  local pkgs=()
  clickhouse_bin >/dev/null || pkgs+=(clickhouse-server clickhouse-client)
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  ((${#pkgs[@]} == 0)) && return 0
  log "clickhouse: installing ${pkgs[*]} from Debian"
  # Refresh the package lists only when the install fails: on a machine
  # whose lists are current that saves a slow `apt-get update`.
  # policy-rc.d may refuse to start the system service; that is fine, we
  # never use it.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2; then
    as_root apt-get update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}" >&2
  fi
  clickhouse_bin >/dev/null || die "clickhouse: clickhouse-server still missing after apt-get install"
}

clickhouse_dir() { echo "${1:?run dir}/clickhouse"; }

clickhouse_pid() { cat "$(clickhouse_dir "$1")/clickhouse.pid" 2>/dev/null; }

# The process is recognised by its data path, so a pid reused by another
# process (or another run dir's server) is never taken for ours.
clickhouse_running() {
  pid_matches "$(clickhouse_pid "$1" || true)" "--path=$(clickhouse_dir "$1")/data/"
}

clickhouse_url() {
  local http _
  read -r http _ <"$(clickhouse_dir "$1")/ports"
  echo "http://127.0.0.1:$http"
}

clickhouse_https_url() {
  local _http _tcp _inter https
  read -r _http _tcp _inter https <"$(clickhouse_dir "$1")/ports"
  echo "https://127.0.0.1:$https"
}

clickhouse_ca() { echo "$(clickhouse_dir "$1")/tls/ca.pem"; }

clickhouse_query() {
  curl -fsS --max-time 60 "$(clickhouse_url "$1")/" --data-binary "$2"
}

# Start the server from RUN/clickhouse (ports recorded) and wait for it.
clickhouse_launch() {
  local run="$1" dir http tcp inter https pid start deadline version listening
  dir="$(clickhouse_dir "$run")"
  read -r http tcp inter https <"$dir/ports"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/uf" "$dir/fs"
  start="$(now_s)"
  # Exactly the invocation of ARCHITECTURE.md section 5, plus listen_host:
  # the package config listens on ::1 and 127.0.0.1; the override keeps it
  # to the IPv4 loopback address that the tests' URL names.
  nohup "$(clickhouse_bin)" --config-file="$LINTAS_CLICKHOUSE_CONFIG" -- \
    --path="$dir/data/" --tmp_path="$dir/tmp/" \
    --http_port="$http" --tcp_port="$tcp" --interserver_http_port="$inter" \
    --logger.log="$dir/log" --logger.errorlog="$dir/err" \
    --user_files_path="$dir/uf/" --format_schema_path="$dir/fs/" \
    --listen_host=127.0.0.1 \
    --https_port="$https" \
    --openSSL.server.certificateFile="$dir/tls/server.crt" \
    --openSSL.server.privateKeyFile="$dir/tls/server.key" \
    --openSSL.server.dhParamsFile="$dir/tls/dhparam.pem" \
    >>"$dir/stdout" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/clickhouse.pid"
  deadline=$((SECONDS + ${LINTAS_CLICKHOUSE_START_TIMEOUT:-60}))
  until [[ "$(curl -fsS --max-time 2 "http://127.0.0.1:$http/ping" 2>/dev/null)" == "Ok." ]]; do
    if ! pid_alive "$pid"; then
      tail -n 30 "$dir/err" "$dir/stdout" >&2 2>/dev/null || true
      die "clickhouse: server exited during start (logs: $dir/err, $dir/log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$dir/err" >&2 2>/dev/null || true
      clickhouse_stop "$run" || true
      die "clickhouse: no answer to /ping after ${LINTAS_CLICKHOUSE_START_TIMEOUT:-60}s"
    fi
    sleep 0.2
  done
  # The brief is loopback only: refuse to go on if any of our ports is
  # bound to another address (say, a changed system config.xml).
  if command -v ss >/dev/null 2>&1; then
    listening="$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{ print $4 }' || true)"
    if [[ -n "$listening" ]] && grep -qv '^127\.0\.0\.1:' <<<"$listening"; then
      clickhouse_stop "$run" || true
      die "clickhouse: listens beyond loopback: $(tr '\n' ' ' <<<"$listening")"
    fi
  fi
  version="$(clickhouse_query "$run" 'SELECT version()')"
  echo "clickhouse: server $version on http://127.0.0.1:$http" \
    "(https $https, tcp $tcp, pid $pid, ready in $(elapsed_since "$start")s, log $dir/log)"
}

clickhouse_start() {
  local run="${1:?run dir}" dir ports
  dir="$(clickhouse_dir "$run")"
  if clickhouse_running "$run"; then
    log "clickhouse: already running (pid $(clickhouse_pid "$run")) on $(clickhouse_url "$run")"
    return 0
  fi
  clickhouse_install
  # A start is a fresh server with empty databases; clickhouse_restart is
  # the way to keep data (fault tests).
  rm -rf "$dir"
  mkdir -p "$dir"
  mapfile -t ports < <(free_ports 4)
  echo "${LINTAS_CLICKHOUSE_HTTP_PORT:-${ports[0]}} ${ports[1]} ${ports[2]} ${ports[3]}" >"$dir/ports"
  make_test_tls "$dir/tls"
  clickhouse_launch "$run"
}

clickhouse_stop() {
  local run="${1:?run dir}"
  stop_pidfile clickhouse "$(clickhouse_dir "$run")/clickhouse.pid" \
    "--path=$(clickhouse_dir "$run")/data/" \
    "${LINTAS_CLICKHOUSE_STOP_TIMEOUT:-60}"
}

# Start again after clickhouse_stop, on the same ports and data dir (fault
# tests: the server comes back with every table and row).
clickhouse_resume() {
  local run="${1:?run dir}" dir
  dir="$(clickhouse_dir "$run")"
  [[ -f "$dir/ports" ]] || die "clickhouse: nothing to resume in $dir (start it first)"
  if clickhouse_running "$run"; then
    log "clickhouse: already running (pid $(clickhouse_pid "$run"))"
    return 0
  fi
  clickhouse_launch "$run"
}

clickhouse_restart() {
  local run="${1:?run dir}"
  clickhouse_stop "$run"
  clickhouse_resume "$run"
}
