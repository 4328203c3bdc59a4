"""Maker-checker steps (签字步骤): signing a step of a case's chain, and what a chain forbids.

A case type may declare signature steps (backend/case_types/types.py `SignoffStep`): each taken in a stage by a
person holding the step's permission over the case's unit, who attests the step's words. The rules, checked by the
API at once (`check_action`) and again by the case workflow's activity against the stored signatures
(`refusal`, `record`):

- a step is signed only when it is the one the case waits for (the stage's next unsigned step), with the
  attestation confirmed;
- **one person, one step**: nobody signs two steps of one case (also a unique index);
- the signer holds the step's permission over the case's unit (`case.write` investigator, `case.assign` reviewer,
  `case.approve` signer for the reward chain);
- a stage with signature steps moves on only by its signatures (no plain `advance`), and the case is not closed as
  registered (approved) before every step is signed.

The signature (person, moment, attestation, note) is a `case_signoffs` row written by the activity in the same
transaction as the stage move it causes (backend/cases/deadlines.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.case_types.types import CaseTypeDefinition, SignoffStep
from backend.cases.errors import IllegalTransition, InvalidCase, SameSigner, SignerNotEntitled
from backend.cases.repository import CaseRepository
from backend.cases.schemas import CaseActionRequest
from backend.core.divisions import county_of
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user
from backend.models import Case, CaseOutcome, CaseSignoff
from workflows.cases.types import ActorRef, CaseAction, CaseActionInput

SIGN_FIRST = "本阶段须签字完成后自动推进 / this stage moves on by its signatures: sign the pending step"
SIGN_ALL_FIRST = "须完成全部签字后方可予以批准 / every signature is needed before approving"


def _parts(text: str) -> tuple[str, str]:
    """(Chinese, English) of a bilingual label."""
    zh, _, en = text.partition(" / ")
    return zh, en or zh


def unsigned(definition: CaseTypeDefinition, signed: Collection[str]) -> list[SignoffStep]:
    """The type's steps not signed yet, in order."""
    return [step for step in definition.signoffs if step.key not in signed]


async def signatures(session: AsyncSession, case: Case) -> list[CaseSignoff]:
    """The signatures of the case, in signing order."""
    return await CaseRepository(session).signoffs(case.id)


async def signed_steps(session: AsyncSession, case: Case) -> frozenset[str]:
    """The keys of the case's signed steps."""
    return frozenset(signoff.step for signoff in await signatures(session, case))


async def check_action(
    session: AsyncSession, principal: Principal, case: Case, definition: CaseTypeDefinition, request: CaseActionRequest
) -> None:
    """What the API refuses at once for a type with signature steps (nothing for the others)."""
    if not definition.signoffs and request.action != CaseAction.sign:
        return
    signed = await signatures(session, case)
    keys = {signoff.step for signoff in signed}
    pending = definition.pending_step(case.stage, keys)
    if request.action == CaseAction.advance and pending is not None:
        raise IllegalTransition(SIGN_FIRST)
    if request.action == CaseAction.close and request.outcome == CaseOutcome.registered and unsigned(definition, keys):
        raise IllegalTransition(SIGN_ALL_FIRST)
    if request.action != CaseAction.sign:
        return
    if pending is None:
        raise IllegalTransition("本案当前没有待签字的步骤 / the case waits for no signature now")
    if request.step != pending.key:
        label = _parts(pending.label)
        raise InvalidCase("step", f"当前待签步骤为「{label[0]}」/ the step to sign now is {pending.key}")
    if not request.attest:
        raise InvalidCase("attest", "须确认签字声明 / confirm the attestation to sign")
    earlier = next((signoff for signoff in signed if str(signoff.signer_id) == principal.id), None)
    if earlier is not None:
        earlier_step = definition.step(earlier.step)
        raise SameSigner(_parts(earlier_step.label if earlier_step else earlier.step), _parts(pending.label))
    if principal.kind != "user" or not principal.can(pending.action, case.org_unit_code):
        raise SignerNotEntitled(_parts(pending.role), _parts(pending.label))


async def _entitled(session: AsyncSession, case: Case, step: SignoffStep, actor: ActorRef) -> bool:
    """Whether the sender is an active user holding the step's permission over the case's unit (now)."""
    try:
        user = await IdentityRepository(session).user_by_id(uuid.UUID(actor.id))
    except ValueError:
        return False
    if user is None or not user.active:
        return False
    principal = await principal_for_user(session, user, None, county_of(case.org_unit_code))
    return principal.can(step.action, case.org_unit_code)


async def refusal(
    session: AsyncSession, case: Case, definition: CaseTypeDefinition, action: CaseActionInput
) -> str | None:
    """Why the case row refuses `action` for its chain (the activity's check; None when it may be applied)."""
    signed = await signatures(session, case)
    keys = {signoff.step for signoff in signed}
    if action.action == CaseAction.close and action.outcome == CaseOutcome.registered and unsigned(definition, keys):
        return SIGN_ALL_FIRST
    if action.action != CaseAction.sign:
        return None
    pending = definition.pending_step(case.stage, keys)
    if pending is None or action.signoff is None or action.signoff.step != pending.key:
        return "该步骤不是本案当前待签的步骤 / this step is not the one the case waits to have signed"
    earlier = next((signoff for signoff in signed if str(signoff.signer_id) == action.actor.id), None)
    if earlier is not None:
        zh, en = _parts(pending.label)
        return f"同一人不能签署同一案件的两个步骤：「{zh}」须由他人签署 / one person cannot sign two steps: {en}"
    if not await _entitled(session, case, pending, action.actor):
        zh, en = _parts(pending.role)
        return f"{action.actor.label}不能作为{zh}签字 / {action.actor.label} cannot sign as the {en.lower()}"
    return None


def new_signoff(case: Case, step: SignoffStep, action: CaseActionInput, at: datetime, request_id: str) -> CaseSignoff:
    """The signature row of `step`, signed by the action's sender at `at`."""
    return CaseSignoff(
        id=uuid.uuid4(),
        tenant_id=case.tenant_id,
        case_id=case.id,
        step=step.key,
        stage=step.stage.value,
        role=step.role[:60],
        signer_id=uuid.UUID(action.actor.id),
        signer_label=action.actor.label[:100],
        signed_at=at,
        attestation=step.attestation,
        note=action.signoff.note if action.signoff else None,
        request_id=request_id,
    )
