"""County admin pages: the org tree, users and their role grants, and a user's life cycle (disable and enable, unlock,
reset the password to a temporary one she must change at her next sign-in, revoke a role). Same services as
/api/v1/org and /api/v1/admin/users (checked against the admin's reach and audited there).

A user's grants update in place: the grant and revoke forms swap the page's `grants` block (HTMX), and post
as plain forms without JavaScript."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action, Role
from backend.core.clock import utc_now
from backend.db.session import SessionDep
from backend.identity import duties
from backend.identity import service as identity
from backend.identity.auth import UsersManage
from backend.identity.schemas import PasswordReset, RoleGrantCreate, UserCreate, UserUpdate
from backend.models import RoleGrantRequest
from backend.org import service as org
from backend.org.auth import OrgRead
from frontend.forms import FieldErrors, Form, FormView
from frontend.pages.common import unit_names, unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

ROLE_CHOICES = [role.value for role in Role if role is not Role.platform_admin]
CHOOSE = "请选择 / choose one"
_ACCOUNT_FIELDS = ("username", "display_name", "org_unit_code", "password")


@router.get("/admin/org", response_class=HTMLResponse)
async def org_tree(request: Request, session: SessionDep, principal: OrgRead) -> HTMLResponse:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.org_read))
    children: dict[str | None, list[object]] = {}
    codes = {unit.code for unit in units}
    for unit in sorted(units, key=lambda unit: unit.code):
        parent = unit.parent_code if unit.parent_code in codes else None
        children.setdefault(parent, []).append(unit)
    return render(request, "admin/org.html", {"children": children})


async def _users_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    users = sorted(await identity.list_users(session, principal), key=lambda user: user.username)
    units = await unit_options(session, principal, Action.users_manage)
    context = {
        "users": users,
        "units": units,
        "roles": ROLE_CHOICES,
        "unit_names": await unit_names(session),
        "now": utc_now(),
    }
    return render(request, "admin/users.html", context, form=form or FormView())


@router.get("/admin/users", response_class=HTMLResponse)
async def user_list(request: Request, session: SessionDep, principal: UsersManage) -> HTMLResponse:
    return await _users_page(request, session, principal)


@router.post("/admin/users", response_class=HTMLResponse)
async def user_create(request: Request, session: SessionDep, principal: UsersManage) -> Response:
    form = await Form.read(request, (*_ACCOUNT_FIELDS, "role", "role_unit_code"), verbatim=("password",))
    form.fields["grants"] = "role"  # the first grant is the role select and its unit
    role, unit = form.values["role"], form.values["role_unit_code"] or form.values["org_unit_code"]
    return await form.submit(
        session,
        UserCreate,
        lambda body: identity.create_user(session, principal, body),
        data=form.given(*_ACCOUNT_FIELDS, grants=[{"role": role, "org_unit_code": unit}] if role else []),
        done=lambda user: f"/admin/users/{user.id}?created=1",
        again=lambda errors: _users_page(request, session, principal, form.view(errors)),
    )


async def _user_page(
    request: Request, session: AsyncSession, principal: Principal, user_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    user = await identity.get_user_in_reach(session, principal, user_id)
    context = {
        "user": user,
        "grants": await identity.grants_of(session, user.id),
        # Grants waiting for a second administrator (separation of duties): approved from here by another one.
        "pending": await duties.pending_for(session, principal, user),
        "units": await unit_options(session, principal, Action.users_manage),
        "roles": ROLE_CHOICES,
        "unit_names": await unit_names(session),
        "locked": user.locked_until is not None and user.locked_until > utc_now(),
        "myself": principal.id == str(user.id),
    }
    return render(request, "admin/user.html", context, form=form or FormView(), fragment="grants")


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_detail(
    request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID
) -> HTMLResponse:
    return await _user_page(request, session, principal, user_id)


@router.post("/admin/users/{user_id}/grants", response_class=HTMLResponse)
async def user_grant(request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> Response:
    user = await identity.get_user_in_reach(session, principal, user_id)
    form = await Form.read(request, ("role", "org_unit_code"))
    form.messages.update(role=CHOOSE, org_unit_code=CHOOSE)
    return await form.submit(
        session,
        RoleGrantCreate,
        lambda grant: identity.grant_role(session, principal, user, grant),
        done=lambda made: f"/admin/users/{user.id}" + ("?requested=1" if isinstance(made, RoleGrantRequest) else ""),
        again=lambda errors: _user_page(request, session, principal, user_id, form.view(errors)),
    )


@router.post("/admin/users/{user_id}/grant-requests/{request_id}/approve", response_class=HTMLResponse)
async def user_grant_approve(
    request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID, request_id: uuid.UUID
) -> Response:
    """Approve a grant request as the second administrator (the service refuses the one who asked)."""
    user = await identity.get_user_in_reach(session, principal, user_id)
    form = Form({})
    approved = await form.run(
        session, lambda: duties.approve(session, principal, request_id), not_found=lambda error: {"form": error.detail}
    )
    if isinstance(approved, FieldErrors):
        return await _user_page(request, session, principal, user_id, form.view(approved))
    return RedirectResponse(f"/admin/users/{user.id}?approved=1", status_code=303)


@router.post("/admin/users/{user_id}/grants/{grant_id}/revoke", response_class=HTMLResponse)
async def user_revoke(
    request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID, grant_id: uuid.UUID
) -> Response:
    """Revoke one of the user's grants; a grant already gone (revoked in another tab) is said on the page."""
    user = await identity.get_user_in_reach(session, principal, user_id)
    form = Form({})
    revoked = await form.run(
        session,
        lambda: identity.revoke_grant(session, principal, user, grant_id),
        not_found=lambda error: {"form": error.detail},
    )
    if isinstance(revoked, FieldErrors):
        return await _user_page(request, session, principal, user_id, form.view(revoked))
    return RedirectResponse(f"/admin/users/{user.id}?revoked=1", status_code=303)


# --- a user's life cycle ----------------------------------------------------------------------------------------


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def user_active(request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> Response:
    """Disable (停用: her sessions end, she cannot sign in) or enable the account again."""
    user = await identity.get_user_in_reach(session, principal, user_id)
    form = await Form.read(request, ("active", "version"))
    return await form.submit(
        session,
        UserUpdate,
        lambda body: identity.update_user(session, principal, user, body),
        data={"active": form.values["active"] == "1", "version": form.values["version"]},
        done=f"/admin/users/{user.id}?done={'enabled' if form.values['active'] == '1' else 'disabled'}",
        again=lambda errors: _user_page(request, session, principal, user_id, form.view(errors)),
    )


@router.post("/admin/users/{user_id}/unlock", response_class=HTMLResponse)
async def user_unlock(request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> Response:
    """Lift the lockout after too many failed sign-ins."""
    user = await identity.get_user_in_reach(session, principal, user_id)
    await identity.unlock_user(session, user)
    return RedirectResponse(f"/admin/users/{user.id}?done=unlocked", status_code=303)


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
async def user_password(request: Request, session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> Response:
    """Reset the password to a temporary one the administrator tells her; she must change it at her next sign-in."""
    user = await identity.get_user_in_reach(session, principal, user_id)
    form = await Form.read(request, ("temporary_password",), verbatim=("temporary_password",))
    form.fields["password"] = "temporary_password"  # the service names the password field `password`
    return await form.submit(
        session,
        PasswordReset,
        lambda body: identity.reset_password(session, principal, user, body.temporary_password),
        done=f"/admin/users/{user.id}?done=reset",
        again=lambda errors: _user_page(request, session, principal, user_id, form.view(errors)),
    )
