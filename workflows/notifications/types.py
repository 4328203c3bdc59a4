"""The contract between the outbox (`notification.deliver`) and NotificationDeliveryWorkflow. Plain pydantic."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

DELIVERY_WORKFLOW = "NotificationDeliveryWorkflow"


def delivery_workflow_id(idempotency_key: str, round_: int) -> str:
    """One workflow per delivery and round (the admin's retry is a new round); a repeated start is a no-op."""
    return f"delivery:{idempotency_key}:{round_}"


class DeliveryInput(BaseModel):
    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    due_at: datetime


class DeliveryFailedInput(BaseModel):
    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    reason: str
