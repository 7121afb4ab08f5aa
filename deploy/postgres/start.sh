#!/usr/bin/env bash
# vigil-postgres-start primary|standby [-c name=value ...]: the command of both PostgreSQL services of
# docker-compose.yml. As root it prepares the container, then hands over to the image's docker-entrypoint.sh,
# which runs PostgreSQL as postgres with the options given:
#  - the TLS certificate and key /tls/$POSTGRES_TLS_NAME.{crt,key}, the key owned by postgres with mode 0600;
#  - pgBackRest's secrets (docker secret pgbackrest.conf) where archive_command's pgbackrest reads them, and
#    PGBACKREST_PG1_PATH, this server's data directory, whichever of the stanza's pg1/pg2 it is;
#  - primary, first start: the setup commits locally (PGOPTIONS), since no standby exists yet to confirm a
#    commit under synchronous_standby_names; primary-init.sh creates the replication role and slot;
#  - standby, first start: pg_basebackup -R -S standby1 -X stream from $PRIMARY_HOST as application_name=standby1,
#    into $PGDATA.partial first, so that an interrupted copy is never started as a standby.
set -euo pipefail

role=${1:-}
if [ "$role" != primary ] && [ "$role" != standby ]; then
  echo 'usage: vigil-postgres-start primary|standby [postgres options]' >&2
  exit 64
fi
shift

fail() {
  echo "vigil-postgres-start ($role): $*" >&2
  exit 1
}
secret() {
  if [ ! -f "/run/secrets/$1" ] || [ ! -s "/run/secrets/$1" ]; then
    fail "the secret $1 is missing or empty: create deploy/secrets/$1 (deploy/secrets/README.md)"
  fi
}

: "${PGDATA:?PGDATA is not set}"
tls=${POSTGRES_TLS_NAME:-postgres}
secrets=/var/lib/postgresql/secrets

for file in "/tls/$tls.crt" "/tls/$tls.key" /tls/ca.crt; do
  [ -f "$file" ] || fail "no $file: the CA and this server's certificate (a DNS name of it: $tls) go in deploy/tls (README, Production)"
done
install -d -o postgres -g postgres -m 700 /var/lib/postgresql/tls "$secrets"
install -o postgres -g postgres -m 600 "/tls/$tls.key" /var/lib/postgresql/tls/server.key
install -o postgres -g postgres -m 644 "/tls/$tls.crt" /var/lib/postgresql/tls/server.crt

[ -f /etc/pgbackrest/pgbackrest.conf ] || fail 'no /etc/pgbackrest/pgbackrest.conf: mount deploy/pgbackrest/pgbackrest.conf there'
secret pgbackrest.conf
install -d -o postgres -g postgres -m 750 /etc/pgbackrest/conf.d /var/lib/pgbackrest
install -o postgres -g postgres -m 600 /run/secrets/pgbackrest.conf /etc/pgbackrest/conf.d/secrets.conf
export PGBACKREST_PG1_PATH="$PGDATA"

secret postgres_replication_password
if [ "$role" = primary ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    export PGOPTIONS='-c synchronous_commit=local'
    install -o postgres -g postgres -m 600 /run/secrets/postgres_replication_password "$secrets/replication-password"
  fi
else
  primary=${PRIMARY_HOST:-postgres}
  pgpass="$secrets/replication.pgpass"
  password=$(< /run/secrets/postgres_replication_password)
  password=${password//\\/\\\\}
  (umask 077 && printf '*:*:*:replicator:%s\n' "${password//:/\\:}" > "$pgpass")
  unset password
  chown postgres:postgres "$pgpass"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -z "$(ls -A "$PGDATA" 2> /dev/null)" ] || fail "$PGDATA holds files but no cluster: empty it (or remove its volume) to copy the primary again"
    partial="$PGDATA.partial"
    conninfo="host=$primary port=5432 user=replicator application_name=standby1 sslmode=verify-full sslrootcert=/tls/ca.crt passfile=$pgpass"
    for attempt in $(seq 30); do
      rm -rf "$partial"
      install -d -o postgres -g postgres -m 700 "$partial"
      if gosu postgres pg_basebackup --pgdata="$partial" --dbname="$conninfo" --write-recovery-conf --slot=standby1 --wal-method=stream --checkpoint=fast; then
        break
      fi
      [ "$attempt" -lt 30 ] || fail "pg_basebackup from $primary failed 30 times"
      echo "vigil-postgres-start (standby): the primary $primary is not ready, again in 2 s" >&2
      sleep 2
    done
    rmdir "$PGDATA" 2> /dev/null || true
    mv -T "$partial" "$PGDATA"
  fi
fi

exec docker-entrypoint.sh postgres "$@"
