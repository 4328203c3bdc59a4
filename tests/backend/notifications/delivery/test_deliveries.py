"""Delivery rows from the notification's transaction to the receivers: one row per chosen channel, sent through
the outbox and the delivery workflow (real Temporal test server, real SMTP server, the gateway stub), once; bad
settings fail the delivery with the reason for the county admin, and a retry after the fix sends it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from backend.core.outbox import OutboxKind
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import NotificationDelivery, OutboxMessage
from tests.backend.notifications.delivery.conftest import DeliveryWork, channel_settings, notify
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer, free_port
from tests.fixtures.identity import County, SignIn

EMAIL_AND_SMS = {
    "channels": {"case.assigned": ["email", "sms", "in_app"]},
    "email": "officer@county.example.cn",
    "phone": "13812345678",
}


async def _deliveries(database: Database, county: County) -> list[NotificationDelivery]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(NotificationDelivery).order_by(NotificationDelivery.channel)
        return list((await session.scalars(statement)).all())


async def _outbox_kinds(database: Database, county: County) -> list[str]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        return list((await session.scalars(select(OutboxMessage.kind))).all())


async def _put(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.put(path, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_notification_plans_one_delivery_per_chosen_channel_in_its_transaction(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    await _put(officer, "/api/v1/me/notification-preferences", EMAIL_AND_SMS)

    await notify(database, county, "officer")
    await notify(database, county, "quiet")  # no preferences: the bell only

    rows = await _deliveries(database, county)
    assert [(row.channel, row.status, row.user_id) for row in rows] == [
        ("email", "pending", county.users["officer"].id),
        ("sms", "pending", county.users["officer"].id),
    ]
    assert rows[0].notification_id == rows[1].notification_id
    assert rows[0].idempotency_key == f"lg-{rows[0].notification_id.hex}-email"
    assert (await _outbox_kinds(database, county)).count(OutboxKind.notification_deliver.value) == 2
    # The same event again: no new notification, no new delivery.
    await notify(database, county, "officer")
    assert len(await _deliveries(database, county)) == 2


async def test_each_delivery_is_sent_once_and_marked_sent_even_when_its_start_is_delivered_twice(
    county: County,
    sign_in: SignIn,
    database: Database,
    smtp_server: SmtpServer,
    gateway: GatewayStub,
    delivery_work: DeliveryWork,
    loopback_policy: object,
) -> None:
    admin, officer = await sign_in(county, "admin"), await sign_in(county, "officer")
    await _put(admin, "/api/v1/admin/delivery-settings", channel_settings(smtp_server, gateway))
    await _put(officer, "/api/v1/me/notification-preferences", EMAIL_AND_SMS)
    await notify(database, county, "officer")

    await delivery_work.drain(county)
    rows = await _deliveries(database, county)
    for row in rows:
        await delivery_work.finish(row.idempotency_key)
    # The relay crashed before marking its messages done: the starts are delivered again.
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        await session.execute(update(OutboxMessage).values(processed_at=None))
    await delivery_work.drain(county)

    rows = await _deliveries(database, county)
    assert [(row.channel, row.status, row.attempts) for row in rows] == [("email", "sent", 1), ("sms", "sent", 1)]
    email, sms = rows
    assert smtp_server.recorder.message_ids() == {f"<{email.idempotency_key}@liuguan.delivery>": 1}
    assert [arrival.body["request_id"] for arrival in gateway.on("/sms")] == [sms.idempotency_key]
    [message] = smtp_server.recorder.messages
    assert message["To"] == "officer@county.example.cn"
    assert "LG-2026-000000" in str(message["Subject"])


async def test_bad_settings_fail_the_delivery_for_the_admin_and_a_retry_after_the_fix_sends_it(
    county: County,
    sign_in: SignIn,
    database: Database,
    smtp_server: SmtpServer,
    gateway: GatewayStub,
    delivery_work: DeliveryWork,
    loopback_policy: object,
) -> None:
    admin, officer = await sign_in(county, "admin"), await sign_in(county, "officer")
    wrong = {**channel_settings(smtp_server, gateway, token="wrong-token"), "smtp_port": free_port()}
    await _put(admin, "/api/v1/admin/delivery-settings", wrong)
    # The settings page's test send says what is wrong, in Chinese first.
    tried = await admin.post(
        "/api/v1/admin/delivery-settings/test-send", json={"channel": "sms", "phone": "13812345678"}
    )
    assert tried.json() == {"ok": False, "detail": tried.json()["detail"]}
    assert "短信网关拒绝了令牌（HTTP 401）" in tried.json()["detail"]
    tried = await admin.post(
        "/api/v1/admin/delivery-settings/test-send", json={"channel": "email", "email": "a@county.example.cn"}
    )
    assert "无法连接邮件服务器 127.0.0.1" in tried.json()["detail"]

    await _put(officer, "/api/v1/me/notification-preferences", EMAIL_AND_SMS)
    await notify(database, county, "officer")
    await delivery_work.drain(county)
    for row in await _deliveries(database, county):
        assert await delivery_work.finish(row.idempotency_key) == "failed"

    listed = await admin.get("/api/v1/admin/notification-deliveries", params={"status": "failed"})
    assert listed.status_code == 200, listed.text
    failed = {item["channel"]: item for item in listed.json()["items"]}
    assert set(failed) == {"email", "sms"}
    assert "短信网关拒绝了令牌" in failed["sms"]["last_error"]
    assert "无法连接邮件服务器" in failed["email"]["last_error"]
    assert failed["sms"]["attempts"] > 1  # retried with backoff before giving up
    assert (await officer.get("/api/v1/admin/notification-deliveries")).status_code in (403, 404)

    # The admin fixes the settings (the token kept when left out) and retries: each arrives once.
    await _put(admin, "/api/v1/admin/delivery-settings", {**channel_settings(smtp_server, gateway), "sms_token": None})
    fixed = await _put(admin, "/api/v1/admin/delivery-settings", channel_settings(smtp_server, gateway))
    assert fixed["sms_token_set"] is True and "sms_token" not in fixed
    for item in failed.values():
        retried = await admin.post(f"/api/v1/admin/notification-deliveries/{item['id']}/retry")
        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] == "pending"
    await delivery_work.drain(county)
    for item in failed.values():
        assert await delivery_work.finish(item["idempotency_key"], 1) != "failed"
    assert [row.status for row in await _deliveries(database, county)] == ["sent", "sent"]
    assert sum(smtp_server.recorder.message_ids().values()) == 1
    assert gateway.sent_sms == {failed["sms"]["idempotency_key"]: 1}
