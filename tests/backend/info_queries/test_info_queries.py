"""The population-information query ledger (P19, issue #22 item 4) through the API: only the norm's purposes, with
their documents and the signed application; answers limited to the fields the purpose allows (relatives only with
consent, counts for newborn names); refusals with a reason; the ledger kept two years, then destroyed with a
supervisor's approval; nothing of another county or township."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.core.storage import build_storage
from backend.db.engine import Database
from backend.documents.storage import install_document_storage
from backend.models import Person, Sex
from tests.backend.rewards.conftest import add_resident
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

PURPOSE_REFUSED = (
    "查询事由须为规定的事由之一（机关、部队政审、企事业单位公务、公检法、纪检办案、政府部门社会管理（统计）、律师办理法律事务、"
    "公民查找亲友、新生儿重名查询（统计））/ the purpose must be one the norm allows (vetting, official_business, "
    "justice, social_management, lawyer, relatives, newborn_name)"
)
UNIT_DOCS = ["unit_letter", "work_id"]


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory, "查询县")
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    return county


async def _subject(database: Database, county: County) -> Person:
    husband = await add_resident(database, county, "张建国", sex=Sex.male, born=date(1985, 5, 1))
    return await add_resident(
        database, county, "李秀兰", sex=Sex.female, born=date(1988, 3, 1), children=(Sex.female,), spouse=husband
    )


def _query(county: County, purpose: str, subject: Person | None, **fields: Any) -> dict[str, Any]:
    return {
        "org_unit_code": county.units["t1"],
        "purpose": purpose,
        "requester_name": "王警官",
        "requester_unit": "某派出所",
        "documents_seen": UNIT_DOCS,
        "application_signed": True,
        "subject_person_id": str(subject.id) if subject else None,
        **fields,
    }


async def _record(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/info-queries", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(autouse=True)
async def store(settings: Settings, tmp_path: Path) -> AsyncIterator[None]:
    """A local document store: the signed application forms are scans of the documents module."""
    storage = build_storage(Settings(storage_driver="local", storage_local_dir=tmp_path / "objects"))
    await storage.ensure_bucket()
    install_document_storage(storage, settings)
    yield
    install_document_storage(None)


def _scan() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return output.getvalue()


async def _upload_application(client: httpx.AsyncClient, entry: dict[str, Any]) -> httpx.Response:
    """The scan of the 《人口信息查询申请表》 the requester signed, through the documents module's upload."""
    return await client.post(
        "/api/v1/documents",
        data={"owner_kind": "info_query", "owner_id": entry["id"], "kind": "signature"},
        files={"file": ("查询申请表.pdf", _scan(), "application/pdf")},
    )


async def _answer(client: httpx.AsyncClient, entry: dict[str, Any]) -> httpx.Response:
    await _upload_application(client, entry)
    return await client.post(f"/api/v1/info-queries/{entry['id']}/answer", json={"version": entry["version"]})


async def test_a_query_without_an_allowed_purpose_or_its_documents_is_refused_and_nothing_recorded(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "t1.officer")
    subject = await _subject(database, county)
    refused = await officer.post("/api/v1/info-queries", json=_query(county, "debt_collection", subject))
    assert refused.status_code == 422, refused.text
    assert refused.json()["fields"] == [{"loc": ["body", "purpose"], "msg": PURPOSE_REFUSED}]
    lawyer = await officer.post(
        "/api/v1/info-queries", json=_query(county, "lawyer", subject, documents_seen=["law_firm_letter", "id_card"])
    )
    assert lawyer.status_code == 422
    assert lawyer.json()["fields"] == [
        {
            "loc": ["body", "documents_seen"],
            "msg": "缺少证明材料：委托协议（含复印件）、律师执业证（含复印件） / missing documents: client_agreement, "
            "lawyer_licence",
        }
    ]
    unsigned = await officer.post(
        "/api/v1/info-queries", json=_query(county, "vetting", subject, application_signed=False)
    )
    assert unsigned.status_code == 422 and unsigned.json()["fields"][0]["loc"] == ["body", "application_signed"]
    assert (await officer.get("/api/v1/info-queries")).json()["total"] == 0


