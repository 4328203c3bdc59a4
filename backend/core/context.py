"""Per-request context (request id, client address, actor) carried in context variables.

Log lines and audit events read it from here, so no function has to thread it through its arguments.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a write: a user, a department API client, the system (workflows, CLI) or a platform admin."""

    kind: str  # "user" | "api_client" | "system" | "platform_admin"
    id: str
    label: str = ""


SYSTEM_ACTOR = Actor(kind="system", id="system", label="系统 system")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_addr_var: ContextVar[str | None] = ContextVar("client_addr", default=None)
actor_var: ContextVar[Actor] = ContextVar("actor", default=SYSTEM_ACTOR)
