"""Permission dependencies of the registry routes. Object-level checks (the person's unit) happen in the
service through backend.authz.service.authorize_unit; these only refuse callers who hold the action nowhere."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

PersonsRead = Annotated[Principal, Depends(Require(Action.person_read))]
PersonsWrite = Annotated[Principal, Depends(Require(Action.person_write))]
# Exports of the registry share the registers' permission (台账导出).
PersonsExport = Annotated[Principal, Depends(Require(Action.register_export))]
