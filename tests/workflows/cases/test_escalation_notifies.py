"""Escalation rung 3 through the real case workflow (issue #19): a case left overdue on the time-skipping test
server climbs its ladder; when rung 3 fires the county supervisor finds it in her to-do list, her notifications
and the bell's unread count, and on the channel she chose (a delivery row for SMS); nobody else is told: not the
officer of a sibling township, not anyone in another county."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import CaseStage, Notification, NotificationDelivery
from tests.backend.verification.conftest import TwoCounties, counties
from tests.fixtures.identity import County, SignIn
from tests.workflows.cases.conftest import Harness

__all__ = ["counties"]

EVERYONE = ("t1.officer", "t1.sup", "t2.officer", "v11.coord", "county.sup")


async def _titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/me/notifications")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def _bell(client: httpx.AsyncClient) -> int:
    response = await client.get("/api/v1/me/notifications/unread-count")
    assert response.status_code == 200, response.text
    return int(response.json()["unread"])


async def _escalated_to_me(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/me/todo", params={"kind": "escalated"})
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


async def _deliveries(database: Database, county: County, number: str) -> list[tuple[str, str]]:
    """(the user's id, the channel) of each delivery planned for a notification about the case."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rows = await session.execute(
            select(NotificationDelivery.user_id, NotificationDelivery.channel)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(Notification.reference == number)
        )
        return [(str(user_id), channel) for user_id, channel in rows.all()]


async def _told(sign_in: SignIn, county: County, number: str) -> dict[str, list[str]]:
    """Each user's notifications about the case."""
    told: dict[str, list[str]] = {}
    for username in EVERYONE:
        titles = await _titles(await sign_in(county, username))
        told[username] = [title for title in titles if number in title]
    return told


async def test_rung_3_of_an_overdue_case_reaches_the_county_supervisor_and_nobody_outside(
    case_env: WorkflowEnvironment, database: Database, counties: TwoCounties, sign_in: SignIn
) -> None:
    a, b = counties.a, counties.b
    harness = Harness(env=case_env, database=database, county=a)
    supervisor = await sign_in(a, "county.sup")
    # She wants escalations by SMS as well (通知设置); nobody else chose a channel.
    chosen = await supervisor.put(
        "/api/v1/me/notification-preferences",
        json={"channels": {"case.escalation": ["sms"]}, "phone": "13800138000"},
    )
    assert chosen.status_code == 200, chosen.text
    case = await harness.add_case("notification_triage", CaseStage.verification, await harness.now())
    async with harness.worker():
        handle = await harness.start(case)
        plan = await harness.plan(handle)
        rung_3 = plan.alerts[-1]
        assert (rung_3.kind.value, rung_3.level) == ("escalation", 3)

        await harness.run_until(handle, rung_3.fire_at - timedelta(minutes=5))
        before = await _told(sign_in, a, case.number)
        assert before["county.sup"] == [] and before["t1.sup"] != []  # rung 2 went to the township supervisor
        assert case.number not in await _escalated_to_me(supervisor)
        assert await _deliveries(database, a, case.number) == []
        bell_before = await _bell(supervisor)

        await harness.run_until(handle, rung_3.fire_at + timedelta(minutes=5))
        assert (await harness.case(case.id)).escalation_level == 3
        await handle.cancel()

    after = await _told(sign_in, a, case.number)
    (escalated,) = after["county.sup"]
    assert "county supervisor" in escalated
    assert await _bell(supervisor) == bell_before + 1
    unread = await supervisor.get("/api/v1/me/notifications", params={"unread": "true"})
    assert [item["link"] for item in unread.json()["items"]] == [f"/cases/{case.id}"]
    assert case.number in await _escalated_to_me(supervisor)
    assert await _deliveries(database, a, case.number) == [(str(a.users["county.sup"].id), "sms")]
    # Only the rung-3 notification is new: the others were told what they were told before (or nothing).
    assert {name: titles for name, titles in after.items() if name != "county.sup"} == {
        name: titles for name, titles in before.items() if name != "county.sup"
    }
    assert after["t2.officer"] == []  # the sibling township's officer
    for username in EVERYONE:  # the other county, whose users share the usernames
        other = await sign_in(b, username)
        assert await _titles(other) == [] and await _bell(other) == 0
