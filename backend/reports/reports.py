"""Statistical reports (统计报表): monthly, quarterly, annual and FP statistical year; rows per unit with subtotals
and the total; published as frozen versions.

- Reach: a report of a unit needs report.read over it (404 otherwise); publishing needs report.publish over it.
- Rows: for a county, each township's villages, then the township's own rows (本级: what is filed at the township
  itself) and its subtotal (小计); for a township, its villages and own rows; then the total (合计). Subtotals
  add up everything filed under the unit, so they agree with the total whatever the tree looked like.
- Publishing freezes the figures (and the as-of moment and publisher) in a `statistical_reports` row, which the
  application can insert but never change. Reading a published version later gives the same numbers, whatever
  happened since. Publishing a period again is a correction: a new version that needs a reason and points to the
  one it supersedes. Both are audited (`report.publish`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, utc_now
from backend.core.errors import Conflict, Forbidden
from backend.core.pagination import PageParams
from backend.models import OrgUnit, StatisticalReport
from backend.notifications import events
from backend.notifications.service import notify
from backend.org import service as org
from backend.reports.errors import CorrectionReasonRequired, ReportNotFound
from backend.reports.figures.columns import COLUMN_KEYS, COLUMNS
from backend.reports.figures.repository import Counts, ReportFiguresRepository, ReportWindow
from backend.reports.periods import Period, parse_period, period_containing
from backend.reports.records.repository import StatisticalReportRepository
from backend.reports.schemas import (
    PeriodRead,
    PublishedReportItem,
    ReportColumnRead,
    ReportPublish,
    ReportRead,
    ReportRowRead,
)
from backend.reports.service import period_read, unit_in_reach
from backend.reports.types import PeriodKind

OWN_LEVEL, SUBTOTAL, TOTAL = "本级", "小计", "合计"


class ReportPublishedMeanwhile(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "该期报表刚由他人发布，请刷新后重试 / Someone published this report a moment ago; reload and retry",
            code="REPORT_PUBLISHED_MEANWHILE",
        )


def report_title(unit_name: str) -> str:
    return f"{unit_name}流动人口计划生育服务管理统计报表"


def _sum(counts: Counts, prefix: str | None = None, exact: str | None = None) -> dict[str, int]:
    """Each column summed over the units under `prefix` (or the one unit `exact`)."""
    values: dict[str, int] = {}
    for key in COLUMN_KEYS:
        by_unit = counts.get(key, {})
        if exact is not None:
            values[key] = by_unit.get(exact, 0)
        else:
            values[key] = sum(number for unit, number in by_unit.items() if prefix is None or unit.startswith(prefix))
    return values


def _row(code: str, name: str, kind: str, values: dict[str, int]) -> ReportRowRead:
    return ReportRowRead(unit_code=code, unit_name=name, row_kind=kind, values=values)


def build_rows(root: OrgUnit, units: list[OrgUnit], counts: Counts) -> list[ReportRowRead]:
    """The report's rows for `root`: villages, own rows and subtotals per township, then the total."""
    names = {unit.code: unit.name for unit in units}
    filed = {unit for by_unit in counts.values() for unit in by_unit}
    codes = sorted(set(names) | filed)

    def children(code: str) -> list[str]:
        return [child for child in codes if len(child) == len(code) + 3 and child.startswith(code)]

    def own(code: str) -> list[ReportRowRead]:
        values = _sum(counts, exact=code)
        return (
            [_row(code, f"{names.get(code, code)}（{OWN_LEVEL}）", "own_level", values)] if any(values.values()) else []
        )

    def villages(township: str) -> list[ReportRowRead]:
        return [_row(code, names.get(code, code), "village", _sum(counts, prefix=code)) for code in children(township)]

    rows: list[ReportRowRead] = []
    if len(root.code) == 6:
        for township in children(root.code):
            rows += villages(township) + own(township)
            rows.append(
                _row(
                    township,
                    f"{names.get(township, township)}{SUBTOTAL}",
                    "township_subtotal",
                    _sum(counts, prefix=township),
                )
            )
        rows += own(root.code)
    elif len(root.code) == 9:
        rows += villages(root.code) + own(root.code)
    rows.append(_row(root.code, f"{root.name}{TOTAL}", "total", _sum(counts, prefix=root.code)))
    return rows


def _columns() -> list[ReportColumnRead]:
    return [ReportColumnRead(key=column.key, header=column.header, group=column.group) for column in COLUMNS]


