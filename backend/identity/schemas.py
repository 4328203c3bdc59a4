from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from backend.authz.vocabulary import Role
from backend.core.schemas import InputSchema, OutputSchema

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,64}$")]
UnitCode = Annotated[str, StringConstraints(pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]


class LoginRequest(InputSchema):
    tenant_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(examples=["330106"])
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
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


class UserCreate(InputSchema):
    username: Username
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    org_unit_code: UnitCode
    password: Password
    grants: list[RoleGrantCreate] = Field(default_factory=list)


class UserUpdate(InputSchema):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    org_unit_code: UnitCode | None = None
    active: bool | None = None
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
