"""Permission dependencies of the case-type routes: anyone working cases reads them, an administrator changes them
(and reads what she changes)."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require, RequireAny
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

CaseTypesRead = Annotated[Principal, Depends(RequireAny(Action.case_read, Action.config_manage))]
CaseTypesConfigure = Annotated[Principal, Depends(Require(Action.config_manage))]
