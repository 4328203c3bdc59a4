"""The supervision vocabulary (pure: no session, no service): KPI codes, period kinds, how a value compares
with its target, the traffic-light status and what a drill-down lists."""

from __future__ import annotations

from enum import StrEnum


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
