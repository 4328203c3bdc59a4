"""Every query on verification requests. The requester's outbox filters on `tenant_id` and the requesting
unit's subtree, the responder's inbox on `responder_tenant_id` and the responding unit's subtree: the row-level
policy admits both counties, the repository decides which side the caller is on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backend.db.scoping import subtree, under_roots
from backend.db.tenancy import current_tenant_id
from backend.models import VerificationAlert, VerificationKind, VerificationRequest, VerificationState


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


class VerificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.tenant_id = current_tenant_id(session)

    async def get(self, request_id: uuid.UUID) -> VerificationRequest | None:
        """The request if the current county is either side of it (the policy hides it otherwise)."""
        statement = select(VerificationRequest).where(
            VerificationRequest.id == request_id,
            or_(
                VerificationRequest.tenant_id == self.tenant_id,
                VerificationRequest.responder_tenant_id == self.tenant_id,
            ),
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_for(
        self, case_id: uuid.UUID, responder_unit_code: str, kind: VerificationKind
    ) -> VerificationRequest | None:
        statement = select(VerificationRequest).where(
            VerificationRequest.tenant_id == self.tenant_id,
            VerificationRequest.case_id == case_id,
            VerificationRequest.responder_unit_code == responder_unit_code,
            VerificationRequest.kind == kind,
            VerificationRequest.state == VerificationState.pending,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    def _common(
        self, statement: Select[VerificationRequest], f: VerificationFilters, unit: InstrumentedAttribute[Any]
    ) -> Select[VerificationRequest]:
        if f.state is not None:
            statement = statement.where(VerificationRequest.state == f.state)
        if f.kind is not None:
            statement = statement.where(VerificationRequest.kind == f.kind)
        if f.overdue is not None:
            statement = statement.where(VerificationRequest.responder_overdue.is_(f.overdue))
        if f.org_unit:
            statement = statement.where(subtree(unit, f.org_unit))
        return statement.order_by(VerificationRequest.answer_due_at, VerificationRequest.correlation_id)

    async def outbox(self, f: VerificationFilters, *, offset: int, limit: int) -> tuple[list[VerificationRequest], int]:
        """The requests and notices the caller's units sent (not the incoming ones an off-platform county sent
        us, which are also rows of this county)."""
        statement = select(VerificationRequest).where(
            VerificationRequest.tenant_id == self.tenant_id,
            VerificationRequest.requester_off_platform.is_(False),
            under_roots(VerificationRequest.requester_unit_code, f.roots),
        )
        if f.case_id is not None:
            statement = statement.where(VerificationRequest.case_id == f.case_id)
        return await self._page(self._common(statement, f, VerificationRequest.requester_unit_code), offset, limit)

    async def inbox(self, f: VerificationFilters, *, offset: int, limit: int) -> tuple[list[VerificationRequest], int]:
        """The requests and notices addressed to the caller's units."""
        statement = select(VerificationRequest).where(
            VerificationRequest.responder_tenant_id == self.tenant_id,
            under_roots(VerificationRequest.responder_unit_code, f.roots),
        )
        if f.unassigned:
            statement = statement.where(VerificationRequest.responder_assignee_id.is_(None))
        elif f.assignee_id is not None:
            statement = statement.where(VerificationRequest.responder_assignee_id == f.assignee_id)
        return await self._page(self._common(statement, f, VerificationRequest.responder_unit_code), offset, limit)

    async def _page(
        self, statement: Select[VerificationRequest], offset: int, limit: int
    ) -> tuple[list[VerificationRequest], int]:
        total = (await self.session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
        rows = (await self.session.execute(statement.offset(offset).limit(limit))).scalars().all()
        return list(rows), int(total)

    async def alerts(self, roots: list[str], *, limit: int = 200) -> list[VerificationAlert]:
        statement = (
            select(VerificationAlert)
            .where(
                VerificationAlert.tenant_id == self.tenant_id, under_roots(VerificationAlert.recipient_unit_code, roots)
            )
            .order_by(VerificationAlert.created_at.desc())
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars().all())

    async def for_rates(
        self, start: datetime, end: datetime, counterpart_county_code: str | None
    ) -> list[VerificationRequest]:
        """Every request either side of which is this county, sent or arrived in [start, end)."""
        as_requester = and_(
            VerificationRequest.tenant_id == self.tenant_id,
            VerificationRequest.materials_received_at >= start,
            VerificationRequest.materials_received_at < end,
        )
        as_responder = and_(
            or_(
                VerificationRequest.responder_tenant_id == self.tenant_id,
                # Within the county the requester's row is also the responder's.
                VerificationRequest.tenant_id == self.tenant_id,
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
        return list((await self.session.execute(statement)).scalars().all())

    def add(self, row: object) -> None:
        self.session.add(row)
