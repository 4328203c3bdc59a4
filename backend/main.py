"""create_app(): settings, logging, database, middleware, error handlers, the API and the pages.

The composition root: the one place that wires the layers together where a lower one must not import a higher
one. Authentication (backend/auth/) is handed to the permission checks (backend/authz/), the pages' error page
to the error handlers (backend/core/), and the domains built on the calendar subscribe to its events.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api import api_router, install_openapi
from backend.auth.authenticate import authenticate
from backend.authz.dependencies import install_authenticator
from backend.calendar.events import WorkingDaysChanged
from backend.cases.service import recompute_due_dates
from backend.config import Settings, get_settings
from backend.core.api_docs import install_api_docs, openapi_url
from backend.core.error_handlers import install_error_handlers
from backend.core.events import DomainEvents, domain_events
from backend.core.logging import configure_logging
from backend.core.middleware import PageUrlGuard, RequestContextMiddleware
from backend.core.outbound import OutboundPolicy, install_outbound_policy
from backend.core.security_headers import SecurityHeadersMiddleware
from backend.core.storage import build_storage
from backend.db.engine import Database
from backend.documents.storage import install_document_storage
from backend.health.endpoints import router as health_router
from backend.verification.deadlines import recompute_answer_dues
from frontend.rendering import mount_static, render_error_page
from frontend.router import pages_router


async def _recount_case_deadlines(session: AsyncSession, event: WorkingDaysChanged) -> None:
    await recompute_due_dates(session, event.affected_from, reason=event.reason)


async def _recount_answer_dues(session: AsyncSession, event: WorkingDaysChanged) -> None:
    # The verification answers this county owes (or chases itself) run on its calendar too.
    await recompute_answer_dues(session, event.affected_from, reason=event.reason)


def subscribe_domain_events(events: DomainEvents = domain_events) -> None:
    """Who reacts to which domain event, in the publisher's transaction (backend/core/events.py): a county's
    working days changed (a holiday declared or withdrawn, a State Council notice imported) -> its open case
    deadlines, then the answers it owes, are recounted and their workflows told to re-plan."""
    events.subscribe(WorkingDaysChanged, "cases.recompute_due_dates", _recount_case_deadlines)
    events.subscribe(WorkingDaysChanged, "verification.recompute_answer_dues", _recount_answer_dues)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = Database.from_settings(settings)
        app.state.temporal_client = None
        install_document_storage(build_storage(settings), settings)
        install_outbound_policy(OutboundPolicy.from_settings(settings))
        # Everything loaded so far (routes, schemas, templates, policies) lives as long as the process: moved
        # out of the collector's generations, it is no longer rescanned by every full collection, which
        # otherwise shows as latency spikes on the busy department submit path (bench/intake.py, p99).
        gc.freeze()
        yield
        await app.state.database.dispose()

    app = FastAPI(
        title="流管 Liuguan API",
        version="1",
        summary="流动人口计划生育服务管理 / Floating-population family-planning service management",
        lifespan=lifespan,
        openapi_url=openapi_url(settings.api_docs_enabled),
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_authenticator(app, authenticate)
    subscribe_domain_events()
    app.add_middleware(PageUrlGuard)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app, render_html=render_error_page)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(pages_router)
    install_api_docs(app)
    install_openapi(app)
    mount_static(app)
    return app
