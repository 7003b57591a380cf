#!/bin/sh
# Entrypoint of the shopmesh/postgres image (tools/images/postgres-image.sh).
#
# On first start (empty $PGDATA, normally a volume) it runs initdb, then
# creates one role and one database per name in POSTGRES_DATABASES (default
# "auth user product order"): role <name> owns database <name>, with the
# password POSTGRES_<NAME>_PASSWORD or else POSTGRES_PASSWORD. The superuser
# `postgres` gets POSTGRES_PASSWORD. Then it runs the server in the
# foreground, listening on every interface (network peers must present a
# SCRAM password; the local socket uses peer authentication).
# Runs as the postgres user and needs only $PGDATA writable, plus
# /var/run/postgresql or else /tmp for the socket (with a read-only root,
# mount a tmpfs on /tmp).
set -eu

bin=/usr/lib/postgresql/15/bin
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
databases="${POSTGRES_DATABASES:-auth user product order}"
PGHOST=/var/run/postgresql
[ -w "$PGHOST" ] || PGHOST=/tmp
export PGHOST

if [ "$(id -u)" = 0 ]; then
  echo "postgres-entrypoint: refusing to run as root" >&2
  exit 1
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?postgres-entrypoint: set POSTGRES_PASSWORD for the first start}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  "$bin/initdb" --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf '%s\n' "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # Socket only while we set up, so nothing can connect to a half-made cluster.
  "$bin/pg_ctl" -w -s -o "-c listen_addresses='' -c unix_socket_directories=$PGHOST" start
  for db in $databases; do
    var="POSTGRES_$(echo "$db" | tr 'a-z-' 'A-Z_')_PASSWORD"
    eval "pw=\${$var:-\$POSTGRES_PASSWORD}"
    psql -q -v ON_ERROR_STOP=1 -U postgres -d postgres \
      -v name="$db" -v pw="$pw" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'pw';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "postgres-entrypoint: created database $db"
  done
  "$bin/pg_ctl" -w -s -m fast stop
fi

exec "$bin/postgres" -c listen_addresses='*' -c unix_socket_directories="$PGHOST" "$@"
