"""Versioned notification payloads and the API's request and response bodies.

Every notification carries the sender's own `transaction_id` (the idempotency key of that item), its
`type` and `schema_version`, the source system's record id and issuing office, and the type's own fields.
A payload's division code routes it: the first 6 digits name the county, the first 9 the township.
Version 1 is the only version; a later version becomes a new model in the union with its own Literal.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, GetJsonSchemaHandler, TypeAdapter, ValidationInfo, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from backend.authz.vocabulary import ClientScope
from backend.core.input import AnyDate, Code, MultilineText, PastDate, Text, today
from backend.core.outbound import OutboundUrl
from backend.core.schemas import InputSchema, OutputSchema
from backend.persons.errors import InvalidResidentId
from backend.persons.resident_id import parse_resident_id

MAX_BATCH = 1000


class NotificationType(StrEnum):
    residence_registered = "residence_registered"  # 暂住登记 (police)
    residence_cancelled = "residence_cancelled"  # 暂住注销 (police)
    residence_permit_issued = "residence_permit_issued"  # 居住证签发 (police)
    household_moved = "household_moved"  # 户口迁移 (police household registry)
    marriage_registered = "marriage_registered"  # 结婚登记 (civil affairs)
    divorce_registered = "divorce_registered"  # 离婚登记 (civil affairs)
    birth_reported = "birth_reported"  # 出生医学证明 / 分娩登记 (health)


TYPE_SCOPE: dict[NotificationType, ClientScope] = {
    NotificationType.residence_registered: ClientScope.intake_police,
    NotificationType.residence_cancelled: ClientScope.intake_police,
    NotificationType.residence_permit_issued: ClientScope.intake_police,
    NotificationType.household_moved: ClientScope.intake_police,
    NotificationType.marriage_registered: ClientScope.intake_civil_affairs,
    NotificationType.divorce_registered: ClientScope.intake_civil_affairs,
    NotificationType.birth_reported: ClientScope.intake_health,
}


# `today` comes once per batch in the validation context (TODAY_CONTEXT_KEY: a batch is one moment), from the
# clock when a notification is validated alone (the single-post route); PastDate reads it the same way.


def _resident_id(value: str, info: ValidationInfo) -> str:
    try:
        return parse_resident_id(value, today=today(info)).number
    except InvalidResidentId as error:
        raise ValueError(error.detail) from None


ResidentIdNumber = Annotated[str, Text(24, min_length=15), AfterValidator(_resident_id)]
DivisionCode = Annotated[
    str,
    Code(r"^[1-9][0-9]{5}(?:[0-9]{3}(?:[0-9]{3})?)?$", 12),
    Field(description="区划代码: county 6, township 9 or village 12 digits", examples=["330106001001"]),
]
PersonName = Annotated[str, Text(50, min_length=1)]
Text200 = Annotated[str, Text(200, min_length=1)]
RecordNumber = Annotated[str, Text(40, min_length=1)]
TransactionId = Annotated[
    str,
    Code(r"^[A-Za-z0-9._:\-]{1,64}$", 64),
    Field(description="The sender's own id of this record; a replay with the same id returns the original"),
]


class PersonRef(InputSchema):
    resident_id: ResidentIdNumber = Field(examples=["33010619900101123X"])
    name: PersonName = Field(examples=["张三"])


class BaseNotification(InputSchema):
    transaction_id: TransactionId
    schema_version: Literal[1] = 1
    source_record_id: Annotated[str, Text(64, min_length=1)]
    issuing_office: Text200 = Field(description="签发/登记机关")
    address: Text200 = Field(description="详细地址")

    def kind(self) -> NotificationType:
        return NotificationType(self.type)  # type: ignore[attr-defined]

    def routing_division_code(self) -> str:
        return str(self.residence_division_code)  # type: ignore[attr-defined]

    def subjects(self) -> dict[str, PersonRef]:
        """The persons named, by role; matched against the registry by ID number."""
        return {"person": self.person}  # type: ignore[attr-defined]


class ResidenceRegistered(BaseNotification):
    """暂住登记: a floating person registered temporary residence with the police station."""

    type: Literal[NotificationType.residence_registered]
    person: PersonRef
    residence_division_code: DivisionCode
    registered_on: PastDate
    household_division_code: DivisionCode | None = Field(default=None, description="户籍地区划")


class ResidenceCancelled(BaseNotification):
    """暂住注销: the temporary residence registration was cancelled (the person left)."""

    type: Literal[NotificationType.residence_cancelled]
    person: PersonRef
    residence_division_code: DivisionCode
    cancelled_on: PastDate
    reason: Text200 | None = None


class ResidencePermitIssued(BaseNotification):
    """居住证签发: a residence permit was issued."""

    type: Literal[NotificationType.residence_permit_issued]
    person: PersonRef
    permit_number: RecordNumber
    residence_division_code: DivisionCode
    issued_on: PastDate
    valid_until: AnyDate


class HouseholdMoved(BaseNotification):
    """户口迁移: the household registration moved; routed to the destination."""

    type: Literal[NotificationType.household_moved]
    person: PersonRef
    from_division_code: DivisionCode
    to_division_code: DivisionCode
    moved_on: PastDate

    def routing_division_code(self) -> str:
        return self.to_division_code


class MarriageRegistered(BaseNotification):
    """结婚登记 (civil affairs)."""

    type: Literal[NotificationType.marriage_registered]
    husband: PersonRef
    wife: PersonRef
    certificate_number: RecordNumber
    registered_on: PastDate
    residence_division_code: DivisionCode

    def subjects(self) -> dict[str, PersonRef]:
        return {"husband": self.husband, "wife": self.wife}

    @model_validator(mode="after")
    def _two_people(self) -> MarriageRegistered:
        if self.husband.resident_id == self.wife.resident_id:
            raise ValueError("双方身份证号码相同 / both parties have the same ID number")
        return self


class DivorceRegistered(MarriageRegistered):
    """离婚登记 (civil affairs)."""

    type: Literal[NotificationType.divorce_registered]  # type: ignore[assignment]


class BirthReported(BaseNotification):
    """出生报告 (health): a birth, reported by the delivering hospital or health centre."""

    type: Literal[NotificationType.birth_reported]
    mother: PersonRef
    father: PersonRef | None = None
    child_name: PersonName | None = None
    child_sex: Literal["male", "female"]
    birth_date: PastDate
    birth_certificate_number: RecordNumber
    residence_division_code: DivisionCode

    def subjects(self) -> dict[str, PersonRef]:
        found = {"mother": self.mother}
        if self.father is not None:
            found["father"] = self.father
        return found


Notification = Annotated[
    ResidenceRegistered
    | ResidenceCancelled
    | ResidencePermitIssued
    | HouseholdMoved
    | MarriageRegistered
    | DivorceRegistered
    | BirthReported,
    Field(discriminator="type"),
]
NOTIFICATION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Notification)

_ADDRESS = "浙江省杭州市西湖区西溪街道某某路1号"
EXAMPLES: dict[str, dict[str, Any]] = {
    "residence_registered": {
        "transaction_id": "PS-20261122-000001",
        "type": "residence_registered",
        "schema_version": 1,
        "source_record_id": "ZZDJ330106202611220001",
        "issuing_office": "杭州市公安局西湖分局西溪派出所",
        "address": _ADDRESS,
        "person": {"resident_id": "11010519491231002X", "name": "王芳"},
        "residence_division_code": "330106001001",
        "registered_on": "2026-11-20",
        "household_division_code": "410102000000",
    },
    "residence_cancelled": {
        "transaction_id": "PS-20261122-000002",
        "type": "residence_cancelled",
        "schema_version": 1,
        "source_record_id": "ZZZX330106202611220001",
        "issuing_office": "杭州市公安局西湖分局西溪派出所",
        "address": _ADDRESS,
        "person": {"resident_id": "11010519491231002X", "name": "王芳"},
        "residence_division_code": "330106001001",
        "cancelled_on": "2026-11-21",
        "reason": "迁离本地",
    },
    "residence_permit_issued": {
        "transaction_id": "PS-20261122-000003",
        "type": "residence_permit_issued",
        "schema_version": 1,
        "source_record_id": "JZZ330106202611220001",
        "issuing_office": "杭州市公安局西湖分局",
        "address": _ADDRESS,
        "person": {"resident_id": "11010519491231002X", "name": "王芳"},
        "permit_number": "330106202600012345",
        "residence_division_code": "330106001001",
        "issued_on": "2026-11-20",
        "valid_until": "2027-11-19",
    },
    "household_moved": {
        "transaction_id": "PS-20261122-000004",
        "type": "household_moved",
        "schema_version": 1,
        "source_record_id": "HJQY330106202611220001",
        "issuing_office": "杭州市公安局西湖分局户政科",
        "address": _ADDRESS,
        "person": {"resident_id": "11010519491231002X", "name": "王芳"},
        "from_division_code": "410102000000",
        "to_division_code": "330106001001",
        "moved_on": "2026-11-18",
    },
    "marriage_registered": {
        "transaction_id": "MZ-20261122-000001",
        "type": "marriage_registered",
        "schema_version": 1,
        "source_record_id": "JH330106-2026-000321",
        "issuing_office": "杭州市西湖区民政局婚姻登记处",
        "address": _ADDRESS,
        "husband": {"resident_id": "110105194912310038", "name": "李强"},
        "wife": {"resident_id": "11010519491231002X", "name": "王芳"},
        "certificate_number": "J330106-2026-000321",
        "registered_on": "2026-11-19",
        "residence_division_code": "330106001",
    },
    "divorce_registered": {
        "transaction_id": "MZ-20261122-000002",
        "type": "divorce_registered",
        "schema_version": 1,
        "source_record_id": "LH330106-2026-000045",
        "issuing_office": "杭州市西湖区民政局婚姻登记处",
        "address": _ADDRESS,
        "husband": {"resident_id": "110105194912310038", "name": "李强"},
        "wife": {"resident_id": "11010519491231002X", "name": "王芳"},
        "certificate_number": "L330106-2026-000045",
        "registered_on": "2026-11-19",
        "residence_division_code": "330106001",
    },
    "birth_reported": {
        "transaction_id": "WJ-20261122-000001",
        "type": "birth_reported",
        "schema_version": 1,
        "source_record_id": "CSYXZM-2026-778899",
        "issuing_office": "杭州市西湖区妇幼保健院",
        "address": _ADDRESS,
        "mother": {"resident_id": "11010519491231002X", "name": "王芳"},
        "father": {"resident_id": "110105194912310038", "name": "李强"},
        "child_name": "李小明",
        "child_sex": "male",
        "birth_date": "2026-11-15",
        "birth_certificate_number": "Q330106778899",
        "residence_division_code": "330106001001",
    },
}


class _ValidatedOneByOne:
    """A batch item: read as it came and validated alone by the submit path (backend/intake/submit.py), so a bad
    item never holds back the good ones; documented as the notification it must be."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(NOTIFICATION_ADAPTER.core_schema)


