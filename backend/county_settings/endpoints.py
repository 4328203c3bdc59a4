"""County settings routes: the administrator reads and replaces the county's settings document."""

from __future__ import annotations

from fastapi import APIRouter

from backend.core.routing import API_V1
from backend.county_settings import service
from backend.county_settings.auth import SettingsManage
from backend.county_settings.schemas import CountySettingsRead, CountySettingsUpdate
from backend.db.session import SessionDep

router = APIRouter(prefix=f"{API_V1}/county-settings", tags=["county-settings"])


@router.get("", summary="This county's settings of the accountable procedures")
async def read(session: SessionDep, _: SettingsManage) -> CountySettingsRead:
    return await service.read_settings(session)


@router.put("", summary="Replace this county's settings (fields left out take the default)")
async def update(session: SessionDep, principal: SettingsManage, body: CountySettingsUpdate) -> CountySettingsRead:
    return await service.update_settings(session, principal, body)
