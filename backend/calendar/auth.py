from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Authenticated, Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ConfigManage = Annotated[Principal, Depends(Require(Action.config_manage))]
PlatformProvision = Annotated[Principal, Depends(Require(Action.tenant_provision))]

__all__ = ["Authenticated", "ConfigManage", "PlatformProvision"]
