"""Issued documents: rendered to PDF with the Chinese text and a QR code that decodes to the public verification
page; the page shows the minimal fields only, and says when a document was revoked; per-county overrides."""

from __future__ import annotations

import io
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyrxing
import pytest
from PIL import Image
from pypdf import PdfReader

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.cases.repository import CaseRepository
from backend.core.storage import ObjectStorage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.documents import issuing, service
from backend.documents.storage import document_settings
from backend.models import CaseOutcome, CaseStage, CaseStatus, IssuedDocumentKind
from tests.backend.documents.conftest import AddPerson, create_case
from tests.fixtures.identity import County, SignIn

CONTEXT: dict[IssuedDocumentKind, dict[str, Any]] = {
    IssuedDocumentKind.marriage_birth_certificate: {"details": "已婚，育有一孩", "contraception": "上环"},
    IssuedDocumentKind.first_child_registration: {"details": "第一个子女"},
    IssuedDocumentKind.refusal_letter: {"reason": "申请材料中缺少婚育证明原件，经告知后未补正"},
    IssuedDocumentKind.verification_request_letter: {"recipient": "某省某县卫生健康局", "details": "请核实婚育情况"},
    IssuedDocumentKind.contraception_report: {
        "contraception": "上环",
        "check_result": "未孕",
        "check_date": "2026-11-01",
    },
}
EXPECTED_TEXT: dict[IssuedDocumentKind, str] = {
    IssuedDocumentKind.marriage_birth_certificate: "流动人口婚育证明",
    IssuedDocumentKind.first_child_registration: "一孩生育服务登记证明",
    IssuedDocumentKind.refusal_letter: "缺少婚育证明原件",
    IssuedDocumentKind.verification_request_letter: "某省某县卫生健康局",
    IssuedDocumentKind.contraception_report: "避孕节育情况报告单",
}


async def issue(client: httpx.AsyncClient, case_id: str, kind: IssuedDocumentKind, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{case_id}/issued-documents", json={"kind": kind.value, "context": CONTEXT[kind], **body}
    )


def decode_qr(reader: PdfReader) -> list[str]:
    found = []
    for image in reader.pages[0].images:
        with tempfile.NamedTemporaryFile(suffix=".png") as file:
            image.image.save(file.name, format="PNG")
            try:
                found.append(pyrxing.read_barcode(file.name).text)
            except Exception:
                continue
    return found


@pytest.mark.parametrize("kind", list(IssuedDocumentKind))
async def test_each_kind_renders_a_pdf_with_chinese_text_and_a_qr_code_to_its_verification_page(
    kind: IssuedDocumentKind, county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county, "王秀英")
    case = await create_case(officer, county, person)
    response = await issue(officer, case["id"], kind)
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["number"].startswith(f"{county.code}-")
    assert issued["issuing_unit_name"] == "一镇"
    download = await officer.get(f"/api/v1/documents/{issued['document_id']}/download")
    assert download.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(download.content))
    # The title is letter-spaced, so compare without whitespace.
    text = "".join(reader.pages[0].extract_text().split())
    assert EXPECTED_TEXT[kind] in text
    assert issued["number"] in text
    assert county.tenant.name in text
    assert decode_qr(reader) == [issued["verify_url"]]
    if kind is IssuedDocumentKind.marriage_birth_certificate:
        assert issued["valid_until"] is not None
    register = (await officer.get(f"/api/v1/cases/{case['id']}/issued-documents")).json()
    assert [item["number"] for item in register] == [issued["number"]]


