"""The receivers (a real SMTP server, the gateway and robot stub) and the outbound policy that lets the drivers
reach them on loopback (as an operator allows a county network)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from backend.authz.vocabulary import Role
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.core.outbox import OutboxKind
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.notifications import service as notifications
from backend.notifications.schemas import NotificationEvent, NotificationKind
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, add_user, build_county
from workflows.notifications.types import delivery_workflow_id
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import case_handlers
from workflows.worker import build_case_worker

LOOPBACK = OutboundPolicy.of(allow_http=True, allowed_networks=["127.0.0.0/8"])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with GatewayStub() as stub:
        yield stub


@pytest.fixture
def loopback_policy() -> Iterator[OutboundPolicy]:
    """The API checks the county's URLs against a policy that allows loopback (where the stubs listen)."""
    install_outbound_policy(LOOPBACK)
    yield LOOPBACK
    install_outbound_policy(None)


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory, name="投递县")
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "quiet", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "sup", "t1", [(Role.township_supervisor, "t1")])
    return county


def channel_settings(smtp: SmtpServer, gateway: GatewayStub, *, token: str = "gateway-token") -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_sender": "liuguan@county.example.cn",
        "sms_url": gateway.url("/sms"),
        "sms_token": token,
    }


async def notify(database: Database, county: County, username: str, count: int = 1, *, tag: str = "t") -> None:
    """`count` case-assigned notifications for one user, each its own event, in one transaction."""
    actor_var.set(SYSTEM_ACTOR)
    user = county.users[username]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        for number in range(count):
            case_number = f"LG-2026-{number:06d}"
            await notifications.notify(
                session,
                NotificationEvent(
                    kind=NotificationKind.case_assigned,
                    tenant_id=county.tenant.id,
                    unit_code=county.units["t1"],
                    assignee_id=user.id,
                    reference=case_number,
                    title=f"案件{case_number}已分配给您 / case {case_number} was assigned to you",
                    link=f"/cases/{uuid.uuid4()}",
                    dedup_key=f"test:{tag}:{username}:{number}",
                ),
            )


@dataclass
class DeliveryWork:
    """The outbox relay (delivery starts) and a case worker with the delivery activities, on the time-skipping
    test server (retry backoffs and quiet hours pass at once)."""

    env: WorkflowEnvironment
    relay: OutboxRelay

    async def drain(self, county: County) -> None:
        while await self.relay.process_county(county.tenant.id):
            pass

    async def finish(self, idempotency_key: str, round_: int = 0, *, skip: timedelta = timedelta(hours=2)) -> str:
        """The delivery workflow's outcome; the test server's clock is moved past every retry first."""
        await self.env.sleep(skip)
        handle = self.env.client.get_workflow_handle(delivery_workflow_id(idempotency_key, round_))
        return str(await handle.result())


@pytest.fixture
async def delivery_work(database: Database, time_skipping_env: WorkflowEnvironment) -> AsyncIterator[DeliveryWork]:
    client = time_skipping_env.client
    task_queue = f"delivery-{uuid.uuid4()}"
    relay = OutboxRelay(
        database,
        {
            OutboxKind.notification_deliver: case_handlers(client, task_queue=task_queue)[
                OutboxKind.notification_deliver
            ]
        },
    )
    async with build_case_worker(client, database, task_queue=task_queue, delivery_policy=LOOPBACK):
        yield DeliveryWork(time_skipping_env, relay)
