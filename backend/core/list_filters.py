"""Query parameters that list endpoints share: the org-unit subtree and the assignee filter."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from backend.core.errors import DomainError
from backend.core.input import Code, Text, UnitCode

UnitQuery = Annotated[UnitCode | None, Query(description="only this unit's subtree")]

ME = "me"
NOBODY = "none"
AssigneeQuery = Annotated[
    Annotated[str, Code(r"^(me|none|[0-9a-fA-F-]{32,36})$", 36)] | None,
    Query(description="a user id, `me` or `none`"),
]
# A name typed into a search box: characters or pinyin.
NameSearchQuery = Annotated[Annotated[str, Text(50)] | None, Query(description="name, in Chinese characters or pinyin")]
NOT_AN_ASSIGNEE = "应为用户标识、me 或 none / expected a user id, me or none"


@dataclass(frozen=True)
class AssigneeFilter:
    """Whose work a list shows: one user's (`assignee_id`), nobody's yet (`unassigned`), or everybody's."""

    assignee_id: uuid.UUID | None = None
    unassigned: bool = False


def assignee_filter(value: str | None, me: str | None, invalid: Callable[[str], DomainError]) -> AssigneeFilter:
    """`?assignee=me` (the caller, `me`; a caller who is no user has nothing assigned), `none`, a user id, or no
    filter; anything else is refused with `invalid(reason)`, the domain's own error at the `assignee` field."""
    if value == ME:
        return AssigneeFilter(assignee_id=uuid.UUID(me) if me is not None else uuid.UUID(int=0))
    if value is None or value == NOBODY:
        return AssigneeFilter(unassigned=value == NOBODY)
    try:
        return AssigneeFilter(assignee_id=uuid.UUID(value))
    except ValueError:
        raise invalid(NOT_AN_ASSIGNEE) from None
