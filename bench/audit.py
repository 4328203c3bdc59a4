"""Audit-log appends: the hash chain against plain INSERTs of the same rows, measured in the same run.

`python -m bench.audit [--events N]` (`make bench-audit`):

1. starts the embedded PostgreSQL under var/bench-pgdata (Unix socket only, as the tests do), recreates the
   database `liuguan_bench` and migrates it with the CLI as the schema owner, as operators do;
2. provisions one county through the tenant service, which creates its chain head (the genesis link);
3. creates the baseline table `bench_plain_audit_events` as the schema owner: the columns, NOT NULL
   constraints, defaults and indexes of `audit_events` (unique (tenant_id, seq) included) and its foreign
   key to `tenants`, but no row-level-security policy and no chain; the application role may SELECT and
   INSERT on it;
4. for transactions of 1 and of 100 events, appends N events through `backend.audit.service.record`
   (chain head locked FOR UPDATE, sha256 link computed, event inserted and head updated by the ORM) and N
   equivalent rows as single-row INSERTs through the same application engine. Both kinds of transaction
   set the tenant first; they alternate, so a change in the machine's load or in the tables' size weighs
   on both alike. A few transactions of each kind run first as a warm-up and are not counted;
5. prints events/s, p50 and p95 per transaction and the ratio chain/raw for each batch size, then verifies
   the whole chain.

N is rounded to whole transactions (at least one per batch size). The database is left in place for
inspection and recreated by the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.audit import service as audit
from backend.config import Environment, Settings
from backend.core.clock import utc_now
from backend.core.context import Actor, actor_var
from backend.db.base import Base
from backend.db.engine import Database, create_engine
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant
from bench import migrated_database

DATABASE_NAME = "liuguan_bench"
# 99xxxx is no real province, so the bench county never looks like a real one.
BENCH_COUNTY = TenantCreate(code="990001", name="基准测试县")
BENCH_ACTOR = Actor(kind="system", id="bench", label="基准测试 bench")
BATCH_SIZES = (1, 100)
DEFAULT_EVENTS = 2000

PLAIN_TABLE_NAME = "bench_plain_audit_events"
# The baseline's Core table: audit_events' columns and types under the baseline's name (used for INSERTs
# only; the table itself is created with SQL below, LIKE audit_events).
PLAIN_TABLE: Table = Base.metadata.tables["audit_events"].to_metadata(MetaData(), name=PLAIN_TABLE_NAME)
# The baseline stores no chain; its rows carry a hash-sized value so that they are as wide as the real ones.
PLACEHOLDER_HASH = "0" * 64


def _changes(index: int) -> dict[str, Any]:
    """A typical small diff, the same for the chain and the baseline."""
    return audit.diff({"name": "张三"}, {"name": f"张三{index}"})


def _plain_row(tenant_id: uuid.UUID, county_code: str, seq: int) -> dict[str, Any]:
    """The row record() would write for event `seq`, without computing any hash."""
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "seq": seq,
        "occurred_at": utc_now(),
        "actor_kind": BENCH_ACTOR.kind,
        "actor_id": BENCH_ACTOR.id,
        "actor_label": BENCH_ACTOR.label,
        "org_unit_code": county_code,
        "action": "person.update",
        "entity_type": "person",
        "entity_id": f"p-{seq}",
        "changes": _changes(seq),
        "reason": None,
        "correlation_id": None,
        "request_id": None,
        "client_addr": None,
        "prev_hash": PLACEHOLDER_HASH,
        "hash": PLACEHOLDER_HASH,
    }


@dataclass
class Series:
    """Durations of the measured transactions of one kind (chain or raw) at one batch size."""

    batch_size: int
    durations: list[float] = field(default_factory=list)

    @property
    def events(self) -> int:
        return self.batch_size * len(self.durations)

    @property
    def events_per_second(self) -> float:
        return self.events / sum(self.durations)

    def percentile_ms(self, percent: int) -> float:
        if len(self.durations) == 1:
            return self.durations[0] * 1000
        return statistics.quantiles(self.durations, n=100, method="inclusive")[percent - 1] * 1000


class Appender:
    """Appends events for one county, through the chain or into the baseline table."""

    def __init__(self, database: Database, tenant_id: uuid.UUID, county_code: str) -> None:
        self.database = database
        self.tenant_id = tenant_id
        self.county_code = county_code
        self._next_chain_index = 0
        self._next_plain_seq = 1

    async def chain_transaction(self, size: int) -> float:
        """One transaction of `size` events through audit.record(); returns its duration in seconds."""
        started = time.perf_counter()
        async with self.database.sessionmaker() as session, session.begin():
            await set_tenant(session, self.tenant_id)
            for _ in range(size):
                index = self._next_chain_index
                self._next_chain_index += 1
                await audit.record(
                    session,
                    action="person.update",
                    entity_type="person",
                    entity_id=f"p-{index}",
                    org_unit_code=self.county_code,
                    changes=_changes(index),
                )
        return time.perf_counter() - started

    async def raw_transaction(self, size: int) -> float:
        """One transaction of `size` single-row INSERTs into the baseline table; returns its duration."""
        started = time.perf_counter()
        async with self.database.sessionmaker() as session, session.begin():
            # Not needed by the baseline table (it has no policy): kept so both kinds pay the same round trip.
            await set_tenant(session, self.tenant_id)
            for _ in range(size):
                row = _plain_row(self.tenant_id, self.county_code, self._next_plain_seq)
                self._next_plain_seq += 1
                await session.execute(insert(PLAIN_TABLE), row)
        return time.perf_counter() - started


async def measure(appender: Appender, batch_size: int, events: int) -> tuple[Series, Series]:
    """Alternate chain and raw transactions of `batch_size` events until each kind has written `events`."""
    transactions = max(1, events // batch_size)
    warm_up = max(1, transactions // 20)
    for _ in range(warm_up):
        await appender.chain_transaction(batch_size)
        await appender.raw_transaction(batch_size)
    chain, raw = Series(batch_size), Series(batch_size)
    runs: list[tuple[Callable[[int], Awaitable[float]], Series]] = [
        (appender.chain_transaction, chain),
        (appender.raw_transaction, raw),
    ]
    for number in range(transactions):
        # Swap which kind goes first every time, so neither always follows the other.
        for run, series in runs if number % 2 == 0 else reversed(runs):
            series.durations.append(await run(batch_size))
    return chain, raw


async def create_plain_table(owner_engine: AsyncEngine) -> None:
    """The baseline table, created by the schema owner (the application role may create nothing)."""
    async with owner_engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE IF EXISTS {PLAIN_TABLE_NAME}"))
        # LIKE copies columns, NOT NULL, defaults and indexes; never row-level security or its policies.
        await connection.execute(text(f"CREATE TABLE {PLAIN_TABLE_NAME} (LIKE audit_events INCLUDING ALL)"))
        await connection.execute(
            text(
                f"ALTER TABLE {PLAIN_TABLE_NAME} ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE RESTRICT"
            )
        )
        await connection.execute(text(f'GRANT SELECT, INSERT ON {PLAIN_TABLE_NAME} TO "{postgres.APP_ROLE}"'))


def print_results(results: list[tuple[Series, Series]]) -> None:
    header = (
        f"{'batch':>5}  {'series':<6}  {'transactions':>12}  {'events':>6}  {'events/s':>9}  "
        f"{'p50 ms/tx':>9}  {'p95 ms/tx':>9}"
    )
    print(header)
    print("-" * len(header))
    for chain, raw in results:
        for name, series in (("chain", chain), ("raw", raw)):
            print(
                f"{series.batch_size:>5}  {name:<6}  {len(series.durations):>12}  {series.events:>6}  "
                f"{series.events_per_second:>9.0f}  {series.percentile_ms(50):>9.2f}  "
                f"{series.percentile_ms(95):>9.2f}"
            )
    print()
    for chain, raw in results:
        print(
            f"ratio chain/raw, {chain.batch_size:>3} event(s) per transaction: "
            f"time per event {raw.events_per_second / chain.events_per_second:.2f}x, "
            f"events/s {chain.events_per_second / raw.events_per_second:.2f}, "
            f"p50 {chain.percentile_ms(50) / raw.percentile_ms(50):.2f}x, "
            f"p95 {chain.percentile_ms(95) / raw.percentile_ms(95):.2f}x"
        )


async def run_bench(urls: postgres.DatabaseUrls, events: int) -> int:
    actor_var.set(BENCH_ACTOR)
    settings = Settings(environment=Environment.development, database_url=urls.app, database_owner_url=urls.owner)
    database = Database.from_settings(settings)
    owner_engine = create_engine(urls.owner, pool_size=1)
    try:
        await create_plain_table(owner_engine)
        async with database.sessionmaker() as session, session.begin():
            tenant = await provision_tenant(session, BENCH_COUNTY)
            server_version = (await session.execute(text("SHOW server_version"))).scalar_one()
        appender = Appender(database, tenant.id, tenant.code)

        print(
            f"Audit appends: hash chain (audit.record) vs plain INSERT ({PLAIN_TABLE_NAME}), {events} events per series"
        )
        print(
            f"PostgreSQL {server_version} (embedded, Unix socket), Python {platform.python_version()}, "
            f"application role {postgres.APP_ROLE}"
        )
        print()
        results = [await measure(appender, batch_size, events) for batch_size in BATCH_SIZES]
        print_results(results)

        started = time.perf_counter()
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, tenant.id)
            verification = await audit.verify_chain(session)
        elapsed = time.perf_counter() - started
        print()
        if not verification.ok:
            print(f"chain BROKEN at seq {verification.broken_seq}: {verification.problem}")
            return 1
        print(
            f"chain verified: {verification.events_checked} events intact "
            f"({verification.events_checked / elapsed:.0f} events/s)"
        )
        return 0
    finally:
        await owner_engine.dispose()
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.audit", description="Audit-log appends: the hash chain against plain INSERTs"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"events per series (chain and raw, per batch size); default {DEFAULT_EVENTS}",
    )
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")

    urls = migrated_database(DATABASE_NAME)
    return asyncio.run(run_bench(urls, args.events))


if __name__ == "__main__":
    sys.exit(main())