def _period(kind: PeriodKind, key: str | None) -> Period:
    return parse_period(kind, key) if key else period_containing(kind, china_today())


async def _figures(
    session: AsyncSession, principal: Principal, unit: OrgUnit, period: Period
) -> tuple[list[ReportRowRead], Any]:
    as_of = utc_now()
    window = ReportWindow(
        county_code=principal.tenant_code or "",
        root=unit.code,
        first_day=period.start,
        last_day=period.end,
        begins_at=period.begins_at,
        ends_before=period.ends_before,
        as_of=as_of,
    )
    counts = await ReportFiguresRepository(session).counts(window)
    units = await org.list_subtree(session, unit.code)
    return build_rows(unit, units, counts), as_of


async def live_report(
    session: AsyncSession, principal: Principal, kind: PeriodKind, key: str | None, unit_code: str | None
) -> ReportRead:
    """The report of a unit and period as the rows stand now (not published)."""
    unit = await unit_in_reach(session, principal, unit_code, Action.report_read)
    period = _period(kind, key)
    rows, as_of = await _figures(session, principal, unit, period)
    return ReportRead(
        title=report_title(unit.name),
        kind=kind,
        period=period_read(period),
        unit_code=unit.code,
        unit_name=unit.name,
        as_of=as_of,
        columns=_columns(),
        rows=rows,
    )


def _published(row: StatisticalReport) -> ReportRead:
    figures = row.figures
    return ReportRead(
        id=row.id,
        title=row.title,
        kind=PeriodKind(row.kind),
        period=PeriodRead.model_validate(figures["period"]),
        unit_code=row.org_unit_code,
        unit_name=figures["unit_name"],
        as_of=row.as_of,
        version=row.version_number,
        published_at=row.published_at,
        published_by=row.published_by,
        correction_reason=row.correction_reason,
        supersedes_id=row.supersedes_id,
        columns=[ReportColumnRead.model_validate(column) for column in figures["columns"]],
        rows=[ReportRowRead.model_validate(item) for item in figures["rows"]],
    )


async def publish_report(
    session: AsyncSession, principal: Principal, kind: PeriodKind, body: ReportPublish
) -> ReportRead:
    """Freeze the report of a unit and period as a new published version (a correction, with its reason, when the
    period was published before). Audited."""
    unit = await unit_in_reach(session, principal, body.unit, Action.report_read)
    if not principal.can(Action.report_publish, unit.code):
        raise Forbidden()
    period = parse_period(kind, body.period)
    repository = StatisticalReportRepository(session)
    previous = await repository.latest(kind.value, period.key, unit.code)
    if previous is not None and not body.correction_reason:
        raise CorrectionReasonRequired()
    rows, as_of = await _figures(session, principal, unit, period)
    report = StatisticalReport(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        kind=kind.value,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        org_unit_code=unit.code,
        version_number=previous.version_number + 1 if previous else 1,
        title=report_title(unit.name),
        as_of=as_of,
        published_at=as_of,
        published_by=principal.label[:100],
        correction_reason=body.correction_reason if previous else None,
        supersedes_id=previous.id if previous else None,
        figures={
            "unit_name": unit.name,
            "period": period_read(period).model_dump(mode="json"),
            "columns": [column.model_dump() for column in _columns()],
            "rows": [row.model_dump() for row in rows],
        },
    )
    repository.add(report)
    await repository.flush_unique("uq_statistical_reports_version", ReportPublishedMeanwhile)
    await audit.record(
        session,
        action="report.publish",
        entity_type="statistical_report",
        entity_id=report.id,
        changes={
            "kind": kind.value,
            "period": period.key,
            "unit": unit.code,
            "version": report.version_number,
            "supersedes": str(previous.id) if previous else None,
        },
        org_unit_code=unit.code,
        reason=report.correction_reason,
    )
    await notify(session, events.report_published(report))
    return _published(report)


async def published_reports(
    session: AsyncSession, principal: Principal, kind: PeriodKind | None, unit_code: str | None, paging: PageParams
) -> tuple[list[PublishedReportItem], int]:
    """The published versions in the caller's reach, newest period first."""
    rows, total = await StatisticalReportRepository(session).published(
        principal, kind.value if kind else None, unit_code, offset=paging.offset, limit=paging.size
    )
    return [PublishedReportItem.model_validate(row) for row in rows], total


async def published_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> ReportRead:
    """One published version, exactly as frozen."""
    row = await StatisticalReportRepository(session).get_in_reach(
        principal, Action.report_read, report_id, not_found=ReportNotFound()
    )
    return _published(row)
