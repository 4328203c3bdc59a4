from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

TenantsProvision = Annotated[Principal, Depends(Require(Action.tenant_provision))]
