#!/usr/bin/env bash
# Once, at the primary's first start (docker-entrypoint-initdb.d, as postgres, against the setup server):
# the role the standby streams as, with the password of the docker secret postgres_replication_password
# (copied for postgres by vigil-postgres-start, read by psql itself: never on a command line), and the
# physical slot standby1, reserving WAL from now on, that the standby's pg_basebackup -S and walreceiver use.
# The setup commits locally (vigil-postgres-start sets PGOPTIONS): no standby exists yet to confirm them.
set -euo pipefail

password_file=/var/lib/postgresql/secrets/replication-password
[ -s "$password_file" ] || { echo "primary-init.sh: no $password_file" >&2; exit 1; }

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\set replication_password `cat /var/lib/postgresql/secrets/replication-password`
create role replicator with login replication password :'replication_password';
\unset replication_password
select pg_create_physical_replication_slot('standby1', true);
SQL

rm -f "$password_file"
