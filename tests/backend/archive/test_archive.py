"""The yearly archive (年度归档, P26; issue #22 item 8): a county supervisor asks for the volume of a year that ended;
the worker (the outbox handler, not the request) binds the year's closed cases of the unit's subtree and their
documents into an index PDF and a manifest with the SHA-256 of every document object, stored in S3 write-once for
the county's retention years. Open cases, other years, other units and other counties are absent."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pypdf
import pytest
from PIL import Image
from sqlalchemy import select, update

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.core.clock import china_today, end_of_day
from backend.core.outbox import BuildArchive, OutboxKind
from backend.core.storage import ObjectStorage
from backend.core.storage.errors import ObjectRetained
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.documents.storage import install_document_storage
from backend.models import Case, CaseOutcome, CaseStage, OutboxMessage
from tests.backend.cases.conftest import AddPerson
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county
from workflows.outbox_handlers import archive_handlers

YEAR = china_today().year - 1


@pytest.fixture
async def store(make_s3_storage: Callable[..., ObjectStorage], settings: Settings) -> AsyncIterator[ObjectStorage]:
    storage = make_s3_storage()
    await storage.ensure_bucket()
    install_document_storage(storage, settings)
    yield storage
    install_document_storage(None)


async def _county(database: Database, tenant_factory: TenantFactory, name: str) -> County:
    county = await build_county(database, tenant_factory, name)
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    await add_user(database, county, "county.admin", "county", [(Role.county_admin, "county")])
    return county


def _pdf(seed: int) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (200, 280), (seed % 255, 255, 255)).save(output, format="PDF")
    return output.getvalue()


async def _case(client: httpx.AsyncClient, county: County, person_unit: str, add_person: AddPerson) -> dict[str, Any]:
    person = await add_person(county, "归档人", person_unit)
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": county.units[person_unit],
            "subjects": [{"person_id": str(person.id), "part": "applicant"}],
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _upload(client: httpx.AsyncClient, case: dict[str, Any], data: bytes) -> None:
    response = await client.post(
        "/api/v1/documents",
        data={"owner_kind": "case", "owner_id": case["id"], "kind": "id_card"},
        files={"file": ("扫描件.pdf", data, "application/pdf")},
    )
    assert response.status_code == 201, response.text


async def _close(database: Database, county: County, case: dict[str, Any], closed_at: datetime) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        await session.execute(
            update(Case)
            .where(Case.id == uuid.UUID(case["id"]))
            .values(stage=CaseStage.closed, closed_at=closed_at, outcome=CaseOutcome.registered)
        )


async def _build(database: Database, county: County) -> dict[str, Any]:
    """Run the outbox message the request recorded, as the worker's relay would."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        payloads = await session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "archive.build"))
        messages = [BuildArchive.model_validate(payload) for payload in payloads]
    assert len(messages) == 1
    return await archive_handlers(database)[OutboxKind.archive_build](messages[0])


def _mid_year(month: int) -> datetime:
    return datetime(YEAR, month, 15, 4, tzinfo=UTC)


