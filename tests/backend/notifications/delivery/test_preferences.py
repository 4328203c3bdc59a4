"""A person's delivery preferences: saved and read back (the number masked, stored only as ciphertext), bad
input refused at the field in both languages, quiet hours moving a delivery (not the bell) to the end of the
window, and the county's secrets never read back."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from backend.core.clock import CHINA
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import NotificationDelivery, NotificationPreference
from backend.notifications.delivery.preferences import after_quiet_hours
from tests.backend.notifications.delivery.conftest import notify
from tests.fixtures.identity import County, SignIn

PREFERENCES = "/api/v1/me/notification-preferences"


async def test_preferences_are_saved_and_read_back_with_the_number_masked(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    assert (await officer.get(PREFERENCES)).json()["channels"] == {}
    body = {
        "channels": {"case.assigned": ["email", "sms"], "case.escalation": ["sms"]},
        "email": "officer@county.example.cn",
        "phone": "13812345678",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    saved = await officer.put(PREFERENCES, json=body)
    assert saved.status_code == 200, saved.text
    read = (await officer.get(PREFERENCES)).json()
    assert read["channels"] == {"case.assigned": ["email", "sms"], "case.escalation": ["sms"]}
    assert read["phone"] == "138****5678"
    assert read["quiet_start"] == "22:00:00"
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        row = (await session.scalars(select(NotificationPreference))).one()
        assert b"13812345678" not in (row.phone_ciphertext or b"")
    # Someone else's preferences are her own.
    assert (await (await sign_in(county, "quiet")).get(PREFERENCES)).json()["channels"] == {}


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        (
            {"channels": {"case.assigned": ["fax"]}},
            ["body", "channels", "case.assigned", 0],
            "不是允许的取值 / not one of",
        ),
        ({"channels": {"no.such.kind": ["sms"]}}, ["body", "channels", "no.such.kind", "[key]"], "不是允许的取值"),
        ({"channels": {"case.assigned": ["sms"]}}, ["body", "phone"], "请填写手机号码 / SMS chosen"),
        ({"channels": {"case.assigned": ["email"]}}, ["body"], "请填写电子邮件地址 / e-mail chosen"),
        ({"phone": "12345"}, ["body", "phone"], ""),
        ({"email": "not-an-address"}, ["body", "email"], ""),
        ({"quiet_start": "22:00"}, ["body"], "免打扰时段须同时填写开始和结束 / quiet hours"),
        ({"quiet_start": "22:00", "quiet_end": "22:00"}, ["body"], "不能相同"),
    ],
)
async def test_bad_preferences_are_refused_at_the_field(
    county: County, sign_in: SignIn, body: dict[str, object], loc: list[object], words: str
) -> None:
    officer = await sign_in(county, "officer")
    response = await officer.put(PREFERENCES, json=body)
    assert response.status_code == 422, response.text
    fields = response.json()["fields"]
    assert [field["loc"] for field in fields] == [loc]
    assert words in fields[0]["msg"]
    assert (await officer.get(PREFERENCES)).json()["channels"] == {}  # nothing half-saved


def _china(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("moment", "start", "end", "due"),
    [
        (_china(23), time(22), time(7), _china(7, day=8)),  # late evening: the next morning
        (_china(3), time(22), time(7), _china(7)),  # small hours: this morning
        (_china(7), time(22), time(7), _china(7)),  # the window has ended
        (_china(12), time(22), time(7), _china(12)),  # daytime: at once
        (_china(12, 30), time(12), time(14), _china(14)),  # a window within the day
        (_china(12), None, None, _china(12)),  # no quiet hours
    ],
)
def test_quiet_hours_move_a_delivery_to_the_end_of_the_window(
    moment: datetime, start: time | None, end: time | None, due: datetime
) -> None:
    assert after_quiet_hours(moment.astimezone(UTC), start, end) == due


async def test_a_delivery_waits_for_quiet_hours_while_the_bell_shows_at_once(
    county: County, sign_in: SignIn, database: Database
) -> None:
    quiet = await sign_in(county, "quiet")
    # Quiet the whole day but one minute around now's opposite: now is inside the window.
    now = datetime.now(CHINA)
    start, end = time((now.hour + 23) % 24), time((now.hour + 2) % 24)
    body = {"channels": {"case.assigned": ["email"]}, "email": "q@county.example.cn"}
    body |= {"quiet_start": start.isoformat(), "quiet_end": end.isoformat()}
    assert (await quiet.put(PREFERENCES, json=body)).status_code == 200

    await notify(database, county, "quiet")

    assert len((await quiet.get("/api/v1/me/notifications")).json()["items"]) == 1
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        delivery = (await session.scalars(select(NotificationDelivery))).one()
    assert delivery.due_at > delivery.created_at
    assert delivery.due_at.astimezone(CHINA).time() == end
