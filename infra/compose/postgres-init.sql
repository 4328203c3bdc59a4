-- Liuguan trial stack: roles and databases, run once by the postgres image on an empty data directory
-- (mounted into /docker-entrypoint-initdb.d/). In production a DBA runs the equivalent SQL from
-- docs/operations.md on the managed server.
--
-- Passwords come from the container environment (psql's \getenv, PostgreSQL 15+), never from this file.
-- compose.yml refuses to start without them; the checks below are a second lock.

\set ON_ERROR_STOP on

\getenv owner_password LIUGUAN_OWNER_DB_PASSWORD
\getenv app_password LIUGUAN_APP_DB_PASSWORD
\getenv temporal_password TEMPORAL_DB_PASSWORD

\if :{?owner_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'LIUGUAN_OWNER_DB_PASSWORD is not set'; END $$;
\endif
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'LIUGUAN_APP_DB_PASSWORD is not set'; END $$;
\endif
\if :{?temporal_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'TEMPORAL_DB_PASSWORD is not set'; END $$;
\endif

SELECT length(:'owner_password') >= 16
   AND length(:'app_password') >= 16
   AND length(:'temporal_password') >= 16
   AND :'owner_password' <> :'app_password' AS passwords_ok \gset
\if :passwords_ok
\else
  DO $$ BEGIN RAISE EXCEPTION 'database passwords must be at least 16 characters and the owner and app passwords must differ'; END $$;
\endif

-- liuguan_owner owns the database and the schema and runs the migrations. It is not a superuser and
-- cannot bypass row-level security: tenant tables FORCE their policies on the owner too.
CREATE ROLE liuguan_owner LOGIN PASSWORD :'owner_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- liuguan_app is what the api and the worker connect as. It owns nothing, so it can neither change the
-- schema nor switch row-level security off; the migrations grant it table privileges one table at a time.
CREATE ROLE liuguan_app LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;

CREATE DATABASE liuguan OWNER liuguan_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE liuguan FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE liuguan TO liuguan_app;

\connect liuguan
-- Only the owner creates objects; the application role may use the schema and nothing more.
ALTER SCHEMA public OWNER TO liuguan_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO liuguan_app;

-- Temporal keeps its own role and its own two databases; it never sees Liuguan's data and vice versa.
\connect postgres
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE temporal OWNER temporal ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE temporal_visibility OWNER temporal ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;

-- Temporal's visibility schema uses btree_gin; create it here as the superuser so the temporal role
-- needs no extra privilege.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
