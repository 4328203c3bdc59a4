"""Offset pagination shared by list endpoints: `page: PageDep` reads `?page=&size=`, and
`Page.of(rows, total, page, view)` answers one page of `view(row)` with the total."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
RowT = TypeVar("RowT")

MAX_PAGE_SIZE = 200


class PageParams(BaseModel):
    page: int = 1
    size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @classmethod
    def of(cls, rows: Iterable[RowT], total: int, params: PageParams, view: Callable[[RowT], T]) -> Page[T]:
        """One page of a list: each row as `view(row)` shows it (a response schema's `model_validate`, say)."""
        return cls(items=[view(row) for row in rows], total=total, page=params.page, size=params.size)
