"""Every domain's API router, mounted on the app.

Each router carries the full `/api/v1/...` prefix itself (from API_V1) rather than receiving it at include
time: then a route's own path is its full template, which metrics and the route-permission test read.
"""

from fastapi import APIRouter

from backend.agreements.endpoints import router as agreements_router
from backend.audit.endpoints import router as audit_router
from backend.breakglass.endpoints import router as break_glass_router
from backend.calendar.endpoints import platform_router as calendar_platform_router
from backend.calendar.endpoints import router as calendar_router
from backend.case_types.endpoints import router as case_types_router
from backend.cases.endpoints import router as cases_router
from backend.certificates.endpoints import router as certificates_router
from backend.clients.endpoints import admin_router as clients_admin_router
from backend.clients.endpoints import oauth_router
from backend.clients.endpoints import platform_router as clients_platform_router
from backend.documents.endpoints import router as documents_router
from backend.documents.endpoints import verify_router as document_verify_router
from backend.identity.endpoints import admin_router as users_admin_router
from backend.identity.endpoints import auth_router, platform_requests_router, requests_router
from backend.intake.endpoints import platform_router as intake_platform_router
from backend.intake.endpoints import router as intake_router
from backend.notifications.endpoints import router as notifications_router
from backend.org.endpoints import router as org_router
from backend.persons.endpoints import router as persons_router
from backend.registers.endpoints import router as registers_router
from backend.tenants.endpoints import router as tenants_router
from backend.verification.endpoints import router as verification_router

api_router = APIRouter()
# Routes are matched in this order, router by router: the department intake API, by far the busiest path
# (bench/intake.py), comes first. No two routers share a path, so the order changes nothing else.
for router in (
    intake_router,
    auth_router,
    oauth_router,
    org_router,
    persons_router,
    users_admin_router,
    requests_router,
    platform_requests_router,
    clients_admin_router,
    break_glass_router,
    audit_router,
    tenants_router,
    clients_platform_router,
    cases_router,
    case_types_router,
    certificates_router,
    registers_router,
    calendar_router,
    calendar_platform_router,
    verification_router,
    documents_router,
    agreements_router,
    notifications_router,
    document_verify_router,
    intake_platform_router,
):
    api_router.include_router(router)
