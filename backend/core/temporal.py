"""The Temporal client: how every process connects (with the pydantic data converter), and the API process's
shared client, connected on first use and optional (the API works without it)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import Request
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from backend.config import Settings

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0


async def connect(settings: Settings) -> Client:
    """A client of the configured Temporal namespace (the worker, the relay and the API alike)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


async def temporal_client(request: Request) -> Client | None:
    """The shared client, or None while Temporal is unreachable (callers degrade instead of failing)."""
    state = request.app.state
    if getattr(state, "temporal_client", None) is None:
        try:
            state.temporal_client = await asyncio.wait_for(connect(state.settings), CONNECT_TIMEOUT_SECONDS)
        except Exception as error:  # unreachable or misconfigured: reported by /readyz, not fatal here
            log.warning("Temporal unreachable", extra={"error": repr(error)})
            return None
    return state.temporal_client
