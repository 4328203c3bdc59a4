"""SQL filters for org subtrees: the list side of authorization (see Principal.scopes_for)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute


def subtree(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], root: str) -> ColumnElement[bool]:
    """`column` starts with `root`, written as a range on the text_pattern_ops index.

    Not `LIKE 'root%'`: under row-level security PostgreSQL only turns leakproof operators into index
    conditions, and LIKE is not leakproof, so a subtree filter would scan the whole county. The pattern
    comparison operators are leakproof. Codes are digits, so the range's end is the root with its last digit
    incremented ('330106001' -> '330106002'; '9' becomes ':', which sorts right after the digits).
    """
    upper = root[:-1] + chr(ord(root[-1]) + 1)
    return and_(column.op("~>=~")(root), column.op("~<~")(upper))


def under_roots(
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], roots: list[str]
) -> ColumnElement[bool]:
    """`column` lies under one of the subtree roots; '' is the whole tenant, no roots is nothing at all."""
    if "" in roots:
        return true()
    if not roots:
        return false()
    return or_(*(subtree(column, root) for root in roots))
