"""Permission dependencies of the complaint routes: case workers record and answer, case readers read."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ComplaintsRead = Annotated[Principal, Depends(Require(Action.case_read))]
ComplaintsWrite = Annotated[Principal, Depends(Require(Action.case_write))]
