# shellcheck shell=bash
# chDB: current ClickHouse (26.x) in-process, from PyPI's chdb-core, in a venv under the
# cache dir. The only ClickHouse server installable here is 18.16, so the modern schema and
# the query pack are checked on 26.x through it (scripts/chdb_check.py).
# Sourced by scripts/test.sh.
#
# Public functions:
#   chdb_python   create the venv with chdb-core if missing; print its python
#   chdb_check    run scripts/chdb_check.py with that python

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Pinned so a new ClickHouse release cannot change the check's answers under us; bump
# deliberately (a new version gets its own venv).
LINTAS_CHDB_VERSION="${LINTAS_CHDB_VERSION:-26.9.0}"

chdb_venv() { echo "$LINTAS_CACHE_DIR/chdb-$LINTAS_CHDB_VERSION"; }

chdb_python() {
  local venv start
  venv="$(chdb_venv)"
  # The marker is written last: a venv left by an interrupted install is rebuilt.
  if [[ -f "$venv/.complete" ]]; then
    echo "$venv/bin/python"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || die "chdb: python3 not found (needed for the chDB check)"
  log "chdb: pip install chdb-core==$LINTAS_CHDB_VERSION into $venv (about 150 MB, once)"
  start="$(now_s)"
  rm -rf "$venv"
  mkdir -p "$LINTAS_CACHE_DIR"
  python3 -m venv "$venv" >&2 ||
    die "chdb: python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "chdb-core==$LINTAS_CHDB_VERSION" >&2
  "$venv/bin/python" -c 'import chdb' ||
    die "chdb: chdb-core installed but does not import"
  touch "$venv/.complete"
  log "chdb: installed ($(elapsed_since "$start")s)"
  echo "$venv/bin/python"
}

chdb_check() {
  local python
  python="$(chdb_python)"
  "$python" "$(dirname "${BASH_SOURCE[0]}")/../chdb_check.py" "$@"
}
