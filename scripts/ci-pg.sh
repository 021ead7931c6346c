#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests and benchmarks (no systemd, no Docker).
#   eval "$(scripts/ci-pg.sh start)"   # exports PGHOST PGPORT PGUSER PGDATABASE OEMSYNC_TEST_PG_DIR OEMSYNC_TEST_PG_URL
#   scripts/ci-pg.sh stop "$OEMSYNC_TEST_PG_DIR"
#   scripts/ci-pg.sh restart-immediate DIR    # crash-stop (no flush, like a power cut for unwritten WAL), then start
#   scripts/ci-pg.sh signal DIR STOP|CONT     # freeze or thaw the server and all its backends
# OEMSYNC_PG_OPTIONS: more server options for start, e.g. "-c synchronous_commit=off" (durability tests
# turn fsync back on with "-c fsync=on").
# As root the server runs as 'postgres' (runuser); as any other user it runs as that user.
# PGPORT: a fixed port if set, else the first free port from 55432 upward.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local port=${PGPORT:-}
  if [ -z "$port" ]; then
    port=55432; while port_busy "$port"; do port=$((port + 1)); [ "$port" -lt 55532 ] || { echo "no free port" >&2; exit 1; }; done
  fi
  local dir; dir=$(mktemp -d "${TMPDIR:-/tmp}/oemsync-pg.XXXXXX")
  local dbuser=postgres
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; else dbuser=$(id -un); fi
  if ! as_pg "$PGBIN/initdb" -D "$dir/data" -U "$dbuser" --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1
  fi
  # unix socket in $dir + TCP on loopback only; durability off because the data is disposable
  if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${OEMSYNC_PG_OPTIONS:-}" \
      start >"$dir/pg_ctl.log" 2>&1; then
    cat "$dir/pg_ctl.log" "$dir/server.log" >&2; rm -rf "$dir"; exit 1
  fi
  echo "export PGHOST='$dir' PGPORT='$port' PGUSER='$dbuser' PGDATABASE=postgres OEMSYNC_TEST_PG_DIR='$dir'"
  echo "export OEMSYNC_TEST_PG_URL='host=$dir port=$port user=$dbuser dbname=postgres'"
}

stop() {
  local dir=${1:?usage: ci-pg.sh stop <dir>}
  if [ -d "$dir/data" ]; then as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
}

restart_immediate() {
  local dir=${1:?usage: ci-pg.sh restart-immediate <dir>}
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 30 restart >"$dir/pg_ctl.log" 2>&1 \
    || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; exit 1; }
}

signal_all() {
  local dir=${1:?usage: ci-pg.sh signal <dir> STOP|CONT} sig=${2:?usage: ci-pg.sh signal <dir> STOP|CONT}
  local pid; pid=$(head -n 1 "$dir/data/postmaster.pid")
  # The backends first when freezing, the postmaster first when thawing: nothing notices half a freeze.
  local children; children=$(pgrep -P "$pid" || true)
  if [ "$sig" = STOP ]; then kill -STOP $children "$pid"; else kill -CONT "$pid" $children; fi
}

case "${1:-}" in
  start) start ;;
  stop)  stop "${2:-${OEMSYNC_TEST_PG_DIR:-}}" ;;
  restart-immediate) restart_immediate "${2:-}" ;;
  signal) signal_all "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 start | stop <dir> | restart-immediate <dir> | signal <dir> STOP|CONT" >&2; exit 2 ;;
esac
