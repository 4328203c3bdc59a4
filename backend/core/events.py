"""Domain events inside one transaction: a foundation domain says what happened, the domains built on it react,
and none of it is half-written.

A domain that others build on (the calendar) must not import the domains that build on it (cases,
verification), yet their reaction has to be visible in the same response: after a county declares a holiday,
the answer already shows the recounted due dates. So the foundation domain publishes a typed event on the
session, and the subscribers registered for that event type run at once, on the same session and so in the
same transaction: if one fails, the whole request rolls back with the change that caused it.

Who reacts to what is decided at the composition root (`backend/main.py` `subscribe_domain_events()`), not by
the publisher. Subscriptions are keyed by name, so subscribing again (a second app in one process, as the tests
build) replaces instead of doubling. Publishing an event nobody subscribed to is a wiring error and raises,
rather than silently skipping the reaction. Side effects outside the database still go through the outbox
(docs/adr/0010-typed-outbox-contract.md): a subscriber records them, the relay performs them after commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession


class DomainEvent(BaseModel):
    """Something that happened in the transaction's county; subclasses name it and carry its facts."""

    model_config = ConfigDict(frozen=True)


EventT = TypeVar("EventT", bound=DomainEvent)
Subscriber = Callable[[AsyncSession, Any], Awaitable[object]]


class NoSubscribers(RuntimeError):
    """An event was published that nothing reacts to: the composition root did not wire it."""


class DomainEvents:
    """Event type -> {subscriber name: subscriber}, run in the order they were first subscribed."""

    def __init__(self) -> None:
        self._subscribers: dict[type[DomainEvent], dict[str, Subscriber]] = {}

    def subscribe(
        self, event_type: type[EventT], name: str, subscriber: Callable[[AsyncSession, EventT], Awaitable[object]]
    ) -> None:
        """Run `subscriber(session, event)` whenever `event_type` is published; a second subscription under
        the same name replaces the first."""
        self._subscribers.setdefault(event_type, {})[name] = subscriber

    def subscribers(self, event_type: type[DomainEvent]) -> list[str]:
        """The names subscribed to `event_type`, in the order they run."""
        return list(self._subscribers.get(event_type, {}))

    async def publish(self, session: AsyncSession, event: DomainEvent) -> None:
        """Run every subscriber of the event's type on this session (this transaction), in order."""
        subscribers = self._subscribers.get(type(event))
        if not subscribers:
            raise NoSubscribers(f"nothing subscribes to {type(event).__name__}: see backend/main.py")
        for subscriber in subscribers.values():
            await subscriber(session, event)


domain_events = DomainEvents()
"""The process's subscriptions, filled by the composition root at start-up."""


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Publish `event` to its subscribers, in the caller's transaction."""
    await domain_events.publish(session, event)
