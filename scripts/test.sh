#!/usr/bin/env bash
# Runs every test: lint (ruff, mypy), then pytest with a throw-away PostgreSQL on a loopback port so the
# storage tests run against both SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

# Some machines (this one) set PYTHONDONTWRITEBYTECODE=1: then every test process, and every hall
# server and CLI a test starts, compiles the tree from source again, and pytest rewrites every test
# module's asserts again in each xdist worker (collection 17.5 s instead of 7.5 s). The bytecode
# goes under build/ (ignored by git) rather than beside the sources.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$PWD/build/pycache}"

export KIVY_NO_ARGS=1 KIVY_NO_CONSOLELOG=1 KIVY_NO_FILELOG=1
export SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}"

started_ns=$(date +%s%N)
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ] && [ -d "$pg_dir" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  local ms=$((($(date +%s%N) - started_ns) / 1000000))
  printf 'test: wall time %d.%01d s\n' $((ms / 1000)) $((ms % 1000 / 100))
}
trap cleanup EXIT

bash scripts/lint.sh

# GOVHALL_TEST_POSTGRES=off (make test-fast, which deselects the postgres tests): none started.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ "${GOVHALL_TEST_POSTGRES:-on}" = off ]; then
  echo "test: no PostgreSQL (GOVHALL_TEST_POSTGRES=off)"
elif [ -z "${GOVHALL_TEST_POSTGRES_URL:-}" ] && [ -n "$PG_BIN" ] && [ "$(id -u)" -eq 0 ]; then
  pg_dir=$(mktemp -d /tmp/govhall-pg.XXXXXX)
  chown postgres "$pg_dir"
  port=$((20000 + RANDOM % 20000))
  if runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$pg_dir/data" >/dev/null &&
     runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/log" \
       -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
    export GOVHALL_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "test: PostgreSQL for storage tests on 127.0.0.1:$port"
  else
    echo "test: could not start PostgreSQL; its tests will be skipped" >&2
  fi
fi

# The quick tests: most wait on a child process or a socket rather than the CPU, so they run
# on four xdist workers, without collecting the two files of slow tests only (the
# schemathesis fuzz builds the app and its cases at import, 4 s in every worker).
quick=(-q -m "not gui and not e2e and not slow and not postgres" -n 4 --dist worksteal
       --ignore=tests/e2e --ignore=tests/hall/test_fuzz_openapi.py)
if [ "${1:-}" = --quick ]; then  # make test-fast
  status=0
  .venv/bin/python -m pytest "${quick[@]}" || status=$?
  exit $status
fi

if [ "$#" -gt 0 ]; then
  # not exec: the EXIT trap must still stop PostgreSQL and print the time
  status=0
  .venv/bin/python -m pytest "$@" || status=$?
  exit $status
fi

# Kivy allows one window per process: each app's GUI tests run in a pytest process of their
# own, after everything else. The last run prints the overall total.
status=0
gui_dirs=()
for d in tests/kiosk tests/signage; do
  [ -d "$d" ] && gui_dirs+=("$d")
done
# The quick tests as make test-fast runs them; then the slow, end-to-end and PostgreSQL ones
# in one process: the PostgreSQL tests share one database, the browser and day tests want
# the machine to themselves.
.venv/bin/python -m pytest "${quick[@]}" || status=1
.venv/bin/python -m pytest -m "not gui and (e2e or slow or postgres)" -q || status=1
for d in "${gui_dirs[@]}"; do
  .venv/bin/python -m pytest -m gui -q "$d" || [ $? -eq 5 ] || status=1
done
exit $status
