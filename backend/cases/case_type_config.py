"""A county's configuration of the shipped case types (案件类型配置): errors, schemas, queries, rules and routes.

The shipped definitions live in backend/cases/case_types.py. A county may override, per type, whether it is
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
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases.case_types import (
    ABOLISHED_CASE_TYPES,
    DEFAULT_CASE_TYPES,
    OVERRIDE_KEYS,
    CaseTypeDefinition,
    merge_overrides,
    override_problems,
)
from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound, StaleVersion
from backend.core.routing import API_V1
from backend.core.schemas import InputSchema, OutputSchema
from backend.db.session import SessionDep
from backend.db.tenancy import current_tenant_id
from backend.models import CaseStage, CaseTypeConfig

log = logging.getLogger(__name__)

CONFIGURE_ACTION = "case_type.configure"
RESET_ACTION = "case_type.reset"
ENTITY_TYPE = "case_type"

# --- errors ----------------------------------------------------------------------------------------------


class CaseTypeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("案件类型不存在 / Case type not found")


class UnknownCaseType(InvalidInput):
    """A code given in a request body that names no case type (422 naming that field)."""

    def __init__(self, code: str, field: str = "case_type") -> None:
        super().__init__(
            "未知的案件类型 / Unknown case type",
            [FieldError(("body", field), f"未知的案件类型 {code} / unknown case type {code}")],
        )


class CaseTypeOverrideRejected(InvalidInput):
    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(
            "案件类型配置有误，未保存 / The case-type configuration is invalid; nothing was saved", problems
        )


class CaseTypeConfigConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "配置已被他人同时修改，请刷新后重试 / Someone else configured this type at the same time; reload and retry",
            code="STALE_VERSION",
        )


# --- schemas ---------------------------------------------------------------------------------------------


class DeadlineRuleBody(InputSchema):
    stage: CaseStage
    working_days: int | None = Field(default=None, description="1 to 60 working days; or give calendar_days")
    calendar_days: int | None = Field(default=None, description="calendar days (自然日); or give working_days")
    source: Annotated[str, StringConstraints(max_length=200)] = Field(
        default="", description="where the rule comes from, quoted for officers"
    )


class AlertPolicyBody(InputSchema):
    reminder_working_days: int = Field(default=2, description="reminder this many working days before the due day")
    escalation_working_days: list[int] = Field(
        default=[2, 5],
        description="working days after the due day for rung 2 (township supervisor) and rung 3 (county supervisor)",
    )


class AlertPolicyRead(OutputSchema):
    reminder_working_days: int
    escalation_working_days: list[int]


class CaseTypeOverrideUpdate(InputSchema):
    """The county's whole override of one type; a key left out (or null) follows the shipped default."""

    enabled: bool | None = None
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    required_documents: list[str] | None = None
    stages: list[CaseStage] | None = None
    deadlines: list[DeadlineRuleBody] | None = None
    alerts: AlertPolicyBody | None = None
    version: int | None = Field(
        default=None, description="The override version you read; required once the county has an override row"
    )


class DeadlineRuleRead(OutputSchema):
    stage: CaseStage
    working_days: int | None
    calendar_days: int | None
    source: str


class CaseTypeRead(OutputSchema):
    """The effective definition in this county, and what the county changed."""

    code: str
    label: str
    enabled: bool
    abolished: bool
    stages: list[CaseStage]
    required_documents: list[str]
    deadlines: list[DeadlineRuleRead]
    alerts: AlertPolicyRead
    note: str
    overridden_fields: list[str]
    version: int | None = Field(description="The override row's version (null: never configured)")


# --- repository ------------------------------------------------------------------------------------------


