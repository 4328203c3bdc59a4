"""The worker as operators run it (`python -m workflows.worker`, a process of its own) against a real Temporal
dev server: a case opened and acted on through the API reaches its workflow through the outbox relay; the
worker killed with SIGKILL in the middle of the case and started again finishes the case with every side
effect exactly once, also with two worker processes (two relays) running side by side; SIGTERM shuts it down
cleanly; and the case timeline merges the audit events with the real workflow history, with who sent each
action."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client

from backend.authz.vocabulary import Role
from backend.config import PROJECT_ROOT
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.devservices import postgres
from backend.devservices import temporal as temporal_dev
from backend.models import AuditEvent
from tests.fixtures.database import TenantFactory, park_background_work
from tests.fixtures.identity import County, SignIn, add_user, build_county
from workflows.cases.types import case_workflow_id

# A bound, not a pace: on a loaded machine with parallel test workers a worker process takes its time.
WAIT_SECONDS = 240.0


class WorkerProcess:
    """Starts, kills and stops `python -m workflows.worker` with the test database and Temporal server."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workflows.worker"],
            cwd=PROJECT_ROOT,
            env={**self.env, "LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        """No goodbye: the process dies wherever it is, the way a crashed or OOM-killed worker does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
async def worker_process(subprocess_env: dict[str, str]) -> AsyncIterator[WorkerProcess]:
    worker = WorkerProcess(subprocess_env)
    yield worker
    worker.stop_quietly()


@pytest.fixture
async def worker_on_its_own_server(subprocess_env: dict[str, str]) -> AsyncIterator[WorkerProcess]:
    """A worker on a Temporal dev server of its own: workflows that earlier tests left on the shared server's
    task queues (their workers killed or stopped mid-task) cannot compete with this test's case."""
    port = temporal_dev.free_port()
    server = temporal_dev.start_dev_server(port=port)
    try:
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        worker = WorkerProcess({**subprocess_env, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}"})
        yield worker
        worker.stop_quietly()
    finally:
        temporal_dev.stop(server)


@pytest.fixture
async def two_workers_on_their_own_server(subprocess_env: dict[str, str]) -> AsyncIterator[list[WorkerProcess]]:
    """Two worker processes (two relays, two intake routers, two case workers) on one Temporal dev server of
    their own, as operators scale the worker out."""
    port = temporal_dev.free_port()
    server = temporal_dev.start_dev_server(port=port)
    try:
        temporal_dev.wait_until_ready(f"127.0.0.1:{port}")
        env = {**subprocess_env, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}"}
        workers = [WorkerProcess(env), WorkerProcess(env)]
        yield workers
        for worker in workers:
            worker.stop_quietly()
    finally:
        temporal_dev.stop(server)


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory, database_urls: postgres.DatabaseUrls) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    # The worker drains every county's outbox and every waiting notification: only this test's work remains.
    await park_background_work(database_urls, county.tenant.id)
    return county


async def _eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _act(officer: httpx.AsyncClient, case_id: str, **action: Any) -> str:
    version = (await officer.get(f"/api/v1/cases/{case_id}")).json()["version"]
    response = await officer.post(f"/api/v1/cases/{case_id}/actions", json={"version": version, **action})
    assert response.status_code == 202, response.text
    return str(response.json()["request_id"])


async def _done(officer: httpx.AsyncClient, case_id: str, request_id: str) -> None:
    async def finished() -> bool:
        body = (await officer.get(f"/api/v1/cases/{case_id}/actions/{request_id}")).json()
        assert body["status"] != "rejected", body
        return body["status"] == "done"

    await _eventually(finished, f"action {request_id}")


async def _audit_actions(database: Database, county: County, case_id: str) -> Counter[str]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(AuditEvent.action).where(AuditEvent.entity_type == "case", AuditEvent.entity_id == case_id)
        return Counter((await session.execute(statement)).scalars().all())


async def test_a_killed_worker_restarts_and_finishes_the_case_with_each_side_effect_once(
    county: County, sign_in: SignIn, database: Database, worker_on_its_own_server: WorkerProcess
) -> None:
    worker_process = worker_on_its_own_server
    officer = await sign_in(county, "officer")
    opened = await officer.post(
        "/api/v1/cases", json={"case_type": "first_child_registration", "org_unit_code": county.units["v11"]}
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]

    worker_process.start()
    await _done(officer, case_id, await _act(officer, case_id, action="advance"))
    assert (await officer.get(f"/api/v1/cases/{case_id}")).json()["stage"] == "verification"

    # The second action is accepted by the API and the worker dies while it is being relayed or applied.
    in_flight = await _act(officer, case_id, action="advance")
    await asyncio.sleep(0.3)
    worker_process.kill()
    worker_process.start()
    await _done(officer, case_id, in_flight)
    await _done(officer, case_id, await _act(officer, case_id, action="advance"))
    await _done(officer, case_id, await _act(officer, case_id, action="advance"))
    await _done(officer, case_id, await _act(officer, case_id, action="close", outcome="registered"))

    case = (await officer.get(f"/api/v1/cases/{case_id}")).json()
    assert (case["stage"], case["status"], case["outcome"]) == ("closed", "done", "registered")
    actions = await _audit_actions(database, county, case_id)
    assert actions["case.action_requested"] == 5
    assert actions["case.advance"] == 4, actions
    assert actions["case.close"] == 1, actions

    assert worker_process.terminate() == 0  # SIGTERM: running tasks finish, the process exits cleanly


async def test_two_workers_one_killed_mid_action_finish_the_case_with_each_side_effect_once(
    county: County, sign_in: SignIn, database: Database, two_workers_on_their_own_server: list[WorkerProcess]
) -> None:
    first, second = two_workers_on_their_own_server
    officer = await sign_in(county, "officer")
    opened = [
        await officer.post(
            "/api/v1/cases", json={"case_type": "first_child_registration", "org_unit_code": county.units["v11"]}
        )
        for _ in range(3)
    ]
    assert [response.status_code for response in opened] == [201] * 3, [response.text for response in opened]
    case_ids = [response.json()["id"] for response in opened]

    first.start()
    second.start()
    # Every case's first action goes through one of the two relays, whichever claims it.
    for request_id, case_id in [(await _act(officer, case_id, action="advance"), case_id) for case_id in case_ids]:
        await _done(officer, case_id, request_id)

    # Second actions accepted, and one worker dies at once, whatever it was relaying or applying; it comes back.
    in_flight = [(await _act(officer, case_id, action="advance"), case_id) for case_id in case_ids]
    first.kill()
    first.start()
    for request_id, case_id in in_flight:
        await _done(officer, case_id, request_id)
    for case_id in case_ids:
        await _done(officer, case_id, await _act(officer, case_id, action="advance"))
        await _done(officer, case_id, await _act(officer, case_id, action="advance"))
        await _done(officer, case_id, await _act(officer, case_id, action="close", outcome="registered"))

    for case_id in case_ids:
        case = (await officer.get(f"/api/v1/cases/{case_id}")).json()
        assert (case["stage"], case["status"], case["outcome"]) == ("closed", "done", "registered")
        actions = await _audit_actions(database, county, case_id)
        assert actions["case.action_requested"] == 5, actions
        assert actions["case.advance"] == 4, actions
        assert actions["case.close"] == 1, actions
    temporal = await Client.connect(first.env["TEMPORAL_ADDRESS"])
    for case_id in case_ids:
        workflow_id = case_workflow_id(county.code, case_id)
        runs = [execution async for execution in temporal.list_workflows(f'WorkflowId = "{workflow_id}"')]
        assert len(runs) == 1, workflow_id
    # The worker that ran throughout shuts down cleanly (the restarted one may still be starting up on a loaded
    # machine, its signal handlers not installed yet: the fixture stops it).
    assert second.terminate() == 0


async def test_the_timeline_merges_audit_events_with_the_real_workflow_history(
    county: County, sign_in: SignIn, worker_process: WorkerProcess
) -> None:
    officer = await sign_in(county, "officer")
    case_id = (
        await officer.post(
            "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
        )
    ).json()["id"]
    worker_process.start()
    await _done(officer, case_id, await _act(officer, case_id, action="advance"))
    await _done(officer, case_id, await _act(officer, case_id, action="close", outcome="registered"))

    async def completed_timeline() -> dict[str, Any] | None:
        body: dict[str, Any] = (await officer.get(f"/api/v1/cases/{case_id}/timeline")).json()
        kinds = {entry["kind"] for entry in body["entries"]}
        return body if "workflow_execution_completed" in kinds else None

    timeline = await _eventually(completed_timeline, "the workflow to complete")

    assert timeline["workflow_history_available"] is True
    entries = timeline["entries"]
    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)
    kinds = [entry["kind"] for entry in entries]
    assert kinds.index("case.open") < kinds.index("workflow_execution_started") < kinds.index("case.close")
    updates = [entry for entry in entries if entry["kind"] == "workflow_execution_update_accepted"]
    assert [update["details"]["action"] for update in updates] == ["advance", "close"]
    assert {update["actor"] for update in updates} == {"officer (officer)"}
    activities = {entry["details"]["activity"] for entry in entries if entry["kind"] == "activity_task_scheduled"}
    assert activities, "the activities that wrote the case state appear in the timeline"
    assert {entry["source"] for entry in entries} == {"audit", "workflow"}


