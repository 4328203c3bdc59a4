"""Follow-up routes: the county's rules (随访与三查频次), the follow-ups in reach, visits, returns home and the
follow-up rate."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from backend.core.input import AnyDate, Code
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.followups import config, visits
from backend.followups.auth import RulesConfigure, ServiceRead, ServiceWrite
from backend.followups.repository import VisitFilters
from backend.followups.schemas import (
    FollowUpItem,
    FollowUpRate,
    FollowUpRulesRead,
    FollowUpRulesUpdate,
    ReturnCreate,
    VisitCreate,
    VisitRead,
)

router = APIRouter(prefix=f"{API_V1}/followups", tags=["followups"])

KindCode = Annotated[str, Code(r"^[a-z][a-z0-9_]{0,39}$", 40)]


@router.get("/rules", summary="The county's follow-up and check-round rules (defaults plus its changes)")
async def get_rules(session: SessionDep, _: RulesConfigure) -> FollowUpRulesRead:
    return await config.get_rules(session)


@router.put("/rules", summary="Set the county's follow-up and check-round rules")
async def put_rules(session: SessionDep, principal: RulesConfigure, body: FollowUpRulesUpdate) -> FollowUpRulesRead:
    return await config.save_rules(session, principal, body)


@router.get("", summary="Follow-up visits in your reach (open ones unless all=true), soonest due first")
async def list_followups(
    session: SessionDep,
    principal: ServiceRead,
    page: PageDep,
    all_: Annotated[bool, Query(alias="all")] = False,
    kind: Annotated[KindCode | None, Query()] = None,
    org_unit: UnitQuery = None,
) -> Page[FollowUpItem]:
    items, total = await visits.list_followups(session, principal, VisitFilters(not all_, kind, org_unit), page)
    return Page[FollowUpItem](items=items, total=total, page=page.page, size=page.size)


@router.get("/rates", summary="随访服务率 per village, township and county for the follow-ups due in a period")
async def rates(
    session: SessionDep,
    principal: ServiceRead,
    due_from: Annotated[AnyDate | None, Query()] = None,
    due_to: Annotated[AnyDate | None, Query()] = None,
    org_unit: UnitQuery = None,
) -> list[FollowUpRate]:
    return await visits.followup_rates(session, principal, due_from, due_to, org_unit)


@router.post("/returns", status_code=201, summary="An out-migrant came home: open her follow-up visit")
async def record_return(session: SessionDep, principal: ServiceWrite, body: ReturnCreate) -> FollowUpItem:
    return await visits.record_return(session, principal, body)


@router.get("/{case_id}/visit", summary="The visit recorded for a follow-up (null when none yet)")
async def get_visit(session: SessionDep, principal: ServiceRead, case_id: uuid.UUID) -> VisitRead | None:
    return await visits.get_visit(session, principal, case_id)


@router.post("/{case_id}/visit", status_code=201, summary="Record the visit; closes the follow-up case")
async def record_visit(
    session: SessionDep, principal: ServiceWrite, case_id: uuid.UUID, body: VisitCreate
) -> VisitRead:
    return await visits.record_visit(session, principal, case_id, body)
