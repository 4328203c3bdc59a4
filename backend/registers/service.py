"""Register business rules: whose rows a caller sees, when identifiers show in full, and the audited export.

- Reach: a register's rows lie under the caller's subtrees for each of its read permissions (person.read, and
  case.read for the case registers), intersected in SQL; an export further intersects with the subtrees where
  the caller holds register.export (regular grants only: break-glass lends reading, never exporting).
- `org_unit` narrows to one subtree. A unit that does not exist in the county, or that the caller cannot
  read, answers 404; a unit the caller can read but not export answers 403 to an export.
- Identifiers (ID and phone numbers) are decided per row: in full where the caller holds
  person.read_identifiers over every unit the row belongs to (the row's unit and, for certificates and
  cases, the person's unit), masked otherwise.
- Every export writes one `register.export` audit event describing the file (register, unit, period, format,
  row count, whether identifiers were in full), never its contents; every page view that shows identifiers in
  full writes one `register.view_identifiers` event (register, unit, period, page, how many rows).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import BREAK_GLASS_ACTIONS, Action
from backend.core.clock import china_today
from backend.core.pagination import PageParams
from backend.models import Person
from backend.persons.identifiers import phone_of, resident_id_of
from backend.persons.resident_id import mask_phone, mask_resident_id
from backend.registers.catalog import REGISTERS
from backend.registers.definitions import Cell, Entry, EntryContext, Identifiers, Register
from backend.registers.errors import ExportNotAllowed, InvalidPeriod, RegisterNotFound, RegisterUnitNotFound
from backend.registers.rendering import (
    SERIAL_HEADER,
    SERIAL_KEY,
    SERIAL_WIDTH,
    CsvRegisterWriter,
    Footer,
    RegisterWriter,
    XlsxRegisterWriter,
)
from backend.registers.repository import RegisterFilter, RegisterRepository, RegisterRow
from backend.registers.schemas import RegisterColumnRead, RegisterFormat, RegisterPage

EXPORT_ACTION = "register.export"
VIEW_IDENTIFIERS_ACTION = "register.view_identifiers"
WHOLE_REACH = "全部可及单位"
CODE_LENGTHS = (12, 9, 6)  # village, township, county
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True, slots=True)
class RegisterQuery:
    """What the caller asked for: a register, optionally one subtree, optionally a period (inclusive days)."""

    register: Register[Any]
    org_unit: str | None = None
    period_from: date | None = None
    period_to: date | None = None


@dataclass(frozen=True, slots=True)
class RegisterFile:
    """An exported register, ready to stream; the endpoint closes `content` when it has been sent."""

    content: IO[bytes]
    filename: str
    ascii_filename: str
    media_type: str
    rows: int


@dataclass(frozen=True, slots=True)
class _Resolved:
    register_filter: RegisterFilter
    unit_label: str
    audit_unit: str | None
    context: EntryContext


def get_register(code: str) -> Register[Any]:
    """The register with this URL name (backend/registers/catalog.py), or 404."""
    register = REGISTERS.get(code)
    if register is None:
        raise RegisterNotFound()
    return register


def period_label(period_from: date | None, period_to: date | None) -> str:
    """The period as printed on the title row."""
    if period_from and period_to:
        return f"{period_from.isoformat()} 至 {period_to.isoformat()}"
    if period_from:
        return f"{period_from.isoformat()} 起"
    if period_to:
        return f"截至 {period_to.isoformat()}"
    return "全部时期"


class _IdentifierPolicy:
    """Decrypts a row's ID and phone numbers and masks them unless the caller may read identifiers over every
    unit of the row. Decisions are memoised per unit: a register has thousands of rows but few units."""

    def __init__(self, principal: Principal) -> None:
        self._principal = principal
        self._allowed: dict[str, bool] = {}

    def _may_read(self, unit_code: str) -> bool:
        allowed = self._allowed.get(unit_code)
        if allowed is None:
            allowed = self._allowed[unit_code] = self._principal.can(Action.person_read_identifiers, unit_code)
        return allowed

    def __call__(self, person: Person | None, units: tuple[str, ...], with_phone: bool) -> Identifiers:
        if person is None:
            return Identifiers()
        in_full = all(self._may_read(unit) for unit in units)
        resident_id = phone = None
        if (number := resident_id_of(person)) is not None:
            resident_id = number if in_full else mask_resident_id(number)
        if with_phone and (number := phone_of(person)) is not None:
            phone = number if in_full else mask_phone(number)
        return Identifiers(resident_id, phone, in_full and (resident_id is not None or phone is not None))


def _covering_unit(roots: Sequence[str], county_code: str | None) -> str | None:
    """The nearest org unit whose subtree holds every root: their common code prefix cut to a level."""
    if not roots or "" in roots:
        return county_code
    prefix = os.path.commonprefix(list(roots))
    level = next((length for length in CODE_LENGTHS if length <= len(prefix)), None)
    return prefix[:level] if level else county_code


async def _resolve(
    repository: RegisterRepository, principal: Principal, query: RegisterQuery, *, export: bool
) -> _Resolved:
    register = query.register
    if query.period_from and query.period_to and query.period_from > query.period_to:
        raise InvalidPeriod()
    unit_names = await repository.unit_names()
    if query.org_unit is not None:
        if query.org_unit not in unit_names or not all(
            principal.can(action, query.org_unit) for action in register.read_actions
        ):
            raise RegisterUnitNotFound()
        if export and not principal.can(Action.register_export, query.org_unit):
            raise ExportNotAllowed()
    elif export and not principal.holds(Action.register_export):
        raise ExportNotAllowed()
    roots = [tuple(principal.scopes_for(action)) for action in register.read_actions]
    if export:
        roots.append(tuple(principal.regular_scopes_for(Action.register_export)))
    if query.org_unit is not None:
        audit_unit: str | None = query.org_unit
        unit_label = unit_names[query.org_unit]
    else:
        # Without a unit the register covers the caller's whole reach: it is named when it is one subtree, and
        # filed in the audit log under the nearest unit containing all of it.
        reach = roots[-1]
        unit_label = unit_names.get(reach[0], WHOLE_REACH) if len(reach) == 1 else WHOLE_REACH
        audit_unit = _covering_unit(reach, principal.tenant_code)
    return _Resolved(
        register_filter=RegisterFilter(
            roots=tuple(roots), org_unit=query.org_unit, period_from=query.period_from, period_to=query.period_to
        ),
        unit_label=unit_label,
        audit_unit=audit_unit,
        context=EntryContext(
            as_of=query.period_to or china_today(), unit_names=unit_names, identifiers=_IdentifierPolicy(principal)
        ),
    )


async def _audit_read(
    session: AsyncSession, action: str, query: RegisterQuery, resolved: _Resolved, **what: Any
) -> None:
    """The audit event of a read of a register (an export, a page with identifiers in full): what was read,
    never the contents."""
    register = query.register
    await audit.record(
        session,
        action=action,
        entity_type="register",
        entity_id=register.code,
        org_unit_code=resolved.audit_unit,
        changes={
            "register": register.code,
            "org_unit": query.org_unit,
            "period_from": query.period_from,
            "period_to": query.period_to,
            **what,
        },
    )


def _entries(register: Register[Any], rows: Sequence[RegisterRow], context: EntryContext) -> list[Entry]:
    return [register.entry(row, context) for row in rows]


async def register_page(
    session: AsyncSession, principal: Principal, query: RegisterQuery, paging: PageParams
) -> RegisterPage:
    """One page of a register for the page view, with identifiers decided per row."""
    register = query.register
    repository = RegisterRepository(session)
    resolved = await _resolve(repository, principal, query, export=False)
    statement = register.query(repository, resolved.register_filter)
    total = await repository.count(statement.order_by(None))
    entries = _entries(
        register, await repository.rows(statement, offset=paging.offset, limit=paging.size), resolved.context
    )
    in_full = sum(1 for entry in entries if entry.ids.in_full)
    if in_full:
        # A page showing full ID or phone numbers is a read of them, like an export: recorded, without them.
        await _audit_read(
            session, VIEW_IDENTIFIERS_ACTION, query, resolved, page=paging.page, rows_with_identifiers_in_full=in_full
        )
    for action in register.read_actions:
        if action in BREAK_GLASS_ACTIONS:
            await audit_break_glass_listing(
                session,
                principal,
                action,
                entity_type=register.entity_type,
                unit_codes={entry.unit_code for entry in entries},
            )
    keys = [SERIAL_KEY, *(column.key for column in register.columns)]
    items: list[dict[str, Cell]] = [
        dict(zip(keys, [paging.offset + index, *register.cells(entry)], strict=True))
        for index, entry in enumerate(entries, start=1)
    ]
    columns = [
        (SERIAL_KEY, SERIAL_HEADER, 5),
        *((column.key, column.header, column.width) for column in register.columns),
    ]
    return RegisterPage(
        code=register.code,
        title=register.title,
        org_unit_name=resolved.unit_label,
        # The unit and period as asked for.
        **{name: getattr(query, name) for name in ("org_unit", "period_from", "period_to")},
        columns=[RegisterColumnRead(key=key, header=header, width=width) for key, header, width in columns],
        items=items,
        total=total,
        page=paging.page,
        size=paging.size,
    )


def _filenames(query: RegisterQuery, unit_label: str, extension: str) -> tuple[str, str]:
    """(Chinese file name, ASCII fallback), e.g. 流入人口信息登记簿_一村_20260101-20260630.csv."""
    days = "-".join(day.strftime("%Y%m%d") if day else "" for day in (query.period_from, query.period_to))
    period = days if days != "-" else ""
    name = "_".join(part for part in (query.register.title, unit_label, period or "全部时期") if part)
    fallback = "_".join((query.register.code, query.org_unit or "all", period or "all"))
    return f"{_UNSAFE_IN_FILENAME.sub('_', name)}.{extension}", f"{fallback}.{extension}"


async def export_register(
    session: AsyncSession, principal: Principal, query: RegisterQuery, file_format: RegisterFormat
) -> RegisterFile:
    """The whole filtered register as a CSV or XLSX file, recorded in the audit log.

    Rows are read through a server-side cursor in chunks and written in a worker thread, so neither the
    database rows nor the file's cells pile up in memory and the event loop keeps serving other requests.
    """
    register = query.register
    repository = RegisterRepository(session)
    resolved = await _resolve(repository, principal, query, export=True)
    headers = [SERIAL_HEADER, *(column.header for column in register.columns)]
    title = f"{register.title} — {resolved.unit_label} — {period_label(query.period_from, query.period_to)}"
    writer: RegisterWriter
    if file_format is RegisterFormat.xlsx:
        widths = [SERIAL_WIDTH, *(column.width for column in register.columns)]
        footer = Footer(resolved.unit_label, china_today())
        writer = XlsxRegisterWriter(title, register.title, headers, widths, footer=footer)
    else:
        writer = CsvRegisterWriter(headers)
    rows = in_full = 0
    try:
        async for chunk in repository.stream(register.query(repository, resolved.register_filter)):
            entries = _entries(register, chunk, resolved.context)
            cells = [[rows + index, *register.cells(entry)] for index, entry in enumerate(entries, start=1)]
            rows += len(entries)
            in_full += sum(1 for entry in entries if entry.ids.in_full)
            await run_in_threadpool(writer.write_rows, cells)
        content = await run_in_threadpool(writer.finish)
    except BaseException:
        writer.discard()
        raise
    await _audit_read(
        session,
        EXPORT_ACTION,
        query,
        resolved,
        format=file_format.value,
        rows=rows,
        identifiers_in_full=in_full > 0,
        rows_with_identifiers_in_full=in_full,
    )
    filename, ascii_filename = _filenames(query, resolved.unit_label, writer.extension)
    return RegisterFile(content, filename, ascii_filename, writer.media_type, rows)
