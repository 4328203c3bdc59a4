"""What the callback tests share: a department's receiver on loopback (a real HTTP server in a thread), the
policy that lets callbacks reach it, and a Standard Webhooks verifier written here from the specification
(https://www.standardwebhooks.com/), independent of backend/intake/webhooks.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, update

from backend.core.clock import utc_now
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.models import WebhookDelivery

TOLERANCE_SECONDS = 5 * 60
"""The specification's suggested tolerance for a timestamp's age (replay protection)."""


class Refused(Exception):
    """The verifier refuses the message."""


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float) -> dict[str, Any]:
    """Standard Webhooks verification, as a department would write it from the specification: the timestamp within
    the tolerance of `now`, one of the space-separated `v1,` signatures equal to base64(HMAC-SHA256(key,
    "{webhook-id}.{webhook-timestamp}.{body}")) with the key the base64 after `whsec_`; the body's event id is the
    header's."""
    lowered = {key.lower(): value for key, value in headers.items()}
    webhook_id, timestamp, signatures = (
        lowered.get("webhook-id"),
        lowered.get("webhook-timestamp"),
        lowered.get("webhook-signature"),
    )
    if not (webhook_id and timestamp and signatures):
        raise Refused("missing headers")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise Refused("timestamp outside the tolerance")
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    expected = base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            event: dict[str, Any] = json.loads(body)
            if event.get("event_id") != webhook_id:
                raise Refused("the body's event id is not the header's")
            return event
    raise Refused("no matching signature")


@dataclass
class Receiver:
    """Records every request; answers 503 while `fail` is set. With `hold` set, a request is answered only once
    `hold` requests are in at the same time (or `hold_timeout` seconds pass): what overlapped is recorded, never
    how long anything took. `on_request` runs in the handler while the request is held."""

    url: str = ""
    fail: bool = False
    hold: int = 0
    hold_timeout: float = 5.0
    on_request: Callable[[], None] | None = None
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.condition:
            self.received.append((headers, body))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.condition.notify_all()
        try:
            if self.on_request is not None:
                self.on_request()
            with self.condition:
                self.condition.wait_for(lambda: self.most_in_flight >= self.hold, timeout=self.hold_timeout)
        finally:
            with self.condition:
                self.in_flight -= 1
        return 503 if self.fail else 204

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(state.handle(dict(self.headers.items()), body))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/liuguan"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def callbacks_to_this_machine(app: object) -> Iterator[None]:
    """The receiver listens on loopback over plain HTTP: allowed here as an operator would allow a county network
    (CALLBACK_ALLOWED_NETWORKS) and development allows http; the policy itself is tested in tests/security/."""
    install_outbound_policy(OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"]))
    yield
    install_outbound_policy(None)


async def deliveries(database: Database, client_id: str) -> list[WebhookDelivery]:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        statement = select(WebhookDelivery).where(WebhookDelivery.client_id == client_id)
        return list((await session.execute(statement)).scalars().all())


async def make_due(database: Database, client_id: str, *, lease: bool = False) -> None:
    """Skip the backoff wait (or, with `lease`, the rest of a lease): the test checks the schedule, then moves it
    to now."""
    values = {"leased_until": utc_now()} if lease else {"next_attempt_at": utc_now()}
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.client_id == client_id).values(**values))
