"""The Temporal client: how every process connects (with the pydantic data converter), and the API process's
shared client, connected on first use and optional (the API works without it)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import Request
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from backend.config import Settings

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS towards Temporal from the settings: False (plaintext, a private network), True (TLS with the
    system's CAs, e.g. Temporal Cloud with an API key) or a TLSConfig with a private CA, a client certificate
    and key (mutual TLS) and the server name to verify."""
    if not settings.temporal_uses_tls:
        return False
    if not (settings.temporal_tls_ca_file or settings.temporal_tls_cert_file or settings.temporal_tls_server_name):
        return True
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca_file.read_bytes() if settings.temporal_tls_ca_file else None,
        client_cert=settings.temporal_tls_cert_file.read_bytes() if settings.temporal_tls_cert_file else None,
        client_private_key=settings.temporal_tls_key_file.read_bytes() if settings.temporal_tls_key_file else None,
        domain=settings.temporal_tls_server_name or None,
    )


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client of the configured Temporal namespace (the worker, the relay and the API alike), over TLS and
    with an API key when the settings say so. `runtime` carries the worker's Prometheus metrics."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key or None,
        runtime=runtime,
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
