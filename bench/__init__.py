"""Benchmarks: each prints its figures and their ratio to a baseline measured in the same run.

Run them with `make bench`; they never run in the test suite and never assert on timings.
"""

from __future__ import annotations

import os
import subprocess
import sys

from backend.config import PROJECT_ROOT
from backend.devservices import postgres

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"


def migrated_database(name: str) -> postgres.DatabaseUrls:
    """The embedded PostgreSQL under var/bench-pgdata (it stops when this process exits), with the database `name`
    recreated and migrated by the CLI as the schema owner, as operators run it."""
    server = postgres.start_server(PGDATA)
    urls = postgres.bootstrap(server, name, recreate=True)
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "db", "upgrade"],
        env={**os.environ, "ENVIRONMENT": "development", "DATABASE_URL": urls.app, "DATABASE_OWNER_URL": urls.owner},
        cwd=PROJECT_ROOT,
        check=True,
        timeout=300,
    )
    return urls
