"""How the demo history is played: every event runs through the real services, in a transaction of its own, as
the user who did it, with the platform clock (`backend.core.clock.clock`, the offset the tests also move) set to
the moment it happened.

Events are kept in time order (a heap), so the audit log, the outbox and every row's clock fields read as if
the counties had worked on the platform for a year: a case received six weeks ago has its due date six weeks
after that, an answer given last Tuesday was given last Tuesday. Nothing is written to a row behind a service's
back. When `make run`'s worker starts, the case and verification workflows load those rows and raise, at once,
the reminders, overdue notices and escalations whose moments have passed.

Moments are relative to the day the demo is loaded, so the demo always looks current.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.calendar.service import official_calendar
from backend.calendar.workdays import WorkingDayCalendar
from backend.core.clock import CHINA, china_day, clock
from backend.core.context import actor_var
from backend.core.errors import DomainError
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity.service import user_actor
from backend.models import User

Event = Callable[[], Awaitable[None]]


@dataclass
class DemoCounty:
    """A demo county as the history sees it: its tenant, its units by code (name), its staff."""

    code: str
    name: str
    prefix: str
    tenant_id: uuid.UUID
    units: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)

    def townships(self) -> list[str]:
        return sorted(code for code in self.units if len(code) == 9)

    def villages(self, township: str | None = None) -> list[str]:
        return sorted(code for code in self.units if len(code) == 12 and (township is None or code[:9] == township))


class Timeline:
    """The demo's clock and its queue of events."""

    def __init__(self, database: Database, started: datetime | None = None) -> None:
        self.database = database
        self.started = started or datetime.now(UTC)
        self.today = china_day(self.started)
        self.calendar: WorkingDayCalendar | None = None  # the national schedule, for deadlines the story aims at
        self._queue: list[tuple[datetime, int, Event]] = []
        self._order = itertools.count()
        self.played = 0

    # --- moments ---------------------------------------------------------------------------------------------

    def day(self, days_ago: int) -> date:
        """The working day `days_ago` calendar days before the load day (a weekend moves to its Friday)."""
        day = self.today - timedelta(days=days_ago)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day

    def at(self, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
        """A moment of office hours on that working day, never later than a minute before the load started."""
        moment = datetime.combine(self.day(days_ago), time(hour, minute), CHINA).astimezone(UTC)
        return min(moment, self.started - timedelta(minutes=1))

    async def load_calendar(self) -> None:
        """Read the national working-day schedule (the story places some deadlines on purpose)."""
        async with self.database.sessionmaker() as session, session.begin():
            self.calendar = await official_calendar(session)

    def started_for_due_soon(self, working_days: int) -> int:
        """How many days ago a stage of `working_days` must have started to fall due within the next two days."""
        assert self.calendar is not None, "load_calendar() first"
        for days_ago in range(1, 120):
            due = self.calendar.add_working_days(self.day(days_ago), working_days).date
            if self.today < due <= self.today + timedelta(days=2):
                return days_ago
        raise LookupError(f"no start day puts a {working_days}-working-day deadline in the next two days")

    # --- the queue -------------------------------------------------------------------------------------------

    def schedule(self, when: datetime, event: Event) -> None:
        """Play `event` at `when` (events scheduled in the past of the event being played run right after it)."""
        heapq.heappush(self._queue, (when, next(self._order), event))

    async def play(self) -> None:
        """Play every event in time order, each at its moment; then put the clock back."""
        last = datetime.min.replace(tzinfo=UTC)
        while self._queue:
            when, _, event = heapq.heappop(self._queue)
            last = max(when, last)
            with self.clock_at(last):
                try:
                    await event()
                except DomainError as error:
                    problems = "; ".join(f"{'.'.join(map(str, f.loc))}: {f.msg}" for f in error.fields)
                    raise RuntimeError(
                        f"demo event {event.__qualname__} at {last} refused: {error.detail} {problems}"
                    ) from error
            self.played += 1

    @contextmanager
    def clock_at(self, moment: datetime) -> Iterator[None]:
        """The platform clock reads `moment` (and runs on from there) inside the block."""
        previous = clock.offset
        clock.offset = moment - datetime.now(UTC)
        try:
            yield
        finally:
            clock.offset = previous

    # --- transactions ----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def acting(self, county: DemoCounty, who: str) -> AsyncIterator[tuple[AsyncSession, Principal]]:
        """One transaction of `county`, as its demo user `who` (audited under her name)."""
        actor_var.set(user_actor(county.users[who]))
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant_id)
            yield session, county.principals[who]
