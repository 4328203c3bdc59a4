"""What the register endpoint answers for the page view (format=json); files are described in rendering.py."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class RegisterFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class RegisterColumnRead(BaseModel):
    key: str
    header: str
    width: int = Field(default=12, description="the column's width in characters (the XLSX file's, the page's)")


class RegisterPage(BaseModel):
    """One page of a register: the columns in order, and rows keyed by column key (序号 is `serial`)."""

    code: str
    title: str
    org_unit: str | None
    org_unit_name: str
    period_from: date | None
    period_to: date | None
    columns: list[RegisterColumnRead]
    items: list[dict[str, str | int | date | None]]
    total: int
    page: int
    size: int
