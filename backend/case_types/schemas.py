"""Pydantic models of the case-type API: a county's override of one type, and the effective definition."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from backend.case_types.types import SignoffStep
from backend.core.input import Code, Text
from backend.core.schemas import InputSchema, OutputSchema
from backend.models import CaseStage

# A case type's code in a path: snake_case, as the shipped definitions name them.
CaseTypeCode = Annotated[str, Code(r"^[a-z][a-z0-9_]{0,39}$", 40)]


class DeadlineRuleBody(InputSchema):
    stage: CaseStage
    working_days: int | None = Field(default=None, description="1 to 60 working days; or give calendar_days")
    calendar_days: int | None = Field(default=None, description="calendar days (自然日); or give working_days")
    source: Annotated[str, Text(200)] = Field(default="", description="where the rule comes from, quoted for officers")


class AlertPolicyBody(InputSchema):
    reminder_working_days: int = Field(default=2, description="reminder this many working days before the due day")
    escalation_working_days: list[int] = Field(
        default=[2, 5],
        max_length=10,
        description="working days after the due day for rung 2 (township supervisor) and rung 3 (county supervisor)",
    )


class AlertPolicyRead(OutputSchema):
    reminder_working_days: int
    escalation_working_days: list[int]


class CaseTypeOverrideUpdate(InputSchema):
    """The county's whole override of one type; a key left out (or null) follows the shipped default."""

    enabled: bool | None = None
    label: Annotated[str, Text(100, min_length=1)] | None = None
    required_documents: list[Annotated[str, Text(100, min_length=1)]] | None = Field(default=None, max_length=100)
    stages: list[CaseStage] | None = Field(default=None, max_length=len(CaseStage))
    deadlines: list[DeadlineRuleBody] | None = Field(default=None, max_length=len(CaseStage))
    alerts: AlertPolicyBody | None = None
    version: int | None = Field(
        default=None, description="The override version you read; required once the county has an override row"
    )


class DeadlineRuleRead(OutputSchema):
    stage: CaseStage
    working_days: int | None
    calendar_days: int | None
    source: str


class SignoffStepRead(OutputSchema):
    """A signature step of the type's maker-checker chain: who signs (the permission and the part), in which
    stage, within how many working days, and the words signed."""

    key: str
    label: str
    role: str
    stage: CaseStage
    action: str
    working_days: int
    attestation: str

    @classmethod
    def of(cls, step: SignoffStep) -> SignoffStepRead:
        return cls(
            key=step.key,
            label=step.label,
            role=step.role,
            stage=step.stage,
            action=step.action.value,
            working_days=step.working_days,
            attestation=step.attestation,
        )


class CaseTypeRead(OutputSchema):
    """The effective definition in this county, and what the county changed."""

    code: str
    label: str
    enabled: bool
    abolished: bool
    stages: list[CaseStage]
    required_documents: list[str]
    deadlines: list[DeadlineRuleRead]
    alerts: AlertPolicyRead
    note: str
    signoffs: list[SignoffStepRead] = Field(default_factory=list)
    overridden_fields: list[str]
    version: int | None = Field(description="The override row's version (null: never configured)")
