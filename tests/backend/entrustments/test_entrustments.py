"""Intra-county entrustment (县内委托, P21; issue #22 item 6) through the API: a township hands a case (and the
person) to another township of the same county; the receiver accepts (the case moves, unassigned, its deadline
running on, the workflow told through the outbox) or returns it (nothing moves); another county's unit cannot be
chosen; only the receiving township decides; both sides audited; the receiver notified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, OutboxMessage, Person
from tests.backend.cases.conftest import AddPerson
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

NOT_A_TOWNSHIP = "须为本县的其他乡镇（街道）/ must be another township of this county"


@dataclass
class Counties:
    a: County
    b: County


@pytest.fixture
async def counties(database: Database, tenant_factory: TenantFactory) -> Counties:
    a = await build_county(database, tenant_factory, "委托县")
    b = await build_county(database, tenant_factory, "邻县")
    for county in (a, b):
        await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
        await add_user(database, county, "v21.coord", "v21", [(Role.village_coordinator, "v21")])
        await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
        await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
        await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
        await add_user(database, county, "t2.sup", "t2", [(Role.township_supervisor, "t2")])
        await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    return Counties(a, b)


async def _open_case(client: httpx.AsyncClient, county: County, person: Person) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": county.units["v11"],
            "subjects": [{"person_id": str(person.id), "part": "applicant"}],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _entrust(
    client: httpx.AsyncClient, case: dict[str, Any], to_unit_code: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/entrustments/cases/{case['id']}",
        json={"version": case["version"], "to_unit_code": to_unit_code, "reason": "当事人现居住地在二街道", **body},
    )


async def _case_events(database: Database, county: County, entity_id: str) -> list[tuple[str, str | None]]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.org_unit_code)
            .where(AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.seq)
        )
        return [(action, unit) for action, unit in rows.all()]


async def test_the_receiving_township_accepts_and_the_case_and_person_move(
    counties: Counties, sign_in: SignIn, add_person: AddPerson, database: Database
) -> None:
    a = counties.a
    sender, supervisor = await sign_in(a, "t1.officer"), await sign_in(a, "t1.sup")
    receiver = await sign_in(a, "t2.officer")
    person = await add_person(a, "赵丽")
    case = await _open_case(sender, a, person)
    assigned = await supervisor.post(
        f"/api/v1/cases/{case['id']}/assign",
        json={"assignee_id": str(a.users["t1.officer"].id), "version": case["version"]},
    )
    assert assigned.status_code == 200, assigned.text
    case = assigned.json()

    sent = await _entrust(sender, case, a.units["t2"], include_person=True)
    assert sent.status_code == 201, sent.text
    entrustment = sent.json()
    assert (entrustment["state"], entrustment["from_unit_code"], entrustment["to_unit_code"]) == (
        "pending",
        a.units["v11"],
        a.units["t2"],
    )
    # While pending the sending township keeps and works the case; the receiver sees the hand-over, not the case.
    kept = (await sender.get(f"/api/v1/cases/{case['id']}")).json()
    assert (kept["org_unit_code"], kept["assignee_id"]) == (a.units["v11"], str(a.users["t1.officer"].id))
    assert (await receiver.get(f"/api/v1/cases/{case['id']}")).status_code == 404
    incoming = (await receiver.get("/api/v1/entrustments", params={"pending": "true"})).json()
    assert [item["case_number"] for item in incoming["items"]] == [case["number"]]
    told = (await receiver.get("/api/v1/me/notifications")).json()["items"]
    assert [(item["kind"], item["reference"], item["link"]) for item in told] == [
        ("case.entrustment_received", case["number"], "/entrustments")
    ]
    sender_told = (await sender.get("/api/v1/me/notifications")).json()["items"]
    assert "case.entrustment_received" not in [item["kind"] for item in sender_told]

    accepted = await receiver.post(
        f"/api/v1/entrustments/{entrustment['id']}/accept", json={"version": entrustment["version"]}
    )
    assert accepted.status_code == 200, accepted.text
    assert (
        accepted.json()["state"] == "accepted" and accepted.json()["decided_by"] == f"user:{a.users['t2.officer'].id}"
    )
    moved = (await receiver.get(f"/api/v1/cases/{case['id']}")).json()
    assert (moved["org_unit_code"], moved["assignee_id"]) == (a.units["t2"], None)
    # The stage deadline keeps running through the hand-over (P21 states no pause): same due date.
    assert (moved["due_at"], moved["stage"]) == (case["due_at"], case["stage"])
    assert (await sender.get(f"/api/v1/cases/{case['id']}")).status_code == 404
    assert (await receiver.get(f"/api/v1/persons/{person.id}")).json()["org_unit_code"] == a.units["t2"]
    assert (await receiver.get("/api/v1/me/notifications/unread-count")).json()["unread"] == 0
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        replans = await session.execute(select(OutboxMessage.payload).where(OutboxMessage.kind == "case.replan"))
        assert [payload["case_id"] for payload in replans.scalars()] == [case["id"]]
    case_events = [action for action, _unit in await _case_events(database, a, case["id"])]
    assert case_events[-2:] == ["case.entrust_requested", "case.entrusted"]
    assert await _case_events(database, a, entrustment["id"]) == [
        ("entrustment.request", a.units["t2"]),
        ("entrustment.accept", a.units["t2"]),
    ]
    assert [action for action, _unit in await _case_events(database, a, str(person.id))] == ["person.entrusted"]
    again = await receiver.post(f"/api/v1/entrustments/{entrustment['id']}/accept", json={"version": 2})
    assert (again.status_code, again.json()["error"]) == (409, "ENTRUSTMENT_CLOSED")


async def test_a_returned_hand_over_leaves_the_case_as_it_was(
    counties: Counties, sign_in: SignIn, add_person: AddPerson, database: Database
) -> None:
    a = counties.a
    sender, receiver = await sign_in(a, "t1.officer"), await sign_in(a, "t2.sup")
    case = await _open_case(sender, a, await add_person(a, "钱红"))
    entrustment = (await _entrust(sender, case, a.units["t2"])).json()
    url = f"/api/v1/entrustments/{entrustment['id']}/return"
    no_reason = await receiver.post(url, json={"version": entrustment["version"]})
    assert (no_reason.status_code, no_reason.json()["fields"][0]["loc"]) == (422, ["body", "reason"])
    returned = await receiver.post(url, json={"version": entrustment["version"], "reason": "当事人不在本辖区居住"})
    assert returned.status_code == 200, returned.text
    assert (returned.json()["state"], returned.json()["decision_reason"]) == ("returned", "当事人不在本辖区居住")
    after = (await sender.get(f"/api/v1/cases/{case['id']}")).json()
    assert {key: after[key] for key in ("org_unit_code", "assignee_id", "due_at", "stage")} == {
        key: case[key] for key in ("org_unit_code", "assignee_id", "due_at", "stage")
    }
    assert [action for action, _unit in await _case_events(database, a, case["id"])][-2:] == [
        "case.entrust_requested",
        "case.entrust_returned",
    ]
    # Returned, it may be entrusted again (to another township or the same one with better reasons).
    assert (await _entrust(sender, after, a.units["t2"])).status_code == 201


async def test_only_another_township_of_the_same_county_can_be_chosen(
    counties: Counties, sign_in: SignIn, add_person: AddPerson
) -> None:
    a, b = counties.a, counties.b
    sender = await sign_in(a, "t1.officer")
    case = await _open_case(sender, a, await add_person(a, "孙梅"))
    other_county = await _entrust(sender, case, b.units["t2"])
    assert other_county.status_code == 422
    assert other_county.json()["fields"] == [{"loc": ["body", "to_unit_code"], "msg": NOT_A_TOWNSHIP}]
    own = await _entrust(sender, case, a.units["t1"])
    assert own.json()["fields"] == [
        {"loc": ["body", "to_unit_code"], "msg": "不能委托给本乡镇（街道）/ a township cannot entrust a case to itself"}
    ]
    village = await _entrust(sender, case, a.units["v21"])
    assert (village.status_code, village.json()["fields"][0]["loc"]) == (422, ["body", "to_unit_code"])
    no_reason = await sender.post(
        f"/api/v1/entrustments/cases/{case['id']}", json={"version": case["version"], "to_unit_code": a.units["t2"]}
    )
    assert (no_reason.status_code, no_reason.json()["fields"][0]["loc"]) == (422, ["body", "reason"])
    stale = await _entrust(sender, {**case, "version": case["version"] + 1}, a.units["t2"])
    assert stale.status_code == 409
    assert (await _entrust(sender, case, a.units["t2"])).status_code == 201
    twice = await _entrust(sender, case, a.units["t2"])
    assert (twice.status_code, twice.json()["error"]) == (409, "ENTRUSTMENT_CLOSED")


# Who may send: the workers of the case's township (and the county above it); a village coordinator works the case
# but does not speak for the township; a sibling township and another county do not see the case at all.
SEND = [
    ("t1.officer", "own", 201),
    ("t1.sup", "own", 201),
    ("county.sup", "own", 201),
    ("v11.coord", "own", 422),
    ("t2.officer", "own", 404),
    ("t1.officer", "other_county", 404),
]
# Who may decide a hand-over to t2: its officer and supervisor, and the county above it; not the sending township
# (a sibling of the receiver), not a village coordinator under the receiver, not another county.
DECIDE = [
    ("t2.officer", "own", "accept", 200),
    ("t2.sup", "own", "return", 200),
    ("county.sup", "own", "accept", 200),
    ("t1.officer", "own", "accept", 404),
    ("t1.sup", "own", "return", 404),
    ("v21.coord", "own", "accept", 404),
    ("t2.officer", "other_county", "accept", 404),
]


@pytest.mark.parametrize(("user", "county_kind", "status"), SEND)
async def test_matrix_who_may_entrust(
    counties: Counties, sign_in: SignIn, add_person: AddPerson, user: str, county_kind: str, status: int
) -> None:
    a = counties.a
    case = await _open_case(await sign_in(a, "t1.officer"), a, await add_person(a, "周燕"))
    caller = await sign_in(a if county_kind == "own" else counties.b, user)
    assert (await _entrust(caller, case, a.units["t2"])).status_code == status


@pytest.mark.parametrize(("user", "county_kind", "decision", "status"), DECIDE)
async def test_matrix_who_may_decide(
    counties: Counties,
    sign_in: SignIn,
    add_person: AddPerson,
    user: str,
    county_kind: str,
    decision: str,
    status: int,
) -> None:
    a = counties.a
    sender = await sign_in(a, "t1.officer")
    entrustment = (
        await _entrust(sender, await _open_case(sender, a, await add_person(a, "吴静")), a.units["t2"])
    ).json()
    caller = await sign_in(a if county_kind == "own" else counties.b, user)
    body = {"version": entrustment["version"], "reason": "不在本辖区"}
    if decision == "accept":
        body.pop("reason")
    response = await caller.post(f"/api/v1/entrustments/{entrustment['id']}/{decision}", json=body)
    assert response.status_code == status, response.text
    seen = await caller.get(f"/api/v1/entrustments/{entrustment['id']}")
    assert seen.status_code == status
    listed = (await caller.get("/api/v1/entrustments")).json().get("items", [])
    assert (entrustment["id"] in [item["id"] for item in listed]) is (status == 200)
