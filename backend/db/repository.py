"""The base every repository builds on (Polar's `kit/repository` is the model).

A repository holds every query of one domain. Building them all on this base keeps three promises in one
place instead of in each query:

- **Two locks.** `base()` filters on the transaction's county (`current_tenant_id`, which raises when the
  transaction was never scoped) on top of the forced row-level-security policy.
- **Lists filter in SQL on the caller's reach.** `readable(principal, action)` narrows a statement to the org
  subtrees where the caller holds the action, as leakproof ranges on the code index (`db/scoping.py`), never by
  asking Casbin per row.
- **404 before 403.** `get_in_reach()` answers the domain's not-found error for a row outside the caller's
  reach exactly as for a row that does not exist, and records a read that only a break-glass grant allows.

`select(...)`/`text(...)` appear only in `repository.py` files (tests/structure checks it): services, pages,
endpoints and workflows call repositories.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.core.errors import Forbidden, NotFound
from backend.db.scoping import subtree, under_roots
from backend.db.tenancy import current_tenant_id

ModelT = TypeVar("ModelT")
RowT = TypeVar("RowT")
OtherT = TypeVar("OtherT")


class Repository:
    """A session and the few ways a statement is run. Repositories of rows that belong to no county (the
    tenants themselves, the national calendar) build on this; county rows use `TenantScopedRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def one_or_none(self, statement: Select[RowT]) -> RowT | None:
        """The single row the statement selects, or None."""
        return (await self.session.scalars(statement)).one_or_none()

    async def first(self, statement: Select[RowT]) -> RowT | None:
        """The first row the statement selects, or None."""
        return (await self.session.scalars(statement)).first()

    async def all(self, statement: Select[RowT]) -> list[RowT]:
        """Every row the statement selects."""
        return list((await self.session.scalars(statement)).all())

    async def count(self, statement: Select[Any]) -> int:
        """How many rows the statement selects."""
        return int((await self.session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one())

    async def page(self, statement: Select[RowT], *, offset: int, limit: int) -> tuple[list[RowT], int]:
        """One page of the (ordered) statement and the total count."""
        total = await self.count(statement.order_by(None))
        return await self.all(statement.offset(offset).limit(limit)), total

    def add(self, row: object) -> None:
        """Stage a new row; the caller flushes."""
        self.session.add(row)

    def add_all(self, rows: Sequence[object]) -> None:
        """Stage new rows; the caller flushes."""
        self.session.add_all(rows)

    async def flush(self) -> None:
        """Send the staged changes to the database (within the transaction)."""
        await self.session.flush()

    async def flush_unique(self, constraint: str, taken: Callable[[], Exception]) -> None:
        """Flush; a row that breaks the unique constraint `constraint` (written by another request a moment ago,
        after this one checked) raises the domain's `taken()` error instead of a 500."""
        try:
            await self.session.flush()
        except IntegrityError as error:
            if constraint in str(error.orig):
                raise taken() from None
            raise


class TenantScopedRepository(Repository, Generic[ModelT]):
    """A repository of one county's rows of `model`.

    Subclasses set `model`, and for rows placed in the org tree `unit_column` (the column holding the unit
    code), `entity_type` (how the audit log names the row) and `not_found` (the domain's 404).
    """

    model: ClassVar[type[Any]]
    unit_column: ClassVar[str | None] = "org_unit_code"
    entity_type: ClassVar[str] = ""
    not_found: ClassVar[type[NotFound]] = NotFound

    @property
    def tenant_id(self) -> uuid.UUID:
        """The county this transaction is scoped to; raises when it was never scoped."""
        return current_tenant_id(self.session)

    def in_county(self, model: Any = None) -> ColumnElement[bool]:
        """The condition "the row belongs to the current county" on `model`, a model or an alias of one (default:
        this repository's), for the other tables of an aggregate (a person's children, a certificate's
        inspections), joins and subqueries."""
        return (self.model if model is None else model).tenant_id == self.tenant_id

    def base(self) -> Select[ModelT]:
        """Every row of the model in the current county: the start of every query."""
        return select(self.model).where(self.in_county())

    def county_rows(self, model: type[OtherT]) -> Select[OtherT]:
        """Every row of another county-owned model in the current county (the other tables of an aggregate)."""
        return select(model).where(self.in_county(model))

    def _unit(self) -> InstrumentedAttribute[str]:
        if self.unit_column is None:
            raise TypeError(f"{type(self).__name__} rows are not placed in the org tree")
        column: InstrumentedAttribute[str] = getattr(self.model, self.unit_column)
        return column

    def in_subtrees(self, roots: list[str]) -> ColumnElement[bool]:
        """The condition "the row lies under one of these subtree roots" ('' is the whole county)."""
        return under_roots(self._unit(), roots)

    def in_subtree(self, root: str) -> ColumnElement[bool]:
        """The condition "the row lies in the subtree rooted at `root`"."""
        return subtree(self._unit(), root)

    def readable(self, principal: Principal, action: Action, statement: Select[ModelT] | None = None) -> Select[ModelT]:
        """`statement` (default: `base()`) narrowed to the subtrees where the principal holds `action`."""
        return (self.base() if statement is None else statement).where(self.in_subtrees(principal.scopes_for(action)))

    async def get(self, row_id: uuid.UUID, *, for_update: bool = False) -> ModelT | None:
        """The row with this id in the current county, or None (another county's id finds nothing)."""
        statement = self.base().where(self.model.id == row_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.one_or_none(statement)

    async def get_in_reach(
        self,
        principal: Principal,
        action: Action,
        row_id: uuid.UUID,
        *,
        for_update: bool = False,
        visible_with: Action | None = None,
        not_found: NotFound | None = None,
    ) -> ModelT:
        """The row if the principal may perform `action` on its unit; the domain's 404 otherwise, exactly as if
        it did not exist. A read that only a break-glass grant allows is audited with the grant's reason.

        `visible_with`: a caller who holds this action on the row (she may see it) but not `action` gets 403,
        not 404: she already knows the row exists. `not_found`: another domain's 404 instead (documents answer
        "the owner was not found" for a case out of reach).
        """
        missing = not_found or self.not_found()
        row = await self.get(row_id, for_update=for_update)
        if row is None:
            raise missing
        unit_code = getattr(row, self._unit().key)
        if visible_with is not None and not principal.can(action, unit_code) and principal.can(visible_with, unit_code):
            raise Forbidden()
        await authorize_unit(
            self.session,
            principal,
            action,
            unit_code,
            entity_type=self.entity_type or self.model.__tablename__,
            entity_id=str(row_id),
            not_found=missing,
        )
        return row
