"""The county's org tree as the caller may see it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import Action
from backend.core.input import UnitCode
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.org import service
from backend.org.auth import OrgRead
from backend.org.schemas import OrgUnitRead

router = APIRouter(prefix=f"{API_V1}/org-units", tags=["org"])

UnitCodePath = Annotated[UnitCode, Path()]


@router.get("", response_model=list[OrgUnitRead], summary="Org units I may see")
async def list_units(session: SessionDep, principal: OrgRead) -> list[OrgUnitRead]:
    units = await service.list_units_in_scopes(session, principal.scopes_for(Action.org_read))
    await audit_break_glass_listing(
        session, principal, Action.org_read, entity_type="org_unit", unit_codes={unit.code for unit in units}
    )
    return [OrgUnitRead.model_validate(unit) for unit in units]


@router.get("/{code}", response_model=OrgUnitRead, summary="One org unit")
async def get_unit(session: SessionDep, principal: OrgRead, code: UnitCodePath) -> OrgUnitRead:
    return OrgUnitRead.model_validate(await service.unit_in_reach(session, principal, code))
