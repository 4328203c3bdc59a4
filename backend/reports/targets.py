"""A county's own KPI targets (county administrators, audited): the catalogue's default applies until the county
sets one, and again after it resets it. Every change is a `kpi.target` audit event with the old and new value."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.reports.errors import InvalidTarget, KpiNotFound, TargetVersionConflict
from backend.reports.kpis import CATALOGUE, Kpi, get_kpi
from backend.reports.records.repository import KpiTargetRepository
from backend.reports.schemas import KpiRead, KpiTargetUpdate
from backend.reports.types import KpiCode

ENTITY_TYPE = "kpi_target"


async def effective_targets(session: AsyncSession) -> dict[KpiCode, float]:
    """Each KPI's target in this county: its own where it set one, the catalogue's default otherwise."""
    own = await KpiTargetRepository(session).by_code()
    return {code: own[code.value].target if code.value in own else kpi.target for code, kpi in CATALOGUE.items()}


def _read(kpi: Kpi, target: float | None, version: int | None) -> KpiRead:
    effective = kpi.target if target is None else target
    return KpiRead(
        code=kpi.code,
        label=kpi.label,
        numerator=kpi.numerator,
        denominator=kpi.denominator,
        comparator=kpi.comparator,
        default_target=kpi.target,
        target=effective,
        target_percent=round(effective * 100, 2),
        overridden=target is not None,
        version=version,
        period_kind=kpi.period_kind,
        source=kpi.source,
        subject=kpi.subject,
        snapshot=kpi.snapshot,
        counterpart=kpi.counterpart,
        depends_on=kpi.depends_on,
    )


async def list_kpis(session: AsyncSession) -> list[KpiRead]:
    """The catalogue with this county's targets."""
    own = await KpiTargetRepository(session).by_code()
    return [
        _read(
            kpi,
            own[code.value].target if code.value in own else None,
            own[code.value].version if code.value in own else None,
        )
        for code, kpi in CATALOGUE.items()
    ]


def _kpi(code: str) -> Kpi:
    kpi = get_kpi(code)
    if kpi is None:
        raise KpiNotFound()
    return kpi


async def set_target(session: AsyncSession, principal: Principal, code: str, update: KpiTargetUpdate) -> KpiRead:
    """Set the county's target for a KPI (audited). A change of an existing override must carry its version."""
    kpi = _kpi(code)
    target = round(update.target_percent / 100, 4)
    if kpi.comparator.value == "at_most" and target >= 1:
        raise InvalidTarget("上限须小于100% / an upper limit must be below 100%")
    repository = KpiTargetRepository(session)
    row = await repository.for_code(kpi.code.value, for_update=True)
    old = row.target if row is not None else kpi.target
    if row is None:
        row = repository.model(
            tenant_id=repository.tenant_id, kpi_code=kpi.code.value, target=target, updated_by=principal.label[:100]
        )
        repository.add(row)
        await repository.flush_unique("uq_kpi_targets_tenant_id_kpi_code", TargetVersionConflict)
    else:
        if update.version != row.version:
            raise TargetVersionConflict()
        row.target, row.updated_by = target, principal.label[:100]
        await repository.flush()
    await audit.record(
        session,
        action="kpi.target",
        entity_type=ENTITY_TYPE,
        entity_id=kpi.code.value,
        changes={"target": [old, target]},
        org_unit_code=principal.tenant_code,
    )
    return _read(kpi, row.target, row.version)


async def reset_target(session: AsyncSession, principal: Principal, code: str, version: int | None) -> KpiRead:
    """Back to the catalogue's default (audited); harmless when the county had not changed it."""
    kpi = _kpi(code)
    repository = KpiTargetRepository(session)
    row = await repository.for_code(kpi.code.value, for_update=True)
    if row is None:
        return _read(kpi, None, None)
    if version is not None and version != row.version:
        raise TargetVersionConflict()
    old = row.target
    await repository.remove(row)
    await audit.record(
        session,
        action="kpi.target",
        entity_type=ENTITY_TYPE,
        entity_id=kpi.code.value,
        changes={"target": [old, kpi.target]},
        reason="恢复默认目标 / back to the default",
        org_unit_code=principal.tenant_code,
    )
    return _read(kpi, None, None)
