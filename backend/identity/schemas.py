from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from backend.authz.vocabulary import Role
from backend.core.input import Code, CountyCode, MultilineText, Omittable, Text, UnitCode
from backend.core.schemas import InputSchema, OutputSchema

Username = Annotated[str, Code(r"^[A-Za-z0-9_.-]{3,64}$", 64)]
Password = Annotated[str, Text(256, min_length=1, verbatim=True)]
DisplayName = Annotated[str, Text(100, min_length=1)]


class LoginRequest(InputSchema):
    tenant_code: CountyCode = Field(examples=["330106"])
    # Any text: a sign-in with a name that could never be a username fails like any other (401).
    username: Annotated[str, Text(64, min_length=1)]
    password: Password


class LoginResponse(OutputSchema):
    user_id: uuid.UUID
    display_name: str
    csrf_token: str
    expires_at: datetime
    must_change_password: bool = Field(
        default=False, description="An administrator reset the password: change it before anything else"
    )


class PasswordChange(InputSchema):
    current_password: Password
    new_password: Password


class RoleGrantCreate(InputSchema):
    role: Role
    org_unit_code: UnitCode


class RoleGrantRead(OutputSchema):
    id: uuid.UUID
    role: str
    org_unit_code: str
    granted_by: str
    granted_at: datetime


class GrantRequestRead(OutputSchema):
    """A grant waiting for a second administrator (separation of duties), or how it was decided."""

    id: uuid.UUID
    user_id: uuid.UUID
    role: str
    org_unit_code: str
    status: str = Field(description="pending, approved or refused")
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    grant_id: uuid.UUID | None


class GrantRequestDecision(InputSchema):
    reason: Annotated[str, MultilineText(500, min_length=2)] | None = None


class UserCreate(InputSchema):
    username: Username
    display_name: DisplayName
    org_unit_code: UnitCode
    password: Password
    grants: list[RoleGrantCreate] = Field(default_factory=list, max_length=20)


class UserUpdate(InputSchema):
    """Change some fields; a field left out keeps its value (null is refused)."""

    display_name: Omittable[DisplayName] = None
    org_unit_code: Omittable[UnitCode] = None
    active: Omittable[bool] = None
    version: int = Field(description="The version you read; a stale one answers 409")


class UserRead(OutputSchema):
    id: uuid.UUID
    username: str
    display_name: str
    org_unit_code: str
    active: bool
    locked: bool = False
    must_change_password: bool = False
    version: int
    grants: list[RoleGrantRead] = Field(default_factory=list)


class PasswordReset(InputSchema):
    """An administrator's reset: the temporary password she tells the user, who must change it at sign-in."""

    temporary_password: Password


class MeRead(OutputSchema):
    kind: str
    id: str
    label: str
    tenant_code: str | None
    org_unit_code: str | None
    roles: list[dict[str, str]]
    break_glass: list[dict[str, str]] = Field(default_factory=list)
