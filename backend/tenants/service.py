"""Provisioning counties on the shared instance."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.db.tenancy import set_platform_context, set_tenant
from backend.models import OrgUnit, OrgUnitKind, Tenant
from backend.tenants.errors import TenantCodeTaken, TenantNotFound
from backend.tenants.repository import TenantRepository
from backend.tenants.schemas import TenantCreate


async def provision_tenant(session: AsyncSession, tenant_create: TenantCreate) -> Tenant:
    """Create a county: the tenant row, the root of its org tree and its audit chain, in one transaction.

    Leaves the session scoped to the new tenant, so the caller may go on to load its org tree.
    """
    repository = TenantRepository(session)
    if await repository.get_by_code(tenant_create.code) is not None:
        raise TenantCodeTaken(tenant_create.code)
    await set_platform_context(session)
    tenant = Tenant(id=uuid.uuid4(), code=tenant_create.code, name=tenant_create.name, active=True)
    repository.add(tenant)
    try:
        await session.flush()
    except IntegrityError:
        # Two operators provisioning the same county at once: the unique constraint decides.
        raise TenantCodeTaken(tenant_create.code) from None

    await set_tenant(session, tenant.id)
    await audit.initialise_chain(session, tenant.id)
    county = OrgUnit(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        code=tenant.code,
        parent_code=None,
        name=tenant.name,
        kind=OrgUnitKind.county,
        active=True,
    )
    session.add(county)
    await session.flush()
    await audit.record(
        session,
        action="tenant.provision",
        entity_type="tenant",
        entity_id=tenant.id,
        org_unit_code=tenant.code,
        changes=audit.diff(None, {"code": tenant.code, "name": tenant.name}),
    )
    return tenant


async def get_tenant_by_code(session: AsyncSession, code: str) -> Tenant:
    tenant = await TenantRepository(session).get_by_code(code)
    if tenant is None:
        raise TenantNotFound(code)
    return tenant


async def enter_tenant(session: AsyncSession, code: str) -> Tenant:
    """Scope the session to the county with this code (CLI and system jobs)."""
    tenant = await get_tenant_by_code(session, code)
    await set_tenant(session, tenant.id)
    return tenant


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    return await TenantRepository(session).list_all()
