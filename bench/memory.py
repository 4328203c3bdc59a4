"""Memory of the API and the worker under a long mixed load (issue #20: API RSS ≤ 300 MB after 100,000 requests).

`python -m bench.memory [--requests N] [--checkpoint N ...] [--concurrency N] [--every N]` (`make bench-memory`):

1. starts the embedded PostgreSQL under var/bench-pgdata (recreating `liuguan_bench_memory`, migrated with the
   CLI), a Temporal dev server in memory, the API under uvicorn (one process, as one pod runs it) and the worker
   (`python -m workflows.worker`), objects stored under var/bench-memory-objects;
2. provisions one county and a township officer, signs in over HTTP;
3. sends N requests (100,000 by default), `concurrency` in flight, in a fixed mix per round of 20: page views
   (the case list and a case page), API reads (case list, one case, its documents), case opens, uploads of a
   small PDF to a case, previews of an uploaded PDF (pypdfium2), PDF issuing (a refusal letter, WeasyPrint), and
   bad input (a case body missing its fields, an unknown case, a malformed JSON body, an oversized page size);
4. prints each process's resident set (VmRSS from /proc; the API's child processes — PDF renderer, previews —
   apart) at start, every `--every` requests (progress) and at
   each checkpoint (10,000 and the end by default), with the requests per second and the load average.

Answers other than the expected status are counted and printed with the first few bodies; the run goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.db.engine import Database
from backend.devservices import postgres
from backend.devservices import temporal as temporal_dev
from bench import wait_for_api
from bench.cases_data import County, Officer, Sizes, create_officer, provision_counties
from bench.intake import free_port

PGDATA = PROJECT_ROOT / "var" / "bench-pgdata"
OBJECTS = PROJECT_ROOT / "var" / "bench-memory-objects"
DATABASE_NAME = "liuguan_bench_memory"
DEFAULT_REQUESTS = 100_000
DEFAULT_CHECKPOINTS = (10_000,)
DEFAULT_EVERY = 2_000
DEFAULT_CONCURRENCY = 4


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_rss_mb(pid: int) -> float:
    """The resident sets of a process's children (the API's PDF renderer and preview/structure-check children)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += rss_mb(int(child))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


def pdf_bytes() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return output.getvalue()


@dataclass
class Load:
    client: httpx.AsyncClient
    county: County
    case_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)
    unexpected: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    pdf: bytes = field(default_factory=pdf_bytes)

    def check(self, what: str, response: httpx.Response, expected: int) -> httpx.Response:
        if response.status_code != expected:
            self.unexpected[f"{what}: {response.status_code}"] += 1
            if len(self.samples) < 5:
                self.samples.append(f"{what}: HTTP {response.status_code}: {response.text[:200]}")
        return response

    def case_id(self, serial: int) -> str:
        return self.case_ids[serial % len(self.case_ids)]

    # --- the mix -------------------------------------------------------------------------------------------

    async def page_list(self, serial: int) -> None:
        self.check("page /cases", await self.client.get("/cases"), 200)

    async def page_case(self, serial: int) -> None:
        self.check("page /cases/{id}", await self.client.get(f"/cases/{self.case_id(serial)}"), 200)

    async def api_list(self, serial: int) -> None:
        self.check("GET /api/v1/cases", await self.client.get("/api/v1/cases", params={"size": 20}), 200)

    async def api_case(self, serial: int) -> None:
        self.check("GET /api/v1/cases/{id}", await self.client.get(f"/api/v1/cases/{self.case_id(serial)}"), 200)

    async def api_documents(self, serial: int) -> None:
        response = await self.client.get(
            "/api/v1/documents", params={"owner_kind": "case", "owner_id": self.case_id(serial)}
        )
        self.check("GET /api/v1/documents", response, 200)

    async def open_case(self, serial: int) -> None:
        body = {"case_type": "inflow_registration", "org_unit_code": self.county.villages[0]}
        response = self.check("POST /api/v1/cases", await self.client.post("/api/v1/cases", json=body), 201)
        if response.status_code == 201 and len(self.case_ids) < 1000:
            self.case_ids.append(response.json()["id"])

    async def upload(self, serial: int) -> None:
        response = await self.client.post(
            "/api/v1/documents",
            data={"owner_kind": "case", "owner_id": self.case_id(serial), "kind": "contact_evidence"},
            files={"file": ("来函.pdf", self.pdf, "application/pdf")},
        )
        self.check("POST /api/v1/documents", response, 201)
        if response.status_code == 201 and len(self.document_ids) < 1000:
            self.document_ids.append(response.json()["id"])

    async def preview(self, serial: int) -> None:
        if not self.document_ids:
            return await self.upload(serial)
        document_id = self.document_ids[serial % len(self.document_ids)]
        response = await self.client.get(f"/api/v1/documents/{document_id}/preview", params={"width": 240})
        self.check("GET preview", response, 200)

    async def issue(self, serial: int) -> None:
        response = await self.client.post(
            f"/api/v1/cases/{self.case_id(serial)}/issued-documents",
            json={"kind": "refusal_letter", "context": {"reason": f"申请材料不全（第{serial}次测试）"}},
        )
        self.check("POST issued-documents", response, 201)

    async def bad_body(self, serial: int) -> None:
        self.check("POST /api/v1/cases bad", await self.client.post("/api/v1/cases", json={"case_type": 7}), 422)

    async def unknown_case(self, serial: int) -> None:
        self.check("GET unknown case", await self.client.get(f"/api/v1/cases/{uuid.uuid4()}"), 404)

    async def malformed_json(self, serial: int) -> None:
        response = await self.client.post(
            "/api/v1/cases", content=b'{"case_type": ', headers={"Content-Type": "application/json"}
        )
        self.check("POST malformed JSON", response, 400)

    async def bad_page_size(self, serial: int) -> None:
        self.check("GET bad page size", await self.client.get("/api/v1/cases", params={"size": 100000}), 422)

    def mix(self) -> list[Callable[[int], Awaitable[None]]]:
        """One round of 20 requests."""
        return [
            self.page_list,
            self.page_case,
            self.page_case,
            self.api_list,
            self.api_case,
            self.api_case,
            self.api_documents,
            self.open_case,
            self.open_case,
            self.open_case,
            self.upload,
            self.preview,
            self.preview,
            self.issue,
            self.bad_body,
            self.unknown_case,
            self.malformed_json,
            self.bad_page_size,
            self.api_case,
            self.page_list,
        ]


