"""Data review routes (三级把关): the entries waiting for the township, one entry, confirm, reject."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.data_review import service
from backend.data_review.auth import EntriesConfirm, EntriesRead
from backend.data_review.schemas import EntryConfirm, EntryReject, EntryReviewRead
from backend.db.session import SessionDep
from backend.models import EntryState

router = APIRouter(prefix=f"{API_V1}/entry-reviews", tags=["data-review"])


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
