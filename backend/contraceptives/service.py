"""Contraceptive distribution (避孕药具发放, spec P10): points, stock received and issued, and the reconciliation.

Rules this module keeps:
- A point belongs to a unit the caller may write service records for; its name is unique in the unit.
- The balance of a product at a point is the sum of its movements (received minus issued). Receipts and issues
  take the point's row lock, so two issues at once cannot both spend the same stock; an issue above the balance
  is refused at `quantity`, saying what is in stock, and nothing is written.
- Every issue names its recipient (a person in the caller's reach, still registered) who signs on the spot: a
  signature drawn on the screen (a PNG, stored as a `signature` document of hers) or a signed paper's scan (stored
  likewise, or uploaded before and named). A self-service box (自取箱) issues without recipient or signature.
- Dates are not in the future. Every movement stores the balance after it and is audited.
- Reconciliation (「其数量一般应与该村报表、挂牌、卡册等方面反映出的使用避孕药具对象人员相一致」): per village and
  product, the persons whose recorded measure the product serves against the persons who received it in the
  period, with the differences listed by name both ways.

Functions flush, never commit.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.contraceptives.errors import DistributionRejected, PointNameTaken, PointNotFound, problem
from backend.contraceptives.repository import PointRepository
from backend.contraceptives.schemas import (
    IssueCreate,
    MovementRead,
    PointCreate,
    PointRead,
    ReceiptCreate,
    ReconciliationLine,
    ReconciliationPerson,
)
from backend.core.clock import china_today
from backend.core.errors import FieldError
from backend.documents.repository import DocumentRepository
from backend.documents.service import upload_document
from backend.documents.storing import NewFile
from backend.models import (
    ContraceptionMeasure,
    ContraceptiveProduct,
    DistributionPoint,
    DistributionPointKind,
    DocumentKind,
    DocumentOwnerKind,
    MovementKind,
    Person,
    PersonStatus,
    StockMovement,
)
from backend.org.repository import OrgUnitRepository
from backend.persons.repository import PersonRepository

ENTITY_TYPE = PointRepository.entity_type
POINT_ACTION = "contraceptives.point"
RECEIVE_ACTION = "contraceptives.receive"
ISSUE_ACTION = "contraceptives.issue"
MOVEMENTS_SHOWN = 100
PRODUCT_METHOD: dict[ContraceptiveProduct, ContraceptionMeasure] = {
    ContraceptiveProduct.condom: ContraceptionMeasure.condom,
    ContraceptiveProduct.oral_pill: ContraceptionMeasure.pill,
    ContraceptiveProduct.injection: ContraceptionMeasure.injection,
}
PRODUCT_LABELS = {
    ContraceptiveProduct.condom: "避孕套",
    ContraceptiveProduct.oral_pill: "口服避孕药",
    ContraceptiveProduct.emergency_pill: "紧急避孕药",
    ContraceptiveProduct.injection: "避孕针",
    ContraceptiveProduct.topical: "外用避孕药",
    ContraceptiveProduct.other: "其他药具",
}


async def _point(session: AsyncSession, principal: Principal, point_id: uuid.UUID, action: Action) -> DistributionPoint:
    return await PointRepository(session).get_in_reach(
        principal, action, point_id, for_update=action is Action.service_write, visible_with=Action.service_read
    )


def _read(point: DistributionPoint, balances: dict[tuple[uuid.UUID, ContraceptiveProduct], int]) -> PointRead:
    return PointRead(
        id=point.id,
        org_unit_code=point.org_unit_code,
        name=point.name,
        kind=point.kind,
        address=point.address,
        active=point.active,
        balances={product.value: total for (point_id, product), total in balances.items() if point_id == point.id},
    )


async def create_point(session: AsyncSession, principal: Principal, body: PointCreate) -> PointRead:
    """A new distribution point in a unit the caller may write service records for."""
    repository = PointRepository(session)
    unit = await OrgUnitRepository(session).get_by_code(body.org_unit_code)
    if unit is None or not unit.active or not principal.can(Action.service_write, unit.code):
        raise DistributionRejected(
            [problem("org_unit_code", "单位不存在或超出您的范围", "unknown unit or outside your reach")]
        )
    if await repository.name_taken(unit.code, body.name):
        raise PointNameTaken()
    point = DistributionPoint(id=uuid.uuid4(), tenant_id=repository.tenant_id, **body.model_dump(), active=True)
    repository.add(point)
    await repository.flush_unique("uq_distribution_points_tenant_id_org_unit_code_name", PointNameTaken)
    await audit.record_about(session, ENTITY_TYPE, point, POINT_ACTION, audit.diff(None, body.model_dump()))
    return _read(point, {})


async def list_points(session: AsyncSession, principal: Principal, org_unit: str | None = None) -> list[PointRead]:
    """The active points in the caller's reach with their balances."""
    repository = PointRepository(session)
    points = await repository.in_reach(principal.scopes_for(Action.service_read), org_unit)
    balances = await repository.balances(point.id for point in points)
    return [_read(point, balances) for point in points]


