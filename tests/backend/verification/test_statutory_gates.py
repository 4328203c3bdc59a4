"""The statutory gates of issue #22 (item 7), each with its exact refusal:

- P04: a first-child registration is not closed as registered (nor leaves its notifying stage) until the notice to
  both spouses' registration townships was sent, on the platform or recorded as sent off it; the 15-working-day
  notify clock is on the case from the registration decision;
- the API refuses at once what the workflow would refuse: closing as deferred without a reason;
- P05: only a unit of the woman's registration county decides a re-birth approval.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from backend.calendar.service import due_date
from backend.core.clock import china_day, end_of_day, utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Person, Sex
from tests.backend.verification.conftest import (
    OFF_PLATFORM_TOWNSHIP,
    CaseWork,
    TwoCounties,
    add_person,
    audit_actions,
    open_first_child_case,
)
from tests.fixtures.identity import County, SignIn

NOTICE = "已办理一孩生育服务登记 / first-child birth service registration done"
BY_MAIL = {"channel": "registered_mail", "arrived_at": "", "evidence": "挂号信 XA123456789CN"}
NOTICE_MISSING = (
    "一孩生育服务登记须在15个工作日内向夫妻双方户籍地乡镇（街道）通报，以下配偶的户籍地尚未通报：{names} / "
    "a first-child registration must be notified to both spouses' registration townships within 15 working "
    "days; not yet notified for: {names}"
)


async def _act(officer: httpx.AsyncClient, case_id: object, action: str, **fields: object) -> httpx.Response:
    version = (await officer.get(f"/api/v1/cases/{case_id}")).json()["version"]
    return await officer.post(f"/api/v1/cases/{case_id}/actions", json={"version": version, "action": action, **fields})


async def _send(
    officer: httpx.AsyncClient, kind: str, case_id: object, person: Person, **body: object
) -> dict[str, object]:
    question = NOTICE if kind == "notices" else "请核实婚育情况 / verify marital and childbearing status"
    question_type = "first_child_registration" if kind == "notices" else "marital_childbearing"
    response = await officer.post(
        f"/api/v1/verification/{kind}",
        json={
            "case_id": str(case_id),
            "person_id": str(person.id),
            "question_type": question_type,
            "question": question,
            **body,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _by_mail() -> dict[str, object]:
    return {"dispatch": BY_MAIL | {"arrived_at": utc_now().isoformat()}}


async def _registered_couple(
    counties: TwoCounties, sign_in: SignIn, database: Database, casework: CaseWork
) -> tuple[httpx.AsyncClient, str, Person, Person]:
    """A first-child registration of county A, both spouses asked, registered (left its verification stage)."""
    a, b = counties.a, counties.b
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    husband = await add_person(database, a, "李强", registration=OFF_PLATFORM_TOWNSHIP + "001", sex=Sex.male)
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife, husband], received_at=utc_now().isoformat())
    case_id = str(case["id"])
    assert case["notify_clock"] is None
    await _send(officer, "requests", case_id, wife)
    await _send(officer, "requests", case_id, husband, **_by_mail())
    assert (await casework.act(officer, a, case_id, "advance"))["notify_clock"] is None  # not registered yet
    registered = await casework.act(officer, a, case_id, "advance")
    assert registered["stage"] == "service_delivery"
    return officer, case_id, wife, husband


async def _expected_due(database: Database, county: County, registered_at: str) -> datetime:
    """15 working days after the registration day, on the county's calendar, at the end of the day."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        due = await due_date(session, china_day(datetime.fromisoformat(registered_at)), 15)
    return end_of_day(due.date)


