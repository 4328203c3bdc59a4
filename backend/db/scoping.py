"""SQL filters for org subtrees: the list side of authorization (see Principal.scopes_for)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute


def under_roots(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
                roots: list[str]) -> ColumnElement[bool]:
    """`column` lies under one of the subtree roots; '' is the whole tenant, no roots is nothing at all."""
    if "" in roots:
        return true()
    if not roots:
        return false()
    return or_(*(column.startswith(root, autoescape=True) for root in roots))
