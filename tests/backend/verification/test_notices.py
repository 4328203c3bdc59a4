"""Notices (通报) on top of the same shared record: P05 re-birth approval result from the registration place to
the residence place, P07 contraception status report from the residence place to the registration place."""

from __future__ import annotations

import httpx

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Person
from tests.backend.verification.conftest import CaseWork, TwoCounties, add_person, audit_actions
from tests.fixtures.identity import County, SignIn


async def _case(client: httpx.AsyncClient, county: County, case_type: str, person_id: object) -> dict[str, object]:
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": case_type,
            "org_unit_code": county.units["v11"],
            "subjects": [{"person_id": str(person_id), "part": "applicant"}],
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _notice(client: httpx.AsyncClient, case_id: object, person_id: object, **body: object) -> httpx.Response:
    return await client.post(
        "/api/v1/verification/notices",
        json={"case_id": str(case_id), "person_id": str(person_id), **body},
    )


async def test_rebirth_approval_is_notified_to_the_residence_place_within_15_working_days(
    counties: TwoCounties, sign_in: SignIn, database: Database, casework: CaseWork
) -> None:
    a, b = counties.a, counties.b
    # B is the woman's registration place and decides; she lives in A's township t1.
    woman = await add_person(database, b, "陈静", registration=b.units["v11"])
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        stored = await session.get(Person, woman.id)
        assert stored is not None
        stored.residence_division_code = a.units["v11"]
    officer_b = await sign_in(b, "t1.officer")
    case = await _case(officer_b, b, "rebirth_approval", woman.id)
    for _ in ("verification", "service_delivery", "follow_up"):  # checked, approved: notify within 15 WD
        approved = await casework.act(officer_b, b, case["id"], "advance")
    assert approved["stage"] == "follow_up"
    response = await _notice(
        officer_b,
        case["id"],
        woman.id,
        place="residence",
        question_type="rebirth_approval",
        question="准予再生育 / re-birth approved",
    )
    assert response.status_code == 201, response.text
    notice = response.json()
    assert notice["kind"] == "notice" and notice["responder_county_code"] == a.code
    assert notice["responder_unit_code"] == a.units["t1"]
    # The notifying deadline is the case's own: 15 working days from the approval.
    assert notice["send_due_at"] == approved["due_at"] and notice["sent_on_time"] is True

    officer_a = await sign_in(a, "t1.officer")
    inbox = (await officer_a.get("/api/v1/verification/inbox", params={"kind": "notice"})).json()
    assert [item["question_type"] for item in inbox["items"]] == ["rebirth_approval"]
    filed = await officer_a.post(f"/api/v1/verification/inbox/{notice['id']}/answer", json={"answer": "已接收"})
    assert filed.status_code == 200 and filed.json()["state"] == "answered"
    assert await audit_actions(database, b, notice["correlation_id"]) == ["verification.notice"]
    assert await audit_actions(database, a, notice["correlation_id"]) == ["verification.answer"]


async def test_contraception_report_is_filed_or_sent_back_only_with_a_reason(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    woman = await add_person(database, a, "刘洋", registration=b.units["v11"])
    officer_a = await sign_in(a, "t1.officer")
    case = await _case(officer_a, a, "contraception_report", woman.id)
    response = await _notice(
        officer_a,
        case["id"],
        woman.id,
        question_type="contraception_report",
        question="2026年第二次查环：环位正常 / IUD check: normal",
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["responder_unit_code"] == b.units["t1"]

    officer_b = await sign_in(b, "t1.officer")
    no_reason = await officer_b.post(f"/api/v1/verification/inbox/{report['id']}/reject", json={"reason": ""})
    assert no_reason.status_code == 422
    still = (await officer_b.get(f"/api/v1/verification/inbox/{report['id']}")).json()
    assert still["state"] == "pending"
    sent_back = await officer_b.post(
        f"/api/v1/verification/inbox/{report['id']}/reject",
        json={"reason": "缺少检查证明 / the check proof is missing"},
    )
    assert sent_back.status_code == 200 and sent_back.json()["state"] == "rejected"
    seen = (await officer_a.get(f"/api/v1/verification/outbox/{report['id']}")).json()
    assert seen["close_reason"].startswith("缺少检查证明")
