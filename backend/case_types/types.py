"""What a case type is made of: its deadline rules, when alerts fire, and its maker-checker steps (签字步骤).

Pure definitions, no session: `definitions.py` holds the shipped types built from them and the checks on a county's
override; `procedures.py` the types of the accountable procedures (rewards, information queries).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from backend.authz.vocabulary import Action
from backend.models import CaseStage

# The reward policies' case type codes (奖励优惠, seeds-spec P17; their definitions are in procedures.py).
ONLY_CHILD_REWARD = "only_child_reward"  # 独生子女父母奖励
RURAL_REWARD_ASSISTANCE = "rural_reward_assistance"  # 农村计划生育家庭奖励扶助
SPECIAL_ASSISTANCE = "special_assistance"  # 计划生育家庭特别扶助
REWARD_TYPES = (ONLY_CHILD_REWARD, RURAL_REWARD_ASSISTANCE, SPECIAL_ASSISTANCE)


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
class AlertPolicy:
    """When a deadline's alerts fire, in working days: the reminder before the due day, and the escalation
    rungs 2 (township supervisor) and 3 (county supervisor) after it. Rung 1 (overdue) is the due moment."""

    reminder_working_days: int = 2
    escalation_working_days: tuple[int, int] = (2, 5)


DEFAULT_ALERTS = AlertPolicy()


@dataclass(frozen=True, slots=True)
class SignoffStep:
    """One signature of a maker-checker chain: 「谁调查、谁负责;谁审核、谁负责;谁签字、谁负责」 (seeds-spec P17).

    The step is taken in `stage` by a person holding `action` over the case's unit, who signs `attestation` (the
    words recorded with the signature); `role` names that person's part (调查人 investigator, 审核人 reviewer,
    签字人 signer). The steps of one stage are signed in order, each within its own `working_days` from the
    stage's start or the previous signature, with the case's reminder, overdue and escalation ladder. No person
    signs two steps of one case. The last step of a stage moves the case to the next stage; the last step of the
    type decides it (closed as registered: 予以批准).
    """

    key: str
    label: str  # 中文 / English
    role: str  # 中文 / English
    stage: CaseStage
    action: Action
    working_days: int
    attestation: str  # 中文 / English


@dataclass(frozen=True, slots=True)
class CaseTypeDefinition:
    code: str
    label: str  # 中文 / English
    stages: tuple[CaseStage, ...]
    required_documents: tuple[str, ...] = ()
    deadlines: tuple[DeadlineRule, ...] = ()
    enabled: bool = True
    note: str = ""
    alerts: AlertPolicy = DEFAULT_ALERTS
    extra: dict[str, Any] = field(default_factory=dict)
    signoffs: tuple[SignoffStep, ...] = ()

    def deadline_for(self, stage: CaseStage) -> DeadlineRule | None:
        """The deadline rule of `stage`, if the type has one."""
        return next((rule for rule in self.deadlines if rule.stage == stage), None)

    def steps_in(self, stage: CaseStage) -> tuple[SignoffStep, ...]:
        """The signature steps taken in `stage`, in order."""
        return tuple(step for step in self.signoffs if step.stage == stage)

    def step(self, key: str) -> SignoffStep | None:
        """The signature step named `key`, if the type has one."""
        return next((step for step in self.signoffs if step.key == key), None)

    def pending_step(self, stage: CaseStage, signed: Collection[str]) -> SignoffStep | None:
        """The next step of `stage` still to be signed (None when the stage has none left)."""
        return next((step for step in self.steps_in(stage) if step.key not in signed), None)

    def rule_for(self, stage: CaseStage, signed: Collection[str] = ()) -> DeadlineRule | None:
        """The running deadline of `stage`: its pending signature step's, else the stage's own rule."""
        step = self.pending_step(stage, signed)
        if step is None:
            return self.deadline_for(stage)
        return DeadlineRule(
            stage,
            working_days=step.working_days,
            source=f"{step.role.split(' / ')[0]}{step.working_days}个工作日内签字 / "
            f"the {step.role.split(' / ')[-1].lower()} signs within {step.working_days} working days",
        )
