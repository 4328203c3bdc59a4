"""《计划生育三查登记册》 and the follow-up register through the registers API: one book per round (the period is
the round's window end), the rows of the caller's reach, identifiers masked for coordinators and in full for
officers, and an export recorded in the audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.core.clock import china_today
from backend.followups.rules import check_round_window
from backend.models import AuditEvent, ContraceptionMeasure
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, resident_id

TODAY = china_today()


async def test_the_check_register_shows_each_round_with_its_result_in_the_callers_reach(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    current = check_round_window(TODAY, 2)
    previous = check_round_window(current.start - timedelta(days=1), 2)
    number = resident_id(7)
    await village.person(service_county, "王芳", number=number)
    await village.person(service_county, "陈红", unit="v12")
    await village.sweep(service_county, previous.start)
    await village.sweep(service_county, TODAY)
    coordinator = await sign_in(service_county, "coord11")
    officer = await sign_in(service_county, "officer")
    (mine,) = (await coordinator.get("/api/v1/check-rounds", params={"window_from": current.end.isoformat()})).json()[
        "items"
    ]
    body = {
        "checked_on": TODAY.isoformat(),
        "pregnancy": "not_pregnant",
        "iud": "in_place",
        "gynaecology": "normal",
        "provider_name": "一镇计生服务站",
    }
    assert (await coordinator.post(f"/api/v1/check-rounds/{mine['id']}/result", json=body)).status_code == 201

    book = await coordinator.get(
        "/api/v1/registers/check-rounds",
        params={"period_from": current.end.isoformat(), "period_to": current.end.isoformat()},
    )
    assert book.status_code == 200, book.text
    page = book.json()
    assert page["title"] == "计划生育三查登记册"
    assert [column["header"] for column in page["columns"]][:6] == [
        "序号",
        "检查轮次",
        "姓名",
        "年龄",
        "身份证号",
        "对象类别",
    ]
    (row,) = page["items"]
    assert row["name"] == "王芳" and row["status"] == "已检" and row["iud"] == "环在位" and row["place"] == "本地"
    assert row["round"] == f"{current.year}年第{current.round}/2轮"
    assert row["resident_id"] == number[:6] + "********" + number[-4:]  # masked for a coordinator

    whole = (await officer.get("/api/v1/registers/check-rounds")).json()
    assert sorted((item["name"], item["status"]) for item in whole["items"]) == [
        ("王芳", "已检"),
        ("王芳", "应检"),
        ("陈红", "应检"),
        ("陈红", "应检"),
    ]
    assert {item["resident_id"] for item in whole["items"] if item["name"] == "王芳"} == {number}

    exported = await officer.get("/api/v1/registers/check-rounds", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["X-Register-Rows"] == "4"
    assert (
        "计划生育三查登记册" in exported.headers["Content-Disposition"]
        or "check-rounds" in exported.headers["Content-Disposition"]
    )
    changes = await village.rows(
        service_county,
        select(AuditEvent.changes).where(
            AuditEvent.action == "register.export", AuditEvent.entity_id == "check-rounds"
        ),
    )
    assert [change["rows"] for change in changes] == [4]


async def test_the_follow_up_register_lists_each_follow_up_with_its_visit(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    await village.person(service_county, "王芳", measure=ContraceptionMeasure.pill)
    await village.sweep(service_county, TODAY)
    coordinator = await sign_in(service_county, "coord11")
    (item,) = (await coordinator.get("/api/v1/followups")).json()["items"]
    visit = {
        "visited_on": TODAY.isoformat(),
        "method": "phone",
        "pregnancy": "not_pregnant",
        "contraception_measure": "pill",
    }
    assert (await coordinator.post(f"/api/v1/followups/{item['case_id']}/visit", json=visit)).status_code == 201

    (row,) = (await coordinator.get("/api/v1/registers/followup-visits")).json()["items"]
    assert (row["kind"], row["name"], row["method"], row["measure"], row["status"]) == (
        "服药对象随访",
        "王芳",
        "电话",
        "口服药",
        "已随访",
    )
    assert row["visited_on"] == TODAY.isoformat()
