"""Outflow/inflow notices (流入/离开通报): county A registers an inflow person whose household registration is in
county B; B's registration township is notified in the same transaction and files the notice against its outflow
register (link the entry with the same ID number, or create it). Departure and return notify likewise; an
off-platform registration county gets nothing automatically, and A records that."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import VerificationRequest
from backend.persons.resident_id import check_character, mask_resident_id
from tests.backend.persons.test_import import row as import_row
from tests.backend.persons.test_import import to_csv, upload
from tests.backend.verification.conftest import OFF_PLATFORM_TOWNSHIP, CaseWork, TwoCounties, audit_actions
from tests.fixtures.identity import County, SignIn
from workflows.verification.types import verification_workflow_id


def resident_id(serial: int) -> str:
    first_17 = f"11010519900101{serial:03d}"
    return first_17 + check_character(first_17)


async def register(
    officer: httpx.AsyncClient, county: County, number: str, direction: str, **fields: Any
) -> httpx.Response:
    return await officer.post(
        "/api/v1/persons",
        json={
            "name": "周丽",
            "resident_id": number,
            "org_unit_code": county.units["v11"],
            "flow_direction": direction,
            **fields,
        },
    )


async def inbox_notice(officer: httpx.AsyncClient, correlation_id: str) -> dict[str, Any]:
    response = await officer.get("/api/v1/verification/inbox", params={"kind": "notice"})
    assert response.status_code == 200, response.text
    matches = [row for row in response.json()["items"] if row["correlation_id"] == correlation_id]
    assert len(matches) == 1, response.json()
    return dict(matches[0])


def sent_notice(response: httpx.Response) -> str:
    outcome, correlation_id, _ = response.headers["X-Flow-Notice"].split("; ")
    assert outcome == "sent"
    return correlation_id


async def test_inflow_registration_notifies_the_registration_county_which_links_its_outflow_entry(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    number = resident_id(11)
    officer_a, officer_b = await sign_in(a, "t1.officer"), await sign_in(b, "t1.officer")
    outflow = await register(officer_b, b, number, "outflow")
    assert outflow.status_code == 201, outflow.text
    registered = await register(
        officer_a, a, number, "inflow", registration_division_code=b.units["v11"], flow_date="2026-11-02"
    )
    assert registered.status_code == 201, registered.text
    correlation_id = sent_notice(registered)

    notice = await inbox_notice(officer_b, correlation_id)
    assert notice["question_type"] == "inflow_registered" and notice["state"] == "pending"
    assert notice["responder_unit_code"] == b.units["t1"] and notice["requester_county_code"] == a.code
    # Masked in the inbox list; in full on the one-notice view (audited: tests/security/test_full_identifiers.py).
    assert notice["subject_name"] == "周丽" and notice["subject_resident_id"] == mask_resident_id(number)
    assert "2026-11-02" in notice["question"] and a.units["t1"] in notice["question"]
    assert notice["case_id"] is None

    filed = await officer_b.post(f"/api/v1/verification/inbox/{notice['id']}/file", json={"action": "link"})
    assert filed.status_code == 200, filed.text
    assert filed.json()["filing"] == "linked" and filed.json()["person_id"] == outflow.json()["id"]
    assert filed.json()["notice"]["state"] == "answered"
    entry = (await officer_b.get(f"/api/v1/persons/{outflow.json()['id']}")).json()
    assert entry["flow_direction"] == "outflow" and entry["flow_origin_destination"].startswith("流入")
    assert correlation_id in entry["notes"]

    # Each side audits on its own chain under the notice's correlation id.
    assert await audit_actions(database, a, correlation_id) == ["verification.notice"]
    assert await audit_actions(database, b, correlation_id) == ["person.update", "verification.file"]
    # Neither county reads the other's person; a filed notice cannot be filed again.
    assert (await officer_b.get(f"/api/v1/persons/{registered.json()['id']}")).status_code == 404
    assert (await officer_a.get(f"/api/v1/persons/{outflow.json()['id']}")).status_code == 404
    again = await officer_b.post(f"/api/v1/verification/inbox/{notice['id']}/file", json={"action": "link"})
    assert again.status_code == 409, again.text
    # A sees its notice in its outbox, answered.
    sent = (await officer_a.get("/api/v1/verification/outbox", params={"kind": "notice"})).json()["items"]
    assert [row["state"] for row in sent if row["correlation_id"] == correlation_id] == ["answered"]


async def test_without_an_outflow_entry_the_registration_county_creates_one_from_the_notice(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    number = resident_id(12)
    officer_a, officer_b = await sign_in(a, "t1.officer"), await sign_in(b, "t1.officer")
    registered = await register(officer_a, a, number, "inflow", registration_division_code=b.units["v11"])
    correlation_id = sent_notice(registered)
    notice = await inbox_notice(officer_b, correlation_id)

    link = await officer_b.post(f"/api/v1/verification/inbox/{notice['id']}/file", json={"action": "link"})
    assert link.status_code == 422, link.text
    created = await officer_b.post(
        f"/api/v1/verification/inbox/{notice['id']}/file",
        json={"action": "create", "org_unit_code": b.units["v11"], "note": "电话核实 / confirmed by phone"},
    )
    assert created.status_code == 200, created.text
    assert created.json()["filing"] == "created"
    entry = (await officer_b.get(f"/api/v1/persons/{created.json()['person_id']}")).json()
    assert entry["flow_direction"] == "outflow" and entry["org_unit_code"] == b.units["v11"]
    assert entry["resident_id"] is not None and entry["name"] == "周丽"
    assert entry["registration_division_code"] == b.units["v11"]
    assert "电话核实" in entry["notes"]
    assert await audit_actions(database, b, correlation_id) == ["verification.file"]
    # The new entry is B's alone.
    assert (await officer_a.get(f"/api/v1/persons/{created.json()['person_id']}")).status_code == 404
    # Where B already holds the ID number, creating a second record is refused: link it instead.
    await register(officer_b, b, resident_id(13), "outflow")
    second = await register(officer_a, a, resident_id(13), "inflow", registration_division_code=b.units["v11"])
    other = await inbox_notice(officer_b, sent_notice(second))
    refused = await officer_b.post(f"/api/v1/verification/inbox/{other['id']}/file", json={"action": "create"})
    assert refused.status_code == 422, refused.text
    assert (await officer_b.get(f"/api/v1/verification/inbox/{other['id']}")).json()["state"] == "pending"


async def test_an_off_platform_registration_place_gets_no_notice_and_the_county_records_that(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = counties.a
    officer_a = await sign_in(a, "t1.officer")
    registered = await register(
        officer_a, a, resident_id(21), "inflow", registration_division_code=OFF_PLATFORM_TOWNSHIP + "001"
    )
    assert registered.status_code == 201, registered.text
    outcome, correlation_id, county_code = registered.headers["X-Flow-Notice"].split("; ")
    assert (outcome, county_code) == ("off_platform", OFF_PLATFORM_TOWNSHIP[:6])
    assert await audit_actions(database, a, correlation_id) == ["verification.notice_not_sent"]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        rows = await session.scalar(
            select(func.count()).select_from(VerificationRequest).where(VerificationRequest.tenant_id == a.tenant.id)
        )
    assert rows == 0
    # A registration place inside the county itself, and an outflow person, notify nobody.
    local = await register(officer_a, a, resident_id(22), "inflow", registration_division_code=a.units["v21"])
    assert local.status_code == 201, local.text
    assert "X-Flow-Notice" not in local.headers
    outflow = await register(officer_a, a, resident_id(23), "outflow")
    assert outflow.status_code == 201 and "X-Flow-Notice" not in outflow.headers


async def test_leaving_and_returning_notify_the_registration_county_which_updates_its_outflow_entry(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    number = resident_id(31)
    officer_a, officer_b = await sign_in(a, "t1.officer"), await sign_in(b, "t1.officer")
    outflow = await register(officer_b, b, number, "outflow")
    registered = await register(officer_a, a, number, "inflow", registration_division_code=b.units["v11"])
    first = await inbox_notice(officer_b, sent_notice(registered))
    assert (await officer_b.post(f"/api/v1/verification/inbox/{first['id']}/file", json={"action": "link"})).is_success

    departed = await officer_a.post(
        f"/api/v1/persons/{registered.json()['id']}/depart",
        json={"departed_on": "2026-11-20", "reason": "返回户籍地 / went home"},
    )
    assert departed.status_code == 200, departed.text
    left_id = sent_notice(departed)
    left = await inbox_notice(officer_b, left_id)
    assert left["question_type"] == "inflow_left" and "2026-11-20" in left["question"]
    filed = await officer_b.post(f"/api/v1/verification/inbox/{left['id']}/file", json={"action": "link"})
    assert filed.status_code == 200, filed.text
    entry = (await officer_b.get(f"/api/v1/persons/{outflow.json()['id']}")).json()
    assert entry["flow_origin_destination"].startswith("已离开") and left_id in entry["notes"]
    assert await audit_actions(database, a, left_id) == ["verification.notice"]
    assert await audit_actions(database, b, left_id) == ["person.update", "verification.file"]

    # She comes back: registering the departed record again notifies B once more.
    returned = await register(officer_a, a, number, "inflow", registration_division_code=b.units["v11"])
    assert returned.status_code == 200 and returned.json()["merged_into_existing"] is True, returned.text
    back = await inbox_notice(officer_b, sent_notice(returned))
    assert back["question_type"] == "inflow_registered"
    # Registering the same active record again (a correction) sends nothing new.
    corrected = await register(officer_a, a, number, "inflow", registration_division_code=b.units["v11"], notes="x")
    assert corrected.status_code == 200 and "X-Flow-Notice" not in corrected.headers


async def test_a_notice_without_a_case_runs_its_deadline_workflow_until_it_is_filed(
    counties: TwoCounties, sign_in: SignIn, casework: CaseWork
) -> None:
    a, b = counties.a, counties.b
    officer_a, officer_b = await sign_in(a, "t1.officer"), await sign_in(b, "t1.officer")
    registered = await register(officer_a, a, resident_id(41), "inflow", registration_division_code=b.units["v11"])
    correlation_id = sent_notice(registered)
    await casework.drain(a.tenant.id)
    handle = casework.client.get_workflow_handle(verification_workflow_id(correlation_id))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    notice = await inbox_notice(officer_b, correlation_id)
    created = await officer_b.post(f"/api/v1/verification/inbox/{notice['id']}/file", json={"action": "create"})
    assert created.status_code == 200, created.text
    await casework.drain(b.tenant.id)
    await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_registering_through_the_page_notifies_the_registration_county_as_the_api_does(
    counties: TwoCounties, sign_in: SignIn
) -> None:
    a, b = counties.a, counties.b
    officer_a, officer_b = await sign_in(a, "t1.officer"), await sign_in(b, "t1.officer")
    number = resident_id(51)
    response = await officer_a.post(
        "/persons/new",
        data={
            "name": "孙倩",
            "resident_id": number,
            "org_unit_code": a.units["v11"],
            "flow_direction": "inflow",
            "registration_division_code": b.units["v11"],
        },
    )
    assert response.status_code == 303, response.text
    inbox = (await officer_b.get("/api/v1/verification/inbox", params={"kind": "notice"})).json()["items"]
    assert [(row["subject_name"], row["question_type"]) for row in inbox] == [("孙倩", "inflow_registered")]


async def test_a_bulk_import_notifies_the_registration_counties_like_one_by_one_registration(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    """Inflow persons created by `POST /persons:import` notify their registration county in the import's
    transaction: on the platform a notice in B's inbox, off it an audit record of what was not sent; a person
    registered in this county, or a dry run, notifies nobody."""
    a, b = counties.a, counties.b
    officer = await sign_in(a, "t1.officer")
    rows = [
        import_row(a, "周丽", resident_id(21), **{"户籍地区划代码": b.units["v11"]}),
        import_row(a, "吴敏", resident_id(22), **{"户籍地区划代码": OFF_PLATFORM_TOWNSHIP}),
        import_row(a, "郑红", resident_id(23), **{"户籍地区划代码": a.units["v21"]}),
    ]
    dry = await upload(officer, to_csv(rows), dry_run="true")
    assert dry.status_code == 200 and (dry.json()["notices_sent"], dry.json()["notices_not_sent"]) == (0, 0)
    report = await upload(officer, to_csv(rows))
    assert report.status_code == 200, report.text
    assert (report.json()["created"], report.json()["notices_sent"], report.json()["notices_not_sent"]) == (3, 1, 1)

    officer_b = await sign_in(b, "t1.officer")
    notices = (await officer_b.get("/api/v1/verification/inbox", params={"kind": "notice"})).json()["items"]
    assert [(item["subject_name"], item["question_type"]) for item in notices] == [("周丽", "inflow_registered")]
    assert await audit_actions(database, a, notices[0]["correlation_id"]) == ["verification.notice"]
