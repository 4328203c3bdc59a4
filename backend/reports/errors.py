"""Typed errors of supervision: KPIs, statistical reports and assessments, each with its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound
from backend.reports.types import PeriodKind

_PERIOD_FORMS = {
    PeriodKind.month: "2026-03",
    PeriodKind.quarter: "2026-Q1",
    PeriodKind.year: "2026",
    PeriodKind.fp_year: "FY2026",
}


class InvalidPeriod(InvalidInput):
    def __init__(self, field: str, kind: PeriodKind) -> None:
        example = _PERIOD_FORMS[kind]
        super().__init__(
            "统计期间有误 / Invalid period",
            [FieldError(("query", field), f"期间格式应如 {example} / the period is written like {example}")],
        )


class KpiNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("指标不存在 / No such KPI")


class UnitNotFound(NotFound):
    """A unit that does not exist in the county or lies outside the caller's reach: both answer 404."""

    def __init__(self) -> None:
        super().__init__("单位不存在 / No such org unit")


class InvalidTarget(InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__(
            "目标值有误，未保存 / Invalid target; nothing was saved", [FieldError(("body", "target"), message)]
        )


class TargetVersionConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "目标已被他人修改，请刷新后重试 / Someone else changed this target; reload and retry", code="STALE_VERSION"
        )


class ReportNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("报表不存在 / No such report")


class CorrectionReasonRequired(InvalidInput):
    """Publishing again a report (or an assessment) that already has a published version is a correction."""

    def __init__(self) -> None:
        super().__init__(
            "该期报表已发布，更正须说明理由 / This period is already published: a correction needs a reason",
            [FieldError(("body", "correction_reason"), "更正须说明理由 / give the reason for the correction")],
        )


class SchemeRejected(InvalidInput):
    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("考核方案有误，未保存 / The assessment scheme is invalid; nothing was saved", problems)


class SchemeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("该年度尚未制定考核方案 / No assessment scheme for this year")


class SchemeVersionConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "考核方案已被他人修改，请刷新后重试 / Someone else changed the scheme; reload and retry",
            code="STALE_VERSION",
        )


class AssessmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("考核结果不存在 / No such assessment")


class ItemNotFound(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "考核项目不存在 / No such assessment item",
            [FieldError(("body", "item"), "不是该考核的项目 / not an item of this assessment")],
        )


class ContestNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("异议不存在 / No such contest")


class ContestAlreadyAnswered(Conflict):
    def __init__(self) -> None:
        super().__init__("该异议已答复 / This contest has been answered already", code="CONTEST_ANSWERED")


class NotAssessedCounty(Conflict):
    """Only the county that was scored may contest an item; the assessor answers."""

    def __init__(self) -> None:
        super().__init__("只有被考核县可以提出异议 / Only the assessed county may contest", code="NOT_ASSESSED")


class CounterpartIsSelf(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "不能考核本县 / A county does not assess itself",
            [FieldError(("path", "counterpart"), "须为其他县的区划代码 / another county's code")],
        )
