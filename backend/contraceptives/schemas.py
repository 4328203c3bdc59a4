"""Request and response bodies of contraceptive distribution (避孕药具发放)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import Code, MultilineText, PastDate, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import ContraceptiveProduct, DistributionPointKind, MovementKind

Name = Annotated[str, Text(100, min_length=1)]
Notes = Annotated[str, MultilineText(2000)]
ResidentId = Annotated[str, Text(40, min_length=15)]
# A signature drawn on the screen, as the canvas gives it: data:image/png;base64,... (at most about 400 KB).
SignatureImage = Annotated[str, Code(r"^data:image/png;base64,[A-Za-z0-9+/=]+$", 550_000)]
Quantity = Annotated[int, Field(ge=1, le=100_000)]


class PointCreate(InputSchema):
    org_unit_code: UnitCode = Field(description="The village (or township) keeping the point")
    name: Name
    kind: DistributionPointKind
    address: Annotated[str, Text(200)] | None = None


class PointRead(OutputSchema):
    id: uuid.UUID
    org_unit_code: str
    name: str
    kind: DistributionPointKind
    address: str | None
    active: bool
    balances: dict[str, int] = Field(default_factory=dict, description="product -> quantity in stock")


class ReceiptCreate(InputSchema):
    """Stock received at the point (入库), e.g. from the county's contraceptive supply station."""

    product: ContraceptiveProduct
    quantity: Quantity
    received_on: PastDate
    source: Name | None = Field(default=None, description="Who supplied it (供货单位)")
    notes: Notes | None = None


class IssueCreate(InputSchema):
    """Contraceptives issued to a recipient who signs on the spot (「当场进行登记造册并签字」): her signature drawn on
    the screen (`signature`, a PNG data URL) or a signed paper's scan already uploaded for her
    (`signed_scan_document_id`). Give the recipient by `person_id` or `resident_id`. A self-service box issues
    without recipient or signature. The quantity may not exceed the point's balance of the product."""

    product: ContraceptiveProduct
    quantity: Quantity
    issued_on: PastDate
    person_id: uuid.UUID | None = None
    resident_id: ResidentId | None = None
    signature: SignatureImage | None = None
    signed_scan_document_id: uuid.UUID | None = None
    notes: Notes | None = None


class MovementRead(OutputSchema):
    id: uuid.UUID
    point_id: uuid.UUID
    product: ContraceptiveProduct
    kind: MovementKind
    quantity: int
    balance_after: int
    moved_on: date
    person_id: uuid.UUID | None
    person_name: str | None = None
    signature_document_id: uuid.UUID | None
    source: str | None
    notes: str | None
    recorded_by_label: str
    created_at: datetime


class ReconciliationPerson(OutputSchema):
    person_id: uuid.UUID
    name: str


class ReconciliationLine(OutputSchema):
    """One village and product: who uses the method on the registry, who received the product in the period, and
    the differences listed by name (「其数量一般应与该村报表、挂牌、卡册等方面反映出的使用避孕药具对象人员相一致」)."""

    org_unit_code: str
    org_unit_name: str
    product: ContraceptiveProduct
    method: str | None = Field(description="The registry's contraception measure the product serves (null: none)")
    users: int = Field(description="Active persons living here whose recorded measure is the method")
    recipients: int = Field(description="Distinct persons who received the product in the period")
    quantity_issued: int
    difference: int = Field(description="recipients - users")
    users_without_issue: list[ReconciliationPerson]
    recipients_not_users: list[ReconciliationPerson]