async def test_a_refusal_letter_needs_its_reason(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    case = await create_case(officer, county, await add_person(county))
    response = await officer.post(
        f"/api/v1/cases/{case['id']}/issued-documents", json={"kind": "refusal_letter", "context": {}}
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["body", "context.reason"]


async def test_the_verification_page_shows_the_minimal_fields_only_and_says_when_revoked(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, api: httpx.AsyncClient
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county, "王秀英")
    case = await create_case(officer, county, person)
    issued = (await issue(officer, case["id"], IssuedDocumentKind.marriage_birth_certificate)).json()
    path = "/verify/" + issued["verify_url"].rsplit("/verify/", 1)[1]
    # The public page: no session at all.
    as_json = await api.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    body = as_json.json()
    assert set(body) == {"number", "kind", "kind_label", "issuing_unit_name", "issue_date", "valid_until", "status"}
    assert body["number"] == issued["number"] and body["status"] == "valid"
    page = await api.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert issued["number"] in page.text and "有效" in page.text
    for secret in ("王秀英", str(person.id), case["id"], case["number"]):
        assert secret not in page.text and secret not in as_json.text

    revoked = await officer.post(f"/api/v1/issued-documents/{issued['id']}/revoke", json={"reason": "信息有误"})
    assert revoked.status_code == 200
    assert (await api.get(path, headers={"Accept": "application/json"})).json()["status"] == "revoked"
    assert "已作废" in (await api.get(path)).text
    for unknown in (path + "x", f"/verify/{county.code}-nothing", "/verify/nothing"):
        assert (await api.get(unknown)).status_code == 404


async def test_issuing_for_a_case_outside_reach_is_404(
    county: County, other: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    case = await create_case(officer, county, await add_person(county))
    for outsider in (await sign_in(county, "coord12"), await sign_in(other, "county_officer")):
        response = await issue(outsider, case["id"], IssuedDocumentKind.first_child_registration)
        assert response.status_code == 404
        assert (await outsider.get(f"/api/v1/cases/{case['id']}/issued-documents")).status_code == 404
    assert await local_store.list_keys(f"tenants/{county.tenant.id}/") == []


async def test_a_kind_the_case_cannot_have_is_refused_naming_the_kind(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, database: Database
) -> None:
    """A case closed as refused gets its refusal letter, but no proof of registration, no 婚育证明 and no
    verification letter: the API refuses what the case page would never offer."""
    officer = await sign_in(county, "officer")
    case = await create_case(officer, county, await add_person(county))
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        row = await CaseRepository(session).get(uuid.UUID(case["id"]))
        assert row is not None
        row.stage, row.status, row.outcome = CaseStage.closed, CaseStatus.done, CaseOutcome.refused
    for kind in (
        IssuedDocumentKind.first_child_registration,
        IssuedDocumentKind.marriage_birth_certificate,
        IssuedDocumentKind.verification_request_letter,
    ):
        response = await issue(officer, case["id"], kind)
        assert response.status_code == 422, kind
        assert response.json()["fields"][0]["loc"] == ["body", "kind"]
    assert (await officer.get(f"/api/v1/cases/{case['id']}/issued-documents")).json() == []
    assert await local_store.list_keys(f"tenants/{county.tenant.id}/") == []
    assert (await issue(officer, case["id"], IssuedDocumentKind.refusal_letter)).status_code == 201


def override_templates(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "first_child_registration.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>本县专用措辞：准予登记</p>{% endblock %}', encoding="utf-8"
    )
    Image.new("RGB", (120, 120), (220, 0, 0)).save(directory / "seal.png")


async def test_a_county_overrides_wording_and_seal_in_its_template_directory(
    county: County,
    sign_in: SignIn,
    add_person: AddPerson,
    local_store: ObjectStorage,
    database: Database,
    api: httpx.AsyncClient,
) -> None:
    override_templates(document_settings().document_templates_dir / county.code)
    officer = await sign_in(county, "officer")
    case = await create_case(officer, county, await add_person(county))
    issued = (await issue(officer, case["id"], IssuedDocumentKind.first_child_registration)).json()
    pdf = (await officer.get(f"/api/v1/documents/{issued['document_id']}/download")).content
    reader = PdfReader(io.BytesIO(pdf))
    assert "本县专用措辞：准予登记" in "".join(reader.pages[0].extract_text().split())
    assert len(reader.pages[0].images) == 2  # the QR code and the seal

    # The service other domains call does the same as the route.
    principal = Principal(
        kind="user",
        id=str(county.users["officer"].id),
        label="officer",
        tenant_id=county.tenant.id,
        tenant_code=county.code,
        org_unit_code=county.units["t1"],
        roles=(ScopedRole(Role.township_officer, county.units["t1"]),),
    )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        letter = await service.issue_document(
            session,
            principal,
            IssuedDocumentKind.verification_request_letter,
            case_id=uuid.UUID(case["id"]),
            context={"recipient": "外县卫健局"},
        )
        # Numbers run per county and year across kinds: this is the county's second document.
        assert letter.number.endswith("-XC00002")
        assert letter.status.value == "valid"
        # A replacement supersedes the first; the public page then says so.
        replacement = await service.issue_document(
            session,
            principal,
            IssuedDocumentKind.verification_request_letter,
            case_id=uuid.UUID(case["id"]),
            context={"recipient": "外县卫健局"},
        )
        await issuing.supersede_issued(session, principal, letter.id, replacement)
        token = letter.verify_token
    verification = await api.get(f"/verify/{token}", headers={"Accept": "application/json"})
    assert verification.json()["status"] == "superseded"
