"""Every domain's API router, mounted on the app.

Each router carries the full `/api/v1/...` prefix itself (from API_V1) rather than receiving it at include
time: then a route's own path is its full template, which metrics and the route-permission test read.
"""

from fastapi import APIRouter

from backend.core.routing import API_V1
from backend.tenants.endpoints import router as tenants_router

api_router = APIRouter()
api_router.include_router(tenants_router)

__all__ = ["API_V1", "api_router"]
