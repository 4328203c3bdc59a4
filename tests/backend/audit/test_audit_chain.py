"""The audit log: appended in the writer's transaction, append-only for the app, tamper-evident by hash chain."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.audit import service as audit
from backend.authz.vocabulary import Role
from backend.config import PROJECT_ROOT
from backend.core.context import Actor, actor_var, request_id_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Tenant
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import SignIn, add_user, build_county


async def _append_events(database: Database, tenant: Tenant, count: int) -> None:
    actor_var.set(Actor(kind="user", id="u-1", label="测试用户"))
    async with database.sessionmaker() as db_session, db_session.begin():
        await set_tenant(db_session, tenant.id)
        for index in range(count):
            await audit.record(
                db_session,
                action="person.update",
                entity_type="person",
                entity_id=f"p-{index}",
                org_unit_code=tenant.code,
                changes=audit.diff({"name": "张三"}, {"name": f"张三{index}"}),
            )


def _verify_cli(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "audit", "verify", "--tenant", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _tamper(owner_engine: AsyncEngine, tenant: Tenant, sql: str, seq: int) -> None:
    async with owner_engine.begin() as connection:
        # The owner is bound by the forced policy too, so it names the tenant like anyone else.
        await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
        result = await connection.execute(text(sql), {"tenant_id": tenant.id, "seq": seq})
        assert result.rowcount == 1


class TestRecording:
    async def test_event_carries_actor_request_and_diff(
        self, database: Database, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        actor_var.set(Actor(kind="user", id="u-7", label="李四"))
        request_id_var.set("req-12345678")
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant.id)
            event = await audit.record(
                db_session,
                action="person.update",
                entity_type="person",
                entity_id="p-1",
                org_unit_code=tenant.code,
                changes=audit.diff(
                    {"name": "张三", "phone": "138"}, {"name": "张叁", "phone": "139"}, redact=frozenset({"phone"})
                ),
            )
        request_id_var.set(None)
        assert (event.actor_kind, event.actor_id, event.request_id) == ("user", "u-7", "req-12345678")
        assert event.changes == {"name": ["张三", "张叁"], "phone": ["***", "***"]}
        assert event.seq == 2  # 1 is the provisioning event

    async def test_event_rolls_back_with_the_change(self, database: Database, tenant_factory: TenantFactory) -> None:
        tenant = await tenant_factory()
        async with database.sessionmaker() as db_session:
            transaction = await db_session.begin()
            await set_tenant(db_session, tenant.id)
            await audit.record(db_session, action="x.y", entity_type="x", entity_id="1")
            await transaction.rollback()
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant.id)
            count = (await db_session.execute(text("SELECT count(*) FROM audit_events"))).scalar_one()
            assert count == 1


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_events SET action = 'forged'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ],
    )
    async def test_app_role_cannot_change_or_remove_events(
        self, database: Database, tenant_factory: TenantFactory, statement: str
    ) -> None:
        tenant = await tenant_factory()
        async with database.sessionmaker() as db_session:
            with pytest.raises(DBAPIError, match="permission denied"):
                async with db_session.begin():
                    await set_tenant(db_session, tenant.id)
                    await db_session.execute(text(statement))


class TestVerification:
    async def test_untouched_chain_verifies(
        self, database: Database, tenant_factory: TenantFactory, subprocess_env: dict[str, str]
    ) -> None:
        tenant = await tenant_factory()
        await _append_events(database, tenant, 5)
        result = _verify_cli(tenant.code, subprocess_env)
        assert result.returncode == 0, result.stderr
        assert "OK" in result.stdout and "6 events" in result.stdout

    async def test_tampered_row_is_named(
        self,
        database: Database,
        owner_engine: AsyncEngine,
        tenant_factory: TenantFactory,
        subprocess_env: dict[str, str],
    ) -> None:
        tenant = await tenant_factory()
        await _append_events(database, tenant, 5)
        await _tamper(
            owner_engine,
            tenant,
            'UPDATE audit_events SET changes = \'{"name": ["张三", "王五"]}\' '
            "WHERE tenant_id = :tenant_id AND seq = :seq",
            seq=4,
        )
        result = _verify_cli(tenant.code, subprocess_env)
        assert result.returncode == 1
        assert "first broken link at seq 4" in result.stdout
        assert "content does not match" in result.stdout

    async def test_deleted_row_is_detected(
        self,
        database: Database,
        owner_engine: AsyncEngine,
        tenant_factory: TenantFactory,
        subprocess_env: dict[str, str],
    ) -> None:
        tenant = await tenant_factory()
        await _append_events(database, tenant, 4)
        await _tamper(
            owner_engine, tenant, "DELETE FROM audit_events WHERE tenant_id = :tenant_id AND seq = :seq", seq=3
        )
        result = _verify_cli(tenant.code, subprocess_env)
        assert result.returncode == 1
        assert "seq 4" in result.stdout and "sequence gap" in result.stdout

    async def test_removed_last_row_is_detected_by_the_head(
        self,
        database: Database,
        owner_engine: AsyncEngine,
        tenant_factory: TenantFactory,
        subprocess_env: dict[str, str],
    ) -> None:
        tenant = await tenant_factory()
        await _append_events(database, tenant, 3)
        await _tamper(
            owner_engine, tenant, "DELETE FROM audit_events WHERE tenant_id = :tenant_id AND seq = :seq", seq=4
        )
        result = _verify_cli(tenant.code, subprocess_env)
        assert result.returncode == 1
        assert "chain head does not match" in result.stdout

    async def test_unknown_tenant_is_a_clear_error(self, subprocess_env: dict[str, str]) -> None:
        result = _verify_cli("000000", subprocess_env)
        assert result.returncode == 2
        assert "000000" in result.stderr


class TestMixedWriters:
    async def test_case_openings_and_ordinary_appends_in_one_county_at_once_make_one_chain(
        self, database: Database, tenant_factory: TenantFactory, sign_in: SignIn
    ) -> None:
        """The case opening appends its event in a hand-written statement (docs/adr/0012-lean-case-opening.md),
        every other writer through `record()`: interleaved in one county, they still form one verifiable chain."""
        county = await build_county(database, tenant_factory)
        await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
        officer = await sign_in(county, "t1.officer")
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, county.tenant.id)
            before = (await audit.verify_chain(db_session)).events_checked
        body = {"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
        openings = [officer.post("/api/v1/cases", json=body) for _ in range(8)]
        results = await asyncio.gather(*openings, *(_append_events(database, county.tenant, 3) for _ in range(4)))
        responses = results[:8]
        assert [response.status_code for response in responses] == [201] * 8
        numbers = {response.json()["number"] for response in responses}
        year = responses[0].json()["number"].split("-")[1]
        assert numbers == {f"{county.code}-{year}-{index:06d}" for index in range(1, 9)}
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, county.tenant.id)
            verification = await audit.verify_chain(db_session)
        assert verification.ok, verification.problem
        assert verification.events_checked == before + 8 + 4 * 3
