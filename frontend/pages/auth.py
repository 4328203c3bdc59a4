"""Sign-in, sign-out, password change and the signed-in landing page."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.auth.cookie import SESSION_COOKIE
from backend.authz.dependencies import Authenticated
from backend.db.session import SessionDep
from backend.identity import service as identity
from backend.identity.endpoints import set_session_cookie
from backend.identity.errors import LOGIN_FAILED
from backend.identity.security import new_token, tokens_equal
from backend.tenants.service import list_tenants
from frontend.forms import FieldErrors, Form, FormView
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "lg_login_csrf"
FORM_EXPIRED = "页面已过期，请重试 / The form expired; please try again"
LOGIN_FIELDS = ("tenant_code", "username", "password", "csrf_token", "next")
PASSWORD_FIELDS = ("current_password", "new_password", "new_password_again")
PASSWORDS_DIFFER = "两次输入的新密码不一致 / the two new passwords differ"


def _safe_next(next_path: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker could send the user to."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or urlsplit(next_path).netloc:
        return "/dashboard"
    return next_path


async def _login_page(
    request: Request,
    session: SessionDep,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    # Before there is a session, CSRF protection is a double-submit token: cookie and hidden field must match.
    csrf = new_token(24)
    counties = [
        (tenant.code, f"{tenant.name}（{tenant.code}）") for tenant in await list_tenants(session) if tenant.active
    ]
    response = render(
        request,
        "auth/login.html",
        {
            "counties": counties,
            "csrf_token": csrf,
            "error": error,
            "form": form or {},
            "next": _safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, session: SessionDep) -> HTMLResponse:
    return await _login_page(request, session)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep) -> Response:
    form = await Form.read(request, LOGIN_FIELDS, verbatim=("password",))
    tenant_code, username = form.values["tenant_code"], form.values["username"]
    shown = {"tenant_code": tenant_code, "username": username}
    expected_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected_csrf or not tokens_equal(form.values["csrf_token"], expected_csrf):
        return await _login_page(request, session, error=FORM_EXPIRED, status_code=403, form=shown)
    settings = request.app.state.settings
    signed_in = None
    if tenant_code.isdigit() and len(tenant_code) == 6 and username:
        signed_in = await identity.sign_in(
            session,
            settings,
            tenant_code=tenant_code,
            username=username,
            password=form.values["password"],
            client_addr=request.client.host if request.client else None,
        )
    if signed_in is None:
        return await _login_page(request, session, error=LOGIN_FAILED, status_code=401, form=shown)
    response = RedirectResponse(_safe_next(form.values["next"]), status_code=303)
    set_session_cookie(response, identity.session_cookie_value(signed_in), secure=settings.environment == "production")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(session: SessionDep, principal: Authenticated) -> Response:
    if principal.session_id is not None:
        await identity.end_session(session, await identity.session_by_id(session, principal.session_id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password", response_class=HTMLResponse)
async def password_form(request: Request, principal: Authenticated) -> HTMLResponse:
    return render(request, "auth/password.html", form=FormView())


@router.post("/password", response_class=HTMLResponse)
async def password_change(request: Request, session: SessionDep, principal: Authenticated) -> HTMLResponse:
    """Change my password; the other sessions end (the service keeps this one)."""
    form = await Form.read(request, PASSWORD_FIELDS, verbatim=PASSWORD_FIELDS)
    current, new, again = (form.values[name] for name in PASSWORD_FIELDS)
    if new != again:
        return render(request, "auth/password.html", form=form.view({"new_password_again": PASSWORDS_DIFFER}))
    user = await identity.user_for_principal(session, principal)
    changed = await form.run(
        session,
        lambda: identity.change_password(
            session, user, current_password=current, new_password=new, keep_session=principal.session_id
        ),
    )
    if isinstance(changed, FieldErrors):
        return render(request, "auth/password.html", form=form.view(changed))
    return render(request, "auth/password.html", {"changed": True}, form=FormView())
