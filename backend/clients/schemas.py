from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from backend.authz.vocabulary import ClientScope
from backend.core.input import Text
from backend.core.outbound import OutboundUrl
from backend.core.schemas import InputSchema, OutputSchema


class Department(StrEnum):
    police = "police"  # 公安
    civil_affairs = "civil_affairs"  # 民政
    health = "health"  # 卫生健康


class ApiClientCreate(InputSchema):
    name: Annotated[str, Text(100, min_length=1)] = Field(examples=["西湖区公安分局人口系统"])
    department: Department
    scopes: list[ClientScope] = Field(min_length=1, max_length=len(ClientScope))
    webhook_url: OutboundUrl | None = Field(
        default=None, description="https:// (http only in development); a public address, checked when registered"
    )


class ApiClientRead(OutputSchema):
    id: uuid.UUID
    client_id: str
    name: str
    department: str
    scopes: list[str]
    webhook_url: str | None
    revoked_at: datetime | None
    created_at: datetime


class ApiClientWithSecret(ApiClientRead):
    """Returned once, at creation and rotation: the secret is never shown again."""

    client_secret: str


class TokenResponse(OutputSchema):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class AuthorizationServerMetadata(OutputSchema):
    """RFC 8414 §2 authorization server metadata. Only the client-credentials grant is served, so no response
    type is supported (the list is required by the RFC and empty)."""

    issuer: str
    token_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
