#!/bin/sh
# `postgres` (the default): initialise $PGDATA on first start from POSTGRES_USER, _PASSWORD and
# _DB, as the postgis/postgis image did, then run the server. Any other command runs as given
# (patroni, etcd, haproxy of the ha profile).
set -eu
if [ "${1:-}" = "post-bootstrap" ]; then  # Patroni's post_bootstrap, given a connection string
    exec psql -v ON_ERROR_STOP=1 "$2" -c "CREATE DATABASE \"${POSTGRES_DB:-emining}\""
fi
if [ "${1:-postgres}" != "postgres" ]; then
    exec "$@"
fi
: "${POSTGRES_USER:=emining}" "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" "${POSTGRES_DB:=emining}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    # The temporary server listens on the socket only: the TCP healthcheck stays false until
    # the real one runs.
    pg_ctl -D "$PGDATA" -w start -o "-c listen_addresses=''"
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
        -c "CREATE DATABASE \"$POSTGRES_DB\"" \
        -c "\\c \"$POSTGRES_DB\"" -c "CREATE EXTENSION postgis" -c "CREATE EXTENSION pgrouting"
    pg_ctl -D "$PGDATA" -w -m fast stop
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
