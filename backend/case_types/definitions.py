"""Case types: shipped defaults from the national norm (国家卫生计生委流动人口计划生育服务管理规范), which
a county may override (enable/disable, label, stages, required documents, deadline rules) through
`case_type_configs`. The workflow layer reads the deadline rules; nothing here knows about timers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

from backend.case_types.procedures import PROCEDURE_CASE_TYPES
from backend.case_types.types import DEFAULT_ALERTS, AlertPolicy, CaseTypeDefinition, DeadlineRule, SignoffStep
from backend.core.errors import FieldError
from backend.models import CaseStage

S = CaseStage

__all__ = ["DEFAULT_ALERTS", "AlertPolicy", "CaseTypeDefinition", "DeadlineRule", "SignoffStep"]

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
            "department_notification",
            "部门通报核实 / Department notification triage",
            (S.registration, S.closed),
            deadlines=(
                DeadlineRule(
                    S.registration,
                    working_days=15,
                    source="部门通报由计生部门核实后录入 / FP verifies department data before entry (local: 15 WD)",
                ),
            ),
            note="公安、民政、卫生通报的新流入、婚姻、出生信息 / police, civil affairs and health notifications",
        ),
        CaseTypeDefinition(
            "certificate_renewal",
            "婚育证明换领 / Certificate renewal",
            _SIMPLE,
            required_documents=("certificate_scan", "id_card"),
        ),
        CaseTypeDefinition(
            "agreement_renewal",
            "责任书（协议）续签 / Agreement renewal",
            _SIMPLE,
            required_documents=("agreement",),
            note="责任书、合同、双向服务管理协议书到期前续签 / renew before the agreement ends",
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
            "check_home_visit",
            "三查不到位上门服务 / Home visit after missed check rounds",
            (S.service_delivery, S.closed),
            note="连续两轮不到位的对象，逐一上门服务或外出督查 / two missed rounds in a row: visit at home or work",
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
        *PROCEDURE_CASE_TYPES,
    )
}


# --- per-county overrides ------------------------------------------------------------------------------

CANONICAL_STAGE_ORDER: tuple[CaseStage, ...] = _FULL
"""Every case type's stages are a subsequence of this order and end with `closed`."""

ABOLISHED_CASE_TYPES: frozenset[str] = frozenset({"social_maintenance_fee"})
"""Shipped disabled and never enabled by a county: kept only so historical records keep their definition."""

OVERRIDE_KEYS: tuple[str, ...] = ("label", "required_documents", "stages", "deadlines", "alerts")
"""The keys a county's override may set (besides `enabled`, which has its own column)."""

MAX_WORKING_DAYS = 60
MAX_REMINDER_WORKING_DAYS = 15
MAX_ESCALATION_WORKING_DAYS = 30
MAX_CALENDAR_DAYS = 365
MAX_LABEL_LENGTH = 100
MAX_SOURCE_LENGTH = 200
MAX_REQUIRED_DOCUMENTS = 30
DOCUMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

ABOLISHED_MESSAGE = (
    "社会抚养费已于2021年在全国取消，此类型仅保留用于查阅历史记录，不能启用 / "
    "The social maintenance fee was abolished nationally in 2021; this type is kept only for historical "
    "records and cannot be enabled"
)

Loc = tuple[str | int, ...]


def _stage_problems(stages: Any, loc: Loc) -> list[FieldError]:
    if not isinstance(stages, list | tuple) or not stages:
        return [FieldError(loc, "至少需要一个阶段 / at least one stage is required")]
    problems: list[FieldError] = []
    previous = -1
    for index, raw in enumerate(stages):
        try:
            position = CANONICAL_STAGE_ORDER.index(CaseStage(raw))
        except (ValueError, TypeError):
            problems.append(FieldError((*loc, index), f"未知阶段 {raw!r} / unknown stage {raw!r}"))
            continue
        if position <= previous:
            problems.append(
                FieldError(
                    (*loc, index),
                    "阶段须按 登记→核查→服务办理→随访→审核→办结 的顺序且不重复 / stages must follow the order "
                    "registration→verification→service_delivery→follow_up→audit→closed without repeats",
                )
            )
        previous = max(previous, position)
    if problems:
        return problems
    if CaseStage(stages[-1]) is not CaseStage.closed:
        problems.append(FieldError(loc, "最后一个阶段必须是办结 (closed) / the last stage must be closed"))
    elif len(stages) < 2:
        problems.append(FieldError(loc, "办结之前至少需要一个办理阶段 / at least one stage must come before closed"))
    return problems


