"""The supervision vocabulary (pure: no session, no service): KPI codes, period kinds, how a value compares
with its target, the traffic-light status and what a drill-down lists; and the shapes of a KPI's definition
(whose rows a count covers, `Scope`; a KPI's counts for one unit and month, `Bucket`; events in a period,
`FlowSource`; persons as they stand on a day, `SnapshotSource` over `PersonFacts` read on a `Day`). The
definitions themselves, and every query, are in backend/reports/repository.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeAlias

from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement


class KpiCode(StrEnum):
    """The catalogue's KPIs (指标). The definitions are in backend/reports/kpis.py (words) and
    backend/reports/repository.py (SQL)."""

    feedback_rate = "feedback_rate"  # 信息反馈率
    reply_on_time = "reply_on_time"  # 信息回复及时率
    send_on_time = "send_on_time"  # 协查发出及时率
    notice_acceptance = "notice_acceptance"  # 通报接收率
    inspection_rate = "inspection_rate"  # 婚育证明查验率
    certificate_issue_rate = "certificate_issue_rate"  # 婚育证明办证率
    check_rate = "check_rate"  # 三查到位率
    followup_rate = "followup_rate"  # 随访服务率
    policy_compliance = "policy_compliance"  # 一孩登记政策符合率
    overdue_share = "overdue_share"  # 超期办理占比
    data_completeness = "data_completeness"  # 主要项目完整率
    data_entry = "data_entry"  # 信息入库率
    data_accuracy = "data_accuracy"  # 数据准确率（逻辑关系准确率）


class PeriodKind(StrEnum):
    month = "month"  # 月报
    quarter = "quarter"  # 季报
    year = "year"  # 年报（公历年度）
    fp_year = "fp_year"  # 计生统计年度：上年10月1日至本年9月30日


class Comparator(StrEnum):
    at_least = "at_least"  # ≥ 目标
    at_most = "at_most"  # ≤ 目标


class RagStatus(StrEnum):
    """Green: the target is met; amber: within the KPI's margin of it; red: further off; none: no rows."""

    green = "green"
    amber = "amber"
    red = "red"
    none = "none"


class Subject(StrEnum):
    """What a KPI's rows are, and so what its drill-down lists."""

    requests = "requests"  # 协查与通报
    cases = "cases"  # 案件
    persons = "persons"  # 人员
    entries = "entries"  # 村级录入（待审核、已确认、已退回）
    findings = "findings"  # 倒查复核结果


class RowPart(StrEnum):
    """Which of a KPI's rows a drill-down lists: all that count (the denominator), those counted in the
    numerator, or the rest. What to act on is the rest for a KPI to reach (≥), the numerator for one to stay
    under (≤, the overdue share)."""

    all = "all"
    numerator = "numerator"
    rest = "rest"


class AssessmentKind(StrEnum):
    counterpart = "counterpart"  # 对方县（双向考核）
    townships = "townships"  # 乡镇排名


class ContestState(StrEnum):
    open = "open"  # 待答复
    upheld = "upheld"  # 异议成立
    dismissed = "dismissed"  # 异议不成立


# --- the shapes of a KPI's definition ------------------------------------------------------------------------

WORKING_AGE = (18, 49)  # 育龄: 18 to 49 years old inclusive

Condition: TypeAlias = ColumnElement[bool]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a count covers: the county scored (`county_code`), the subtree (`root`), the length of the
    unit codes the rows are grouped by (`child_length`: 9 townships, 12 villages, 0 no grouping), the moment
    "due by now" is judged at (`as_of`) and, for a two-way assessment, the other county of the pair
    (`counterpart`: only rows between the two count)."""

    county_code: str
    root: str
    as_of: datetime
    child_length: int = 0
    counterpart: str | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One KPI's counts for one unit (a child of the root, or the root itself for rows filed there) and month."""

    kpi: KpiCode
    unit: str
    month: date
    numerator: int
    denominator: int


@dataclass(frozen=True, slots=True)
class FlowSource:
    """Events of `model` at `moment`, filed under `unit`; `rows` picks the family's rows, `counts` the
    denominator among them, `met` the numerator among those."""

    family: str
    model: type[Any]
    unit: InstrumentedAttribute[Any]
    moment: InstrumentedAttribute[Any]
    rows: Callable[[Scope], list[Condition]]
    counts: Callable[[Scope], Condition]
    met: Callable[[Scope], Condition]


@dataclass(frozen=True, slots=True)
class Day:
    """The day a snapshot is read on, as columns: `at`, and the birth dates bounding working age on that day
    (born on or before `born_by` is 18 or older; after `born_after`, 49 or younger), worked out once per day
    rather than once per person."""

    at: ColumnElement[date]
    born_by: ColumnElement[date]
    born_after: ColumnElement[date]


def years_before(day: date, years: int) -> date:
    """The same day `years` years earlier (29 February becomes 28 February, as in PostgreSQL)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def day_bounds(day: date) -> tuple[date, date, date]:
    """(at, born_by, born_after) of a snapshot day."""
    youngest, oldest = WORKING_AGE
    return day, years_before(day, youngest), years_before(day, oldest + 1)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What snapshot KPIs read of a person, worked out once per person (not once per person and day): the unit,
    flow direction, sex and birth date; the day the person came on the register (`registered_on`); whether every
    main field is filled in (`complete`); and the days covered by a certificate in force (`certificates`) and by an
    inspection within the year before (`inspected`), as date multiranges from one pass over the county's
    certificates and inspections, so that a snapshot on any day is a containment test."""

    unit: ColumnElement[str]
    direction: ColumnElement[Any]
    sex: ColumnElement[Any]
    birth_date: ColumnElement[date]
    registered_on: ColumnElement[date]
    complete: ColumnElement[bool]
    certificates: ColumnElement[Any]
    inspected: ColumnElement[Any]


@dataclass(frozen=True, slots=True)
class SnapshotSource:
    """Persons on the register as they stand on a day: `counts(day, person)` the denominator, `met(day, person)`
    the numerator, over the person's facts (`PersonFacts`)."""

    family: str
    counts: Callable[[Day, PersonFacts], Condition]
    met: Callable[[Day, PersonFacts], Condition]


Source: TypeAlias = FlowSource | SnapshotSource


@dataclass(frozen=True, slots=True)
class SnapshotDay:
    """A month of a snapshot KPI and the day its state is read on (the month's last day, or today)."""

    month: date
    at: date
