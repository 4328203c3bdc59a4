"""The dashboard of each role: my queue, due soon, overdue and cases by unit (with a bar chart drawn as SVG on the
server: no chart library to ship), the entry points of the role's work, and a 「从这里开始」 note per role.

Every figure links to the list it counts, with the same condition (`CaseRepository.due_soon` for 三日内到期):
tests/frontend/test_dashboard_figures.py compares each one with its list."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.authz.dependencies import Authenticated
from backend.authz.vocabulary import Action
from backend.cases import views
from backend.core.clock import utc_now
from backend.db.session import SessionDep
from backend.org import service as org
from backend.todo import service as todo
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


@dataclass
class UnitRow:
    """A row of the dashboard's table: a unit one level below the caller's reach (its whole subtree), or a unit at
    or above that level for the cases kept at that unit itself (`own`)."""

    code: str
    name: str
    own: bool
    open: int = 0
    overdue: int = 0
    soon: int = 0

    @property
    def query(self) -> str:
        """The list of this row's cases."""
        return f"unit={self.code}" if self.own else f"org_unit={self.code}"


def _row_of(code: str, roots: list[str]) -> tuple[str, bool]:
    """The row a case of unit `code` is counted in: one level below the caller's root (a township for a county user,
    a village for a township user), or the unit itself when the case is kept above that level."""
    root = next((root for root in roots if code.startswith(root)), "")
    level = 9 if len(root) <= 6 else min(12, len(root) + 3)
    return (code, True) if len(code) < level else (code[:level], False)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, principal: Authenticated) -> Response:
    if principal.must_change_password:  # an administrator reset her password: her own first
        return RedirectResponse("/password?required=1", status_code=303)
    context: dict[str, object] = {
        "roles": [(grant.role, grant.org_unit_code) for grant in principal.roles],
        "casework": principal.holds(Action.case_read),
        "todo": await todo.counts(session, principal),
    }
    grant_units = {grant.org_unit_code for grant in principal.roles}
    if principal.holds(Action.case_read) and principal.tenant_id is not None:
        roots = principal.scopes_for(Action.case_read)
        all_rows = await views.unit_counts(session, principal, utc_now())
        names = {unit.code: unit.name for unit in await org.list_units_in_scopes(session, roots)}
        rows: dict[tuple[str, bool], UnitRow] = {}
        for code, open_count, overdue, due_soon in all_rows:
            key = _row_of(code, roots)
            row = rows.setdefault(key, UnitRow(key[0], names.get(key[0], key[0]), key[1]))
            row.open, row.overdue, row.soon = row.open + open_count, row.overdue + overdue, row.soon + due_soon
        context.update(
            open_total=sum(row[1] for row in all_rows),
            overdue_total=sum(row[2] for row in all_rows),
            soon_total=sum(row[3] for row in all_rows),
            by_unit=[rows[key] for key in sorted(rows)],
        )
        context["chart_max"] = max([row.open for row in rows.values()] + [1])
        grant_units |= set(roots)
    else:
        names = {}
    if principal.tenant_id is not None:
        names |= {unit.code: unit.name for unit in await org.list_units_in_scopes(session, sorted(grant_units))}
    context["unit_names"] = names
    return render(request, "dashboard.html", context)
