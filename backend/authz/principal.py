"""Who is making the request, and what Casbin says they may do where."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

import casbin
from casbin import util

from backend.authz.vocabulary import BREAK_GLASS_ACTIONS, CLIENT_SCOPE_ACTIONS, ROLE_TEMPLATES, Action

MODEL_TEXT = (Path(__file__).parent / "model.conf").read_text(encoding="utf-8")
BREAK_GLASS_ROLE = "break_glass"
ANY_TENANT = "*"


@dataclass(frozen=True, slots=True)
class ScopedRole:
    """A role held over the subtree rooted at `org_unit_code` (`*` = every county, for instance-wide clients)."""

    role: str
    org_unit_code: str


@dataclass(frozen=True, slots=True)
class BreakGlassScope:
    grant_id: uuid.UUID
    org_unit_code: str
    reason: str
    expires_at: datetime


PrincipalKind = Literal["user", "api_client", "platform_admin"]


@dataclass
class Principal:
    kind: PrincipalKind
    id: str
    label: str
    tenant_id: uuid.UUID | None
    tenant_code: str | None
    org_unit_code: str | None
    roles: tuple[ScopedRole, ...]
    break_glass: tuple[BreakGlassScope, ...] = ()
    session_id: uuid.UUID | None = None
    csrf_token: str | None = None
    client_scopes: tuple[str, ...] = field(default=())
    # An administrator reset her password: until she chooses her own, she may only do that (or sign out).
    must_change_password: bool = False

    @property
    def subject(self) -> str:
        return f"{self.kind}:{self.id}"

    def _domain(self, unit_code: str) -> str:
        return f"{self.tenant_code or ANY_TENANT}:{unit_code}"

    @cached_property
    def _grants(self) -> _Grants:
        """The enforcer holding the role templates and only this principal's grants, and the decisions taken on
        it, shared by the requests of a principal whose grants are the same (building one costs a few
        milliseconds, a decision a fraction of one). A changed grant is another key: nothing to invalidate."""
        break_glass_domains = tuple(sorted(self._domain(scope.org_unit_code) + "*" for scope in self.break_glass))
        return _grants_for(self.subject, self.tenant_code, tuple(self.roles), break_glass_domains)

    @property
    def _enforcer(self) -> casbin.Enforcer:
        return self._grants.enforcer

    @property
    def _decisions(self) -> dict[tuple[str, str], bool]:
        return self._grants.decisions

    def can(self, action: Action, unit_code: str) -> bool:
        """May this principal perform `action` on something that belongs to `unit_code`?"""
        key = (action.value, unit_code)
        decision = self._decisions.get(key)
        if decision is None:
            decision = bool(self._enforcer.enforce(self.subject, self._domain(unit_code), action.value))
            if len(self._decisions) >= DECISIONS_PER_GRANT_SET:
                self._decisions.clear()
            self._decisions[key] = decision
        return decision

    def _role_has(self, role: str, action: Action) -> bool:
        return bool(self._enforcer.has_policy(role, action.value))

    def scopes_for(self, action: Action) -> list[str]:
        """The org subtree roots where `action` is allowed, regular grants and break-glass alike. Lists filter
        on these prefixes in SQL; '' means every unit of the tenant (or of every tenant for `*` grants)."""
        roots = {
            "" if g.org_unit_code == ANY_TENANT else g.org_unit_code
            for g in self.roles
            if self._role_has(g.role, action)
        }
        if action in BREAK_GLASS_ACTIONS:
            roots |= {scope.org_unit_code for scope in self.break_glass}
        return _outermost(roots)

    def regular_scopes_for(self, action: Action) -> list[str]:
        """Like scopes_for, without break-glass grants."""
        return _outermost(
            {
                "" if g.org_unit_code == ANY_TENANT else g.org_unit_code
                for g in self.roles
                if self._role_has(g.role, action)
            }
        )

    def break_glass_for(self, action: Action, unit_code: str) -> BreakGlassScope | None:
        """The break-glass grant that alone allows this read, if the regular grants do not."""
        if any(unit_code.startswith(root) for root in self.regular_scopes_for(action)):
            return None
        if action not in BREAK_GLASS_ACTIONS:
            return None
        return next((scope for scope in self.break_glass if unit_code.startswith(scope.org_unit_code)), None)

    def holds(self, action: Action) -> bool:
        return bool(self.scopes_for(action))


@dataclass(frozen=True, slots=True)
class _Grants:
    enforcer: casbin.Enforcer
    # (action, unit code) → allowed; bounded: a principal asks about the units it works on.
    decisions: dict[tuple[str, str], bool] = field(default_factory=dict)


DECISIONS_PER_GRANT_SET = 4096


@lru_cache(maxsize=4096)
def _grants_for(
    subject: str, tenant_code: str | None, roles: tuple[ScopedRole, ...], break_glass_domains: tuple[str, ...]
) -> _Grants:
    return _Grants(_enforcer_for(subject, tenant_code, roles, break_glass_domains))


def _enforcer_for(
    subject: str, tenant_code: str | None, roles: tuple[ScopedRole, ...], break_glass_domains: tuple[str, ...]
) -> casbin.Enforcer:
    """A Casbin enforcer for exactly these grants. Keyed by everything that goes into it, so a changed grant
    (or a break-glass grant that ended, which drops out of the principal) builds a new one; only `enforce` and
    `has_policy` are called on it afterwards, never a mutation."""
    model = casbin.model.Model()
    model.load_model_from_text(MODEL_TEXT)
    enforcer = casbin.Enforcer(model)
    enforcer.add_named_domain_matching_func("g", util.key_match_func)
    policies = [[role.value, action.value] for role, actions in ROLE_TEMPLATES.items() for action in actions]
    policies += [[BREAK_GLASS_ROLE, action.value] for action in BREAK_GLASS_ACTIONS]
    policies += [
        [f"scope:{scope.value}", action.value] for scope, actions in CLIENT_SCOPE_ACTIONS.items() for action in actions
    ]
    enforcer.add_policies(policies)
    for grant in roles:
        tenant = ANY_TENANT if grant.org_unit_code == ANY_TENANT else (tenant_code or ANY_TENANT)
        unit = "" if grant.org_unit_code == ANY_TENANT else grant.org_unit_code
        enforcer.add_grouping_policy(subject, grant.role, f"{tenant}:{unit}*")
    for domain in break_glass_domains:
        enforcer.add_grouping_policy(subject, BREAK_GLASS_ROLE, domain)
    return enforcer


def _outermost(roots: set[str]) -> list[str]:
    """Drop roots inside other roots: ['330106001', '330106001002'] -> ['330106001']."""
    ordered = sorted(roots, key=len)
    kept: list[str] = []
    for root in ordered:
        if not any(root.startswith(outer) for outer in kept):
            kept.append(root)
    return sorted(kept)
