"""Sign-in, the caller's own account, and user administration for county admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from backend.auth.cookie import SESSION_COOKIE
from backend.core.input import CountyCode
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.identity import duties, service
from backend.identity.auth import Authenticated, UsersManage
from backend.identity.errors import LOGIN_FAILED
from backend.identity.schemas import (
    GrantRequestDecision,
    GrantRequestRead,
    LoginRequest,
    LoginResponse,
    MeRead,
    PasswordChange,
    PasswordReset,
    RoleGrantCreate,
    RoleGrantRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from backend.models import RoleGrant, RoleGrantRequest, User
from backend.tenants.auth import TenantsProvision
from backend.tenants.service import enter_tenant

auth_router = APIRouter(prefix=f"{API_V1}/auth", tags=["auth"])
admin_router = APIRouter(prefix=f"{API_V1}/admin/users", tags=["admin"])
requests_router = APIRouter(prefix=f"{API_V1}/admin/grant-requests", tags=["admin"])
platform_requests_router = APIRouter(prefix=f"{API_V1}/platform/tenants/{{code}}/grant-requests", tags=["platform"])
CountyPath = Annotated[CountyCode, Path(description="6-digit county division code")]


def set_session_cookie(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/")


@auth_router.post("/session", response_model=LoginResponse, summary="Sign in (browser session cookie)")
async def sign_in(request: Request, session: SessionDep, login: LoginRequest) -> Response:
    settings = request.app.state.settings
    signed_in = await service.sign_in(
        session,
        settings,
        tenant_code=login.tenant_code,
        username=login.username,
        password=login.password,
        client_addr=request.client.host if request.client else None,
    )
    if signed_in is None:
        # Returned, not raised: the failure count and its audit event must commit with this request.
        return JSONResponse({"error": "LOGIN_FAILED", "detail": LOGIN_FAILED, "fields": []}, status_code=401)
    body = LoginResponse(
        user_id=signed_in.user.id,
        display_name=signed_in.user.display_name,
        csrf_token=signed_in.user_session.csrf_token,
        expires_at=signed_in.user_session.expires_at,
        must_change_password=signed_in.user.must_change_password,
    )
    response = JSONResponse(body.model_dump(mode="json"))
    set_session_cookie(response, service.session_cookie_value(signed_in), secure=settings.environment == "production")
    return response


@auth_router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
async def sign_out(session: SessionDep, principal: Authenticated) -> Response:
    if principal.session_id is not None:
        user_session = await service.session_by_id(session, principal.session_id)
        await service.end_session(session, user_session)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@auth_router.get("/me", response_model=MeRead, summary="Who am I, and what may I do where")
async def me(principal: Authenticated) -> MeRead:
    return MeRead(
        kind=principal.kind,
        id=principal.id,
        label=principal.label,
        tenant_code=principal.tenant_code,
        org_unit_code=principal.org_unit_code,
        roles=[{"role": grant.role, "org_unit_code": grant.org_unit_code} for grant in principal.roles],
        break_glass=[
            {"org_unit_code": scope.org_unit_code, "expires_at": scope.expires_at.isoformat()}
            for scope in principal.break_glass
        ],
    )


@auth_router.post("/password", status_code=status.HTTP_204_NO_CONTENT, summary="Change my password")
async def change_password(session: SessionDep, principal: Authenticated, change: PasswordChange) -> Response:
    user = await service.user_for_principal(session, principal)
    await service.change_password(
        session,
        user,
        current_password=change.current_password,
        new_password=change.new_password,
        keep_session=principal.session_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _user_read(session: SessionDep, user: User) -> UserRead:
    grants = await service.grants_of(session, user.id)
    read = UserRead.model_validate(user)
    read.grants = [RoleGrantRead.model_validate(grant) for grant in grants]
    read.locked = user.locked_until is not None and user.locked_until > service.utc_now()
    return read


@admin_router.get("", response_model=list[UserRead], summary="Users in the units I administer")
async def list_users(session: SessionDep, principal: UsersManage) -> list[UserRead]:
    return [await _user_read(session, user) for user in await service.list_users(session, principal)]


@admin_router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED, summary="Create a user")
async def create_user(session: SessionDep, principal: UsersManage, user_create: UserCreate) -> UserRead:
    user = await service.create_user(session, principal, user_create)
    return await _user_read(session, user)


@admin_router.get("/{user_id}", response_model=UserRead, summary="One user")
async def get_user(session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> UserRead:
    return await _user_read(session, await service.get_user_in_reach(session, principal, user_id))


@admin_router.patch("/{user_id}", response_model=UserRead, summary="Change a user (optimistic lock)")
async def update_user(session: SessionDep, principal: UsersManage, user_id: uuid.UUID, update: UserUpdate) -> UserRead:
    user = await service.get_user_in_reach(session, principal, user_id)
    return await _user_read(session, await service.update_user(session, principal, user, update))


@admin_router.post(
    "/{user_id}/grants",
    response_model=RoleGrantRead,
    status_code=status.HTTP_201_CREATED,
    summary="Grant a role over an org subtree (202 and a grant request when a second administrator must approve)",
    responses={202: {"model": GrantRequestRead, "description": "separation of duties: waiting for approval"}},
)
async def grant_role(
    session: SessionDep, principal: UsersManage, user_id: uuid.UUID, grant: RoleGrantCreate
) -> RoleGrantRead | Response:
    user = await service.get_user_in_reach(session, principal, user_id)
    made = await service.grant_role(session, principal, user, grant)
    if isinstance(made, RoleGrantRequest):
        return JSONResponse(grant_request_read(made).model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)
    return RoleGrantRead.model_validate(made)


@admin_router.delete(
    "/{user_id}/grants/{grant_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a role grant"
)
async def revoke_grant(
    session: SessionDep, principal: UsersManage, user_id: uuid.UUID, grant_id: uuid.UUID
) -> Response:
    user = await service.get_user_in_reach(session, principal, user_id)
    await service.revoke_grant(session, principal, user, grant_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post(
    "/{user_id}/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a temporary password; the user must change it at her next sign-in",
)
async def reset_password(
    session: SessionDep, principal: UsersManage, user_id: uuid.UUID, body: PasswordReset
) -> Response:
    user = await service.get_user_in_reach(session, principal, user_id)
    await service.reset_password(session, principal, user, body.temporary_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin_router.post("/{user_id}/unlock", status_code=status.HTTP_204_NO_CONTENT, summary="Unlock a locked account")
async def unlock_user(session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> Response:
    await service.unlock_user(session, await service.get_user_in_reach(session, principal, user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- grants waiting for a second administrator (backend/identity/duties.py) ----------------------------------------


def grant_request_read(request: RoleGrantRequest) -> GrantRequestRead:
    return GrantRequestRead(
        id=request.id,
        user_id=uuid.UUID(request.subject.removeprefix("user:")),
        role=request.role,
        org_unit_code=request.org_unit_code,
        status=request.decision or "pending",
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        reason=request.reason,
        grant_id=request.grant_id,
    )


def _grant_read(grant: RoleGrant) -> RoleGrantRead:
    return RoleGrantRead.model_validate(grant)


@requests_router.get("", response_model=list[GrantRequestRead], summary="Grants waiting for a second administrator")
async def pending_grant_requests(session: SessionDep, principal: UsersManage) -> list[GrantRequestRead]:
    return [grant_request_read(request) for request in await duties.pending_requests(session, principal)]


@requests_router.post(
    "/{request_id}/approve", response_model=RoleGrantRead, summary="Approve as the second administrator"
)
async def approve_grant_request(session: SessionDep, principal: UsersManage, request_id: uuid.UUID) -> RoleGrantRead:
    return _grant_read(await duties.approve(session, principal, request_id))


@requests_router.post("/{request_id}/refuse", response_model=GrantRequestRead, summary="Refuse a grant request")
async def refuse_grant_request(
    session: SessionDep, principal: UsersManage, request_id: uuid.UUID, decision: GrantRequestDecision
) -> GrantRequestRead:
    return grant_request_read(await duties.refuse(session, principal, request_id, decision.reason))


@platform_requests_router.get(
    "", response_model=list[GrantRequestRead], summary="A county's grants waiting for a second administrator"
)
async def platform_pending_grant_requests(
    session: SessionDep, principal: TenantsProvision, code: CountyPath
) -> list[GrantRequestRead]:
    await enter_tenant(session, code)
    return [grant_request_read(request) for request in await duties.pending_requests(session, principal)]


@platform_requests_router.post(
    "/{request_id}/approve", response_model=RoleGrantRead, summary="Approve a county's grant request (operator)"
)
async def platform_approve_grant_request(
    session: SessionDep, principal: TenantsProvision, code: CountyPath, request_id: uuid.UUID
) -> RoleGrantRead:
    await enter_tenant(session, code)
    return _grant_read(await duties.approve(session, principal, request_id))


@platform_requests_router.post(
    "/{request_id}/refuse", response_model=GrantRequestRead, summary="Refuse a county's grant request (operator)"
)
async def platform_refuse_grant_request(
    session: SessionDep,
    principal: TenantsProvision,
    code: CountyPath,
    request_id: uuid.UUID,
    decision: GrantRequestDecision,
) -> GrantRequestRead:
    await enter_tenant(session, code)
    return grant_request_read(await duties.refuse(session, principal, request_id, decision.reason))
