"""Request and response bodies of rental housing and employers (以房管人)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field

from backend.core.input import MultilineText, Omittable, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import BusinessType, OccupancyKind

Address = Annotated[str, Text(200, min_length=2)]
PersonName = Annotated[str, Text(50, min_length=1)]
DoorPlate = Annotated[str, Text(40, min_length=1)]
ShortText = Annotated[str, Text(50)]
Name = Annotated[str, Text(100, min_length=1)]
Notes = Annotated[str, MultilineText(2000)]
ResidentId = Annotated[str, Text(40, min_length=15)]


class HouseCreate(InputSchema):
    """A rented house: 「出租房屋的地址、房主信息、生产经营类别」."""

    org_unit_code: UnitCode = Field(description="The village the house lies in")
    address: Address
    door_plate: DoorPlate | None = Field(default=None, description="出租房屋标记牌编号, unique in the county")
    owner_name: PersonName
    owner_person_id: uuid.UUID | None = Field(default=None, description="The owner, if registered here")
    business_type: BusinessType = BusinessType.residential
    agreement_id: uuid.UUID | None = Field(default=None, description="The landlord's responsibility agreement")
    notes: Notes | None = None


class HouseUpdate(InputSchema):
    """Change some fields; `null` clears an optional one (the agreement link, the door plate); the others may be
    left out but not set to null."""

    version: int
    address: Omittable[Address] = None
    door_plate: DoorPlate | None = None
    owner_name: Omittable[PersonName] = None
    business_type: Omittable[BusinessType] = None
    agreement_id: uuid.UUID | None = None
    notes: Notes | None = None
    active: Omittable[bool] = None


class EmployerCreate(InputSchema):
    org_unit_code: UnitCode
    name: Name
    address: Address
    legal_representative: PersonName | None = None
    industry: ShortText | None = None
    agreement_id: uuid.UUID | None = None
    notes: Notes | None = None


class EmployerUpdate(InputSchema):
    version: int
    name: Omittable[Name] = None
    address: Omittable[Address] = None
    legal_representative: PersonName | None = None
    industry: ShortText | None = None
    agreement_id: uuid.UUID | None = None
    notes: Notes | None = None
    active: Omittable[bool] = None


class MoveIn(InputSchema):
    """人来登记: a registered person moved in (a tenant) or started work (an employee). Give `person_id` or her
    `resident_id`; she must be in your reach and not living in another house."""

    person_id: uuid.UUID | None = None
    resident_id: ResidentId | None = None
    moved_in_on: PastDate
    notes: Notes | None = None


class MoveOut(InputSchema):
    """人走注销: she moved out (or left the job)."""

    moved_out_on: PastDate
    version: int | None = Field(default=None, description="The version you read, to refuse a stale change")


class OccupancyRead(OutputSchema):
    id: uuid.UUID
    kind: OccupancyKind
    house_id: uuid.UUID | None
    employer_id: uuid.UUID | None
    person_id: uuid.UUID
    person_name: str = ""
    org_unit_code: str
    moved_in_on: date
    moved_out_on: date | None
    notes: str | None
    version: int


class HouseRead(OutputSchema):
    id: uuid.UUID
    org_unit_code: str
    address: str
    door_plate: str | None
    owner_name: str
    owner_person_id: uuid.UUID | None
    business_type: BusinessType
    agreement_id: uuid.UUID | None
    last_visited_on: date | None
    notes: str | None
    active: bool
    version: int
    tenants: int = Field(default=0, description="Tenants living there now")


class HouseDetail(HouseRead):
    current: list[OccupancyRead] = Field(default_factory=list, description="Who lives there now")
    history: list[OccupancyRead] = Field(default_factory=list, description="Who lived there, newest move-out first")


class EmployerRead(OutputSchema):
    id: uuid.UUID
    org_unit_code: str
    name: str
    address: str
    legal_representative: str | None
    industry: str | None
    agreement_id: uuid.UUID | None
    notes: str | None
    active: bool
    version: int
    employees: int = 0


class EmployerDetail(EmployerRead):
    current: list[OccupancyRead] = Field(default_factory=list)
    history: list[OccupancyRead] = Field(default_factory=list)
