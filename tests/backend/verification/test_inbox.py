"""The responder's inbox as a queue: filtered in SQL by subtree, state, overdue and assignee; assignment by a
supervisor to someone who may answer; alerts for the caller's units only."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import update

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import VerificationAlert, VerificationRequest
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import SignIn


async def _send(client: httpx.AsyncClient, case_id: str, township: str, name: str) -> dict[str, object]:
    response = await client.post(
        "/api/v1/verification/requests",
        json={"case_id": case_id, "subject_name": name, "responder_division_code": township, "question": "请核实"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def inbox(counties: TwoCounties, sign_in: SignIn) -> dict[str, dict[str, object]]:
    """Three requests from A to B: two to B's township t1, one to t2."""
    a, b = counties.a, counties.b
    officer = await sign_in(a, "county.sup")
    case = await officer.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v11"]})
    case_id = case.json()["id"]
    other = await officer.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v21"]})
    return {
        "t1-first": await _send(officer, case_id, b.units["t1"], "甲"),
        "t2": await _send(officer, case_id, b.units["t2"], "乙"),
        "t1-second": await _send(officer, other.json()["id"], b.units["t1"], "丙"),
    }


async def test_inbox_is_the_callers_subtree_filtered_by_state_and_overdue(
    counties: TwoCounties, sign_in: SignIn, database: Database, inbox: dict[str, dict[str, object]]
) -> None:
    b = counties.b
    county = await sign_in(b, "county.sup")
    assert (await county.get("/api/v1/verification/inbox")).json()["total"] == 3
    only_t2 = (await county.get("/api/v1/verification/inbox", params={"org_unit": b.units["t2"]})).json()
    assert [item["id"] for item in only_t2["items"]] == [inbox["t2"]["id"]]
    township = await sign_in(b, "t1.officer")
    mine = (await township.get("/api/v1/verification/inbox")).json()
    assert {item["id"] for item in mine["items"]} == {inbox["t1-first"]["id"], inbox["t1-second"]["id"]}
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        await session.execute(
            update(VerificationRequest)
            .where(VerificationRequest.id == uuid.UUID(str(inbox["t1-first"]["id"])))
            .values(responder_overdue=True)
        )
    overdue = (await township.get("/api/v1/verification/inbox", params={"overdue": "true"})).json()
    assert [item["id"] for item in overdue["items"]] == [inbox["t1-first"]["id"]]
    await township.post(f"/api/v1/verification/inbox/{inbox['t1-second']['id']}/answer", json={"answer": "属实"})
    pending = (await township.get("/api/v1/verification/inbox", params={"state": "pending"})).json()
    assert [item["id"] for item in pending["items"]] == [inbox["t1-first"]["id"]]


async def test_supervisor_assigns_only_to_someone_who_may_answer(
    counties: TwoCounties, sign_in: SignIn, inbox: dict[str, dict[str, object]]
) -> None:
    b = counties.b
    supervisor = await sign_in(b, "t1.sup")
    request_id = inbox["t1-first"]["id"]
    wrong = await supervisor.post(
        f"/api/v1/verification/inbox/{request_id}/assign", json={"assignee_id": str(b.users["t2.officer"].id)}
    )
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["loc"][-1] == "assignee_id"
    right = await supervisor.post(
        f"/api/v1/verification/inbox/{request_id}/assign", json={"assignee_id": str(b.users["t1.officer"].id)}
    )
    assert right.status_code == 200 and right.json()["responder_assignee_id"] == str(b.users["t1.officer"].id)
    officer = await sign_in(b, "t1.officer")
    assigned = (await officer.get("/api/v1/verification/inbox", params={"assignee": "me"})).json()
    assert [item["id"] for item in assigned["items"]] == [request_id]
    unassigned = (await officer.get("/api/v1/verification/inbox", params={"assignee": "none"})).json()
    assert [item["id"] for item in unassigned["items"]] == [inbox["t1-second"]["id"]]
    # An officer may not assign (case.assign); the other township's supervisor never sees it.
    assert (
        await officer.post(f"/api/v1/verification/inbox/{request_id}/assign", json={"assignee_id": None})
    ).status_code == 403


async def test_alerts_are_listed_for_the_callers_units_only(
    counties: TwoCounties, sign_in: SignIn, database: Database, inbox: dict[str, dict[str, object]]
) -> None:
    b = counties.b
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        for key, unit in (("t1-first", b.units["t1"]), ("t2", b.units["t2"])):
            session.add(
                VerificationAlert(
                    id=uuid.uuid4(),
                    tenant_id=b.tenant.id,
                    request_id=uuid.UUID(str(inbox[key]["id"])),
                    kind="overdue",
                    level=1,
                    recipient_unit_code=unit,
                    message="超期",
                    created_at=utc_now(),
                )
            )
    officer = await sign_in(b, "t1.officer")
    alerts = (await officer.get("/api/v1/verification/alerts")).json()
    assert [alert["request_id"] for alert in alerts] == [inbox["t1-first"]["id"]]
    requester = await sign_in(counties.a, "county.sup")
    assert (await requester.get("/api/v1/verification/alerts")).json() == []
