"""Permission dependencies of the case-type routes: anyone working cases reads them, an administrator changes them."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

CaseTypesRead = Annotated[Principal, Depends(Require(Action.case_read))]
CaseTypesConfigure = Annotated[Principal, Depends(Require(Action.config_manage))]
