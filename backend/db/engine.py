"""Engines and session makers for the application role and (for migrations and CLI) the owner role."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from backend.config import Settings


def create_engine(url: str, *, pool_size: int = 5, pool_timeout: float = 30.0) -> AsyncEngine:
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=pool_timeout, pool_pre_ping=True
    )


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset on release (RESET ALL, UNLISTEN *, CLOSE ALL, unlock advisory locks: one more
    round trip per request). The submit path sets only transaction-local settings (`set_config(..., true)`),
    and listens, locks and declares cursors nowhere; an open transaction is still rolled back by asyncpg
    before this runs."""


@dataclass
class Database:
    """The application's connection to PostgreSQL as the non-owner application role.

    `driver_pool()` is a plain asyncpg pool beside the engine, for the one path where SQLAlchemy's session
    costs more than the work: a department's notification submit (backend/intake/transaction.py). Measured
    on the 2-core machine: an AsyncSession's begin + commit + one statement costs about 2 ms of CPU, the same
    on a pooled asyncpg connection about 0.5 ms, and single posts went from about 150/s to over 500/s.
    """

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    pool_size: int = 5
    _driver_pool: asyncpg.Pool | None = field(default=None, init=False, repr=False)
    _driver_pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_seconds,
        )
        return cls(
            engine=engine,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
            pool_size=settings.database_pool_size,
        )

    def driver_dsn(self) -> str:
        """The engine's URL with asyncpg's scheme: query options (ssl, host of a socket) carry over."""
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def connect_driver(self) -> asyncpg.Connection:
        """A plain asyncpg connection of its own (same role and database), e.g. to LISTEN for notifications."""
        return await asyncpg.connect(self.driver_dsn())

    async def driver_pool(self) -> asyncpg.Pool:
        """The asyncpg pool, opened on first use with the engine's URL (same role, same database)."""
        if self._driver_pool is None:
            async with self._driver_pool_lock:
                if self._driver_pool is None:
                    self._driver_pool = await asyncpg.create_pool(
                        self.driver_dsn(), min_size=1, max_size=self.pool_size, reset=_nothing_to_reset
                    )
        return self._driver_pool

    async def ping(self) -> None:
        """One round trip to PostgreSQL (readiness): raises when the database cannot be reached."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            await self._driver_pool.close()
            self._driver_pool = None
        await self.engine.dispose()
