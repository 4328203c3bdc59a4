"""The callback dispatcher against a real local HTTP receiver: callbacks are sent concurrently with no database
transaction open, a failing receiver is retried with backoff and the same webhook-id until the dead-letter list
(and an admin's resend delivers it), and a sender that dies mid-send leaves its callbacks to the next one once
its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.intake.dispatcher import WebhookDispatcher, WebhookSettings
from backend.intake.routing import IntakeRouter
from tests.backend.intake.callbacks import Receiver, deliveries, make_due, verify
from tests.backend.intake.conftest import DepartmentClient, MakeClient, residence
from tests.fixtures.identity import County

pytestmark = pytest.mark.usefixtures("callbacks_to_this_machine")

# Sessions of this database (other than the asking one) holding any lock on the callbacks table: a transaction
# left open while sending would hold at least the row locks' ROW SHARE lock on it.
LOCKS_ON_CALLBACKS = """
    SELECT a.pid, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.relation = 'intake_webhook_deliveries'::regclass AND l.pid <> pg_backend_pid()
"""


def _attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("liuguan_callback_delivery_attempts_total", {"outcome": outcome}) or 0.0


async def _subscribed_with_changes(
    make_client: MakeClient, receiver: Receiver, county: County, router: IntakeRouter, count: int
) -> tuple[DepartmentClient, str]:
    police = await make_client("police")
    registered = await police.http.put("/api/v1/intake/webhook", json={"url": receiver.url})
    assert registered.status_code == 200, registered.text
    for _ in range(count):
        accepted = await police.http.post("/api/v1/notifications", json=residence(county.code))
        assert accepted.status_code in (200, 201, 202), accepted.text
    await router.drain()
    return police, registered.json()["secret"]


async def test_callbacks_are_sent_at_once_with_no_transaction_open(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, secret = await _subscribed_with_changes(make_client, receiver, county, router, 4)
    loop = asyncio.get_running_loop()
    seen_locks: list[list[tuple[int, str | None]]] = []

    async def locks_on_callbacks() -> list[tuple[int, str | None]]:
        connection = await database.connect_driver()
        try:
            return [(row["pid"], row["state"]) for row in await connection.fetch(LOCKS_ON_CALLBACKS)]
        finally:
            await connection.close()

    def look_at_the_database() -> None:
        """Runs in the receiver's handler while the dispatcher waits for the answer."""
        seen_locks.append(asyncio.run_coroutine_threadsafe(locks_on_callbacks(), loop).result(timeout=30))

    receiver.hold, receiver.on_request = 4, look_at_the_database
    await WebhookDispatcher(database, WebhookSettings(concurrency=4)).poll()
    assert receiver.most_in_flight == 4  # all four were in the receiver at the same time
    # and meanwhile no session of ours held the callbacks table (no transaction open, idle or not)
    assert len(receiver.received) == 4 and seen_locks == [[], [], [], []]
    assert {row.status for row in await deliveries(database, police.client_id)} == {"delivered"}
    now = utc_now().timestamp()
    assert len({verify(secret, headers, body, now=now)["event_id"] for headers, body in receiver.received}) == 4


async def test_the_concurrency_is_bounded(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, _secret = await _subscribed_with_changes(make_client, receiver, county, router, 5)
    # The receiver holds the first request until a second is in: two at a time, never more.
    receiver.hold = 2
    await WebhookDispatcher(database, WebhookSettings(concurrency=2)).poll()
    assert receiver.most_in_flight == 2 and len(receiver.received) == 5
    assert {row.status for row in await deliveries(database, police.client_id)} == {"delivered"}


async def test_failures_back_off_with_the_same_id_then_dead_letter_and_an_admin_resend_delivers(
    county: County,
    make_client: MakeClient,
    receiver: Receiver,
    router: IntakeRouter,
    database: Database,
    api: httpx.AsyncClient,
    platform_headers: dict[str, str],
) -> None:
    police, secret = await _subscribed_with_changes(make_client, receiver, county, router, 1)
    receiver.fail = True
    failed_before, delivered_before = _attempts("failed"), _attempts("delivered")
    settings = WebhookSettings(max_attempts=3, base_backoff_seconds=10)
    dispatcher = WebhookDispatcher(database, settings)
    gaps: list[timedelta] = []
    for attempt in range(1, 4):
        before = utc_now()
        await dispatcher.poll()
        (delivery,) = await deliveries(database, police.client_id)
        assert delivery.attempts == attempt and delivery.leased_until is None
        if attempt < 3:
            assert delivery.status == "pending"
            gaps.append(delivery.next_attempt_at - before)
            await dispatcher.poll()  # not due yet: nothing is sent
            assert (await deliveries(database, police.client_id))[0].attempts == attempt
            await make_due(database, police.client_id)
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
    (delivered,) = await deliveries(database, police.client_id)
    assert delivered.status == "delivered"
    assert len(receiver.received) == 4  # three failures, then the resend
    assert (_attempts("failed") - failed_before, _attempts("delivered") - delivered_before) == (3, 1)
    # Every attempt carried the same webhook-id (the event id), each freshly signed.
    assert {headers["webhook-id"] for headers, _body in receiver.received} == {str(delivery.id)}
    now = utc_now().timestamp()
    for headers, body in receiver.received:
        verify(secret, headers, body, now=now)


async def test_a_sender_that_dies_mid_send_leaves_its_callback_to_the_next_after_the_lease(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, secret = await _subscribed_with_changes(make_client, receiver, county, router, 1)
    crashed = WebhookDispatcher(database)
    _claimed, attempts = await crashed.claim()  # claims and commits, then dies before sending
    (leased,) = await deliveries(database, police.client_id)
    (mine,) = [attempt for attempt in attempts if attempt.id == leased.id]
    assert leased.status == "in_flight" and leased.leased_until is not None and leased.leased_until > utc_now()

    survivor = WebhookDispatcher(database)
    await survivor.poll()
    assert receiver.received == []  # the lease holds: nobody else sends it
    await make_due(database, police.client_id, lease=True)
    await survivor.poll()
    ((headers, body),) = receiver.received
    assert headers["webhook-id"] == str(leased.id)
    verify(secret, headers, body, now=utc_now().timestamp())
    (delivered,) = await deliveries(database, police.client_id)
    assert (delivered.status, delivered.attempts) == ("delivered", 2)

    # Were the first sender only slow, its late outcome would not overwrite what the survivor recorded.
    await crashed.record([mine], {mine.id: "RuntimeError: HTTP 503"})
    (after,) = await deliveries(database, police.client_id)
    assert (after.status, after.last_error, after.delivered_at) == ("delivered", None, delivered.delivered_at)
