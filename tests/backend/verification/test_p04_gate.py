"""P04 gate: a first-child registration case is not registered (advanced out of its verification stage, or
closed as registered) until verification requests went to both spouses' registration townships, on the
platform or recorded as sent off it; a spouse registered in the case's own township is checked locally."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseStage, Sex
from tests.backend.verification.conftest import (
    OFF_PLATFORM_TOWNSHIP,
    CaseWork,
    TwoCounties,
    add_person,
    open_first_child_case,
)
from tests.fixtures.identity import County, SignIn

QUESTION = "一孩生育服务登记，请核实婚育情况 / verify marital and childbearing status"


async def _to_verification_stage(database: Database, county: County, case_id: object) -> None:
    """Put the case in its verification stage directly (no workflow here): the API's own check is tested."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        await session.execute(
            update(Case).where(Case.id == uuid.UUID(str(case_id))).values(stage=CaseStage.verification)
        )


async def _act(officer: httpx.AsyncClient, case_id: object, action: str, **fields: object) -> httpx.Response:
    version = (await officer.get(f"/api/v1/cases/{case_id}")).json()["version"]
    return await officer.post(f"/api/v1/cases/{case_id}/actions", json={"version": version, "action": action, **fields})


async def _request(officer: httpx.AsyncClient, case_id: object, person_id: object, **body: object) -> dict[str, str]:
    response = await officer.post(
        "/api/v1/verification/requests",
        json={"case_id": str(case_id), "person_id": str(person_id), "question": QUESTION, **body},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_registering_needs_requests_to_both_spouses_registration_townships(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    husband = await add_person(database, a, "李强", registration=OFF_PLATFORM_TOWNSHIP + "001", sex=Sex.male)
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife, husband], received_at=utc_now().isoformat())
    await _to_verification_stage(database, a, case["id"])

    refused = await _act(officer, case["id"], "advance")
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert error["error"] == "SPOUSE_VERIFICATION_MISSING"
    assert "王芳、李强" in error["detail"] and "not yet sent for" in error["detail"]
    assert [item["name"] for item in error["missing"]] == ["王芳", "李强"]
    assert (await _act(officer, case["id"], "close", outcome="registered")).status_code == 409

    # The wife's request goes on the platform; a withdrawn one does not count.
    sent = await _request(officer, case["id"], wife.id)
    withdrawn = await officer.post(f"/api/v1/verification/outbox/{sent['id']}/withdraw", json={"reason": "发错了"})
    assert withdrawn.status_code == 200
    refused = await _act(officer, case["id"], "advance")
    assert refused.status_code == 409 and [item["name"] for item in refused.json()["missing"]] == ["王芳", "李强"]
    await _request(officer, case["id"], wife.id)
    refused = await _act(officer, case["id"], "advance")
    assert [item["name"] for item in refused.json()["missing"]] == ["李强"]
    assert "李强" in refused.json()["detail"] and "王芳" not in refused.json()["detail"]

    # The husband's registration county is off the platform: the letter sent is recorded.
    await _request(
        officer,
        case["id"],
        husband.id,
        dispatch={"channel": "registered_mail", "arrived_at": utc_now().isoformat(), "evidence": "挂号信回执"},
    )
    accepted = await _act(officer, case["id"], "advance")
    assert accepted.status_code == 202, accepted.text
    # Deferring or refusing is never blocked.
    assert (await _act(officer, case["id"], "close", outcome="deferred", reason="材料不全")).status_code == 202


async def test_a_spouse_registered_in_our_own_township_is_checked_locally(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    husband = await add_person(database, a, "李强", registration=a.units["v11"], sex=Sex.male)  # the case's township
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife, husband], received_at=utc_now().isoformat())
    await _to_verification_stage(database, a, case["id"])
    await _request(officer, case["id"], wife.id)
    assert (await _act(officer, case["id"], "advance")).status_code == 202


async def test_an_unknown_registration_place_blocks_the_decision(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = counties.a
    wife = await add_person(database, a, "王芳", registration=None)
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife], received_at=utc_now().isoformat())
    await _to_verification_stage(database, a, case["id"])
    refused = await _act(officer, case["id"], "advance")
    assert refused.status_code == 409 and refused.json()["missing"][0]["registration_division_code"] is None


async def test_the_case_workflow_registers_once_both_requests_are_sent(
    counties: TwoCounties, sign_in: SignIn, database: Database, casework: CaseWork
) -> None:
    a, b = counties.a, counties.b
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    husband = await add_person(database, a, "李强", registration=a.units["v21"], sex=Sex.male)
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife, husband], received_at=utc_now().isoformat())
    case_id = case["id"]
    await _request(officer, case_id, wife.id)
    moved = await casework.act(officer, a, case_id, "advance")
    assert moved["stage"] == "verification"
    await casework.drain(a.tenant.id)
    refused = await _act(officer, case_id, "advance")
    assert refused.status_code == 409 and [item["name"] for item in refused.json()["missing"]] == ["李强"]
    assert (await officer.get(f"/api/v1/cases/{case_id}")).json()["stage"] == "verification"
    await _request(officer, case_id, husband.id)
    registered = await casework.act(officer, a, case_id, "advance")
    assert registered["stage"] == "service_delivery"
