"""Check rounds (孕情环情检查「三查」, spec P08): open with their case, record a result, list, 三查到位率.

Rules this module keeps:
- A round is opened by the nightly follow-up sweep (backend/followups/service.py) with its case: 2 rounds a year
  for ordinary subjects and 4 for key subjects (重点对象) unless the county sets other numbers on its settings
  page. The first round of a window in the county asks for the window's watch (an outbox message; the watch
  workflow settles the window when it has ended, backend/checks/settlement.py).
- A result (structured: pregnancy, IUD/ring, gynaecological findings, the provider, where) closes the round's case
  and makes the round `done`. The check date is never in the future nor before the round's window. A check done
  elsewhere (外地检查, 寄回证明) counts exactly as a local one: it needs the place and the proof's scan, nothing more.
  「无正当理由不得强行要求流动人口返回户籍地进行避孕节育情况检查」: nothing here can require a return to the
  registration place; there is no such option to choose.
- A result recorded after the round was settled as missed still makes it `done` (a late check); the home visit
  already opened stays.
- 三查到位率 of a unit: done / due over the rounds whose window ends in the period, void rounds left out.

Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases.schemas import CaseActionRequest
from backend.cases.service import get_case, request_action
from backend.checks.errors import CheckResultRecorded, CheckResultRejected, CheckRoundNotFound, RoundVoid, problem
from backend.checks.repository import CheckRoundRepository, RoundFilters
from backend.checks.schemas import CheckRate, CheckResultCreate, CheckResultRead, CheckRoundRead
from backend.core import outbox
from backend.core.clock import china_today
from backend.core.divisions import LEVEL_NAMES
from backend.core.errors import FieldError
from backend.core.pagination import PageParams
from backend.documents.repository import DocumentRepository
from backend.documents.service import upload_document
from backend.documents.storing import NewFile
from backend.models import (
    Case,
    CaseOutcome,
    CaseStage,
    CheckPlace,
    CheckResult,
    CheckRound,
    CheckRoundStatus,
    DocumentKind,
    DocumentOwnerKind,
    GynaecologyFinding,
)
from backend.org.repository import OrgUnitRepository
from backend.org.rollup import UnitRollup
from workflows.cases.types import CaseAction

ENTITY_TYPE = CheckRoundRepository.entity_type
OPEN_ACTION = "check_round.open"
RESULT_ACTION = "check_round.result"
WATCH_NAMESPACE = uuid.UUID("6f1d3c2e-6a55-4b0e-9d3e-2f6c1c0c7a11")


def snapshot(round_: CheckRound) -> dict[str, object]:
    """The audited fields of a round."""
    fields = ("person_id", "case_id", "org_unit_code", "period", "window_start", "window_end", "status")
    return {name: getattr(round_, name) for name in fields} | {"version": round_.version}


async def record(session: AsyncSession, round_: CheckRound, action: str, changes: dict[str, object]) -> None:
    """An event of the round in the audit log, on its unit."""
    await audit.record_about(session, ENTITY_TYPE, round_, action, changes)


# --- opening ----------------------------------------------------------------------------------------------------


async def open_round(
    session: AsyncSession, case: Case, person_id: uuid.UUID, details: dict[str, object], window_end: date
) -> CheckRound:
    """The round of a check-round case just opened by the sweep (its details name the round and window)."""
    repository = CheckRoundRepository(session)
    round_ = CheckRound(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        person_id=person_id,
        case_id=case.id,
        org_unit_code=case.org_unit_code,
        period=str(details["period"]),
        year=int(str(details["year"])),
        round=int(str(details["round"])),
        rounds=int(str(details["rounds_per_year"])),
        window_start=date.fromisoformat(str(details["window_start"])),
        window_end=window_end,
        key_subject=bool(details.get("key_subject", False)),
        status=CheckRoundStatus.due,
    )
    repository.add(round_)
    await repository.flush()
    await record(session, round_, OPEN_ACTION, audit.diff(None, snapshot(round_)))
    return round_


def watch_message_id(tenant_id: uuid.UUID, window_end: date) -> uuid.UUID:
    """The one outbox message that starts a window's watch in a county (asked for once)."""
    return uuid.uuid5(WATCH_NAMESPACE, f"{tenant_id}:{window_end.isoformat()}")


