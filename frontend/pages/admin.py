"""County admin pages: the org tree, users and their role grants. Same services as /api/v1/org and
/api/v1/identity (creation and grants are checked against the admin's reach and audited there)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action, Role
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.identity import service as identity
from backend.identity.auth import UsersManage
from backend.identity.schemas import RoleGrantCreate, UserCreate
from backend.org import service as org
from backend.org.auth import OrgRead
from frontend.forms import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

ROLE_CHOICES = [role.value for role in Role if role is not Role.platform_admin]


@router.get("/admin/org", response_class=HTMLResponse)
async def org_tree(request: Request, session: SessionDep, principal: OrgRead) -> HTMLResponse:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.org_read))
    children: dict[str | None, list[object]] = {}
    codes = {unit.code for unit in units}
    for unit in sorted(units, key=lambda unit: unit.code):
        parent = unit.parent_code if unit.parent_code in codes else None
        children.setdefault(parent, []).append(unit)
    return render(request, "admin/org.html", {"children": children})


async def _units(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.users_manage))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in sorted(units, key=lambda u: u.code) if unit.active]


async def _users_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    users = sorted(await identity.list_users(session, principal), key=lambda user: user.username)
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "units": await _units(session, principal),
            "roles": ROLE_CHOICES,
            "values": values or {},
            "errors": errors or {},
            "created": request.query_params.get("created"),
        },
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
async def user_list(request: Request, session: SessionDep, principal: UsersManage) -> HTMLResponse:
    return await _users_page(request, session, principal)


@router.post("/admin/users", response_class=HTMLResponse)
async def user_create(
    request: Request,
    session: SessionDep,
    principal: UsersManage,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    org_unit_code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    role_unit_code: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "username": username,
        "display_name": display_name,
        "org_unit_code": org_unit_code,
        "role": role,
        "role_unit_code": role_unit_code,
    }
    grants = [{"role": role, "org_unit_code": role_unit_code or org_unit_code}] if role else []
    try:
        user_create = UserCreate.model_validate(
            {
                "username": username,
                "display_name": display_name,
                "org_unit_code": org_unit_code,
                "password": password,
                "grants": grants,
            }
        )
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            loc = [str(part) for part in error["loc"]]
            key = "role" if loc[0] == "grants" else loc[0]
            errors.setdefault(
                key,
                "必填 / required"
                if error["type"] == "missing" or not values.get(key, password)
                else "格式不正确 / invalid format",
            )
        return await _users_page(request, session, principal, values=values, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            user = await identity.create_user(session, principal, user_create)
    except DomainError as error:
        errors = {
            key.replace("grants.0", "role").split(".")[0]: message for key, message in field_errors(error).items()
        }
        return await _users_page(request, session, principal, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/admin/users/{user.id}?created=1", status_code=303)


async def _user_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = await identity.get_user_in_reach(session, principal, user_id)
    return render(
        request,
        "admin/user.html",
        {
            "user": user,
            "grants": await identity.grants_of(session, user.id),
            "units": await _units(session, principal),
            "roles": ROLE_CHOICES,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_detail(
    request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID
) -> HTMLResponse:
    return await _user_page(request, session, principal, user_id)


@router.post("/admin/users/{user_id}/grants", response_class=HTMLResponse)
async def user_grant(
    request: Request,
    session: SessionDep,
    principal: UsersManage,
    user_id: uuid.UUID,
    role: Annotated[str, Form()] = "",
    org_unit_code: Annotated[str, Form()] = "",
) -> Response:
    user = await identity.get_user_in_reach(session, principal, user_id)
    try:
        grant = RoleGrantCreate.model_validate({"role": role, "org_unit_code": org_unit_code})
    except ValidationError as invalid:
        errors = {str(error["loc"][0]): "请选择 / choose one" for error in invalid.errors()}
        return await _user_page(request, session, principal, user_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await identity.grant_role(session, principal, user, grant)
    except DomainError as error:
        return await _user_page(request, session, principal, user_id, errors=field_errors(error), status_code=422)
    return RedirectResponse(f"/admin/users/{user.id}", status_code=303)
