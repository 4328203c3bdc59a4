"""Every query on department API clients. A client row belongs to a county or, for an instance-wide client, to
the platform: the row-level policy shows a transaction the clients of the context it entered (a county's own,
or the platform's), so these queries add no county filter of their own (`Repository`, not the tenant base)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from sqlalchemy import select, text

from backend.db.repository import Repository
from backend.models import ApiClient

# One round trip for a token's check (migration 0011_client_context): enter the client's owner context, name
# the client for the notification tables' policy, return the row, all under row-level security.
_ENTER_CLIENT_CONTEXT = text("SELECT * FROM enter_client_context(:client_id)")
_ENTER_CLIENT_CONTEXT_SQL = "SELECT * FROM enter_client_context($1)"


class ApiClientRepository(Repository):
    async def by_client_id(self, client_id: str) -> ApiClient | None:
        """The visible client with this public id, or None."""
        return await self.one_or_none(select(ApiClient).where(ApiClient.client_id == client_id))

    async def get(self, client_uuid: uuid.UUID) -> ApiClient | None:
        """The visible client with this row id, or None."""
        return await self.session.get(ApiClient, client_uuid)

    async def list_all(self) -> list[ApiClient]:
        """Every visible client, oldest first."""
        return await self.all(select(ApiClient).order_by(ApiClient.created_at))

    async def enter_client_context(self, client_id: str) -> dict[str, Any] | None:
        """Enter the context of the client's owner for the rest of the transaction and return the client's
        token-relevant fields (`client_id`, `name`, `tenant_id`, `tenant_code`, `scopes`, `revoked`,
        `secret_version`), or None for an unknown client."""
        row = (await self.session.execute(_ENTER_CLIENT_CONTEXT, {"client_id": client_id})).mappings().one_or_none()
        return dict(row) if row is not None else None


async def enter_client_context_on(connection: asyncpg.Connection, client_id: str) -> asyncpg.Record | None:
    """`ApiClientRepository.enter_client_context` on a plain asyncpg connection (the lean intake submit path)."""
    return await connection.fetchrow(_ENTER_CLIENT_CONTEXT_SQL, client_id)