async def watch_windows(session: AsyncSession, principal: Principal, windows: Iterable[date]) -> None:
    """Ask for the watch of each window that has none yet: one outbox message per county and window."""
    repository = CheckRoundRepository(session)
    for window_end in sorted(set(windows)):
        message_id = watch_message_id(repository.tenant_id, window_end)
        if await outbox.get_message(session, message_id) is not None:
            continue
        payload = outbox.WatchCheckRounds(
            tenant_id=repository.tenant_id, tenant_code=principal.tenant_code or "", window_end=window_end
        )
        await outbox.enqueue(session, payload, message_id=message_id)


# --- reading ----------------------------------------------------------------------------------------------------


def _result_read(result: CheckResult | None) -> CheckResultRead | None:
    return CheckResultRead.model_validate(result) if result is not None else None


def round_read(round_: CheckRound, name: str, result: CheckResult | None) -> CheckRoundRead:
    """The API body of a round with its woman's name and result."""
    return CheckRoundRead(
        id=round_.id,
        person_id=round_.person_id,
        person_name=name,
        case_id=round_.case_id,
        org_unit_code=round_.org_unit_code,
        period=round_.period,
        year=round_.year,
        round=round_.round,
        rounds=round_.rounds,
        window_start=round_.window_start,
        window_end=round_.window_end,
        key_subject=round_.key_subject,
        status=round_.status,
        escalation_case_id=round_.escalation_case_id,
        result=_result_read(result),
        version=round_.version,
    )


async def get_round(session: AsyncSession, principal: Principal, round_id: uuid.UUID) -> CheckRoundRead:
    """One round in the caller's reach (404 otherwise), with its result."""
    repository = CheckRoundRepository(session)
    round_ = await repository.get_in_reach(principal, Action.service_read, round_id)
    return round_read(round_, await repository.person_name(round_.person_id), await repository.result_of(round_.id))


async def list_rounds(
    session: AsyncSession, principal: Principal, filters: RoundFilters, paging: PageParams
) -> tuple[list[CheckRoundRead], int]:
    """A page of the rounds in the caller's reach (soonest window end first) and their count."""
    repository = CheckRoundRepository(session)
    statement = repository.search(principal.scopes_for(Action.service_read), filters)
    total = await repository.count(statement.order_by(None))
    rows = await repository.rows(statement, offset=paging.offset, limit=paging.size)
    return [round_read(round_, name, None) for round_, name in rows], total


# --- recording a result -----------------------------------------------------------------------------------------


async def _problems(
    session: AsyncSession,
    principal: Principal,
    round_: CheckRound,
    body: CheckResultCreate,
    proof: NewFile | None,
) -> list[FieldError]:
    problems: list[FieldError] = []
    today = china_today()
    if body.checked_on > today:
        problems.append(problem("checked_on", "检查日期不能晚于今天", "the check date is in the future"))
    elif body.checked_on < round_.window_start:
        problems.append(
            problem(
                "checked_on",
                f"检查日期早于本轮开始（{round_.window_start.isoformat()}）",
                f"the check date is before the round began ({round_.window_start.isoformat()})",
            )
        )
    if body.gynaecology is GynaecologyFinding.findings and not body.gynaecology_notes:
        problems.append(
            problem("gynaecology_notes", "妇科检查有异常时须写明情况", "describe the gynaecological findings")
        )
    if body.place is CheckPlace.elsewhere:
        if not body.place_name:
            problems.append(problem("place_name", "外地检查须写明检查地点", "give where the check was done"))
        if proof is None and body.proof_document_id is None:
            problems.append(
                problem(
                    "proof_document_id", "外地检查须上传寄回的证明扫描件", "attach the scan of the mailed-back proof"
                )
            )
    if body.proof_document_id is not None:
        document = await DocumentRepository(session).get(body.proof_document_id)
        owners = {round_.person_id, round_.case_id}
        if (
            document is None
            or document.destroyed_at is not None
            or document.owner_id not in owners
            or not principal.can(Action.document_read, document.org_unit_code)
        ):
            problems.append(
                problem(
                    "proof_document_id",
                    "证明扫描件不存在，或不属于本轮检查或本人",
                    "no such scan of this round or of this woman",
                )
            )
    return problems


async def close_round_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID | None, outcome: CaseOutcome, reason: str
) -> None:
    """Close the round's case through its workflow, unless it is closed already."""
    if case_id is None:
        return
    case = await get_case(session, principal, case_id, Action.case_write)
    if case.stage == CaseStage.closed:
        return
    await request_action(
        session,
        principal,
        case,
        CaseActionRequest(version=case.version, action=CaseAction.close, outcome=outcome, reason=reason),
    )


