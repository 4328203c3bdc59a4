"""The yearly archive (年度归档, seeds-spec P26): 「…文件资料整理归档工作，并装订成卷、标准归档、妥善保存」.

- Requesting: a county administrator or supervisor names a unit in reach (the county or a township) and a year that
  has ended (China time); one volume per unit and year (a failed one may be requested again). The request only
  records the volume and an outbox message (`archive.build`): binding reads every document object, which is a long
  job, so the worker does it after commit, never the request.
- Binding (`build_volume`, run by the outbox handler): the cases of the unit's subtree closed in that year, each with
  its documents; every document object is read from object storage and its SHA-256 checked against its row (a
  mismatch fails the volume, named, rather than binding a wrong file). The manifest (JSON) and the index PDF are
  stored write-once until the retention date: the county's `archive_retention_years` from the day it was built
  (S3 object lock where the server supports it, like the signed agreements). Open cases, other units' and other
  counties' cases are never in it (the county's own rows only, the unit's subtree only).
- Reading: the volumes in reach, and each one's index and manifest, downloads audited.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive import binding
from backend.archive.errors import ArchiveVolumeNotFound, InvalidArchive, VolumeExists, VolumeNotBuilt
from backend.archive.repository import ArchiveRepository
from backend.archive.schemas import ArchiveRequest, ArchiveVolumeRead
from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.case_types.service import effective_case_types
from backend.core import outbox
from backend.core.clock import CHINA, china_today, end_of_day, utc_now
from backend.core.divisions import county_of
from backend.core.storage import ObjectStorage
from backend.county_settings.service import county_settings
from backend.documents.storing import tenant_prefix
from backend.models import ArchiveState, ArchiveVolume
from backend.org.repository import OrgUnitRepository

TOWNSHIP_CODE_LENGTH = 9
UNIT_REFUSED = "须为您管理范围内的县或乡镇（街道）/ must be the county or a township in your reach"
YEAR_NOT_OVER = "只能归档已经结束的年度 / only a year that has ended can be archived"
INDEX_TYPE = "application/pdf"
MANIFEST_TYPE = "application/json"


def volume_read(volume: ArchiveVolume) -> ArchiveVolumeRead:
    """The API's view of a volume."""
    return ArchiveVolumeRead.model_validate(volume, from_attributes=True)


async def _record(session: AsyncSession, volume: ArchiveVolume, action: str, **changes: object) -> None:
    await audit.record(
        session,
        action=action,
        entity_type=ArchiveRepository.entity_type,
        entity_id=volume.id,
        changes={name: [None, value] for name, value in {"year": volume.year, **changes}.items()},
        org_unit_code=volume.org_unit_code,
    )


