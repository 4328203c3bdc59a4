"""Reward routes (奖励优惠): eligibility check, application, the register and yearly totals, one application,
payments. The decision is the application's case (`/cases/{case_id}`: its three signatures)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from backend.authz.vocabulary import Action
from backend.core.input import UnitCode
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.rewards import schemas, service
from backend.rewards.auth import RewardsRead, RewardsWrite
from backend.rewards.repository import RewardFilters
from backend.rewards.schemas import EligibilityRead, PaymentCreate, RewardCreate, RewardRead, RewardState, TotalsRow

router = APIRouter(prefix=f"{API_V1}/rewards", tags=["rewards"])
Year = Annotated[int, Query(ge=2000, le=2100)]
Policy = Annotated[schemas.Policy, Query()]


@router.get("/eligibility", summary="Check a couple against a policy (nothing recorded)")
async def eligibility(
    session: SessionDep,
    principal: RewardsRead,
    policy: Policy,
    applicant_id: uuid.UUID,
    year: Year,
    spouse_id: uuid.UUID | None = None,
) -> EligibilityRead:
    return await service.check_eligibility(session, principal, policy, applicant_id, spouse_id, year)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Apply (申报): eligible, entitled payee, county amount")
async def apply(session: SessionDep, principal: RewardsWrite, body: RewardCreate) -> RewardRead:
    return await service.apply_for_reward(session, principal, body)


@router.get("", summary="The reward register (奖励扶助台账) in my reach")
async def register(
    session: SessionDep,
    principal: RewardsRead,
    paging: PageDep,
    year: Year | None = None,
    policy: Policy | None = None,
    state: RewardState | None = None,
    org_unit: Annotated[UnitCode | None, Query()] = None,
) -> Page[RewardRead]:
    filters = RewardFilters(principal.scopes_for(Action.case_read), year, policy, state, org_unit)
    items, total = await service.reward_register(session, principal, filters, offset=paging.offset, limit=paging.size)
    return Page[RewardRead].of(items, total, paging, lambda item: item)


@router.get("/totals", summary="Yearly totals per policy (applications, granted, amounts)")
async def totals(session: SessionDep, principal: RewardsRead, year: Year) -> list[TotalsRow]:
    return await service.yearly_totals(session, principal, year)


@router.get("/{reward_id}", summary="One application with its state and payments")
async def read(session: SessionDep, principal: RewardsRead, reward_id: uuid.UUID) -> RewardRead:
    reward = await service.get_reward(session, principal, reward_id, Action.case_read)
    return await service.reward_read(session, reward)


@router.post("/{reward_id}/payments", status_code=status.HTTP_201_CREATED, summary="Record a payment (发放)")
async def pay(session: SessionDep, principal: RewardsWrite, reward_id: uuid.UUID, body: PaymentCreate) -> RewardRead:
    reward = await service.get_reward(session, principal, reward_id, Action.case_write)
    return await service.record_payment(session, principal, reward, body)
