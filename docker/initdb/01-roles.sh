#!/bin/sh
# First start of the PostGIS container: the schema owner (migrations) and the application role, which
# gets no UPDATE/DELETE on the audit log (granted by the migrations).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE obs_owner LOGIN PASSWORD '${OBS_OWNER_PASSWORD}';
CREATE ROLE obs_app LOGIN PASSWORD '${OBS_APP_PASSWORD}';
CREATE DATABASE observatoire OWNER obs_owner;
GRANT CONNECT ON DATABASE observatoire TO obs_app;
\c observatoire
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
