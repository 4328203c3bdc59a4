"""The KPI catalogue (指标目录) as configuration: each KPI's code, Chinese and English label, numerator and
denominator over platform data, default target from the norm and where that target comes from, the period it
is normally judged over, and the traffic-light margin. A county overrides the target (backend/reports/targets.py);
nothing else about a KPI changes per county, so that two counties' figures mean the same.

The SQL that counts each KPI's rows is in backend/reports/repository.py (`KPI_SOURCES`); the words here and the
SQL there describe the same rows, and the user guide quotes these definitions.

Two KPIs read case types that issue #21 (village service work: check rounds, free services, follow-ups) will
give tables of their own: `check_rate` (today the `pregnancy_check_round` cases the follow-up sweep opens) and
`followup_rate` (today the `follow_up_visit` cases). Re-pointing them is a change of their source in the
repository; their codes, labels and targets stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.reports.types import Comparator, KpiCode, PeriodKind, RagStatus, RowPart, Subject

DEFAULT_AMBER_MARGIN = 0.05  # five percentage points short of the target is amber, further is red


@dataclass(frozen=True, slots=True)
class Kpi:
    code: KpiCode
    label: str  # 中文 / English
    numerator: str  # 中文 / English
    denominator: str  # 中文 / English
    target: float  # a share, 0..1
    comparator: Comparator
    period_kind: PeriodKind
    source: str  # where the default target comes from (a quote of the seeds, or "platform default")
    subject: Subject
    snapshot: bool = False  # a state at the period's end (else events in the period)
    counterpart: bool = False  # can be computed for one counterpart county (two-way assessment)
    depends_on: str | None = None  # an issue whose tables will become this KPI's source
    amber_margin: float = DEFAULT_AMBER_MARGIN

    @property
    def shortfall(self) -> RowPart:
        """The rows to act on when the figure is off target: the rest for a KPI to reach, the numerator for one
        to stay under."""
        return RowPart.numerator if self.comparator is Comparator.at_most else RowPart.rest

    def status(self, value: float | None, target: float | None = None) -> RagStatus:
        """Green when `value` meets the target, amber within the margin, red beyond, none without rows."""
        if value is None:
            return RagStatus.none
        goal = self.target if target is None else target
        gap = goal - value if self.comparator is Comparator.at_least else value - goal
        if gap <= 1e-9:
            return RagStatus.green
        return RagStatus.amber if gap <= self.amber_margin + 1e-9 else RagStatus.red


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is nothing to count."""
    return round(part / whole, 4) if whole else None


_DUE_NOTE = "已到期或已办结 / due by now or settled"

