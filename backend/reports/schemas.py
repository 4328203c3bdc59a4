"""Request and response bodies of the KPIs, the cockpit, statistical reports and assessments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from backend.core.input import Code, MultilineText, UnitCode
from backend.core.schemas import InputSchema, OutputSchema
from backend.reports.types import (
    AssessmentKind,
    Comparator,
    ContestState,
    KpiCode,
    PeriodKind,
    RagStatus,
    RowPart,
    Subject,
)

Reason = Annotated[str, MultilineText(2000, min_length=2)]
# A period by its key: 2026-03 (month), 2026-Q1 (quarter), 2026 (year), FY2026 (FP year); see periods.py.
PeriodKey = Annotated[str, Code(r"^(FY[0-9]{4}|[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?)$", 10)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


# --- the catalogue and targets ------------------------------------------------------------------------------


class KpiRead(OutputSchema):
    """A catalogue entry as this county uses it: the effective target and, when the county changed it, the
    version of its override."""

    code: KpiCode
    label: str
    numerator: str
    denominator: str
    comparator: Comparator
    default_target: float
    target: float
    target_percent: float
    overridden: bool
    version: int | None
    period_kind: PeriodKind
    source: str
    subject: Subject
    snapshot: bool
    counterpart: bool
    depends_on: str | None


class KpiTargetUpdate(InputSchema):
    """A county's own target for a KPI, in percent (95 = 95%). `version` is the override's version as read
    (required when the county already has one)."""

    target_percent: Percent
    version: int | None = Field(default=None, ge=1)


# --- the cockpit --------------------------------------------------------------------------------------------


class PeriodRead(BaseModel):
    kind: PeriodKind
    key: str
    label: str
    label_en: str
    start: date
    end: date


class Figure(BaseModel):
    """A value with the counts behind it (None when nothing counted)."""

    numerator: int = 0
    denominator: int = 0
    value: float | None = None


class MonthFigure(Figure):
    month: date


class UnitFigure(Figure):
    unit_code: str
    unit_name: str
    own_level: bool = False  # rows filed at the unit itself, not under any of its children (本级)
    status: RagStatus = RagStatus.none
    rank: int | None = None


class KpiFigure(Figure):
    code: KpiCode
    label: str
    target: float
    comparator: Comparator
    status: RagStatus
    period: PeriodRead
    shortfall: RowPart  # which rows to open when the figure is off target
    trend: list[MonthFigure]
    ranking: list[UnitFigure]


class Cockpit(BaseModel):
    """The KPIs of one unit: value, target and status over each KPI's period, the twelve-month trend and the
    ranking of the units below."""

    unit_code: str
    unit_name: str
    level: str  # county | township | village
    as_of: datetime
    kpis: list[KpiFigure]


class KpiRowRead(BaseModel):
    """One row behind a figure. `name` and `link` appear only where the caller may read that row's subject."""

    subject: Subject
    id: uuid.UUID
    reference: str  # case number, correlation id, or the person's register entry
    unit_code: str
    unit_name: str
    moment: datetime | date | None
    state: str
    counted: bool  # in the numerator
    name: str | None = None
    link: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class KpiRowsPage(BaseModel):
    code: KpiCode
    label: str
    unit_code: str
    unit_name: str
    period: PeriodRead
    part: RowPart
    as_of: datetime
    items: list[KpiRowRead]
    total: int
    page: int
    size: int


class CountyFigure(Figure):
    county_code: str
    county_name: str
    status: RagStatus = RagStatus.none
    rank: int | None = None


class PlatformKpi(Figure):
    code: KpiCode
    label: str
    target: float  # the catalogue's default (counties may have set their own)
    comparator: Comparator
    status: RagStatus
    trend: list[MonthFigure]
    counties: list[CountyFigure]


class PlatformOverview(BaseModel):
    """Every county's KPIs as counts (the platform operator sees no rows and no personal data), from the counts
    the nightly job last refreshed."""

    period: PeriodRead
    refreshed_at: datetime | None
    kpis: list[PlatformKpi]


# --- statistical reports ------------------------------------------------------------------------------------


class ReportColumnRead(BaseModel):
    key: str
    header: str
    group: str


