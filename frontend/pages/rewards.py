"""The reward register page (奖励扶助台账, P17): the reward applications in reach with their state and what was paid,
filtered by year, policy and state, and the year's totals per policy. Same services and checks as /api/v1/rewards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.rewards import service
from backend.rewards.auth import RewardsRead
from backend.rewards.repository import RewardFilters
from frontend.pages.common import page_count, unit_names
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
STATES = ("pending", "granted", "refused", "withdrawn")


@router.get("/rewards", response_class=HTMLResponse)
async def reward_register(
    request: Request,
    session: SessionDep,
    principal: RewardsRead,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    state: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The register of the year (this year by default) and its totals per policy."""
    shown_year = year or china_today().year
    filters = RewardFilters(
        principal.scopes_for(Action.case_read), shown_year, None, state if state in STATES else None, None
    )
    params = PageParams(page=page, size=PAGE_SIZE)
    rewards, total = await service.reward_register(session, principal, filters, offset=params.offset, limit=PAGE_SIZE)
    return render(
        request,
        "rewards/register.html",
        {
            "rewards": rewards,
            "totals": await service.yearly_totals(session, principal, shown_year),
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"year": shown_year, "state": state},
            "year": shown_year,
            "unit_names": await unit_names(session),
        },
    )
