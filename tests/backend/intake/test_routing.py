"""After commit: routing to the county and township, person matching, exactly one triage case per
notification, the holding queue for counties not on this instance; then the officer's verify, accept
(registry updated, follow-up opened) or reject (reason readable by the department); reconciliation."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.intake.routing import IntakeRouter
from backend.models import AuditEvent, Case, IntakeTriage, Person, PersonChild
from tests.backend.intake.conftest import AddPerson, MakeClient, birth, new_resident_id, residence
from tests.fixtures.database import TenantFactory, unique_county_code
from tests.fixtures.identity import County, SignIn


async def _submit(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post("/api/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return response.json()


async def _triage_cases(database: Database, county: County) -> list[Case]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(Case).where(Case.case_type == "department_notification").order_by(Case.received_at)
        return list((await session.execute(statement)).scalars().all())


async def test_a_routed_notification_opens_one_triage_case_at_the_township_with_the_matched_person(
    county: County, make_client: MakeClient, add_person: AddPerson, router: IntakeRouter, database: Database
) -> None:
    police = await make_client("police")
    resident_id = new_resident_id()
    person = await add_person(county, "王芳", resident_id)
    body = residence(county.code, person={"resident_id": resident_id, "name": "王芳"})
    accepted = await _submit(police.http, body)
    await router.drain()
    await _submit(police.http, body)  # a replay after routing changes nothing
    await router.drain()
    status = (await police.http.get(accepted["status_url"])).json()
    assert status["status"] == "case_opened"
    assert status["township_code"] == county.units["t1"]
    assert status["case_number"]
    cases = await _triage_cases(database, county)
    assert len(cases) == 1
    assert cases[0].org_unit_code == county.units["t1"]
    assert cases[0].primary_person_id == person.id


async def test_concurrent_routers_open_exactly_one_case_per_notification(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police = await make_client("police")
    items = [residence(county.code) for _ in range(60)]
    response = await police.http.post("/api/v1/notifications:batch", json={"notifications": items})
    assert len(response.json()["accepted"]) == 60
    routers = [IntakeRouter(database) for _ in range(3)]
    await asyncio.gather(*(r.drain() for r in routers))
    cases = await _triage_cases(database, county)
    assert len(cases) == 60
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        triages = (await session.execute(select(func.count()).select_from(IntakeTriage))).scalar_one()
    assert triages == 60


async def test_a_county_not_on_this_instance_goes_to_the_holding_queue(
    county: County, make_client: MakeClient, router: IntakeRouter, api: httpx.AsyncClient, platform_headers: dict
) -> None:
    police = await make_client("police")
    absent_county = "110105" if county.code != "110105" else "110106"
    accepted = await _submit(police.http, residence(absent_county))
    await router.drain()
    status = (await police.http.get(accepted["status_url"])).json()
    assert status["status"] == "held"
    held = await api.get("/api/v1/platform/intake/held?limit=500", headers=platform_headers)
    assert held.status_code == 200
    assert accepted["id"] in {row["id"] for row in held.json()}
    assert (await police.http.get("/api/v1/platform/intake/held")).status_code == 403


async def _routed_case(police: httpx.AsyncClient, router: IntakeRouter, body: dict) -> tuple[dict, str]:
    accepted = await _submit(police, body)
    await router.drain()
    status = (await police.get(accepted["status_url"])).json()
    case_id = status and await _case_id_of(accepted["id"], router.database)
    return accepted, case_id


async def _case_id_of(notification_id: str, database: Database) -> str:
    from backend.db.tenancy import set_platform_context
    from backend.models import IntakeNotification

    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        notification = await session.get(IntakeNotification, uuid.UUID(notification_id))
        assert notification is not None and notification.case_id is not None
        return str(notification.case_id)


async def test_accepting_a_verified_arrival_updates_the_residence_and_opens_a_certificate_inspection(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    router: IntakeRouter,
    sign_in: SignIn,
    database: Database,
) -> None:
    police = await make_client("police")
    resident_id = new_resident_id()
    person = await add_person(county, "王芳", resident_id)
    body = residence(county.code, person={"resident_id": resident_id, "name": "王芳"}, address="新地址9号")
    accepted, case_id = await _routed_case(police.http, router, body)
    officer = await sign_in(county, "officer")
    triage = await officer.get(f"/api/v1/intake/triages/{case_id}")
    assert triage.status_code == 200
    assert triage.json()["matches"] == {"person": str(person.id)}
    assert triage.json()["payload"]["person"]["resident_id"] == resident_id
    early = await officer.post(f"/api/v1/intake/triages/{case_id}/accept")
    assert early.status_code == 409  # verify first
    assert (await officer.post(f"/api/v1/intake/triages/{case_id}/verify")).status_code == 200
    done = await officer.post(f"/api/v1/intake/triages/{case_id}/accept")
    assert done.status_code == 200, done.text
    assert len(done.json()["follow_up_case_ids"]) == 1
    status = (await police.http.get(accepted["status_url"])).json()
    assert status["status"] == "verified"
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        stored = await session.get(Person, person.id)
        assert stored is not None
        assert stored.residence_address == "新地址9号"
        assert stored.residence_division_code == body["residence_division_code"]
        follow_up = await session.get(Case, uuid.UUID(done.json()["follow_up_case_ids"][0]))
        assert follow_up is not None and follow_up.case_type == "certificate_inspection"
    again = await officer.post(f"/api/v1/intake/triages/{case_id}/reject", json={"reason": "重复"})
    assert again.status_code == 409


async def test_an_accepted_birth_adds_the_child_to_the_mother(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    router: IntakeRouter,
    sign_in: SignIn,
    database: Database,
) -> None:
    health = await make_client("health")
    mother_id = new_resident_id()
    mother = await add_person(county, "李娟", mother_id)
    _, case_id = await _routed_case(health.http, router, birth(county.code, mother_id))
    officer = await sign_in(county, "officer")
    await officer.post(f"/api/v1/intake/triages/{case_id}/verify")
    assert (await officer.post(f"/api/v1/intake/triages/{case_id}/accept")).status_code == 200
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        children = (
            (await session.execute(select(PersonChild).where(PersonChild.person_id == mother.id))).scalars().all()
        )
    assert [(child.birth_order, child.birth_date.isoformat()) for child in children] == [(1, "2026-11-10")]


async def test_a_rejection_reason_reaches_the_department(
    county: County, make_client: MakeClient, router: IntakeRouter, sign_in: SignIn
) -> None:
    police = await make_client("police")
    accepted, case_id = await _routed_case(police.http, router, residence(county.code))
    officer = await sign_in(county, "officer")
    missing = await officer.post(f"/api/v1/intake/triages/{case_id}/reject", json={})
    assert missing.status_code == 422
    rejected = await officer.post(
        f"/api/v1/intake/triages/{case_id}/reject", json={"reason": "经核实此人未在本辖区居住"}
    )
    assert rejected.status_code == 200, rejected.text
    status = (await police.http.get(accepted["status_url"])).json()
    assert status["status"] == "rejected"
    assert status["rejection_reason"] == "经核实此人未在本辖区居住"


async def test_an_officer_of_another_township_cannot_see_the_triage(
    county: County, make_client: MakeClient, router: IntakeRouter, sign_in: SignIn, database: Database
) -> None:
    from backend.authz.vocabulary import Role
    from tests.fixtures.identity import add_user

    await add_user(database, county, "officer2", "t2", [(Role.township_officer, "t2")])
    police = await make_client("police")
    _, case_id = await _routed_case(police.http, router, residence(county.code))
    other = await sign_in(county, "officer2")
    assert (await other.get(f"/api/v1/intake/triages/{case_id}")).status_code == 404
    assert (await other.post(f"/api/v1/intake/triages/{case_id}/verify")).status_code == 404


async def test_monthly_reconciliation_counts_each_state_as_json_and_xlsx(
    county: County, make_client: MakeClient, router: IntakeRouter, sign_in: SignIn
) -> None:
    from backend.core.clock import CHINA, utc_now

    police = await make_client("police")
    routed = [await _routed_case(police.http, router, residence(county.code)) for _ in range(3)]
    await _submit(police.http, residence("110105"))
    await router.drain()
    officer = await sign_in(county, "officer")
    await officer.post(f"/api/v1/intake/triages/{routed[0][1]}/verify")
    await officer.post(f"/api/v1/intake/triages/{routed[0][1]}/accept")
    await officer.post(f"/api/v1/intake/triages/{routed[1][1]}/reject", json={"reason": "信息不符"})
    month = utc_now().astimezone(CHINA).strftime("%Y-%m")
    rows = (await police.http.get(f"/api/v1/intake/reconciliation?month={month}")).json()
    assert rows == [
        {
            "department": "police",
            "client_id": police.client_id,
            "month": month,
            "received": 4,
            "routed": 3,
            "accepted": 1,
            "rejected": 1,
            "pending": 1,
            "held": 1,
        }
    ]
    xlsx = await police.http.get(f"/api/v1/intake/reconciliation?month={month}&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert values == [["police", police.client_id, month, 4, 3, 1, 1, 1, 1]]


async def test_held_notifications_are_routed_once_their_county_joins(
    make_client: MakeClient,
    router: IntakeRouter,
    api: httpx.AsyncClient,
    platform_headers: dict[str, str],
    tenant_factory: TenantFactory,
    database: Database,
) -> None:
    police = await make_client("police")
    joining = unique_county_code()
    accepted = await _submit(police.http, residence(joining))
    await router.drain()
    assert (await police.http.get(accepted["status_url"])).json()["status"] == "held"
    tenant = await tenant_factory(code=joining)
    released = await api.post("/api/v1/platform/intake/held/release", headers=platform_headers)
    assert released.status_code == 200 and released.json()["released"] >= 1
    await router.drain()
    status = (await police.http.get(accepted["status_url"])).json()
    assert status["status"] == "case_opened"
    assert status["township_code"] is None  # the new county has no township 001 yet: the county root
    assert tenant.code == joining


async def test_accepting_a_cancelled_residence_marks_the_person_departed(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    router: IntakeRouter,
    sign_in: SignIn,
    database: Database,
) -> None:
    police = await make_client("police")
    resident_id = new_resident_id()
    person = await add_person(county, "王芳", resident_id)
    body = residence(
        county.code,
        type="residence_cancelled",
        person={"resident_id": resident_id, "name": "王芳"},
        cancelled_on="2026-11-05",
        reason="迁离本地",
    )
    del body["registered_on"]
    _, case_id = await _routed_case(police.http, router, body)
    officer = await sign_in(county, "officer")
    await officer.post(f"/api/v1/intake/triages/{case_id}/verify")
    assert (await officer.post(f"/api/v1/intake/triages/{case_id}/accept")).status_code == 200
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        stored = await session.get(Person, person.id)
        assert stored is not None and stored.status == "departed"


async def test_accepting_a_marriage_links_the_matched_spouses(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    router: IntakeRouter,
    sign_in: SignIn,
    database: Database,
) -> None:
    civil = await make_client("civil_affairs")
    husband_id, wife_id = new_resident_id("male"), new_resident_id()
    husband = await add_person(county, "李强", husband_id)
    wife = await add_person(county, "王芳", wife_id)
    body = {
        "transaction_id": f"MZ-{uuid.uuid4().hex[:12]}",
        "type": "marriage_registered",
        "source_record_id": "JH-1",
        "issuing_office": "某区民政局婚姻登记处",
        "address": "某某路3号",
        "husband": {"resident_id": husband_id, "name": "李强"},
        "wife": {"resident_id": wife_id, "name": "王芳"},
        "certificate_number": "J-1",
        "registered_on": "2026-11-03",
        "residence_division_code": county.units["t1"],
    }
    _, case_id = await _routed_case(civil.http, router, body)
    officer = await sign_in(county, "officer")
    await officer.post(f"/api/v1/intake/triages/{case_id}/verify")
    assert (await officer.post(f"/api/v1/intake/triages/{case_id}/accept")).status_code == 200
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        stored_husband = await session.get(Person, husband.id)
        stored_wife = await session.get(Person, wife.id)
    assert stored_husband is not None and stored_wife is not None
    assert (stored_husband.marital_status, stored_husband.spouse_id) == ("first_marriage", wife.id)
    assert (stored_wife.marital_status, stored_wife.spouse_id) == ("first_marriage", husband.id)


async def test_accepting_a_cancelled_residence_notifies_the_registration_county(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    router: IntakeRouter,
    sign_in: SignIn,
    database: Database,
) -> None:
    """The departure reaches the registration county as when an officer records it (离开通报): here that county
    is off the platform, so the county's log records the notice that could not be sent."""
    police = await make_client("police")
    resident_id = new_resident_id()
    person = await add_person(county, "王芳", resident_id)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.registration_division_code = "650102001"
    body = residence(
        county.code,
        type="residence_cancelled",
        person={"resident_id": resident_id, "name": "王芳"},
        cancelled_on="2026-11-05",
        reason="迁离本地",
    )
    del body["registered_on"]
    _, case_id = await _routed_case(police.http, router, body)
    officer = await sign_in(county, "officer")
    await officer.post(f"/api/v1/intake/triages/{case_id}/verify")
    assert (await officer.post(f"/api/v1/intake/triages/{case_id}/accept")).status_code == 200
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        events = await session.execute(
            select(AuditEvent.changes).where(
                AuditEvent.tenant_id == county.tenant.id,
                AuditEvent.entity_id == str(person.id),
                AuditEvent.action == "verification.notice_not_sent",
            )
        )
        changes = events.scalars().all()
    assert [change["question_type"][1] for change in changes] == ["inflow_left"]
