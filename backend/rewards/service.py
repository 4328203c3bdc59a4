"""Rewards and preferential policies (奖励优惠, seeds-spec P17): checking eligibility, applying, the register and its
yearly totals, payments.

- **Eligibility from the registry** (backend/rewards/eligibility.py): every condition of the policy is checked and
  a refusal names each failing one; nothing is recorded then.
- **The payee is an entitled parent**: either parent for the only-child reward, the applicant for per-person aid;
  anyone else is refused, at application and at each payment.
- **The amount** is the county's setting for the policy (backend/county_settings), fixed on the application.
- **The decision** is the case's: the application opens a case of the policy's type, decided through its
  three-signature chain (investigate → review → sign, three different people; backend/cases/signing.py). The
  signer's signature grants it; refusing or withdrawing the case refuses or withdraws it.
- **Payments** only on a granted reward, to an entitled parent, audited.

Functions take (session, principal, ...), audit every write, flush and never commit.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.case_types.service import effective_case_type
from backend.case_types.types import REWARD_TYPES
from backend.cases import service as cases
from backend.cases.repository import CaseRepository
from backend.cases.schemas import CaseCreate, CaseSubjectIn
from backend.county_settings.service import county_settings
from backend.models import Case, CaseStage, Person, RewardApplication, RewardPayment
from backend.persons.repository import PersonRepository
from backend.rewards import eligibility
from backend.rewards.errors import (
    InvalidReward,
    NotEligible,
    PayeeNotEntitled,
    RewardNotGranted,
)
from backend.rewards.repository import Listed, RewardFilters, RewardRepository
from backend.rewards.schemas import (
    ConditionRead,
    EligibilityRead,
    PaymentCreate,
    PaymentRead,
    RewardCreate,
    RewardRead,
    RewardState,
    TotalsRow,
)

ENTITY_TYPE = RewardRepository.entity_type
NOT_IN_REACH = "人员不存在或无权查看 / no such person in your reach"


async def _policy_label(session: AsyncSession, policy: str) -> str:
    return (await effective_case_type(session, policy, field="policy")).label


async def _check_policy(session: AsyncSession, policy: str) -> None:
    if policy not in REWARD_TYPES:
        raise InvalidReward("policy", f"未知的奖励扶助项目 {policy} / unknown reward policy {policy}")
    if not (await effective_case_type(session, policy, field="policy")).enabled:
        raise InvalidReward("policy", "本县已停用该项奖励扶助 / the county has disabled this policy")


async def _person(session: AsyncSession, principal: Principal, person_id: uuid.UUID, field: str) -> Person:
    person = await PersonRepository(session).get(person_id)
    if person is None or not principal.can(Action.person_read, person.org_unit_code):
        raise InvalidReward(field, NOT_IN_REACH)
    return person


async def _couple(
    session: AsyncSession, principal: Principal, applicant_id: uuid.UUID, spouse_id: uuid.UUID | None
) -> eligibility.Couple:
    """The couple as the registry has them: the applicant, the spouse (given, or the applicant's recorded spouse),
    and their children (the applicant's record, or the spouse's when the applicant has none)."""
    applicant = await _person(session, principal, applicant_id, "applicant_id")
    spouse_id = spouse_id or applicant.spouse_id
    spouse = await _person(session, principal, spouse_id, "spouse_id") if spouse_id is not None else None
    if spouse is not None and spouse.id == applicant.id:
        raise InvalidReward("spouse_id", "配偶不能是申请人本人 / the spouse cannot be the applicant")
    repository = PersonRepository(session)
    children = await repository.children_of(applicant.id)
    if not children and spouse is not None:
        children = await repository.children_of(spouse.id)
    return eligibility.Couple(applicant, spouse, children)


def _conditions(rows: list[eligibility.Condition]) -> list[ConditionRead]:
    return [ConditionRead(code=row.code, label=row.label, met=row.met, found=row.found) for row in rows]


async def check_eligibility(
    session: AsyncSession,
    principal: Principal,
    policy: str,
    applicant_id: uuid.UUID,
    spouse_id: uuid.UUID | None,
    year: int,
) -> EligibilityRead:
    """Every condition of the policy for the couple in `year`, met or not, and who may be paid (nothing recorded)."""
    await _check_policy(session, policy)
    couple = await _couple(session, principal, applicant_id, spouse_id)
    rows = eligibility.conditions(policy, couple, year)
    return EligibilityRead(
        policy=policy,
        year=year,
        eligible=all(row.met for row in rows),
        conditions=_conditions(rows),
        entitled_payee_ids=[person.id for person in eligibility.entitled_payees(policy, couple)],
    )


def _check_payee(policy: str, couple: eligibility.Couple, payee_id: uuid.UUID) -> None:
    """Only an entitled parent collects a reward, nobody else (代领)."""
    if payee_id not in {person.id for person in eligibility.entitled_payees(policy, couple)}:
        raise PayeeNotEntitled()


def _amount(amounts: dict[str, Decimal], policy: str) -> Decimal:
    amount = amounts.get(policy)
    if amount is None:
        raise InvalidReward(
            "policy",
            "本县尚未设定该项奖励扶助的金额，请县级系统管理员设定 / the county has not set this policy's amount: a "
            "county administrator sets it",
        )
    return amount


async def apply_for_reward(session: AsyncSession, principal: Principal, body: RewardCreate) -> RewardRead:
    """Record an application: eligible by the registry (every failing condition named otherwise), paid to an
    entitled parent, for the county's amount; its case opens for the three-signature decision."""
    await _check_policy(session, body.policy)
    couple = await _couple(session, principal, body.applicant_id, body.spouse_id)
    rows = eligibility.conditions(body.policy, couple, body.year)
    failing = [(row.code, row.label, row.found) for row in rows if not row.met]
    if failing:
        raise NotEligible(failing)
    _check_payee(body.policy, couple, body.payee_id)
    amount = _amount((await county_settings(session)).reward_amounts, body.policy)
    subjects = [CaseSubjectIn(person_id=couple.applicant.id, part="applicant")]
    if couple.spouse is not None:
        subjects.append(CaseSubjectIn(person_id=couple.spouse.id, part="spouse"))
    case = await cases.open_case(
        session,
        principal,
        CaseCreate(
            case_type=body.policy,
            org_unit_code=body.org_unit_code,
            subjects=subjects,
            details={"reward": {"year": body.year, "amount": str(amount)}},
        ),
        through="rewards",
    )
    repository = RewardRepository(session)
    reward = RewardApplication(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        case_id=case.id,
        policy=body.policy,
        year=body.year,
        org_unit_code=case.org_unit_code,
        applicant_id=couple.applicant.id,
        spouse_id=couple.spouse.id if couple.spouse else None,
        payee_id=body.payee_id,
        amount=amount,
        eligibility=[row.model_dump() for row in _conditions(rows)],
        created_by=principal.subject,
    )
    repository.add(reward)
    await repository.flush()
    await _record(session, reward, case, "reward.apply", _snapshot(reward))
    return await reward_read(session, reward)


def _snapshot(reward: RewardApplication) -> dict[str, Any]:
    fields = ("policy", "year", "applicant_id", "spouse_id", "payee_id", "amount")
    return {name: getattr(reward, name) for name in fields}


async def _record(
    session: AsyncSession, reward: RewardApplication, case: Case, action: str, after: dict[str, Any]
) -> None:
    await audit.record_about(session, ENTITY_TYPE, reward, action, audit.diff(None, after), correlation_id=case.number)


async def get_reward(
    session: AsyncSession, principal: Principal, reward_id: uuid.UUID, action: Action
) -> RewardApplication:
    """The application if the caller may perform `action` on its unit; 404 otherwise."""
    return await RewardRepository(session).get_in_reach(principal, action, reward_id)


def _state(case: Case) -> RewardState:
    if case.stage != CaseStage.closed:
        return "pending"
    outcome = case.outcome.value if case.outcome else ""
    if outcome == "registered":
        return "granted"
    return "refused" if outcome == "refused" else "withdrawn"


async def _read(session: AsyncSession, row: Listed, *, with_payments: bool = False) -> RewardRead:
    reward, case, applicant_name, payee_name, paid = row
    pending = None
    if case.stage != CaseStage.closed:
        definition = await effective_case_type(session, case.case_type)
        signed = {signoff.step for signoff in await CaseRepository(session).signoffs(case.id)}
        step = definition.pending_step(case.stage, signed)
        pending = step.key if step else None
    payments = await RewardRepository(session).payments(reward.id) if with_payments else []
    return RewardRead(
        id=reward.id,
        case_id=case.id,
        case_number=case.number,
        policy=reward.policy,
        policy_label=await _policy_label(session, reward.policy),
        year=reward.year,
        org_unit_code=reward.org_unit_code,
        applicant_id=reward.applicant_id,
        applicant_name=applicant_name,
        spouse_id=reward.spouse_id,
        payee_id=reward.payee_id,
        payee_name=payee_name,
        amount=reward.amount,
        paid=Decimal(paid),
        state=_state(case),
        pending_step=pending,
        conditions=[ConditionRead.model_validate(item) for item in reward.eligibility],
        payments=[PaymentRead.model_validate(payment) for payment in payments],
        version=reward.version,
    )


async def reward_read(session: AsyncSession, reward: RewardApplication) -> RewardRead:
    """One application with its case's state, what was paid and the payments."""
    return await _read(session, await RewardRepository(session).listed(reward.id), with_payments=True)


async def reward_register(
    session: AsyncSession, principal: Principal, filters: RewardFilters, *, offset: int, limit: int
) -> tuple[list[RewardRead], int]:
    """One page of the reward register (奖励扶助台账) in the caller's reach."""
    rows, total = await RewardRepository(session).register(filters, offset=offset, limit=limit)
    return [await _read(session, row) for row in rows], total


async def yearly_totals(session: AsyncSession, principal: Principal, year: int) -> list[TotalsRow]:
    """Per policy, the year's applications, grants and amounts granted and paid, in the caller's reach."""
    rows = await RewardRepository(session).totals(principal.scopes_for(Action.case_read), year)
    return [
        TotalsRow(
            policy=policy,
            policy_label=await _policy_label(session, policy),
            applications=applications,
            granted=granted,
            granted_amount=Decimal(granted_amount),
            paid_amount=Decimal(paid_amount),
        )
        for policy, applications, granted, granted_amount, paid_amount in rows
    ]


async def record_payment(
    session: AsyncSession, principal: Principal, reward: RewardApplication, body: PaymentCreate
) -> RewardRead:
    """A payment (发放) on a granted reward, to one of its entitled parents; audited."""
    row = await RewardRepository(session).listed(reward.id)
    case: Case = row[1]
    if _state(case) != "granted":
        raise RewardNotGranted()
    couple = await _couple(session, principal, reward.applicant_id, reward.spouse_id)
    _check_payee(reward.policy, couple, body.payee_id)
    repository = RewardRepository(session)
    payment = RewardPayment(
        id=uuid.uuid4(),
        tenant_id=reward.tenant_id,
        reward_id=reward.id,
        payee_id=body.payee_id,
        amount=body.amount,
        paid_on=body.paid_on,
        reference=body.reference,
        org_unit_code=reward.org_unit_code,
        recorded_by=principal.subject,
    )
    repository.add(payment)
    await repository.flush()
    await _record(
        session,
        reward,
        case,
        "reward.pay",
        {"payment_id": payment.id, "payee_id": body.payee_id, "amount": body.amount, "paid_on": body.paid_on},
    )
    return await reward_read(session, reward)