async def request_volume(session: AsyncSession, principal: Principal, body: ArchiveRequest) -> ArchiveVolume:
    """Record the volume of `body.year` for `body.org_unit_code` and hand its binding to the worker; audited."""
    unit = await OrgUnitRepository(session).get_by_code(body.org_unit_code)
    if unit is None or len(unit.code) > TOWNSHIP_CODE_LENGTH or not principal.can(Action.archive_manage, unit.code):
        raise InvalidArchive("org_unit_code", UNIT_REFUSED)
    if body.year >= china_today().year:
        raise InvalidArchive("year", YEAR_NOT_OVER)
    repository = ArchiveRepository(session)
    volume = await repository.for_unit_year(unit.code, body.year, for_update=True)
    if volume is not None and volume.state != ArchiveState.failed.value:
        raise VolumeExists()
    if volume is None:
        volume = ArchiveVolume(
            id=uuid.uuid4(),
            tenant_id=repository.tenant_id,
            org_unit_code=unit.code,
            year=body.year,
            state=ArchiveState.building.value,
            case_count=0,
            document_count=0,
            requested_by=principal.subject,
        )
        repository.add(volume)
    else:
        volume.state, volume.failure, volume.requested_by = ArchiveState.building.value, None, principal.subject
    await repository.flush_unique("uq_archive_volumes_tenant_id_org_unit_code_year", VolumeExists)
    await _record(session, volume, "archive.request")
    await outbox.enqueue(session, outbox.BuildArchive(tenant_id=volume.tenant_id, volume_id=volume.id))
    return volume


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def build_volume(session: AsyncSession, volume_id: uuid.UUID, storage: ObjectStorage) -> ArchiveVolume:
    """Bind the volume (the outbox handler's work, in the volume's county): idempotent, a built volume is left as
    it is. A document whose stored object differs from its row fails the volume, audited, with the object named."""
    repository = ArchiveRepository(session)
    volume = await repository.get(volume_id, for_update=True)
    if volume is None:
        raise ArchiveVolumeNotFound()
    if volume.state != ArchiveState.building.value:
        return volume
    start = datetime.combine(date(volume.year, 1, 1), time(), CHINA).astimezone(UTC)
    end = datetime.combine(date(volume.year + 1, 1, 1), time(), CHINA).astimezone(UTC)
    cases = await repository.closed_cases(volume.org_unit_code, start, end)
    documents = await repository.case_documents([case.id for case in cases])
    labels = {code: definition.label for code, definition in (await effective_case_types(session)).items()}
    bound: list[binding.BoundCase] = []
    try:
        for case in cases:
            own = [document for document in documents if document.owner_id == case.id]
            entries = [binding.bound_document(document, await storage.get(document.object_key)) for document in own]
            bound.append(binding.bound_case(case, labels.get(case.case_type, case.case_type), entries))
    except binding.DigestMismatch as mismatch:
        volume.state, volume.failure = ArchiveState.failed.value, str(mismatch)[:2000]
        await session.flush()
        await _record(session, volume, "archive.failed", failure=volume.failure)
        return volume
    built_at = utc_now()
    retain_until = _years_later(china_today(), (await county_settings(session)).archive_retention_years)
    units = await OrgUnitRepository(session).all_by_code()
    county_code = county_of(volume.org_unit_code)
    county_name = units[county_code].name if county_code in units else county_code
    unit_name = units[volume.org_unit_code].name if volume.org_unit_code in units else volume.org_unit_code
    header = {
        "county": county_code,
        "org_unit_code": volume.org_unit_code,
        "year": volume.year,
        "built_at": built_at.isoformat(),
        "retain_until": retain_until.isoformat(),
    }
    manifest = binding.manifest_bytes(header, bound)
    index = await asyncio.to_thread(
        binding.index_pdf,
        county_name=county_name,
        unit_name=unit_name,
        year=volume.year,
        cases=bound,
        built_at=built_at,
        retain_until=retain_until,
    )
    # A fresh name per attempt: a retried build never meets the locked objects of an attempt rolled back.
    stem = f"{tenant_prefix(volume.tenant_id)}archive/{volume.year}/{volume.org_unit_code}/{uuid.uuid4()}"
    locked_until = end_of_day(retain_until)
    stored_index = await storage.put(f"{stem}-index.pdf", index, content_type=INDEX_TYPE, retain_until=locked_until)
    stored_manifest = await storage.put(
        f"{stem}-manifest.json", manifest, content_type=MANIFEST_TYPE, retain_until=locked_until
    )
    volume.state = ArchiveState.built.value
    volume.case_count, volume.document_count = len(bound), sum(len(case.documents) for case in bound)
    volume.index_key, volume.index_sha256 = stored_index.key, stored_index.sha256
    volume.manifest_key, volume.manifest_sha256 = stored_manifest.key, stored_manifest.sha256
    volume.retain_until, volume.built_at = retain_until, built_at
    await session.flush()
    await _record(session, volume, "archive.built", cases=volume.case_count, documents=volume.document_count)
    return volume


async def volumes(session: AsyncSession, principal: Principal, unit_code: str | None = None) -> list[ArchiveVolume]:
    """The volumes of the units in the caller's reach (under `unit_code` only, when given: 404 if out of reach),
    newest year first."""
    roots = principal.scopes_for(Action.archive_manage)
    if unit_code is not None:
        if not principal.can(Action.archive_manage, unit_code):
            raise ArchiveVolumeNotFound()
        roots = [unit_code]
    return await ArchiveRepository(session).volumes(roots)


async def get_volume(session: AsyncSession, principal: Principal, volume_id: uuid.UUID) -> ArchiveVolume:
    """A volume in the caller's reach; 404 otherwise."""
    return await ArchiveRepository(session).get_in_reach(principal, Action.archive_manage, volume_id)


async def download(
    session: AsyncSession, principal: Principal, volume_id: uuid.UUID, part: str, storage: ObjectStorage
) -> tuple[bytes, str, str]:
    """The volume's index (`part` "index") or manifest ("manifest"): its bytes, media type and file name; audited."""
    volume = await get_volume(session, principal, volume_id)
    key = volume.index_key if part == "index" else volume.manifest_key
    if volume.state != ArchiveState.built.value or key is None:
        raise VolumeNotBuilt()
    data = await storage.get(key)
    await _record(session, volume, "archive.download", part=part)
    extension, media_type = ("pdf", INDEX_TYPE) if part == "index" else ("json", MANIFEST_TYPE)
    return data, media_type, f"archive-{volume.org_unit_code}-{volume.year}-{part}.{extension}"
