"""Permission dependencies of the data review: who reads persons sees the entries of her subtree (a coordinator
reads why hers were sent back); officers and supervisors above the village confirm or reject them."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

EntriesRead = Annotated[Principal, Depends(Require(Action.person_read))]
EntriesConfirm = Annotated[Principal, Depends(Require(Action.entry_confirm))]
