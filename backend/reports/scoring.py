"""Assessment schemes and scores (考核方案与计分), pure: no session.

A scheme is a list of items over the KPI catalogue, each with a weight in points (the items add up to 100), an
optional target of its own (else the county's KPI target) and a veto flag (一票否决). An item scores:

- for a KPI to reach (≥): the weight times value ÷ target, at most the weight;
- for a KPI to stay under (≤): the whole weight when met, else the weight times (1 − value) ÷ (1 − target);
- nothing when no rows counted: the item does not apply, and the total is taken over the items that do
  (total = points scored ÷ points applicable × 100).

An assessment is vetoed (否决) when a veto item has rows and misses its target, whatever the total.

Scoring a counterpart county uses the items whose KPI can be computed from the rows two counties share (requests
and notices: feedback, reply on time, notice acceptance, sending on time); ranking townships uses every item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.errors import FieldError
from backend.reports.kpis import CATALOGUE, Kpi
from backend.reports.types import Comparator, KpiCode

TOTAL_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class SchemeItem:
    kpi: Kpi
    weight: int
    target: float | None  # None: the county's KPI target
    veto: bool

    def as_json(self) -> dict[str, Any]:
        return {"kpi_code": self.kpi.code.value, "weight": self.weight, "target": self.target, "veto": self.veto}


DEFAULT_SCHEME: tuple[SchemeItem, ...] = tuple(
    SchemeItem(CATALOGUE[code], weight, None, veto)
    for code, weight, veto in (
        (KpiCode.feedback_rate, 20, False),
        (KpiCode.reply_on_time, 15, False),
        (KpiCode.notice_acceptance, 10, False),
        (KpiCode.send_on_time, 10, False),
        (KpiCode.inspection_rate, 10, False),
        (KpiCode.certificate_issue_rate, 10, False),
        (KpiCode.check_rate, 10, False),
        (KpiCode.followup_rate, 5, False),
        (KpiCode.policy_compliance, 10, True),
    )
)


def items_from_json(items: list[dict[str, Any]]) -> list[SchemeItem]:
    """A stored scheme's items (as `SchemeItem.as_json` wrote them)."""
    return [
        SchemeItem(CATALOGUE[KpiCode(item["kpi_code"])], int(item["weight"]), item.get("target"), bool(item["veto"]))
        for item in items
    ]


def scheme_problems(items: list[tuple[KpiCode, int, float | None, bool]]) -> list[FieldError]:
    """What is wrong with a scheme's items (kpi, weight, target share, veto): each KPI once, weights adding up to
    100, an upper limit below 100%."""
    problems: list[FieldError] = []
    seen: set[KpiCode] = set()
    for index, (code, _, target, _) in enumerate(items):
        if code in seen:
            problems.append(FieldError(("body", "items", index, "kpi_code"), "同一指标只能出现一次 / each KPI once"))
        seen.add(code)
        if target is not None and CATALOGUE[code].comparator is Comparator.at_most and target >= 1:
            problems.append(
                FieldError(("body", "items", index, "target_percent"), "上限须小于100% / an upper limit is below 100%")
            )
    total = sum(weight for _, weight, _, _ in items)
    if total != TOTAL_WEIGHT:
        problems.append(
            FieldError(
                ("body", "items"), f"各项分值合计须为100，现为{total} / the weights must add up to 100, not {total}"
            )
        )
    return problems


@dataclass(frozen=True, slots=True)
class Scored:
    score: float | None
    met: bool | None


def score_item(kpi: Kpi, weight: int, target: float, value: float | None) -> Scored:
    """One item's points (see the module docstring)."""
    if value is None:
        return Scored(None, None)
    if kpi.comparator is Comparator.at_most:
        met = value <= target + 1e-9
        share = 1.0 if met else max(0.0, (1 - value) / (1 - target)) if target < 1 else 0.0
    else:
        met = value >= target - 1e-9
        share = 1.0 if met or target <= 0 else min(1.0, value / target)
    return Scored(round(weight * share, 2), met)


def total_score(items: list[tuple[int, Scored, bool]]) -> tuple[float | None, bool]:
    """(total out of 100 over the applicable items, vetoed) from (weight, scored, veto) of each item."""
    applicable = [(weight, scored) for weight, scored, _ in items if scored.score is not None]
    vetoed = any(veto and scored.met is False for _, scored, veto in items)
    if not applicable:
        return None, vetoed
    points = sum(scored.score or 0.0 for _, scored in applicable)
    return round(points / sum(weight for weight, _ in applicable) * TOTAL_WEIGHT, 1), vetoed
