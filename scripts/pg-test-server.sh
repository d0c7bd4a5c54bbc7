#!/usr/bin/env bash
# Start a throw-away PostgreSQL + PostGIS server on loopback for the PostGIS tests and
# print the DSN to use (export it as ZONING_TEST_PG_DSN).  Installs Debian's
# postgresql-15-postgis-3 when it is missing and we are root.
#   usage: eval "$(scripts/pg-test-server.sh)"
set -euo pipefail
PORT=${ZONING_PG_PORT:-55432}
DIR=${ZONING_PG_DIR:-/tmp/zoning-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$BIN" ] || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >&2
    BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "echo 'PostgreSQL/PostGIS not installed and not root: PostGIS tests will skip' >&2"
    exit 0
  fi
fi
RUN=""
if [ "$(id -u)" = 0 ]; then RUN="runuser -u postgres --"; fi
if [ ! -s "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"; [ -n "$RUN" ] && chown postgres "$DIR"
  $RUN "$BIN/initdb" -D "$DIR" -A trust -U postgres >/dev/null
fi
if ! $RUN "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  $RUN "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null
fi
echo "export ZONING_TEST_PG_DSN=postgresql://postgres@127.0.0.1:$PORT/postgres"
