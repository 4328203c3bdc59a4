"""Permission dependencies of the agreement routes: agreements are kept with documents, under the same actions
(the object check is then on the agreement's unit)."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

AgreementRead = Annotated[Principal, Depends(Require(Action.document_read))]
AgreementWrite = Annotated[Principal, Depends(Require(Action.document_write))]
