"""Counties, persons, cases and a document store of each driver for the documents tests.

`doc_store` installs a fresh store (local directory or a new S3 bucket on the loopback server) with small
limits for one test; tests that care about both drivers use it, the others `local_store`.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from backend.authz.vocabulary import Role
from backend.config import Settings
from backend.core.storage import ObjectStorage, build_storage
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.documents.storage import install_document_storage
from backend.models import FlowDirection, Person, Sex
from tests.backend.core.conftest import (  # noqa: F401 - fixtures
    make_s3_storage,
    s3_server,
    storage,
    storage_clock,
    storage_kind,
)
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county

UPLOAD_LIMIT = 256 * 1024
URL_SECONDS = 2

AddPerson = Callable[..., Awaitable[Person]]


def document_settings(settings: Settings, **overrides: Any) -> Settings:
    return settings.model_copy(
        update={"upload_max_bytes": UPLOAD_LIMIT, "presigned_url_seconds": URL_SECONDS, **overrides}
    )


@pytest.fixture
async def doc_store(storage: ObjectStorage, settings: Settings, tmp_path) -> AsyncIterator[ObjectStorage]:  # noqa: F811
    """A fresh store of each driver (parametrized local / s3), installed for the app's document services."""
    install_document_storage(storage, document_settings(settings, document_templates_dir=tmp_path / "templates"))
    yield storage
    install_document_storage(None)


@pytest.fixture
async def local_store(settings: Settings, tmp_path) -> AsyncIterator[ObjectStorage]:
    """A fresh local store, for tests where the driver does not matter."""
    store = build_storage(Settings(storage_driver="local", storage_local_dir=tmp_path / "objects"))
    await store.ensure_bucket()
    install_document_storage(store, document_settings(settings, document_templates_dir=tmp_path / "templates"))
    yield store
    install_document_storage(None)


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    """Township officer of t1, village coordinators of v11 and v12, an auditor and a county admin."""
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "coord11", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "coord12", "v12", [(Role.village_coordinator, "v12")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    return county


@pytest.fixture
async def other(database: Database, tenant_factory: TenantFactory) -> County:
    other = await build_county(database, tenant_factory, "他县")
    await add_user(database, other, "county_officer", "county", [(Role.county_officer, "county")])
    return other


@pytest.fixture
def add_person(database: Database) -> AddPerson:
    async def add(county: County, name: str = "李梅", unit: str = "v11") -> Person:
        person = Person(
            id=uuid.uuid4(),
            tenant_id=county.tenant.id,
            name=name,
            name_pinyin="li mei",
            name_initials="lm",
            sex=Sex.female,
            ethnicity="汉族",
            org_unit_code=county.units.get(unit, unit),
            flow_direction=FlowDirection.inflow,
            key_subject=False,
        )
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            session.add(person)
        return person

    return add


async def create_case(client: httpx.AsyncClient, county: County, person: Person, unit: str = "v11") -> dict[str, Any]:
    response = await client.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": county.units[unit],
            "subjects": [{"person_id": str(person.id)}],
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def pdf_bytes() -> bytes:
    """A small, clean PDF (one white page), made by Pillow."""
    output = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(output, format="PDF")
    return output.getvalue()


def png_bytes(size: tuple[int, int] = (320, 200)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, format="PNG")
    return output.getvalue()


async def upload(
    client: httpx.AsyncClient,
    owner_kind: str,
    owner_id: uuid.UUID | str,
    data: bytes,
    *,
    filename: str = "扫描件.pdf",
    content_type: str = "application/pdf",
    kind: str = "id_card",
    **form: str,
) -> httpx.Response:
    return await client.post(
        "/api/v1/documents",
        data={"owner_kind": owner_kind, "owner_id": str(owner_id), "kind": kind, **form},
        files={"file": (filename, data, content_type)},
    )
