"""Information-query ledger routes (人口信息查询登记): record, the ledger, one entry, answer, refuse, destroy."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from backend.authz.vocabulary import Action
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.info_queries import service
from backend.info_queries.auth import LedgerDestroy, LedgerKeep
from backend.info_queries.schemas import InfoQueryCreate, InfoQueryRead, InfoQueryRefuse, VersionBody

router = APIRouter(prefix=f"{API_V1}/info-queries", tags=["info-queries"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="审核、告知、登记: record an allowed query")
async def record(session: SessionDep, principal: LedgerKeep, body: InfoQueryCreate) -> InfoQueryRead:
    return await service.record_query(session, principal, body)


@router.get("", summary="The ledger in my reach, in date order")
async def ledger(session: SessionDep, principal: LedgerKeep, paging: PageDep) -> Page[InfoQueryRead]:
    items, total = await service.ledger(session, principal, offset=paging.offset, limit=paging.size)
    return Page[InfoQueryRead].of(items, total, paging, lambda item: item)


@router.get("/{query_id}", summary="One entry")
async def read(session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID) -> InfoQueryRead:
    return service.entry_read(await service.get_query(session, principal, query_id, Action.person_read_identifiers))


@router.post("/{query_id}/answer", summary="查询: answer with the fields the purpose allows")
async def answer(session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID, body: VersionBody) -> InfoQueryRead:
    return await service.answer_query(session, principal, query_id, body)


@router.post("/{query_id}/refuse", summary="Refuse with a written reason")
async def refuse(
    session: SessionDep, principal: LedgerKeep, query_id: uuid.UUID, body: InfoQueryRefuse
) -> InfoQueryRead:
    return await service.refuse_query(session, principal, query_id, body)


@router.post("/{query_id}/destroy", summary="Destroy an entry kept two years (a supervisor's approval)")
async def destroy(
    session: SessionDep, principal: LedgerDestroy, query_id: uuid.UUID, body: VersionBody
) -> InfoQueryRead:
    return await service.destroy_entry(session, principal, query_id, body)
