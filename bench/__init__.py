"""Benchmarks: each prints its figures and their ratio to a baseline measured in the same run.

Run them with `make bench`; they never run in the test suite and never assert on timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def _process_table() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds user + system) of every running process, from /proc/<pid>/stat."""
    clock_ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat_file:
                stat = stat_file.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # state is field 3 of stat(5): index 0 here
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / clock_ticks)
    return table


def postgres_pid(pgdata: Path = PGDATA) -> int:
    """The embedded server's postmaster (the first line of its pid file)."""
    return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])


def cpu_seconds_by_tree(roots: dict[str, int], alone: frozenset[int] = frozenset()) -> dict[str, float]:
    """CPU seconds of each named process and all its descendants (uvicorn's workers, PostgreSQL's backends):
    only the processes this bench started, whatever else runs on the machine; a pid in `alone` without its
    descendants (the bench itself, the parent of the services it measures apart). Processes that have exited do
    not count, so take the two readings around a series while the services are up."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    totals: dict[str, float] = {}
    for label, root in roots.items():
        stack, seconds = [root], 0.0
        while stack:
            pid = stack.pop()
            seconds += table.get(pid, (0, 0.0))[1]
            if pid not in alone:
                stack.extend(children.get(pid, []))
        totals[label] = seconds
    return totals


def exit_on_sigterm() -> None:
    """SIGTERM ends the bench as Ctrl-C does, through its `finally` blocks, so the services it started (uvicorn,
    the worker, the Temporal dev server) are stopped with it instead of left running."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
