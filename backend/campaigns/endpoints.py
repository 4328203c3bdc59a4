"""Clean-up campaign routes (清理清查): plan, list, progress and report, the work lists, findings and new arrivals."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from backend.campaigns import findings, service
from backend.campaigns.auth import CampaignPlan, ServiceRead, ServiceWrite
from backend.campaigns.schemas import (
    ArrivalCreate,
    CampaignCreate,
    CampaignDetail,
    CampaignItemRead,
    CampaignRead,
    CampaignReport,
    FindingCreate,
)
from backend.core.input import UnitCode
from backend.core.routing import API_V1
from backend.db.session import SessionDep

router = APIRouter(prefix=f"{API_V1}/campaigns", tags=["campaigns"])

VillageQuery = Annotated[UnitCode | None, Query(description="one village")]


@router.get("", summary="Campaigns covering a village in your reach, newest first")
async def list_campaigns(session: SessionDep, principal: ServiceRead) -> list[CampaignRead]:
    return await service.list_campaigns(session, principal)


@router.post("", status_code=201, summary="Plan a campaign and draw its villages' work lists")
async def plan(session: SessionDep, principal: CampaignPlan, body: CampaignCreate) -> CampaignDetail:
    return await service.plan_campaign(session, principal, body)


@router.get("/{campaign_id}", summary="A campaign with the progress of each village")
async def detail(session: SessionDep, principal: ServiceRead, campaign_id: uuid.UUID) -> CampaignDetail:
    return await service.campaign_detail(session, principal, campaign_id)


@router.get("/{campaign_id}/items", summary="The work list: entries in your reach, pending first")
async def items(
    session: SessionDep, principal: ServiceRead, campaign_id: uuid.UUID, org_unit: VillageQuery = None
) -> list[CampaignItemRead]:
    return await service.walk_list(session, principal, campaign_id, org_unit)


@router.get("/{campaign_id}/report", summary="The campaign report")
async def report(session: SessionDep, principal: ServiceRead, campaign_id: uuid.UUID) -> CampaignReport:
    return await service.campaign_report(session, principal, campaign_id)


@router.post("/{campaign_id}/close", summary="End the campaign")
async def close(session: SessionDep, principal: CampaignPlan, campaign_id: uuid.UUID) -> CampaignRead:
    return await service.close_campaign(session, principal, campaign_id)


@router.post("/{campaign_id}/arrivals", status_code=201, summary="Register a new arrival found on the walk")
async def arrival(
    session: SessionDep, principal: ServiceWrite, campaign_id: uuid.UUID, body: ArrivalCreate
) -> CampaignItemRead:
    return await findings.record_arrival(session, principal, campaign_id, body)


@router.post("/items/{item_id}/finding", summary="Record what the visit found")
async def finding(
    session: SessionDep, principal: ServiceWrite, item_id: uuid.UUID, body: FindingCreate
) -> CampaignItemRead:
    return await findings.record_finding(session, principal, item_id, body)
