"""The worker's liveness and metrics: /healthz follows its parts, /metrics carries the instance figures, the
Temporal SDK publishes workflow task latency and activity failures, and every metric the chart's example
alerts use is one that the api, the worker or the SDK really exports."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
from prometheus_client import REGISTRY
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from backend.db.engine import Database
from backend.devservices.temporal import free_port
from tests.infra import chart
from workflows.observability import WorkerHealth, sdk_runtime, serve_worker_http

_attempts: dict[str, int] = {}


@activity.defn
async def flaky(key: str) -> str:
    """Fails on its first attempt, as a department's server that hiccups does."""
    _attempts[key] = _attempts.get(key, 0) + 1
    if _attempts[key] == 1:
        raise RuntimeError("first attempt fails")
    return "done"


@workflow.defn
class FlakyWorkflow:
    @workflow.run
    async def run(self, key: str) -> str:
        return await workflow.execute_activity(
            flaky,
            key,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)),
        )


async def test_healthz_follows_the_workers_parts_and_metrics_carry_the_instance_figures(database: Database) -> None:
    health = WorkerHealth()
    part = asyncio.get_running_loop().create_future()
    health.watch_task("outbox relay", part)
    port = free_port()
    server = await serve_worker_http(database, health, port, host="127.0.0.1")
    assert server is not None
    try:
        # The metrics read the database: on a loaded machine that takes longer than httpx's 5 s default.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            assert (await client.get("/healthz")).status_code == 200
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200
            assert "# TYPE liuguan_cases_open gauge" in metrics.text
            assert "# TYPE liuguan_outbox_oldest_pending_age_seconds gauge" in metrics.text
            part.set_result(None)  # the relay stopped: the worker is no longer alive
            dead = await client.get("/healthz")
            assert dead.status_code == 503 and "outbox relay" in dead.text
            assert (await client.get("/elsewhere")).status_code == 404
    finally:
        server.close()


async def _sdk_metric_names(temporal_address: str) -> set[str]:
    port = free_port()
    runtime = sdk_runtime(port, host="127.0.0.1")
    client = await Client.connect(temporal_address, data_converter=pydantic_data_converter, runtime=runtime)
    queue = f"observability-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[FlakyWorkflow],
        activities=[flaky],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        key = uuid.uuid4().hex
        result = await client.execute_workflow(FlakyWorkflow.run, key, id=f"flaky-{key}", task_queue=queue)
        assert result == "done" and _attempts[key] == 2
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    return set(re.findall(r"^([a-z_]+?)(?:_bucket|_sum|_count)?(?:\{| )", text, re.MULTILINE))


async def test_the_sdk_publishes_workflow_task_latency_and_activity_failures(temporal_address: str) -> None:
    names = await _sdk_metric_names(temporal_address)
    assert "temporal_workflow_task_schedule_to_start_latency" in names
    assert "temporal_activity_execution_failed" in names
    assert "temporal_activity_execution_latency" in names


async def test_every_metric_the_example_alerts_use_is_exported(temporal_address: str) -> None:
    exported = {metric.name for metric in REGISTRY.collect()}
    exported |= {f"{metric.name}_total" for metric in REGISTRY.collect() if metric.type == "counter"}
    exported |= await _sdk_metric_names(temporal_address)
    (rule,) = chart.by_kind("PrometheusRule")
    expressions = [alert["expr"] for group in rule["spec"]["groups"] for alert in group["rules"]]
    used = {
        name
        for expression in expressions
        for name in re.findall(r"\b((?:liuguan|temporal|http)_[a-z_]+)\b", str(expression))
    }
    assert used and used <= exported, used - exported