async def test_the_worker_process_serves_liveness_metrics_and_sdk_metrics(
    subprocess_env: dict[str, str], county: County
) -> None:
    ports = {"WORKER_METRICS_PORT": temporal_dev.free_port(), "WORKER_SDK_METRICS_PORT": temporal_dev.free_port()}
    worker = WorkerProcess({**subprocess_env, **{name: str(port) for name, port in ports.items()}})
    worker.start()
    try:
        async with httpx.AsyncClient(timeout=5) as client:

            async def answers(url: str) -> httpx.Response | None:
                try:
                    response = await client.get(url)
                except httpx.TransportError:
                    return None
                return response if response.status_code == 200 else None

            own = f"http://127.0.0.1:{ports['WORKER_METRICS_PORT']}"
            assert (await _eventually(lambda: answers(f"{own}/healthz"), "the worker's /healthz")).text == "ok\n"
            metrics = (await _eventually(lambda: answers(f"{own}/metrics"), "the worker's /metrics")).text
            assert f'liuguan_cases_open{{county="{county.code}"}} 0.0' in metrics
            sdk = f"http://127.0.0.1:{ports['WORKER_SDK_METRICS_PORT']}/metrics"
            assert "temporal_" in (await _eventually(lambda: answers(sdk), "the SDK's metrics")).text
        assert worker.terminate() == 0
    finally:
        worker.stop_quietly()
