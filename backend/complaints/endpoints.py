"""Complaint routes (投诉举报): record, the register, one complaint, the reply, a report's reward. The handling
itself (deadline, assignee, closing) is the complaint's case (`/cases/{case_id}`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from backend.authz.vocabulary import Action
from backend.complaints import service
from backend.complaints.auth import ComplaintsRead, ComplaintsWrite
from backend.complaints.repository import ComplaintFilters
from backend.complaints.schemas import ComplaintCreate, ComplaintRead, ComplaintReply, RewardPaid
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.models import ComplaintKind

router = APIRouter(prefix=f"{API_V1}/complaints", tags=["complaints"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record a complaint or a 两非 report")
async def record(session: SessionDep, principal: ComplaintsWrite, body: ComplaintCreate) -> ComplaintRead:
    return await service.record_complaint(session, principal, body)


@router.get("", summary="The complaint register in my reach (complainants 「保密」 unless mine to know)")
async def register(
    session: SessionDep,
    principal: ComplaintsRead,
    paging: PageDep,
    kind: ComplaintKind | None = None,
    flagged: Annotated[bool | None, Query(description="naming a prohibited practice")] = None,
) -> Page[ComplaintRead]:
    filters = ComplaintFilters(principal.scopes_for(Action.case_read), kind, flagged)
    items, total = await service.complaint_register(
        session, principal, filters, offset=paging.offset, limit=paging.size
    )
    return Page[ComplaintRead].of(items, total, paging, lambda item: item)


@router.get("/{complaint_id}", summary="One complaint")
async def read(session: SessionDep, principal: ComplaintsRead, complaint_id: uuid.UUID) -> ComplaintRead:
    return await service.read_complaint(session, principal, complaint_id)


@router.post("/{complaint_id}/reply", summary="Record the outcome and the reply (reports: verified or not)")
async def reply(
    session: SessionDep, principal: ComplaintsWrite, complaint_id: uuid.UUID, body: ComplaintReply
) -> ComplaintRead:
    return await service.reply_to_complaint(session, principal, complaint_id, body)


@router.post("/{complaint_id}/reward", summary="Record the payment of a verified report's reward")
async def reward(
    session: SessionDep, principal: ComplaintsWrite, complaint_id: uuid.UUID, body: RewardPaid
) -> ComplaintRead:
    return await service.pay_report_reward(session, principal, complaint_id, body)
