#!/bin/bash
# What postgres:15's entrypoint does that docker-compose.yml relies on: as root, own the data directory and
# re-run as postgres; on an empty data directory, initdb with POSTGRES_USER/POSTGRES_PASSWORD (password auth
# over TCP), create POSTGRES_DB; then exec the server listening on every interface.
set -euo pipefail
if [ "${1:-postgres}" = postgres ] || [ "${1#-}" != "${1:-}" ]; then
    [ "${1:-}" = postgres ] && shift
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        chown postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 700 "$PGDATA"
        exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
        user="${POSTGRES_USER:-postgres}" db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
        initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
        printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
        if [ "$db" != postgres ]; then
            psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -q -c "CREATE DATABASE \"$db\""
        fi
        pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
        echo "initialised $PGDATA (user $user, database $db)"
    fi
    exec postgres -c listen_addresses='*' "$@"
fi
exec "$@"
