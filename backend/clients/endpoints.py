"""OAuth2 token endpoint for department systems, and API-client administration for county admins."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from backend.authz.vocabulary import ClientScope
from backend.clients import service
from backend.clients.auth import ClientsManage
from backend.clients.errors import NO_STORE, InvalidClient, InvalidRequest, UnsupportedGrantType
from backend.clients.schemas import (
    ApiClientCreate,
    ApiClientRead,
    ApiClientWithSecret,
    AuthorizationServerMetadata,
    TokenResponse,
)
from backend.core.input import Text
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.tenants.auth import TenantsProvision

oauth_router = APIRouter(prefix=f"{API_V1}/oauth", tags=["oauth"])
admin_router = APIRouter(prefix=f"{API_V1}/admin/api-clients", tags=["admin"])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    return client_id, secret


TOKEN_PATH = f"{API_V1}/oauth/token"
well_known_router = APIRouter(tags=["oauth"])


@oauth_router.post("/token", response_model=TokenResponse, summary="OAuth2 client-credentials token")
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    grant_type: Annotated[Annotated[str, Text(64)] | None, Form()] = None,
    scope: Annotated[Annotated[str, Text(500)] | None, Form()] = None,
    client_id: Annotated[Annotated[str, Text(100)] | None, Form()] = None,
    client_secret: Annotated[Annotated[str, Text(256, verbatim=True)] | None, Form()] = None,
) -> TokenResponse:
    """RFC 6749 §4.4 with client_secret_basic or client_secret_post. Every answer carries
    `Cache-Control: no-store`; errors carry `error` and `error_description` (§5.2)."""
    response.headers.update(NO_STORE)
    if not grant_type:
        raise InvalidRequest("grant_type")
    if grant_type != "client_credentials":
        raise UnsupportedGrantType()
    credentials = _basic_credentials(request) or (client_id, client_secret)
    if not credentials[0] or not credentials[1]:
        raise InvalidClient()
    access_token, lifetime, scopes = await service.issue_token(
        session, request.app.state.settings, client_id=credentials[0], client_secret=credentials[1], scope=scope
    )
    return TokenResponse(access_token=access_token, expires_in=lifetime, scope=" ".join(scopes))


@well_known_router.get(
    "/.well-known/oauth-authorization-server",
    response_model=AuthorizationServerMetadata,
    response_model_exclude_none=True,
    summary="OAuth2 authorization server metadata (RFC 8414)",
)
async def authorization_server_metadata(request: Request) -> AuthorizationServerMetadata:
    """What a department's integrator needs to configure an OAuth2 client: the issuer (PUBLIC_BASE_URL),
    the token endpoint, the client-credentials grant, both client authentication methods and the scopes."""
    issuer = request.app.state.settings.public_base_url.rstrip("/")
    return AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=f"{issuer}{TOKEN_PATH}",
        grant_types_supported=["client_credentials"],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        scopes_supported=[scope.value for scope in ClientScope],
        response_types_supported=[],
    )


def _with_secret(client: object, secret: str) -> ApiClientWithSecret:
    return ApiClientWithSecret(**ApiClientRead.model_validate(client).model_dump(), client_secret=secret)


@admin_router.get("", response_model=list[ApiClientRead], summary="My county's API clients")
async def list_clients(session: SessionDep, _: ClientsManage) -> list[ApiClientRead]:
    return [ApiClientRead.model_validate(client) for client in await service.list_clients(session)]


@admin_router.post(
    "",
    response_model=ApiClientWithSecret,
    status_code=status.HTTP_201_CREATED,
    summary="Register a department system; the secret is shown once",
)
async def create_client(session: SessionDep, principal: ClientsManage, client: ApiClientCreate) -> ApiClientWithSecret:
    created, secret = await service.create_client(session, client, tenant_code=principal.tenant_code)
    return _with_secret(created, secret)


@admin_router.post("/{client_uuid}/rotate", response_model=ApiClientWithSecret, summary="Rotate the secret")
async def rotate(session: SessionDep, _: ClientsManage, client_uuid: uuid.UUID) -> ApiClientWithSecret:
    client = await service.get_client(session, client_uuid)
    return _with_secret(client, await service.rotate_secret(session, client))


@admin_router.post("/{client_uuid}/revoke", response_model=ApiClientRead, summary="Revoke the client")
async def revoke(session: SessionDep, _: ClientsManage, client_uuid: uuid.UUID) -> ApiClientRead:
    client = await service.get_client(session, client_uuid)
    await service.revoke_client(session, client)
    return ApiClientRead.model_validate(client)


platform_router = APIRouter(prefix=f"{API_V1}/platform/api-clients", tags=["platform"])


@platform_router.post(
    "",
    response_model=ApiClientWithSecret,
    status_code=status.HTTP_201_CREATED,
    summary="Register an instance-wide department system (all counties)",
)
async def create_instance_client(
    session: SessionDep, _: TenantsProvision, client: ApiClientCreate
) -> ApiClientWithSecret:
    created, secret = await service.create_client(session, client, tenant_code=None)
    return _with_secret(created, secret)


@platform_router.get("", response_model=list[ApiClientRead], summary="Instance-wide API clients")
async def list_instance_clients(session: SessionDep, _: TenantsProvision) -> list[ApiClientRead]:
    return [ApiClientRead.model_validate(client) for client in await service.list_clients(session)]
