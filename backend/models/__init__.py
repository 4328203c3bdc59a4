"""All ORM models, one file per aggregate. Importing this package registers every table on Base.metadata."""

from backend.models.audit_event import AuditChainHead, AuditEvent
from backend.models.calendar_day import CountyHoliday, OfficialCalendarDay, OfficialCalendarYear
from backend.models.campaign import (
    Campaign,
    CampaignFinding,
    CampaignItem,
    CampaignKind,
    CampaignStatus,
    CampaignUnit,
)
from backend.models.case import (
    Case,
    CaseAlert,
    CaseCounter,
    CaseLink,
    CaseOutcome,
    CasePriority,
    CaseStage,
    CaseStatus,
    CaseSubject,
    CaseTypeConfig,
)
from backend.models.certificate import Certificate, CertificateInspection, CertificateStatus, InspectionResult
from backend.models.check import (
    CheckPlace,
    CheckResult,
    CheckRound,
    CheckRoundStatus,
    GynaecologyFinding,
    IudFinding,
    PregnancyFinding,
)
from backend.models.complaint import Complaint, ComplaintChannel, ComplaintKind
from backend.models.contraceptive import (
    ContraceptiveProduct,
    DistributionPoint,
    DistributionPointKind,
    MovementKind,
    StockMovement,
)
from backend.models.county_setting import CountySetting
from backend.models.document import (
    Agreement,
    AgreementKind,
    Document,
    DocumentKind,
    DocumentOwnerKind,
    IssuedDocument,
    IssuedDocumentKind,
    IssuedDocumentStatus,
)
from backend.models.followup import FollowUpVisit, VisitMethod
from backend.models.free_service import CostBearer, FreeService, FreeServiceItem
from backend.models.housing import BusinessType, Employer, Occupancy, OccupancyKind, RentalHouse
from backend.models.identity import ApiClient, BreakGlassGrant, RoleGrant, RoleGrantRequest, User, UserSession
from backend.models.info_query import InfoQuery
from backend.models.intake import (
    DeliveryStatus,
    IntakeNotification,
    IntakeTriage,
    NotificationStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from backend.models.notification import Notification
from backend.models.notification_delivery import DeliverySettings, NotificationDelivery, NotificationPreference
from backend.models.org_unit import OrgUnit, OrgUnitKind
from backend.models.outbox import OutboxMessage
from backend.models.person import (
    ContraceptionMeasure,
    FlowDirection,
    MaritalStatus,
    Person,
    PersonChild,
    PersonStatus,
    Sex,
)
from backend.models.report import (
    Assessment,
    AssessmentContest,
    AssessmentScheme,
    KpiCountyMonth,
    KpiTarget,
    StatisticalReport,
)
from backend.models.reward import RewardApplication, RewardPayment
from backend.models.signoff import CaseSignoff
from backend.models.submission import FormSubmission
from backend.models.tenant import Tenant
from backend.models.verification import (
    OPEN_STATES,
    REPLIED_STATES,
    Channel,
    QuestionType,
    VerificationAlert,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)

__all__ = [
    "DeliverySettings",
    "NotificationDelivery",
    "NotificationPreference",
    "FormSubmission",
    "CostBearer",
    "FreeService",
    "FreeServiceItem",
    "Campaign",
    "CampaignFinding",
    "CampaignItem",
    "CampaignKind",
    "CampaignStatus",
    "CampaignUnit",
    "BusinessType",
    "Employer",
    "Occupancy",
    "OccupancyKind",
    "RentalHouse",
    "ContraceptiveProduct",
    "DistributionPoint",
    "DistributionPointKind",
    "MovementKind",
    "StockMovement",
    "CheckPlace",
    "CheckResult",
    "CheckRound",
    "CheckRoundStatus",
    "GynaecologyFinding",
    "IudFinding",
    "PregnancyFinding",
    "FollowUpVisit",
    "VisitMethod",
    "CaseSignoff",
    "Complaint",
    "ComplaintChannel",
    "ComplaintKind",
    "InfoQuery",
    "CountySetting",
    "RewardApplication",
    "RewardPayment",
    "OPEN_STATES",
    "REPLIED_STATES",
    "Channel",
    "QuestionType",
    "VerificationAlert",
    "VerificationKind",
    "VerificationRequest",
    "VerificationState",
    "Agreement",
    "AgreementKind",
    "Document",
    "DocumentKind",
    "DocumentOwnerKind",
    "IssuedDocument",
    "IssuedDocumentKind",
    "IssuedDocumentStatus",
    "Case",
    "CaseAlert",
    "OutboxMessage",
    "CaseCounter",
    "CaseLink",
    "CaseOutcome",
    "CasePriority",
    "CaseStage",
    "CaseStatus",
    "CaseSubject",
    "CaseTypeConfig",
    "Certificate",
    "CertificateInspection",
    "CertificateStatus",
    "InspectionResult",
    "ContraceptionMeasure",
    "FlowDirection",
    "MaritalStatus",
    "Person",
    "PersonChild",
    "PersonStatus",
    "Sex",
    "CountyHoliday",
    "OfficialCalendarDay",
    "OfficialCalendarYear",
    "ApiClient",
    "BreakGlassGrant",
    "RoleGrant",
    "RoleGrantRequest",
    "User",
    "UserSession",
    "AuditChainHead",
    "AuditEvent",
    "Notification",
    "OrgUnit",
    "OrgUnitKind",
    "Tenant",
    "Assessment",
    "AssessmentContest",
    "AssessmentScheme",
    "KpiCountyMonth",
    "KpiTarget",
    "StatisticalReport",
    "DeliveryStatus",
    "IntakeNotification",
    "IntakeTriage",
    "NotificationStatus",
    "WebhookDelivery",
    "WebhookSubscription",
]
