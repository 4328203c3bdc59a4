"""Every query of the to-do list (我的待办): what waits for one user now, kind by kind, and how many of each in
one statement (the header's count and the dashboard's tiles).

Each kind is one condition, written once here and used by both the list and the counts, so the figures and the
list can never disagree:

- `case`: the open cases assigned to her, in her reading reach (the dashboard's 分给我的案件, the list
  /cases?assignee=me);
- `inbox`: the verification requests and notices addressed to her county that are not answered yet, assigned to
  her, or unassigned in a township where she is the one the notification rules tell (`officer_of`);
- `triage`: the department notifications awaiting triage whose case nobody took yet, in such a township;
- `followup`: the open follow-up and renewal cases the sweep opened that nobody took yet, in such a township;
- `escalated`: the overdue cases escalated to her as a supervisor (rung 2 the township's, rung 3 the county's);
- `signoff`: the cases waiting for a review or a signature (审核, 签字) she may give and has not given on them (no
  person signs two steps of one case); the investigator's step waits for the case's assignee, in `case`;
- `unassigned`: any other open case nobody took yet, in such a township (she takes it, or her supervisor assigns
  it: /cases?assignee=none), unless it is already hers as `escalated` or `signoff`.

A case assigned to her is only in `case`, whatever its type.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal, or_, select

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action, Role
from backend.case_types.types import SignoffStep
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import under_roots
from backend.models import (
    Case,
    CaseSignoff,
    CaseStage,
    IntakeTriage,
    RoleGrant,
    User,
    VerificationRequest,
    VerificationState,
)
from backend.notifications.repository import USER_SUBJECT

TRIAGE_CASE_TYPE = "department_notification"


class TodoRepository(TenantScopedRepository[Case]):
    """The to-do conditions of one user (`principal`) in the transaction's county."""

    model = Case
    entity_type = "case"

    def __init__(
        self,
        session: Any,
        principal: Principal,
        followup_types: Sequence[str],
        chains: Mapping[str, Sequence[SignoffStep]],
    ) -> None:
        super().__init__(session)
        self.principal = principal
        self.user_id = uuid.UUID(principal.id)
        self.followup_types = list(followup_types)
        self.chains = chains

    # --- who is "the officer" of a unit: the notification rules' recipients of an unassigned item ---------------

    def _held(self, role: Role, length: int) -> list[str]:
        return sorted(
            {g.org_unit_code for g in self.principal.roles if g.role == role.value and len(g.org_unit_code) == length}
        )

    def _someone_holds(self, role: Role, unit: ColumnElement[str]) -> ColumnElement[bool]:
        """Some active user of the county holds `role` granted exactly on `unit`."""
        subject = func.concat(USER_SUBJECT, func.cast(User.id, RoleGrant.subject.type))
        return exists().where(
            self.in_county(RoleGrant),
            self.in_county(User),
            RoleGrant.subject == subject,
            User.active.is_(True),
            RoleGrant.revoked_at.is_(None),
            RoleGrant.role == role.value,
            RoleGrant.org_unit_code == unit,
        )

    def officer_of(self, unit: Any) -> ColumnElement[bool]:
        """The unit's unassigned items are hers (backend/notifications/rules.py `_officers`): she is an officer of
        the unit's township, or its supervisor when it has no officer; at county level the same with the county's
        officers and supervisors."""
        township = func.substr(unit, 1, 9)
        conditions: list[ColumnElement[bool]] = []
        if officer := self._held(Role.township_officer, 9):
            conditions.append(and_(func.length(unit) >= 9, township.in_(officer)))
        if supervisor := self._held(Role.township_supervisor, 9):
            conditions.append(
                and_(
                    func.length(unit) >= 9,
                    township.in_(supervisor),
                    ~self._someone_holds(Role.township_officer, township),
                )
            )
        county = self.principal.tenant_code
        at_county = func.length(unit) == 6
        if county in self._held(Role.county_officer, 6):
            conditions.append(at_county)
        if county in self._held(Role.county_supervisor, 6):
            conditions.append(and_(at_county, ~self._someone_holds(Role.county_officer, literal(county))))
        return or_(false(), *conditions)

    # --- the kinds ----------------------------------------------------------------------------------------------

    def _roots(self, action: Action) -> list[str]:
        return self.principal.scopes_for(action)

    def assigned(self) -> ColumnElement[bool]:
        """Open cases assigned to her, in her reading reach."""
        return and_(
            self.in_county(),
            Case.stage != CaseStage.closed,
            Case.assignee_id == self.user_id,
            under_roots(Case.org_unit_code, self._roots(Action.case_read)),
        )

    def _unassigned_open(self) -> ColumnElement[bool]:
        return and_(
            self.in_county(),
            Case.stage != CaseStage.closed,
            Case.assignee_id.is_(None),
            under_roots(Case.org_unit_code, self._roots(Action.case_write)),
            self.officer_of(Case.org_unit_code),
        )

    def triage(self) -> ColumnElement[bool]:
        """Unassigned triage cases whose department notification awaits a decision, hers by the rules."""
        waiting = exists().where(
            self.in_county(IntakeTriage), IntakeTriage.case_id == Case.id, IntakeTriage.decision.is_(None)
        )
        return and_(Case.case_type == TRIAGE_CASE_TYPE, waiting, self._unassigned_open())

    def followup(self) -> ColumnElement[bool]:
        """Unassigned open follow-up and renewal cases, hers by the rules."""
        if not self.followup_types:
            return false()
        return and_(Case.case_type.in_(self.followup_types), self._unassigned_open())

    def _signed(self, step: str | None = None, signer: uuid.UUID | None = None) -> ColumnElement[bool]:
        statement = exists().where(self.in_county(CaseSignoff), CaseSignoff.case_id == Case.id)
        if step is not None:
            statement = statement.where(CaseSignoff.step == step)
        if signer is not None:
            statement = statement.where(CaseSignoff.signer_id == signer)
        return statement

    def signoff(self) -> ColumnElement[bool]:
        """Open cases (not hers) whose pending step is a review or signature she may give and she signed none."""
        waiting: list[ColumnElement[bool]] = []
        for case_type, steps in self.chains.items():
            for index, step in enumerate(steps):
                roots = self._roots(step.action)
                if step.action is Action.case_write or not roots:
                    continue
                earlier = [self._signed(other.key) for other in steps[:index] if other.stage == step.stage]
                waiting.append(
                    and_(
                        Case.case_type == case_type,
                        Case.stage == step.stage,
                        *earlier,
                        ~self._signed(step.key),
                        under_roots(Case.org_unit_code, roots),
                    )
                )
        if not waiting:
            return false()
        return and_(
            self.in_county(),
            Case.stage != CaseStage.closed,
            or_(Case.assignee_id.is_(None), Case.assignee_id != self.user_id),
            ~self._signed(signer=self.user_id),
            or_(*waiting),
        )

    def escalated(self) -> ColumnElement[bool]:
        """Open overdue cases (not hers) escalated to her (backend/notifications/rules.py `_supervisors`): at rung 2
        to the supervisors of the case's township, at rung 3 (or a county-level case) to the county's."""
        township = func.substr(Case.org_unit_code, 1, 9)
        conditions: list[ColumnElement[bool]] = []
        if townships := self._held(Role.township_supervisor, 9):
            conditions.append(
                and_(Case.escalation_level == 2, func.length(Case.org_unit_code) >= 9, township.in_(townships))
            )
        if self.principal.tenant_code in self._held(Role.county_supervisor, 6):
            conditions.append(
                or_(Case.escalation_level >= 3, and_(Case.escalation_level == 2, func.length(Case.org_unit_code) == 6))
            )
        if not conditions:
            return false()
        return and_(
            self.in_county(),
            Case.stage != CaseStage.closed,
            or_(Case.assignee_id.is_(None), Case.assignee_id != self.user_id),
            under_roots(Case.org_unit_code, self._roots(Action.case_read)),
            or_(*conditions),
        )

    def inbox(self) -> ColumnElement[bool]:
        """Pending requests addressed to her county in her answering reach: hers, or unassigned and hers by the
        rules."""
        return and_(
            VerificationRequest.responder_tenant_id == self.tenant_id,
            VerificationRequest.state == VerificationState.pending,
            under_roots(VerificationRequest.responder_unit_code, self._roots(Action.verification_answer)),
            or_(
                VerificationRequest.responder_assignee_id == self.user_id,
                and_(
                    VerificationRequest.responder_assignee_id.is_(None),
                    self.officer_of(VerificationRequest.responder_unit_code),
                ),
            ),
        )

    def unassigned(self) -> ColumnElement[bool]:
        """Open cases nobody took yet, hers by the rules, of no kind above (triage, follow-ups) and not already
        hers to act on as a supervisor or a signer."""
        return and_(
            Case.case_type != TRIAGE_CASE_TYPE,
            Case.case_type.not_in(self.followup_types) if self.followup_types else literal(True),
            self._unassigned_open(),
            ~self.escalated(),
            ~self.signoff(),
        )

    def case_kinds(self) -> dict[str, ColumnElement[bool]]:
        """The case-backed kinds, by name."""
        return {
            "case": self.assigned(),
            "escalated": self.escalated(),
            "triage": self.triage(),
            "followup": self.followup(),
            "signoff": self.signoff(),
            "unassigned": self.unassigned(),
        }

    # --- reading ------------------------------------------------------------------------------------------------

    async def counts(self) -> dict[str, int]:
        """How many items of each kind, in one statement."""
        columns = [
            select(func.count(Case.id)).where(condition).scalar_subquery().label(kind)
            for kind, condition in self.case_kinds().items()
        ]
        columns.append(select(func.count(VerificationRequest.id)).where(self.inbox()).scalar_subquery().label("inbox"))
        row = (await self.session.execute(select(*columns))).one()
        return {key: int(value) for key, value in row._mapping.items()}

    async def cases(self, kind: str, limit: int) -> list[Case]:
        """The cases of one case-backed kind, soonest due first."""
        statement: Select[Case] = (
            select(Case).where(self.case_kinds()[kind]).order_by(Case.due_at.asc().nulls_last(), Case.number)
        )
        return await self.all(statement.limit(limit))

    async def requests(self, limit: int) -> list[VerificationRequest]:
        """The inbox items waiting for her, soonest due first."""
        statement = (
            select(VerificationRequest)
            .where(self.inbox())
            .order_by(VerificationRequest.answer_due_at, VerificationRequest.correlation_id)
        )
        return list((await self.session.scalars(statement.limit(limit))).all())
