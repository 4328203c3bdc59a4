"""Domain events inside one transaction: subscribers run at once, in order, on the publisher's session; a missing
subscription is a wiring error, and the app wires the calendar's event to cases and verification."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from backend.calendar.events import WorkingDaysChanged
from backend.core.events import DomainEvent, DomainEvents, NoSubscribers, domain_events


class Happened(DomainEvent):
    what: str


async def test_subscribers_run_in_order_on_the_publishers_session() -> None:
    events = DomainEvents()
    heard: list[tuple[str, Any, str]] = []

    async def first(session: Any, event: Happened) -> None:
        heard.append(("first", session, event.what))

    async def second(session: Any, event: Happened) -> None:
        heard.append(("second", session, event.what))

    events.subscribe(Happened, "first", first)
    events.subscribe(Happened, "second", second)
    session = object()
    await events.publish(session, Happened(what="a holiday"))  # type: ignore[arg-type]
    assert heard == [("first", session, "a holiday"), ("second", session, "a holiday")]


async def test_subscribing_again_under_a_name_replaces_the_subscriber() -> None:
    events = DomainEvents()
    heard: list[str] = []

    async def old(session: Any, event: Happened) -> None:
        heard.append("old")

    async def new(session: Any, event: Happened) -> None:
        heard.append("new")

    events.subscribe(Happened, "recount", old)
    events.subscribe(Happened, "recount", new)
    await events.publish(None, Happened(what="x"))  # type: ignore[arg-type]
    assert heard == ["new"]
    assert events.subscribers(Happened) == ["recount"]


async def test_an_event_nobody_subscribed_to_is_a_wiring_error() -> None:
    with pytest.raises(NoSubscribers):
        await DomainEvents().publish(None, Happened(what="x"))  # type: ignore[arg-type]


async def test_a_failing_subscriber_fails_the_publisher() -> None:
    events = DomainEvents()

    async def broken(session: Any, event: Happened) -> None:
        raise RuntimeError("recount failed")

    events.subscribe(Happened, "broken", broken)
    with pytest.raises(RuntimeError, match="recount failed"):
        await events.publish(None, Happened(what="x"))  # type: ignore[arg-type]


def test_the_app_has_cases_then_verification_recount_when_working_days_change(app: FastAPI) -> None:
    assert domain_events.subscribers(WorkingDaysChanged) == [
        "cases.recompute_due_dates",
        "verification.recompute_answer_dues",
    ]
