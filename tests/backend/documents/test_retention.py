"""Retention: periods per kind from configuration, the report of documents past retention, destruction approved
by an administrator one document at a time (audited), and nothing deleted automatically."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select, update

from backend.calendar.service import china_today
from backend.config import Settings
from backend.core.storage import ObjectStorage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.documents.retention import DEFAULT_RETENTION_YEARS, retain_until_for
from backend.models import AuditEvent, Document, DocumentKind
from tests.backend.documents.conftest import AddPerson, document_settings, pdf_bytes, upload
from tests.fixtures.identity import County, SignIn


def test_periods_come_from_configuration_with_defaults_per_kind(settings) -> None:  # type: ignore[no-untyped-def]
    configured = document_settings(settings, document_retention_years={"id_card": 1})
    stored_on = date(2024, 2, 29)
    assert retain_until_for(configured, DocumentKind.id_card, stored_on) == date(2025, 2, 28)
    years = DEFAULT_RETENTION_YEARS[DocumentKind.agreement]
    assert retain_until_for(configured, DocumentKind.agreement, stored_on) == date(2024 + years, 2, 28)


async def age(database: Database, county: County, document_id: str, retain_until: date) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        await session.execute(
            update(Document).where(Document.id == uuid.UUID(document_id)).values(retain_until=retain_until)
        )


async def test_a_document_is_kept_until_its_date_and_then_listed_not_deleted(
    county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    document = (await upload(officer, "person", person.id, pdf_bytes(), kind="id_card")).json()
    assert date.fromisoformat(document["retain_until"]) == retain_until_for(
        Settings(), DocumentKind.id_card, china_today()
    )
    admin = await sign_in(county, "admin")
    assert (await admin.get("/api/v1/document-retention")).json()["total"] == 0
    early = await admin.post(f"/api/v1/documents/{document['id']}/destroy", json={"reason": "到期销毁"})
    assert early.status_code == 409 and early.json()["error"] == "RETENTION_NOT_PASSED"

    await age(database, county, document["id"], china_today() - timedelta(days=1))
    report = (await admin.get("/api/v1/document-retention")).json()
    assert [item["id"] for item in report["items"]] == [document["id"]]
    assert "display_name" not in report["items"][0]  # the admin sees no personal data
    # Listed, not deleted: the bytes are still there until someone approves.
    assert len(await doc_store.list_keys(f"tenants/{county.tenant.id}/")) == 1
    officer_report = await officer.get("/api/v1/document-retention")
    assert officer_report.status_code == 403


async def test_an_administrator_approves_destruction_which_is_audited_and_keeps_a_tombstone(
    county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    document = (await upload(officer, "person", person.id, pdf_bytes(), kind="other")).json()
    await age(database, county, document["id"], china_today() - timedelta(days=1))
    admin = await sign_in(county, "admin")
    destroyed = await admin.post(f"/api/v1/documents/{document['id']}/destroy", json={"reason": "保存期满，经批准销毁"})
    assert destroyed.status_code == 200, destroyed.text
    assert destroyed.json()["destroyed_at"] is not None
    assert await doc_store.list_keys(f"tenants/{county.tenant.id}/") == []
    assert (await admin.get("/api/v1/document-retention")).json()["total"] == 0
    again = await admin.post(f"/api/v1/documents/{document['id']}/destroy", json={"reason": "再次"})
    assert again.status_code == 409
    metadata = (await officer.get(f"/api/v1/documents/{document['id']}")).json()
    assert metadata["destroyed_at"] is not None
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        events = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "document.destroy"))).scalars().all()
        )
    assert [(event.entity_id, event.reason, event.actor_id) for event in events] == [
        (document["id"], "保存期满，经批准销毁", str(county.users["admin"].id))
    ]
