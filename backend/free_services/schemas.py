"""Request and response bodies of free technical services (免费技术服务)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from backend.core.input import Code, DecimalString, MultilineText, Omittable, PastDate, Text
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CostBearer

ItemCode = Annotated[str, Code(r"^[a-z][a-z0-9_]{1,39}$", 40)]
Name = Annotated[str, Text(100, min_length=1)]
Notes = Annotated[str, MultilineText(2000)]
ResidentId = Annotated[str, Text(40, min_length=15)]
Amount = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2), DecimalString(10)]


class ItemCreate(InputSchema):
    """An item the county adds to the national six (e.g. 免费孕前优生健康检查)."""

    code: ItemCode = Field(description="lower-case letters, digits and _, e.g. prepregnancy_check")
    name: Name
    note: Annotated[str, Text(200)] | None = None


class ItemUpdate(InputSchema):
    version: int
    name: Omittable[Name] = None
    note: Annotated[str, Text(200)] | None = None
    active: Omittable[bool] = None


class FreeServiceItemRead(OutputSchema):
    code: str
    name: str
    national: bool = Field(description="one of the six national items (cannot be changed)")
    note: str | None = None
    active: bool = True
    version: int | None = None


class ServiceCreate(InputSchema):
    """A free service delivered: to whom (`person_id` or `resident_id`), which item, by which provider, when, and who
    bears the cost (for the provincial settlement of technical-service costs)."""

    person_id: uuid.UUID | None = None
    resident_id: ResidentId | None = None
    item_code: ItemCode
    provider_name: Name
    served_on: PastDate
    cost_bearer: CostBearer = CostBearer.residence_county
    amount: Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=2), DecimalString(10)] | None = (
        None
    )
    notes: Notes | None = None


class ServiceRead(OutputSchema):
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str = ""
    org_unit_code: str
    item_code: str
    provider_name: str
    served_on: date
    cost_bearer: CostBearer
    amount: Decimal | None
    notes: str | None
    recorded_by_label: str


class FreeServiceRate(OutputSchema):
    """免费服务落实率 of one unit: married women of reproductive age living there, and those of them who received at
    least one free service in the period."""

    org_unit_code: str
    org_unit_name: str
    level: str
    eligible: int
    served: int
    rate: float | None
