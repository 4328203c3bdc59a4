"""Permission dependencies of the reward routes: case workers apply and record payments, case readers read."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

RewardsRead = Annotated[Principal, Depends(Require(Action.case_read))]
RewardsWrite = Annotated[Principal, Depends(Require(Action.case_write))]
