from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

VerificationSend = Annotated[Principal, Depends(Require(Action.verification_request))]
VerificationAnswer = Annotated[Principal, Depends(Require(Action.verification_answer))]
VerificationAssign = Annotated[Principal, Depends(Require(Action.case_assign))]
