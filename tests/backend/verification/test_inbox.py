"""The responder's inbox as a queue: filtered in SQL by subtree, state, overdue and assignee; assignment by a
supervisor to someone who may answer; alerts for the caller's units only."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, VerificationAlert, VerificationRequest
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


async def _export_events(database: Database, county_id: uuid.UUID) -> list[dict[str, object]]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county_id)
        events = await session.execute(
            select(AuditEvent.changes).where(AuditEvent.action == "verification.export").order_by(AuditEvent.seq)
        )
        return [dict(changes) for changes in events.scalars()]


async def test_the_inbox_and_the_outbox_download_as_files_within_reach_and_audited(
    counties: TwoCounties, sign_in: SignIn, database: Database, inbox: dict[str, dict[str, object]]
) -> None:
    a, b = counties.a, counties.b
    sender = await sign_in(a, "county.sup")
    case = await sender.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v11"]})
    with_id = await sender.post(
        "/api/v1/verification/requests",
        json={
            "case_id": case.json()["id"],
            "subject_name": "丁",
            "subject_resident_id": "11010519491231002X",
            "responder_division_code": b.units["t1"],
            "question": "请核实",
        },
    )
    assert with_id.status_code == 201, with_id.text

    township = await sign_in(b, "t1.officer")
    response = await township.get("/api/v1/verification/inbox", params={"format": "csv", "size": 1})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv") and response.headers["x-export-rows"] == "3"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["序号", "协查编号", "类型", "状态", "发起单位", "协查单位", "当事人"]
    # Paging does not apply; t2's request is outside the township officer's subtree.
    by_name = {row[6]: row for row in rows[1:]}
    assert set(by_name) == {"甲", "丙", "丁"}
    assert by_name["丁"][7] == '="11010519491231002X"'  # text in Excel and WPS, all 18 characters kept
    assert (await _export_events(database, b.tenant.id))[-1] == {
        "list": "verification-inbox",
        "format": "csv",
        "rows": 3,
        "rows_with_identifiers_in_full": 1,
        "filters": {},
    }

    outbox = await sender.get("/api/v1/verification/outbox", params={"format": "xlsx"})
    assert outbox.status_code == 200, outbox.text
    sheet = load_workbook(io.BytesIO(outbox.content)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[2]][:2] == ["序号", "协查编号"]
    assert sorted(row[6] for row in sheet.iter_rows(min_row=3, values_only=True)) == ["丁", "丙", "乙", "甲"]
    assert sheet.page_setup.orientation == "landscape" and "制表单位" in sheet.oddFooter.left.text
    exported = await _export_events(database, a.tenant.id)
    assert exported[-1]["list"] == "verification-outbox" and exported[-1]["rows"] == 4

    # The village coordinator exports registers but works no verification inbox: refused.
    village = await sign_in(b, "v11.coord")
    assert (await village.get("/api/v1/verification/inbox", params={"format": "csv"})).status_code == 403
