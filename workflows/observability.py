"""What the worker process tells the outside: `/healthz` and `/metrics` on WORKER_METRICS_PORT, and
Temporal's SDK metrics on WORKER_SDK_METRICS_PORT.

- `/healthz` answers 200 while the worker's event loop turns (the answer comes from that loop) and none of its
  long-running parts (the Temporal workers, the outbox relay, the intake router) has stopped; 503 otherwise,
  so Kubernetes' liveness probe restarts a worker that is stuck or half dead.
- `/metrics` reads the instance-wide figures from the database (backend/monitoring) and answers them with the
  process's own counters (callback attempts) in Prometheus' text format.
- The SDK metrics (workflow task schedule-to-start latency, activity execution failures and latency, poller
  counts) come from Temporal's Rust core, which serves them itself when the client's Runtime has a
  PrometheusConfig.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from backend.db.engine import Database
from backend.monitoring.service import refresh_instance_metrics

log = logging.getLogger("liuguan.worker")

_REQUEST_LIMIT = 8192


def sdk_runtime(port: int, host: str = "0.0.0.0") -> Runtime | None:
    """A Temporal runtime whose core serves Prometheus metrics on `host:port`; None when `port` is 0."""
    if not port:
        return None
    telemetry = TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}", durations_as_seconds=True))
    return Runtime(telemetry=telemetry)


class WorkerHealth:
    """Liveness of the worker's parts: each registered check says whether its part still runs."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], bool]] = {}

    def watch(self, name: str, alive: Callable[[], bool]) -> None:
        self._checks[name] = alive

    def watch_task(self, name: str, task: asyncio.Future[Any]) -> None:
        self.watch(name, lambda: not task.done())

    def stopped(self) -> list[str]:
        return sorted(name for name, alive in self._checks.items() if not alive())


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _metrics_body(database: Database) -> bytes:
    try:
        await refresh_instance_metrics(database)
    except Exception as error:  # the database is down: the process's own metrics are still worth answering
        log.warning("instance metrics unavailable", extra={"error": repr(error)})
    return generate_latest()


def handler(
    health: WorkerHealth, metrics_body: Callable[[], Awaitable[bytes]]
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """The HTTP/1.1 handler of /healthz and /metrics (GET only; a minimal server, never exposed publicly)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, path, *_ = request[:_REQUEST_LIMIT].decode("latin-1").split(" ", 2)
            path = path.split("?", 1)[0]
            if method != "GET":
                answer = _response("405 Method Not Allowed", b"")
            elif path == "/healthz":
                stopped = health.stopped()
                answer = (
                    _response("503 Service Unavailable", f"stopped: {', '.join(stopped)}\n".encode())
                    if stopped
                    else _response("200 OK", b"ok\n")
                )
            elif path == "/metrics":
                answer = _response("200 OK", await metrics_body(), CONTENT_TYPE_LATEST)
            else:
                answer = _response("404 Not Found", b"")
            writer.write(answer)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    return serve


async def serve_worker_http(
    database: Database, health: WorkerHealth, port: int, host: str = "0.0.0.0"
) -> asyncio.Server | None:
    """Start the worker's /healthz and /metrics server; None when `port` is 0."""
    if not port:
        return None
    return await asyncio.start_server(handler(health, lambda: _metrics_body(database)), host, port)
