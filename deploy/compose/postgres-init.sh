#!/usr/bin/env bash
# Runs once, on the first start of an empty PostgreSQL data volume (the official
# image executes /docker-entrypoint-initdb.d/*.sh as the postgres user).
#
# Creates one login role and one database per service, each database owned by
# its role, so every service can only reach its own schema:
#   METROLOGY_DATABASES    space-separated names (role = database = service)
#   METROLOGY_DB_PASSWORD  password for every role (local development only)
set -euo pipefail

: "${METROLOGY_DATABASES:?set METROLOGY_DATABASES}"
: "${METROLOGY_DB_PASSWORD:?set METROLOGY_DB_PASSWORD}"

for name in $METROLOGY_DATABASES; do
    if [[ ! $name =~ ^[a-z][a-z0-9_]*$ ]]; then
        echo "postgres-init: refusing database name '$name'" >&2
        exit 1
    fi
    echo "postgres-init: role and database '$name'"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        --set=name="$name" --set=password="$METROLOGY_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name')\gexec
SQL
done
