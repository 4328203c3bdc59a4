"""Permission dependencies of the supervision routes. The unit (a cockpit's, a report's) is checked in the
service once it is known: 404 outside the caller's reach."""

from typing import Annotated

from fastapi import Depends

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action

ReportsRead = Annotated[Principal, Depends(Require(Action.report_read))]
ReportsPublish = Annotated[Principal, Depends(Require(Action.report_publish))]
KpiConfigure = Annotated[Principal, Depends(Require(Action.kpi_configure))]
KpiOverview = Annotated[Principal, Depends(Require(Action.kpi_overview))]
AssessmentsRead = Annotated[Principal, Depends(Require(Action.assessment_read))]
AssessmentsManage = Annotated[Principal, Depends(Require(Action.assessment_manage))]
AssessmentsContest = Annotated[Principal, Depends(Require(Action.assessment_contest))]
