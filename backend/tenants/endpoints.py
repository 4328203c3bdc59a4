"""Platform provisioning: counties and their org trees."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from backend.core.input import CountyCode, MultilineText, json_schema_of
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.org import service as org_service
from backend.org.schemas import OrgUnitRead
from backend.org.service import OrgImportResult
from backend.tenants import service as tenant_service
from backend.tenants.auth import TenantsProvision
from backend.tenants.schemas import TenantCreate, TenantRead

CountyCodePath = Annotated[CountyCode, Path(description="6-digit county division code")]
# An org tree's CSV: a county has a few hundred units, each a line of well under 200 characters.
ORG_CSV_MAX_CHARACTERS = 1_000_000

router = APIRouter(prefix=f"{API_V1}/platform/tenants", tags=["platform"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TenantRead, summary="Provision a county")
async def create_tenant(session: SessionDep, _: TenantsProvision, tenant_create: TenantCreate) -> TenantRead:
    tenant = await tenant_service.provision_tenant(session, tenant_create)
    return TenantRead.model_validate(tenant)


@router.get("", response_model=list[TenantRead], summary="List counties")
async def list_tenants(session: SessionDep, _: TenantsProvision) -> list[TenantRead]:
    return [TenantRead.model_validate(tenant) for tenant in await tenant_service.list_tenants(session)]


@router.post(
    "/{code}/org-units/import",
    summary="Import a county's org tree from CSV (code,parent_code,name,kind[,active]); all or nothing",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": json_schema_of(ORG_CSV_MAX_CHARACTERS, multiline=True)}}}
    },
)
async def import_org_units(
    session: SessionDep,
    _: TenantsProvision,
    code: CountyCodePath,
    csv_text: Annotated[str, MultilineText(ORG_CSV_MAX_CHARACTERS), Body(media_type="text/csv")],
) -> OrgImportResult:
    await tenant_service.enter_tenant(session, code)
    return await org_service.import_org_csv(session, county_code=code, text=csv_text)


@router.get("/{code}/org-units", response_model=list[OrgUnitRead], summary="A county's org tree")
async def list_org_units(session: SessionDep, _: TenantsProvision, code: CountyCodePath) -> list[OrgUnitRead]:
    await tenant_service.enter_tenant(session, code)
    return [OrgUnitRead.model_validate(unit) for unit in await org_service.list_subtree(session, code)]
