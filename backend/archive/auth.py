"""Permission dependencies of the yearly archive: county administrators and supervisors."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ArchiveManage = Annotated[Principal, Depends(Require(Action.archive_manage))]
