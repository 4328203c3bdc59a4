"""Permission dependencies of the certificate routes: certificates are part of a person's record, so they use the
person permissions (the object check is then on the record's unit)."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

PersonRead = Annotated[Principal, Depends(Require(Action.person_read))]
PersonWrite = Annotated[Principal, Depends(Require(Action.person_write))]
