"""Alembic is the only way the schema changes: the models agree with the migrated schema, and every
migration downgrades and upgrades again."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import backend.models  # noqa: F401  (registers every table)
from backend.config import PROJECT_ROOT
from backend.db.base import Base
from backend.devservices import postgres


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_agree_with_the_migrated_schema(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_migrations_downgrade_to_nothing_and_upgrade_again(subprocess_env: dict[str, str]) -> None:
    server = postgres.start_server(PROJECT_ROOT / "var" / "test-pgdata")
    name = f"liuguan_test_migrations_{uuid.uuid4().hex[:8]}"
    urls = postgres.bootstrap(server, name, recreate=True)
    env = {**subprocess_env, "DATABASE_URL": urls.app, "DATABASE_OWNER_URL": urls.owner}

    def alembic(*args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            env=env,
            cwd=PROJECT_ROOT,
            timeout=120,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr

    async def table_count() -> int:
        engine = create_async_engine(urls.owner)
        try:
            async with engine.connect() as connection:
                return int(
                    (
                        await connection.execute(
                            text(
                                "SELECT count(*) FROM pg_tables "
                                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                            )
                        )
                    ).scalar_one()
                )
        finally:
            await engine.dispose()

    try:
        alembic("upgrade", "head")
        migrated = await table_count()
        alembic("downgrade", "base")
        assert await table_count() == 0
        alembic("upgrade", "head")
        assert await table_count() == migrated > 0
    finally:
        postgres.psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
