"""Permission dependencies of the intake routes. Department clients also get `app.api_client` set on their
transaction: the notification tables' row-level policy shows a client its own rows only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.db.session import SessionDep
from backend.db.tenancy import set_api_client
from backend.intake.ratelimit import enforce_rate_limit


async def _client_context(session: SessionDep, principal: Principal) -> Principal:
    if principal.kind == "api_client":
        await set_api_client(session, principal.id)
    return principal


async def intake_submit(
    request: Request, session: SessionDep, principal: Annotated[Principal, Depends(Require(Action.intake_submit))]
) -> Principal:
    enforce_rate_limit(principal.id, request.app.state.settings)
    return await _client_context(session, principal)


async def intake_read_status(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(Require(Action.intake_read_status))],
) -> Principal:
    enforce_rate_limit(principal.id, request.app.state.settings)
    return await _client_context(session, principal)


IntakeSubmit = Annotated[Principal, Depends(intake_submit)]
IntakeReadStatus = Annotated[Principal, Depends(intake_read_status)]
TriageRead = Annotated[Principal, Depends(Require(Action.case_read))]
TriageWrite = Annotated[Principal, Depends(Require(Action.case_write))]
# The holding queue, the dead-letter list and the instance-wide reconciliation are the platform operator's.
IntakeOperate = Annotated[Principal, Depends(Require(Action.tenant_provision))]
