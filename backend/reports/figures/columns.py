"""The columns of the statistical report (统计报表), in print order, each counted per unit over the period.

Group (表头分组) and column, and what is counted:

- 流动人口 — 流入人口 / 流出人口: inflow and outflow persons on the register at the period's end (arrived by
  then and not departed); 本期流入 / 本期流出: persons whose flow date (流入/流出时间) is in the period;
  本期注销: departures recorded in the period (the `person.depart` events of the audit log).
- 婚育证明 — 办证: certificates issued in the period by this county's units; 查验: inspections in the period.
- 一孩生育服务登记 — 登记 / 暂缓 / 不予办理: first-child registrations closed in the period with that outcome.
- 服务 — 再生育审批: re-birth approvals closed as approved; 避孕节育报告: contraception reports closed as done;
  三查到位: pregnancy and IUD check rounds closed as done; all in the period.
- 协查 — 发出: requests this county sent in the period; 反馈: requests it answered or sent back in the period;
  逾期: requests to it whose answer fell due in the period (and has passed) without an answer in time.
- 部门通报 — 收到: department notifications routed to the county in the period; 核实入库 / 退回: accepted or
  rejected in the period.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReportColumn:
    key: str
    header: str
    group: str
    width: int = 8


COLUMNS: tuple[ReportColumn, ...] = (
    ReportColumn("inflow_total", "流入人口", "流动人口"),
    ReportColumn("outflow_total", "流出人口", "流动人口"),
    ReportColumn("arrivals", "本期流入", "流动人口"),
    ReportColumn("new_outflow", "本期流出", "流动人口"),
    ReportColumn("departures", "本期注销", "流动人口"),
    ReportColumn("certificates_issued", "办证", "婚育证明"),
    ReportColumn("certificates_inspected", "查验", "婚育证明"),
    ReportColumn("first_child_registered", "登记", "一孩生育服务登记"),
    ReportColumn("first_child_deferred", "暂缓", "一孩生育服务登记"),
    ReportColumn("first_child_refused", "不予办理", "一孩生育服务登记"),
    ReportColumn("rebirth_approved", "再生育审批", "服务"),
    ReportColumn("contraception_reports", "避孕节育报告", "服务", 10),
    ReportColumn("checks_done", "三查到位", "服务"),
    ReportColumn("verification_sent", "发出", "协查"),
    ReportColumn("verification_answered", "反馈", "协查"),
    ReportColumn("verification_late", "逾期", "协查"),
    ReportColumn("notifications_received", "收到", "部门通报"),
    ReportColumn("notifications_accepted", "核实入库", "部门通报"),
    ReportColumn("notifications_rejected", "退回", "部门通报"),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
