"""A county's configuration of the shipped case types (案件类型配置): the effective definitions and the override.

The shipped definitions live in backend/case_types/definitions.py. A county may override, per type, whether it is
enabled, its label, required documents, stages and deadline rules; the override is one `case_type_configs`
row per county and code. `effective_case_types()` merges the two on every call (nothing is cached across
requests, so a change is seen by the next request of every worker).

Decisions:
- PUT replaces the county's whole override of one type: keys left out fall back to the shipped default. What
  the county sees is always "defaults + this document", never an accumulation of earlier partial edits.
- Reset (DELETE .../override) clears the row rather than deleting it (the app role holds no DELETE on the
  table, and keeping the row keeps its version counting for optimistic locking). An empty row means "no
  override".
- The social maintenance fee (社会抚养费) was abolished nationally in 2021: its type is shipped disabled and
  no county may enable it; `merge_overrides` keeps it disabled even if a row says otherwise.
- An unknown code is 404 on the /case-types/{code} routes and 422 naming the field for callers that pass a
  code from a request body (the case service: `case_type`).

Functions flush, never commit.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.case_types.definitions import (
    ABOLISHED_CASE_TYPES,
    DEFAULT_CASE_TYPES,
    OVERRIDE_KEYS,
    CaseTypeDefinition,
    merge_overrides,
    override_problems,
)
from backend.case_types.errors import (
    CaseTypeConfigConflict,
    CaseTypeNotFound,
    CaseTypeOverrideRejected,
    CaseTypeVersionRequired,
    UnknownCaseType,
)
from backend.case_types.repository import CaseTypeConfigRepository
from backend.case_types.schemas import (
    AlertPolicyRead,
    CaseTypeOverrideUpdate,
    CaseTypeRead,
    DeadlineRuleRead,
    SignoffStepRead,
)
from backend.core.errors import StaleVersion
from backend.models import CaseTypeConfig

log = logging.getLogger(__name__)

CONFIGURE_ACTION = "case_type.configure"
RESET_ACTION = "case_type.reset"
ENTITY_TYPE = CaseTypeConfigRepository.entity_type


def _is_overridden(row: CaseTypeConfig | None) -> bool:
    return row is not None and (row.enabled is not None or bool(row.overrides))


def _merged(definition: CaseTypeDefinition, row: CaseTypeConfig | None) -> CaseTypeDefinition:
    if row is None:
        return merge_overrides(definition, None, {})
    try:
        return merge_overrides(definition, row.enabled, row.overrides or {})
    except (KeyError, TypeError, ValueError):
        # Saved overrides are validated; only a row from an older rule set can get here. Serving the shipped
        # default keeps cases working, and the log tells the operator which county needs to reconfigure.
        log.warning("unreadable case-type override; using the shipped default", extra={"code": definition.code})
        return merge_overrides(definition, None, {})


async def _rows(session: AsyncSession) -> dict[str, CaseTypeConfig]:
    return {row.code: row for row in await CaseTypeConfigRepository(session).overrides()}


async def effective_case_types(session: AsyncSession) -> dict[str, CaseTypeDefinition]:
    """Every case type as this county uses it: the shipped defaults merged with the county's overrides."""
    rows = await _rows(session)
    return {code: _merged(definition, rows.get(code)) for code, definition in DEFAULT_CASE_TYPES.items()}


async def effective_case_type(session: AsyncSession, code: str, *, field: str = "case_type") -> CaseTypeDefinition:
    """One case type as this county uses it; `UnknownCaseType` (422 naming `field`) for an unknown code.

    Disabled types are returned too (historical cases keep their definition); callers opening new cases check
    `enabled`.
    """
    if code not in DEFAULT_CASE_TYPES:
        raise UnknownCaseType(code, field)
    return effective_case_type_of(code, await CaseTypeConfigRepository(session).by_code(code), field=field)


def effective_case_type_of(code: str, row: CaseTypeConfig | None, *, field: str = "case_type") -> CaseTypeDefinition:
    """`effective_case_type` for a caller that read the county's override row (or found none) in a statement of
    its own (the case opening reads it with the unit: docs/adr/0012-lean-case-opening.md)."""
    definition = DEFAULT_CASE_TYPES.get(code)
    if definition is None:
        raise UnknownCaseType(code, field)
    return _merged(definition, row)


