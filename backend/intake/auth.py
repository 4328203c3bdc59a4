"""Permission dependencies of the intake routes, and the lean transaction of the two submit routes.

A department client's transaction carries `app.api_client` (set when its token is checked,
backend/clients/service.py): the notification tables' row-level policy shows a client its own rows only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from backend.auth.client_transaction import client_transaction
from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.intake.ratelimit import enforce_rate_limit
from backend.intake.repository import NotificationIntake


async def intake_read_status(
    request: Request,
    principal: Annotated[Principal, Depends(Require(Action.intake_read_status))],
) -> Principal:
    enforce_rate_limit(principal.id, request.app.state.settings)
    return principal


IntakeReadStatus = Annotated[Principal, Depends(intake_read_status)]
TriageRead = Annotated[Principal, Depends(Require(Action.case_read))]
TriageWrite = Annotated[Principal, Depends(Require(Action.case_write))]
# The holding queue, the dead-letter list and the instance-wide reconciliation are the platform operator's.
IntakeOperate = Annotated[Principal, Depends(Require(Action.tenant_provision))]


@asynccontextmanager
async def submit_transaction(request: Request) -> AsyncIterator[tuple[NotificationIntake, Principal]]:
    """The submitting client (`intake.submit`, within its rate limit) and the notification store, on the lean
    transaction of backend/auth/client_transaction.py: committed when the block ends without an error (before
    the response is sent), rolled back otherwise. The routes declare the permission with `@declares`."""
    async with client_transaction(request, Action.intake_submit) as (connection, principal):
        enforce_rate_limit(principal.id, request.app.state.settings)
        yield NotificationIntake(connection), principal
