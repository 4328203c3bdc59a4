from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Authenticated, Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

UsersManage = Annotated[Principal, Depends(Require(Action.users_manage))]

__all__ = ["Authenticated", "UsersManage"]
