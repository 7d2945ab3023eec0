# Throwaway servers for tests, sourced by .ci/run (and usable by hand:
# `source .ci/services.sh; start_postgres`). Each start_* function exports
# the variable the tests read and registers its stop in STOP_FNS.
# shellcheck shell=bash

STOP_FNS=()
CI_TMP=${CI_TMP:-$(mktemp -d /tmp/portal-ci.XXXXXX)}
chmod 755 "$CI_TMP"

stop_services() {
  local fn
  for fn in "${STOP_FNS[@]}"; do "$fn" || true; done
  rm -rf "$CI_TMP" 2>/dev/null || true
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# as_service_user runs a command as the unprivileged user servers run as
# (initdb refuses to run as root).
as_service_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$SERVICE_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_service_user() {
  SERVICE_USER=${SERVICE_USER:-portalci}
  if [ "$(id -u)" = 0 ] && ! id "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
}

start_postgres() {
  ensure_service_user
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
    return 1
  fi
  PG_DIR="$CI_TMP/pg"
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown "$SERVICE_USER" "$PG_DIR"
  PG_PORT=$(free_port)
  as_service_user "$bin/initdb" -D "$PG_DIR/data" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >"$CI_TMP/initdb.log" 2>&1 \
    || { cat "$CI_TMP/initdb.log" >&2; return 1; }
  as_service_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_BIN=$bin
  STOP_FNS+=(stop_postgres)
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -c "CREATE DATABASE portal_test" >/dev/null
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -c "CREATE DATABASE portal_prod" >/dev/null
  export PORTAL_TEST_DATABASE_URL="postgres://portal@127.0.0.1:$PG_PORT/portal_test?sslmode=disable"
  export PG_PROD_URL="postgres://portal@127.0.0.1:$PG_PORT/portal_prod?sslmode=disable"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
  as_service_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
}

# start_mosquitto proves that deploy/mosquitto/mosquitto.conf loads (on a
# free port, with empty password and ACL files) and exports
# PORTAL_TEST_MOSQUITTO, the binary the device tests start their own
# brokers with (one per test, with the registry's passwd and acl).
start_mosquitto() {
  local bin=/usr/sbin/mosquitto dir port
  if [ ! -x "$bin" ]; then
    echo "mosquitto not found at $bin" >&2
    return 1
  fi
  dir="$CI_TMP/mosquitto"
  mkdir -p "$dir"
  : >"$dir/passwd"; : >"$dir/acl"
  port=$(free_port)
  sed -e "s|/etc/mosquitto/portal|$dir|; s|/var/lib/mosquitto/|$dir/|; s|^listener 1883 127.0.0.1|listener $port 127.0.0.1|" \
    deploy/mosquitto/mosquitto.conf >"$dir/mosquitto.conf"
  echo "user root" >>"$dir/mosquitto.conf"
  "$bin" -c "$dir/mosquitto.conf" >"$dir/log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "deploy/mosquitto/mosquitto.conf did not load:" >&2; cat "$dir/log" >&2
    return 1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "deploy/mosquitto/mosquitto.conf loads ($("$bin" -h 2>&1 | head -n 1))"
  export PORTAL_TEST_MOSQUITTO=$bin
}
