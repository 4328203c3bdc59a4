"""Contraceptive distribution routes (避孕药具发放): points, their stock and movements, issues with the recipient's
signature, and the reconciliation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from backend.contraceptives import service
from backend.contraceptives.auth import ServiceRead, ServiceWrite
from backend.contraceptives.schemas import (
    IssueCreate,
    MovementRead,
    PointCreate,
    PointRead,
    ReceiptCreate,
    ReconciliationLine,
)
from backend.core.input import AnyDate
from backend.core.list_filters import UnitQuery
from backend.core.routing import API_V1
from backend.db.session import SessionDep

router = APIRouter(prefix=f"{API_V1}/contraceptives", tags=["contraceptives"])


@router.get("/points", summary="Distribution points in your reach, with their balances")
async def list_points(session: SessionDep, principal: ServiceRead, org_unit: UnitQuery = None) -> list[PointRead]:
    return await service.list_points(session, principal, org_unit)


@router.post("/points", status_code=201, summary="Add a distribution point")
async def create_point(session: SessionDep, principal: ServiceWrite, body: PointCreate) -> PointRead:
    return await service.create_point(session, principal, body)


@router.get("/reconciliation", summary="Issued quantities against the persons using each method, per unit")
async def reconciliation(
    session: SessionDep,
    principal: ServiceRead,
    period_from: Annotated[AnyDate | None, Query()] = None,
    period_to: Annotated[AnyDate | None, Query()] = None,
    org_unit: UnitQuery = None,
) -> list[ReconciliationLine]:
    return await service.reconcile(session, principal, period_from, period_to, org_unit)


@router.get("/points/{point_id}", summary="One distribution point with its balances")
async def get_point(session: SessionDep, principal: ServiceRead, point_id: uuid.UUID) -> PointRead:
    return await service.get_point(session, principal, point_id)


@router.get("/points/{point_id}/movements", summary="The point's latest stock movements, newest first")
async def movements(session: SessionDep, principal: ServiceRead, point_id: uuid.UUID) -> list[MovementRead]:
    return await service.list_movements(session, principal, point_id)


@router.post("/points/{point_id}/receipts", status_code=201, summary="Stock received at the point (入库)")
async def receive(
    session: SessionDep, principal: ServiceWrite, point_id: uuid.UUID, body: ReceiptCreate
) -> MovementRead:
    return await service.receive(session, principal, point_id, body)


@router.post("/points/{point_id}/issues", status_code=201, summary="Issue to a recipient who signs (发放)")
async def issue(session: SessionDep, principal: ServiceWrite, point_id: uuid.UUID, body: IssueCreate) -> MovementRead:
    return await service.issue(session, principal, point_id, body)