async def record_result(
    session: AsyncSession,
    principal: Principal,
    round_id: uuid.UUID,
    body: CheckResultCreate,
    proof: NewFile | None = None,
) -> CheckRoundRead:
    """Record what a round's check found (service.write on the round's unit; 404 outside reach). The proof's scan
    comes as a document already stored (`proof_document_id`) or as a file stored here on the round's case."""
    repository = CheckRoundRepository(session)
    round_ = await repository.get_in_reach(
        principal, Action.service_write, round_id, for_update=True, visible_with=Action.service_read
    )
    if round_.status is CheckRoundStatus.void:
        raise RoundVoid()
    if await repository.result_of(round_.id) is not None:
        raise CheckResultRecorded()
    problems = await _problems(session, principal, round_, body, proof)
    if problems:
        raise CheckResultRejected(problems)
    proof_id = body.proof_document_id
    if proof is not None:
        owner_kind, owner_id = (
            (DocumentOwnerKind.case, round_.case_id)
            if round_.case_id is not None
            else (DocumentOwnerKind.person, round_.person_id)
        )
        stored = await upload_document(
            session, principal, owner_kind=owner_kind, owner_id=owner_id, kind=DocumentKind.check_report, file=proof
        )
        proof_id = stored.id
    result = CheckResult(
        id=uuid.uuid4(),
        tenant_id=round_.tenant_id,
        round_id=round_.id,
        person_id=round_.person_id,
        org_unit_code=round_.org_unit_code,
        **body.model_dump(exclude={"proof_document_id"}),
        proof_document_id=proof_id,
        recorded_by_id=principal.id,
        recorded_by_label=principal.label[:100],
    )
    repository.add(result)
    before = snapshot(round_)
    late = round_.status is CheckRoundStatus.missed
    round_.status = CheckRoundStatus.done
    await repository.flush()
    changes = audit.diff(before, snapshot(round_)) | {
        "result": [
            None,
            body.model_dump(mode="json", exclude={"notes", "gynaecology_notes"}) | {"proof": str(proof_id)},
        ]
    }
    if late:
        changes["late"] = [None, True]
    await record(session, round_, RESULT_ACTION, changes)
    if not late:
        await close_round_case(
            session, principal, round_.case_id, CaseOutcome.completed, "三查结果已登记 / result recorded"
        )
    return round_read(round_, await repository.person_name(round_.person_id), result)


# --- 三查到位率 -------------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    due: int = 0
    done: int = 0
    missed: int = 0
    open: int = 0

    def add(self, status: CheckRoundStatus, count: int) -> None:
        if status is CheckRoundStatus.void:
            return
        self.due += count
        if status is CheckRoundStatus.done:
            self.done += count
        elif status is CheckRoundStatus.missed:
            self.missed += count
        else:
            self.open += count


async def check_rates(
    session: AsyncSession,
    principal: Principal,
    window_from: date | None,
    window_to: date | None,
    org_unit: str | None = None,
) -> list[CheckRate]:
    """三查到位率 of each village in reach with rounds in the period, and of each township and the county whose
    whole subtree the caller reads, in code order (a township before its villages). `org_unit` narrows to one
    subtree (404 when out of reach)."""
    roots = principal.scopes_for(Action.service_read)
    units = await OrgUnitRepository(session).all_by_code()
    if org_unit is not None and (org_unit not in units or not principal.can(Action.service_read, org_unit)):
        raise CheckRoundNotFound()
    counts = await CheckRoundRepository(session).counts_by_unit(roots, window_from, window_to, org_unit)
    tallies: dict[str, _Tally] = {}
    rollup = UnitRollup(principal, Action.service_read, org_unit)
    for unit, status, count in counts:
        for code in rollup.units_of(unit):
            tallies.setdefault(code, _Tally()).add(status, count)
    return [
        CheckRate(
            org_unit_code=code,
            org_unit_name=units[code].name if code in units else code,
            level=LEVEL_NAMES[len(code)],
            due=tally.due,
            done=tally.done,
            missed=tally.missed,
            open=tally.open,
            rate=round(tally.done / tally.due, 4) if tally.due else None,
        )
        for code, tally in sorted(tallies.items())
    ]
