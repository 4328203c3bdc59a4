"""Clean-up campaign pages (清理清查): the campaigns in reach and the planning form, one campaign's progress per
village and its report, and a village's work list walked on a phone (a finding per entry, new arrivals). Same
services as /api/v1/campaigns (checked and audited there)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.campaigns import findings, service
from backend.campaigns.auth import CampaignPlan, ServiceRead, ServiceWrite
from backend.campaigns.schemas import ArrivalCreate, CampaignCreate, FindingCreate
from backend.core.clock import china_today
from backend.core.divisions import VILLAGE_LENGTH
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.housing.repository import PlaceFilters
from backend.housing.service import list_houses
from frontend.forms import Form, FormView
from frontend.pages.common import unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PLAN_FIELDS = (
    "name",
    "kind",
    "period_start",
    "period_end",
    "org_unit_code",
    "not_seen_months",
    "houses_not_visited_months",
)
PLAN_SWITCHES = ("uninspected_inflow", "expired_certificates")
FINDING_FIELDS = ("finding", "found_on", "moved_to_unit_code", "notes", "version")
ARRIVAL_FIELDS = ("org_unit_code", "name", "sex", "resident_id", "registration_division_code", "found_on", "house_id")


async def _campaigns_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    planners = [
        (code, label)
        for code, label in await unit_options(session, principal, Action.campaign_plan)
        if len(code) < VILLAGE_LENGTH
    ]
    context = {"campaigns": await service.list_campaigns(session, principal), "planners": planners}
    return render(request, "campaigns/list.html", context, form=form or FormView())


@router.get("/campaigns", response_class=HTMLResponse)
async def campaigns(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _campaigns_page(request, session, principal)


@router.post("/campaigns", response_class=HTMLResponse)
async def plan(request: Request, session: SessionDep, principal: CampaignPlan) -> Response:
    form = await Form.read(request, PLAN_FIELDS, lists=PLAN_SWITCHES)
    criteria: dict[str, Any] = {switch: bool(form.values[switch]) for switch in PLAN_SWITCHES}
    for name in ("not_seen_months", "houses_not_visited_months"):
        if form.values[name]:
            criteria[name] = form.values[name]
    form.fields["criteria"] = "not_seen_months"
    return await form.submit(
        session,
        CampaignCreate,
        lambda body: service.plan_campaign(session, principal, body),
        data=form.given("name", "kind", "period_start", "period_end", "org_unit_code", criteria=criteria),
        done=lambda campaign: f"/campaigns/{campaign.id}?done=planned",
        again=lambda errors: _campaigns_page(request, session, principal, form.view(errors)),
    )


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_detail(
    request: Request, session: SessionDep, principal: ServiceRead, campaign_id: uuid.UUID
) -> HTMLResponse:
    report = await service.campaign_report(session, principal, campaign_id)
    context = {"report": report, "campaign": report.campaign, "reasons": service.REASON_LABELS}
    return render(request, "campaigns/detail.html", context)


async def _walk_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    campaign_id: uuid.UUID,
    form: FormView | None = None,
) -> HTMLResponse:
    unit = request.query_params.get("unit") or None
    detail = await service.campaign_detail(session, principal, campaign_id)
    villages = [village.org_unit_code for village in detail.villages]
    unit = unit if unit in villages else (villages[0] if len(villages) == 1 else unit)
    items = await service.walk_list(session, principal, campaign_id, unit)
    houses, _ = (
        await list_houses(session, principal, PlaceFilters(org_unit=unit), PageParams(page=1, size=200))
        if unit
        else ([], 0)
    )
    context = {
        "campaign": detail,
        "unit": unit,
        "items": items,
        "today": china_today().isoformat(),
        "reasons": service.REASON_LABELS,
        "move_to": [
            (code, label)
            for code, label in await unit_options(session, principal, Action.person_write)
            if len(code) == VILLAGE_LENGTH
        ],
        "houses": [(str(house.id), house.address) for house in houses],
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "campaigns/walk.html", context, form=form or FormView())


@router.get("/campaigns/{campaign_id}/walk", response_class=HTMLResponse)
async def walk(request: Request, session: SessionDep, principal: ServiceRead, campaign_id: uuid.UUID) -> HTMLResponse:
    return await _walk_page(request, session, principal, campaign_id)


@router.post("/campaigns/{campaign_id}/items/{item_id}/finding", response_class=HTMLResponse)
async def record_finding(
    request: Request, session: SessionDep, principal: ServiceWrite, campaign_id: uuid.UUID, item_id: uuid.UUID
) -> Response:
    # Each entry's form has its own inputs: errors are keyed "<entry id>_<field>".
    form = await Form.read(request, FINDING_FIELDS, prefix=f"{item_id}_")
    unit = request.query_params.get("unit", "")
    back = f"/campaigns/{campaign_id}/walk?unit={unit}" if unit else f"/campaigns/{campaign_id}/walk"
    return await form.submit(
        session,
        FindingCreate,
        lambda body: findings.record_finding(session, principal, item_id, body),
        done=f"{back}{'&' if unit else '?'}done=recorded#item-{item_id}",
        again=lambda errors: _walk_page(request, session, principal, campaign_id, form.view(errors)),
    )


@router.post("/campaigns/{campaign_id}/arrivals", response_class=HTMLResponse)
async def record_arrival(
    request: Request, session: SessionDep, principal: ServiceWrite, campaign_id: uuid.UUID
) -> Response:
    form = await Form.read(request, ARRIVAL_FIELDS, prefix="arrival_")
    unit = form.values["org_unit_code"]
    return await form.submit(
        session,
        ArrivalCreate,
        lambda body: findings.record_arrival(session, principal, campaign_id, body),
        done=f"/campaigns/{campaign_id}/walk?unit={unit}&done=arrival",
        again=lambda errors: _walk_page(request, session, principal, campaign_id, form.view(errors)),
    )
