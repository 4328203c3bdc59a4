"""Status callbacks against a real local HTTP receiver: the signature verifies, failures back off, a
delivery that keeps failing lands in the dead-letter list, and an admin's resend delivers it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from backend.core.clock import utc_now
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.routing import IntakeRouter
from backend.intake.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDispatcher,
    WebhookSettings,
    verify_signature,
)
from backend.models import WebhookDelivery
from tests.backend.intake.conftest import MakeClient, residence
from tests.fixtures.identity import County


@dataclass
class Receiver:
    url: str
    fail: bool = False
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture(autouse=True)
def callbacks_to_this_machine(app: object) -> Iterator[None]:
    """The receiver listens on loopback over plain HTTP: allowed here as an operator would allow a county network
    (CALLBACK_ALLOWED_NETWORKS) and development allows http; the policy itself is tested in tests/security/."""
    install_outbound_policy(OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"]))
    yield
    install_outbound_policy(None)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(({key: value for key, value in self.headers.items()}, body))
            self.send_response(503 if state.fail else 204)
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


def _attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("liuguan_callback_delivery_attempts_total", {"outcome": outcome}) or 0.0


async def _deliveries(database: Database, client_id: str) -> list[WebhookDelivery]:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        statement = select(WebhookDelivery).where(WebhookDelivery.client_id == client_id)
        return list((await session.execute(statement)).scalars().all())


async def _make_due(database: Database, client_id: str) -> None:
    """Skip the backoff wait: the test checks the schedule, then moves it to now."""
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.client_id == client_id).values(next_attempt_at=utc_now())
        )


async def test_a_status_change_is_delivered_signed_with_a_timestamp(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police = await make_client("police")
    registered = await police.http.put("/api/v1/intake/webhook", json={"url": receiver.url})
    assert registered.status_code == 200, registered.text
    secret = registered.json()["secret"]
    accepted = (await police.http.post("/api/v1/notifications", json=residence(county.code))).json()
    await router.drain()
    dispatcher = WebhookDispatcher(database)
    while await dispatcher.poll():
        pass
    mine = [entry for entry in receiver.received if json.loads(entry[1])["notification_id"] == accepted["id"]]
    assert len(mine) == 1
    headers, body = mine[0]
    assert verify_signature(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature("wrong-secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify_signature(secret, str(int(headers[TIMESTAMP_HEADER]) + 1), body, headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert event["status"] == "case_opened" and event["event_id"] == headers[EVENT_ID_HEADER]
    assert abs(int(headers[TIMESTAMP_HEADER]) - utc_now().timestamp()) < 60


async def test_failures_back_off_then_dead_letter_and_an_admin_resend_delivers(
    county: County,
    make_client: MakeClient,
    receiver: Receiver,
    router: IntakeRouter,
    database: Database,
    api: httpx.AsyncClient,
    platform_headers: dict[str, str],
) -> None:
    police = await make_client("police")
    await police.http.put("/api/v1/intake/webhook", json={"url": receiver.url})
    await police.http.post("/api/v1/notifications", json=residence(county.code))
    await router.drain()
    receiver.fail = True
    failed_before, delivered_before = _attempts("failed"), _attempts("delivered")
    settings = WebhookSettings(max_attempts=3, base_backoff_seconds=10)
    dispatcher = WebhookDispatcher(database, settings)
    gaps: list[timedelta] = []
    for attempt in range(1, 4):
        before = utc_now()
        await dispatcher.poll()
        (delivery,) = await _deliveries(database, police.client_id)
        assert delivery.attempts == attempt
        if attempt < 3:
            assert delivery.status == "pending"
            gaps.append(delivery.next_attempt_at - before)
            await dispatcher.poll()  # not due yet: nothing is sent
            assert (await _deliveries(database, police.client_id))[0].attempts == attempt
            await _make_due(database, police.client_id)
    # Exponential backoff: 10 s, then 20 s after the attempt (measured from just before it, hence the slack).
    assert 10 <= gaps[0].total_seconds() < 15
    assert 20 <= gaps[1].total_seconds() < 25
    assert delivery.status == "dead"
    assert delivery.last_error == "RuntimeError: HTTP 503"
    # The callbacks-failing alert's counter (infra/helm/liuguan/templates/prometheusrule.yaml).
    assert (_attempts("failed") - failed_before, _attempts("delivered") - delivered_before) == (3, 0)
    dead = await api.get("/api/v1/platform/intake/dead-letters", headers=platform_headers)
    assert str(delivery.id) in {row["id"] for row in dead.json()}
    assert (await police.http.get("/api/v1/platform/intake/dead-letters")).status_code == 403

    receiver.fail = False
    resent = await api.post(f"/api/v1/platform/intake/dead-letters/{delivery.id}/resend", headers=platform_headers)
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    await dispatcher.poll()
    (delivered,) = await _deliveries(database, police.client_id)
    assert delivered.status == "delivered"
    assert len(receiver.received) == 4  # three failures, then the resend
    assert (_attempts("failed") - failed_before, _attempts("delivered") - delivered_before) == (3, 1)


class RebindingNameServer:
    """Plays a name server that answers a public address while the URL is registered, then this machine's
    address (DNS rebinding): the worker must not follow it. (A real DNS server cannot run in the test sandbox.)"""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first]
        self.then = then

    async def __call__(self, host: str, port: int) -> list[str]:
        return [self.answers.pop(0) if self.answers else self.then]


async def test_a_callback_host_that_rebinds_to_this_machine_is_not_called(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    resolver = RebindingNameServer(first="93.184.216.34", then="127.0.0.1")
    # Plain http is allowed (as in development), loopback is not: only the rebinding could reach the receiver.
    install_outbound_policy(OutboundPolicy.of(allow_http=True, allowed_networks=[]), resolver=resolver)
    police = await make_client("police")
    registered = await police.http.put(
        "/api/v1/intake/webhook", json={"url": f"http://callbacks.police.example:{port}/hooks/liuguan"}
    )
    assert registered.status_code == 200, registered.text
    await police.http.post("/api/v1/notifications", json=residence(county.code))
    await router.drain()
    dispatcher = WebhookDispatcher(database)
    while await dispatcher.poll():
        pass
    assert receiver.received == []
    (delivery,) = await _deliveries(database, police.client_id)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "refused by the outbound policy" in (delivery.last_error or "")
    assert "127.0.0.1" in (delivery.last_error or "")


async def test_a_delivery_goes_to_the_address_checked_with_the_host_name_kept(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]

    async def this_machine(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    install_outbound_policy(OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"]), resolver=this_machine)
    police = await make_client("police")
    url = f"http://callbacks.police.example:{port}/hooks/liuguan"
    assert (await police.http.put("/api/v1/intake/webhook", json={"url": url})).status_code == 200
    await police.http.post("/api/v1/notifications", json=residence(county.code))
    await router.drain()
    dispatcher = WebhookDispatcher(database)
    while await dispatcher.poll():
        pass
    ((headers, _body),) = receiver.received
    assert headers["Host"] == f"callbacks.police.example:{port}"
