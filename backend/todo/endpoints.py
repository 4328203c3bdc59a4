"""The to-do route: GET /api/v1/me/todo, what waits for me now (optionally one kind), with the count of each."""

from __future__ import annotations

from fastapi import APIRouter

from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.todo import service
from backend.todo.auth import TodoOwn
from backend.todo.schemas import TodoKind, TodoList

router = APIRouter(prefix=f"{API_V1}/me/todo", tags=["todo"])


@router.get("", summary="What waits for me now, overdue first, then by due moment")
async def my_todo(session: SessionDep, principal: TodoOwn, kind: TodoKind | None = None) -> TodoList:
    return await service.todo_list(session, principal, kind)
