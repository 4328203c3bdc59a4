"""Every route declares its permission; deny by default."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from backend.config import Settings
from backend.main import create_app
from tests.backend.authz.route_table import PUBLIC_ROUTES, route_permissions, unguarded_routes


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    assert unguarded_routes(app) == []


def test_the_public_list_names_only_routes_that_exist(app: FastAPI) -> None:
    assert PUBLIC_ROUTES - set(route_permissions(app)) == set()


def test_a_new_unguarded_route_is_caught(settings: Settings) -> None:
    application = create_app(settings)
    router = APIRouter(prefix="/api/v1/forgotten")

    @router.get("/{person_id}")
    async def forgotten(person_id: str) -> dict[str, str]:
        return {"person_id": person_id}

    application.include_router(router)
    assert unguarded_routes(application) == [("GET", "/api/v1/forgotten/{person_id}")]