async def get_point(session: AsyncSession, principal: Principal, point_id: uuid.UUID) -> PointRead:
    """One point in reach (404 otherwise) with its balances."""
    point = await _point(session, principal, point_id, Action.service_read)
    return _read(point, await PointRepository(session).balances([point.id]))


async def point_residents(session: AsyncSession, principal: Principal, point_id: uuid.UUID) -> list[Person]:
    """Who may receive at the point: the active persons its unit keeps (for the issue form's choice)."""
    point = await _point(session, principal, point_id, Action.service_read)
    return await PointRepository(session).residents(point.org_unit_code)


async def list_movements(session: AsyncSession, principal: Principal, point_id: uuid.UUID) -> list[MovementRead]:
    """The point's latest movements, newest first."""
    point = await _point(session, principal, point_id, Action.service_read)
    rows = await PointRepository(session).movements(point.id, MOVEMENTS_SHOWN)
    return [MovementRead.model_validate(movement).model_copy(update={"person_name": name}) for movement, name in rows]


def _movement(
    point: DistributionPoint,
    principal: Principal,
    kind: MovementKind,
    product: ContraceptiveProduct,
    quantity: int,
    balance_after: int,
    moved_on: date,
    **extra: Any,
) -> StockMovement:
    return StockMovement(
        id=uuid.uuid4(),
        tenant_id=point.tenant_id,
        point_id=point.id,
        org_unit_code=point.org_unit_code,
        product=product,
        kind=kind,
        quantity=quantity,
        balance_after=balance_after,
        moved_on=moved_on,
        recorded_by_id=principal.id,
        recorded_by_label=principal.label[:100],
        **extra,
    )


async def _recorded(session: AsyncSession, point: DistributionPoint, action: str, movement: StockMovement) -> None:
    repository = PointRepository(session)
    repository.add(movement)
    await repository.flush()
    fields = ("kind", "product", "quantity", "balance_after", "moved_on", "person_id", "signature_document_id")
    await audit.record_about(
        session,
        ENTITY_TYPE,
        point,
        action,
        audit.diff(None, {name: getattr(movement, name) for name in fields} | {"movement_id": movement.id}),
    )


async def receive(
    session: AsyncSession, principal: Principal, point_id: uuid.UUID, body: ReceiptCreate
) -> MovementRead:
    """Stock received at the point (入库)."""
    point = await _point(session, principal, point_id, Action.service_write)
    if body.received_on > china_today():
        raise DistributionRejected([problem("received_on", "入库日期不能晚于今天", "the date is in the future")])
    balance = await PointRepository(session).balance(point.id, body.product) + body.quantity
    movement = _movement(
        point,
        principal,
        MovementKind.received,
        body.product,
        body.quantity,
        balance,
        body.received_on,
        source=body.source,
        notes=body.notes,
    )
    await _recorded(session, point, RECEIVE_ACTION, movement)
    return MovementRead.model_validate(movement)


