"""Permission dependencies of the follow-up routes: service records in the caller's subtrees; the county's rules
for its administrators."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ServiceRead = Annotated[Principal, Depends(Require(Action.service_read))]
ServiceWrite = Annotated[Principal, Depends(Require(Action.service_write))]
RulesConfigure = Annotated[Principal, Depends(Require(Action.config_manage))]
