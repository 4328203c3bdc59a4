"""Each recipient rule: the event happens through the service that owns it, and exactly the people the rule names
are told; a sibling township's people and the other county's are not. No message carries an ID number."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import update

from backend.cases import deadlines
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import User
from tests.backend.notifications.conftest import Relay, told
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import County, SignIn
from workflows.cases.types import AlertKind, RaiseAlertInput

EVERYONE = ("t1.officer", "t1.sup", "t2.officer", "t2.sup", "v11.coord", "county.sup")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")


async def _case(client: httpx.AsyncClient, county: County, unit: str = "v11") -> dict[str, object]:
    response = await client.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": county.units[unit]})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _assign(client: httpx.AsyncClient, case: dict[str, object], assignee: uuid.UUID) -> None:
    response = await client.post(f"/api/v1/cases/{case['id']}/assign", json={"assignee_id": str(assignee)})
    assert response.status_code == 200, response.text


def _who(notified: dict[str, list[str]]) -> set[str]:
    return {username for username, titles in notified.items() if titles}


async def test_an_assignment_tells_the_assignee_and_nobody_else(people: TwoCounties, sign_in: SignIn) -> None:
    a, b = people.a, people.b
    supervisor = await sign_in(a, "t1.sup")
    case = await _case(supervisor, a)
    await _assign(supervisor, case, a.users["t1.officer"].id)
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t1.officer"}
    assert notified["t1.officer"] == [f"案件{case['number']}已分配给您 / case {case['number']} was assigned to you"]
    assert _who(await told(sign_in, b, *EVERYONE)) == set()


async def test_taking_a_case_oneself_tells_nobody(people: TwoCounties, sign_in: SignIn) -> None:
    a = people.a
    supervisor = await sign_in(a, "t1.sup")
    case = await _case(supervisor, a)
    await _assign(supervisor, case, a.users["t1.sup"].id)
    assert _who(await told(sign_in, a, *EVERYONE)) == set()


async def _send(client: httpx.AsyncClient, case_id: object, township: str) -> dict[str, object]:
    response = await client.post(
        "/api/v1/verification/requests",
        json={"case_id": case_id, "subject_name": "甲", "responder_division_code": township, "question": "请核实"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_request_from_another_county_tells_the_receiving_townships_officers(
    people: TwoCounties, sign_in: SignIn, relay: Relay
) -> None:
    a, b = people.a, people.b
    sender = await sign_in(a, "t1.officer")
    case = await _case(sender, a)
    sent = await _send(sender, case["id"], b.units["t1"])
    assert _who(await told(sign_in, b, *EVERYONE)) == set()  # told once the sender's transaction is relayed
    await relay.drain(a.tenant.id)
    await relay.drain(a.tenant.id)  # relayed again: still told once
    notified = await told(sign_in, b, *EVERYONE)
    assert _who(notified) == {"t1.officer"}
    assert notified["t1.officer"] == [
        f"收到{sent['requester_unit_name']}的协查{sent['correlation_id']} / verification request "
        f"{sent['correlation_id']} received"
    ]
    assert _who(await told(sign_in, a, *EVERYONE)) == set()
    officer = await sign_in(b, "t1.officer")
    item = (await officer.get("/api/v1/me/notifications")).json()["items"][0]
    assert item["link"] == f"/verification/inbox?q={sent['correlation_id']}"


async def test_a_township_without_officers_has_its_supervisor_told(
    people: TwoCounties, sign_in: SignIn, relay: Relay, database: Database
) -> None:
    a, b = people.a, people.b
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        await session.execute(update(User).where(User.id == b.users["t2.officer"].id).values(active=False))
    sender = await sign_in(a, "t1.officer")
    await _send(sender, (await _case(sender, a))["id"], b.units["t2"])
    await relay.drain(a.tenant.id)
    assert _who(await told(sign_in, b, *(name for name in EVERYONE if name != "t2.officer"))) == {"t2.sup"}


async def test_an_answer_tells_the_requesting_cases_assignee(
    people: TwoCounties, sign_in: SignIn, relay: Relay
) -> None:
    a, b = people.a, people.b
    supervisor = await sign_in(a, "t1.sup")
    case = await _case(supervisor, a)
    await _assign(supervisor, case, a.users["t1.officer"].id)
    sent = await _send(await sign_in(a, "t1.officer"), case["id"], b.units["t1"])
    await relay.drain(a.tenant.id)
    responder = await sign_in(b, "t1.officer")
    assert (await responder.get("/api/v1/me/notifications/unread-count")).json() == {"unread": 1}
    answered = await responder.post(f"/api/v1/verification/inbox/{sent['id']}/answer", json={"answer": "属实"})
    assert answered.status_code == 200, answered.text
    await relay.drain(a.tenant.id, b.tenant.id)
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t1.officer"}
    assert (
        notified["t1.officer"][0] == f"协查{sent['correlation_id']}已反馈 / request {sent['correlation_id']} answered"
    )
    assert _who(await told(sign_in, b, *EVERYONE)) == {"t1.officer"}  # the request it received, not the answer
    # Answering cleared the responder's notification of the request.
    assert (await responder.get("/api/v1/me/notifications/unread-count")).json() == {"unread": 0}


async def _raise(database: Database, county: County, case_id: uuid.UUID, kind: AlertKind, level: int) -> None:
    actor_var.set(SYSTEM_ACTOR)
    now = datetime.now(UTC)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        plan = await deadlines.load_plan(session, case_id, now)
        assert plan.deadline_key is not None and plan.due_at is not None
        alert = next(alert for alert in plan.alerts if alert.kind == kind and alert.level == level)
        result = await deadlines.raise_alert(
            session,
            RaiseAlertInput(
                tenant_id=county.tenant.id,
                case_id=case_id,
                deadline_key=plan.deadline_key,
                due_at=plan.due_at,
                alert=alert,
                now=now,
            ),
        )
        assert result.raised


async def _deadline_case(client: httpx.AsyncClient, county: County) -> dict[str, object]:
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": "first_child_registration",
            "org_unit_code": county.units["v11"],
            "received_at": "2026-02-12T10:00:00+08:00",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_deadline_ladder_tells_the_assignee_then_the_township_then_the_county_supervisor(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    supervisor = await sign_in(a, "t1.sup")
    case = await _deadline_case(supervisor, a)
    await _assign(supervisor, case, a.users["v11.coord"].id)
    case_id = uuid.UUID(str(case["id"]))
    number = case["number"]
    await _raise(database, a, case_id, AlertKind.reminder, 0)
    await _raise(database, a, case_id, AlertKind.overdue, 1)
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"v11.coord"}
    assert len(notified["v11.coord"]) == 3  # the assignment, the reminder and the overdue notice
    assert all(str(number) in title for title in notified["v11.coord"])
    await _raise(database, a, case_id, AlertKind.escalation, 2)
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"v11.coord", "t1.sup"}
    assert "township supervisor" in notified["t1.sup"][0]
    await _raise(database, a, case_id, AlertKind.escalation, 3)
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"v11.coord", "t1.sup", "county.sup"}
    assert "county supervisor" in notified["county.sup"][0]
    assert _who(await told(sign_in, b, *EVERYONE)) == set()
    for titles in notified.values():
        assert not any(ID_NUMBER.search(title) for title in titles)


async def test_an_unassigned_case_reminds_the_officers_of_its_township(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = people.a
    case = await _deadline_case(await sign_in(a, "county.sup"), a)
    await _raise(database, a, uuid.UUID(str(case["id"])), AlertKind.reminder, 0)
    assert _who(await told(sign_in, a, *EVERYONE)) == {"t1.officer"}


async def test_notifications_are_ones_own_to_read_and_mark(people: TwoCounties, sign_in: SignIn) -> None:
    a, b = people.a, people.b
    supervisor = await sign_in(a, "t1.sup")
    await _assign(supervisor, await _case(supervisor, a), a.users["t1.officer"].id)
    await _assign(supervisor, await _case(supervisor, a), a.users["t1.officer"].id)
    officer = await sign_in(a, "t1.officer")
    assert (await officer.get("/api/v1/me/notifications/unread-count")).json() == {"unread": 2}
    first = (await officer.get("/api/v1/me/notifications")).json()["items"][0]
    for stranger in (await sign_in(a, "t2.officer"), await sign_in(b, "t1.officer")):
        assert (await stranger.post(f"/api/v1/me/notifications/{first['id']}/read")).status_code == 404
    read = await officer.post(f"/api/v1/me/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert (await officer.get("/api/v1/me/notifications/unread-count")).json() == {"unread": 1}
    unread = (await officer.get("/api/v1/me/notifications", params={"unread": "true"})).json()
    assert unread["total"] == 1 and unread["items"][0]["id"] != first["id"]
    assert (await officer.post("/api/v1/me/notifications/read-all")).json() == {"unread": 0}
    assert (await officer.get("/api/v1/me/notifications/unread-count")).json() == {"unread": 0}
