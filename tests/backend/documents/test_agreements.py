"""Responsibility agreements: records with parties and validity, the signed scan locked (no replace, no delete,
each attempt refused and audited; the storage refuses too), new versions and renewals linked to the old."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.calendar.service import china_today
from backend.core.storage import ObjectRetained, ObjectStorage, S3ObjectStorage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.backend.documents.conftest import AddPerson, pdf_bytes, png_bytes, upload
from tests.fixtures.identity import County, SignIn


def agreement_body(county: County, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "responsibility_letter",
        "title": "出租房屋计划生育管理责任书",
        "parties": [{"role": "township", "name": "一镇计生办"}, {"role": "landlord", "name": "王房东"}],
        "template_name": "县标准责任书2026版",
        "signed_on": "2026-03-01",
        "valid_from": "2026-03-01",
        "valid_until": "2027-02-28",
        "org_unit_code": county.units["v11"],
        **overrides,
    }


async def signed_agreement(client: httpx.AsyncClient, county: County, data: bytes) -> tuple[dict, dict]:
    agreement = await client.post("/api/v1/agreements", json=agreement_body(county))
    assert agreement.status_code == 201, agreement.text
    scan = await client.post(
        f"/api/v1/agreements/{agreement.json()['id']}/signed-scan",
        files={"file": ("签署件.pdf", data, "application/pdf")},
    )
    assert scan.status_code == 201, scan.text
    return agreement.json(), scan.json()


async def actions_for(database: Database, county: County, entity_id: str) -> list[str]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(AuditEvent.action).where(AuditEvent.entity_id == entity_id).order_by(AuditEvent.seq)
        return list((await session.execute(statement)).scalars().all())


async def test_an_agreement_records_parties_template_validity_and_its_signed_scan(
    county: County, sign_in: SignIn, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    agreement, scan = await signed_agreement(officer, county, pdf_bytes())
    assert scan["locked"] is True
    assert scan["owner_kind"] == "agreement" and scan["owner_id"] == agreement["id"]
    read = (await officer.get(f"/api/v1/agreements/{agreement['id']}")).json()
    assert read["signed_document_id"] == scan["id"]
    assert read["parties"][1] == {"role": "landlord", "name": "王房东"}
    assert read["template_name"] == "县标准责任书2026版"
    assert read["valid_until"] == "2027-02-28"
    coordinator12 = await sign_in(county, "coord12")
    assert (await coordinator12.get(f"/api/v1/agreements/{agreement['id']}")).status_code == 404


async def test_validity_ending_before_it_starts_is_refused(
    county: County, sign_in: SignIn, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    response = await officer.post("/api/v1/agreements", json=agreement_body(county, valid_until="2026-01-01"))
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["body", "valid_until"]


async def test_replacing_or_deleting_a_signed_scan_is_refused_audited_and_changes_nothing(
    county: County, sign_in: SignIn, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    original = pdf_bytes()
    agreement, scan = await signed_agreement(officer, county, original)

    replaced = await officer.post(
        f"/api/v1/agreements/{agreement['id']}/signed-scan", files={"file": ("换.png", png_bytes(), "image/png")}
    )
    assert replaced.status_code == 409
    assert replaced.json()["error"] == "SIGNED_SCAN_LOCKED"
    deleted = await officer.delete(f"/api/v1/documents/{scan['id']}")
    assert deleted.status_code == 409
    assert deleted.json()["error"] == "SIGNED_SCAN_LOCKED"

    # Both refusals are in the audit trail, with who tried.
    assert await actions_for(database, county, scan["id"]) == [
        "document.upload",
        "document.replace_refused",
        "document.delete_refused",
    ]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        refusals = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action.like("document.%_refused"))))
            .scalars()
            .all()
        )
        assert {event.actor_id for event in refusals} == {str(county.users["officer"].id)}
    # Nothing changed: same scan on the agreement, same bytes in storage.
    assert (await officer.get(f"/api/v1/agreements/{agreement['id']}")).json()["signed_document_id"] == scan["id"]
    key = (await doc_store.list_keys(f"tenants/{county.tenant.id}/"))[0]
    assert await doc_store.get(key) == original
    # Below the service, the storage refuses too (S3: object-lock retention where the server has it).
    with pytest.raises(ObjectRetained):
        await doc_store.put(key, png_bytes(), content_type="image/png", overwrite=True)
    with pytest.raises(ObjectRetained):
        await doc_store.delete(key)
    if isinstance(doc_store, S3ObjectStorage):
        # And the S3 server holds the object under object-lock retention until the document's retention day.
        headers = doc_store.client.stat_object(doc_store.bucket, key).metadata or {}
        assert headers["x-amz-object-lock-mode"] == "GOVERNANCE"
        assert headers["x-amz-object-lock-retain-until-date"].startswith(scan["retain_until"][:4])


async def test_a_new_version_of_a_signed_scan_is_a_new_locked_object_linked_to_the_old(
    county: County, sign_in: SignIn, doc_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    original = pdf_bytes()
    _, scan = await signed_agreement(officer, county, original)
    newer = await officer.post(
        f"/api/v1/documents/{scan['id']}/versions", files={"file": ("第二版.png", png_bytes(), "image/png")}
    )
    assert newer.status_code == 201, newer.text
    version = newer.json()
    assert version["supersedes_id"] == scan["id"]
    assert version["locked"] is True
    assert version["id"] != scan["id"]
    keys = await doc_store.list_keys(f"tenants/{county.tenant.id}/")
    assert len(keys) == 2
    old_key = next(key for key in keys if scan["id"] in key)
    assert await doc_store.get(old_key) == original
    # Versions chain from the latest only.
    again = await officer.post(
        f"/api/v1/documents/{scan['id']}/versions", files={"file": ("x.png", png_bytes(), "image/png")}
    )
    assert again.status_code == 422


async def test_a_renewal_is_a_new_agreement_linked_to_the_old_one(
    county: County, sign_in: SignIn, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    agreement, _ = await signed_agreement(officer, county, pdf_bytes())
    renewal = await officer.post(
        f"/api/v1/agreements/{agreement['id']}/renew",
        json={"signed_on": "2026-11-20", "valid_from": "2027-03-01", "valid_until": "2028-02-29"},
    )
    assert renewal.status_code == 201, renewal.text
    renewed = renewal.json()
    assert renewed["renews_id"] == agreement["id"]
    assert renewed["signed_document_id"] is None
    assert renewed["parties"] == agreement["parties"]
    assert date.fromisoformat(renewed["valid_until"]) == date(2028, 2, 29)


async def test_an_unsigned_scan_attached_by_mistake_can_be_withdrawn(
    county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    document = (await upload(officer, "person", person.id, pdf_bytes())).json()
    response = await officer.delete(f"/api/v1/documents/{document['id']}")
    assert response.status_code == 200
    assert response.json()["destroyed_at"] is not None
    assert await doc_store.list_keys(f"tenants/{county.tenant.id}/") == []
    assert (await officer.get(f"/api/v1/documents/{document['id']}/download")).status_code == 409
    assert await actions_for(database, county, document["id"]) == ["document.upload", "document.delete"]


async def test_the_agreement_list_filters_by_kind_unit_and_expiry_within_the_readers_reach(
    county: County, sign_in: SignIn, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    today = china_today()
    soon = (today + timedelta(days=20)).isoformat()
    later = (today + timedelta(days=400)).isoformat()
    signed = (today - timedelta(days=10)).isoformat()
    dates = {"signed_on": signed, "valid_from": signed}
    ending_soon = await officer.post(
        "/api/v1/agreements", json=agreement_body(county, **dates, valid_until=soon, title="即将到期")
    )
    await officer.post("/api/v1/agreements", json=agreement_body(county, **dates, valid_until=later, kind="contract"))
    at_v12 = await officer.post(
        "/api/v1/agreements",
        json=agreement_body(county, **dates, valid_until=later, org_unit_code=county.units["v12"]),
    )
    assert ending_soon.status_code == at_v12.status_code == 201

    everything = (await officer.get("/api/v1/agreements")).json()
    assert everything["total"] == 3
    assert everything["items"][0]["title"] == "即将到期"  # the one ending soonest comes first
    contracts = (await officer.get("/api/v1/agreements", params={"kind": "contract"})).json()
    assert [item["kind"] for item in contracts["items"]] == ["contract"]
    expiring = (await officer.get("/api/v1/agreements", params={"expiring_within_days": 30})).json()
    assert [item["id"] for item in expiring["items"]] == [ending_soon.json()["id"]]
    at_unit = (await officer.get("/api/v1/agreements", params={"org_unit_code": county.units["v12"]})).json()
    assert [item["id"] for item in at_unit["items"]] == [at_v12.json()["id"]]

    # A renewal takes the old agreement off the expiring list.
    renewal = await officer.post(
        f"/api/v1/agreements/{ending_soon.json()['id']}/renew",
        json={"signed_on": today.isoformat(), "valid_from": soon, "valid_until": later},
    )
    assert renewal.status_code == 201
    assert (await officer.get("/api/v1/agreements", params={"expiring_within_days": 30})).json()["total"] == 0

    # A village coordinator of v12 sees only the agreement kept at her village.
    coordinator12 = await sign_in(county, "coord12")
    hers = (await coordinator12.get("/api/v1/agreements")).json()
    assert [item["id"] for item in hers["items"]] == [at_v12.json()["id"]]
