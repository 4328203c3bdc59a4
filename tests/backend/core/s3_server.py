"""A loopback S3 endpoint for tests: MinIO when a `minio` binary is on PATH, else moto's server.

Both run as a child process bound to 127.0.0.1 on a free port, with their data and log in a temporary
directory. Plain functions, no pytest: fixtures in any conftest can build on `running_s3_server`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

ACCESS_KEY = "liuguan-test"
SECRET_KEY = "liuguan-test-secret"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class S3Endpoint:
    """Where the test S3 server listens and how to sign in to it."""

    host: str
    port: int
    access_key: str
    secret_key: str
    region: str
    implementation: Literal["minio", "moto"]
    log_path: Path

    @property
    def endpoint(self) -> str:
        """`host:port`, the form `Settings.s3_endpoint` and the minio SDK take."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def checks_signatures(self) -> bool:
        """moto accepts any signature, including expired presigned URLs; MinIO checks them."""
        return self.implementation == "minio"


class S3ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    """A port free on 127.0.0.1 right now (a race with other processes is retried by the caller)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command(workdir: Path, port: int) -> tuple[list[str], dict[str, str], str, Literal["minio", "moto"]]:
    env = dict(os.environ)
    minio = shutil.which("minio")
    if minio:
        env.update(MINIO_ROOT_USER=ACCESS_KEY, MINIO_ROOT_PASSWORD=SECRET_KEY, MINIO_BROWSER="off")
        command = [
            minio,
            "server",
            str(workdir / "data"),
            "--address",
            f"127.0.0.1:{port}",
            # The console would otherwise listen on a random port on every interface.
            "--console-address",
            f"127.0.0.1:{free_port()}",
            "--quiet",
        ]
        return command, env, "/minio/health/live", "minio"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return command, env, "/", "moto"


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise S3ServerDidNotStart(f"exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise S3ServerDidNotStart(f"not ready after {START_TIMEOUT_SECONDS}s: {log_path.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_s3_server(workdir: Path, *, attempts: int = 3) -> Iterator[S3Endpoint]:
    """Start a loopback S3 server under `workdir`, yield where it listens, stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    failures = []
    for attempt in range(attempts):
        port = free_port()
        command, env, health_path, implementation = _command(workdir, port)
        log_path = workdir / f"server-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_until_ready(process, f"http://127.0.0.1:{port}{health_path}", log_path)
        except S3ServerDidNotStart as exc:
            _stop(process)
            failures.append(str(exc))
            continue
        try:
            yield S3Endpoint("127.0.0.1", port, ACCESS_KEY, SECRET_KEY, REGION, implementation, log_path)
        finally:
            _stop(process)
        return
    raise S3ServerDidNotStart("; ".join(failures))
