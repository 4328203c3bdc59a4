"""Filing outflow/inflow notices (流入/流出通报) in the registration county, from its inbox.

County A's notice of an inflow registration or a departure (sent by backend/verification/notices.py when A's
persons service registers or departs the person) reaches B's registration township as a row of the shared
verification record. B's officer files it: `link` updates B's outflow register entry for the same ID number
(matched by the ID hash, like intake), `create` registers the outflow entry when there is none. The filing
acknowledges the notice and is audited on B's chain under the same correlation id; A never sees B's person and
B never sees A's.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.models import Channel, FlowDirection, Person, QuestionType, VerificationRequest, VerificationState
from backend.persons import records as person_records
from backend.persons import service as persons
from backend.persons.identifiers import resident_id_digest
from backend.persons.repository import PersonRepository
from backend.persons.schemas import PersonCreate
from backend.verification import records
from backend.verification.errors import InvalidVerification

FLOW_QUESTIONS = (QuestionType.inflow_registered, QuestionType.inflow_left)


def _register_text(row: VerificationRequest) -> str:
    where = f"{row.requester_county_code} {row.requester_unit_name}"
    text = f"流入{where}" if row.question_type == QuestionType.inflow_registered else f"已离开{where}"
    return text[:200]


async def file_notice(
    session: AsyncSession,
    principal: Principal,
    row: VerificationRequest,
    action: Literal["link", "create"],
    org_unit_code: str | None,
    note: str | None,
) -> tuple[VerificationRequest, Person, Literal["linked", "created"]]:
    """Link the notice to the outflow entry of the same ID number, or create that entry; acknowledge it."""
    records.require_pending(row)
    if row.question_type not in FLOW_QUESTIONS:
        raise InvalidVerification("action", "仅流入/离开通报可关联流出登记 / only inflow notices are filed this way")
    number = records.subject_resident_id(row)
    if number is None:
        raise InvalidVerification(
            "action", "通报无身份证号，无法关联，请直接接收 / the notice has no ID number: acknowledge it instead"
        )
    repository = PersonRepository(session)
    existing = await repository.by_resident_id_hash(resident_id_digest(number))
    status_text = _register_text(row)
    notes = f"{status_text}（通报 {row.correlation_id}）" + (f"：{note}" if note else "")
    if action == "link":
        if existing is None:
            raise InvalidVerification(
                "action", "本县无该身份证号的流出登记，请新建 / no outflow entry with this ID number: create one"
            )
        if existing.flow_direction != FlowDirection.outflow:
            raise InvalidVerification(
                "action",
                "该身份证号的人员不是流出人员，请核实后接收 / the record with this ID number is not an outflow entry: "
                "check it and acknowledge the notice",
            )
        if not principal.can(Action.person_write, existing.org_unit_code):
            raise InvalidVerification("action", "该流出登记不在您的管理范围 / the outflow entry is outside your reach")
        clean: dict[str, object] = {
            "flow_origin_destination": status_text,
            "notes": ((existing.notes + "\n") if existing.notes else "") + notes,
        }
        if existing.notes and len(str(clean["notes"])) > 2000:
            clean["notes"] = str(clean["notes"])[-2000:]
        await person_records.update_from_clean(
            session,
            existing,
            clean,
            reason="流入地通报 / notice from the residence county",
            correlation_id=row.correlation_id,
        )
        person = existing
        filing: Literal["linked", "created"] = "linked"
    else:
        if existing is not None:
            raise InvalidVerification(
                "action", "本县已有该身份证号的人员记录，请关联 / a record with this ID number exists: link it"
            )
        body = PersonCreate(
            name=row.subject_name,
            resident_id=number,
            org_unit_code=org_unit_code or row.responder_unit_code,
            flow_direction=FlowDirection.outflow,
            flow_origin_destination=status_text,
            notes=notes,
        )
        person = (await persons.register_person(session, principal, body)).person
        filing = "created"
    before = records.snapshot(row)
    now = utc_now()
    records.close(row, VerificationState.answered, now)
    label = (
        "已关联流出登记 / linked to the outflow entry"
        if filing == "linked"
        else "已新建流出登记 / outflow entry created"
    )
    row.answered_at, row.answer, row.answer_channel = now, label, Channel.platform
    row.answered_on_time = now <= row.answer_due_at
    await session.flush()
    await records.record(
        session,
        row,
        "verification.file",
        before,
        row.responder_unit_code,
        extra={"filing": filing, "person_id": person.id},
    )
    await records.settle(session, row)
    return row, person, filing
