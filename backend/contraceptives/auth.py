"""Permission dependencies of the contraceptive routes: service records read and written in the caller's subtrees."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ServiceRead = Annotated[Principal, Depends(Require(Action.service_read))]
ServiceWrite = Annotated[Principal, Depends(Require(Action.service_write))]