async def _recipient(session: AsyncSession, principal: Principal, body: IssueCreate) -> Person | FieldError | None:
    person, field = await PersonRepository(session).by_reference(body.person_id, body.resident_id)
    if field is None:
        return None
    if person is None or not principal.can(Action.service_write, person.org_unit_code):
        return problem(field, "领取人不存在或不在您的范围内", "no such recipient in your reach")
    if person.status is not PersonStatus.active:
        return problem(field, "领取人已注销或已合并", "the recipient's record is no longer active")
    return person


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _signature_png(data_url: str) -> bytes | FieldError:
    """The PNG bytes of a signature drawn on the screen (its content is checked again when stored)."""
    unreadable = problem("signature", "签字图像无法读取，请重新签字", "the signature image cannot be read; sign again")
    try:
        data = base64.b64decode(data_url.partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        return unreadable
    return data if data.startswith(PNG_MAGIC) else unreadable


async def issue(
    session: AsyncSession,
    principal: Principal,
    point_id: uuid.UUID,
    body: IssueCreate,
    scan: NewFile | None = None,
) -> MovementRead:
    """Contraceptives issued at the point to a recipient who signs (a self-service box: to nobody). Every problem
    is found before anything is written; the signature or the scan is stored as a document of the recipient."""
    point = await _point(session, principal, point_id, Action.service_write)
    repository = PointRepository(session)
    problems: list[FieldError] = []
    if body.issued_on > china_today():
        problems.append(problem("issued_on", "发放日期不能晚于今天", "the date is in the future"))
    balance = await repository.balance(point.id, body.product)
    if body.quantity > balance:
        problems.append(
            problem(
                "quantity",
                f"库存不足：{PRODUCT_LABELS[body.product]}现有{balance}，不能发放{body.quantity}",
                f"not enough in stock: {balance} left, cannot issue {body.quantity}",
            )
        )
    recipient = await _recipient(session, principal, body)
    if isinstance(recipient, FieldError):
        problems.append(recipient)
        recipient = None
    signature: bytes | None = None
    box = point.kind is DistributionPointKind.self_service_box
    if recipient is None and not box and not any(p.loc[-1] in ("person_id", "resident_id") for p in problems):
        problems.append(problem("person_id", "请选择领取人", "choose the recipient"))
    if not box and body.signature is None and body.signed_scan_document_id is None and scan is None:
        problems.append(
            problem(
                "signature",
                "领取人须当场签字，或上传签字的纸质登记扫描件",
                "the recipient signs, or attach the signed paper",
            )
        )
    if body.signature is not None:
        decoded = _signature_png(body.signature)
        if isinstance(decoded, FieldError):
            problems.append(decoded)
        else:
            signature = decoded
    if body.signed_scan_document_id is not None:
        document = await DocumentRepository(session).get(body.signed_scan_document_id)
        if document is None or recipient is None or document.owner_id != recipient.id or document.destroyed_at:
            problems.append(
                problem("signed_scan_document_id", "签字扫描件不存在或不属于领取人", "no such scan of the recipient")
            )
    if problems:
        raise DistributionRejected(problems)
    document_id = body.signed_scan_document_id
    if recipient is not None and (signature is not None or scan is not None):
        file = scan if scan is not None else NewFile(data=signature or b"", filename="signature.png")
        stored = await upload_document(
            session,
            principal,
            owner_kind=DocumentOwnerKind.person,
            owner_id=recipient.id,
            kind=DocumentKind.signature,
            file=file,
        )
        document_id = stored.id
    movement = _movement(
        point,
        principal,
        MovementKind.issued,
        body.product,
        body.quantity,
        balance - body.quantity,
        body.issued_on,
        person_id=recipient.id if recipient else None,
        signature_document_id=document_id,
        notes=body.notes,
    )
    await _recorded(session, point, ISSUE_ACTION, movement)
    return MovementRead.model_validate(movement).model_copy(
        update={"person_name": recipient.name if recipient else None}
    )


async def reconcile(
    session: AsyncSession,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
    org_unit: str | None = None,
) -> list[ReconciliationLine]:
    """Per unit and product: the registry's users of the method against the recipients in the period."""
    roots = principal.scopes_for(Action.service_read)
    units = await OrgUnitRepository(session).all_by_code()
    if org_unit is not None and (org_unit not in units or not principal.can(Action.service_read, org_unit)):
        raise PointNotFound()
    repository = PointRepository(session)
    users: dict[tuple[str, ContraceptiveProduct], dict[uuid.UUID, str]] = defaultdict(dict)
    method_product = {method: product for product, method in PRODUCT_METHOD.items()}
    for unit, measure, person_id, name in await repository.method_users(roots, method_product, org_unit):
        users[(unit, method_product[measure])][person_id] = name
    received: dict[tuple[str, ContraceptiveProduct], dict[uuid.UUID, str]] = defaultdict(dict)
    quantities: dict[tuple[str, ContraceptiveProduct], int] = defaultdict(int)
    for unit, product, person_id, name, quantity in await repository.recipients(
        roots, period_from, period_to, org_unit
    ):
        received[(unit, product)][person_id] = name
        quantities[(unit, product)] += int(quantity)
    for unit, product, quantity in await repository.anonymous_issued(roots, period_from, period_to, org_unit):
        quantities[(unit, product)] += quantity
    lines = []
    for unit, product in sorted(set(users) | set(received) | set(quantities)):
        using, got = users.get((unit, product), {}), received.get((unit, product), {})
        method = PRODUCT_METHOD.get(product)
        lines.append(
            ReconciliationLine(
                org_unit_code=unit,
                org_unit_name=units[unit].name if unit in units else unit,
                product=product,
                method=method.value if method else None,
                users=len(using),
                recipients=len(got),
                quantity_issued=quantities.get((unit, product), 0),
                difference=len(got) - len(using),
                users_without_issue=[
                    ReconciliationPerson(person_id=person_id, name=name)
                    for person_id, name in using.items()
                    if person_id not in got
                ],
                recipients_not_users=[
                    ReconciliationPerson(person_id=person_id, name=name)
                    for person_id, name in got.items()
                    if method is not None and person_id not in using
                ],
            )
        )
    return lines
