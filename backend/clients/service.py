"""Department API clients and their OAuth2 client-credentials tokens.

A client id names its owner: `<county code>-<random>` for a county's client, `platform-<random>` for an
instance-wide one; the token endpoint enters that context before looking the client up, so row-level
security holds for the lookup too. Secrets are argon2-hashed and shown once. Tokens are short-lived HS256
JWTs; each use re-checks the client row, so a revocation or a secret rotation takes effect at once.
Every transaction of a client also carries `app.api_client`: the notification tables show a client its own rows.
"""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import ANY_TENANT, Principal, ScopedRole
from backend.authz.vocabulary import ClientScope
from backend.clients.errors import (
    ClientNotFound,
    InvalidClient,
    InvalidClientDefinition,
    InvalidScope,
    InvalidToken,
)
from backend.clients.repository import ApiClientRepository, enter_client_context_on
from backend.clients.schemas import ApiClientCreate, Department
from backend.config import Settings
from backend.core.clock import utc_now
from backend.core.context import Actor, actor_var
from backend.core.outbound import safe_outbound_url
from backend.db.tenancy import current_tenant_id, set_platform_context, set_tenant
from backend.identity import security
from backend.models import ApiClient
from backend.tenants.errors import TenantNotFound
from backend.tenants.service import get_tenant_by_code

TOKEN_ISSUER = "liuguan"
TOKEN_AUDIENCE = "liuguan-api"
PLATFORM_OWNER = "platform"

DEPARTMENT_SCOPES: dict[Department, frozenset[ClientScope]] = {
    Department.police: frozenset({ClientScope.intake_police, ClientScope.intake_read_status}),
    Department.civil_affairs: frozenset({ClientScope.intake_civil_affairs, ClientScope.intake_read_status}),
    Department.health: frozenset({ClientScope.intake_health, ClientScope.intake_read_status}),
}


def _signing_key(settings: Settings) -> str:
    return f"access-token:{settings.secret_key}"


def client_actor(client: ApiClient) -> Actor:
    return Actor(kind="api_client", id=client.client_id, label=client.name)


async def _enter_owner_context(session: AsyncSession, client_id: str) -> str | None:
    """Scope the transaction to the client's owner from its id; returns the county code (None: platform)."""
    owner = client_id.split("-", 1)[0]
    if owner == PLATFORM_OWNER:
        await set_platform_context(session)
        return None
    tenant = await get_tenant_by_code(session, owner)
    await set_tenant(session, tenant.id)
    return tenant.code


async def create_client(
    session: AsyncSession, client_create: ApiClientCreate, *, tenant_code: str | None
) -> tuple[ApiClient, str]:
    """Register a client for the current county (or instance-wide when tenant_code is None); a callback URL must
    meet the outbound policy (backend/core/outbound.py)."""
    if client_create.webhook_url is not None:
        await safe_outbound_url(client_create.webhook_url, field_name="webhook_url")
    allowed = DEPARTMENT_SCOPES[client_create.department]
    for index, scope in enumerate(client_create.scopes):
        if scope not in allowed:
            raise InvalidClientDefinition(
                f"scopes.{index}", "该部门不能使用此范围 / scope not allowed for the department"
            )
    secret = security.new_token(32)
    client = ApiClient(
        id=uuid.uuid4(),
        tenant_id=current_tenant_id(session) if tenant_code else None,
        client_id=f"{tenant_code or PLATFORM_OWNER}-{security.new_token(12)}",
        name=client_create.name,
        department=client_create.department.value,
        scopes=sorted(scope.value for scope in client_create.scopes),
        secret_hash=security.hash_secret(secret),
        secret_version=1,
        webhook_url=client_create.webhook_url,
    )
    repository = ApiClientRepository(session)
    repository.add(client)
    await repository.flush()
    if tenant_code:
        await audit.record(
            session,
            action="api_client.create",
            entity_type="api_client",
            entity_id=client.id,
            org_unit_code=tenant_code,
            changes=audit.diff(None, {"client_id": client.client_id, "name": client.name, "scopes": client.scopes}),
        )
    return client, secret


async def get_client(session: AsyncSession, client_uuid: uuid.UUID) -> ApiClient:
    """A client visible in this transaction's context; `ClientNotFound` otherwise."""
    client = await ApiClientRepository(session).get(client_uuid)
    if client is None:
        raise ClientNotFound()
    return client


async def list_clients(session: AsyncSession) -> list[ApiClient]:
    """The clients visible in this transaction's context (a county's own, or the platform's)."""
    return await ApiClientRepository(session).list_all()


async def rotate_secret(session: AsyncSession, client: ApiClient) -> str:
    """New secret, shown once; tokens issued with the old one stop working."""
    secret = security.new_token(32)
    client.secret_hash = security.hash_secret(secret)
    client.secret_version += 1
    await session.flush()
    version = client.secret_version
    await _audit_change(session, client, "api_client.rotate", {"secret_version": [version - 1, version]})
    return secret


