"""Complaints and reports (P18, issue #22 item 3) through the API: the complainant's identity shown only to the
handling officer and the county supervisor (「保密」 for everyone else, in lists too, and never in the case), anonymous
complaints, the prohibited-practice flag, the outcome and reply, and the reward of a verified 两非 report."""

from __future__ import annotations

from typing import Any

import httpx

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

ANONYMOUS_NAMED = "匿名投诉不登记姓名和联系方式 / an anonymous complaint records no name nor contact"
HOTLINE = {
    "channel": "hotline",
    "complainant_name": "陈小梅",
    "complainant_contact": "13800138000",
    "summary": "被要求回户籍地查环",
    "content": "我在本镇务工，计生办要求我回户籍地做环孕检，否则不给办婚育证明。",
}


def _body(county: County, **fields: Any) -> dict[str, Any]:
    return {"org_unit_code": county.units["t1"], **HOTLINE, **fields}


async def _record(client: httpx.AsyncClient, county: County, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/complaints", json=_body(county, **fields))
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_complainant_is_confidential_to_all_but_the_handling_officer_and_the_county_supervisor(
    county: County, sign_in: SignIn
) -> None:
    officer, colleague, supervisor, county_sup, auditor = [
        await sign_in(county, name) for name in ("t1.officer", "t1.colleague", "t1.sup", "county.sup", "auditor")
    ]
    recorded = await _record(colleague, county)
    complaint_id, case_id = recorded["id"], recorded["case_id"]
    # Recorded by the colleague, handled by nobody yet: even she reads 「保密」.
    assert (recorded["complainant_name"], recorded["complainant_contact"]) == ("保密", "保密")
    assert recorded["identity_visible"] is False
    # The case is titled by the complaint, never by who made it.
    case = (await officer.get(f"/api/v1/cases/{case_id}")).json()
    assert case["title"] == "投诉：被要求回户籍地查环" and "陈小梅" not in str(case)

    version = case["version"]
    assigned = await supervisor.post(
        f"/api/v1/cases/{case_id}/assign", json={"assignee_id": str(county.users["t1.officer"].id), "version": version}
    )
    assert assigned.status_code == 200, assigned.text

    readers = ((officer, True), (county_sup, True), (colleague, False), (supervisor, False), (auditor, False))
    for client, sees in readers:
        read = (await client.get(f"/api/v1/complaints/{complaint_id}")).json()
        listed = (await client.get("/api/v1/complaints")).json()["items"]
        assert [item["id"] for item in listed] == [complaint_id]
        for shown in (read, listed[0]):
            assert shown["identity_visible"] is sees
            assert shown["complainant_name"] == ("陈小梅" if sees else "保密")
            assert shown["complainant_contact"] == ("13800138000" if sees else "保密")
            assert shown["summary"] == HOTLINE["summary"]

    # Each reading of the identity is audited; the record of the complaint never holds it.
    events = (await auditor.get("/api/v1/audit/events", params={"entity_id": complaint_id})).json()
    assert [event["action"] for event in events].count("complaint.identity_read") == 2
    recorded_event = next(event for event in events if event["action"] == "complaint.record")
    assert "陈小梅" not in str(recorded_event) and "13800138000" not in str(recorded_event)


async def test_anonymous_complaints_and_the_identity_rules(county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "t1.officer")
    county_sup = await sign_in(county, "county.sup")
    anonymous = await _record(officer, county, anonymous=True, complainant_name=None, complainant_contact=None)
    read = (await county_sup.get(f"/api/v1/complaints/{anonymous['id']}")).json()
    assert (read["anonymous"], read["complainant_name"], read["complainant_contact"]) == (True, None, None)

    named_anonymous = await officer.post("/api/v1/complaints", json=_body(county, anonymous=True))
    assert named_anonymous.status_code == 422
    assert named_anonymous.json()["fields"] == [
        {"loc": ["body", "complainant_name"], "msg": ANONYMOUS_NAMED},
    ]
    nameless = await officer.post("/api/v1/complaints", json=_body(county, complainant_name=None))
    assert nameless.status_code == 422
    assert nameless.json()["fields"][0]["loc"] == ["body", "complainant_name"]
    assert "请填写投诉人姓名，或选择匿名" in nameless.json()["fields"][0]["msg"]
    bad_channel = await officer.post("/api/v1/complaints", json=_body(county, channel="wechat"))
    assert bad_channel.status_code == 422 and bad_channel.json()["fields"][0]["loc"] == ["body", "channel"]
    assert (await officer.get("/api/v1/complaints")).json()["total"] == 1  # nothing half-written


async def test_a_complaint_naming_a_prohibited_practice_is_flagged(county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "t1.officer")
    found = await _record(officer, county)  # 「回户籍地」 and 「不给办」 in its words
    assert found["practices"] == ["forced_return", "refusal_without_reason"] and found["flagged"] is True
    ticked = await _record(
        officer, county, summary="办证问题", content="离开时被要求交一笔钱才给开证明。", practices=["extra_fees"]
    )
    assert ticked["practices"] == ["extra_fees"]
    plain = await _record(officer, county, summary="咨询政策", content="想了解生育登记需要哪些材料。")
    assert plain["flagged"] is False
    flagged = (await officer.get("/api/v1/complaints", params={"flagged": "true"})).json()
    assert {item["id"] for item in flagged["items"]} == {found["id"], ticked["id"]}


async def test_outcome_reply_and_the_reward_of_a_verified_report(county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "t1.officer")
    report = await _record(
        officer,
        county,
        kind="liangfei_report",
        channel="mailbox",
        summary="某诊所做胎儿性别鉴定",
        content="镇东某诊所为孕妇做非医学需要的胎儿性别鉴定。",
    )
    complaint_id = report["id"]
    reward = f"/api/v1/complaints/{complaint_id}/reward"
    unpaid = await officer.post(reward, json={"version": 1, "paid_on": "2026-12-01"})
    assert unpaid.status_code == 409 and unpaid.json()["error"] == "REPORT_REWARD_NOT_DUE"
    undecided = await officer.post(
        f"/api/v1/complaints/{complaint_id}/reply", json={"version": 1, "outcome": "已移交卫生监督所查处"}
    )
    assert undecided.status_code == 422 and undecided.json()["fields"][0]["loc"] == ["body", "verified"]
    replied = await officer.post(
        f"/api/v1/complaints/{complaint_id}/reply",
        json={"version": 1, "outcome": "经查实，已移交查处", "reply": "已电话告知举报人", "verified": True},
    )
    assert replied.status_code == 200, replied.text
    assert (replied.json()["verified"], replied.json()["reward_amount"]) == (True, "10000.00")
    assert replied.json()["replied_at"] is not None
    stale = await officer.post(reward, json={"version": 1, "paid_on": "2026-12-01"})
    assert stale.status_code == 409 and stale.json()["error"] != "REPORT_REWARD_NOT_DUE"
    paid = await officer.post(
        reward, json={"version": replied.json()["version"], "paid_on": "2026-12-01", "reference": "JL-1"}
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["reward_paid_on"], paid.json()["reward_reference"]) == ("2026-12-01", "JL-1")
    again = await officer.post(reward, json={"version": paid.json()["version"], "paid_on": "2026-12-02"})
    assert again.status_code == 409 and again.json()["detail"] == "奖励已发放 / the reward was already paid"

    # A complaint (not a report) is not verified nor rewarded.
    complaint = await _record(officer, county)
    refused = await officer.post(
        f"/api/v1/complaints/{complaint['id']}/reply", json={"version": 1, "outcome": "已纠正", "verified": True}
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "verified"]


async def test_complaints_are_seen_only_within_reach_and_never_by_another_county(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    officer = await sign_in(county, "t1.officer")
    complaint = await _record(officer, county)
    sibling = await sign_in(county, "t2.officer")
    other = await build_county(database, tenant_factory, "邻县")
    await add_user(database, other, "other.sup", "county", [(Role.county_supervisor, "county")])
    stranger = await sign_in(other, "other.sup")
    for client in (sibling, stranger):
        assert (await client.get(f"/api/v1/complaints/{complaint['id']}")).status_code == 404
        assert (await client.get("/api/v1/complaints")).json()["total"] == 0
        reply = await client.post(f"/api/v1/complaints/{complaint['id']}/reply", json={"version": 1, "outcome": "越权"})
        assert reply.status_code in (403, 404)
    outside = await sibling.post("/api/v1/complaints", json=_body(county))
    assert outside.status_code == 422 and outside.json()["fields"][0]["loc"] == ["body", "org_unit_code"]
