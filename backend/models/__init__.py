"""All ORM models, one file per aggregate. Importing this package registers every table on Base.metadata."""

from backend.models.audit_event import AuditChainHead, AuditEvent
from backend.models.calendar_day import CountyHoliday, OfficialCalendarDay, OfficialCalendarYear
from backend.models.identity import ApiClient, BreakGlassGrant, RoleGrant, User, UserSession
from backend.models.org_unit import OrgUnit, OrgUnitKind
from backend.models.tenant import Tenant

__all__ = [
    "CountyHoliday",
    "OfficialCalendarDay",
    "OfficialCalendarYear",
    "ApiClient",
    "BreakGlassGrant",
    "RoleGrant",
    "User",
    "UserSession",
    "AuditChainHead",
    "AuditEvent",
    "OrgUnit",
    "OrgUnitKind",
    "Tenant",
]
