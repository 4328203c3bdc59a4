"""Permission dependencies of the intake routes (the two submit routes check theirs in
backend/intake/transaction.py). A department client's transaction carries `app.api_client`
(set when its token is checked, backend/clients/service.py): the notification tables' row-level policy shows
a client its own rows only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.intake.ratelimit import enforce_rate_limit


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
