"""Case-type routes: the effective definitions for anyone working cases, the county's override for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.case_types import service
from backend.case_types.auth import CaseTypesConfigure, CaseTypesRead
from backend.case_types.schemas import CaseTypeCode, CaseTypeOverrideUpdate, CaseTypeRead
from backend.core.routing import API_V1
from backend.db.session import SessionDep

router = APIRouter(prefix=f"{API_V1}/case-types", tags=["case-types"])


@router.get("", summary="Case types as this county uses them")
async def list_types(session: SessionDep, _: CaseTypesRead) -> list[CaseTypeRead]:
    return await service.list_case_types(session)


@router.get("/{code}", summary="One case type as this county uses it")
async def get_type(session: SessionDep, _: CaseTypesRead, code: CaseTypeCode) -> CaseTypeRead:
    return await service.get_case_type(session, code)


@router.get("/{code}/override", summary="One case type with its override version (for admins)")
async def get_override(session: SessionDep, _: CaseTypesConfigure, code: CaseTypeCode) -> CaseTypeRead:
    return await service.get_case_type(session, code)


@router.put("/{code}", summary="Set this county's override of a case type")
async def configure(
    session: SessionDep, principal: CaseTypesConfigure, code: CaseTypeCode, update: CaseTypeOverrideUpdate
) -> CaseTypeRead:
    return await service.configure_case_type(session, principal, code, update)


@router.delete("/{code}/override", summary="Back to the shipped default (answers the default)")
async def reset(
    session: SessionDep,
    principal: CaseTypesConfigure,
    code: CaseTypeCode,
    version: Annotated[int | None, Query(description="The override version you read (optional)")] = None,
) -> CaseTypeRead:
    return await service.reset_case_type(session, principal, code, version)
