"""`make run`'s demo commands, as operators run them, on a database of their own: `demo seed` loads the demo into an
empty database once, and `demo reset` wipes every county and loads it again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from backend.config import PROJECT_ROOT
from backend.devservices import postgres

pytestmark = pytest.mark.demo


@pytest.fixture
def empty_database(database_urls: postgres.DatabaseUrls) -> Iterator[dict[str, str]]:
    server = postgres.start_server(PROJECT_ROOT / "var" / "test-pgdata")
    name = f"liuguan_demo_cli_{os.getpid()}"
    urls = postgres.bootstrap(server, name, recreate=True)
    env = {**os.environ, "ENVIRONMENT": "development", "DATABASE_URL": urls.app, "DATABASE_OWNER_URL": urls.owner}
    env["LOG_LEVEL"] = "WARNING"
    run(env, "db", "upgrade")
    env["DATABASE_NAME"] = name
    yield env
    postgres.psql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def counties(env: dict[str, str]) -> str:
    server = postgres.start_server(PROJECT_ROOT / "var" / "test-pgdata")
    return postgres.psql(
        server, "SELECT string_agg(code, ',' ORDER BY code) FROM tenants", env["DATABASE_NAME"]
    ).strip()


def test_seed_loads_once_and_reset_loads_again(empty_database: dict[str, str]) -> None:
    assert "demo data loaded" in run(empty_database, "demo", "seed")
    assert counties(empty_database) == "330106,341225"
    assert "not loaded" in run(empty_database, "demo", "seed")
    run(empty_database, "tenant", "create", "990001", "测试县")
    assert counties(empty_database) == "330106,341225,990001"
    assert "loaded again" in run(empty_database, "demo", "reset")
    assert counties(empty_database) == "330106,341225"
