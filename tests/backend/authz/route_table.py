"""Reading the app's route table: which permission each route declares through its dependencies."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from backend.authz.dependencies import permission_of

# Routes anyone may call. Everything else must declare a permission; adding to this list is a review item.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("POST", "/api/v1/auth/session"),  # sign-in
        ("POST", "/api/v1/oauth/token"),  # department clients authenticate here
        ("GET", "/.well-known/oauth-authorization-server"),  # RFC 8414 metadata: public by definition
        ("GET", "/"),
        ("GET", "/lang/{locale}"),
        ("GET", "/login"),
        ("POST", "/login"),
        # The platform operator signs in to the /platform pages with the platform token (frontend/pages/platform.py).
        ("GET", "/platform/login"),
        ("POST", "/platform/login"),
        ("GET", "/verify/{token}"),  # QR verification of issued documents: minimal fields, no personal data
        ("GET", "/docs"),  # Swagger UI (the app's own assets); off in production unless API_DOCS
    }
)


def api_routes(routes: list) -> Iterator[APIRoute]:  # type: ignore[type-arg]
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            yield from api_routes(route.original_router.routes)


def _permissions(dependant: Dependant) -> set[str]:
    # A dependency that accepts any of several actions declares them as "a|b" (RequireAny).
    declared = permission_of(dependant.call)
    found = set(declared.split("|")) if declared else set()
    for sub in dependant.dependencies:
        found |= _permissions(sub)
    return found


def route_permissions(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    """(method, path) -> the permissions its dependencies declare."""
    table: dict[tuple[str, str], set[str]] = {}
    for route in api_routes(app.routes):
        for method in route.methods or ():
            table[(method, route.path)] = _permissions(route.dependant)
    return table


def unguarded_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        key
        for key, permissions in route_permissions(app).items()
        if not permissions and key not in PUBLIC_ROUTES and key[0] != "HEAD"
    )


def declared_permissions(app: FastAPI) -> set[str]:
    return set().union(*route_permissions(app).values())
