"""Issuing is idempotent: a form's one-time token makes a double submit issue once; a case holds one valid proof of a
kind (the API refuses a second) until it is voided (作废) with a reason, which the audit log and the public
verification page record."""

from __future__ import annotations

import uuid

import httpx

from backend.cases.repository import CaseRepository
from backend.core.storage import ObjectStorage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import CaseOutcome, CaseStage, CaseStatus
from tests.backend.documents.conftest import AddPerson, create_case
from tests.fixtures.identity import County, SignIn

KIND = "first_child_registration"


async def _registered_case(
    database: Database, officer: httpx.AsyncClient, county: County, add_person: AddPerson
) -> str:
    """A first-child registration closed as registered: the case page offers its proof to issue."""
    case = await create_case(officer, county, await add_person(county, "周晓燕"))
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        row = await CaseRepository(session).get(uuid.UUID(case["id"]))
        assert row is not None
        row.case_type, row.stage, row.status = KIND, CaseStage.closed, CaseStatus.done
        row.outcome = CaseOutcome.registered
    return str(case["id"])


async def _issued(officer: httpx.AsyncClient, case_id: str) -> list[dict[str, str]]:
    return list((await officer.get(f"/api/v1/cases/{case_id}/issued-documents")).json())


async def test_two_posts_of_one_form_issue_once(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    case_id = await _registered_case(database, officer, county, add_person)
    page = (await officer.get(f"/cases/{case_id}")).text
    assert "签发一孩生育服务登记证明" in page
    token = page.split('name="form_token" value="')[1].split('"')[0]
    form = {"kind": KIND, "form_token": token, "csrf_token": officer.headers["X-CSRF-Token"]}
    first = await officer.post(f"/cases/{case_id}/issue", data=form)
    second = await officer.post(f"/cases/{case_id}/issue", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(await _issued(officer, case_id)) == 1
    # Issued: the page no longer offers the button, and offers 作废 instead.
    page = (await officer.get(f"/cases/{case_id}")).text
    assert "签发一孩生育服务登记证明" not in page and "确认作废" in page


async def test_a_second_proof_is_refused_until_the_first_is_voided_with_a_reason(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    case_id = await _registered_case(database, officer, county, add_person)
    path = f"/api/v1/cases/{case_id}/issued-documents"
    assert (await officer.post(path, json={"kind": KIND})).status_code == 201
    again = await officer.post(path, json={"kind": KIND})
    assert again.status_code == 422
    assert again.json()["fields"][0]["loc"] == ["body", "kind"]
    (issued,) = await _issued(officer, case_id)
    csrf = officer.headers["X-CSRF-Token"]
    void = f"/cases/{case_id}/issued/{issued['id']}/void"
    refused = await officer.post(void, data={"reason": "", "csrf_token": csrf})
    assert refused.status_code == 422
    assert f'id="e-void_{issued["id"]}_reason"' in refused.text
    assert (await _issued(officer, case_id))[0]["status"] == "valid"
    voided = await officer.post(void, data={"reason": "姓名打印有误", "csrf_token": csrf})
    assert voided.status_code == 303
    assert (await _issued(officer, case_id))[0]["status"] == "revoked"
    events = await (await sign_in(county, "auditor")).get("/api/v1/audit/events", params={"entity_id": issued["id"]})
    assert any(e["action"] == "document.revoke" and e["reason"] == "姓名打印有误" for e in events.json())
    assert "签发一孩生育服务登记证明" in (await officer.get(f"/cases/{case_id}")).text
    assert (await officer.post(path, json={"kind": KIND})).status_code == 201


async def test_a_certificate_form_sent_twice_issues_one_certificate(
    county: County, sign_in: SignIn, add_person: AddPerson
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county, "吴丽华")
    page = (await officer.get(f"/persons/{person.id}")).text
    token = page.split('name="form_token" value="')[1].split('"')[0]
    form = {
        "number": "西湖婚育2026-0001",
        "issue_date": "2026-01-05",
        "issuing_unit_code": county.units["t1"],
        "form_token": token,
        "csrf_token": officer.headers["X-CSRF-Token"],
    }
    first = await officer.post(f"/persons/{person.id}/certificates", data=form)
    second = await officer.post(f"/persons/{person.id}/certificates", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    listed = await officer.get(f"/api/v1/persons/{person.id}/certificates")
    assert listed.json()["total"] == 1
