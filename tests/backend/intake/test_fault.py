"""Fault tests with real processes killed by SIGKILL: the worker in the middle of routing (after a restart
every accepted notification is routed exactly once: one triage case, one triage copy), and the API under
uvicorn in the middle of batches (each batch is stored whole or not at all; a blind resend after the restart
stores each transaction once and answers with the original ids)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from backend.config import PROJECT_ROOT
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.devservices.temporal import free_port
from backend.intake.routing import IntakeRouter
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


def _start_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:create_app", "--factory", "--port", str(port)]
        + ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _wait_healthy(base_url: str) -> None:
    # Up to three minutes: a loaded CI machine starts a Python process with the whole app slowly.
    async with httpx.AsyncClient(base_url=base_url) as probe:
        for _ in range(1800):
            try:
                if (await probe.get("/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the API did not start")


async def _stored_by_transaction(database: Database, client_id: str) -> dict[str, uuid.UUID]:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        rows = await session.execute(
            select(IntakeNotification.transaction_id, IntakeNotification.id).where(
                IntakeNotification.client_id == client_id
            )
        )
        return {row[0]: row[1] for row in rows.all()}


@pytest.mark.timeout(600)
async def test_killing_the_api_mid_batch_then_resending_blindly_stores_each_item_once(
    county: County,
    make_client: MakeClient,
    database: Database,
    subprocess_env: dict[str, str],
    router: IntakeRouter,
) -> None:
    police = await make_client("police")
    batches = [[residence(county.code) for _ in range(300)] for _ in range(4)]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": police.http.headers["Authorization"]}
    api = _start_api(subprocess_env, port)
    try:
        await _wait_healthy(base_url)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
            sends = [
                asyncio.create_task(client.post("/api/v1/notifications:batch", json={"notifications": batch}))
                for batch in batches
            ]
            await asyncio.sleep(0.3)
            os.killpg(api.pid, signal.SIGKILL)  # mid-request: some batches committed, others not
            api.wait(timeout=30)
            outcomes = await asyncio.gather(*sends, return_exceptions=True)
    finally:
        if api.poll() is None:
            os.killpg(api.pid, signal.SIGKILL)
    stored = await _stored_by_transaction(database, police.client_id)
    for batch in batches:  # each batch all or nothing: nothing half-written
        present = [item["transaction_id"] in stored for item in batch]
        assert all(present) or not any(present)
    acknowledged = [outcome for outcome in outcomes if isinstance(outcome, httpx.Response)]
    assert all(response.status_code == 202 for response in acknowledged)

    api = _start_api(subprocess_env, port)
    try:
        await _wait_healthy(base_url)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
            resent = [await client.post("/api/v1/notifications:batch", json={"notifications": b}) for b in batches]
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=30)
    assert [response.status_code for response in resent] == [202] * len(batches)
    stored = await _stored_by_transaction(database, police.client_id)
    assert len(stored) == 300 * len(batches)
    for response in [*acknowledged, *resent]:
        for item in response.json()["accepted"]:
            assert stored[item["transaction_id"]] == uuid.UUID(item["id"])  # replays answer the original id

    await router.drain()
    assert await _routed(database, list(stored.values())) == 300 * len(batches)
