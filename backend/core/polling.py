"""The one polling-worker base: work that the API records in a transaction and a background loop performs
after commit (the outbox relay, the intake router, the webhook dispatcher).

A worker claims a batch of due rows (`FOR UPDATE SKIP LOCKED`, so several may run), handles each one, and on a
failure pushes the row's next attempt back exponentially (`backoff`). `run()` polls until its stop event is
set: straight on while there is work, after `idle_poll_seconds` when a pass found nothing, and a pass that
fails as a whole is logged and tried again, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

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

    def __init__(self, settings: PollSettings) -> None:
        self.settings = settings

    def backoff(self, attempts: int) -> timedelta:
        """How long a row waits after its `attempts`-th failure."""
        seconds = self.settings.base_backoff_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(seconds, self.settings.max_backoff_seconds))

    @abstractmethod
    async def poll(self) -> int:
        """One pass: claim the due rows (at most a batch), handle them; how many were claimed."""

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; wait `idle_poll_seconds` (or for `stop`) after a pass that found nothing."""
        while not stop.is_set():
            try:
                claimed = await self.poll()
            except Exception:
                log.exception(f"{self.name} pass failed")
                claimed = 0
            if claimed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.idle_poll_seconds)
                except TimeoutError:
                    pass
