"""Which human actions a case accepts in its current state, and when an action takes effect on the clock.

Pure functions over the DeadlinePlan: the workflow's update validator uses them to refuse an action before it
enters history, and the `cases.apply_action` activity checks them again against the case row (the database is
the source of truth for what a case is). Messages are Chinese first, then English, like the API's.
"""

from __future__ import annotations

from datetime import datetime

from workflows.cases.types import (
    CASE_OUTCOMES,
    CLOSED_STAGE,
    DEFAULT_EXTENSION_WORKING_DAYS,
    MAX_EXTENSION_WORKING_DAYS,
    OUTCOMES_NEEDING_REASON,
    CaseAction,
    CaseActionInput,
    DeadlinePlan,
)

A = CaseAction
APPROVED = "registered"
SIGN_FIRST = "本阶段须签字完成后自动推进 / this stage moves on by its signatures: sign the pending step"


def effective_time(plan: DeadlinePlan, action: CaseActionInput, now: datetime) -> datetime:
    """When `action` takes effect: its `requested_at`, never later than `now` and never before the running
    clock's last move (the stage's start, or the suspension for materials_received)."""
    moment = min(action.requested_at or now, now)
    floor = plan.suspended_at if plan.suspended else plan.stage_started_at
    if floor is not None and moment < floor:
        moment = floor
    return moment


def extension_days(action: CaseActionInput) -> int:
    if action.extension_working_days is None:
        return DEFAULT_EXTENSION_WORKING_DAYS
    return action.extension_working_days


def expired(plan: DeadlinePlan, at: datetime) -> bool:
    """Whether the running deadline had passed at `at`."""
    return plan.due_at is not None and not plan.suspended and at > plan.due_at


def refusal(plan: DeadlinePlan, action: CaseActionInput, effective_at: datetime) -> str | None:
    """Why `action` cannot be taken on a case in `plan`'s state at `effective_at`; None when it can."""
    if plan.closed:
        return "案件已办结 / the case is closed"
    match action.action:
        case A.advance:
            if plan.suspended:
                return "补正期间不能推进，请先登记材料已收到 / waiting for materials: record their receipt first"
            if plan.signoff_step is not None:
                return SIGN_FIRST
            if plan.next_stage is None or plan.next_stage == CLOSED_STAGE:
                return "已是最后一个办理阶段，请办结 / this is the last stage: close the case with an outcome"
        case A.request_materials:
            if plan.suspended:
                return "已在等待补正材料 / already waiting for materials"
            if expired(plan, effective_at):
                return "已超过办理时限，不能补正中止 / the deadline has passed: the clock can no longer be suspended"
        case A.materials_received:
            if not plan.suspended:
                return "案件未处于补正中止状态 / the case is not waiting for materials"
        case A.extend:
            if action.actor.kind != "user":
                return "延期须由负责人批准 / an extension needs a supervisor's approval"
            if plan.extension_used:
                return "每个案件只能延期一次 / a case may be extended once"
            if plan.suspended:
                return "补正期间时限已中止，不能延期 / the clock is suspended: nothing to extend"
            if plan.due_at is None:
                return "本阶段没有办理时限 / this stage has no deadline to extend"
            if expired(plan, effective_at):
                return "已超期，不能再延期 / the deadline has passed; no extension"
            days = extension_days(action)
            if not 1 <= days <= MAX_EXTENSION_WORKING_DAYS:
                return (
                    f"延期须为1至{MAX_EXTENSION_WORKING_DAYS}个工作日 / an extension is 1 to "
                    f"{MAX_EXTENSION_WORKING_DAYS} working days"
                )
        case A.refuse:
            if not (action.reason or "").strip():
                return "不予办理须书面说明理由 / refusing needs a written reason"
        case A.close:
            if action.outcome is None or action.outcome not in CASE_OUTCOMES:
                return "办结须填写结果 / closing needs an outcome"
            if action.outcome == APPROVED and plan.signoff_step is not None:
                return SIGN_FIRST
            if action.outcome in OUTCOMES_NEEDING_REASON and not (action.reason or "").strip():
                return "须书面说明理由 / a written reason is required"
        case A.sign:
            if action.actor.kind != "user":
                return "只有用户可以签字 / only users sign"
            if plan.suspended:
                return "补正期间不能签字，请先登记材料已收到 / waiting for materials: record their receipt first"
            if plan.signoff_step is None or action.signoff is None or action.signoff.step != plan.signoff_step:
                return "该步骤不是本案当前待签的步骤 / this step is not the one the case waits to have signed"
    return None