def _read(definition: CaseTypeDefinition, row: CaseTypeConfig | None) -> CaseTypeRead:
    overridden: list[str] = []
    if row is not None:
        overridden = (["enabled"] if row.enabled is not None else []) + [
            key for key in OVERRIDE_KEYS if key in (row.overrides or {})
        ]
    return CaseTypeRead(
        code=definition.code,
        label=definition.label,
        enabled=definition.enabled,
        abolished=definition.code in ABOLISHED_CASE_TYPES,
        stages=list(definition.stages),
        required_documents=list(definition.required_documents),
        deadlines=[
            DeadlineRuleRead(
                stage=rule.stage, working_days=rule.working_days, calendar_days=rule.calendar_days, source=rule.source
            )
            for rule in definition.deadlines
        ],
        alerts=AlertPolicyRead(
            reminder_working_days=definition.alerts.reminder_working_days,
            escalation_working_days=list(definition.alerts.escalation_working_days),
        ),
        note=definition.note,
        signoffs=[SignoffStepRead.of(step) for step in definition.signoffs],
        overridden_fields=overridden,
        version=row.version if row is not None else None,
    )


def _known(code: str) -> CaseTypeDefinition:
    definition = DEFAULT_CASE_TYPES.get(code)
    if definition is None:
        raise CaseTypeNotFound()
    return definition


async def list_case_types(session: AsyncSession) -> list[CaseTypeRead]:
    """Every type with its effective definition in this county, in the shipped order."""
    rows = await _rows(session)
    return [
        _read(_merged(definition, rows.get(code)), rows.get(code)) for code, definition in DEFAULT_CASE_TYPES.items()
    ]


async def get_case_type(session: AsyncSession, code: str) -> CaseTypeRead:
    """One type's effective definition in this county; 404 for an unknown code."""
    definition = _known(code)
    row = await CaseTypeConfigRepository(session).by_code(code)
    return _read(_merged(definition, row), row)


def _document(enabled: bool | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """The override as one flat document, for audit diffs and stale-version answers."""
    return {"enabled": enabled, **overrides}


def _stale(row: CaseTypeConfig) -> StaleVersion:
    return StaleVersion(current={"version": row.version, "enabled": row.enabled, "overrides": row.overrides})


def _check_version(row: CaseTypeConfig | None, version: int | None) -> None:
    if row is None:
        if version is not None:
            raise StaleVersion(current={"version": None, "enabled": None, "overrides": {}})
        return
    if version is None:
        raise CaseTypeVersionRequired()
    if version != row.version:
        raise _stale(row)


async def _audit(session: AsyncSession, principal: Principal, code: str, action: str, changes: dict[str, Any]) -> None:
    await audit.record(
        session,
        action=action,
        entity_type=ENTITY_TYPE,
        entity_id=code,
        org_unit_code=principal.tenant_code,
        changes=changes,
    )


async def configure_case_type(
    session: AsyncSession, principal: Principal, code: str, update: CaseTypeOverrideUpdate
) -> CaseTypeRead:
    """Replace the county's override of `code` with `update` (validated on the merged result), audited."""
    definition = _known(code)
    body = update.model_dump(mode="json", exclude={"version"})
    enabled = body.pop("enabled")
    overrides = {key: value for key, value in body.items() if key in OVERRIDE_KEYS and value is not None}
    if "deadlines" in overrides:
        overrides["deadlines"] = [
            {key: value for key, value in rule.items() if value is not None} for rule in overrides["deadlines"]
        ]
    problems = override_problems(definition, enabled, overrides)
    if problems:
        raise CaseTypeOverrideRejected(problems)
    repository = CaseTypeConfigRepository(session)
    row = await repository.by_code(code, for_update=True)
    _check_version(row, update.version)
    before = _document(row.enabled, row.overrides) if row is not None else _document(None, {})
    if row is None:
        row = CaseTypeConfig(
            id=uuid.uuid4(), tenant_id=repository.tenant_id, code=code, enabled=enabled, overrides=overrides
        )
        repository.add(row)
    else:
        row.enabled = enabled
        row.overrides = overrides
    # Two first configurations of the same type at once: the second loses, like any stale write.
    await repository.flush_unique("uq_case_type_configs_tenant_id_code", CaseTypeConfigConflict)
    changes = audit.diff(before, _document(enabled, overrides))
    if changes:
        await _audit(session, principal, code, CONFIGURE_ACTION, changes)
    return _read(_merged(definition, row), row)


async def reset_case_type(
    session: AsyncSession, principal: Principal, code: str, version: int | None = None
) -> CaseTypeRead:
    """Back to the shipped default: clear the county's override (audited when there was one)."""
    definition = _known(code)
    repository = CaseTypeConfigRepository(session)
    row = await repository.by_code(code, for_update=True)
    if row is not None and version is not None and version != row.version:
        raise _stale(row)
    if row is not None and _is_overridden(row):
        before = _document(row.enabled, row.overrides)
        row.enabled = None
        row.overrides = {}
        await repository.flush()
        await _audit(session, principal, code, RESET_ACTION, audit.diff(before, _document(None, {})))
    return _read(_merged(definition, row), row)