async def test_a_first_child_registration_is_not_closed_as_registered_before_the_notice(
    counties: TwoCounties, sign_in: SignIn, database: Database, casework: CaseWork
) -> None:
    a = counties.a
    officer, case_id, wife, husband = await _registered_couple(counties, sign_in, database, casework)

    # The notify clock is on the case from the registration decision: 15 working days, both townships missing.
    case = (await officer.get(f"/api/v1/cases/{case_id}")).json()
    clock = case["notify_clock"]
    registered_at = datetime.fromisoformat(clock["registered_at"])
    assert datetime.fromisoformat(case["received_at"]) <= registered_at <= utc_now()
    assert clock["working_days"] == 15
    assert datetime.fromisoformat(clock["due_at"]) == await _expected_due(database, a, clock["registered_at"])
    assert [item["name"] for item in clock["missing"]] == ["王芳", "李强"]
    assert (clock["notified_at"], clock["notified_on_time"]) == (None, None)

    refused = await _act(officer, case_id, "close", outcome="registered")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "REGISTRATION_NOTICE_MISSING"
    assert refused.json()["detail"] == NOTICE_MISSING.format(names="王芳、李强")
    assert [item["name"] for item in refused.json()["missing"]] == ["王芳", "李强"]

    # Into the notifying stage; leaving it is the same decision.
    assert (await casework.act(officer, a, case_id, "advance"))["stage"] == "follow_up"
    refused = await _act(officer, case_id, "advance")
    assert refused.status_code == 409 and refused.json()["error"] == "REGISTRATION_NOTICE_MISSING"

    # A withdrawn notice does not count; a request (协查) is no notice.
    sent = await _send(officer, "notices", case_id, wife)
    withdrawn = await officer.post(f"/api/v1/verification/outbox/{sent['id']}/withdraw", json={"reason": "发错了"})
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await _act(officer, case_id, "close", outcome="registered")
    assert refused.json()["detail"] == NOTICE_MISSING.format(names="王芳、李强")
    await _send(officer, "notices", case_id, wife)
    refused = await _act(officer, case_id, "close", outcome="registered")
    assert refused.json()["detail"] == NOTICE_MISSING.format(names="李强")

    # The husband's registration county is off the platform: the letter sent is recorded.
    await _send(officer, "notices", case_id, husband, **_by_mail())
    clock = (await officer.get(f"/api/v1/cases/{case_id}")).json()["notify_clock"]
    assert clock["missing"] == [] and clock["notified_on_time"] is True and clock["notified_at"] is not None
    closed = await casework.act(officer, a, case_id, "close", outcome="registered")
    assert (closed["stage"], closed["outcome"]) == ("closed", "registered")


async def test_closing_as_deferred_without_a_reason_is_refused_at_once(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = counties.a
    wife = await add_person(database, a, "王芳", registration=a.units["v11"])
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife], received_at=utc_now().isoformat())
    for outcome in ("deferred", "refused"):
        refused = await _act(officer, case["id"], "close", outcome=outcome)
        assert refused.status_code == 422, refused.text
        reason = {"loc": ["body", "reason"], "msg": "须书面说明理由 / a written reason is required"}
        assert refused.json()["fields"] == [reason]
    # Nothing reached the workflow: no action was recorded.
    assert "case.action_requested" not in await audit_actions(database, a, case["number"])
    accepted = await _act(officer, case["id"], "close", outcome="deferred", reason="缺少户籍地婚育情况证明")
    assert accepted.status_code == 202, accepted.text


async def _rebirth_case(officer: httpx.AsyncClient, county: County, wife: Person, husband: Person) -> str:
    response = await officer.post(
        "/api/v1/cases",
        json={
            "case_type": "rebirth_approval",
            "org_unit_code": county.units["v11"],
            "subjects": [
                {"person_id": str(wife.id), "part": "applicant"},
                {"person_id": str(husband.id), "part": "spouse"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_only_the_womans_registration_county_decides_a_rebirth_approval(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    # The couple lives in A; the wife's household is registered in B, the husband's in A.
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    husband = await add_person(database, a, "李强", registration=a.units["v21"], sex=Sex.male)
    officer = await sign_in(a, "t1.officer")
    case_id = await _rebirth_case(officer, a, wife, husband)
    expected = (
        f"再生育审批由女方户籍地负责审批，本县（{a.code}）不能作出审批决定：王芳的户籍地在{b.code} / "
        f"a re-birth approval is decided by the woman's registration place; this county ({a.code}) cannot "
        f"decide it: 王芳 is registered in {b.code}"
    )
    for action, fields in (
        ("close", {"outcome": "registered"}),
        ("close", {"outcome": "refused", "reason": "不符合再生育条件"}),
        ("refuse", {"reason": "不符合再生育条件"}),
    ):
        refused = await _act(officer, case_id, action, **fields)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "NOT_REGISTRATION_COUNTY"
        assert refused.json()["detail"] == expected
        assert refused.json()["registration_county"] == b.code
    # The residence county may receive the application and hand it on, never decide it.
    accepted = await _act(officer, case_id, "close", outcome="withdrawn")
    assert accepted.status_code == 202, accepted.text

    # In B, the wife's registration county, the decision is B's to make.
    wife_b = await add_person(database, b, "王芳", registration=b.units["v11"])
    husband_b = await add_person(database, b, "李强", registration=a.units["v21"], sex=Sex.male)
    officer_b = await sign_in(b, "t1.officer")
    case_b = await _rebirth_case(officer_b, b, wife_b, husband_b)
    assert (await _act(officer_b, case_b, "close", outcome="registered")).status_code == 202


async def test_a_rebirth_approval_without_the_womans_registration_place_is_not_decided(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = counties.a
    wife = await add_person(database, a, "王芳", registration=None)
    husband = await add_person(database, a, "李强", registration=a.units["v21"], sex=Sex.male)
    officer = await sign_in(a, "t1.officer")
    case_id = await _rebirth_case(officer, a, wife, husband)
    refused = await _act(officer, case_id, "close", outcome="registered")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("cannot decide it: 王芳's registration place is unknown")
