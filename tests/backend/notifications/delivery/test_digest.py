"""The supervisors' daily digest: at 08:30 China time on the next working day of the official calendar (调休
included), one message per channel listing the day's notifications; only supervisors may choose it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.calendar import official_calendar
from backend.core.clock import CHINA
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import NotificationDelivery
from backend.notifications.delivery.preferences import next_digest
from backend.notifications.delivery.service import digest_of
from tests.backend.notifications.delivery.conftest import DeliveryWork, channel_settings, notify
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer
from tests.fixtures.identity import County, SignIn

PREFERENCES = "/api/v1/me/notification-preferences"


def _china(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("moment", "digest"),
    [
        (_china("2025-10-10", 7), _china("2025-10-10", 8, 30)),  # a Friday before 08:30: today
        (_china("2025-10-10", 8, 30), _china("2025-10-11", 8, 30)),  # at 08:30: the next, a 调休 Saturday worked
        (_china("2025-09-30", 9), _china("2025-10-09", 8, 30)),  # before National Day: after the holiday
        (_china("2025-09-27", 12), _china("2025-09-28", 8, 30)),  # Saturday noon: the 调休 Sunday
        (_china("2025-11-14", 18), _china("2025-11-17", 8, 30)),  # a plain Friday evening: Monday
    ],
)
def test_the_digest_goes_at_0830_on_the_next_working_day(moment: datetime, digest: datetime) -> None:
    assert next_digest(official_calendar(), moment.astimezone(UTC)) == digest


async def test_only_a_supervisor_may_choose_the_digest(county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "officer")
    refused = await officer.put(PREFERENCES, json={"digest": True})
    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {"loc": ["body", "digest"], "msg": "只有负责人可以选择每日汇总 / only supervisors may choose the daily digest"}
    ]
    assert 'name="digest"' not in (await officer.get("/notifications/settings")).text
    supervisor = await sign_in(county, "sup")
    assert 'name="digest"' in (await supervisor.get("/notifications/settings")).text
    assert (await supervisor.put(PREFERENCES, json={"digest": True})).json()["digest"] is True


async def test_a_supervisor_gets_the_days_notifications_in_one_message_at_0830(
    county: County,
    sign_in: SignIn,
    database: Database,
    smtp_server: SmtpServer,
    gateway: GatewayStub,
    delivery_work: DeliveryWork,
    loopback_policy: object,
) -> None:
    admin, supervisor = await sign_in(county, "admin"), await sign_in(county, "sup")
    assert (await admin.put("/api/v1/admin/delivery-settings", json=channel_settings(smtp_server, gateway))).is_success
    body = {"channels": {"case.assigned": ["email"]}, "email": "sup@county.example.cn", "digest": True}
    assert (await supervisor.put(PREFERENCES, json=body)).status_code == 200

    await notify(database, county, "sup", 3, tag="digest")
    await delivery_work.drain(county)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rows = list((await session.scalars(select(NotificationDelivery))).all())
    assert len(rows) == 3 and {row.digest for row in rows} == {True}
    due = rows[0].due_at.astimezone(CHINA)
    assert {row.due_at for row in rows} == {rows[0].due_at} and (due.hour, due.minute) == (8, 30)
    assert smtp_server.recorder.messages == []  # nothing before 08:30

    assert await delivery_work.finish(digest_of(rows[0]), skip=timedelta(days=12)) != "failed"

    [message] = smtp_server.recorder.messages
    assert message["Message-ID"] == f"<lg-digest-{digest_of(rows[0])}@liuguan.delivery>"
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "今日待办通知 3 条" in text
    assert all(f"案件LG-2026-{number:06d}已分配给您" in text for number in range(3))
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statuses = (await session.scalars(select(NotificationDelivery.status))).all()
    assert list(statuses) == ["sent"] * 3
