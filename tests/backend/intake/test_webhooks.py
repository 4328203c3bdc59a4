"""Status callbacks as Standard Webhooks, against a real local HTTP receiver: each verified by a verifier written
from the specification (tests/backend/intake/callbacks.py) and by the `standardwebhooks` package, neither using
our signing code; tampering and replays are refused; a rotated secret signs beside the new one for its window;
a host that rebinds to this machine is not called."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from backend.core.clock import utc_now
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context
from backend.intake.dispatcher import WebhookDispatcher
from backend.intake.routing import IntakeRouter
from backend.models import WebhookSubscription
from tests.backend.intake.callbacks import Receiver, Refused, deliveries, verify
from tests.backend.intake.conftest import DepartmentClient, MakeClient, residence
from tests.fixtures.identity import County

pytestmark = pytest.mark.usefixtures("callbacks_to_this_machine")


async def _subscribed(
    make_client: MakeClient, receiver: Receiver, police: DepartmentClient | None = None
) -> tuple[DepartmentClient, str]:
    """The department (a new one unless given) registers the receiver's URL; its new secret."""
    police = police or await make_client("police")
    registered = await police.http.put("/api/v1/intake/webhook", json={"url": receiver.url})
    assert registered.status_code == 200, registered.text
    return police, registered.json()["secret"]


async def _status_change(
    police: DepartmentClient, county: County, router: IntakeRouter, database: Database
) -> dict[str, object]:
    accepted = await police.http.post("/api/v1/notifications", json=residence(county.code))
    assert accepted.status_code in (200, 201, 202), accepted.text
    await router.drain()
    dispatcher = WebhookDispatcher(database)
    while await dispatcher.poll():
        pass
    return dict(accepted.json())


Callback = tuple[str, dict[str, str], bytes]


@pytest.fixture
async def one_callback(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> Callback:
    """The secret of a subscribed department and the one callback it received (headers, raw body)."""
    police, secret = await _subscribed(make_client, receiver)
    await _status_change(police, county, router, database)
    ((headers, body),) = receiver.received
    return secret, headers, body


async def test_a_status_change_is_delivered_as_a_standard_webhook(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, secret = await _subscribed(make_client, receiver)
    assert secret.startswith("whsec_")
    accepted = await _status_change(police, county, router, database)
    ((headers, body),) = receiver.received
    event = verify(secret, headers, body, now=utc_now().timestamp())
    assert event["status"] == "case_opened" and event["notification_id"] == accepted["id"]
    assert Webhook(secret).verify(body, headers)["event_id"] == headers["webhook-id"]
    (delivery,) = await deliveries(database, police.client_id)
    assert headers["webhook-id"] == str(delivery.id) and delivery.status == "delivered"
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]


async def test_a_tampered_body_timestamp_or_id_or_another_secret_is_refused(
    one_callback: Callback,
) -> None:
    secret, headers, body = one_callback
    now = utc_now().timestamp()
    event = json.loads(body)
    tampered_body = json.dumps({**event, "status": "accepted"}, ensure_ascii=False, separators=(",", ":")).encode()
    earlier = str(int(headers["webhook-timestamp"]) - 1)
    other_id = "00000000-0000-0000-0000-000000000000"
    other_secret = "whsec_" + base64.b64encode(b"another department's key 32 byte").decode()
    cases = [
        (secret, headers, tampered_body),
        (secret, {**headers, "webhook-timestamp": earlier}, body),
        (secret, {**headers, "webhook-id": other_id}, body),
        (other_secret, headers, body),
    ]
    for key, sent_headers, sent_body in cases:
        with pytest.raises(Refused):
            verify(key, sent_headers, sent_body, now=now)
        with pytest.raises(WebhookVerificationError):
            Webhook(key).verify(sent_body, sent_headers)
    assert verify(secret, headers, body, now=now)["event_id"] == headers["webhook-id"]


async def test_a_replayed_callback_is_refused_once_its_timestamp_is_too_old(
    one_callback: Callback,
) -> None:
    secret, headers, body = one_callback
    signed_at = int(headers["webhook-timestamp"])
    assert abs(signed_at - utc_now().timestamp()) < 60
    assert verify(secret, headers, body, now=signed_at + 299)
    with pytest.raises(Refused, match="tolerance"):
        verify(secret, headers, body, now=signed_at + 301)
    # The package checks against its own clock: a capture re-sent with an old timestamp no longer verifies.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-timestamp": str(signed_at - 600)})


async def test_during_a_rotation_both_secrets_sign_until_the_window_ends(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, old_secret = await _subscribed(make_client, receiver)
    rotated = await police.http.post("/api/v1/intake/webhook/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    window = rotated.json()["previous_valid_until"]
    assert timedelta(hours=23) < datetime.fromisoformat(window) - utc_now() <= timedelta(hours=24)

    await _status_change(police, county, router, database)
    ((headers, body),) = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        verify(secret, headers, body, now=utc_now().timestamp())
        Webhook(secret).verify(body, headers)

    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.client_id == police.client_id)
            .values(previous_secret_expires_at=utc_now() - timedelta(seconds=1))
        )
    await _status_change(police, county, router, database)
    headers, body = receiver.received[1]
    assert " " not in headers["webhook-signature"]
    verify(new_secret, headers, body, now=utc_now().timestamp())
    with pytest.raises(Refused):
        verify(old_secret, headers, body, now=utc_now().timestamp())


async def test_registering_again_revokes_every_earlier_secret_at_once(
    county: County, make_client: MakeClient, receiver: Receiver, router: IntakeRouter, database: Database
) -> None:
    police, first = await _subscribed(make_client, receiver)
    rotated = (await police.http.post("/api/v1/intake/webhook/rotate-secret")).json()["secret"]
    _police, latest = await _subscribed(make_client, receiver, police)  # a leaked secret: register again
    await _status_change(police, county, router, database)
    ((headers, body),) = receiver.received
    assert " " not in headers["webhook-signature"]
    verify(latest, headers, body, now=utc_now().timestamp())
    for revoked in (first, rotated):
        with pytest.raises(Refused):
            verify(revoked, headers, body, now=utc_now().timestamp())


async def test_rotating_without_a_callback_url_is_not_found(make_client: MakeClient) -> None:
    police = await make_client("police")
    response = await police.http.post("/api/v1/intake/webhook/rotate-secret")
    assert response.status_code == 404, response.text
    assert "callback" in response.json()["detail"]


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
    await _status_change(police, county, router, database)
    assert receiver.received == []
    (delivery,) = await deliveries(database, police.client_id)
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
    await _status_change(police, county, router, database)
    ((headers, _body),) = receiver.received
    assert headers["Host"] == f"callbacks.police.example:{port}"
