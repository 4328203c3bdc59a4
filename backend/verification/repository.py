"""Every query on verification requests. The row-level policy admits both counties of a request; the repository
decides which side the caller is on:

- `VerificationRepository`: rows either side of which is this county (a request it sent, or one addressed to
  it), and the deadline work of the workflows' activities;
- `SentRequests`: the requester's view (`tenant_id`, filed under the requesting unit's subtree);
- `ReceivedRequests`: the responder's view (`responder_tenant_id`, filed under the responding unit's subtree).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree, under_roots
from backend.db.search import contains
from backend.models import QuestionType, VerificationAlert, VerificationKind, VerificationRequest, VerificationState
from backend.verification.errors import VerificationNotFound


@dataclass(frozen=True, slots=True)
class VerificationFilters:
    roots: list[str]
    state: VerificationState | None = None
    kind: VerificationKind | None = None
    org_unit: str | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    overdue: bool | None = None
    case_id: uuid.UUID | None = None
    # The inbox's and outbox's search box: a number (correlation id), part of the subject's name, or (by its
    # lookup digest) her ID number.
    text: str | None = None
    resident_id_hash: str | None = None


class VerificationRepository(TenantScopedRepository[VerificationRequest]):
    """Requests either side of which is this county."""

    model = VerificationRequest
    entity_type = "verification_request"
    not_found = VerificationNotFound
    # Each side files the row under its own unit: see SentRequests and ReceivedRequests.
    unit_column: ClassVar[str | None] = None

    def addressed_here(self) -> ColumnElement[bool]:
        """The condition "the request is addressed to this county" (the responder's side of the row)."""
        return VerificationRequest.responder_tenant_id == self.tenant_id

    def base(self) -> Select[VerificationRequest]:
        """The requests this county sent or must answer (the policy hides the others)."""
        return select(VerificationRequest).where(or_(self.in_county(), self.addressed_here()))

    def sent(self) -> Select[VerificationRequest]:
        """The requests and notices this county's units sent (not the incoming ones an off-platform county sent
        us, which are also rows of this county)."""
        return select(VerificationRequest).where(
            self.in_county(),
            VerificationRequest.requester_off_platform.is_(False),
            VerificationRequest.requester_unit_code.is_not(None),
        )

    def received(self) -> Select[VerificationRequest]:
        """The requests and notices addressed to this county's units."""
        return select(VerificationRequest).where(self.addressed_here())

    async def lock(self, request_id: uuid.UUID) -> VerificationRequest:
        """The request, locked until commit (the deadline activities); 404 when it is not this county's."""
        row = await self.get(request_id, for_update=True)
        if row is None:
            raise VerificationNotFound()
        return row

    async def open_for(
        self, case_id: uuid.UUID, responder_unit_code: str, kind: VerificationKind
    ) -> VerificationRequest | None:
        """The pending request of this kind that a case already has with a responding unit (at most one)."""
        return await self.one_or_none(
            self.county_rows(VerificationRequest).where(
                VerificationRequest.case_id == case_id,
                VerificationRequest.responder_unit_code == responder_unit_code,
                VerificationRequest.kind == kind,
                VerificationRequest.state == VerificationState.pending,
            )
        )

    async def asked_townships(self, case_id: uuid.UUID) -> set[str]:
        """The townships a case has asked for a verification (requests not withdrawn)."""
        statement = select(VerificationRequest.responder_unit_code).where(
            self.in_county(),
            VerificationRequest.case_id == case_id,
            VerificationRequest.kind == VerificationKind.request,
            VerificationRequest.state != VerificationState.withdrawn,
        )
        return set((await self.session.scalars(statement)).all())

    async def notices_sent(self, case_id: uuid.UUID, question_type: QuestionType) -> dict[str, datetime]:
        """The townships a case has sent a notice (通报) of this type to (not withdrawn), each with when the first
        such notice left."""
        statement = (
            select(VerificationRequest.responder_unit_code, func.min(VerificationRequest.sent_at))
            .where(
                self.in_county(),
                VerificationRequest.case_id == case_id,
                VerificationRequest.kind == VerificationKind.notice,
                VerificationRequest.question_type == question_type,
                VerificationRequest.state != VerificationState.withdrawn,
            )
            .group_by(VerificationRequest.responder_unit_code)
        )
        return {township: sent_at for township, sent_at in (await self.session.execute(statement)).all()}

    @staticmethod
    def _filtered(
        statement: Select[VerificationRequest], f: VerificationFilters, unit: InstrumentedAttribute[Any]
    ) -> Select[VerificationRequest]:
        statement = statement.where(under_roots(unit, f.roots))
        if f.state is not None:
            statement = statement.where(VerificationRequest.state == f.state)
        if f.kind is not None:
            statement = statement.where(VerificationRequest.kind == f.kind)
        if f.overdue is not None:
            statement = statement.where(VerificationRequest.responder_overdue.is_(f.overdue))
        if f.org_unit:
            statement = statement.where(subtree(unit, f.org_unit))
        if f.resident_id_hash is not None:
            statement = statement.where(VerificationRequest.subject_resident_id_hash == f.resident_id_hash)
        elif f.text:
            statement = statement.where(
                or_(
                    VerificationRequest.correlation_id == f.text.upper(),
                    contains(VerificationRequest.subject_name, f.text),
                )
            )
        return statement.order_by(VerificationRequest.answer_due_at, VerificationRequest.correlation_id)

    async def outbox(self, f: VerificationFilters, *, offset: int, limit: int) -> tuple[list[VerificationRequest], int]:
        """One page of the requests and notices the caller's units sent, and the total."""
        statement = self.sent()
        if f.case_id is not None:
            statement = statement.where(VerificationRequest.case_id == f.case_id)
        return await self.page(
            self._filtered(statement, f, VerificationRequest.requester_unit_code), offset=offset, limit=limit
        )

    async def inbox(self, f: VerificationFilters, *, offset: int, limit: int) -> tuple[list[VerificationRequest], int]:
        """One page of the requests and notices addressed to the caller's units, and the total."""
        statement = self.received()
        if f.unassigned:
            statement = statement.where(VerificationRequest.responder_assignee_id.is_(None))
        elif f.assignee_id is not None:
            statement = statement.where(VerificationRequest.responder_assignee_id == f.assignee_id)
        return await self.page(
            self._filtered(statement, f, VerificationRequest.responder_unit_code), offset=offset, limit=limit
        )

    async def alerts(self, roots: list[str], *, limit: int = 200) -> list[VerificationAlert]:
        """The newest reminders and escalations addressed to units under `roots`."""
        statement = (
            self.county_rows(VerificationAlert)
            .where(under_roots(VerificationAlert.recipient_unit_code, roots))
            .order_by(VerificationAlert.created_at.desc())
            .limit(limit)
        )
        return await self.all(statement)

    async def insert_alert(self, request_id: uuid.UUID, kind: str, level: int, **values: Any) -> uuid.UUID | None:
        """Add one rung's alert in the current county, at most once per (request, kind, level): its id, or None
        when it was raised already (a retried activity)."""
        statement = (
            insert(VerificationAlert)
            .values(id=uuid.uuid4(), tenant_id=self.tenant_id, request_id=request_id, kind=kind, level=level, **values)
            .on_conflict_do_nothing(index_elements=["request_id", "kind", "level"])
            .returning(VerificationAlert.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def answer_dues_from(self, affected_from: datetime) -> list[VerificationRequest]:
        """Pending requests whose answer deadline runs on this county's calendar (it answers them, or chases a
        responder off the platform itself) and whose expiry is on or after `affected_from`."""
        statement = select(VerificationRequest).where(
            VerificationRequest.state == VerificationState.pending,
            VerificationRequest.expires_at >= affected_from,
            or_(
                self.addressed_here(),
                and_(VerificationRequest.responder_tenant_id.is_(None), self.in_county()),
            ),
        )
        return await self.all(statement)

    async def for_rates(
        self, start: datetime, end: datetime, counterpart_county_code: str | None
    ) -> list[VerificationRequest]:
        """Every request either side of which is this county, sent or arrived in [start, end)."""
        as_requester = and_(
            self.in_county(),
            VerificationRequest.materials_received_at >= start,
            VerificationRequest.materials_received_at < end,
        )
        as_responder = and_(
            or_(
                self.addressed_here(),
                # Within the county the requester's row is also the responder's.
                self.in_county(),
            ),
            VerificationRequest.arrived_at >= start,
            VerificationRequest.arrived_at < end,
        )
        statement = select(VerificationRequest).where(or_(as_requester, as_responder))
        if counterpart_county_code:
            statement = statement.where(
                or_(
                    VerificationRequest.requester_county_code == counterpart_county_code,
                    VerificationRequest.responder_county_code == counterpart_county_code,
                )
            )
        return await self.all(statement)


class SentRequests(VerificationRepository):
    """The requester's view: what this county's units sent, each in reach of those who may send for its unit."""

    unit_column = "requester_unit_code"

    def base(self) -> Select[VerificationRequest]:
        return self.sent()


class ReceivedRequests(VerificationRepository):
    """The responder's view: what is addressed to this county's units, in reach of those who answer for them."""

    unit_column = "responder_unit_code"

    def base(self) -> Select[VerificationRequest]:
        return self.received()
