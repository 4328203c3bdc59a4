"""Reading documents: only through an authorized request (404 otherwise, so no presigned URL), a short-lived
presigned URL on S3 and a stream on local storage, every access audited with the reader; thumbnails."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
from PIL import Image
from sqlalchemy import select

from backend.core.storage import LocalObjectStorage, ObjectStorage, S3ObjectStorage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.backend.core.s3_server import S3Endpoint
from tests.backend.documents.conftest import URL_SECONDS, AddPerson, pdf_bytes, png_bytes, upload
from tests.fixtures.identity import County, SignIn


async def audit_events(database: Database, county: County, action: str, entity_id: str) -> list[AuditEvent]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_id == entity_id)
        return list((await session.execute(statement.order_by(AuditEvent.seq))).scalars().all())


async def test_download_streams_locally_or_redirects_to_a_presigned_url_and_is_audited_with_the_reader(
    county: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    data = pdf_bytes()
    document = (await upload(officer, "person", person.id, data, filename="结婚证.pdf")).json()
    reader = await sign_in(county, "coord11")
    response = await reader.get(f"/api/v1/documents/{document['id']}/download")
    if isinstance(doc_store, LocalObjectStorage):
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''%E7%BB%93%E5%A9%9A%E8%AF%81.pdf" in response.headers["content-disposition"]
        assert response.headers["x-content-type-options"] == "nosniff"
        via = "stream"
    else:
        assert isinstance(doc_store, S3ObjectStorage)
        assert response.status_code == 307
        url = response.headers["location"]
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Expires"] == [str(URL_SECONDS)]
        async with httpx.AsyncClient() as browser:
            fetched = await browser.get(url)
        assert fetched.status_code == 200
        assert fetched.content == data
        via = "presigned_url"
    events = await audit_events(database, county, "document.download", document["id"])
    assert len(events) == 1
    assert events[0].actor_id == str(county.users["coord11"].id)
    assert events[0].changes["via"] == via


async def test_a_presigned_url_expires_after_the_configured_lifetime(
    county: County,
    sign_in: SignIn,
    add_person: AddPerson,
    make_s3_storage,
    s3_server: S3Endpoint,
    settings,
    tmp_path,
) -> None:
    from backend.documents.storage import install_document_storage
    from tests.backend.documents.conftest import document_settings

    store = make_s3_storage()
    await store.ensure_bucket()
    install_document_storage(store, document_settings(settings, presigned_url_seconds=1))
    try:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        document = (await upload(officer, "person", person.id, pdf_bytes())).json()
        response = await officer.get(f"/api/v1/documents/{document['id']}/download")
        url = response.headers["location"]
        query = parse_qs(urlsplit(url).query)
        signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert query["X-Amz-Expires"] == ["1"]
        assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 30
        if s3_server.checks_signatures:  # MinIO enforces expiry; moto accepts any signature
            await anyio.sleep(2.5)
            async with httpx.AsyncClient() as browser:
                assert (await browser.get(url)).status_code == 403
    finally:
        install_document_storage(None)


async def test_without_document_read_on_the_unit_every_read_is_404_and_no_url_is_given(
    county: County, other: County, sign_in: SignIn, add_person: AddPerson, doc_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county, unit="v11")
    document = (await upload(officer, "person", person.id, png_bytes())).json()
    path = f"/api/v1/documents/{document['id']}"
    for outsider in (await sign_in(county, "coord12"), await sign_in(other, "county_officer")):
        responses = [
            await outsider.get(path),
            await outsider.get(f"{path}/download"),
            await outsider.get(f"{path}/preview"),
            await outsider.get("/api/v1/documents", params={"owner_kind": "person", "owner_id": str(person.id)}),
        ]
        assert [response.status_code for response in responses] == [404] * 4
        assert all("location" not in response.headers for response in responses)
        assert all("X-Amz" not in response.text for response in responses)
    # The county admin manages users, not personal data: no document.read at all.
    admin = await sign_in(county, "admin")
    assert (await admin.get(f"{path}/download")).status_code == 403
    assert await audit_events(database, county, "document.download", document["id"]) == []


async def test_the_auditor_reads_documents_in_the_whole_county(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    document = (await upload(officer, "person", person.id, pdf_bytes())).json()
    auditor = await sign_in(county, "auditor")
    assert (await auditor.get(f"/api/v1/documents/{document['id']}/download")).status_code == 200


async def test_previews_are_pngs_of_the_image_and_of_the_pdfs_first_page(
    county: County, sign_in: SignIn, add_person: AddPerson, local_store: ObjectStorage, database: Database
) -> None:
    officer = await sign_in(county, "officer")
    person = await add_person(county)
    image = (await upload(officer, "person", person.id, png_bytes((800, 500)), filename="a.png")).json()
    pdf = (await upload(officer, "person", person.id, pdf_bytes())).json()
    for document, expected_colour in ((image, (200, 30, 30)), (pdf, (255, 255, 255))):
        response = await officer.get(f"/api/v1/documents/{document['id']}/preview", params={"width": 200})
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(response.content)) as thumbnail:
            assert thumbnail.format == "PNG"
            assert thumbnail.width <= 200
            assert thumbnail.convert("RGB").getpixel((thumbnail.width // 2, thumbnail.height // 2)) == expected_colour
        assert len(await audit_events(database, county, "document.preview", document["id"])) == 1
