"""Data review routes (三级把关): the entries waiting for the township, one entry, confirm, reject; the monthly random
re-check lists (倒查): draw, read, record a finding."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from backend.core.input import Code
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.data_review import rechecks, service
from backend.data_review.auth import EntriesConfirm, EntriesRead
from backend.data_review.schemas import (
    EntryConfirm,
    EntryReject,
    EntryReviewRead,
    RecheckDraw,
    RecheckFindingCreate,
    RecheckListRead,
)
from backend.db.session import SessionDep
from backend.models import EntryState

router = APIRouter(prefix=f"{API_V1}/entry-reviews", tags=["data-review"])
MonthQuery = Annotated[
    Annotated[str, Code(r"^[0-9]{4}-(0[1-9]|1[0-2])$", 7)] | None, Query(description="YYYY-MM", examples=["2026-11"])
]


@router.get("", summary="Village entries in my reach (state=pending: what waits for confirmation), oldest first")
async def listed(
    session: SessionDep, principal: EntriesRead, paging: PageDep, state: EntryState | None = None
) -> Page[EntryReviewRead]:
    items, total = await service.list_entries(session, principal, state, offset=paging.offset, limit=paging.size)
    return Page[EntryReviewRead].of(items, total, paging, lambda item: item)


@router.get("/{review_id}", summary="One entry: what was entered, by whom, the decision")
async def read(session: SessionDep, principal: EntriesRead, review_id: uuid.UUID) -> EntryReviewRead:
    return await service.get_entry(session, principal, review_id)


@router.post("/{review_id}/confirm", summary="Confirm: the registration counts, the change is applied")
async def confirm(
    session: SessionDep, principal: EntriesConfirm, review_id: uuid.UUID, body: EntryConfirm
) -> EntryReviewRead:
    return await service.confirm_entry(session, principal, review_id, body)


@router.post("/{review_id}/reject", summary="Send back with a reason (the coordinator reads it)")
async def reject(
    session: SessionDep, principal: EntriesConfirm, review_id: uuid.UUID, body: EntryReject
) -> EntryReviewRead:
    return await service.reject_entry(session, principal, review_id, body)


recheck_router = APIRouter(prefix=f"{API_V1}/rechecks", tags=["data-review"])


@recheck_router.post("", status_code=status.HTTP_201_CREATED, summary="倒查: draw a village's random re-check list")
async def draw(session: SessionDep, principal: EntriesConfirm, body: RecheckDraw) -> RecheckListRead:
    return await rechecks.draw_list(session, principal, body)


@recheck_router.get("", summary="The re-check lists in my reach (optionally of one month, YYYY-MM)")
async def recheck_lists(
    session: SessionDep, principal: EntriesRead, paging: PageDep, month: MonthQuery = None
) -> Page[RecheckListRead]:
    items, total = await rechecks.list_rechecks(session, principal, month, offset=paging.offset, limit=paging.size)
    return Page[RecheckListRead].of(items, total, paging, lambda item: item)


@recheck_router.get("/{list_id}", summary="One list: the draw as recorded, whether it reproduces, the findings")
async def recheck_list(session: SessionDep, principal: EntriesRead, list_id: uuid.UUID) -> RecheckListRead:
    return await rechecks.get_recheck(session, principal, list_id)


@recheck_router.post("/{list_id}/items/{item_id}", summary="Record the finding of one entry (a correction is applied)")
async def finding(
    session: SessionDep, principal: EntriesConfirm, list_id: uuid.UUID, item_id: uuid.UUID, body: RecheckFindingCreate
) -> RecheckListRead:
    return await rechecks.record_finding(session, principal, list_id, item_id, body)
