"""Org tree CSV import: all or nothing, every problem reported with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import text

from backend.config import PROJECT_ROOT
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Tenant
from tests.fixtures.database import TenantFactory


def _tree(code: str) -> str:
    return (
        "code,parent_code,name,kind\n"
        f"{code}001,{code},城关镇,镇\n"
        f"{code}002,{code},东街道,subdistrict\n"
        f"{code}001001,{code}001,城关村,村\n"
        f"{code}002001,{code}002,东门社区,社区\n"
    )


async def _unit_count(database: Database, tenant: Tenant) -> int:
    async with database.sessionmaker() as db_session, db_session.begin():
        await set_tenant(db_session, tenant.id)
        return int((await db_session.execute(text("SELECT count(*) FROM org_units"))).scalar_one())


def _cli_import(code: str, path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "org", "import", code, str(path)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestOrgImportCli:
    async def test_valid_file_is_imported_and_audited(
        self, database: Database, tenant_factory: TenantFactory, subprocess_env: dict[str, str], tmp_path: Path
    ) -> None:
        tenant = await tenant_factory()
        csv_file = tmp_path / "org.csv"
        csv_file.write_text(_tree(tenant.code), encoding="utf-8")
        result = _cli_import(tenant.code, csv_file, subprocess_env)
        assert result.returncode == 0, result.stderr
        assert "created 4" in result.stdout
        assert await _unit_count(database, tenant) == 5
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant.id)
            created = (
                await db_session.execute(text("SELECT count(*) FROM audit_events WHERE action = 'org_unit.create'"))
            ).scalar_one()
        assert created == 4
        # Importing the same file again changes nothing.
        again = _cli_import(tenant.code, csv_file, subprocess_env)
        assert "created 0, updated 0, unchanged 4" in again.stdout

    async def test_village_not_under_its_township_is_rejected_with_its_line(
        self, database: Database, tenant_factory: TenantFactory, subprocess_env: dict[str, str], tmp_path: Path
    ) -> None:
        tenant = await tenant_factory()
        bad = _tree(tenant.code) + f"{tenant.code}003001,{tenant.code}001,错挂村,村\n"
        csv_file = tmp_path / "org.csv"
        csv_file.write_text(bad, encoding="utf-8")
        result = _cli_import(tenant.code, csv_file, subprocess_env)
        assert result.returncode == 2
        assert "line 6 parent_code" in result.stderr
        assert f"does not start with its parent's code {tenant.code}001" in result.stderr
        assert await _unit_count(database, tenant) == 1  # nothing imported


class TestOrgImportApi:
    async def test_every_bad_line_is_reported_and_nothing_is_written(
        self,
        api: httpx.AsyncClient,
        platform_headers: dict[str, str],
        database: Database,
        tenant_factory: TenantFactory,
    ) -> None:
        tenant = await tenant_factory()
        code = tenant.code
        body = (
            "code,parent_code,name,kind\n"
            f"{code}001,{code},城关镇,镇\n"
            f"{code}01,{code},短码镇,镇\n"  # line 3: wrong length
            f"{code}002,{code},,镇\n"  # line 4: no name
            f"{code}001001,{code}001,城关村,镇\n"  # line 5: village code with a township kind
            f"{code}001,{code},重复镇,镇\n"  # line 6: duplicate
            f"123456001,123456,外县镇,镇\n"  # line 7: another county
        )
        response = await api.post(
            f"/api/v1/platform/tenants/{code}/org-units/import",
            content=body.encode(),
            headers={**platform_headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == 422
        payload = response.json()
        assert payload["error"] == "INVALID_INPUT"
        locations = {tuple(field["loc"]) for field in payload["fields"]}
        assert locations >= {
            ("line", 3, "code"),
            ("line", 4, "name"),
            ("line", 5, "kind"),
            ("line", 6, "code"),
            ("line", 7, "code"),
        }
        assert ("line", 2, "code") not in locations
        assert await _unit_count(database, tenant) == 1

    async def test_missing_parent_is_rejected(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str], tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        body = f"code,parent_code,name,kind\n{tenant.code}009001,{tenant.code}009,孤村,村\n"
        response = await api.post(
            f"/api/v1/platform/tenants/{tenant.code}/org-units/import",
            content=body.encode(),
            headers={**platform_headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == 422
        assert response.json()["fields"][0]["loc"] == ["line", 2, "parent_code"]

    async def test_rename_is_an_audited_update(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str], tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        url = f"/api/v1/platform/tenants/{tenant.code}/org-units/import"
        headers = {**platform_headers, "Content-Type": "text/csv"}
        assert (await api.post(url, content=_tree(tenant.code).encode(), headers=headers)).status_code == 200
        renamed = _tree(tenant.code).replace("城关镇", "城关街道").replace(",镇\n", ",街道\n")
        response = await api.post(url, content=renamed.encode(), headers=headers)
        assert response.json() == {"created": 0, "updated": 1, "unchanged": 3}
        units = (await api.get(f"/api/v1/platform/tenants/{tenant.code}/org-units", headers=platform_headers)).json()
        assert {unit["code"]: unit["name"] for unit in units}[f"{tenant.code}001"] == "城关街道"
