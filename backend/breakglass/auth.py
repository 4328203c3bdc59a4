from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Authenticated, Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

BreakGlassRequester = Annotated[Principal, Depends(Require(Action.breakglass_request))]

__all__ = ["Authenticated", "BreakGlassRequester"]
