"""What waits for the caller now (我的待办): the items of each kind, ordered by due moment with the overdue ones
first, and the count of each kind in one query (the header's figure, the dashboard's tiles). Reads only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.case_types.definitions import DEFAULT_CASE_TYPES
from backend.core.clock import utc_now
from backend.followups.rules import CASE_TYPE_FOR_KIND
from backend.models import Case, VerificationRequest
from backend.todo.repository import TodoRepository
from backend.todo.schemas import TodoCounts, TodoItem, TodoKind, TodoList

LIMIT_PER_KIND = 200
FOLLOWUP_CASE_TYPES = tuple(sorted(set(CASE_TYPE_FOR_KIND.values())))
SIGNOFF_CHAINS = {code: definition.signoffs for code, definition in DEFAULT_CASE_TYPES.items() if definition.signoffs}


def _repository(session: AsyncSession, principal: Principal) -> TodoRepository | None:
    if principal.kind != "user" or principal.tenant_id is None:
        return None  # a department client or the platform administrator has no to-do list
    return TodoRepository(session, principal, FOLLOWUP_CASE_TYPES, SIGNOFF_CHAINS)


async def counts(session: AsyncSession, principal: Principal) -> TodoCounts:
    """How many items of each kind wait for the caller (one query)."""
    repository = _repository(session, principal)
    if repository is None:
        return TodoCounts()
    return TodoCounts(**await repository.counts())


def _case_item(kind: TodoKind, case: Case, now: datetime) -> TodoItem:
    return TodoItem(
        kind=kind,
        item_id=case.id,
        reference=case.number,
        title=case.title,
        link="/triage" if kind is TodoKind.triage else f"/cases/{case.id}",
        due_at=case.due_at,
        overdue=case.overdue or (case.due_at is not None and case.due_at < now),
    )


def _request_item(row: VerificationRequest, now: datetime) -> TodoItem:
    noun = ("协查", "verification request") if row.kind.value == "request" else ("通报", "notice")
    return TodoItem(
        kind=TodoKind.inbox,
        item_id=row.id,
        reference=row.correlation_id,
        title=f"{row.requester_unit_name}的{noun[0]} / {noun[1]} from {row.requester_unit_name}",
        link=f"/verification/inbox?q={row.correlation_id}",
        due_at=row.answer_due_at,
        overdue=row.responder_overdue or row.answer_due_at < now,
    )


def _order(item: TodoItem) -> tuple[bool, float, str]:
    due = item.due_at.timestamp() if item.due_at is not None else float("inf")
    return (not item.overdue, due, item.reference)


async def todo_list(session: AsyncSession, principal: Principal, kind: TodoKind | None = None) -> TodoList:
    """The caller's to-do items (of one kind, when given), overdue first, then by due moment."""
    repository = _repository(session, principal)
    if repository is None:
        return TodoList(total=0, counts=TodoCounts(), items=[], truncated=False)
    figures = TodoCounts(**await repository.counts())
    now = utc_now()
    items: list[TodoItem] = []
    for each in TodoKind:
        if (kind is not None and each is not kind) or getattr(figures, each.value) == 0:
            continue
        if each is TodoKind.inbox:
            items += [_request_item(row, now) for row in await repository.requests(LIMIT_PER_KIND)]
        else:
            items += [_case_item(each, case, now) for case in await repository.cases(each.value, LIMIT_PER_KIND)]
    shown = figures.total if kind is None else getattr(figures, kind.value)
    return TodoList(total=shown, counts=figures, items=sorted(items, key=_order), truncated=len(items) < shown)
