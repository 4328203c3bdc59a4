"""Benchmarks: each prints its figures and their ratio to a baseline measured in the same run.

Run them with `make bench`; they never run in the test suite and never assert on timings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

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


def wait_for_api(base_url: str, process: subprocess.Popen[bytes], seconds: float = 300) -> None:
    """Until the API under uvicorn answers /healthz (a loaded machine takes a while to import it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("uvicorn did not start")
