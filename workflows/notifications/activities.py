"""Activities of NotificationDeliveryWorkflow.

`send`: in one short transaction mark the row `sending` and build what to send; send outside any transaction;
in another mark it `sent` (or record the error and raise, so Temporal retries with backoff). A row already
`sent` is not sent again (a retried activity or a repeated workflow after a crash). A row found `sending` means
an earlier attempt died between the two transactions: it is sent again with the same idempotency key
(at-least-once; see backend/notifications/delivery/service.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.core.outbound import OutboundPolicy
from backend.db.engine import Database
from backend.notifications.delivery import service as delivery_service
from backend.notifications.delivery.channels import ChannelError
from backend.notifications.delivery.settings import not_configured
from backend.notifications.errors import NotificationNotFound
from workflows.notifications.types import DeliveryFailedInput, DeliveryInput
from workflows.transactions import county_transaction

log = logging.getLogger(__name__)


class DeliveryActivities:
    def __init__(self, database: Database, policy: OutboundPolicy | None = None) -> None:
        self.database = database
        self.policy = policy or OutboundPolicy()

    def _transaction(self, delivery: DeliveryInput | DeliveryFailedInput) -> Any:
        return county_transaction(self.database, delivery.tenant_id, not_found=NotificationNotFound)

    @activity.defn(name="notifications.send")
    async def send(self, delivery: DeliveryInput) -> str:
        actor_var.set(SYSTEM_ACTOR)
        async with self._transaction(delivery) as session:
            job = await delivery_service.begin_send(session, delivery.delivery_id, self.policy)
        if job is None:
            return "already sent"
        if job.resent:
            log.info("delivery resent after an interrupted attempt", extra={"delivery_id": str(delivery.delivery_id)})
        try:
            if job.driver is None:
                raise ChannelError(not_configured(job.channel))
            receipt = await job.driver.send(job.message, job.recipient)
        except ChannelError as error:
            async with self._transaction(delivery) as session:
                await delivery_service.record_error(session, job.delivery_ids, error.reason)
            raise ApplicationError(error.reason, type="ChannelError") from None
        async with self._transaction(delivery) as session:
            await delivery_service.mark_sent(session, job.delivery_ids)
        return receipt

    @activity.defn(name="notifications.mark_failed")
    async def mark_failed(self, failed: DeliveryFailedInput) -> None:
        actor_var.set(SYSTEM_ACTOR)
        async with self._transaction(failed) as session:
            await delivery_service.mark_failed(session, failed.delivery_id, failed.reason)

    @property
    def all(self) -> list[Callable[..., Any]]:
        return [self.send, self.mark_failed]
