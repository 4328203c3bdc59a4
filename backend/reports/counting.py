"""Counting KPIs over a window of months, and reading a period's figure, a trend or a ranking off the counts.

The repository counts each KPI per unit and month (`Bucket`); everything the cockpit, the assessments and the
platform's aggregates show is a sum of those buckets:

- a flow KPI's period figure is the sum of the period's months (events in the period);
- a snapshot KPI's period figure is its last month's (the state at the period's end, or today).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import start_of_day
from backend.reports.kpis import Kpi, rate
from backend.reports.periods import Period, add_months, month_of
from backend.reports.repository import (
    KPI_SOURCES,
    Bucket,
    FlowSource,
    KpiRepository,
    Scope,
    SnapshotDay,
    SnapshotSource,
)
from backend.reports.types import KpiCode


@dataclass(frozen=True, slots=True)
class Counts:
    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        return rate(self.numerator, self.denominator)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.numerator + other.numerator, self.denominator + other.denominator)


def month_end(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def snapshot_days(months: Sequence[date], today: date) -> list[SnapshotDay]:
    """Each month read on its last day, the running month today; months not yet begun are left out."""
    return [SnapshotDay(month, min(month_end(month), today)) for month in months if month <= today]


def window_bounds(months: Sequence[date]) -> tuple[datetime, datetime]:
    """[00:00 China time on the first month's first day, the same after the last month)."""
    return start_of_day(months[0]), start_of_day(add_months(months[-1], 1))


async def count_kpis(
    session: AsyncSession, scope: Scope, months: Sequence[date], codes: Iterable[KpiCode], today: date
) -> list[Bucket]:
    """Every bucket of the KPIs `codes` over `months`: one statement per family of KPIs."""
    if not months:
        return []
    repository = KpiRepository(session)
    flows: dict[str, dict[KpiCode, FlowSource]] = defaultdict(dict)
    snapshots: dict[KpiCode, SnapshotSource] = {}
    for code in codes:
        source = KPI_SOURCES[code]
        if isinstance(source, FlowSource):
            flows[source.family][code] = source
        else:
            snapshots[code] = source
    begins_at, ends_before = window_bounds(months)
    buckets: list[Bucket] = []
    for sources in flows.values():
        buckets += await repository.flow_counts(scope, sources, begins_at, ends_before)
    if snapshots:
        buckets += await repository.snapshot_counts(scope, snapshots, snapshot_days(months, today))
    return buckets


def period_months(kpi: Kpi, period: Period, today: date) -> list[date]:
    """The months a period's figure sums: those that have begun (a flow KPI: events in the period), or the last of
    them (a snapshot KPI: the state at the period's end, or today)."""
    months = [month for month in period.months() if month <= month_of(today)]
    return months[-1:] if kpi.snapshot else months


class Tally:
    """The buckets of one count, summed the ways the pages need."""

    def __init__(self, buckets: Iterable[Bucket]) -> None:
        self._by: dict[KpiCode, dict[date, dict[str, Counts]]] = defaultdict(lambda: defaultdict(dict))
        for bucket in buckets:
            units = self._by[bucket.kpi][bucket.month]
            units[bucket.unit] = units.get(bucket.unit, Counts()) + Counts(bucket.numerator, bucket.denominator)

    def units(self, code: KpiCode) -> set[str]:
        """The unit keys with rows of this KPI in any month."""
        return {unit for units in self._by[code].values() for unit in units}

    def month(self, code: KpiCode, month: date, unit: str | None = None) -> Counts:
        """One month of a KPI, for one unit key or all together."""
        units = self._by[code].get(month, {})
        if unit is not None:
            return units.get(unit, Counts())
        total = Counts()
        for counts in units.values():
            total = total + counts
        return total

    def period(self, kpi: Kpi, period: Period, today: date, unit: str | None = None) -> Counts:
        """The period's figure (see `period_months`)."""
        total = Counts()
        for month in period_months(kpi, period, today):
            total = total + self.month(kpi.code, month, unit)
        return total


class Ranked(Protocol):
    value: float | None
    rank: int | None


RankedT = TypeVar("RankedT", bound=Ranked)


def ranked(kpi: Kpi, figures: list[RankedT]) -> list[RankedT]:
    """The figures best first (highest for a KPI to reach, lowest for one to stay under; no value last), each
    with its rank."""
    figures.sort(
        key=lambda figure: (
            figure.value is None,
            -(figure.value or 0.0) if kpi.comparator.value == "at_least" else figure.value or 0.0,
        )
    )
    for place, figure in enumerate(figures, start=1):
        figure.rank = place
    return figures