def _deadline_problems(rules: Any, stages: tuple[CaseStage, ...], loc: Loc) -> list[FieldError]:
    if not isinstance(rules, list | tuple):
        return [FieldError(loc, "应为列表 / expected a list")]
    problems: list[FieldError] = []
    seen: set[CaseStage] = set()
    for index, rule in enumerate(rules):
        at = (*loc, index)
        if not isinstance(rule, dict):
            problems.append(FieldError(at, "应为对象 / expected an object"))
            continue
        try:
            stage = CaseStage(str(rule.get("stage")))
        except ValueError:
            problems.append(FieldError((*at, "stage"), "未知阶段 / unknown stage"))
            continue
        if stage is CaseStage.closed:
            problems.append(FieldError((*at, "stage"), "办结阶段没有时限 / the closed stage has no deadline"))
        elif stage not in stages:
            problems.append(
                FieldError(
                    (*at, "stage"),
                    f"阶段 {stage.value} 不在该类型的阶段中 / stage {stage.value} is not one of this type's stages",
                )
            )
        elif stage in seen:
            problems.append(FieldError((*at, "stage"), "同一阶段只能有一条时限 / one deadline per stage"))
        seen.add(stage)
        working, calendar = rule.get("working_days"), rule.get("calendar_days")
        if (working is None) == (calendar is None):
            problems.append(
                FieldError(
                    at,
                    "工作日 (working_days) 与自然日 (calendar_days) 须且只能填写一项 / give exactly one "
                    "of working_days and calendar_days",
                )
            )
        elif working is not None and not _whole_number(working, 1, MAX_WORKING_DAYS):
            problems.append(_days_problem(at, "working_days", "工作日", MAX_WORKING_DAYS))
        elif calendar is not None and not _whole_number(calendar, 1, MAX_CALENDAR_DAYS):
            problems.append(_days_problem(at, "calendar_days", "自然日", MAX_CALENDAR_DAYS))
        source = rule.get("source", "")
        if not isinstance(source, str) or len(source) > MAX_SOURCE_LENGTH:
            problems.append(
                FieldError(
                    (*at, "source"),
                    f"依据不超过{MAX_SOURCE_LENGTH}字 / source longer than {MAX_SOURCE_LENGTH} characters",
                )
            )
    return problems


def _days_problem(at: Loc, name: str, label: str, most: int) -> FieldError:
    return FieldError((*at, name), f"{label}须为1至{most}之间的整数 / {name} must be a whole number from 1 to {most}")


