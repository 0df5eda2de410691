-- migrate:up
-- Least privilege: the API connects as a member of `ticketing_app`, which may read and
-- write the rows of every table and nothing else: it owns nothing, so no DDL (ALTER,
-- DROP, CREATE in the schema); and no TRUNCATE, REFERENCES or TRIGGER. Migrations keep
-- running as the owner of the tables (MIGRATION_DATABASE_URL). A deployment puts its
-- login role in the group once:
--   CREATE ROLE ticketing_web LOGIN PASSWORD '...' IN ROLE ticketing_app;
-- (docker-compose.yml's database does it at its first start; `make run` and the tests do
-- it on the embedded server: ticketing/devdb.py). Creating the group needs CREATEROLE;
-- where the owner lacks it, create `ticketing_app` (NOLOGIN) beforehand.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ticketing_app') THEN
        CREATE ROLE ticketing_app NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO ticketing_app', current_database());
END
$$;

-- Before PostgreSQL 15 every role may create objects in `public`; not the app's.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ticketing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ticketing_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ticketing_app;
-- /readyz reads which migrations are applied; only dbmate records them.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM ticketing_app;
-- Tables and sequences later migrations create (as this same owner) get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ticketing_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ticketing_app;

-- migrate:down
-- The role itself is kept: roles belong to the whole server, and other databases on it
-- (a test database) may use it.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM ticketing_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM ticketing_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ticketing_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ticketing_app;
REVOKE USAGE ON SCHEMA public FROM ticketing_app;
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM ticketing_app', current_database());
END
$$;
