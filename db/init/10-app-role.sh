#!/bin/sh
# The API's own database login, created once when the `db` volume is first initialised
# (the postgres image runs /docker-entrypoint-initdb.d/* then; docker-compose.yml mounts
# this folder there). It joins `ticketing_app`, the group the migrations grant row rights
# to (db/migrations/20261207000102_app_role.sql): it can read and write rows, never change
# the schema. POSTGRES_USER stays the owner, for the migrations.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_user="${APP_DB_USER:?set APP_DB_USER in .env}" \
    -v app_password="${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env}" <<'SQL'
SELECT 'CREATE ROLE ticketing_app NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ticketing_app') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE ticketing_app', :'app_user', :'app_password') \gexec
SQL