async def test_the_volume_binds_exactly_the_years_closed_cases_with_their_checksums(
    database: Database,
    tenant_factory: TenantFactory,
    sign_in: SignIn,
    add_person: AddPerson,
    store: ObjectStorage,
) -> None:
    a = await _county(database, tenant_factory, "归档县")
    b = await _county(database, tenant_factory, "邻县")
    officer_a1, officer_a2 = await sign_in(a, "t1.officer"), await sign_in(a, "t2.officer")
    officer_b = await sign_in(b, "t1.officer")

    closed_t1 = await _case(officer_a1, a, "v11", add_person)
    closed_t2 = await _case(officer_a2, a, "v21", add_person)
    still_open = await _case(officer_a1, a, "v11", add_person)
    closed_earlier = await _case(officer_a1, a, "v12", add_person)
    other_county = await _case(officer_b, b, "v11", add_person)
    uploads = {closed_t1["id"]: [_pdf(1), _pdf(2)], closed_t2["id"]: [_pdf(3)], still_open["id"]: [_pdf(4)]}
    for case_id, files in uploads.items():
        client = officer_a2 if case_id == closed_t2["id"] else officer_a1
        for data in files:
            await _upload(client, {"id": case_id}, data)
    await _close(database, a, closed_t1, _mid_year(3))
    await _close(database, a, closed_t2, _mid_year(7))
    # The last moment of the year before, China time (31 December 23:59 there is 15:59 UTC): not this volume's.
    await _close(database, a, closed_earlier, datetime(YEAR - 1, 12, 31, 15, 59, tzinfo=UTC))
    await _close(database, b, other_county, _mid_year(5))

    admin = await sign_in(a, "county.admin")
    settings = (await admin.get("/api/v1/county-settings")).json()
    saved = await admin.put("/api/v1/county-settings", json={**settings, "archive_retention_years": 10})
    assert saved.status_code == 200, saved.text

    supervisor = await sign_in(a, "county.sup")
    requested = await supervisor.post(
        "/api/v1/archive/volumes", json={"org_unit_code": a.units["county"], "year": YEAR}
    )
    assert requested.status_code == 201, requested.text
    volume = requested.json()
    # The request only records the volume: the binding is the worker's.
    assert (volume["state"], volume["case_count"], volume["index_sha256"]) == ("building", 0, None)

    assert await _build(database, a) == {"state": "built", "cases": 2, "documents": 3}
    built = (await supervisor.get(f"/api/v1/archive/volumes/{volume['id']}")).json()
    assert (built["state"], built["case_count"], built["document_count"]) == ("built", 2, 3)
    retain_until = china_today().replace(year=china_today().year + 10)
    assert built["retain_until"] == retain_until.isoformat()

    manifest_response = await supervisor.get(f"/api/v1/archive/volumes/{volume['id']}/manifest")
    assert manifest_response.status_code == 200
    assert hashlib.sha256(manifest_response.content).hexdigest() == built["manifest_sha256"]
    manifest = manifest_response.json()
    assert [case["number"] for case in manifest["cases"]] == [closed_t1["number"], closed_t2["number"]]
    for case in manifest["cases"]:
        expected = sorted(hashlib.sha256(data).hexdigest() for data in uploads[case["id"]])
        assert sorted(document["sha256"] for document in case["documents"]) == expected
        for document in case["documents"]:
            assert hashlib.sha256(await store.get(document["object_key"])).hexdigest() == document["sha256"]

    index = await supervisor.get(f"/api/v1/archive/volumes/{volume['id']}/index")
    assert index.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(index.content).hexdigest() == built["index_sha256"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(index.content)).pages)
    assert closed_t1["number"] in text and closed_t2["number"] in text
    for absent in (still_open, closed_earlier, other_county):
        assert absent["number"] not in text

    # Write-once until the county's retention date (object lock on the S3 server).
    stored = await store.list_keys(f"tenants/{a.tenant.id}/documents/archive/")
    assert len(stored) == 2
    for key in stored:
        stat = await store.stat(key)
        assert stat is not None and stat.retain_until == end_of_day(retain_until)
        with pytest.raises(ObjectRetained):
            await store.delete(key)

    # A township's volume holds its own subtree only; another county sees none of it.
    township = await supervisor.post("/api/v1/archive/volumes", json={"org_unit_code": a.units["t1"], "year": YEAR})
    assert township.status_code == 201
    other = await sign_in(b, "county.sup")
    assert (await other.get(f"/api/v1/archive/volumes/{volume['id']}")).status_code == 404
    assert (await other.get(f"/api/v1/archive/volumes/{volume['id']}/index")).status_code == 404
    assert (await other.get("/api/v1/archive/volumes")).json() == []


async def test_requests_are_refused_at_their_field_and_once_per_unit_and_year(
    database: Database, tenant_factory: TenantFactory, sign_in: SignIn
) -> None:
    a = await _county(database, tenant_factory, "归档县")
    b = await _county(database, tenant_factory, "邻县")
    supervisor = await sign_in(a, "county.sup")
    url = "/api/v1/archive/volumes"
    this_year = await supervisor.post(url, json={"org_unit_code": a.units["county"], "year": china_today().year})
    assert this_year.json()["fields"] == [
        {"loc": ["body", "year"], "msg": "只能归档已经结束的年度 / only a year that has ended can be archived"}
    ]
    elsewhere = await supervisor.post(url, json={"org_unit_code": b.units["county"], "year": YEAR})
    assert (elsewhere.status_code, elsewhere.json()["fields"][0]["loc"]) == (422, ["body", "org_unit_code"])
    village = await supervisor.post(url, json={"org_unit_code": a.units["v11"], "year": YEAR})
    assert (village.status_code, village.json()["fields"][0]["loc"]) == (422, ["body", "org_unit_code"])
    assert (await supervisor.post(url, json={"org_unit_code": a.units["county"], "year": YEAR})).status_code == 201
    twice = await supervisor.post(url, json={"org_unit_code": a.units["county"], "year": YEAR})
    assert (twice.status_code, twice.json()["error"]) == (409, "ARCHIVE_EXISTS")
    officer = await sign_in(a, "t1.officer")
    assert (await officer.get(url)).status_code in (403, 404)
    assert (await officer.post(url, json={"org_unit_code": a.units["t1"], "year": YEAR})).status_code in (403, 404)
