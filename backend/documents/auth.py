"""Permission dependencies of the document routes (the object check is then on the owner's unit)."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

DocumentRead = Annotated[Principal, Depends(Require(Action.document_read))]
DocumentWrite = Annotated[Principal, Depends(Require(Action.document_write))]
DocumentDestroy = Annotated[Principal, Depends(Require(Action.document_destroy))]