async def revoke_client(session: AsyncSession, client: ApiClient) -> None:
    """Revoke the client: its tokens stop working at once (a second revocation changes nothing)."""
    if client.revoked_at is None:
        client.revoked_at = utc_now()
        await session.flush()
        await _audit_change(session, client, "api_client.revoke", audit.diff(None, {"revoked_at": client.revoked_at}))


async def _audit_change(session: AsyncSession, client: ApiClient, action: str, changes: dict[str, Any]) -> None:
    """Audit a change of a county's client in its chain (instance-wide clients have no county chain)."""
    if client.tenant_id is not None:
        await audit.record(session, action=action, entity_type="api_client", entity_id=client.id, changes=changes)


async def issue_token(
    session: AsyncSession, settings: Settings, *, client_id: str, client_secret: str, scope: str | None
) -> tuple[str, int, list[str]]:
    """Client-credentials grant: (token, lifetime in seconds, granted scopes)."""
    try:
        tenant_code = await _enter_owner_context(session, client_id)
        client = await ApiClientRepository(session).by_client_id(client_id)
    except TenantNotFound:
        tenant_code, client = None, None
    secret_ok = security.verify_secret(client.secret_hash if client else None, client_secret)
    if client is None or not secret_ok or client.revoked_at is not None:
        raise InvalidClient()
    requested = scope.split() if scope else list(client.scopes)
    if not requested or any(item not in client.scopes for item in requested):
        raise InvalidScope()
    now = utc_now()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": client.client_id,
        "tc": tenant_code,
        "scope": " ".join(requested),
        "sv": client.secret_version,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, _signing_key(settings), algorithm="HS256")
    return token, int(lifetime.total_seconds()), requested


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, signing_key: str) -> dict[str, Any]:
    """The claims of a token whose signature, audience and issuer check out. A department system sends
    thousands of requests with one token; the signature of the same string under the same key needs checking
    once. Expiry and the client row are checked on every use by the caller. Failures raise and are not cached."""
    return jwt.decode(
        token,
        signing_key,
        algorithms=["HS256"],
        audience=TOKEN_AUDIENCE,
        issuer=TOKEN_ISSUER,
        # Expiry is checked by the caller against the platform clock (which tests can move), not time.time().
        options={
            "require": ["exp", "iat", "sub", "sv", "scope"],
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        },
    )


def _token_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a well-signed token that has not expired (platform clock); InvalidToken otherwise."""
    try:
        claims = _verified_claims(token, _signing_key(settings))
        if not claims["iat"] <= utc_now().timestamp() < claims["exp"]:
            raise InvalidToken()
        return claims
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise InvalidToken() from None


def _client_principal(claims: dict[str, Any], row: Any) -> Principal:
    """The principal of a token whose client row (from `enter_client_context()`) still honours it."""
    if row is None or row["revoked"] or row["secret_version"] != claims["sv"]:
        raise InvalidToken()
    if claims.get("tc") != row["tenant_code"]:
        raise InvalidToken()
    scopes = tuple(scope for scope in str(claims["scope"]).split() if scope in row["scopes"])
    actor_var.set(Actor(kind="api_client", id=row["client_id"], label=row["name"]))
    scope_root = row["tenant_code"] if row["tenant_code"] else ANY_TENANT
    return Principal(
        kind="api_client",
        id=row["client_id"],
        label=row["name"],
        tenant_id=row["tenant_id"],
        tenant_code=row["tenant_code"],
        org_unit_code=row["tenant_code"],
        roles=tuple(ScopedRole(f"scope:{scope}", scope_root) for scope in scopes),
        client_scopes=scopes,
    )


async def principal_for_token(session: AsyncSession, settings: Settings, token: str) -> Principal:
    """Verify signature, expiry and audience, then that the client still exists, is not revoked and has not
    rotated its secret since the token was issued. Every failure is the same InvalidToken.

    The client row is read on every use, in one round trip: `enter_client_context()` (migration
    0011_client_context) enters the owner's context, names the client for the notification tables' policy and
    returns the row, all under row-level security.
    """
    claims = _token_claims(settings, token)
    row = await ApiClientRepository(session).enter_client_context(str(claims["sub"]))
    principal = _client_principal(claims, row)
    if principal.tenant_id is not None:
        session.info["tenant_id"] = principal.tenant_id  # what set_tenant() records for the repositories
    return principal


async def principal_for_token_on(connection: asyncpg.Connection, settings: Settings, token: str) -> Principal:
    """`principal_for_token` on a plain asyncpg connection inside its transaction (the intake submit path,
    backend/auth/client_transaction.py): the same checks, the same context set for the rest of the transaction."""
    claims = _token_claims(settings, token)
    return _client_principal(claims, await enter_client_context_on(connection, str(claims["sub"])))
