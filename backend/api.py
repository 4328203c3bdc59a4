"""Every domain's API router, mounted on the app.

Each router carries the full `/api/v1/...` prefix itself (from API_V1) rather than receiving it at include
time: then a route's own path is its full template, which metrics and the route-permission test read.
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from backend.agreements.endpoints import router as agreements_router
from backend.archive.endpoints import router as archive_router
from backend.audit.endpoints import router as audit_router
from backend.auth.cookie import SAFE_METHODS, SESSION_COOKIE
from backend.authz.dependencies import permission_of
from backend.authz.vocabulary import ClientScope
from backend.breakglass.endpoints import router as break_glass_router
from backend.calendar.endpoints import platform_router as calendar_platform_router
from backend.calendar.endpoints import router as calendar_router
from backend.campaigns.endpoints import router as campaigns_router
from backend.case_types.endpoints import router as case_types_router
from backend.cases.endpoints import router as cases_router
from backend.certificates.endpoints import router as certificates_router
from backend.checks.endpoints import router as checks_router
from backend.clients.endpoints import TOKEN_PATH, oauth_router
from backend.clients.endpoints import admin_router as clients_admin_router
from backend.clients.endpoints import platform_router as clients_platform_router
from backend.clients.endpoints import well_known_router as oauth_metadata_router
from backend.complaints.endpoints import router as complaints_router
from backend.contraceptives.endpoints import router as contraceptives_router
from backend.core.openapi import ERROR_RESPONSES
from backend.core.openapi_examples import request_example
from backend.county_settings.endpoints import router as county_settings_router
from backend.data_review.endpoints import recheck_router
from backend.data_review.endpoints import router as data_review_router
from backend.documents.endpoints import router as documents_router
from backend.documents.endpoints import verify_router as document_verify_router
from backend.entrustments.endpoints import router as entrustments_router
from backend.followups.endpoints import router as followups_router
from backend.free_services.endpoints import router as free_services_router
from backend.housing.endpoints import router as housing_router
from backend.identity.endpoints import admin_router as users_admin_router
from backend.identity.endpoints import auth_router, platform_requests_router, requests_router
from backend.info_queries.endpoints import router as info_queries_router
from backend.intake.endpoints import platform_router as intake_platform_router
from backend.intake.endpoints import router as intake_router
from backend.notifications.delivery.endpoints import router as delivery_router
from backend.notifications.endpoints import router as notifications_router
from backend.org.endpoints import router as org_router
from backend.persons.endpoints import router as persons_router
from backend.registers.endpoints import router as registers_router
from backend.reports.endpoints import assessments_router, kpis_router, platform_kpis_router, reports_router
from backend.rewards.endpoints import router as rewards_router
from backend.tenants.endpoints import router as tenants_router
from backend.todo.endpoints import router as todo_router
from backend.verification.endpoints import router as verification_router

api_router = APIRouter()
# Routes are matched in this order, router by router: the department intake API, by far the busiest path
# (bench/intake.py), comes first. No two routers share a path, so the order changes nothing else.
ROUTERS = (
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
    todo_router,
    delivery_router,
    document_verify_router,
    intake_platform_router,
    checks_router,
    followups_router,
    contraceptives_router,
    housing_router,
    campaigns_router,
    free_services_router,
    # The accountable procedures (issue #22).
    county_settings_router,
    rewards_router,
    complaints_router,
    info_queries_router,
    entrustments_router,
    archive_router,
    data_review_router,
    recheck_router,
    kpis_router,
    reports_router,
    assessments_router,
    platform_kpis_router,
    oauth_metadata_router,
)
_NAMES = Counter(route.name for router in ROUTERS for route in router.routes if isinstance(route, APIRoute))


def operation_id(route: APIRoute) -> str:
    """The route function's name (`list_persons`, `submit_notifications`) is what a generated client calls the
    operation; a name several domains use (`revoke`, `verify`) gets its tag in front (`certificates_revoke`)."""
    name = route.name if _NAMES[route.name] == 1 else f"{route.tags[0]}_{route.name}"
    return name.replace("-", "_")


for router in ROUTERS:
    # Every route declares the error body for every error status (backend/core/openapi.py) and a readable id.
    api_router.include_router(router, responses=ERROR_RESPONSES, generate_unique_id_function=operation_id)


# Who may call a protected route: a department system with an OAuth2 client-credentials token, a signed-in user
# (the session cookie, and X-CSRF-Token on writes), or the platform operator's bearer token.
SECURITY_SCHEMES: dict[str, Any] = {
    "oauth2": {
        "type": "oauth2",
        "description": "Department systems: client credentials (HTTP Basic or form fields), a 15-minute bearer token.",
        "flows": {
            "clientCredentials": {
                "tokenUrl": TOKEN_PATH,
                "scopes": {scope.value: scope.name.replace("_", " ") for scope in ClientScope},
            }
        },
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "County users: the cookie set by POST /api/v1/auth/session.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "With the session cookie, on every request that changes something: the csrf_token of the "
        "sign-in answer.",
    },
    "platformToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The platform operator: PLATFORM_ADMIN_TOKEN.",
    },
}


def security_of(method: str) -> list[dict[str, list[str]]]:
    """Any of the three credentials authenticates (backend/auth/authenticate.py; the permission then decides);
    the session cookie needs X-CSRF-Token only on writes."""
    session: dict[str, list[str]] = {"session": []} if method in SAFE_METHODS else {"session": [], "csrf": []}
    return [{"oauth2": []}, session, {"platformToken": []}]


def _declares_permission(dependant: Dependant) -> bool:
    return permission_of(dependant.call) is not None or any(_declares_permission(sub) for sub in dependant.dependencies)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, through the routers FastAPI includes lazily (they keep their full path prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with the security schemes, each operation's security (none for the public
    routes) and an example for every JSON request body. docs/openapi.json is this document."""
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.get("schemas", {})
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            operation["security"] = security_of(method) if _declares_permission(route.dependant) else []
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "example" not in media and "examples" not in media and "schema" in media:
                    example = request_example(media["schema"], schemas)
                    if example is not None:
                        media["example"] = example
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `openapi_document` (built once) as the app's /openapi.json."""

    def cached() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = cached  # type: ignore[method-assign]
