"""Fault test: the worker process (router) is killed with SIGKILL in the middle of routing a large batch;
after a restart every accepted notification is routed exactly once (one triage case, one triage copy)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from backend.config import PROJECT_ROOT
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.models import Case, IntakeNotification, IntakeTriage
from tests.backend.intake.conftest import MakeClient, residence
from tests.fixtures.identity import County

NOTIFICATIONS = 1000


async def _routed(database: Database, ids: list[uuid.UUID]) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        statement = (
            select(func.count())
            .select_from(IntakeNotification)
            .where(IntakeNotification.id.in_(ids), IntakeNotification.status == "case_opened")
        )
        return int((await session.execute(statement)).scalar_one())


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "workflows.worker"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _wait_until(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.timeout(600)
async def test_killing_the_worker_mid_batch_loses_and_duplicates_nothing(
    county: County,
    make_client: MakeClient,
    database: Database,
    subprocess_env: dict[str, str],
) -> None:
    police = await make_client("police")
    ids: list[uuid.UUID] = []
    for _ in range(NOTIFICATIONS // 500):
        items = [residence(county.code, township=("001" if n % 2 else "002")) for n in range(500)]
        response = await police.http.post("/api/v1/notifications:batch", json={"notifications": items})
        assert response.status_code == 202
        ids += [uuid.UUID(item["id"]) for item in response.json()["accepted"]]
    assert len(ids) == NOTIFICATIONS

    worker = _start_worker(subprocess_env)
    try:
        started_routing = await _wait_until(lambda: _routed_at_least(database, ids, 50), timeout=180)
        assert started_routing, "the worker routed nothing"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # no graceful shutdown: mid-transaction
        worker.wait(timeout=30)
    routed_at_kill = await _routed(database, ids)
    assert routed_at_kill < NOTIFICATIONS, "the kill came too late to interrupt anything"

    worker = _start_worker(subprocess_env)
    try:
        finished = await _wait_until(lambda: _routed_at_least(database, ids, NOTIFICATIONS), timeout=300)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    assert finished, f"only {await _routed(database, ids)} of {NOTIFICATIONS} routed after the restart"

    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        triages = (
            await session.execute(
                select(IntakeTriage.notification_id, IntakeTriage.case_id).where(IntakeTriage.notification_id.in_(ids))
            )
        ).all()
        cases = (
            await session.execute(
                select(func.count())
                .select_from(Case)
                .where(
                    Case.case_type == "department_notification",
                    Case.details["intake_notification_id"].astext.in_([str(i) for i in ids]),
                )
            )
        ).scalar_one()
    assert len(triages) == NOTIFICATIONS
    assert {row[0] for row in triages} == set(ids)
    assert len({row[1] for row in triages}) == NOTIFICATIONS
    assert cases == NOTIFICATIONS


async def _routed_at_least(database: Database, ids: list[uuid.UUID], count: int) -> bool:
    return await _routed(database, ids) >= count
