"""Permission dependencies of the register routes. Exports additionally need register.export over the unit,
checked in the service once the unit is known."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

RegistersRead = Annotated[Principal, Depends(Require(Action.person_read))]
