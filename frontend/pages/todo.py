"""The to-do list (我的待办) and the header's to-do count: what waits for me now, overdue first, each item linking
to where it is done; the count is a fragment the header refreshes by HTMX, like the bell. Same service as
/api/v1/me/todo."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.db.session import SessionDep
from backend.todo import service
from backend.todo.auth import TodoOwn
from backend.todo.schemas import TodoKind
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/todo", response_class=HTMLResponse)
async def todo_page(request: Request, session: SessionDep, principal: TodoOwn) -> HTMLResponse:
    raw = request.query_params.get("kind")
    kind = TodoKind(raw) if raw in set(TodoKind) else None  # an unknown kind shows everything
    listed = await service.todo_list(session, principal, kind)
    return render(
        request,
        "todo/list.html",
        {
            "items": listed.items,
            "counts": {**listed.counts.model_dump(), "total": listed.counts.total},
            "kind": kind.value if kind else None,
            "truncated": listed.truncated,
        },
    )


@router.get("/todo/count", response_class=HTMLResponse)
async def todo_count(request: Request, session: SessionDep, principal: TodoOwn) -> HTMLResponse:
    return render(request, "todo/count.html", {"todo_total": (await service.counts(session, principal)).total})
