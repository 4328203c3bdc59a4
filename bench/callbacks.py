"""Department callbacks: the dispatcher sending concurrently outside any transaction, against its baseline in the
same run, one callback at a time (how callbacks were sent before: one after another).

`python -m bench.callbacks [--callbacks N] [--latency-ms MS] [--concurrency N]` (`make bench-callbacks`):

1. starts the embedded PostgreSQL under var/bench-pgdata, recreates the database `liuguan_bench_callbacks` and
   migrates it with the CLI as the schema owner;
2. starts a receiver on loopback (a threaded HTTP server in a process of its own) that answers 204 after `--latency-ms`
   (a department's system across the county network: the time a callback spends is mostly waiting for it);
3. writes `--callbacks` pending callbacks for one subscribed client, then lets the dispatcher send them all
   (`poll()` until nothing is due), first with `concurrency=1` (the baseline), then with `--concurrency`; the
   callbacks are made pending again between the runs;
4. prints callbacks/s for each run, the ratio, and the machine's CPU count and load average. With 50 ms per
   answer the baseline cannot pass 20/s; the concurrent run should come near `concurrency` times that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import update

from backend.config import PROJECT_ROOT, Environment, Settings
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.devservices import postgres
from backend.intake.dispatcher import WebhookDispatcher, WebhookSettings
from backend.intake.webhooks import WEBHOOK_SECRET_CONTEXT, new_secret
from backend.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from bench import migrated_database

DATABASE_NAME = "liuguan_bench_callbacks"
CLIENT_ID = "bench-police"


def log(message: str) -> None:
    print(message, flush=True)


def serve(latency: float) -> None:
    """The receiver, in a process of its own (its request parsing must not share the dispatcher's interpreter):
    prints its port, then answers 204 after `latency` seconds to every POST."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(latency)  # the department's system at work
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def start_receiver(latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.callbacks", "--serve", "--latency-ms", str(latency * 1000)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/hooks"


async def write_callbacks(database: Database, url: str, count: int) -> None:
    now = utc_now()
    secret = personal_data_cipher().encrypt(new_secret(), context=WEBHOOK_SECRET_CONTEXT)
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        subscription = WebhookSubscription(
            id=uuid.uuid4(), client_id=CLIENT_ID, url=url, secret_encrypted=secret, created_at=now
        )
        session.add(subscription)
        for _ in range(count):
            event_id = uuid.uuid4()
            session.add(
                WebhookDelivery(
                    id=event_id,
                    client_id=CLIENT_ID,
                    notification_id=uuid.uuid4(),
                    event="case_opened",
                    body={"event_id": str(event_id), "status": "case_opened", "occurred_at": now.isoformat()},
                    status=DeliveryStatus.pending.value,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )


async def make_pending(database: Database) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        await session.execute(
            update(WebhookDelivery).values(status=DeliveryStatus.pending.value, attempts=0, next_attempt_at=utc_now())
        )


async def send_all(database: Database, concurrency: int) -> tuple[int, float, float]:
    """How many callbacks the dispatcher claimed, the seconds it took to send every due one, and the CPU seconds
    this process spent meanwhile (on a loaded machine the wall time is mostly waiting for a CPU)."""
    dispatcher = WebhookDispatcher(database, WebhookSettings(concurrency=concurrency, batch_size=max(20, concurrency)))
    claimed = 0
    started, cpu = time.perf_counter(), time.process_time()
    while sent := await dispatcher.poll():
        claimed += sent
    return claimed, time.perf_counter() - started, time.process_time() - cpu


async def run_bench(urls: postgres.DatabaseUrls, count: int, latency: float, concurrency: int) -> int:
    settings = Settings(environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner)
    database = Database.from_settings(settings)
    install_outbound_policy(OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"]))
    receiver, url = start_receiver(latency)
    try:
        await write_callbacks(database, url, count)
        results: list[tuple[int, int, float, float]] = []
        for run_concurrency in (1, concurrency):
            await make_pending(database)
            results.append((run_concurrency, *await send_all(database, run_concurrency)))
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
        await database.dispose()
    log(f"callbacks: {count}, receiver latency {latency * 1000:.0f} ms")
    for run_concurrency, claimed, seconds, cpu in results:
        log(
            f"  concurrency {run_concurrency:>3}: {claimed} sent in {seconds:6.2f} s = {claimed / seconds:8.1f}/s"
            f" (CPU {cpu * 1000 / claimed:.1f} ms per callback)"
        )
    (_, _, baseline, _), (_, _, concurrent, _) = results
    log(f"  ratio to one at a time: {baseline / concurrent:.1f}x")
    log(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.callbacks", description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=WebhookSettings.concurrency)
    parser.add_argument("--serve", action="store_true", help="run as the receiver (started by the benchmark)")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.latency_ms / 1000)
        return 0
    urls = migrated_database(DATABASE_NAME)
    return asyncio.run(run_bench(urls, args.callbacks, args.latency_ms / 1000, args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