CATALOGUE: dict[KpiCode, Kpi] = {
    kpi.code: kpi
    for kpi in (
        Kpi(
            KpiCode.feedback_rate,
            "信息反馈率 / Feedback rate",
            "已反馈或说明理由退回的协查 / requests answered, or sent back with a reason",
            f"本期收到、{_DUE_NOTE}的协查（撤回的不计） / requests received in the period, {_DUE_NOTE} "
            "(withdrawn ones left out)",
            0.90,
            Comparator.at_least,
            PeriodKind.month,
            "[002]「确保相关人员信息通报反馈率、接受率均达90%以上」",
            Subject.requests,
            counterpart=True,
        ),
        Kpi(
            KpiCode.reply_on_time,
            "信息回复及时率 / Reply on time",
            "在反馈时限（15个工作日）内反馈或退回的协查 / requests answered or sent back by the deadline (15 WD)",
            f"本期收到、{_DUE_NOTE}的协查 / requests received in the period, {_DUE_NOTE}",
            1.0,
            Comparator.at_least,
            PeriodKind.month,
            "[004 篇十一]「按县定时间准时提交和回复信息…信息回复率100%」; P04「15个工作日内予以反馈」",
            Subject.requests,
            counterpart=True,
        ),
        Kpi(
            KpiCode.send_on_time,
            "协查发出及时率 / Requests sent on time",
            "收到材料后7个工作日内发出的协查 / requests sent within 7 working days of the materials",
            "本期收到材料的本县发出协查 / requests this county sent whose materials arrived in the period",
            1.0,
            Comparator.at_least,
            PeriodKind.month,
            "P04「在7个工作日内…向夫妻双方户籍地乡(镇、街道)核实其婚育情况」",
            Subject.requests,
            counterpart=True,
        ),
        Kpi(
            KpiCode.notice_acceptance,
            "通报接收率 / Notices accepted",
            "已接收（确认）的通报 / notices acknowledged",
            f"本期收到、{_DUE_NOTE}的通报 / notices received in the period, {_DUE_NOTE}",
            0.90,
            Comparator.at_least,
            PeriodKind.month,
            "[002]「确保相关人员信息通报反馈率、接受率均达90%以上」",
            Subject.requests,
            counterpart=True,
        ),
        Kpi(
            KpiCode.inspection_rate,
            "婚育证明查验率 / Certificate inspection rate",
            "其中婚育证明在期末前一年内查验过的 / of whom the certificate was inspected in the year to the "
            "period's end",
            "期末在册的流入育龄妇女（18–49岁） / inflow women aged 18–49 on the register at the period's end",
            0.95,
            Comparator.at_least,
            PeriodKind.fp_year,
            "P03「婚育证明首次查验后,每年至少查验一次」; 参照值 [000§H]「流入人口验证率95%」",
            Subject.persons,
            snapshot=True,
        ),
        Kpi(
            KpiCode.certificate_issue_rate,
            "婚育证明办证率 / Certificate issue rate",
            "其中期末持有效婚育证明的 / of whom hold a certificate in force at the period's end",
            "期末在册的流出育龄妇女（18–49岁） / outflow women aged 18–49 on the register at the period's end",
            0.95,
            Comparator.at_least,
            PeriodKind.fp_year,
            "[000§A]「確保辦證率達到95%以上」",
            Subject.persons,
            snapshot=True,
        ),
        Kpi(
            KpiCode.check_rate,
            "三查到位率 / Checks done (三查)",
            "已检查到位（办结：服务完成）的 / done (closed as completed)",
            f"本期到期的孕情环情检查轮次（{_DUE_NOTE}；撤回、无需办理的不计） / pregnancy and IUD check rounds due "
            f"in the period ({_DUE_NOTE}; withdrawn or no-action ones left out)",
            0.98,
            Comparator.at_least,
            PeriodKind.fp_year,
            "[001#12]「“双查”到位率达到98%以上」",
            Subject.cases,
            depends_on="#21",
        ),
        Kpi(
            KpiCode.followup_rate,
            "随访服务率 / Follow-up rate",
            "已随访到位（办结：服务完成）的 / visited (closed as completed)",
            f"本期到期的随访（{_DUE_NOTE}；撤回、无需办理的不计） / follow-up visits due in the period "
            f"({_DUE_NOTE}; withdrawn or no-action ones left out)",
            0.90,
            Comparator.at_least,
            PeriodKind.fp_year,
            "[002]「重点人群知情选择率、随访服务率均达90%以上」",
            Subject.cases,
            depends_on="#21",
        ),
        Kpi(
            KpiCode.policy_compliance,
            "一孩登记政策符合率 / First-child registrations within policy",
            "予以登记的 / registered",
            "本期办结的一孩生育服务登记中予以登记或不予办理的 / first-child registrations closed in the period "
            "as registered or refused (不符合生育政策)",
            0.98,
            Comparator.at_least,
            PeriodKind.fp_year,
            "[002]「确保出生政策符合率保持98%以上」",
            Subject.cases,
        ),
        Kpi(
            KpiCode.overdue_share,
            "超期办理占比 / Overdue share",
            "未在到期时刻前办结的 / not closed by the due moment",
            "本期到期（到期时刻已过）的案件 / cases whose due moment fell in the period and has passed",
            0.05,
            Comparator.at_most,
            PeriodKind.month,
            "平台默认值（规范无数值；参照 [000§E]「無一條過期信息」）/ platform default (no figure in the norm)",
            Subject.cases,
        ),
        Kpi(
            KpiCode.data_completeness,
            "主要项目完整率 / Completeness of main fields",
            "身份证号、出生日期、婚姻状况、户籍地、流动时间、联系电话均已填写的 / with ID number, birth date, "
            "marital status, registration place, flow date and phone all filled in",
            "期末在册的流动人口 / floating persons on the register at the period's end",
            0.95,
            Comparator.at_least,
            PeriodKind.month,
            "[002]「信息入库率、主要项目完整率、逻辑关系准确率」（规范要求提高，未给数值；平台默认95%）",
            Subject.persons,
            snapshot=True,
        ),
        # 信息入库率: the seeds name the rate ([002]) but give no definition and no "within N days" rule for entering
        # (P25 only says the township reviews village forms, 信息录入 asks for 「及时」 entry without a period), so
        # the platform defines it from the three-level review: of the village entries submitted for review in the
        # month, the share the township confirmed. A pending entry is not yet in the database: it counts against.
        Kpi(
            KpiCode.data_entry,
            "信息入库率 / Entries confirmed",
            "经乡镇审核确认入库的 / confirmed by the township",
            "本期提交审核的村级录入（新登记、变更、重新登记；含待审核、已退回） / village entries submitted for "
            "review in the period (registrations, changes, re-registrations; pending and sent-back ones included)",
            0.95,
            Comparator.at_least,
            PeriodKind.month,
            "[002]「信息入库率、主要项目完整率、逻辑关系准确率」（规范要求提高，未给数值；平台默认95%）",
            Subject.entries,
        ),
        # 逻辑关系准确率 over the random re-check (倒查, P25): of the sampled entries that could be checked, the share
        # found correct; "could not verify" (nobody at home) is neither.
        Kpi(
            KpiCode.data_accuracy,
            "数据准确率 / Data accuracy",
            "倒查核实准确的 / found correct",
            "本期完成倒查、能够核实的抽查记录（准确、有误已更正；无法核实的不计） / sampled entries re-checked in the "
            "period that could be checked (correct, or wrong and corrected; could-not-verify left out)",
            0.95,
            Comparator.at_least,
            PeriodKind.month,
            "[002]「信息入库率、主要项目完整率、逻辑关系准确率」（规范要求提高，未给数值；平台默认95%）; P25「随机抽查"
            "…及时对在采集中的错误信息进行更证」",
            Subject.findings,
        ),
    )
}


def get_kpi(code: str) -> Kpi | None:
    """The catalogue entry for `code`, or None."""
    try:
        return CATALOGUE[KpiCode(code)]
    except ValueError:
        return None
