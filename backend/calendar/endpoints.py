"""The working-day calendar: days, county holidays, the next-year warning, and the official notice import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel

from backend.calendar import service
from backend.calendar.auth import Authenticated, ConfigManage, PlatformProvision
from backend.calendar.notice_import import NoticeFormat
from backend.calendar.publishing import publish_official_notice
from backend.calendar.schemas import CalendarDayRead, CountyHolidayCreate, CountyHolidayRead, OfficialImportResult
from backend.core.clock import china_today
from backend.core.input import AnyDate, MultilineText
from backend.core.routing import API_V1
from backend.db.session import SessionDep

# A State Council notice as CSV or JSON: a year's holidays fit in a few kilobytes.
NOTICE_MAX_CHARACTERS = 200_000

router = APIRouter(prefix=f"{API_V1}/calendar", tags=["calendar"])
platform_router = APIRouter(prefix=f"{API_V1}/platform/calendar", tags=["platform"])


class YearWarning(BaseModel):
    year: int | None
    message: str | None


@router.get("/days", response_model=list[CalendarDayRead], summary="Holidays and make-up workdays of a year")
async def days(
    session: SessionDep, _: Authenticated, year: Annotated[int, Query(ge=2004, le=2100)]
) -> list[CalendarDayRead]:
    return [
        CalendarDayRead.model_validate(day, from_attributes=True)
        for day in await service.list_calendar_days(session, year)
    ]


@router.get("/warning", response_model=YearWarning, summary="Is next year's official schedule missing?")
async def warning(session: SessionDep, _: ConfigManage) -> YearWarning:
    year = await service.year_warning(session, china_today())
    if year is None:
        return YearWarning(year=None, message=None)
    return YearWarning(
        year=year,
        message=(
            f"{year}年的国务院放假安排尚未导入，涉及{year}年的期限按周一至周五临时计算 / The official {year} holiday "
            f"schedule is not imported yet; deadlines in {year} are provisional (Monday to Friday)"
        ),
    )


@router.get("/county-holidays", response_model=list[CountyHolidayRead], summary="My county's extra holidays")
async def county_holidays(
    session: SessionDep, _: ConfigManage, year: Annotated[int | None, Query(ge=2004, le=2100)] = None
) -> list[CountyHolidayRead]:
    return [CountyHolidayRead.model_validate(day) for day in await service.list_county_holidays(session, year)]


@router.post(
    "/county-holidays",
    response_model=CountyHolidayRead,
    status_code=status.HTTP_201_CREATED,
    summary="Declare a county holiday",
)
async def add_county_holiday(session: SessionDep, _: ConfigManage, body: CountyHolidayCreate) -> CountyHolidayRead:
    # Open deadlines counted over the day move by a working day; their workflows re-plan their timers.
    holiday = await service.declare_county_holiday(session, body.date, body.name, body.source)
    return CountyHolidayRead.model_validate(holiday)


@router.delete("/county-holidays/{day}", status_code=status.HTTP_204_NO_CONTENT, summary="Withdraw a county holiday")
async def remove_county_holiday(session: SessionDep, _: ConfigManage, day: Annotated[AnyDate, Path()]) -> Response:
    await service.withdraw_county_holiday(session, day)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@platform_router.post("/notices", response_model=OfficialImportResult, summary="Import a State Council notice")
async def import_notice(
    session: SessionDep,
    _: PlatformProvision,
    text: Annotated[
        str,
        MultilineText(NOTICE_MAX_CHARACTERS),
        Body(media_type="text/plain", description="the notice as CSV or JSON"),
    ],
    fmt: Annotated[NoticeFormat, Query(alias="format")] = "csv",
    replace: bool = False,
) -> OfficialImportResult:
    # Every county's open deadlines through the changed dates are recounted (and stop being provisional).
    result = await publish_official_notice(session, text, fmt, replace=replace)
    return OfficialImportResult.model_validate(result)
