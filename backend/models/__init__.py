"""All ORM models, one file per aggregate. Importing this package registers every table on Base.metadata."""

from backend.models.audit_event import AuditChainHead, AuditEvent
from backend.models.calendar_day import CountyHoliday, OfficialCalendarDay, OfficialCalendarYear
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
from backend.models.identity import ApiClient, BreakGlassGrant, RoleGrant, RoleGrantRequest, User, UserSession
from backend.models.intake import (
    DeliveryStatus,
    IntakeNotification,
    IntakeTriage,
    NotificationStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from backend.models.notification import Notification
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
    "FormSubmission",
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
    "DeliveryStatus",
    "IntakeNotification",
    "IntakeTriage",
    "NotificationStatus",
    "WebhookDelivery",
    "WebhookSubscription",
]
