"""Per-client rate limit: an in-process token bucket per API client.

Each API process keeps its own buckets, so with N processes behind a load balancer a client may send up to N
times the configured rate; a shared limiter (PostgreSQL or Redis) is the step up if that matters.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from backend.config import Settings
from backend.intake.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self.pinned = False  # set by tests that configure the buckets directly
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token; returns 0 when allowed, else the seconds until a token is available."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(float(self.burst), moment))
            bucket.tokens = min(self.burst, bucket.tokens + (moment - bucket.updated) * self.rate)
            bucket.updated = moment
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def configure(self, rate_per_second: float, burst: int, *, pinned: bool = True) -> None:
        with self._lock:
            self.rate, self.burst, self.pinned = rate_per_second, burst, pinned
            self._buckets.clear()


# Settings INTAKE_RATE_PER_SECOND and INTAKE_RATE_BURST; a batch request counts once.
buckets = TokenBuckets(rate_per_second=1000.0, burst=2000)


def enforce_rate_limit(client_id: str, settings: Settings | None = None) -> None:
    """429 with Retry-After when the client is over its rate. The first call with settings whose rate
    differs from the buckets' (re)configures them (the defaults match the settings' defaults)."""
    if (
        settings is not None
        and not buckets.pinned
        and (settings.intake_rate_per_second != buckets.rate or settings.intake_rate_burst != buckets.burst)
    ):
        buckets.configure(settings.intake_rate_per_second, settings.intake_rate_burst, pinned=False)
    wait = buckets.take(client_id)
    if wait > 0:
        raise RateLimited(max(1, math.ceil(wait)))
