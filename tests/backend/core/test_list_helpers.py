"""The list endpoints' shared helpers: one page of a list, and the assignee filter."""

from __future__ import annotations

import uuid

import pytest

from backend.core.errors import InvalidInput
from backend.core.list_filters import NOT_AN_ASSIGNEE, AssigneeFilter, assignee_filter
from backend.core.pagination import Page, PageParams


def test_a_page_shows_each_row_through_its_view_with_the_total_and_the_paging() -> None:
    page = Page[str].of([1, 2], 12, PageParams(page=3, size=2), lambda row: f"#{row}")
    assert page == Page[str](items=["#1", "#2"], total=12, page=3, size=2)


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput("bad list filter", [])


def test_the_assignee_filter_reads_me_none_a_user_id_or_nothing() -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    assert assignee_filter("me", str(me), _invalid) == AssigneeFilter(assignee_id=me)
    assert assignee_filter("me", None, _invalid) == AssigneeFilter(assignee_id=uuid.UUID(int=0))  # no user: nobody
    assert assignee_filter("none", str(me), _invalid) == AssigneeFilter(unassigned=True)
    assert assignee_filter(str(other), str(me), _invalid) == AssigneeFilter(assignee_id=other)
    assert assignee_filter(None, str(me), _invalid) == AssigneeFilter()


def test_any_other_assignee_is_refused_with_the_domains_error() -> None:
    reasons: list[str] = []

    def invalid(reason: str) -> InvalidInput:
        reasons.append(reason)
        return InvalidInput("bad list filter", [])

    with pytest.raises(InvalidInput):
        assignee_filter("someone", None, invalid)
    assert reasons == [NOT_AN_ASSIGNEE]
