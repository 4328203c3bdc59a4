from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

CasesRead = Annotated[Principal, Depends(Require(Action.case_read))]
CasesWrite = Annotated[Principal, Depends(Require(Action.case_write))]
CasesAssign = Annotated[Principal, Depends(Require(Action.case_assign))]
