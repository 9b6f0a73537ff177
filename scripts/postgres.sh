#!/usr/bin/env bash
# A real, throwaway PostgreSQL 15 server for the tests (Debian's package): its own cluster in
# DIR, loopback only, a private port and socket directory, password (SCRAM) over TCP. The tests
# create a database per test on it and drop it afterwards.
#
#   scripts/postgres.sh start DIR   → prints postgres://archive:…@127.0.0.1:PORT/postgres on stdout
#                                     (a fresh cluster: whatever DIR held is wiped)
#   scripts/postgres.sh url DIR     → the URL of the cluster running in DIR, without touching it
#   scripts/postgres.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?cluster directory}
PGBIN=/usr/lib/postgresql/15/bin

# initdb and postgres refuse to run as root: as root, run them as Debian's `postgres` user.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "$cmd" in
stop) stop; exit 0 ;;
url)
  if [ -f "$dir/url" ] && [ -f "$dir/data/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    cat "$dir/url"; exit 0
  fi
  echo "no cluster is running in $dir (scripts/postgres.sh start $dir starts a fresh one)" >&2; exit 1 ;;
start) ;;
*) echo "usage: $0 start DIR | url DIR | stop DIR" >&2; exit 2 ;;
esac

if [ ! -x "$PGBIN/initdb" ]; then
  echo "installing PostgreSQL 15 (Debian's postgresql-15) …" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >&2
  # The package's own cluster is never started: policy-rc.d stops services from starting here,
  # and this script runs its own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-15 >/dev/null
fi

stop
rm -rf "$dir"
mkdir -p "$dir/data" "$dir/sock" "$dir/log"
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pwfile="$dir/pw"
echo "$password" > "$pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$pwfile"
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -r "$pwfile"; then
  echo "the postgres user cannot reach $dir: a directory above it is not traversable (mode 0700?); choose another place" >&2
  exit 1
fi
as_owner "$PGBIN/initdb" -D "$dir/data" -U archive --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >"$dir/log/initdb.log" 2>&1 || { cat "$dir/log/initdb.log" >&2; exit 1; }
rm -f "$pwfile"
# Tests create and drop many small databases: make that cheap, and never wait on a disk flush
# (the cluster is thrown away after the run). PG_DURABLE=1 keeps PostgreSQL's durable defaults
# (fsync, synchronous commit), as the benchmark needs: capture counts only once it is on disk.
# Every test migrates its own database at once, each migration one transaction holding a lock per
# table, index and partition it creates: 64 locks a connection (the default) ran out ("out of
# shared memory") when the suites met, so the shared lock table is made four times larger.
settings="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/sock -c max_connections=200 -c max_locks_per_transaction=256"
if [ "${PG_DURABLE:-0}" != 1 ]; then
  settings="$settings -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log/server.log" -w -t 60 -o "$settings" \
  start >/dev/null || { cat "$dir/log/server.log" >&2; exit 1; }
url="postgres://archive:$password@127.0.0.1:$port/postgres?sslmode=disable"
(umask 077; echo "$url" > "$dir/url")
echo "$url"
