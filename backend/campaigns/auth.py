"""Permission dependencies of the campaign routes: planning for townships and the county, work lists and findings
as service records in the caller's subtrees."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

CampaignPlan = Annotated[Principal, Depends(Require(Action.campaign_plan))]
ServiceRead = Annotated[Principal, Depends(Require(Action.service_read))]
ServiceWrite = Annotated[Principal, Depends(Require(Action.service_write))]
