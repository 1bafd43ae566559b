#!/bin/sh
# pg_test_server.sh start|stop DIR: a throwaway PostgreSQL server for the store tests, from Debian's `postgresql`
# package (initdb + pg_ctl). Its data and its Unix socket live in a fresh /tmp/duet-pg-XXXXXX (short, and reachable
# by the server's user wherever DIR is); nothing listens on TCP; fsync off; trust auth for the role `duet`.
# `start` writes the server's URL to DIR/url (and its directory to DIR/server) and is a no-op when that server
# already runs; as root it runs the server as the `postgres` system user (the package creates it; initdb refuses
# root). Without the package it prints a loud notice and exits 0: the tests then skip, saying why.
set -eu
cmd=${1:?usage: pg_test_server.sh start|stop DIR}
dir=${2:?usage: pg_test_server.sh start|stop DIR}
port=5432  # only names the socket file (.s.PGSQL.5432 in the server directory); nothing listens on TCP

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || { [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; }; then
    echo "*** pg_test_server.sh: PostgreSQL is not installed (apt-get install postgresql, or ./duet.sh setup):" \
         "the store's PostgreSQL tests will SKIP ***" >&2
    exit 0
  fi
  if [ -f "$dir/url" ] && [ -f "$dir/server" ] &&
     as_server_user "$bin/pg_ctl" -D "$(cat "$dir/server")/data" status >/dev/null 2>&1; then
    exit 0
  fi
  sh "$0" stop "$dir"
  mkdir -p "$dir"
  srv=$(mktemp -d /tmp/duet-pg-XXXXXX)
  echo "$srv" >"$dir/server"
  [ "$(id -u)" = 0 ] && chown postgres "$srv"
  as_server_user "$bin/initdb" -D "$srv/data" -A trust -U duet -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_server_user "$bin/pg_ctl" -D "$srv/data" -l "$srv/server.log" -w -t 60 \
    -o "-k $srv -c listen_addresses= -p $port -F -c max_connections=200" start >/dev/null ||
    { cat "$srv/server.log" >&2; exit 1; }
  echo "postgresql://duet@/postgres?host=$srv&port=$port" >"$dir/url"
  ;;
stop)
  if [ -f "$dir/server" ]; then
    srv=$(cat "$dir/server")
    if [ -n "$bin" ] && [ -d "$srv/data" ]; then
      as_server_user "$bin/pg_ctl" -D "$srv/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    case "$srv" in /tmp/duet-pg-*) rm -rf "$srv" ;; esac
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg_test_server.sh start|stop DIR" >&2
  exit 2
  ;;
esac
