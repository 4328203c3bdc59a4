"""Entrustment routes (县内委托, P21): entrust a case, the incoming list, one hand-over, accept, return."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.entrustments import service
from backend.entrustments.auth import EntrustmentWrite
from backend.entrustments.schemas import EntrustmentCreate, EntrustmentDecision, EntrustmentRead, EntrustmentReturn

router = APIRouter(prefix=f"{API_V1}/entrustments", tags=["entrustments"])


@router.post(
    "/cases/{case_id}",
    status_code=status.HTTP_201_CREATED,
    summary="委托: hand a case to another township of the same county",
)
async def entrust(
    session: SessionDep, principal: EntrustmentWrite, case_id: uuid.UUID, body: EntrustmentCreate
) -> EntrustmentRead:
    case = await cases.get_case(session, principal, case_id, Action.case_write)
    return service.entrustment_read(await service.entrust_case(session, principal, case, body))


@router.get("", summary="The hand-overs to my townships, pending first")
async def incoming(
    session: SessionDep, principal: EntrustmentWrite, paging: PageDep, pending: bool = False
) -> Page[EntrustmentRead]:
    items, total = await service.incoming(
        session, principal, pending_only=pending, offset=paging.offset, limit=paging.size
    )
    return Page[EntrustmentRead].of(items, total, paging, service.entrustment_read)


@router.get("/{entrustment_id}", summary="One hand-over to my township")
async def read(session: SessionDep, principal: EntrustmentWrite, entrustment_id: uuid.UUID) -> EntrustmentRead:
    return service.entrustment_read(await service.get_entrustment(session, principal, entrustment_id))


@router.post("/{entrustment_id}/accept", summary="接收: the case moves to the receiving township")
async def accept(
    session: SessionDep, principal: EntrustmentWrite, entrustment_id: uuid.UUID, body: EntrustmentDecision
) -> EntrustmentRead:
    return service.entrustment_read(await service.accept_entrustment(session, principal, entrustment_id, body))


@router.post("/{entrustment_id}/return", summary="退回 with a reason: the case stays where it was")
async def return_(
    session: SessionDep, principal: EntrustmentWrite, entrustment_id: uuid.UUID, body: EntrustmentReturn
) -> EntrustmentRead:
    return service.entrustment_read(await service.return_entrustment(session, principal, entrustment_id, body))
