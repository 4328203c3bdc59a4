"""Object-level authorization: 404 outside the caller's reach, and break-glass reads audited with their reason."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import NotFound


async def authorize_unit(
    session: AsyncSession,
    principal: Principal,
    action: Action,
    unit_code: str,
    *,
    entity_type: str,
    entity_id: str,
    not_found: NotFound | None = None,
) -> None:
    """Allow `action` on an object of `unit_code`, or answer 404 as if it did not exist.

    A read allowed only by a break-glass grant is recorded in the audit log with the grant's reason.
    """
    if not principal.can(action, unit_code):
        raise not_found or NotFound()
    break_glass = principal.break_glass_for(action, unit_code)
    if break_glass is not None:
        await audit.record(
            session,
            action="break_glass.read",
            entity_type=entity_type,
            entity_id=entity_id,
            org_unit_code=unit_code,
            reason=break_glass.reason,
            correlation_id=str(break_glass.grant_id),
            changes={"permission": action.value},
        )


async def audit_break_glass_listing(
    session: AsyncSession, principal: Principal, action: Action, *, entity_type: str, unit_codes: set[str]
) -> None:
    """A list that showed rows reachable only through break-glass records one event per grant used."""
    for scope in principal.break_glass:
        if any(code.startswith(scope.org_unit_code) for code in unit_codes) and not any(
            scope.org_unit_code.startswith(root) for root in principal.regular_scopes_for(action)
        ):
            await audit.record(
                session,
                action="break_glass.list",
                entity_type=entity_type,
                entity_id=scope.org_unit_code,
                org_unit_code=scope.org_unit_code,
                reason=scope.reason,
                correlation_id=str(scope.grant_id),
                changes={"permission": action.value},
            )
