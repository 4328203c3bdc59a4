"""Statistical reports (统计报表) of the scripted county: rows per unit with subtotals against the hand count, the FP
statistical year's edge, publishing (frozen), corrections as new versions, the XLSX file and who may do what."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from backend.audit import service as audit
from backend.core.clock import clock
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, CaseOutcome, CertificateStatus, FlowDirection, IntakeTriage, Sex
from tests.backend.reports.scenario import (
    Scripted,
    at,
    case_row,
    certificate_row,
    inspection_row,
    person_row,
    write,
)
from tests.fixtures.identity import SignIn

MARCH = {"period": "2026-03"}


@pytest.fixture
async def with_extras(scripted: Scripted, database: Database) -> Scripted:
    """What the KPI scenario lacks for a report: arrivals and departures in March, a certificate issued and
    inspected, a contraception report, a re-birth approval and two department notifications."""
    a = scripted.a
    arrived = person_row(a, "甲十", "v21", sex=Sex.male, flow_date=date(2026, 3, 15))
    left = person_row(a, "甲十一", "v11", direction=FlowDirection.outflow, flow_date=date(2026, 3, 20))
    await write(database, a, [arrived, left])
    certificate = certificate_row(a, arrived, "Z10", date(2026, 3, 5), date(2029, 3, 5), CertificateStatus.valid)
    await write(database, a, [certificate])
    await write(database, a, [inspection_row(a, certificate, date(2026, 3, 6))])
    done = CaseOutcome.completed
    report = case_row(a, "contraception_report", "CR1", "v11", due=None, closed=at(8), outcome=done)
    rebirth = case_row(a, "rebirth_approval", "RB1", "v12", due=None, closed=at(9), outcome=CaseOutcome.registered)
    triage_case = case_row(a, "department_notification", "DN1", "v11", due=None)
    await write(database, a, [report, rebirth, triage_case])
    await write(
        database,
        a,
        [
            IntakeTriage(
                id=uuid.uuid4(),
                tenant_id=a.tenant.id,
                notification_id=uuid.uuid4(),
                case_id=triage_case.id,
                notification_type="birth",
                department="health",
                payload_encrypted=b"x",
                matches={},
                decision=decision,
                decided_at=at(day + 1) if decision else None,
                created_at=at(day),
            )
            for day, decision in ((2, "verified"), (3, "rejected"))
        ],
    )
    # A departure recorded on 12 March (the audit log is written at the clock's time).
    clock.offset = at(12).astimezone(UTC) - datetime.now(UTC)
    try:
        actor_var.set(SYSTEM_ACTOR)
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, a.tenant.id)
            await audit.record(
                session,
                action="person.depart",
                entity_type="person",
                entity_id=uuid.uuid4(),
                org_unit_code=a.units["v12"],
            )
    finally:
        clock.reset()
    return scripted


def _nonzero(report: dict[str, Any]) -> list[tuple[str, str, dict[str, int]]]:
    return [
        (row["unit_code"], row["row_kind"], {key: value for key, value in row["values"].items() if value})
        for row in report["rows"]
    ]


async def test_the_monthly_report_matches_the_hand_count(with_extras: Scripted, sign_in: SignIn) -> None:
    a = with_extras.a
    client = await sign_in(a, "county.sup")
    response = await client.get("/api/v1/reports/month", params=MARCH)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["version"] is None and report["period"]["key"] == "2026-03"
    v11 = {
        "inflow_total": 3,  # p1 p2 p4 (p6 arrives in April)
        "outflow_total": 1,  # 甲十一
        "new_outflow": 1,
        "first_child_registered": 2,
        "first_child_deferred": 1,
        "first_child_refused": 1,
        "checks_done": 1,  # c1 (c2 open)
        "contraception_reports": 1,
        "notifications_received": 2,
        "notifications_accepted": 1,
        "notifications_rejected": 1,
    }
    v12 = {"inflow_total": 1, "outflow_total": 2, "departures": 1, "rebirth_approved": 1}  # p5; p7 p8 (p9 left)
    t1_own = {"verification_sent": 2, "verification_answered": 2, "verification_late": 1}  # s1 s2; q1 q2; q2
    v21 = {"inflow_total": 2, "arrivals": 1, "certificates_issued": 1, "certificates_inspected": 1, "checks_done": 1}
    t2_own = {"verification_sent": 1, "verification_answered": 1}  # s3; q3

    def plus(*parts: dict[str, int]) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in parts:
            for key, value in part.items():
                total[key] = total.get(key, 0) + value
        return total

    u = a.units
    assert _nonzero(report) == [
        (u["v11"], "village", v11),
        (u["v12"], "village", v12),
        (u["t1"], "own_level", t1_own),
        (u["t1"], "township_subtotal", plus(v11, v12, t1_own)),
        (u["v21"], "village", v21),
        (u["t2"], "own_level", t2_own),
        (u["t2"], "township_subtotal", plus(v21, t2_own)),
        (a.code, "total", plus(v11, v12, t1_own, v21, t2_own)),
    ]
    names = [row["unit_name"] for row in report["rows"]]
    assert names[2:4] == ["一镇（本级）", "一镇小计"] and names[-1] == "甲县合计"
    township = (await client.get("/api/v1/reports/month", params={**MARCH, "unit": u["t2"]})).json()
    assert _nonzero(township) == [
        (u["v21"], "village", v21),
        (u["t2"], "own_level", t2_own),
        (u["t2"], "total", plus(v21, t2_own)),
    ]


async def test_the_fp_year_report_ends_on_30_september(scripted: Scripted, sign_in: SignIn, database: Database) -> None:
    a = scripted.a
    done = CaseOutcome.completed
    late_night = case_row(
        a, "pregnancy_check_round", "E1", "v11", due=None, closed=at(30, 9, hour=23, minute=30), outcome=done
    )
    after = case_row(
        a, "pregnancy_check_round", "E2", "v11", due=None, closed=at(1, 10, hour=0, minute=10), outcome=done
    )
    await write(database, a, [late_night, after])
    client = await sign_in(a, "county.sup")
    fy2026 = (await client.get("/api/v1/reports/fp_year", params={"period": "FY2026"})).json()
    fy2027 = (await client.get("/api/v1/reports/fp_year", params={"period": "FY2027"})).json()
    assert (fy2026["period"]["start"], fy2026["period"]["end"]) == ("2025-10-01", "2026-09-30")
    assert fy2026["rows"][-1]["values"]["checks_done"] == 3  # c1, c4 in March and E1
    assert fy2027["rows"][-1]["values"]["checks_done"] == 1  # E2
    year = (await client.get("/api/v1/reports/year", params={"period": "2026"})).json()
    quarter = (await client.get("/api/v1/reports/quarter", params={"period": "2026-Q3"})).json()
    assert (year["rows"][-1]["values"]["checks_done"], quarter["rows"][-1]["values"]["checks_done"]) == (4, 1)
    bad = await client.get("/api/v1/reports/quarter", params={"period": "2026-Q5"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["loc"] == ["query", "period"]


async def test_a_published_report_stays_as_published_and_a_correction_is_a_new_version(
    scripted: Scripted, sign_in: SignIn, database: Database
) -> None:
    a = scripted.a
    supervisor = await sign_in(a, "county.sup")
    first = await supervisor.post("/api/v1/reports/month/publish", json=MARCH)
    assert first.status_code == 201, first.text
    published = first.json()
    assert (published["version"], published["published_by"], published["correction_reason"]) == (
        1,
        "county.sup (county.sup)",
        None,
    )
    assert published["rows"][-1]["values"]["checks_done"] == 2
    # New events after publishing: another check round done in March.
    await write(
        database,
        a,
        [case_row(a, "pregnancy_check_round", "C5", "v11", due=None, closed=at(25), outcome=CaseOutcome.completed)],
    )
    again = (await supervisor.get(f"/api/v1/reports/published/{published['id']}")).json()
    assert again == published
    live = (await supervisor.get("/api/v1/reports/month", params=MARCH)).json()
    assert live["rows"][-1]["values"]["checks_done"] == 3
    refused = await supervisor.post("/api/v1/reports/month/publish", json=MARCH)
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "correction_reason"]
    corrected = await supervisor.post(
        "/api/v1/reports/month/publish", json={**MARCH, "correction_reason": "补录3月25日三查记录"}
    )
    assert corrected.status_code == 201, corrected.text
    second = corrected.json()
    assert (second["version"], second["supersedes_id"], second["correction_reason"]) == (
        2,
        published["id"],
        "补录3月25日三查记录",
    )
    assert second["rows"][-1]["values"]["checks_done"] == 3
    assert (await supervisor.get(f"/api/v1/reports/published/{published['id']}")).json() == published
    listed = (await supervisor.get("/api/v1/reports/published", params={"kind": "month"})).json()
    assert [(item["version_number"], item["period_key"]) for item in listed["items"]] == [
        (2, "2026-03"),
        (1, "2026-03"),
    ]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        events = (
            await session.execute(
                AuditEvent.__table__.select()
                .where(AuditEvent.tenant_id == a.tenant.id, AuditEvent.action == "report.publish")
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [(event.changes["version"], event.reason) for event in events] == [(1, None), (2, "补录3月25日三查记录")]


async def test_the_xlsx_is_a4_landscape_with_frozen_headers_and_the_footer(scripted: Scripted, sign_in: SignIn) -> None:
    a = scripted.a
    supervisor = await sign_in(a, "county.sup")
    published = (await supervisor.post("/api/v1/reports/month/publish", json=MARCH)).json()
    response = await supervisor.get(f"/api/v1/reports/published/{published['id']}", params={"format": "xlsx"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert (sheet.page_setup.orientation, str(sheet.page_setup.paperSize)) == ("landscape", "9")
    assert sheet.freeze_panes == "B5" and sheet.print_title_rows == "$3:$4"
    assert sheet.oddFooter.left.text == "制表单位：甲县" and sheet.oddFooter.right.text.startswith("制表日期：")
    assert sheet["A1"].value == "甲县流动人口计划生育服务管理统计报表（2026年3月）"
    assert "已发布 第1版" in sheet["A2"].value
    cells = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3, max_row=4)]
    assert cells[0][0] == "单位" and cells[0][1] == "流动人口" and cells[1][1] == "流入人口"
    total_row = next(row for row in sheet.iter_rows(min_row=5) if row[0].value == "甲县合计")
    headers = cells[1]
    assert total_row[headers.index("三查到位")].value == 2
    assert any(str(row[0].value or "").startswith("制表单位：") for row in sheet.iter_rows(min_row=5))
    live = await supervisor.get("/api/v1/reports/month", params={**MARCH, "format": "xlsx"})
    assert "未发布" in load_workbook(io.BytesIO(live.content)).active["A2"].value  # type: ignore[index]


async def test_who_may_read_and_publish_which_report(scripted: Scripted, sign_in: SignIn) -> None:
    a, b = scripted.a, scripted.b
    coordinator = await sign_in(a, "v11.coord")
    own = await coordinator.get("/api/v1/reports/month", params=MARCH)
    assert own.status_code == 200 and own.json()["unit_code"] == a.units["v11"]
    assert [row["row_kind"] for row in own.json()["rows"]] == ["total"]
    for unit in (a.code, a.units["t1"], a.units["v12"], b.units["v11"]):
        assert (await coordinator.get("/api/v1/reports/month", params={**MARCH, "unit": unit})).status_code == 404
    assert (await coordinator.post("/api/v1/reports/month/publish", json=MARCH)).status_code == 403
    officer = await sign_in(a, "t1.officer")
    assert (
        await officer.post("/api/v1/reports/month/publish", json={**MARCH, "unit": a.units["t1"]})
    ).status_code == 403
    township = await sign_in(a, "t1.sup")
    assert (
        await township.post("/api/v1/reports/month/publish", json={**MARCH, "unit": a.units["t1"]})
    ).status_code == 201
    assert (await township.post("/api/v1/reports/month/publish", json={**MARCH, "unit": a.code})).status_code == 404
    supervisor = await sign_in(a, "county.sup")
    county = (await supervisor.post("/api/v1/reports/month/publish", json=MARCH)).json()
    # The township's supervisor sees her township's version, not the county's; the other county sees neither.
    listed = (await township.get("/api/v1/reports/published")).json()["items"]
    assert [item["org_unit_code"] for item in listed] == [a.units["t1"]]
    assert (await township.get(f"/api/v1/reports/published/{county['id']}")).status_code == 404
    other = await sign_in(b, "county.sup")
    assert (await other.get(f"/api/v1/reports/published/{county['id']}")).status_code == 404
    assert (await other.get("/api/v1/reports/published")).json()["items"] == []
    admin = await sign_in(a, "admin")
    assert (await admin.get("/api/v1/reports/month", params=MARCH)).status_code == 403