class CaseTypeConfigRepository:
    """Every query on `case_type_configs` (tenant-scoped as well as guarded by row-level security)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[CaseTypeConfig]:
        """The county's override rows."""
        statement = select(CaseTypeConfig).where(CaseTypeConfig.tenant_id == current_tenant_id(self.session))
        return list((await self.session.execute(statement)).scalars().all())

    async def get(self, code: str, *, for_update: bool = False) -> CaseTypeConfig | None:
        """The county's override row of one type, locked for the transaction when about to change it."""
        statement = select(CaseTypeConfig).where(
            CaseTypeConfig.tenant_id == current_tenant_id(self.session), CaseTypeConfig.code == code
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    def add(self, row: CaseTypeConfig) -> None:
        """Stage a new override row; the caller flushes."""
        self.session.add(row)


# --- service ---------------------------------------------------------------------------------------------


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


async def effective_case_types(session: AsyncSession) -> dict[str, CaseTypeDefinition]:
    """Every case type as this county uses it: the shipped defaults merged with the county's overrides."""
    rows = {row.code: row for row in await CaseTypeConfigRepository(session).all()}
    return {code: _merged(definition, rows.get(code)) for code, definition in DEFAULT_CASE_TYPES.items()}


async def effective_case_type(session: AsyncSession, code: str, *, field: str = "case_type") -> CaseTypeDefinition:
    """One case type as this county uses it; `UnknownCaseType` (422 naming `field`) for an unknown code.

    Disabled types are returned too (historical cases keep their definition); callers opening new cases check
    `enabled`.
    """
    definition = DEFAULT_CASE_TYPES.get(code)
    if definition is None:
        raise UnknownCaseType(code, field)
    return _merged(definition, await CaseTypeConfigRepository(session).get(code))


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
    rows = {row.code: row for row in await CaseTypeConfigRepository(session).all()}
    return [
        _read(_merged(definition, rows.get(code)), rows.get(code)) for code, definition in DEFAULT_CASE_TYPES.items()
    ]


async def get_case_type(session: AsyncSession, code: str) -> CaseTypeRead:
    """One type's effective definition in this county; 404 for an unknown code."""
    definition = _known(code)
    row = await CaseTypeConfigRepository(session).get(code)
    return _read(_merged(definition, row), row)


def _document(enabled: bool | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """The override as one flat document, for audit diffs and stale-version answers."""
    return {"enabled": enabled, **overrides}


def _check_version(row: CaseTypeConfig | None, version: int | None) -> None:
    if row is None:
        if version is not None:
            raise StaleVersion(current={"version": None, "enabled": None, "overrides": {}})
        return
    if version is None:
        raise InvalidInput(
            "修改已有配置须提供版本号 / Give the version you read to change an existing configuration",
            [FieldError(("body", "version"), "必填 / required")],
        )
    if version != row.version:
        raise StaleVersion(current={"version": row.version, "enabled": row.enabled, "overrides": row.overrides})


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
    row = await repository.get(code, for_update=True)
    _check_version(row, update.version)
    before = _document(row.enabled, row.overrides) if row is not None else _document(None, {})
    if row is None:
        row = CaseTypeConfig(
            id=uuid.uuid4(), tenant_id=current_tenant_id(session), code=code, enabled=enabled, overrides=overrides
        )
        repository.add(row)
    else:
        row.enabled = enabled
        row.overrides = overrides
    try:
        await session.flush()
    except IntegrityError as error:
        # Two first configurations of the same type at once: the second loses, like any stale write.
        if "uq_case_type_configs_tenant_id_code" in str(error.orig):
            raise CaseTypeConfigConflict() from None
        raise
    changes = audit.diff(before, _document(enabled, overrides))
    if changes:
        await audit.record(
            session,
            action=CONFIGURE_ACTION,
            entity_type=ENTITY_TYPE,
            entity_id=code,
            org_unit_code=principal.tenant_code,
            changes=changes,
        )
    return _read(_merged(definition, row), row)


async def reset_case_type(
    session: AsyncSession, principal: Principal, code: str, version: int | None = None
) -> CaseTypeRead:
    """Back to the shipped default: clear the county's override (audited when there was one)."""
    definition = _known(code)
    row = await CaseTypeConfigRepository(session).get(code, for_update=True)
    if row is not None and version is not None and version != row.version:
        raise StaleVersion(current={"version": row.version, "enabled": row.enabled, "overrides": row.overrides})
    if row is not None and _is_overridden(row):
        before = _document(row.enabled, row.overrides)
        row.enabled = None
        row.overrides = {}
        await session.flush()
        await audit.record(
            session,
            action=RESET_ACTION,
            entity_type=ENTITY_TYPE,
            entity_id=code,
            org_unit_code=principal.tenant_code,
            changes=audit.diff(before, _document(None, {})),
        )
    return _read(_merged(definition, row), row)


# --- routes ----------------------------------------------------------------------------------------------

CaseRead = Annotated[Principal, Depends(Require(Action.case_read))]
ConfigManage = Annotated[Principal, Depends(Require(Action.config_manage))]
CaseTypeCode = Annotated[str, Path(min_length=1, max_length=40)]

router = APIRouter(prefix=f"{API_V1}/case-types", tags=["case-types"])


@router.get("", response_model=list[CaseTypeRead], summary="Case types as this county uses them")
async def list_types(session: SessionDep, _: CaseRead) -> list[CaseTypeRead]:
    return await list_case_types(session)


@router.get("/{code}", response_model=CaseTypeRead, summary="One case type as this county uses it")
async def get_type(session: SessionDep, _: CaseRead, code: CaseTypeCode) -> CaseTypeRead:
    return await get_case_type(session, code)


@router.get(
    "/{code}/override", response_model=CaseTypeRead, summary="One case type with its override version (for admins)"
)
async def get_override(session: SessionDep, _: ConfigManage, code: CaseTypeCode) -> CaseTypeRead:
    return await get_case_type(session, code)


@router.put("/{code}", response_model=CaseTypeRead, summary="Set this county's override of a case type")
async def configure(
    session: SessionDep, principal: ConfigManage, code: CaseTypeCode, update: CaseTypeOverrideUpdate
) -> CaseTypeRead:
    return await configure_case_type(session, principal, code, update)


@router.delete(
    "/{code}/override", response_model=CaseTypeRead, summary="Back to the shipped default (answers the default)"
)
async def reset(
    session: SessionDep,
    principal: ConfigManage,
    code: CaseTypeCode,
    version: Annotated[int | None, Query(description="The override version you read (optional)")] = None,
) -> CaseTypeRead:
    return await reset_case_type(session, principal, code, version)
