"""Row-level security, exercised with raw SQL through the application role, as an attacker would."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from tests.fixtures.database import TenantFactory


async def _count_org_units(db_session, tenant_id: uuid.UUID) -> int:  # type: ignore[no-untyped-def]
    result = await db_session.execute(
        text("SELECT count(*) FROM org_units WHERE tenant_id = :tenant_id"), {"tenant_id": tenant_id}
    )
    return int(result.scalar_one())


class TestRowLevelSecurity:
    async def test_no_tenant_set_shows_no_rows(self, database: Database, tenant_factory: TenantFactory) -> None:
        tenant = await tenant_factory()
        async with database.sessionmaker() as db_session, db_session.begin():
            for table in ("org_units", "audit_events", "audit_chain_heads"):
                count = (await db_session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                assert count == 0, table
            await set_tenant(db_session, tenant.id)
            assert await _count_org_units(db_session, tenant.id) == 1  # the county root exists

    async def test_tenant_a_cannot_read_tenant_b(self, database: Database, tenant_factory: TenantFactory) -> None:
        tenant_a, tenant_b = await tenant_factory(), await tenant_factory()
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant_a.id)
            assert await _count_org_units(db_session, tenant_b.id) == 0
            assert await _count_org_units(db_session, tenant_a.id) == 1

    async def test_tenant_a_cannot_insert_into_tenant_b(
        self, database: Database, tenant_factory: TenantFactory
    ) -> None:
        tenant_a, tenant_b = await tenant_factory(), await tenant_factory()
        async with database.sessionmaker() as db_session:
            with pytest.raises(ProgrammingError, match="row-level security"):
                async with db_session.begin():
                    await set_tenant(db_session, tenant_a.id)
                    await db_session.execute(
                        text(
                            "INSERT INTO org_units (id, tenant_id, code, parent_code, name, kind, active, version) "
                            "VALUES (:id, :tenant_id, :code, :parent, 'x', 'township', true, 1)"
                        ),
                        {
                            "id": uuid.uuid4(),
                            "tenant_id": tenant_b.id,
                            "code": tenant_b.code + "001",
                            "parent": tenant_b.code,
                        },
                    )

    async def test_tenant_a_cannot_update_or_delete_tenant_b(
        self, database: Database, tenant_factory: TenantFactory
    ) -> None:
        tenant_a, tenant_b = await tenant_factory(), await tenant_factory()
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant_a.id)
            updated = await db_session.execute(
                text("UPDATE org_units SET name = 'hijacked' WHERE tenant_id = :tenant_id"),
                {"tenant_id": tenant_b.id},
            )
            assert updated.rowcount == 0
            # Moving one's own row into another tenant is refused by the policy's WITH CHECK.
            with pytest.raises(DBAPIError, match="row-level security"):
                async with db_session.begin_nested():
                    await db_session.execute(
                        text("UPDATE org_units SET tenant_id = :other WHERE tenant_id = :own"),
                        {"other": tenant_b.id, "own": tenant_a.id},
                    )
        async with database.sessionmaker() as db_session, db_session.begin():
            await set_tenant(db_session, tenant_b.id)
            name = (
                await db_session.execute(text("SELECT name FROM org_units WHERE tenant_id = :t"), {"t": tenant_b.id})
            ).scalar_one()
            assert name != "hijacked"
            await set_tenant(db_session, tenant_a.id)
            # The app role has no DELETE on org_units at all; and under tenant A nothing of B is visible.
            with pytest.raises(DBAPIError, match="permission denied"):
                async with db_session.begin_nested():
                    await db_session.execute(text("DELETE FROM org_units WHERE tenant_id = :t"), {"t": tenant_b.id})

    async def test_tenant_setting_does_not_leak_to_the_next_transaction(
        self, database: Database, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        async with database.sessionmaker() as db_session:
            async with db_session.begin():
                await set_tenant(db_session, tenant.id)
                assert await _count_org_units(db_session, tenant.id) == 1
            async with db_session.begin():
                assert await _count_org_units(db_session, tenant.id) == 0

    async def test_only_the_platform_context_provisions_tenants(self, database: Database) -> None:
        async with database.sessionmaker() as db_session:
            with pytest.raises(ProgrammingError, match="row-level security"):
                async with db_session.begin():
                    await db_session.execute(
                        text(
                            "INSERT INTO tenants (id, code, name, active, version) VALUES (:id, '999999', 'x', true, 1)"
                        ),
                        {"id": uuid.uuid4()},
                    )


class TestSchemaPolicies:
    async def test_every_tenant_table_has_enabled_and_forced_rls(self, database: Database) -> None:
        async with database.sessionmaker() as db_session, db_session.begin():
            rows = (
                await db_session.execute(
                    text("""
                SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN information_schema.columns col
                  ON col.table_schema = n.nspname AND col.table_name = c.relname AND col.column_name = 'tenant_id'
                WHERE n.nspname = 'public' AND c.relkind = 'r'
            """)
                )
            ).all()
        assert rows, "expected tenant-owned tables"
        unprotected = [
            row.relname for row in rows if not (row.relrowsecurity and row.relforcerowsecurity and row.policies > 0)
        ]
        assert unprotected == []

    async def test_app_role_owns_nothing_and_cannot_bypass_rls(self, database: Database) -> None:
        async with database.sessionmaker() as db_session, db_session.begin():
            role = (
                await db_session.execute(
                    text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                )
            ).one()
            owned = (
                await db_session.execute(
                    text(
                        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                        "WHERE r.rolname = current_user"
                    )
                )
            ).scalar_one()
        assert (role.rolsuper, role.rolbypassrls, owned) == (False, False, 0)