class BatchRequest(InputSchema):
    """Up to 1,000 notifications; each is validated on its own, so bad items never hold back good ones."""

    notifications: list[Annotated[dict[str, Any], _ValidatedOneByOne()]] = Field(min_length=1, max_length=MAX_BATCH)


class ItemError(OutputSchema):
    index: int
    field: str
    reason: str


class AcceptedItem(OutputSchema):
    index: int
    transaction_id: str
    id: uuid.UUID
    status: str
    status_url: str
    replayed: bool


class BatchResponse(OutputSchema):
    accepted: list[AcceptedItem]
    errors: list[ItemError]


class NotificationStatusRead(OutputSchema):
    id: uuid.UUID
    transaction_id: str
    type: str
    status: str
    county_code: str
    township_code: str | None
    case_number: str | None
    rejection_reason: str | None
    received_at: datetime
    routed_at: datetime | None
    decided_at: datetime | None


class HeldNotificationRead(OutputSchema):
    id: uuid.UUID
    client_id: str
    department: str
    type: str
    county_code: str
    division_code: str
    status: str
    received_at: datetime


class TriageDecision(InputSchema):
    reason: Annotated[str, MultilineText(500, min_length=2)] | None = None


class TriageRead(OutputSchema):
    case_id: uuid.UUID
    notification_id: uuid.UUID
    type: str
    department: str
    payload: dict[str, Any]
    matches: dict[str, Any]
    verified_at: datetime | None
    decision: str | None
    decision_reason: str | None
    follow_up_case_ids: list[uuid.UUID] = Field(default_factory=list)


class WebhookRegistration(InputSchema):
    url: OutboundUrl = Field(
        description="https:// (http only in development); its host must resolve to public addresses only, checked "
        "now and again at every delivery"
    )


class WebhookRegistered(OutputSchema):
    url: str
    secret: str = Field(description="HMAC-SHA256 key, shown once")
    signature_header: str
    timestamp_header: str


class NotificationDeliveryRead(OutputSchema):
    id: uuid.UUID
    client_id: str
    notification_id: uuid.UUID
    event: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime


class ReconciliationRow(OutputSchema):
    department: str
    client_id: str
    month: str
    received: int
    routed: int
    accepted: int
    rejected: int
    pending: int
    held: int