class ReportRowRead(BaseModel):
    unit_code: str
    unit_name: str
    row_kind: str  # village | own_level | township_subtotal | total
    values: dict[str, int]


class ReportRead(BaseModel):
    """A statistical report (统计报表): rows per unit with subtotals and the total. Live (`version` None) or a
    published version, frozen with its as-of moment and publisher."""

    id: uuid.UUID | None = None
    title: str
    kind: PeriodKind
    period: PeriodRead
    unit_code: str
    unit_name: str
    as_of: datetime
    version: int | None = None
    published_at: datetime | None = None
    published_by: str | None = None
    correction_reason: str | None = None
    supersedes_id: uuid.UUID | None = None
    columns: list[ReportColumnRead]
    rows: list[ReportRowRead]


class ReportPublish(InputSchema):
    """Publish the report of a period and unit. Publishing a period already published is a correction: a new
    version, with the reason."""

    period: PeriodKey
    unit: UnitCode | None = None
    correction_reason: Reason | None = None


class PublishedReportItem(OutputSchema):
    id: uuid.UUID
    title: str
    kind: str
    period_key: str
    org_unit_code: str
    version_number: int
    as_of: datetime
    published_at: datetime
    published_by: str
    correction_reason: str | None


# --- assessments --------------------------------------------------------------------------------------------


class SchemeItem(InputSchema):
    """One item of an assessment scheme: a KPI, its weight (points, the items add up to 100), a target of its own
    (percent; the county's KPI target when left out) and whether missing it fails the whole assessment
    (一票否决)."""

    kpi_code: KpiCode
    weight: int = Field(ge=1, le=100)
    target_percent: Percent | None = None
    veto: bool = False


class SchemeUpdate(InputSchema):
    items: list[SchemeItem] = Field(min_length=1, max_length=len(KpiCode))
    version: int | None = Field(default=None, ge=1)


class SchemeRead(BaseModel):
    year: int
    period: PeriodRead
    items: list[dict[str, Any]]
    version: int | None
    updated_by: str | None
    default: bool  # the shipped scheme: the county has not saved one for this year


class ItemScore(BaseModel):
    """One item's figures and score. `rows` are the rows behind it (no personal data)."""

    kpi_code: KpiCode
    label: str
    weight: int
    target: float
    comparator: Comparator
    veto: bool
    numerator: int
    denominator: int
    value: float | None
    score: float | None  # None: no rows, the item does not count
    met: bool | None
    rows: list[dict[str, Any]] = Field(default_factory=list)


class ScoreRead(BaseModel):
    """The score of one assessed party: a counterpart county, or a township of the county."""

    assessed_code: str
    assessed_name: str
    total_score: float | None
    vetoed: bool
    rank: int | None = None
    items: list[ItemScore]


class AssessmentRead(BaseModel):
    """An assessment, live or published: the scores the assessor gave, with the rows behind each item."""

    id: uuid.UUID | None = None
    kind: AssessmentKind
    year: int
    period: PeriodRead
    assessor_county_code: str
    assessor_county_name: str
    as_of: datetime
    version: int | None = None
    published_at: datetime | None = None
    published_by: str | None = None
    correction_reason: str | None = None
    scores: list[ScoreRead]
    contests: list[ContestRead] = Field(default_factory=list)


class AssessmentItem(OutputSchema):
    """An assessment in a list (no items)."""

    id: uuid.UUID
    kind: str
    year: int
    assessor_county_code: str
    assessed_county_code: str
    version_number: int
    total_score: float | None
    vetoed: bool
    published_at: datetime
    published_by: str
    correction_reason: str | None


class AssessmentPublish(InputSchema):
    correction_reason: Reason | None = None


class ContestCreate(InputSchema):
    item: KpiCode
    reason: Reason


class ContestAnswer(InputSchema):
    decision: Literal["upheld", "dismissed"]
    response: Reason


class ContestRead(OutputSchema):
    id: uuid.UUID
    assessment_id: uuid.UUID
    item_code: str
    reason: str
    raised_by: str
    raised_at: datetime
    state: ContestState
    response: str | None
    responded_by: str | None
    responded_at: datetime | None
    version: int


AssessmentRead.model_rebuild()


class Counterpart(BaseModel):
    code: str
    name: str
