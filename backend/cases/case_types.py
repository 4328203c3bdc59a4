"""Case types: shipped defaults from the national norm (国家卫生计生委流动人口计划生育服务管理规范), which
a county may override (enable/disable, label, stages, required documents, deadline rules) through
`case_type_configs`. The workflow layer reads the deadline rules; nothing here knows about timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from backend.models import CaseStage

S = CaseStage


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """`stage` must be finished within `working_days` working days (or `calendar_days`) of entering it.

    `source` quotes the rule, so an officer can see where a deadline comes from.
    """

    stage: CaseStage
    working_days: int | None = None
    calendar_days: int | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class CaseTypeDefinition:
    code: str
    label: str  # 中文 / English
    stages: tuple[CaseStage, ...]
    required_documents: tuple[str, ...] = ()
    deadlines: tuple[DeadlineRule, ...] = ()
    enabled: bool = True
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def deadline_for(self, stage: CaseStage) -> DeadlineRule | None:
        return next((rule for rule in self.deadlines if rule.stage == stage), None)


_FULL = (S.registration, S.verification, S.service_delivery, S.follow_up, S.audit, S.closed)
_SIMPLE = (S.registration, S.service_delivery, S.closed)

DEFAULT_CASE_TYPES: dict[str, CaseTypeDefinition] = {
    definition.code: definition
    for definition in (
        CaseTypeDefinition(
            "inflow_registration",
            "流入人口登记 / Inflow registration",
            (S.registration, S.verification, S.closed),
            required_documents=("id_card",),
            deadlines=(
                DeadlineRule(
                    S.verification,
                    working_days=15,
                    source="15个工作日内通报户籍地 / notify the registration place within 15 WD",
                ),
            ),
        ),
        CaseTypeDefinition(
            "outflow_registration",
            "流出人口登记 / Outflow registration",
            (S.registration, S.closed),
            required_documents=("id_card",),
        ),
        CaseTypeDefinition(
            "certificate_issue",
            "婚育证明办理 / Certificate issue",
            _SIMPLE,
            required_documents=("id_card", "marriage_certificate"),
            note="免费办理，有效期三年 / free of charge, valid three years",
        ),
        CaseTypeDefinition(
            "certificate_inspection",
            "婚育证明查验 / Certificate inspection",
            _SIMPLE,
            note="首次查验后每年至少查验一次 / at least yearly after the first inspection",
        ),
        CaseTypeDefinition(
            "certificate_renewal",
            "婚育证明换领 / Certificate renewal",
            _SIMPLE,
            required_documents=("certificate_scan", "id_card"),
        ),
        CaseTypeDefinition(
            "first_child_registration",
            "一孩生育服务登记 / First-child birth service registration",
            _FULL,
            required_documents=("id_card", "spouse_id_card", "marriage_certificate", "status_certificate"),
            deadlines=(
                DeadlineRule(
                    S.registration, working_days=7, source="7个工作日内发出协查 / send the verification within 7 WD"
                ),
                DeadlineRule(
                    S.verification,
                    working_days=15,
                    source="户籍地15个工作日内反馈 / the registration place answers within 15 WD",
                ),
                DeadlineRule(
                    S.follow_up,
                    working_days=15,
                    source="登记后15个工作日内通报户籍地 / notify the registration place within 15 WD",
                ),
            ),
        ),
        CaseTypeDefinition(
            "rebirth_approval",
            "再生育审批 / Re-birth approval",
            _FULL,
            required_documents=("id_card", "spouse_id_card", "marriage_certificate"),
            deadlines=(
                DeadlineRule(
                    S.follow_up,
                    working_days=15,
                    source="15个工作日内通报现居住地 / notify the residence place within 15 WD",
                ),
            ),
        ),
        CaseTypeDefinition(
            "contraception_report",
            "避孕节育情况报告 / Contraception status report",
            _SIMPLE,
            deadlines=(
                DeadlineRule(
                    S.service_delivery, working_days=15, source="及时通报户籍地 / notify the registration place"
                ),
            ),
        ),
        CaseTypeDefinition(
            "pregnancy_check_round",
            "孕情环情检查 / Pregnancy and IUD check round",
            _SIMPLE,
            note="一般对象每年2次，重点对象每年4次 / 2 rounds a year, 4 for key subjects",
        ),
        CaseTypeDefinition(
            "follow_up_visit",
            "随访 / Follow-up visit",
            (S.service_delivery, S.closed),
            deadlines=(
                DeadlineRule(S.service_delivery, calendar_days=42, source="产后42天随访 / postpartum visit at 42 days"),
            ),
        ),
        CaseTypeDefinition(
            "notification_triage",
            "部门通报核实 / Department notification triage",
            (S.verification, S.closed),
            deadlines=(DeadlineRule(S.verification, working_days=7, source="核实后入库 / verify before entry"),),
        ),
        CaseTypeDefinition(
            "complaint",
            "举报投诉 / Complaint",
            (S.registration, S.verification, S.service_delivery, S.closed),
            deadlines=(DeadlineRule(S.verification, working_days=15, source="15个工作日内答复 / answer within 15 WD"),),
        ),
        CaseTypeDefinition(
            "social_maintenance_fee",
            "社会抚养费协商（已废止）/ Social maintenance fee consultation (abolished)",
            (S.registration, S.closed),
            enabled=False,
            note="2021年全国取消社会抚养费，保留以查阅历史记录 / abolished nationally in 2021; kept for history",
        ),
    )
}


def merge_overrides(
    definition: CaseTypeDefinition, enabled: bool | None, overrides: dict[str, Any]
) -> CaseTypeDefinition:
    """Apply a county's override on top of the shipped default (only the keys it sets)."""
    changes: dict[str, Any] = {}
    if enabled is not None:
        changes["enabled"] = enabled
    if "label" in overrides:
        changes["label"] = str(overrides["label"])
    if "required_documents" in overrides:
        changes["required_documents"] = tuple(overrides["required_documents"])
    if "stages" in overrides:
        changes["stages"] = tuple(CaseStage(stage) for stage in overrides["stages"])
    if "deadlines" in overrides:
        changes["deadlines"] = tuple(
            DeadlineRule(
                CaseStage(rule["stage"]), rule.get("working_days"), rule.get("calendar_days"), rule.get("source", "")
            )
            for rule in overrides["deadlines"]
        )
    return replace(definition, **changes)
