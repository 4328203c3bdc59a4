"""Permission dependencies of the county settings: administrators read and change them."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

SettingsManage = Annotated[Principal, Depends(Require(Action.config_manage))]
