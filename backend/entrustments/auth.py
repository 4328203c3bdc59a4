"""Permission dependencies of entrustment: the case's workers send it, the receiving township's workers decide it
(both need case.write; the service checks the township on the object)."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

EntrustmentWrite = Annotated[Principal, Depends(Require(Action.case_write))]
