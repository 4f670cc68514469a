#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: `pg-throwaway.sh start DIR` initialises and starts one on a
# free port with its socket in DIR, as a non-root user, and prints its URL; `pg-throwaway.sh stop DIR`
# stops it (immediate shutdown, as a crash); `pg-throwaway.sh restart DIR` starts a stopped one again on the
# same port (the chaos suite's PostgreSQL restart). Nothing outside DIR is touched.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?dir}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "pg-throwaway: PostgreSQL server binaries not installed" >&2; exit 1; }
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgstart() {
  run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -p $(cat "$dir/port") -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
}
case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
  run "$bin/initdb" -D "$dir/data" -U printdock --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  echo "$port" >"$dir/port"
  pgstart
  run "$bin/createdb" -h "$dir" -p "$port" -U printdock printdock_test
  echo "postgres://printdock@127.0.0.1:$port/printdock_test?sslmode=disable"
  ;;
restart)
  pgstart
  ;;
stop)
  [ -d "$dir/data" ] && run "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  ;;
esac
