"""Request and response bodies of the working-day calendar's endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field

from backend.calendar.workdays import DayKind
from backend.core.input import AnyDate, Text
from backend.core.schemas import InputSchema, OutputSchema
from backend.models.calendar_day import NAME_LENGTH, SOURCE_LENGTH

HolidayName = Annotated[str, Text(NAME_LENGTH, min_length=1), Field(examples=["三月三"])]
Source = Annotated[str, Text(SOURCE_LENGTH, min_length=1), Field(examples=["某县人民政府令第3号"])]


class CountyHolidayCreate(InputSchema):
    """A county-level extra day off (县级增设假日) and the county decision that declares it."""

    date: AnyDate
    name: HolidayName
    source: Source


class CountyHolidayRead(OutputSchema):
    id: uuid.UUID
    date: dt.date
    name: str
    source: str
    created_at: dt.datetime


class CalendarDayRead(OutputSchema):
    """One special day of a county's calendar: a public holiday, a make-up workday or a county holiday."""

    date: dt.date
    kind: DayKind
    name: str
    name_en: str = ""
    source: str


class OfficialImportResult(OutputSchema):
    """The outcome of importing a State Council notice (see `backend.calendar.service.ImportResult`)."""

    year: int
    source: str
    days_added: int
    days_removed: int
    public_holidays: int
    makeup_workdays: int
    newly_published: bool
    replaced: bool
    affected_from: dt.date
    tenants_notified: int
