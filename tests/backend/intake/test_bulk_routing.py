"""The router routes each county's notifications of a pass together (one insert per kind of row): every notification
one triage case, one triage copy, one workflow start in the outbox, one `case.open` event on a chain that still
verifies; and when the group fails, its notifications go one by one, so a bad one only delays itself."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
from sqlalchemy import select, update

from backend.audit import service as audit
from backend.authz.vocabulary import Role
from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.intake.routing import IntakeRouter, RouterSettings
from backend.models import AuditEvent, Case, IntakeNotification, IntakeTriage, OutboxMessage
from tests.backend.intake.conftest import AddPerson, MakeClient, new_resident_id, residence
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


async def _submit(client: httpx.AsyncClient, items: list[dict]) -> list[uuid.UUID]:
    response = await client.post("/api/v1/notifications:batch", json={"notifications": items})
    assert response.status_code == 202, response.text
    return [uuid.UUID(item["id"]) for item in response.json()["accepted"]]


async def _notifications(database: Database, ids: list[uuid.UUID]) -> dict[uuid.UUID, IntakeNotification]:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        rows = (await session.execute(select(IntakeNotification).where(IntakeNotification.id.in_(ids)))).scalars()
        return {row.id: row for row in rows.all()}


async def _county_rows(
    database: Database, county: County
) -> tuple[list[Case], list[IntakeTriage], Counter[str], list[AuditEvent], audit.ChainVerification]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        cases = list(
            (await session.execute(select(Case).where(Case.case_type == "department_notification"))).scalars().all()
        )
        triages = list((await session.execute(select(IntakeTriage))).scalars().all())
        starts = Counter(  # a start counts only with the case's first plan: its workflow reads nothing back
            message.payload["case_id"]
            for message in (await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "case.start")))
            .scalars()
            .all()
            if message.payload.get("plan", {}).get("stage") == "registration"
        )
        opened = list(
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "case.open").order_by(AuditEvent.seq)))
            .scalars()
            .all()
        )
        return cases, triages, starts, opened, await audit.verify_chain(session)


async def test_one_pass_routes_each_countys_notifications_together_exactly_once(
    county: County,
    make_client: MakeClient,
    add_person: AddPerson,
    database: Database,
    tenant_factory: TenantFactory,
) -> None:
    other = await build_county(database, tenant_factory, name="另一县")
    police = await make_client("police")
    known = new_resident_id()
    person = await add_person(county, "王芳", known)
    here = [residence(county.code, township=("001" if n % 2 else "002")) for n in range(29)]
    here.append(residence(county.code, person={"resident_id": known, "name": "王芳"}))
    there = [residence(other.code) for _ in range(20)]
    absent = "110105" if county.code != "110105" else "110106"
    ids = await _submit(police.http, [*here, *there, residence(absent)])

    await IntakeRouter(database, RouterSettings(batch_size=500)).drain()

    notifications = await _notifications(database, ids)
    statuses = Counter(row.status for row in notifications.values())
    assert statuses == {"case_opened": 50, "held": 1}
    for routed in (county, other):
        cases, triages, starts, opened, verification = await _county_rows(database, routed)
        mine = {row.case_id for row in notifications.values() if row.routed_tenant_id == routed.tenant.id}
        expected = 30 if routed is county else 20
        assert len(mine) == expected
        assert {case.id for case in cases} >= mine
        assert {triage.case_id for triage in triages if triage.notification_id in notifications} == mine
        assert all(starts[str(case_id)] == 1 for case_id in mine)
        assert {event.entity_id for event in opened} >= {str(case_id) for case_id in mine}
        assert verification.ok, verification
        numbers = [case.number for case in cases if case.id in mine]
        assert len(set(numbers)) == expected
        by_id = {case.id: case for case in cases}
        for row in notifications.values():
            if row.routed_tenant_id == routed.tenant.id:
                assert row.case_id is not None and by_id[row.case_id].number == row.case_number
                assert by_id[row.case_id].details["intake_notification_id"] == str(row.id)
    matched = notifications[ids[29]]
    cases, triages, *_ = await _county_rows(database, county)
    assert next(case for case in cases if case.id == matched.case_id).primary_person_id == person.id
    copy = next(triage for triage in triages if triage.notification_id == matched.id)
    assert copy.matches == {"person": str(person.id)}
    assert matched.township_code == county.units["t1"]


async def test_a_bad_notification_in_a_countys_group_only_delays_itself(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police = await make_client("police")
    ids = await _submit(police.http, [residence(county.code) for _ in range(10)])
    bad = ids[4]
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        await session.execute(
            update(IntakeNotification).where(IntakeNotification.id == bad).values(payload_encrypted=b"not a ciphertext")
        )

    before = utc_now()
    await IntakeRouter(database, RouterSettings(batch_size=500)).drain()

    notifications = await _notifications(database, ids)
    assert {row.status for row_id, row in notifications.items() if row_id != bad} == {"case_opened"}
    failed = notifications[bad]
    assert failed.status == "received" and failed.case_id is None
    assert failed.route_attempts == 1 and failed.route_error
    assert failed.available_at > before
    cases, triages, starts, _, verification = await _county_rows(database, county)
    routed = {row.case_id for row in notifications.values() if row.case_id is not None}
    assert len(routed) == 9 and routed <= {case.id for case in cases}
    assert bad not in {triage.notification_id for triage in triages}
    assert all(starts[str(case_id)] == 1 for case_id in routed)
    assert verification.ok, verification


async def test_a_groups_triage_notices_reach_each_townships_officers_once_per_case(
    county: County, make_client: MakeClient, database: Database, sign_in: SignIn
) -> None:
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    police = await make_client("police")
    ids = await _submit(police.http, [residence(county.code, township=("001" if n % 3 else "002")) for n in range(9)])

    await IntakeRouter(database, RouterSettings(batch_size=500)).drain()

    notifications = await _notifications(database, ids)
    expected = {
        unit: sorted(row.case_number or "" for row in notifications.values() if row.township_code == county.units[unit])
        for unit in ("t1", "t2")
    }
    assert len(expected["t1"]) == 6 and len(expected["t2"]) == 3
    for login, unit in (("officer", "t1"), ("t2.officer", "t2")):
        response = await (await sign_in(county, login)).get("/api/v1/me/notifications?size=100")
        assert response.status_code == 200, response.text
        told = sorted(item["reference"] for item in response.json()["items"] if item["kind"] == "intake.triage")
        assert told == expected[unit]