async def sign_in(client: httpx.AsyncClient, county: County, officer: Officer) -> None:
    response = await client.post(
        "/api/v1/auth/session",
        json={"tenant_code": county.code, "username": officer.username, "password": officer.password},
    )
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


async def drive(
    base_url: str, county: County, officer: Officer, plan: argparse.Namespace, pids: dict[str, int]
) -> Load:
    checkpoints = sorted({*plan.checkpoint, plan.requests})
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        await sign_in(client, county, officer)
        load = Load(client, county)
        for serial in range(5):
            await load.open_case(serial)
        await load.upload(0)
        mix = load.mix()
        serials = itertools.count()
        done = 0
        began = time.perf_counter()

        def report(label: str) -> None:
            elapsed = time.perf_counter() - began
            figures = ", ".join(f"{name} {rss_mb(pid):6.1f} MB" for name, pid in pids.items())
            figures += f" (API's children {children_rss_mb(pids['API']):6.1f} MB)"
            print(
                f"{label:>16} {done:>8,} requests  {figures}  ({done / elapsed:5.1f} req/s, "
                f"load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )

        async def one() -> None:
            nonlocal done
            while done < plan.requests:
                serial = next(serials)
                if serial >= plan.requests:
                    return
                await mix[serial % len(mix)](serial)
                done += 1
                if done % plan.every == 0:
                    report("progress")
                if done in checkpoints:
                    report("checkpoint")

        report("start")
        await asyncio.gather(*(one() for _ in range(plan.concurrency)))
    return load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help=f"default {DEFAULT_REQUESTS:,}")
    parser.add_argument(
        "--checkpoint", type=int, nargs="*", default=list(DEFAULT_CHECKPOINTS), help="also report after N requests"
    )
    parser.add_argument("--every", type=int, default=DEFAULT_EVERY, help=f"progress every N (default {DEFAULT_EVERY})")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="requests in flight")
    plan = parser.parse_args(argv)
    if plan.requests < 1 or plan.concurrency < 1 or plan.every < 1:
        parser.error("--requests, --concurrency and --every must be at least 1")

    server = postgres.start_server(PGDATA)
    urls = postgres.bootstrap(server, DATABASE_NAME, recreate=True)
    OBJECTS.mkdir(parents=True, exist_ok=True)
    port = temporal_dev.free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": urls.app,
        "DATABASE_OWNER_URL": urls.owner,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "STORAGE_LOCAL_DIR": str(OBJECTS),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, timeout=300
    )
    settings = Settings(
        environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner, log_level="WARNING"
    )

    async def provision() -> tuple[County, Officer]:
        database = Database.from_settings(settings)
        try:
            (county,) = await provision_counties(
                database, Sizes(tenants=1, cases_per_tenant=0, persons_per_tenant=0, townships=1)
            )
            return county, await create_officer(database, county)
        finally:
            await database.dispose()

    county, officer = asyncio.run(provision())
    temporal_server = temporal_dev.start_dev_server(port=port)
    api_port = free_port()
    base_url = f"http://127.0.0.1:{api_port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "backend.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(api_port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=PROJECT_ROOT,
        )
        processes.append(api)
        worker = subprocess.Popen([sys.executable, "-m", "workflows.worker"], env=env, cwd=PROJECT_ROOT)
        processes.append(worker)
        wait_for_api(base_url, api)
        log(f"API (uvicorn, pid {api.pid}) and worker (pid {worker.pid}) up; {plan.requests:,} requests")
        load = asyncio.run(drive(base_url, county, officer, plan, {"API": api.pid, "worker": worker.pid}))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        temporal_dev.stop(temporal_server)
    if load.unexpected:
        print("unexpected answers:", dict(load.unexpected))
        for sample in load.samples:
            print("  ", sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
