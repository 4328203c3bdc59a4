"""Yearly archive routes (年度归档, P26): request a volume, the volumes, one volume, its index and manifest."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from backend.archive import service
from backend.archive.auth import ArchiveManage
from backend.archive.schemas import ArchiveRequest, ArchiveVolumeRead
from backend.core.input import UnitCode
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.documents.storage import document_storage

router = APIRouter(prefix=f"{API_V1}/archive", tags=["archive"])


@router.post("/volumes", status_code=status.HTTP_201_CREATED, summary="归档: bind a year's closed cases (a worker job)")
async def request_volume(session: SessionDep, principal: ArchiveManage, body: ArchiveRequest) -> ArchiveVolumeRead:
    return service.volume_read(await service.request_volume(session, principal, body))


@router.get("/volumes", summary="The volumes in my reach (under one unit, when given), newest year first")
async def volumes(
    session: SessionDep, principal: ArchiveManage, org_unit_code: Annotated[UnitCode | None, Query()] = None
) -> list[ArchiveVolumeRead]:
    return [service.volume_read(volume) for volume in await service.volumes(session, principal, org_unit_code)]


@router.get("/volumes/{volume_id}", summary="One volume")
async def volume(session: SessionDep, principal: ArchiveManage, volume_id: uuid.UUID) -> ArchiveVolumeRead:
    return service.volume_read(await service.get_volume(session, principal, volume_id))


@router.get("/volumes/{volume_id}/index", summary="The volume's index (PDF)", response_class=Response)
async def index(session: SessionDep, principal: ArchiveManage, volume_id: uuid.UUID) -> Response:
    return await _download(session, principal, volume_id, "index")


@router.get("/volumes/{volume_id}/manifest", summary="The volume's manifest (JSON, SHA-256 of every document)")
async def manifest(session: SessionDep, principal: ArchiveManage, volume_id: uuid.UUID) -> Response:
    return await _download(session, principal, volume_id, "manifest")


async def _download(session: SessionDep, principal: ArchiveManage, volume_id: uuid.UUID, part: str) -> Response:
    data, media_type, filename = await service.download(session, principal, volume_id, part, await document_storage())
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
