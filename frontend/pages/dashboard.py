"""The dashboard of each role: my queue, due soon, overdue and cases by unit (with a bar chart drawn as SVG
on the server: no chart library to ship), and the entry points of the role's work."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.authz.dependencies import Authenticated
from backend.authz.vocabulary import ROLE_LABELS, Action
from backend.cases import views
from backend.core.clock import utc_now
from backend.db.session import SessionDep
from backend.org import service as org
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


def _unit_level(code: str, roots: list[str]) -> str:
    """The unit one level below the caller's root under which `code` lies (a township for a county user, a
    village for a township user), so the chart has a handful of bars."""
    root = next((root for root in roots if code.startswith(root)), "")
    return code[: 9 if len(root) <= 6 else min(12, len(root) + 3)]


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, principal: Authenticated) -> HTMLResponse:
    roles = [(ROLE_LABELS.get(grant.role, grant.role), grant.org_unit_code) for grant in principal.roles]  # type: ignore[call-overload]
    context: dict[str, object] = {"roles": roles, "casework": principal.holds(Action.case_read)}
    if principal.holds(Action.case_read) and principal.tenant_id is not None:
        roots = principal.scopes_for(Action.case_read)
        mine_rows, all_rows = await views.unit_counts(session, principal, utc_now())
        by_unit: dict[str, list[int]] = {}
        for code, open_count, overdue, due_soon in all_rows:
            bucket = by_unit.setdefault(_unit_level(code, roots), [0, 0, 0])
            bucket[0] += open_count
            bucket[1] += overdue
            bucket[2] += due_soon
        names = {unit.code: unit.name for unit in await org.list_units_in_scopes(session, roots)}
        context.update(
            mine=sum(row[1] for row in mine_rows),
            open_total=sum(row[1] for row in all_rows),
            overdue_total=sum(row[2] for row in all_rows),
            soon_total=sum(row[3] for row in all_rows),
            by_unit=[(names.get(code, code), code, *counts) for code, counts in sorted(by_unit.items())],
        )
        context["chart_max"] = max([row[2] for row in context["by_unit"]] + [1])  # type: ignore[attr-defined]
    return render(request, "dashboard.html", context)
