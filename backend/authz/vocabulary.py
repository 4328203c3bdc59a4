"""The authorization vocabulary: actions, roles, and which actions each role template holds.

Roles are templates defined here, in code; who holds which role over which org subtree is data
(`role_grants`). Casbin evaluates the combination (`Principal`'s per-request enforcer, backend/authz/principal.py,
with the model in backend/authz/model.conf).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    org_read = "org.read"
    person_read = "person.read"
    person_read_identifiers = "person.read_identifiers"  # full ID and phone numbers on the detail view
    person_write = "person.write"
    person_unmerge = "person.unmerge"  # undo a merge of two person records: county supervisors only
    case_read = "case.read"
    case_write = "case.write"
    case_assign = "case.assign"
    case_approve = "case.approve"  # 签批: sign the approval step of a maker-checker chain (谁签字、谁负责)
    complaint_identity = "complaint.identity"  # 投诉举报人身份: beside the handling officer
    case_audit = "case.audit"
    document_read = "document.read"
    document_write = "document.write"
    document_destroy = "document.destroy"  # approve destroying documents past retention
    verification_answer = "verification.answer"
    verification_request = "verification.request"  # send, withdraw and follow cross-county requests and notices
    register_export = "register.export"
    service_read = "service.read"  # village service records: checks, visits, contraceptives, housing, campaigns
    service_write = "service.write"  # record them (results, visits, issues, tenancies, campaign findings)
    campaign_plan = "campaign.plan"  # plan a clean-up campaign (清理清查) for a township or the county
    audit_read = "audit.read"
    users_manage = "users.manage"
    clients_manage = "clients.manage"
    config_manage = "config.manage"
    breakglass_request = "breakglass.request"
    breakglass_review = "breakglass.review"
    intake_submit = "intake.submit"
    intake_read_status = "intake.read_status"
    tenant_provision = "tenant.provision"
    report_read = "report.read"  # the cockpit, KPI figures and their rows, statistical reports
    report_publish = "report.publish"  # publish a statistical report (frozen), or a correction of one
    kpi_configure = "kpi.configure"  # the county's KPI targets
    kpi_overview = "kpi.overview"  # every county's KPI counts, no rows (the platform operator)
    assessment_read = "assessment.read"  # the two-way assessment: scores given and received, township ranking
    assessment_manage = "assessment.manage"  # the assessment scheme, publishing scores
    assessment_contest = "assessment.contest"  # contest an item of a score received; answer a contest
    archive_manage = "archive.manage"  # 年度归档: bind a year's closed cases into a volume, download it (P26)
    entry_confirm = "entry.confirm"  # 三级把关: confirm or reject village entries; entries by others need no review


class Role(StrEnum):
    village_coordinator = "village_coordinator"  # 村/居计生专干、协管员
    township_officer = "township_officer"  # 乡镇（街道）计生办
    township_supervisor = "township_supervisor"
    county_officer = "county_officer"
    county_supervisor = "county_supervisor"
    auditor = "auditor"
    county_admin = "county_admin"
    platform_admin = "platform_admin"


ROLE_LABELS: dict[Role, str] = {
    Role.village_coordinator: "村（居）计生专干 / Village coordinator",
    Role.township_officer: "乡镇（街道）经办人 / Township officer",
    Role.township_supervisor: "乡镇（街道）负责人 / Township supervisor",
    Role.county_officer: "县级经办人 / County officer",
    Role.county_supervisor: "县级负责人 / County supervisor",
    Role.auditor: "审计员 / Auditor",
    Role.county_admin: "县级系统管理员 / County administrator",
    Role.platform_admin: "平台管理员 / Platform administrator",
}

_CASEWORK = frozenset(
    {
        Action.org_read,
        Action.person_read,
        Action.person_write,
        Action.case_read,
        Action.case_write,
        Action.document_read,
        Action.document_write,
        Action.service_read,
        Action.service_write,
        Action.report_read,
    }
)
_OFFICER = _CASEWORK | {
    Action.person_read_identifiers,
    Action.verification_answer,
    Action.verification_request,
    Action.register_export,
    Action.campaign_plan,
    Action.entry_confirm,
}
_SUPERVISOR = _OFFICER | {Action.case_assign, Action.case_approve, Action.breakglass_request, Action.report_publish}

ROLE_TEMPLATES: dict[Role, frozenset[Action]] = {
    Role.village_coordinator: _CASEWORK | {Action.register_export},
    Role.township_officer: _OFFICER,
    Role.township_supervisor: _SUPERVISOR,
    Role.county_officer: _OFFICER | {Action.assessment_read},
    Role.county_supervisor: _SUPERVISOR
    | {
        Action.breakglass_review,
        Action.person_unmerge,
        Action.assessment_read,
        Action.assessment_manage,
        Action.assessment_contest,
        Action.complaint_identity,
        Action.archive_manage,
    },
    # Reads everything in the county, changes nothing.
    Role.auditor: frozenset(
        {
            Action.org_read,
            Action.person_read,
            Action.case_read,
            Action.case_audit,
            Action.document_read,
            Action.service_read,
            Action.audit_read,
            Action.breakglass_review,
            Action.report_read,
            Action.assessment_read,
        }
    ),
    # Users, roles, org tree and configuration; no personal data.
    Role.county_admin: frozenset(
        {
            Action.org_read,
            Action.users_manage,
            Action.clients_manage,
            Action.config_manage,
            Action.audit_read,
            Action.document_destroy,
            Action.kpi_configure,
            Action.archive_manage,
        }
    ),
    # Provisions counties and sees their KPI counts; never reads a county's personal data.
    Role.platform_admin: frozenset({Action.tenant_provision, Action.kpi_overview}),
}

# Roles that only make sense over the whole county.
COUNTY_WIDE_ROLES = frozenset(
    {
        Role.county_officer,
        Role.county_supervisor,
        Role.auditor,
        Role.county_admin,
    }
)
TOWNSHIP_ROLES = frozenset({Role.township_officer, Role.township_supervisor})

# Separation of duties (backend/identity/duties.py): roles that administer accounts, and roles that read personal
# data. One user holding both needs a second administrator's approval.
ADMINISTRATION_ROLES = frozenset(
    role.value for role, actions in ROLE_TEMPLATES.items() if Action.users_manage in actions
)
PERSONAL_DATA_ROLES = frozenset(
    role.value
    for role, actions in ROLE_TEMPLATES.items()
    if actions & {Action.person_read, Action.person_read_identifiers, Action.case_read, Action.document_read}
)

# What a break-glass grant lets its holder do in the borrowed subtree: read, nothing else.
BREAK_GLASS_ACTIONS = frozenset(
    {Action.org_read, Action.person_read, Action.case_read, Action.document_read, Action.service_read}
)


class ClientScope(StrEnum):
    """OAuth2 scopes of department API clients."""

    intake_police = "intake:police"
    intake_civil_affairs = "intake:civil_affairs"
    intake_health = "intake:health"
    intake_read_status = "intake:read_status"


CLIENT_SCOPE_ACTIONS: dict[ClientScope, frozenset[Action]] = {
    ClientScope.intake_police: frozenset({Action.intake_submit}),
    ClientScope.intake_civil_affairs: frozenset({Action.intake_submit}),
    ClientScope.intake_health: frozenset({Action.intake_submit}),
    ClientScope.intake_read_status: frozenset({Action.intake_read_status}),
}
