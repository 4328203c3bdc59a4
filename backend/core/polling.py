"""The one polling-worker base: work that the API records in a transaction and a background loop performs
after commit (the outbox relay, the intake router, the webhook dispatcher).

A worker claims a batch of due rows (`FOR UPDATE SKIP LOCKED`, so several may run), handles each one, and on a
failure pushes the row's next attempt back exponentially (`backoff`). `run()` polls until its stop event is
set: straight on while there is work; when a pass found nothing it sleeps until PostgreSQL notifies its channel
(`notify_channel`: a statement trigger on the table notifies when a transaction that inserted rows commits) or
`idle_poll_seconds` pass, whichever comes first (the slow poll also catches rows whose retry time came, and a
notification lost while the listening connection was down). A pass that fails as a whole is logged and tried
again, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from backend.db.engine import Database

log = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 2000


@dataclass
class PollSettings:
    """How much one pass claims, how long an idle worker waits, and the retry schedule of a failed row:
    `base_backoff_seconds * 2 ** (attempts - 1)`, at most `max_backoff_seconds`."""

    batch_size: int = 50
    idle_poll_seconds: float = 0.5
    base_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 300.0


def error_text(error: BaseException) -> str:
    """What a row records of its last failure: the exception's type and message, bounded."""
    return f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]


class PollingWorker(ABC):
    """Subclasses implement `poll()`: one pass that claims a batch, handles it and returns how many rows it
    claimed (0: nothing was due)."""

    name: ClassVar[str] = "polling worker"
    notify_channel: ClassVar[str | None] = None
    """The PostgreSQL channel that announces new rows (None: poll only)."""

    def __init__(self, settings: PollSettings, database: Database) -> None:
        self.settings = settings
        self.database = database

    def backoff(self, attempts: int) -> timedelta:
        """How long a row waits after its `attempts`-th failure."""
        seconds = self.settings.base_backoff_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(seconds, self.settings.max_backoff_seconds))

    @abstractmethod
    async def poll(self) -> int:
        """One pass: claim the due rows (at most a batch), handle them; how many were claimed."""

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; after a pass that found nothing, wait for a notification on the channel,
        `idle_poll_seconds`, or `stop`."""
        wake = asyncio.Event()
        listener = asyncio.create_task(self._listen(wake, stop)) if self.notify_channel else None
        try:
            while not stop.is_set():
                wake.clear()  # before the pass: a notification during it makes the next wait return at once
                try:
                    claimed = await self.poll()
                except Exception:
                    log.exception(f"{self.name} pass failed")
                    claimed = 0
                if claimed == 0:
                    await _first_of(stop, wake, timeout=self.settings.idle_poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _listen(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        """Keep one connection listening on the channel; after a lost connection, listen again (the slow poll
        covers the gap)."""
        assert self.notify_channel is not None
        while not stop.is_set():
            try:
                connection = await self.database.connect_driver()
            except Exception:
                log.warning(f"{self.name}: cannot listen for notifications; polling only for now")
                await _first_of(stop, timeout=self.settings.idle_poll_seconds)
                continue
            closed = asyncio.Event()
            try:
                connection.add_termination_listener(lambda _connection, lost=closed: lost.set())
                await connection.add_listener(self.notify_channel, lambda *_notification: wake.set())
                wake.set()  # anything written before we listened is found by the next pass
                await _first_of(stop, closed)
            except Exception:
                log.warning(f"{self.name}: listening for notifications failed; trying again")
            finally:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=5)


async def _first_of(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Wait until one of the events is set, or `timeout` seconds pass."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