async def test_answers_hold_only_the_fields_the_purpose_allows(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "t1.officer")
    subject = await _subject(database, county)
    vetting = await _answer(officer, await _record(officer, _query(county, "vetting", subject)))
    assert vetting.status_code == 200, vetting.text
    assert vetting.json()["state"] == "answered"
    assert vetting.json()["answer"] == {"registration_address": county.units["v11"]}
    justice = await _answer(officer, await _record(officer, _query(county, "justice", subject)))
    assert justice.json()["answer"]["family"] == {
        "spouse": "张建国",
        "children": [{"sex": "female", "birth_year": 1996}],
    }
    lawyer_docs = ["law_firm_letter", "client_agreement", "lawyer_licence", "id_card"]
    lawyer_entry = await _record(officer, _query(county, "lawyer", subject, documents_seen=lawyer_docs))
    lawyer = await _answer(officer, lawyer_entry)
    assert set(lawyer.json()["answer"]) == {"name", "sex", "age", "registration_address", "ethnicity", "resident_id"}
    newborn = await _record(
        officer,
        _query(
            county, "newborn_name", None, subject_name="李秀兰", documents_seen=["birth_service_certificate", "id_card"]
        ),
    )
    assert (await _answer(officer, newborn)).json()["answer"] == {"count": 1}

    # Relatives: nothing without the consent of the person asked about.
    relatives = await _record(officer, _query(county, "relatives", subject, documents_seen=["id_card"]))
    no_consent = await _answer(officer, relatives)
    assert no_consent.status_code == 409
    assert no_consent.json()["detail"] == (
        "查找亲友须先征得被查询人同意 / looking for relatives needs the consent of the person asked about"
    )
    consented = await _record(
        officer, _query(county, "relatives", subject, documents_seen=["id_card"], subject_consent=True)
    )
    told = (await _answer(officer, consented)).json()["answer"]
    assert set(told) == {"registration_address", "residence_address", "phone"}


async def test_refusal_with_a_reason_and_the_two_year_ledger(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer, supervisor = await sign_in(county, "t1.officer"), await sign_in(county, "t1.sup")
    subject = await _subject(database, county)
    entry = await _record(officer, _query(county, "official_business", subject))
    refused = await officer.post(
        f"/api/v1/info-queries/{entry['id']}/refuse", json={"version": entry["version"], "reason": "介绍信未写明事由"}
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    late = await _answer(officer, refused.json())
    assert late.status_code == 409 and late.json()["error"] == "QUERY_CLOSED"

    # Kept two years: a recent entry cannot be destroyed; an old one can, by a supervisor, erasing its content.
    recent = refused.json()
    early = await supervisor.post(f"/api/v1/info-queries/{recent['id']}/destroy", json={"version": recent["version"]})
    assert early.status_code == 409 and "保存2年" in early.json()["detail"]
    old = await _record(officer, _query(county, "vetting", subject, requested_at="2024-01-10T09:00:00+08:00"))
    assert old["retain_until"] == "2026-01-10"
    by_officer = await officer.post(f"/api/v1/info-queries/{old['id']}/destroy", json={"version": old["version"]})
    assert by_officer.status_code == 403
    destroyed = await supervisor.post(f"/api/v1/info-queries/{old['id']}/destroy", json={"version": old["version"]})
    assert destroyed.status_code == 200, destroyed.text
    kept = destroyed.json()
    assert (kept["state"], kept["number"], kept["purpose"]) == ("destroyed", old["number"], "vetting")
    assert (kept["requester_name"], kept["subject_name"], kept["answer"]) == (None, None, None)
    assert kept["destroy_approved_by"] is not None
    ledger = (await officer.get("/api/v1/info-queries")).json()["items"]
    assert [item["number"] for item in ledger] == [old["number"], recent["number"]]  # in date order


async def test_the_ledger_is_kept_within_reach_and_never_seen_by_another_county(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    officer = await sign_in(county, "t1.officer")
    entry = await _record(officer, _query(county, "vetting", await _subject(database, county)))
    sibling = await sign_in(county, "t2.officer")
    other = await build_county(database, tenant_factory, "邻县")
    await add_user(database, other, "other.officer", "t1", [(Role.township_officer, "t1")])
    stranger = await sign_in(other, "other.officer")
    for client in (sibling, stranger):
        assert (await client.get(f"/api/v1/info-queries/{entry['id']}")).status_code == 404
        assert (await client.get("/api/v1/info-queries")).json()["total"] == 0
        assert (await _answer(client, entry)).status_code == 404
    coordinator = await sign_in(county, "v11.coord")  # a village coordinator keeps no ledger
    assert (await coordinator.get("/api/v1/info-queries")).status_code == 403


async def test_a_query_is_answered_only_once_the_signed_application_scan_is_uploaded(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "t1.officer")
    entry = await _record(officer, _query(county, "vetting", await _subject(database, county)))
    url = f"/api/v1/info-queries/{entry['id']}/answer"
    unsigned = await officer.post(url, json={"version": entry["version"]})
    assert (unsigned.status_code, unsigned.json()["error"]) == (409, "APPLICATION_SCAN_MISSING")
    # Another township's officer cannot attach a scan to the entry (it is out of her reach).
    other = await sign_in(county, "t2.officer")
    assert (await _upload_application(other, entry)).status_code == 404
    uploaded = await _upload_application(officer, entry)
    assert uploaded.status_code == 201, uploaded.text
    scans = await officer.get("/api/v1/documents", params={"owner_kind": "info_query", "owner_id": entry["id"]})
    assert [document["kind"] for document in scans.json()] == ["signature"]
    answered = await officer.post(url, json={"version": entry["version"]})
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
