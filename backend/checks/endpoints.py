"""Check-round routes (三查): the rounds in reach, one round, its result, and 三查到位率 per unit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from backend.checks import service
from backend.checks.auth import ServiceRead, ServiceWrite
from backend.checks.repository import RoundFilters
from backend.checks.schemas import CheckRate, CheckResultCreate, CheckRoundRead
from backend.core.input import AnyDate, Text
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.models import CheckRoundStatus

router = APIRouter(prefix=f"{API_V1}/check-rounds", tags=["checks"])


@router.get("", summary="Check rounds in your reach (soonest window end first)")
async def list_rounds(
    session: SessionDep,
    principal: ServiceRead,
    page: PageDep,
    round_status: Annotated[CheckRoundStatus | None, Query(alias="status")] = None,
    org_unit: UnitQuery = None,
    window_from: Annotated[AnyDate | None, Query(description="rounds whose window ends on or after")] = None,
    window_to: Annotated[AnyDate | None, Query(description="rounds whose window ends on or before")] = None,
    name: Annotated[Annotated[str, Text(50, min_length=1)] | None, Query()] = None,
) -> Page[CheckRoundRead]:
    filters = RoundFilters(round_status, org_unit, window_from, window_to, name)
    rounds, total = await service.list_rounds(session, principal, filters, page)
    return Page[CheckRoundRead](items=rounds, total=total, page=page.page, size=page.size)


@router.get("/rates", summary="三查到位率 per village, township and county for the rounds ending in a period")
async def rates(
    session: SessionDep,
    principal: ServiceRead,
    window_from: Annotated[AnyDate | None, Query()] = None,
    window_to: Annotated[AnyDate | None, Query()] = None,
    org_unit: UnitQuery = None,
) -> list[CheckRate]:
    return await service.check_rates(session, principal, window_from, window_to, org_unit)


@router.get("/{round_id}", summary="One check round with its result")
async def get_round(session: SessionDep, principal: ServiceRead, round_id: uuid.UUID) -> CheckRoundRead:
    return await service.get_round(session, principal, round_id)


@router.post("/{round_id}/result", status_code=201, summary="Record what the round's check found")
async def record_result(
    session: SessionDep, principal: ServiceWrite, round_id: uuid.UUID, body: CheckResultCreate
) -> CheckRoundRead:
    return await service.record_result(session, principal, round_id, body)
