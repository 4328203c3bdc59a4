"""Text search in SQL where every character the user typed matches itself.

LIKE gives `%`, `_` and the escape character a meaning; a search box must not: `q=%` finds names containing a
percent sign, not every row. Every LIKE of the code base is built here (tests/structure/ refuses `.like(`,
`.ilike(`, `.contains(` and `.startswith(` on columns anywhere else).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

ESCAPE = "\\"


def like_escape(text: str) -> str:
    """`text` with LIKE's special characters escaped (with `ESCAPE`), so that each matches itself."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: Any, text: str, *, ignore_case: bool = False) -> ColumnElement[bool]:
    """`column` contains `text` literally (ILIKE with `ignore_case`); served by a pg_trgm index where there is one."""
    pattern = f"%{like_escape(text)}%"
    return column.ilike(pattern, escape=ESCAPE) if ignore_case else column.like(pattern, escape=ESCAPE)


def begins_with(column: Any, text: str) -> ColumnElement[bool]:
    """`column` begins with `text` literally (not for org subtrees: those are ranges, backend/db/scoping.py)."""
    return column.like(f"{like_escape(text)}%", escape=ESCAPE)
