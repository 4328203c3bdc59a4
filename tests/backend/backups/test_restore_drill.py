"""The backup and restore drill, the way an operator runs it: a populated instance (its own database and
object store) is backed up with `python -m backend.cli backup`, restored with `restore` into a fresh
PostgreSQL server, and the restore is checked: the same row counts, every county's audit chain intact and
every document's object present with its recorded SHA-256. Tampering afterwards is caught."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from backend.authz.vocabulary import Role
from backend.backups.service import verify_restored
from backend.config import PROJECT_ROOT, Settings
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.storage import ObjectStorage, build_storage
from backend.db.engine import Database, create_engine
from backend.devservices import postgres
from backend.documents.storage import install_document_storage
from backend.main import create_app
from backend.models import Tenant
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant
from tests.backend.documents.conftest import pdf_bytes, png_bytes, upload
from tests.backend.persons.factories import person_body
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import PASSWORD, County, add_user, build_county


@dataclass
class Instance:
    settings: Settings
    urls: postgres.DatabaseUrls
    storage: ObjectStorage
    env: dict[str, str]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def instance(settings: Settings, tmp_path: Path) -> Iterator[Instance]:
    """A database of its own on the test server, built by the migrations, and a local object store: the
    drill checks every county's rows and objects, so no other test's rows may be in it."""
    server = postgres.start_server(PROJECT_ROOT / "var" / "test-pgdata")
    name = f"liuguan_drill_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    urls = postgres.bootstrap(server, name, recreate=True)
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": urls.app,
        "DATABASE_OWNER_URL": urls.owner,
        "DATABASE_BACKUP_URL": urls.superuser,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "STORAGE_DRIVER": "local",
        "STORAGE_LOCAL_DIR": str(tmp_path / "objects"),
        "LOG_LEVEL": "WARNING",
    }
    assert _cli(env, "db", "upgrade").returncode == 0
    own = settings.model_copy(
        update={
            "database_url": urls.app,
            "database_owner_url": urls.owner,
            "storage_driver": "local",
            "storage_local_dir": tmp_path / "objects",
        }
    )
    yield Instance(own, urls, build_storage(own), env)
    install_document_storage(None)
    postgres.psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def populated(instance: Instance) -> AsyncIterator[list[County]]:
    """Two counties with users, persons, cases and uploaded documents, all through the app."""
    app: FastAPI = create_app(instance.settings)
    database = Database.from_settings(instance.settings)

    async def tenant_factory(name: str = "测试县") -> Tenant:
        actor_var.set(SYSTEM_ACTOR)
        async with database.sessionmaker() as session, session.begin():
            return await provision_tenant(session, TenantCreate(code=unique_county_code(), name=name))

    counties = []
    async with app.router.lifespan_context(app):
        for name in ("甲县", "乙县"):
            county = await build_county(database, tenant_factory, name)
            await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as officer:
                signed = await officer.post(
                    "/api/v1/auth/session",
                    json={"tenant_code": county.code, "username": "officer", "password": PASSWORD},
                )
                officer.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
                person = await officer.post("/api/v1/persons", json=person_body(county))
                assert person.status_code == 201, person.text
                person_id = person.json()["id"]
                case = await officer.post(
                    "/api/v1/cases",
                    json={
                        "case_type": "inflow_registration",
                        "org_unit_code": county.units["v11"],
                        "subjects": [{"person_id": person_id}],
                    },
                )
                assert case.status_code == 201, case.text
                for data, filename, media in (
                    (png_bytes(), "正面.png", "image/png"),
                    (pdf_bytes(), "协议.pdf", "application/pdf"),
                ):
                    stored = await upload(officer, "person", person_id, data, filename=filename, content_type=media)
                    assert stored.status_code == 201, stored.text
            counties.append(county)
    await database.dispose()
    return counties


@pytest.fixture
def fresh_server() -> Iterator[postgres.DatabaseUrls]:
    """A second PostgreSQL server, never used before, with the roles and an empty database prepared the way
    docs/operations.md section 2 tells a DBA (a short path: the socket lives in the data directory)."""
    folder = Path(tempfile.mkdtemp(prefix="lg-restore-"))
    server = postgres.start_server(folder / "pgdata")
    try:
        yield postgres.bootstrap(server, "liuguan")
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_backup_restores_into_a_fresh_server_with_counts_chains_and_documents_intact(
    instance: Instance, populated: list[County], fresh_server: postgres.DatabaseUrls, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backup"
    made = _cli(instance.env, "backup", "--output", str(backup_dir))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    tables = manifest["database"]["tables"]
    assert tables["tenants"] == 2 and tables["persons"] == 2 and tables["documents"] == 4
    assert tables["audit_events"] > 0 and len(manifest["objects"]) == 4

    restored = _cli(instance.env, "restore", "--input", str(backup_dir), "--database-url", fresh_server.superuser)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    lines = restored.stdout.splitlines()
    assert any(line.startswith("OK: row counts:") for line in lines)
    for county in populated:
        assert any(line.startswith(f"OK: audit chain {county.code}:") for line in lines)
    assert "OK: document checksums: 4 documents match their objects" in lines
    assert lines[-1] == "restore verified"

    # The restored database serves the application role under row-level security, as the original did.
    engine = create_engine(fresh_server.app, pool_size=1)
    try:
        async with engine.begin() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM persons"))).scalar_one() == 0
            await connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(populated[0].tenant.id)}
            )
            assert (await connection.execute(text("SELECT count(*) FROM persons"))).scalar_one() == 1
    finally:
        await engine.dispose()

    # Tampering after the backup: an altered object and an edited audit event are both reported.
    data_files = sorted((tmp_path / "objects").rglob("*.o"))
    assert data_files
    data_files[0].write_bytes(b"altered")
    superuser = create_engine(fresh_server.superuser, pool_size=1)
    try:
        async with superuser.begin() as connection:
            await connection.execute(
                text("UPDATE audit_events SET entity_type = 'rewritten' WHERE seq = 1 AND tenant_id = :tenant"),
                {"tenant": populated[1].tenant.id},
            )
    finally:
        await superuser.dispose()
    report = await verify_restored(instance.storage, fresh_server.superuser, manifest)
    failed = {check.name for check in report.checks if not check.ok}
    assert not report.ok
    assert {"document checksums", "object manifest", f"audit chain {populated[1].code}"} <= failed
    assert f"audit chain {populated[0].code}" not in failed
