"""Permission dependencies of the ledger: officers who may see identifiers keep it, supervisors approve destruction."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

LedgerKeep = Annotated[Principal, Depends(Require(Action.person_read_identifiers))]
LedgerDestroy = Annotated[Principal, Depends(Require(Action.case_assign))]