def _whole_number(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _alert_problems(alerts: Any, loc: Loc) -> list[FieldError]:
    if not isinstance(alerts, dict):
        return [FieldError(loc, "应为对象 / expected an object")]
    problems = [FieldError((*loc, key), "不允许的字段 / unknown field") for key in sorted(set(alerts) - _ALERT_KEYS)]
    reminder = alerts.get("reminder_working_days", DEFAULT_ALERTS.reminder_working_days)
    if not _whole_number(reminder, 1, MAX_REMINDER_WORKING_DAYS):
        problems.append(
            FieldError(
                (*loc, "reminder_working_days"),
                f"提醒须在到期前1至{MAX_REMINDER_WORKING_DAYS}个工作日 / the reminder is 1 to "
                f"{MAX_REMINDER_WORKING_DAYS} working days before the due day",
            )
        )
    rungs = alerts.get("escalation_working_days", list(DEFAULT_ALERTS.escalation_working_days))
    if (
        not isinstance(rungs, list | tuple)
        or len(rungs) != 2
        or not all(_whole_number(days, 1, MAX_ESCALATION_WORKING_DAYS) for days in rungs)
        or rungs[0] >= rungs[1]
    ):
        problems.append(
            FieldError(
                (*loc, "escalation_working_days"),
                f"须为两个递增的工作日数（1至{MAX_ESCALATION_WORKING_DAYS}）：先报乡镇负责人，再报县级负责人 / two "
                f"increasing numbers of working days (1 to {MAX_ESCALATION_WORKING_DAYS}) after the due day: "
                "township supervisor, then county supervisor",
            )
        )
    return problems


_ALERT_KEYS = frozenset({"reminder_working_days", "escalation_working_days"})


def _signoff_problems(
    definition: CaseTypeDefinition, stages: tuple[CaseStage, ...], overrides: dict[str, Any], loc: Loc
) -> list[FieldError]:
    """A county keeps the stages where the type's signature steps are taken, and their deadlines are the steps'."""
    stepped = {step.stage for step in definition.signoffs}
    problems: list[FieldError] = []
    lost = sorted(stage.value for stage in stepped - set(stages))
    if lost:
        names = ", ".join(lost)
        problems.append(
            FieldError(
                (*loc, "stages"),
                f"阶段 {names} 有签字步骤，不能移除 / stage(s) {names} hold signature steps and cannot be removed",
            )
        )
    rules = overrides.get("deadlines")
    for index, rule in enumerate(rules if isinstance(rules, list | tuple) else []):
        if isinstance(rule, dict) and rule.get("stage") in {stage.value for stage in stepped}:
            problems.append(
                FieldError(
                    (*loc, "deadlines", index, "stage"),
                    "该阶段的时限由签字步骤确定 / this stage's deadlines are its signature steps'",
                )
            )
    return problems


def override_problems(
    definition: CaseTypeDefinition, enabled: bool | None, overrides: dict[str, Any], *, loc: Loc = ("body",)
) -> list[FieldError]:
    """Everything wrong with a county's override of `definition` (empty when it may be saved).

    Checked on the merged result, so an override of `stages` alone is refused while a shipped deadline rule
    would point at a stage the county removed (the county must then give `deadlines` too).
    """
    problems: list[FieldError] = []
    if enabled is True and definition.code in ABOLISHED_CASE_TYPES:
        problems.append(FieldError((*loc, "enabled"), ABOLISHED_MESSAGE))
    for key in sorted(set(overrides) - set(OVERRIDE_KEYS)):
        problems.append(FieldError((*loc, key), "不允许的字段 / unknown field"))
    if "label" in overrides:
        label = overrides["label"]
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH:
            problems.append(
                FieldError(
                    (*loc, "label"),
                    f"名称须为1至{MAX_LABEL_LENGTH}字 / label must be 1 to {MAX_LABEL_LENGTH} characters",
                )
            )
    if "required_documents" in overrides:
        documents = overrides["required_documents"]
        if not isinstance(documents, list | tuple) or len(documents) > MAX_REQUIRED_DOCUMENTS:
            problems.append(
                FieldError(
                    (*loc, "required_documents"),
                    f"应为不超过{MAX_REQUIRED_DOCUMENTS}项的列表 / expected a "
                    f"list of at most {MAX_REQUIRED_DOCUMENTS} items",
                )
            )
        else:
            for index, document in enumerate(documents):
                if not isinstance(document, str) or not DOCUMENT_CODE.match(document):
                    problems.append(
                        FieldError(
                            (*loc, "required_documents", index),
                            "材料代码须为小写字母、数字和下划线，如 "
                            "id_card / a document code is lower-case letters, digits and _, e.g. id_card",
                        )
                    )
                elif document in documents[:index]:
                    problems.append(FieldError((*loc, "required_documents", index), "重复的材料 / duplicate document"))
    stages = definition.stages
    if "stages" in overrides:
        stage_problems = _stage_problems(overrides["stages"], (*loc, "stages"))
        problems.extend(stage_problems)
        if stage_problems:
            return problems
        stages = tuple(CaseStage(stage) for stage in overrides["stages"])
    problems.extend(_signoff_problems(definition, stages, overrides, loc))
    if "alerts" in overrides:
        problems.extend(_alert_problems(overrides["alerts"], (*loc, "alerts")))
    if "deadlines" in overrides:
        problems.extend(_deadline_problems(overrides["deadlines"], stages, (*loc, "deadlines")))
    else:
        orphaned = [rule.stage.value for rule in definition.deadlines if rule.stage not in stages]
        if orphaned:
            names = ", ".join(orphaned)
            problems.append(
                FieldError(
                    (*loc, "stages"),
                    f"默认时限规则所在的阶段 {names} 被移除，请同时提供 deadlines / the shipped deadline rule(s) for "
                    f"{names} would lose their stage; give deadlines as well",
                )
            )
    return problems


def merge_overrides(
    definition: CaseTypeDefinition, enabled: bool | None, overrides: dict[str, Any]
) -> CaseTypeDefinition:
    """Apply a county's override on top of the shipped default (only the keys it sets).

    An abolished type stays disabled whatever the override says (see ABOLISHED_CASE_TYPES).
    """
    changes: dict[str, Any] = {}
    if enabled is not None:
        changes["enabled"] = enabled
    if definition.code in ABOLISHED_CASE_TYPES:
        changes["enabled"] = False
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
    if "alerts" in overrides:
        alerts = overrides["alerts"]
        changes["alerts"] = AlertPolicy(
            reminder_working_days=int(alerts.get("reminder_working_days", DEFAULT_ALERTS.reminder_working_days)),
            escalation_working_days=cast(
                tuple[int, int], tuple(alerts.get("escalation_working_days", DEFAULT_ALERTS.escalation_working_days))
            ),
        )
    return replace(definition, **changes)
