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

# start_postgres [fast|durable] starts a PostgreSQL server and exports
# PORTAL_TEST_DATABASE_URL, PG_PROD_URL and PG_SETTINGS (the durability
# settings, for benchmarks to record with their figures).
#   fast (the default; CI's tests): fsync, synchronous_commit and
#     full_page_writes off — nothing survives a crash, writes cost no flush.
#   durable (benchmarks that claim "durably stored"): the three on, as a
#     production server runs.
# PG_PORT, when set, is the port to use (a machine whose users share out
# port ranges); otherwise a free one.
start_postgres() {
  local mode=${1:-fast} durability
  case "$mode" in
    fast) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    durable) durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
    *) echo "start_postgres: unknown mode \"$mode\" (want fast or durable)" >&2; return 1 ;;
  esac
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
  PG_PORT=${PG_PORT:-$(free_port)}
  as_service_user "$bin/initdb" -D "$PG_DIR/data" -U portal --auth=trust -E UTF8 --locale=C.UTF-8 >"$CI_TMP/initdb.log" 2>&1 \
    || { cat "$CI_TMP/initdb.log" >&2; return 1; }
  as_service_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 $durability -c wal_level=replica -c max_wal_senders=4" \
    >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_BIN=$bin
  STOP_FNS+=(stop_postgres)
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -c "CREATE DATABASE portal_test" >/dev/null
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -c "CREATE DATABASE portal_prod" >/dev/null
  export PORTAL_TEST_DATABASE_URL="postgres://portal@127.0.0.1:$PG_PORT/portal_test?sslmode=disable"
  export PG_PROD_URL="postgres://portal@127.0.0.1:$PG_PORT/portal_prod?sslmode=disable"
  export PG_SETTINGS="$mode: $("$bin/psql" -At -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres \
    -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_SETTINGS)"
}

stop_postgres() {
  as_service_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
}

# start_postgres_replica makes a streaming replica (hot standby) of the
# server start_postgres started: pg_basebackup -R from it (initdb's
# pg_hba.conf lets local replication connections in; start_postgres sets
# wal_level and max_wal_senders), then a second postgres on a free port. It
# exports PORTAL_TEST_REPLICA_URL, the replica's portal_test, which the
# read-replica tests point database.replica_url at.
start_postgres_replica() {
  if [ -z "${PG_PORT:-}" ]; then
    echo "start_postgres_replica: start_postgres first" >&2
    return 1
  fi
  PG_REPLICA_DIR="$CI_TMP/pg-replica"
  mkdir -p "$PG_REPLICA_DIR"
  [ "$(id -u)" = 0 ] && chown "$SERVICE_USER" "$PG_REPLICA_DIR"
  PG_REPLICA_PORT=$(free_port)
  as_service_user "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U portal -D "$PG_REPLICA_DIR/data" \
    -R -X stream -c fast >"$PG_REPLICA_DIR/basebackup.log" 2>&1 \
    || { cat "$PG_REPLICA_DIR/basebackup.log" >&2; return 1; }
  as_service_user "$PG_BIN/pg_ctl" -D "$PG_REPLICA_DIR/data" -l "$PG_REPLICA_DIR/server.log" -w -t 60 start \
    -o "-p $PG_REPLICA_PORT -k $PG_REPLICA_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c hot_standby=on" \
    >/dev/null || { cat "$PG_REPLICA_DIR/server.log" >&2; return 1; }
  STOP_FNS+=(stop_postgres_replica)
  export PORTAL_TEST_REPLICA_URL="postgres://portal@127.0.0.1:$PG_REPLICA_PORT/portal_test?sslmode=disable"
  echo "PostgreSQL streaming replica on 127.0.0.1:$PG_REPLICA_PORT ($("$PG_BIN/psql" -Atq -h 127.0.0.1 -p "$PG_REPLICA_PORT" -U portal -d postgres -c 'SELECT pg_is_in_recovery()') in recovery)"
}

stop_postgres_replica() {
  as_service_user "$PG_BIN/pg_ctl" -D "$PG_REPLICA_DIR/data" -m immediate stop >/dev/null 2>&1
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
